/*
 * json.c — decoding operations and encoding results and rows (see json.h).
 *
 * Each operation type has a table of the fields it accepts; decoding checks
 * the table first so an unknown or misspelt field is named in the message,
 * then reads each field with its type. The first problem found is the one
 * reported.
 */
#include "fmt/json.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/timefmt.h"
#include "util/utf8.h"

/* ---------------------------------------------------------------- parsing */

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Does the number token[0..n) overflow what jansson holds (int64, or a double)? */
static bool number_too_big(const char *token, size_t n)
{
    char *copy = malloc(n + 1);
    if (copy == NULL) return false; /* then the caller reports jansson's error as is */
    memcpy(copy, token, n);
    copy[n] = '\0';
    bool real = strpbrk(copy, ".eE") != NULL;
    errno = 0;
    bool too_big;
    if (real) {
        double v = strtod(copy, NULL);
        too_big = errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL); /* underflow reads as 0 */
    } else {
        (void)strtoll(copy, NULL, 10);
        too_big = errno == ERANGE;
    }
    free(copy);
    return too_big;
}

/*
 * The end of the number starting at text[i] (a '-' or a digit outside any
 * string), following jansson's lexer: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
 * Whatever follows that is not part of the grammar is left where it is, so
 * jansson still reports it after the number is replaced.
 */
static size_t number_end(const char *text, size_t n, size_t i)
{
    size_t j = i;
    if (j < n && text[j] == '-') j++;
    if (j < n && text[j] == '0') {
        j++;
    } else if (j < n && is_digit(text[j])) {
        while (j < n && is_digit(text[j])) j++;
    } else {
        return i; /* a lone '-': not a number */
    }
    if (j + 1 < n && text[j] == '.' && is_digit(text[j + 1])) {
        j += 2;
        while (j < n && is_digit(text[j])) j++;
    }
    if (j < n && (text[j] == 'e' || text[j] == 'E')) {
        size_t k = j + 1;
        if (k < n && (text[k] == '+' || text[k] == '-')) k++;
        if (k < n && is_digit(text[k])) {
            j = k;
            while (j < n && is_digit(text[j])) j++;
        }
    }
    return j;
}

/*
 * Overwrites, in text[0..n), every number outside strings that is too big
 * with "0" and spaces (keeping every other byte where it was, so jansson's
 * lines and columns still hold), and records the first one's place.
 */
static void numbers_neutralize(char *text, size_t n, struct json_place *first)
{
    bool in_string = false;
    int line = 1, column = 0; /* characters before text[i] on its line */
    size_t i = 0;
    while (i < n) {
        char c = text[i];
        size_t next = i + 1;
        if (in_string) {
            if (c == '\\' && next < n) next++; /* the escaped byte is ASCII: one column */
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '-' || is_digit(c)) {
            size_t end = number_end(text, n, i);
            if (end > i) {
                if (number_too_big(text + i, end - i)) {
                    if (first->line == 0) *first = (struct json_place){line, column + 1};
                    text[i] = '0';
                    memset(text + i + 1, ' ', end - i - 1);
                }
                next = end;
            }
        }
        for (size_t k = i; k < next; k++) { /* count what was passed over */
            if (text[k] == '\n') {
                line++;
                column = 0;
            } else if (((unsigned char)text[k] & 0xc0) != 0x80) {
                column++;
            }
        }
        i = next;
    }
}

json_t *json_parse_text(const char *text, size_t length, json_error_t *error,
                        struct json_place *too_big, json_t **stand_in)
{
    *too_big = (struct json_place){0, 0};
    if (stand_in != NULL) *stand_in = NULL;
    json_t *v = json_loadb(text, length, JSON_INPUT_FLAGS, error);
    if (v != NULL || json_error_code(error) != json_error_numeric_overflow) return v;
    /*
     * jansson stops at the first number it cannot hold. Whether the text is
     * JSON otherwise is found by parsing a copy with every such number made
     * 0; the copy's value only stands in to name the operation.
     */
    char *copy = malloc(length ? length : 1);
    if (copy == NULL) return NULL; /* report jansson's error: still true */
    memcpy(copy, text, length);
    struct json_place first = {0, 0};
    numbers_neutralize(copy, length, &first);
    json_error_t copy_error;
    json_t *neutral = first.line != 0 ? json_loadb(copy, length, JSON_INPUT_FLAGS, &copy_error)
                                      : NULL;
    free(copy);
    if (neutral == NULL) {
        /* Something else is wrong too (or the numbers were not found): not JSON. */
        if (first.line != 0) *error = copy_error;
        return NULL;
    }
    *too_big = first;
    if (stand_in != NULL)
        *stand_in = neutral;
    else
        json_decref(neutral);
    return NULL;
}

