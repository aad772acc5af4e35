/*
 * fuzz_request_body.c — the path of an HTTP POST /v1/batch body, minus the database.
 *
 * A body is read with json_parse_text; a JSON array has each of its values
 * decoded by json_decode_op into an arena, and each operation's result is
 * encoded by json_encode_result — here on a made-up ledger_result, since no
 * store is involved (fuzz_submit covers the engine and the store). A value
 * that is not an array is decoded as one operation too: the routes refuse it,
 * but it lets the fuzzer reach the decoder in fewer bytes.
 *
 * Beyond what the sanitizers catch, it checks the decoder's contract:
 *   - json_parse_text never answers NULL without filling the error, and a
 *     too-big number comes with a place and a stand-in, never with a value;
 *     the place is where that number starts;
 *   - a decoded operation whose `invalid` is NULL has every field its type
 *     requires, and its strings and numbers are exactly the input's;
 *   - `linked` is taken from the input even when the operation is invalid;
 *   - an operation from a stand-in is invalid and never linked;
 *   - every message is valid UTF-8 and every encoded result is JSON that
 *     reads back to the operation, status and message it was made from,
 *     timestamps included (time_format then time_parse is the identity);
 *     a message of raw bytes (the body's first 64) is kept, escaped where
 *     it is not UTF-8 (json_text).
 */
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "fmt/json.h"
#include "ledger/ledger.h"
#include "fuzz.h"
#include "util/arena.h"
#include "util/timefmt.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A string member of an operation: its name in JSON, its place in struct ledger_op. */
struct string_field {
    const char *key;
    size_t offset;
};

#define FIELD(key, member) {key, offsetof(struct ledger_op, member)}
static const struct string_field unit_strings[] = {FIELD("code", id), FIELD("name", name), {0}};
static const struct string_field account_strings[] = {
    FIELD("id", id), FIELD("unit", unit), FIELD("name", name), FIELD("owner", owner), {0}};
static const struct string_field transfer_strings[] = {
    FIELD("id", id),     FIELD("debit", debit), FIELD("credit", credit), FIELD("unit", unit),
    FIELD("kind", kind), FIELD("if", cond),     FIELD("memo", memo),     {0}};
static const struct string_field resolution_strings[] = {
    FIELD("id", id), FIELD("pending_id", pending_id), FIELD("kind", kind), FIELD("memo", memo),
    {0}};
static const struct string_field condition_strings[] = {
    FIELD("name", id), FIELD("title", name), FIELD("authority", owner), FIELD("when", cond), {0}};
static const struct string_field resolve_strings[] = {FIELD("name", id), {0}};
static const struct string_field requirement_strings[] = {
    FIELD("id", id),           FIELD("title", name), FIELD("account", account),
    FIELD("measure", kind),    FIELD("unit", unit),  {0}};
static const struct string_field rate_strings[] = {
    FIELD("unit", unit), FIELD("to", to), FIELD("rate", rate), {0}};
static const struct string_field party_strings[] = {
    FIELD("id", id), FIELD("name", name), FIELD("kind", kind), {0}};
static const struct string_field approve_strings[] = {
    FIELD("id", id), FIELD("pending_id", pending_id), {0}};
static const struct string_field domain_strings[] = {FIELD("id", id), FIELD("op", kind), {0}};
#undef FIELD

static const struct string_field *const strings_of[LEDGER_OP_TYPE_COUNT] = {
    [LEDGER_OP_UNIT] = unit_strings,           [LEDGER_OP_ACCOUNT] = account_strings,
    [LEDGER_OP_TRANSFER] = transfer_strings,   [LEDGER_OP_POST] = resolution_strings,
    [LEDGER_OP_VOID] = resolution_strings,     [LEDGER_OP_CONDITION] = condition_strings,
    [LEDGER_OP_RESOLVE] = resolve_strings,     [LEDGER_OP_REQUIREMENT] = requirement_strings,
    [LEDGER_OP_RATE] = rate_strings,           [LEDGER_OP_PARTY] = party_strings,
    [LEDGER_OP_APPROVE] = approve_strings,     [LEDGER_OP_DOMAIN] = domain_strings,
};

