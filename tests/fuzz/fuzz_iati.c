/*
 * fuzz_iati.c — the IATI reader and writer (src/fmt/iati.c) on arbitrary bytes.
 *
 * The input is read as an IATI activity file without a schema, so that the
 * reader's own checks meet everything the fuzzer makes (the import always
 * validates first; with $CONCORD_IATI_SCHEMA set the input is read again
 * with the schema too, which may only refuse more). Checks:
 *   - a refusal says where: "fuzz.xml:", an element, a message in UTF-8;
 *   - every activity's operation is `iati_activity` with the id its
 *     identifier derives, under the ledger's limit for a domain operation;
 *   - every transaction's operation is `iati_transaction` with a type of
 *     1 to 13, an ISO 4217 currency, a canonical non-zero value that the
 *     currency's unit can hold or refuse (never misread), a date concord
 *     can record, and the id of its report, its ref or its place in the
 *     activity, never one the ledger keeps for its own records;
 *     with the amount added, the operation decoder takes it;
 *   - what was read, written back by the writer and read again, gives the
 *     same activities with the same transactions (type, value, currency,
 *     date, provider and receiver refs): the export's promise, here for any
 *     input the reader takes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fmt/iati.h"
#include "fmt/json.h"
#include "fuzz.h"
#include "ledger/ledger.h"
#include "util/amount.h"
#include "util/arena.h"
#include "util/timefmt.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "fuzz.xml"

/* What a read kept: [{"activity": op, "transactions": [op…]}]. */
struct kept {
    json_t *activities;
    size_t skipped;
};

static void check_transaction(const struct iati_transaction_read *t)
{
    const json_t *op = t->op;
    FUZZ_CHECK(strcmp(json_string_value(json_object_get(op, "op")), "iati_transaction") == 0,
               "not a transaction operation");
    json_int_t type = json_integer_value(json_object_get(op, "type"));
    FUZZ_CHECK(iati_type_of((int)type) != NULL, "type %lld", (long long)type);
    int minor = iati_currency_minor_units(t->currency);
    FUZZ_CHECK(minor >= 0, "currency %s is not ISO 4217's", t->currency);
    char canonical[IATI_VALUE_BYTES_MAX + 2];
    FUZZ_CHECK(iati_decimal_canonical(t->value, canonical) && strcmp(canonical, t->value) == 0,
               "value %s is not canonical", t->value);
    FUZZ_CHECK(strcmp(t->value, "0") != 0, "a zero value is kept");
    int64_t ns;
    bool date_only;
    const char *date = json_string_value(json_object_get(op, "date"));
    FUZZ_CHECK(date != NULL && time_parse(date, &ns, &date_only) && date_only, "date %s",
               date ? date : "(none)");
    const char *id = json_string_value(json_object_get(op, "id"));
    FUZZ_CHECK(id != NULL && ledger_valid_transfer_id(id) && strlen(id) <= IATI_ID_BYTES_MAX,
               "id %s", id ? id : "(none)");
    FUZZ_CHECK(!ledger_reserved_transfer_id(id), "id %s is one the ledger keeps for itself", id);
    const json_t *pair = json_object_get(op, "pair");
    const char *activity = json_string_value(json_object_get(op, "activity"));
    char expected[IATI_ID_BYTES_MAX + 1];
    if (pair != NULL) {
        const char *side = json_string_value(json_object_get(pair, "side"));
        FUZZ_CHECK(iati_pair_id(expected, sizeof expected,
                                json_string_value(json_object_get(pair, "key")), side[0]) &&
                       strcmp(expected, id) == 0,
                   "pair id %s", id);
    } else {
        const char *ref = json_string_value(json_object_get(op, "ref"));
        json_int_t position = json_integer_value(json_object_get(op, "position"));
        bool by_position = iati_transaction_id(expected, sizeof expected, activity, NULL,
                                               position) && strcmp(expected, id) == 0;
        bool by_ref = ref != NULL && iati_transaction_id(expected, sizeof expected, activity, ref,
                                                         0) && strcmp(expected, id) == 0;
        FUZZ_CHECK(by_position || by_ref, "id %s is neither the position's nor the ref's", id);
    }
    /* The amount as the import makes it: exact, or refused; then the operation decodes. */
    int64_t amount = 0;
    enum amount_parse parsed = amount_parse(t->value + (t->value[0] == '-'),
                                            minor > 2 ? minor : 2, &amount);
    FUZZ_CHECK(parsed != AMOUNT_MALFORMED, "value %s misread", t->value);
    if (parsed != AMOUNT_OK) return;
    FUZZ_CHECK(amount > 0, "value %s as %lld", t->value, (long long)amount);
    json_t *full = json_deep_copy(op);
    json_object_set_new(full, "amount", json_integer(amount));
    struct arena arena;
    arena_init(&arena);
    struct ledger_op decoded;
    FUZZ_CHECK(json_decode_op(full, &decoded, &arena), "out of memory decoding");
    FUZZ_CHECK(decoded.type == LEDGER_OP_DOMAIN && decoded.invalid == NULL, "decoded as %s",
               decoded.invalid ? decoded.invalid : "another type");
    arena_free(&arena);
    json_decref(full);
}