/* ---------------------------------------------------------------- decoding */

struct field {
    const char *name;
    char type; /* s string, i integer, b boolean, t time, a array, j any JSON */
};

/* Every operation may be `linked`: an account and its first transfer can be one chain. */
static const struct field unit_fields[] = {
    {"op", 's'}, {"code", 's'}, {"scale", 'i'}, {"name", 's'}, {"linked", 'b'}, {NULL, 0}};
static const struct field account_fields[] = {
    {"op", 's'},    {"id", 's'},    {"unit", 's'},   {"name", 's'},
    {"owner", 's'}, {"flags", 'a'}, {"approvers", 'a'}, {"approvals_required", 'i'},
    {"linked", 'b'}, {NULL, 0}};
static const struct field transfer_fields[] = {
    {"op", 's'},     {"id", 's'},   {"debit", 's'},   {"credit", 's'}, {"amount", 'i'},
    {"unit", 's'},   {"kind", 's'}, {"pending", 'b'}, {"if", 's'},     {"expires", 't'},
    {"date", 't'},   {"memo", 's'}, {"meta", 'j'},    {"linked", 'b'}, {NULL, 0}};
static const struct field post_fields[] = {
    {"op", 's'},   {"id", 's'},   {"pending_id", 's'}, {"amount", 'i'}, {"kind", 's'},
    {"date", 't'}, {"memo", 's'}, {"meta", 'j'},       {"linked", 'b'}, {NULL, 0}};
static const struct field void_fields[] = {
    {"op", 's'},   {"id", 's'},   {"pending_id", 's'}, {"kind", 's'},
    {"date", 't'}, {"memo", 's'}, {"meta", 'j'},       {"linked", 'b'}, {NULL, 0}};

static const struct field condition_fields[] = {
    {"op", 's'}, {"name", 's'}, {"title", 's'}, {"probability", 'n'}, {"authority", 's'},
    {"when", 's'}, {"linked", 'b'}, {NULL, 0}};
static const struct field resolve_fields[] = {
    {"op", 's'}, {"name", 's'}, {"state", 's'}, {"linked", 'b'}, {NULL, 0}};
static const struct field requirement_fields[] = {
    {"op", 's'},      {"id", 's'},     {"title", 's'}, {"account", 's'}, {"measure", 's'},
    {"target", 'i'},  {"due", 't'},    {"unit", 's'},  {"linked", 'b'},  {NULL, 0}};
static const struct field rate_fields[] = {
    {"op", 's'}, {"unit", 's'}, {"to", 's'}, {"rate", 's'}, {"date", 't'}, {"linked", 'b'},
    {NULL, 0}};

static const struct field party_fields[] = {
    {"op", 's'}, {"id", 's'}, {"name", 's'}, {"kind", 's'}, {"linked", 'b'}, {NULL, 0}};
static const struct field approve_fields[] = {
    {"op", 's'}, {"id", 's'}, {"pending_id", 's'}, {"decision", 's'}, {"linked", 'b'},
    {NULL, 0}};

static const struct field *const fields_of[LEDGER_OP_TYPE_COUNT] = {
    [LEDGER_OP_UNIT] = unit_fields,         [LEDGER_OP_ACCOUNT] = account_fields,
    [LEDGER_OP_TRANSFER] = transfer_fields, [LEDGER_OP_POST] = post_fields,
    [LEDGER_OP_VOID] = void_fields,         [LEDGER_OP_CONDITION] = condition_fields,
    [LEDGER_OP_RESOLVE] = resolve_fields,   [LEDGER_OP_REQUIREMENT] = requirement_fields,
    [LEDGER_OP_RATE] = rate_fields,         [LEDGER_OP_PARTY] = party_fields,
    [LEDGER_OP_APPROVE] = approve_fields,
};

struct decoder {
    struct arena *arena;
    struct ledger_op *op;
    bool out_of_memory;
};