static const char *op_string(const struct ledger_op *op, size_t offset)
{
    const char *const *slot = (const char *const *)(const void *)((const char *)op + offset);
    return *slot;
}

/* A valid operation's strings are the input's, byte for byte; absent or null ones are NULL. */
static void check_strings(const json_t *value, const struct ledger_op *op)
{
    for (const struct string_field *f = strings_of[op->type]; f->key != NULL; f++) {
        const json_t *v = json_object_get(value, f->key);
        const char *s = op_string(op, f->offset);
        if (v == NULL || json_is_null(v)) {
            FUZZ_CHECK(s == NULL, "%s absent but decoded as \"%s\"", f->key, s);
            continue;
        }
        FUZZ_CHECK(json_is_string(v), "%s is not a string yet the op is valid", f->key);
        FUZZ_CHECK(s != NULL, "%s given but not decoded", f->key);
        FUZZ_CHECK(strlen(s) == json_string_length(v) && strcmp(s, json_string_value(v)) == 0,
                   "%s decoded as \"%s\", input \"%s\"", f->key, s, json_string_value(v));
    }
}

/* The fields each type cannot do without, for an operation that is not invalid. */
static void check_required(const json_t *value, const struct ledger_op *op)
{
    bool has_amount = (op->flags & LEDGER_OP_HAS_AMOUNT) != 0;
    switch (op->type) {
    case LEDGER_OP_UNIT:
    case LEDGER_OP_ACCOUNT:
    case LEDGER_OP_CONDITION: FUZZ_CHECK(op->id != NULL, "no id/code/name"); break;
    case LEDGER_OP_TRANSFER:
        FUZZ_CHECK(op->id != NULL && op->debit != NULL && op->credit != NULL, "transfer fields");
        FUZZ_CHECK(has_amount && op->amount >= 0, "transfer amount %lld", (long long)op->amount);
        FUZZ_CHECK(op->amount == json_integer_value(json_object_get(value, "amount")),
                   "amount decoded as %lld", (long long)op->amount);
        break;
    case LEDGER_OP_POST:
    case LEDGER_OP_VOID:
        FUZZ_CHECK(op->id != NULL && op->pending_id != NULL, "post/void without id or pending_id");
        FUZZ_CHECK(!has_amount || op->amount >= 0, "negative post amount");
        break;
    case LEDGER_OP_RESOLVE:
        FUZZ_CHECK(op->id != NULL, "resolve without a name");
        FUZZ_CHECK(op->state == COND_MET || op->state == COND_FAILED, "state %u", op->state);
        break;
    case LEDGER_OP_REQUIREMENT:
        FUZZ_CHECK(op->id != NULL && op->account != NULL && op->kind != NULL, "requirement");
        FUZZ_CHECK(has_amount && op->amount >= 0, "requirement target");
        break;
    case LEDGER_OP_RATE:
        FUZZ_CHECK(op->unit != NULL && op->to != NULL && op->rate != NULL, "rate fields");
        FUZZ_CHECK((op->flags & LEDGER_OP_HAS_DATE) != 0, "rate without a date");
        break;
    case LEDGER_OP_PARTY:
        FUZZ_CHECK(op->id != NULL && op->kind != NULL, "party without id or kind");
        break;
    case LEDGER_OP_APPROVE:
        FUZZ_CHECK(op->id != NULL && op->pending_id != NULL, "approve without id or pending_id");
        FUZZ_CHECK(op->decision == LEDGER_DECISION_APPROVE ||
                       op->decision == LEDGER_DECISION_REJECT,
                   "decision %u", op->decision);
        break;
    case LEDGER_OP_DOMAIN:
        FUZZ_CHECK(op->kind != NULL && op->meta != NULL, "domain op without its name or JSON");
        break;
    case LEDGER_OP_TYPE_COUNT: FUZZ_CHECK(false, "type out of range"); break;
    }
}

