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

/* Flags for every json_loads of input: duplicate keys are an error. */


/*
 * Parses one JSON text. A number too large for 64 bits is not a reason to
 * refuse the whole input: it is read as a real, which decoding then reports
 * as an invalid amount. Returns NULL with err filled when text is not JSON.
 */
json_t *json_parse_text(const char *text, size_t length, json_error_t *error);

/* Decodes value into op; strings are copied into arena. false: out of memory. */
bool json_decode_op(const json_t *value, struct ledger_op *op, struct arena *arena);

/* {"index","op","id","status",["timestamp"],["message"]} */
json_t *json_encode_result(size_t index, const struct ledger_op *op,
                           const struct ledger_result *result);
json_t *json_encode_account(const struct ledger_account *account);
json_t *json_encode_transfer(const struct ledger_transfer *transfer);
json_t *json_encode_unit(const struct ledger_unit *unit);
json_t *json_encode_condition(const struct ledger_condition *condition);
json_t *json_encode_requirement(const struct ledger_requirement *requirement);
/* with_accounts: include "accounts" (prefix sums). */
json_t *json_encode_balance(const struct store_balance *balance, bool with_accounts);

/* Writes value compactly followed by a newline; false on a write error. */
bool json_print_line(const json_t *value, FILE *out);

#endif