/* Records "field: problem" unless an earlier problem was recorded. */
static void fail(struct decoder *d, const char *field, const char *problem)
{
    if (d->op->invalid != NULL) return; /* the first problem is the one reported */
    char buf[320];
    snprintf(buf, sizeof buf, "%s: %s", field, problem);
    /* A long field name cut mid-character would make the message unprintable as JSON. */
    d->op->invalid = arena_strdup(d->arena, utf8_truncate(buf));
    if (d->op->invalid == NULL) d->out_of_memory = true;
}

/* A JSON string may hold \u0000; C text ends there, so a field that needs text refuses it. */
static bool has_nul(const json_t *v)
{
    return json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v);
}

static const char *take_string(struct decoder *d, const json_t *obj, const char *name)
{
    const json_t *v = json_object_get(obj, name);
    if (v == NULL || json_is_null(v)) return NULL;
    if (!json_is_string(v)) {
        fail(d, name, "must be a string");
        return NULL;
    }
    if (has_nul(v)) {
        fail(d, name, "must not contain a NUL character (\\u0000)");
        return NULL;
    }
    const char *s = arena_strndup(d->arena, json_string_value(v), json_string_length(v));
    if (s == NULL) d->out_of_memory = true;
    return s;
}

/* Reads an amount-like integer; sets *given. */
static int64_t take_integer(struct decoder *d, const json_t *obj, const char *name, bool *given,
                            const char *range_message)
{
    const json_t *v = json_object_get(obj, name);
    *given = false;
    if (v == NULL || json_is_null(v)) return 0;
    if (!json_is_integer(v)) {
        fail(d, name, range_message);
        return 0;
    }
    *given = true;
    return (int64_t)json_integer_value(v);
}

static bool take_bool(struct decoder *d, const json_t *obj, const char *name)
{
    const json_t *v = json_object_get(obj, name);
    if (v == NULL || json_is_null(v)) return false;
    if (!json_is_boolean(v)) {
        fail(d, name, "must be true or false");
        return false;
    }
    return json_is_true(v);
}

static int64_t take_time(struct decoder *d, const json_t *obj, const char *name, bool *given)
{
    const json_t *v = json_object_get(obj, name);
    *given = false;
    if (v == NULL || json_is_null(v)) return 0;
    int64_t ns;
    bool date_only;
    if (!json_is_string(v) || has_nul(v) || !time_parse(json_string_value(v), &ns, &date_only)) {
        fail(d, name, "must be a date (YYYY-MM-DD) or an RFC 3339 date-time");
        return 0;
    }
    *given = true;
    return ns;
}

static const char *take_meta(struct decoder *d, const json_t *obj)
{
    const json_t *v = json_object_get(obj, "meta");
    if (v == NULL || json_is_null(v)) return NULL;
    char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (text == NULL) {
        d->out_of_memory = true;
        return NULL;
    }
    const char *s = arena_strdup(d->arena, text);
    free(text);
    if (s == NULL) d->out_of_memory = true;
    return s;
}

static uint32_t take_account_flags(struct decoder *d, const json_t *obj)
{
    const json_t *v = json_object_get(obj, "flags");
    if (v == NULL || json_is_null(v)) return 0;
    if (!json_is_array(v)) {
        fail(d, "flags", "must be an array of flag names");
        return 0;
    }
    uint32_t flags = 0;
    size_t i;
    const json_t *item;
    json_array_foreach(v, i, item) {
        const char *name = has_nul(item) ? NULL : json_string_value(item);
        if (name != NULL && strcmp(name, "debits_must_not_exceed_credits") == 0)
            flags |= LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS;
        else if (name != NULL && strcmp(name, "credits_must_not_exceed_debits") == 0)
            flags |= LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS;
        else if (name != NULL && strcmp(name, "guarded") == 0)
            flags |= LEDGER_ACCOUNT_GUARDED;
        else
            fail(d, "flags", "unknown flag (expected debits_must_not_exceed_credits, "
                             "credits_must_not_exceed_debits or guarded)");
    }
    return flags;
}

/*
 * A guarded account's approvers: an array of user names, kept as one
 * space-separated string (names hold no spaces; the engine checks them).
 */