/* A valid operation's meta is the input's meta in canonical form: the same JSON value. */
static void check_meta(const json_t *value, const struct ledger_op *op)
{
    const json_t *meta = json_object_get(value, "meta");
    if (meta == NULL || json_is_null(meta)) {
        FUZZ_CHECK(op->meta == NULL, "meta absent but decoded");
        return;
    }
    FUZZ_CHECK(op->meta != NULL, "meta given but not decoded");
    json_error_t error;
    json_t *back = json_loads(op->meta, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);
    FUZZ_CHECK(back != NULL, "stored meta is not JSON: %s (%s)", op->meta, error.text);
    FUZZ_CHECK(json_equal(back, meta), "meta changed meaning: %s", op->meta);
    json_decref(back);
}

static void check_decoded(const json_t *value, const struct ledger_op *op)
{
    FUZZ_CHECK((unsigned)op->type < LEDGER_OP_TYPE_COUNT, "type %d", (int)op->type);
    bool linked = json_is_object(value) && json_is_true(json_object_get(value, "linked"));
    FUZZ_CHECK(((op->flags & LEDGER_OP_LINKED) != 0) == linked, "linked lost or invented");
    if (!json_is_object(value)) FUZZ_CHECK(op->invalid != NULL, "a non-object op is valid");
    if (op->invalid != NULL) {
        FUZZ_CHECK(utf8_valid(op->invalid, strlen(op->invalid)), "message not UTF-8");
        return;
    }
    check_required(value, op);
    check_strings(value, op);
    if (op->type == LEDGER_OP_TRANSFER || op->type == LEDGER_OP_POST ||
        op->type == LEDGER_OP_VOID)
        check_meta(value, op);
}

/*
 * What the engine might have answered: every status, by turns, with the op's
 * own text or — as messages built from stored rows or command lines may be —
 * raw bytes of the body that need not be UTF-8.
 */
static struct ledger_result dummy_result(size_t index, const struct ledger_op *op,
                                         const char *raw)
{
    struct ledger_result r = {0};
    r.status = op->invalid != NULL ? LEDGER_INVALID
                                   : (enum ledger_status)(index % LEDGER_STATUS_COUNT);
    if (op->invalid != NULL) r.message = op->invalid;
    else if (index % 3 == 0) r.message = op->memo;
    else if (index % 3 == 1) r.message = raw; /* cut at 64 bytes, maybe inside a character */
    if (op->flags & LEDGER_OP_HAS_DATE) r.timestamp = op->date;
    else if (op->flags & LEDGER_OP_HAS_EXPIRES) r.timestamp = op->expires;
    r.posted = (int32_t)index;
    r.voided = (int32_t)(index / 2);
    return r;
}

static const char *member_string(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/*
 * The result encoded, printed and read back says what it was made from; a
 * message that is not UTF-8 is still there, its stray bytes escaped.
 */
static void check_result(size_t index, const struct ledger_op *op, const char *raw)
{
    struct ledger_result result = dummy_result(index, op, raw);
    json_t *encoded = json_encode_result(index, op, &result);
    FUZZ_CHECK(encoded != NULL, "json_encode_result gave NULL");
    char *text = json_dumps(encoded, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(encoded);
    FUZZ_CHECK(text != NULL, "result not printable");
    json_error_t error;
    json_t *back = json_loads(text, 0, &error);
    FUZZ_CHECK(back != NULL, "result is not JSON: %s", text);
    FUZZ_CHECK(json_integer_value(json_object_get(back, "index")) == (json_int_t)index, "index");
    FUZZ_CHECK(strcmp(member_string(back, "op"), ledger_op_label(op)) == 0, "op");
    FUZZ_CHECK(strcmp(member_string(back, "status"), ledger_status_name(result.status)) == 0,
               "status");
    const char *id = member_string(back, "id");
    FUZZ_CHECK((id == NULL) == (op->id == NULL), "id present in one only: %s", text);
    if (id != NULL) FUZZ_CHECK(strcmp(id, op->id) == 0, "id changed: %s", text);
    const char *message = member_string(back, "message");
    FUZZ_CHECK((message == NULL) == (result.message == NULL), "message: %s", text);
    bool exact = message != NULL && utf8_valid(result.message, strlen(result.message));
    if (exact) FUZZ_CHECK(strcmp(message, result.message) == 0, "message: %s", text);
    if (message != NULL && !exact)
        FUZZ_CHECK(strstr(message, "\\x") != NULL, "stray bytes not escaped: %s", text);
    const char *timestamp = member_string(back, "timestamp");
    FUZZ_CHECK((timestamp != NULL) == (result.timestamp != 0), "timestamp: %s", text);
    if (timestamp != NULL) {
        int64_t ns;
        bool date_only;
        FUZZ_CHECK(time_parse(timestamp, &ns, &date_only), "timestamp unreadable: %s", timestamp);
        FUZZ_CHECK(ns == result.timestamp, "%s reads back as %lld, not %lld", timestamp,
                   (long long)ns, (long long)result.timestamp);
    }
    json_decref(back);
    free(text);
}

/* Decodes one value as the routes do, then checks the op and its encoded result. */
static void decode_and_check(const json_t *value, size_t index, struct arena *arena,
                             const char *raw)
{
    struct ledger_op op;
    if (!json_decode_op(value, &op, arena)) return; /* out of memory: nothing to check */
    check_decoded(value, &op);
    check_result(index, &op, raw);
}

/*
 * The place of a too-big number is where the number starts: line from 1,
 * column from 1 counting characters (UTF-8 continuation bytes do not count).
 */
static void check_place(const char *text, size_t length, const struct json_place *place)
{
    FUZZ_CHECK(place->line >= 1 && place->column >= 1, "place %d:%d", place->line,
               place->column);
    int line = 1, column = 0;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n') {
            line++;
            column = 0;
        } else if ((c & 0xc0) != 0x80 && ++column == place->column && line == place->line) {
            FUZZ_CHECK(c == '-' || (c >= '0' && c <= '9'), "line %d, column %d is '%c', "
                       "not a number", line, column, c);
            return;
        }
    }
    FUZZ_CHECK(false, "line %d, column %d is past the text", place->line, place->column);
}

