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
 * whole reading, saying what stopped it ("not JSON", with a place, only of a
 * text that is not JSON).
 *
 * And a text taken as a JSON array of pages (fts_pages_split, as POST
 * /v1/import/fts reads one) is split into exactly the array's values.
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
    struct fts_stop stop;
    enum fts_stream got = fts_read_stream((const char *)data, size, &spage, streamed_flow,
                                          streamed, &stop);
    /* A text with a NUL byte, which jansson may pass over, is always left to the whole reading. */
    bool nul = memchr(data, '\0', size) != NULL;
    FUZZ_CHECK((got == FTS_STREAM_READ) == (root != NULL && ok && !nul),
               "the stream %s a page the whole reading %s",
               got == FTS_STREAM_READ ? "read" : "left", root != NULL && ok ? "takes" : "refuses");
    /* What stopped the stream is said, and "not JSON" only of a text that is not. */
    FUZZ_CHECK(got == FTS_STREAM_READ || stop.message[0] != '\0', "the stream stopped unsaid");
    FUZZ_CHECK(got == FTS_STREAM_READ || stop.line == 0 || root == NULL || nul,
               "the stream calls JSON not JSON at %d:%d: %s", stop.line, stop.column,
               stop.message);
    FUZZ_CHECK(stop.line == 0 || stop.column > 0, "line %d without a column", stop.line);
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

/*
 * The text as an array of pages (fts_pages_split) against the text parsed
 * whole (root, NULL when not JSON): an array of 1 to SPLIT_MAX values is
 * split into exactly its values; a text split into values that are each
 * JSON is such an array.
 */
#define SPLIT_MAX 4
static void split_check(const uint8_t *data, size_t size, const json_t *root)
{
    struct fts_span spans[SPLIT_MAX];
    size_t count = 0;
    bool split = fts_pages_split((const char *)data, size, spans, SPLIT_MAX, &count);
    bool array = json_is_array(root) && json_array_size(root) >= 1 &&
                 json_array_size(root) <= SPLIT_MAX;
    FUZZ_CHECK(split || !array || memchr(data, '\0', size) != NULL,
               "an array of %zu values not split", json_array_size(root));
    if (!split) return;
    FUZZ_CHECK(count >= 1 && count <= SPLIT_MAX, "split into %zu", count);
    bool all = true;
    for (size_t k = 0; k < count; k++) {
        FUZZ_CHECK(spans[k].start + spans[k].length <= size && spans[k].length > 0,
                   "a span outside the text");
        json_error_t jerr;
        struct json_place too_big;
        json_t *v = json_parse_text((const char *)data + spans[k].start, spans[k].length, &jerr,
                                    &too_big, NULL);
        if (v == NULL) all = false;
        else if (array && json_array_size(root) == count)
            FUZZ_CHECK(json_equal(v, json_array_get(root, k)), "page %zu split wrong", k);
        json_decref(v);
    }
    FUZZ_CHECK(!all || (json_is_array(root) && json_array_size(root) == count),
               "%zu pages that are JSON in a text that is not their array", count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    struct json_place too_big;
    json_t *root = json_parse_text((const char *)data, size, &jerr, &too_big, NULL);
    split_check(data, size, root);
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