static const char *take_approvers(struct decoder *d, const json_t *obj)
{
    const json_t *v = json_object_get(obj, "approvers");
    if (v == NULL || json_is_null(v)) return NULL;
    if (!json_is_array(v) || json_array_size(v) == 0 ||
        json_array_size(v) > LEDGER_APPROVERS_MAX) {
        fail(d, "approvers", "must be an array of 1 … 32 user names");
        return NULL;
    }
    char joined[LEDGER_APPROVERS_MAX * (LEDGER_USER_BYTES_MAX + 1) + 1];
    size_t used = 0;
    size_t i;
    const json_t *item;
    json_array_foreach(v, i, item) {
        const char *name = has_nul(item) ? NULL : json_string_value(item);
        size_t len = name != NULL ? strlen(name) : 0;
        if (len == 0 || len > LEDGER_USER_BYTES_MAX || strchr(name, ' ') != NULL) {
            fail(d, "approvers", "each approver must be a user name of 1 … 64 bytes");
            return NULL;
        }
        if (used > 0) joined[used++] = ' ';
        memcpy(joined + used, name, len);
        used += len;
    }
    joined[used] = '\0';
    const char *s = arena_strdup(d->arena, joined);
    if (s == NULL) d->out_of_memory = true;
    return s;
}

static bool known_field(const struct field *fields, const char *name)
{
    for (const struct field *f = fields; f->name != NULL; f++)
        if (strcmp(f->name, name) == 0) return true;
    return false;
}

static const char *const amount_message = "must be an integer in 1 … 2^63-1";

/*
 * Any other name is a mission-domain operation ("pledge", "consignment"):
 * the ledger does not know its fields, app/ does, and expands it. Kept here
 * as its name, its id and the whole object as canonical JSON, which is also
 * what the audit log records of it.
 */
static bool decode_domain(struct decoder *d, const json_t *value, const char *name)
{
    struct ledger_op *op = d->op;
    op->type = LEDGER_OP_DOMAIN;
    op->kind = arena_strdup(d->arena, name);
    if (op->kind == NULL) return false;
    if (strlen(name) > LEDGER_KIND_BYTES_MAX) {
        fail(d, "op", "unknown operation");
        return !d->out_of_memory;
    }
    /* The audit log writes an operation it refused as {"op", "invalid"}: no field may say so. */
    if (json_object_get(value, "invalid") != NULL) {
        fail(d, "invalid", "unknown field");
        return !d->out_of_memory;
    }
    op->id = take_string(d, value, "id");
    char *text = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (text == NULL) return false;
    if (strlen(text) > LEDGER_META_BYTES_MAX)
        fail(d, "op", "a domain operation is at most 16 KiB of JSON");
    else
        op->meta = arena_strdup(d->arena, text);
    free(text);
    if (op->meta == NULL && op->invalid == NULL) return false;
    return !d->out_of_memory;
}

