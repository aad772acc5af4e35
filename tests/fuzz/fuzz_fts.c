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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    struct json_place too_big;
    json_t *root = json_parse_text((const char *)data, size, &jerr, &too_big, NULL);
    if (root == NULL) return 0;
    json_t *ops = json_array();
    struct fts_page page;
    char message[FTS_MESSAGE_BYTES];
    bool ok = fts_read(root, ops, &page, message, sizeof message);
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