static bool on_activity(void *ctx, const struct iati_activity_read *a, char *message,
                        size_t size)
{
    (void)message;
    (void)size;
    struct kept *k = ctx;
    const char *identifier = json_string_value(json_object_get(a->op, "identifier"));
    FUZZ_CHECK(identifier != NULL && identifier[0] != '\0', "an activity without identifier");
    char id[IATI_ID_BYTES_MAX + 1];
    FUZZ_CHECK(iati_activity_record_id(id, sizeof id, identifier) &&
                   strcmp(id, json_string_value(json_object_get(a->op, "id"))) == 0,
               "activity id");
    char *text = json_dumps(a->op, JSON_COMPACT | JSON_SORT_KEYS);
    FUZZ_CHECK(text != NULL && strlen(text) <= IATI_OP_BYTES_MAX, "activity over the limit");
    free(text);
    json_t *transactions = json_array();
    for (size_t i = 0; i < a->count; i++) {
        check_transaction(&a->transactions[i]);
        json_array_append(transactions, a->transactions[i].op);
    }
    json_array_append_new(k->activities, json_pack("{s:O,s:o}", "activity", a->op,
                                                   "transactions", transactions));
    return true;
}

static void on_skipped(void *ctx, int line, const char *element, const char *reason)
{
    struct kept *k = ctx;
    FUZZ_CHECK(line >= 0 && element[0] != '\0' && reason[0] != '\0', "a skip without place");
    FUZZ_CHECK(utf8_valid(reason, strlen(reason)), "a reason not UTF-8");
    k->skipped++;
}

static bool read_bytes(const char *bytes, size_t length, const struct iati_schema *schema,
                       struct kept *k, char *message, size_t size)
{
    k->activities = json_array();
    k->skipped = 0;
    struct iati_source source = {.name = NAME, .data = bytes, .size = length};
    struct iati_sink sink = {.activity = on_activity, .skipped = on_skipped, .ctx = k};
    bool ok = iati_read(&source, schema, &sink, message, size, NULL);
    if (!ok) {
        FUZZ_CHECK(message[0] != '\0', "a refusal without a message");
        FUZZ_CHECK(utf8_valid(message, strlen(message)), "a message not UTF-8");
        FUZZ_CHECK(strncmp(message, NAME, strlen(NAME)) == 0 &&
                       strstr(message, ": element ") != NULL,
                   "a message that does not say where: %s", message);
    }
    return ok;
}

struct buffer {
    char *bytes;
    size_t length, capacity;
};