bool json_decode_op(const json_t *value, struct ledger_op *op, struct arena *arena)
{
    memset(op, 0, sizeof *op);
    struct decoder d = {.arena = arena, .op = op};
    op->type = LEDGER_OP_TRANSFER;
    if (!json_is_object(value)) {
        op->invalid = "an operation must be a JSON object";
        return true;
    }
    /* linked first: even an invalid member of a chain must keep the chain's shape. */
    const json_t *linked = json_object_get(value, "linked");
    if (json_is_true(linked)) op->flags |= LEDGER_OP_LINKED;
    const json_t *op_field = json_object_get(value, "op");
    const char *name = json_string_value(op_field);
    if (name == NULL) {
        op->invalid = "op: required, one of unit, account, transfer, post, void, condition, "
                      "resolve, requirement, rate, party, approve";
        return true;
    }
    if (has_nul(op_field)) {
        op->invalid = "op: must not contain a NUL character (\\u0000)";
        return true;
    }
    int type = -1;
    for (int t = 0; t < LEDGER_OP_TYPE_COUNT; t++)
        if (t != LEDGER_OP_DOMAIN && strcmp(name, ledger_op_name((enum ledger_op_type)t)) == 0)
            type = t;
    if (type < 0) return decode_domain(&d, value, name);
    op->type = (enum ledger_op_type)type;
    const char *key;
    const json_t *member;
    json_object_foreach((json_t *)value, key, member) {
        if (!known_field(fields_of[type], key)) fail(&d, key, "unknown field");
    }
    (void)member;
    bool given;
    switch (op->type) {
    case LEDGER_OP_UNIT:
        op->id = take_string(&d, value, "code");
        op->name = take_string(&d, value, "name");
        op->scale = (int32_t)take_integer(&d, value, "scale", &given, "must be an integer");
        if (given) {
            int64_t scale = json_integer_value(json_object_get(value, "scale"));
            if (scale < 0 || scale > LEDGER_SCALE_MAX) op->scale = -1;
            op->flags |= LEDGER_OP_HAS_SCALE;
        }
        take_bool(&d, value, "linked");
        if (op->id == NULL) fail(&d, "code", "required");
        break;
    case LEDGER_OP_ACCOUNT:
        op->id = take_string(&d, value, "id");
        op->unit = take_string(&d, value, "unit");
        op->name = take_string(&d, value, "name");
        op->owner = take_string(&d, value, "owner");
        op->account_flags = take_account_flags(&d, value);
        op->approvers = take_approvers(&d, value);
        op->approvals_required = (int32_t)take_integer(&d, value, "approvals_required", &given,
                                                       "must be an integer in 1 … 32");
        if (given) {
            json_int_t k = json_integer_value(json_object_get(value, "approvals_required"));
            op->approvals_required = k >= 1 && k <= LEDGER_APPROVERS_MAX ? (int32_t)k : -1;
        }
        take_bool(&d, value, "linked");
        if (op->id == NULL) fail(&d, "id", "required");
        break;
    case LEDGER_OP_TRANSFER:
        op->id = take_string(&d, value, "id");
        op->debit = take_string(&d, value, "debit");
        op->credit = take_string(&d, value, "credit");
        op->unit = take_string(&d, value, "unit");
        op->kind = take_string(&d, value, "kind");
        op->cond = take_string(&d, value, "if");
        op->memo = take_string(&d, value, "memo");
        op->meta = take_meta(&d, value);
        op->amount = take_integer(&d, value, "amount", &given, amount_message);
        if (given) op->flags |= LEDGER_OP_HAS_AMOUNT;
        if (take_bool(&d, value, "pending")) op->flags |= LEDGER_OP_PENDING;
        op->expires = take_time(&d, value, "expires", &given);
        if (given) op->flags |= LEDGER_OP_HAS_EXPIRES;
        op->date = take_time(&d, value, "date", &given);
        if (given) op->flags |= LEDGER_OP_HAS_DATE;
        take_bool(&d, value, "linked");
        if (op->id == NULL) fail(&d, "id", "required");
        if (op->debit == NULL) fail(&d, "debit", "required");
        if (op->credit == NULL) fail(&d, "credit", "required");
        if (!(op->flags & LEDGER_OP_HAS_AMOUNT)) fail(&d, "amount", "required");
        break;
    case LEDGER_OP_POST:
    case LEDGER_OP_VOID:
        op->id = take_string(&d, value, "id");
        op->pending_id = take_string(&d, value, "pending_id");
        op->kind = take_string(&d, value, "kind");
        op->memo = take_string(&d, value, "memo");
        op->meta = take_meta(&d, value);
        if (op->type == LEDGER_OP_POST) {
            op->amount = take_integer(&d, value, "amount", &given, amount_message);
            if (given) op->flags |= LEDGER_OP_HAS_AMOUNT;
        }
        op->date = take_time(&d, value, "date", &given);
        if (given) op->flags |= LEDGER_OP_HAS_DATE;
        take_bool(&d, value, "linked");
        if (op->id == NULL) fail(&d, "id", "required");
        if (op->pending_id == NULL) fail(&d, "pending_id", "required");
        break;
    case LEDGER_OP_CONDITION: {
        op->id = take_string(&d, value, "name");
        op->name = take_string(&d, value, "title");
        op->owner = take_string(&d, value, "authority");
        op->cond = take_string(&d, value, "when");
        const json_t *p = json_object_get(value, "probability");
        if (p != NULL && !json_is_null(p)) {
            if (!json_is_number(p))
                fail(&d, "probability", "must be a number in [0, 1]");
            op->probability = json_number_value(p);
            op->flags |= LEDGER_OP_HAS_PROBABILITY;
        }
        take_bool(&d, value, "linked");
        if (op->id == NULL) fail(&d, "name", "required");
        break;
    }
    case LEDGER_OP_RESOLVE: {
        op->id = take_string(&d, value, "name");
        const char *state = take_string(&d, value, "state");
        enum cond_state parsed = COND_OPEN;
        if (state == NULL || !cond_state_parse(state, &parsed) || parsed == COND_OPEN)
            fail(&d, "state", "required, met or failed");
        op->state = (uint8_t)parsed;
        take_bool(&d, value, "linked");
        if (op->id == NULL) fail(&d, "name", "required");
        break;
    }
    case LEDGER_OP_REQUIREMENT:
        op->id = take_string(&d, value, "id");
        op->name = take_string(&d, value, "title");
        op->account = take_string(&d, value, "account");
        op->kind = take_string(&d, value, "measure");
        op->unit = take_string(&d, value, "unit");
        op->amount = take_integer(&d, value, "target", &given, amount_message);
        if (given) op->flags |= LEDGER_OP_HAS_AMOUNT;
        op->date = take_time(&d, value, "due", &given);
        if (given) op->flags |= LEDGER_OP_HAS_DATE;
        take_bool(&d, value, "linked");
        if (op->id == NULL) fail(&d, "id", "required");
        if (op->account == NULL) fail(&d, "account", "required");
        if (op->kind == NULL) fail(&d, "measure", "required, credits or balance");
        if (!(op->flags & LEDGER_OP_HAS_AMOUNT)) fail(&d, "target", "required");
        break;
    case LEDGER_OP_RATE:
        op->unit = take_string(&d, value, "unit");
        op->to = take_string(&d, value, "to");
        op->rate = take_string(&d, value, "rate");
        op->date = take_time(&d, value, "date", &given);
        if (given) op->flags |= LEDGER_OP_HAS_DATE;
        take_bool(&d, value, "linked");
        if (op->unit == NULL) fail(&d, "unit", "required");
        if (op->to == NULL) fail(&d, "to", "required");
        if (op->rate == NULL) fail(&d, "rate", "required, a decimal string such as \"1.0843\"");
        if (!given) fail(&d, "date", "required");
        break;
    case LEDGER_OP_PARTY:
        op->id = take_string(&d, value, "id");
        op->name = take_string(&d, value, "name");
        op->kind = take_string(&d, value, "kind");
        take_bool(&d, value, "linked");
        if (op->id == NULL) fail(&d, "id", "required");
        if (op->kind == NULL)
            fail(&d, "kind", "required, one of nation, organisation, force, authority, fund");
        break;
    case LEDGER_OP_APPROVE: {
        op->id = take_string(&d, value, "id");
        op->pending_id = take_string(&d, value, "pending_id");
        const char *decision = take_string(&d, value, "decision");
        if (decision != NULL && strcmp(decision, "approve") == 0)
            op->decision = LEDGER_DECISION_APPROVE;
        else if (decision != NULL && strcmp(decision, "reject") == 0)
            op->decision = LEDGER_DECISION_REJECT;
        else
            fail(&d, "decision", "required, approve or reject");
        take_bool(&d, value, "linked");
        if (op->id == NULL) fail(&d, "id", "required");
        if (op->pending_id == NULL) fail(&d, "pending_id", "required");
        break;
    }
    case LEDGER_OP_DOMAIN:
    case LEDGER_OP_TYPE_COUNT: break;
    }
    if ((op->flags & LEDGER_OP_HAS_AMOUNT) && op->amount < 0) fail(&d, "amount", amount_message);
    return !d.out_of_memory;
}

