/*
 * json.h — the contract's JSON: operations in, results and rows out.
 *
 * Decoding turns one JSON value into a `struct ledger_op`, strictly: every
 * field must have its type, unknown fields are refused, and a value that is
 * JSON but not a valid operation still yields an op whose `invalid` message
 * names the field, so the engine reports it in its place in the batch.
 * Encoding produces the exact shapes of DESIGN.md ("The contract").
 * jansson does the JSON itself; this file knows only the field names.
 */
#ifndef CONCORD_FMT_JSON_H
#define CONCORD_FMT_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "ledger/ledger.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/error.h"

/*
 * Flags for every json_loads of input: duplicate keys are an error (an
 * operation must not mean two things); any JSON value is accepted at the top
 * (a scalar is JSON, just not an operation); strings may hold \u0000 (valid
 * JSON: decoding refuses it where a field needs text).
 */
#define JSON_INPUT_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL)

/* A place in a JSON text: line from 1, column from 1 in characters (as jansson counts). */
struct json_place {
    int line;   /* 0: no place */
    int column;
};

/*
 * Parses one JSON text of input. Returns NULL with error filled when it is
 * not JSON — or when it is JSON whose only fault is numbers beyond 64 bits
 * (an integer outside int64, a real beyond a double), which jansson cannot
 * hold. That case is told apart: *too_big gets the first such number's
 * place (else its line stays 0), and *stand_in, when not NULL, gets the
 * text parsed with each such number read as 0 — enough to name the
 * operation, never to use its data. The caller releases *stand_in.
 * Nothing is ever re-read with changed meaning: a value returned is exactly
 * the text.
 */
json_t *json_parse_text(const char *text, size_t length, json_error_t *error,
                        struct json_place *too_big, json_t **stand_in);

/* Decodes value into op; strings are copied into arena. false: out of memory. */
bool json_decode_op(const json_t *value, struct ledger_op *op, struct arena *arena);

/*
 * Fills op for a line whose only fault is a number beyond 64 bits at column:
 * named from stand_in (see json_parse_text) when it is an operation, invalid
 * with a message giving the column, and not linked — its `linked` cannot be
 * trusted. false: out of memory.
 */
bool json_decode_op_too_big(const json_t *stand_in, int column, struct ledger_op *op,
                            struct arena *arena);

/*
 * {"index","op","id","status",["timestamp"],["posted","voided"],["message"]}:
 * posted and voided for a resolve, and for an approve that decided its transfer.
 */
json_t *json_encode_result(size_t index, const struct ledger_op *op,
                           const struct ledger_result *result);
json_t *json_encode_account(const struct ledger_account *account);
json_t *json_encode_party(const struct ledger_party *party);
/*
 * Who a caller is: {"user","role","party"(null for none),"may":{"write",
 * "read_all","read_log"}}: may it send batches, read every party's rows, read
 * the audit log's events.
 */
json_t *json_encode_caller(const char *user, const char *role, const char *party, bool write,
                           bool read_all);
json_t *json_encode_transfer(const struct ledger_transfer *transfer);
json_t *json_encode_unit(const struct ledger_unit *unit);
json_t *json_encode_condition(const struct ledger_condition *condition);
json_t *json_encode_requirement(const struct ledger_requirement *requirement);
/* Every condition or requirement of a view, as an array. */
json_t *json_encode_conditions(const struct ledger_view *view);
json_t *json_encode_requirements(const struct ledger_view *view);
/* with_accounts: include "accounts" (prefix sums). */
json_t *json_encode_balance(const struct store_balance *balance, bool with_accounts);

/*
 * A JSON string of text that should be UTF-8 but may not be: stray bytes
 * are written as \xNN rather than the text being lost. Never NULL unless
 * memory runs out.
 */
json_t *json_text(const char *text);

/* Writes value compactly followed by a newline; false on a write error. */
bool json_print_line(const json_t *value, FILE *out);

#endif
