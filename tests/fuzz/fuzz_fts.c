/*
 * fuzz_fts.c — the FTS reader (src/fmt/fts.c) on arbitrary bytes.
 *
 * The input is taken as one page of an FTS flow search answer. Checks:
 * fts_read either refuses it with a message, or appends exactly one
 * operation per flow, each an `fts_flow` whose id is its flow's version
 * (fts.<flow>.v<version>, which fts_record_of reads back), whose amount is
 * a non-negative number of cents, and which the operation decoder takes as
 * a domain operation; on refusal nothing is appended. The page's own totals
 * are read only when present.
 *
 * And the page read from its text a flow at a time (fts_read_stream) is the
 * page read whole: the stream reads exactly the pages fts_read takes, into
 * the same operations in the same order and the same figures (but for a
 * text with a NUL byte: fts_read_stream), and leaves every other to the
 * whole reading.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "fmt/fts.h"
#include "fmt/json.h"
#include "fuzz.h"
#include "util/arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void streamed_flow(void *ctx, json_t *op)
{
    json_array_append_new(ctx, op);
}

/* The stream against the whole reading: ok is fts_read's answer on root (NULL: not JSON). */
static void stream_check(const uint8_t *data, size_t size, const json_t *root, bool ok,
                         const json_t *ops, const struct fts_page *page)
{
    json_t *streamed = json_array();
    struct fts_page spage;
    enum fts_stream got = fts_read_stream((const char *)data, size, &spage, streamed_flow,
                                          streamed);
    /* A text with a NUL byte, which jansson may pass over, is always left to the whole reading. */
    bool nul = memchr(data, '\0', size) != NULL;
    FUZZ_CHECK((got == FTS_STREAM_READ) == (root != NULL && ok && !nul),
               "the stream %s a page the whole reading %s",
               got == FTS_STREAM_READ ? "read" : "left", root != NULL && ok ? "takes" : "refuses");
    if (got == FTS_STREAM_READ) {
        FUZZ_CHECK(json_equal(streamed, ops), "the stream's operations differ");
        FUZZ_CHECK(spage.count == page->count && spage.first == page->first &&
                       spage.incoming_flows == page->incoming_flows &&
                       spage.incoming_funding == page->incoming_funding &&
                       spage.incoming_pledges == page->incoming_pledges,
                   "the stream's figures differ");
    }
    json_decref(streamed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    struct json_place too_big;
    json_t *root = json_parse_text((const char *)data, size, &jerr, &too_big, NULL);
    if (root == NULL) {
        stream_check(data, size, NULL, false, NULL, NULL);
        return 0;
    }
    json_t *ops = json_array();
    struct fts_page page;
    char message[FTS_MESSAGE_BYTES];
    bool ok = fts_read(root, ops, &page, message, sizeof message);
    stream_check(data, size, root, ok, ops, &page);
    const json_t *flows = json_object_get(json_object_get(root, "data"), "flows");
    if (!ok) {
        FUZZ_CHECK(message[0] != '\0', "a refusal without a message");
        FUZZ_CHECK(json_array_size(ops) <= json_array_size(flows),
                   "more operations than flows on refusal");
    } else {
        FUZZ_CHECK(json_array_size(ops) == json_array_size(flows), "%zu operations for %zu flows",
                   json_array_size(ops), json_array_size(flows));
        size_t i;
        const json_t *op;
        json_array_foreach(ops, i, op) {
            const char *id = json_string_value(json_object_get(op, "id"));
            const char *flow = json_string_value(json_object_get(op, "flow"));
            json_int_t version = json_integer_value(json_object_get(op, "version"));
            FUZZ_CHECK(id != NULL && flow != NULL && version >= 1, "operation %zu incomplete", i);
            char expected[64], prefix[64];
            fts_transfer_id(expected, sizeof expected, flow, version);
            FUZZ_CHECK(strcmp(id, expected) == 0, "id %s is not %s", id, expected);
            snprintf(prefix, sizeof prefix, "fts.%s.v", flow);
            int64_t k;
            enum fts_record kind;
            FUZZ_CHECK(fts_record_of(id, prefix, &k, &kind) && k == version &&
                           kind == FTS_RECORD_FLOW,
                       "%s does not read back as version %lld", id, (long long)version);
            FUZZ_CHECK(json_integer_value(json_object_get(op, "amount_usd")) >= 0,
                       "a negative amount");
            struct arena arena;
            arena_init(&arena);
            struct ledger_op decoded;
            FUZZ_CHECK(json_decode_op(op, &decoded, &arena), "out of memory decoding");
            FUZZ_CHECK(decoded.type == LEDGER_OP_DOMAIN && decoded.invalid == NULL,
                       "operation %zu decoded as %d (%s)", i, (int)decoded.type,
                       decoded.invalid ? decoded.invalid : "");
            arena_free(&arena);
        }
    }
    json_decref(ops);
    json_decref(root);
    return 0;
}