bool json_decode_op_too_big(const json_t *stand_in, int column, struct ledger_op *op,
                            struct arena *arena)
{
    if (!json_decode_op(stand_in, op, arena)) return false;
    char message[96];
    snprintf(message, sizeof message, "a number at column %d does not fit 64 bits", column);
    op->invalid = arena_strdup(arena, message);
    /* Its chain cannot be trusted either way; alone, it fails by itself. */
    op->flags &= ~LEDGER_OP_LINKED;
    return op->invalid != NULL;
}

/* ---------------------------------------------------------------- encoding */

/*
 * A JSON string for text that should be UTF-8 but may not be (rows stored
 * before the engine checked, a caller's C strings): each byte that does not
 * belong to a valid character is written as the four characters \xNN, so
 * the text is shown, never dropped.
 */
json_t *json_text(const char *value)
{
    size_t n = strlen(value);
    if (utf8_valid(value, n)) return json_string(value);
    char *escaped = malloc(4 * n + 1);
    if (escaped == NULL) return json_string("(message not UTF-8)");
    size_t out = 0;
    for (size_t i = 0; i < n;) {
        size_t length = utf8_char_length(value + i, n - i);
        if (length == 0) {
            out += (size_t)snprintf(escaped + out, 5, "\\x%02x", (unsigned char)value[i]);
            i++;
        } else {
            memcpy(escaped + out, value + i, length);
            out += length;
            i += length;
        }
    }
    escaped[out] = '\0';
    json_t *s = json_string(escaped);
    free(escaped);
    return s != NULL ? s : json_string("(message not UTF-8)");
}