static bool buffer_write(void *ctx, const char *bytes, size_t length)
{
    struct buffer *b = ctx;
    if (b->length + length > b->capacity) {
        size_t capacity = (b->length + length) * 2 + 4096;
        char *grown = realloc(b->bytes, capacity);
        if (grown == NULL) return false;
        b->bytes = grown;
        b->capacity = capacity;
    }
    memcpy(b->bytes + b->length, bytes, length);
    b->length += length;
    return true;
}

/* What a transaction must keep through a write and a read. */
static bool same_transaction(const json_t *x, const json_t *y)
{
    static const char *const kept[] = {"type", "value", "currency", "date"};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
        if (!json_equal(json_object_get(x, kept[i]), json_object_get(y, kept[i]))) return false;
    static const char *const sides[] = {"provider", "receiver"};
    for (size_t i = 0; i < 2; i++) {
        const json_t *a = json_object_get(json_object_get(x, sides[i]), "ref");
        const json_t *b = json_object_get(json_object_get(y, sides[i]), "ref");
        if ((a == NULL) != (b == NULL) || (a != NULL && !json_equal(a, b))) return false;
    }
    return true;
}

static void round_trip(const struct kept *first)
{
    struct buffer out = {0};
    struct iati_writer *w = iati_writer_open(buffer_write, &out);
    FUZZ_CHECK(w != NULL, "no writer");
    char message[IATI_MESSAGE_BYTES];
    size_t i;
    const json_t *a;
    json_array_foreach(first->activities, i, a) {
        FUZZ_CHECK(iati_write_activity(w, json_object_get(a, "activity"),
                                       json_object_get(a, "transactions"), message,
                                       sizeof message),
                   "write: %s", message);
    }
    FUZZ_CHECK(iati_writer_close(w), "the writer failed");
    struct kept second;
    bool ok = read_bytes(out.bytes, out.length, NULL, &second, message, sizeof message);
    FUZZ_CHECK(ok, "what was written does not read: %s\n%.*s", message, (int)out.length,
               out.bytes);
    FUZZ_CHECK(json_array_size(second.activities) == json_array_size(first->activities),
               "%zu activities written, %zu read", json_array_size(first->activities),
               json_array_size(second.activities));
    json_array_foreach(first->activities, i, a) {
        const json_t *b = json_array_get(second.activities, i);
        FUZZ_CHECK(json_equal(json_object_get(json_object_get(a, "activity"), "identifier"),
                              json_object_get(json_object_get(b, "activity"), "identifier")),
                   "activity %zu changed identifier", i);
        const json_t *tx = json_object_get(a, "transactions"),
                     *ty = json_object_get(b, "transactions");
        FUZZ_CHECK(json_array_size(tx) == json_array_size(ty), "activity %zu: %zu transactions, "
                   "%zu read back", i, json_array_size(tx), json_array_size(ty));
        for (size_t k = 0; k < json_array_size(tx); k++)
            FUZZ_CHECK(same_transaction(json_array_get(tx, k), json_array_get(ty, k)),
                       "activity %zu, transaction %zu changed through the writer", i, k);
    }
    json_decref(second.activities);
    free(out.bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct iati_schema *schema;
    static bool schema_tried;
    if (!schema_tried) { /* once per process: parsing the XSD costs more than an input */
        schema_tried = true;
        const char *path = getenv("CONCORD_IATI_SCHEMA");
        char message[IATI_MESSAGE_BYTES];
        if (path != NULL && path[0] != '\0')
            schema = iati_schema_load(path, message, sizeof message);
    }
    char message[IATI_MESSAGE_BYTES];
    struct kept first;
    bool ok = read_bytes((const char *)data, size, NULL, &first, message, sizeof message);
    if (ok && json_array_size(first.activities) > 0) round_trip(&first);
    json_decref(first.activities);
    if (schema != NULL) {
        struct kept validated;
        bool valid = read_bytes((const char *)data, size, schema, &validated, message,
                                sizeof message);
        FUZZ_CHECK(!valid || ok, "the schema took what the reader alone refused");
        json_decref(validated.activities);
    }
    return 0;
}