/* A text whose only fault is a number beyond 64 bits: each value names an invalid op. */
static void check_stand_in(const json_t *stand_in, const struct json_place *too_big,
                           struct arena *arena, const char *raw)
{
    size_t count = json_is_array(stand_in) ? json_array_size(stand_in) : 1;
    for (size_t i = 0; i < count; i++) {
        const json_t *value = json_is_array(stand_in) ? json_array_get(stand_in, i) : stand_in;
        struct ledger_op op;
        if (!json_decode_op_too_big(value, too_big->column, &op, arena)) return;
        FUZZ_CHECK(op.invalid != NULL, "an op with a too-big number is valid");
        FUZZ_CHECK(!(op.flags & LEDGER_OP_LINKED), "an op with a too-big number is linked");
        FUZZ_CHECK(utf8_valid(op.invalid, strlen(op.invalid)), "message not UTF-8");
        check_result(i, &op, raw);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char raw[65]; /* the body's first bytes, as text: any bytes at all */
    size_t raw_length = size < sizeof raw - 1 ? size : sizeof raw - 1;
    memcpy(raw, data, raw_length);
    raw[raw_length] = '\0';
    json_error_t error;
    memset(&error, 0, sizeof error);
    struct json_place too_big = {-7, -7}; /* json_parse_text must overwrite it */
    json_t *stand_in = (json_t *)&too_big;
    json_t *input = json_parse_text((const char *)data, size, &error, &too_big, &stand_in);
    struct arena arena;
    arena_init(&arena);
    if (input == NULL) {
        FUZZ_CHECK(error.text[0] != '\0', "NULL without an error message");
        FUZZ_CHECK(too_big.line >= 0, "too_big not filled");
        FUZZ_CHECK((stand_in != NULL) == (too_big.line != 0), "stand-in without a place, or "
                   "a place without a stand-in");
        if (stand_in != NULL) {
            check_place((const char *)data, size, &too_big);
            check_stand_in(stand_in, &too_big, &arena, raw);
        }
        json_decref(stand_in);
    } else {
        FUZZ_CHECK(too_big.line == 0 && stand_in == NULL, "a value and a too-big number");
        size_t count = json_is_array(input) ? json_array_size(input) : 1;
        for (size_t i = 0; i < count && i < LEDGER_BATCH_OPS_MAX; i++)
            decode_and_check(json_is_array(input) ? json_array_get(input, i) : input, i, &arena,
                             raw);
        json_decref(input);
    }
    arena_free(&arena);
    return 0;
}