static void set_string(json_t *obj, const char *key, const char *value)
{
    if (value != NULL) json_object_set_new(obj, key, json_text(value));
}

static void set_time(json_t *obj, const char *key, int64_t ns)
{
    char text[TIME_TEXT_BYTES];
    time_format(ns, text);
    json_object_set_new(obj, key, json_string(text));
}

json_t *json_encode_result(size_t index, const struct ledger_op *op,
                           const struct ledger_result *result)
{
    json_t *r = json_object();
    json_object_set_new(r, "index", json_integer((json_int_t)index));
    json_object_set_new(r, "op", json_text(ledger_op_label(op)));
    set_string(r, "id", op->id);
    json_object_set_new(r, "status", json_string(ledger_status_name(result->status)));
    if (result->timestamp != 0) set_time(r, "timestamp", result->timestamp);
    if (ledger_result_counts(op, result)) {
        json_object_set_new(r, "posted", json_integer(result->posted));
        json_object_set_new(r, "voided", json_integer(result->voided));
    }
    set_string(r, "message", result->message);
    return r;
}

static json_t *account_flags_array(uint32_t flags)
{
    json_t *a = json_array();
    if (flags & LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS)
        json_array_append_new(a, json_string("debits_must_not_exceed_credits"));
    if (flags & LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS)
        json_array_append_new(a, json_string("credits_must_not_exceed_debits"));
    if (flags & LEDGER_ACCOUNT_GUARDED) json_array_append_new(a, json_string("guarded"));
    return a;
}

/* Space-separated user names as a JSON array. */
static json_t *approvers_array(const char *approvers)
{
    json_t *a = json_array();
    for (const char *p = approvers; p != NULL && *p != '\0';) {
        const char *end = strchr(p, ' ');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        json_array_append_new(a, json_stringn(p, len));
        p = end != NULL ? end + 1 : p + len;
    }
    return a;
}

json_t *json_encode_party(const struct ledger_party *p)
{
    json_t *o = json_object();
    set_string(o, "id", p->id);
    set_string(o, "name", p->name);
    set_string(o, "kind", p->kind);
    set_time(o, "timestamp", p->timestamp);
    return o;
}

json_t *json_encode_caller(const char *user, const char *role, const char *party, bool write,
                           bool read_all)
{
    return json_pack("{s:s, s:s, s:s?, s:{s:b, s:b, s:b}}", "user", user, "role", role, "party",
                     party != NULL && party[0] != '\0' ? party : NULL, "may", "write", write,
                     "read_all", read_all, "read_log", read_all);
}

json_t *json_encode_account(const struct ledger_account *a)
{
    json_t *o = json_object();
    set_string(o, "id", a->id);
    set_string(o, "unit", a->unit);
    set_string(o, "name", a->name);
    set_string(o, "owner", a->owner);
    json_object_set_new(o, "flags", account_flags_array(a->flags));
    if (a->flags & LEDGER_ACCOUNT_GUARDED) {
        json_object_set_new(o, "approvers", approvers_array(a->approvers));
        json_object_set_new(o, "approvals_required", json_integer(a->approvals_required));
    }
    json_object_set_new(o, "debits_pending", json_integer(a->debits_pending));
    json_object_set_new(o, "debits_posted", json_integer(a->debits_posted));
    json_object_set_new(o, "credits_pending", json_integer(a->credits_pending));
    json_object_set_new(o, "credits_posted", json_integer(a->credits_posted));
    set_time(o, "timestamp", a->timestamp);
    return o;
}

json_t *json_encode_transfer(const struct ledger_transfer *t)
{
    json_t *o = json_object();
    set_string(o, "id", t->id);
    set_string(o, "debit", t->debit);
    set_string(o, "credit", t->credit);
    json_object_set_new(o, "amount", json_integer(t->amount));
    set_string(o, "unit", t->unit);
    set_string(o, "kind", t->kind);
    if (t->flags & LEDGER_TRANSFER_PENDING) json_object_set_new(o, "pending", json_true());
    set_string(o, "if", t->cond);
    if (t->flags & LEDGER_TRANSFER_EXPIRES) set_time(o, "expires", t->expires);
    char date[TIME_TEXT_BYTES];
    if (t->flags & LEDGER_TRANSFER_HAS_DATE)
        time_format_date(t->date, date);
    else
        time_format(t->date, date);
    json_object_set_new(o, "date", json_string(date));
    set_string(o, "memo", t->memo);
    if (t->meta != NULL) {
        json_error_t error;
        /* Stored meta is canonical JSON and may hold \u0000 in its strings. */
        json_t *meta = json_loads(t->meta, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);
        if (meta != NULL) json_object_set_new(o, "meta", meta);
    }
    set_string(o, "pending_id", t->pending_id);
    set_string(o, "reason", ledger_reason_name((enum ledger_reason)t->reason));
    set_string(o, "state", ledger_state_name((enum ledger_state)t->state));
    set_time(o, "timestamp", t->timestamp);
    return o;
}

json_t *json_encode_condition(const struct ledger_condition *c)
{
    json_t *o = json_object();
    set_string(o, "name", c->name);
    set_string(o, "title", c->title);
    if (c->has_probability) json_object_set_new(o, "probability", json_real(c->probability));
    set_string(o, "authority", c->authority);
    set_string(o, "when", c->when);
    json_object_set_new(o, "state", json_string(cond_state_name((enum cond_state)c->state)));
    if (c->resolved_at != 0) set_time(o, "resolved_at", c->resolved_at);
    set_time(o, "timestamp", c->timestamp);
    return o;
}

json_t *json_encode_requirement(const struct ledger_requirement *r)
{
    json_t *o = json_object();
    set_string(o, "id", r->id);
    set_string(o, "title", r->title);
    set_string(o, "account", r->account);
    set_string(o, "unit", r->unit);
    json_object_set_new(o, "measure", json_string(r->measure == LEDGER_MEASURE_BALANCE
                                                      ? "balance" : "credits"));
    json_object_set_new(o, "target", json_integer(r->target));
    if (r->has_due) {
        char due[TIME_TEXT_BYTES];
        time_format_date(r->due, due);
        json_object_set_new(o, "due", json_string(due));
    }
    set_time(o, "timestamp", r->timestamp);
    return o;
}

json_t *json_encode_conditions(const struct ledger_view *view)
{
    json_t *array = json_array();
    for (uint32_t i = 0; i < view->conditions_count; i++)
        json_array_append_new(array, json_encode_condition(&view->conditions[i]));
    return array;
}

json_t *json_encode_requirements(const struct ledger_view *view)
{
    json_t *array = json_array();
    for (uint32_t i = 0; i < view->requirements_count; i++)
        json_array_append_new(array, json_encode_requirement(&view->requirements[i]));
    return array;
}

json_t *json_encode_unit(const struct ledger_unit *u)
{
    json_t *o = json_object();
    set_string(o, "code", u->code);
    json_object_set_new(o, "scale", json_integer(u->scale));
    set_string(o, "name", u->name);
    set_time(o, "timestamp", u->timestamp);
    return o;
}

json_t *json_encode_balance(const struct store_balance *b, bool with_accounts)
{
    json_t *o = json_object();
    set_string(o, "id", b->id);
    set_string(o, "unit", b->unit);
    if (with_accounts) json_object_set_new(o, "accounts", json_integer(b->accounts));
    json_object_set_new(o, "debits_pending", json_integer(b->debits_pending));
    json_object_set_new(o, "debits_posted", json_integer(b->debits_posted));
    json_object_set_new(o, "credits_pending", json_integer(b->credits_pending));
    json_object_set_new(o, "credits_posted", json_integer(b->credits_posted));
    return o;
}

bool json_print_line(const json_t *value, FILE *out)
{
    if (json_dumpf(value, out, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0) return false;
    return fputc('\n', out) != EOF;
}
