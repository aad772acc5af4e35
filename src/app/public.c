/*
 * public.c — include/concord.h on top of the use cases: JSON in, JSON out.
 */
#include <concord.h>

#include <stdio.h>
#include <stdlib.h>

#include "app/app.h"
#include "fmt/json.h"

static void error_copy(char *error, size_t error_size, const char *message)
{
    if (error != NULL && error_size > 0) snprintf(error, error_size, "%s", message);
}

struct concord *concord_connect(const char *path, bool create, char *error, size_t error_size)
{
    struct concord *cc;
    struct cc_error err = {0};
    if (concord_open(&cc, path, create ? STORE_CREATE : STORE_OPEN_EXISTING, &err) != CC_OK) {
        error_copy(error, error_size, err.message);
        return NULL;
    }
    return cc;
}

void concord_disconnect(struct concord *cc)
{
    concord_close(cc);
}

char *concord_submit(struct concord *cc, const char *json, size_t length, int *status,
                     char *error, size_t error_size)
{
    json_error_t jerr;
    struct json_place too_big;
    json_t *input = json_parse_text(json, length, &jerr, &too_big, NULL);
    char message[CC_ERROR_MESSAGE_BYTES_MAX];
    if (input == NULL || !json_is_array(input) || json_array_size(input) > LEDGER_BATCH_OPS_MAX) {
        /* One text for the whole batch: a number that does not fit refuses all of it. */
        if (input == NULL && too_big.line != 0)
            snprintf(message, sizeof message,
                     "line %d, column %d: a number does not fit 64 bits; nothing was committed",
                     too_big.line, too_big.column);
        else if (input == NULL)
            snprintf(message, sizeof message, "line %d, column %d: %s", jerr.line, jerr.column,
                     jerr.text);
        else
            snprintf(message, sizeof message, "expected a JSON array of at most %d operations",
                     LEDGER_BATCH_OPS_MAX);
        json_decref(input);
        error_copy(error, error_size, message);
        *status = 2;
        return NULL;
    }
    size_t count = json_array_size(input);
    struct ledger_op *ops = calloc(count ? count : 1, sizeof *ops);
    struct ledger_result *results = calloc(count ? count : 1, sizeof *results);
    struct arena arena;
    arena_init(&arena);
    char *out = NULL;
    *status = 3;
    bool ok = ops != NULL && results != NULL;
    for (size_t i = 0; ok && i < count; i++)
        ok = json_decode_op(json_array_get(input, i), &ops[i], &arena);
    struct cc_error err = {0};
    if (!ok) {
        error_copy(error, error_size, "out of memory");
    } else if (concord_apply(cc, ops, count, results, &err) != CC_OK) {
        error_copy(error, error_size, err.message);
        *status = cc_err_exit_status(err.code);
    } else {
        json_t *array = json_array();
        *status = 0;
        for (size_t i = 0; i < count; i++) {
            json_array_append_new(array, json_encode_result(i, &ops[i], &results[i]));
            if (!ledger_status_ok(results[i].status)) *status = 1;
        }
        out = json_dumps(array, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(array);
        if (out == NULL) {
            error_copy(error, error_size, "out of memory");
            *status = 3;
        }
    }
    arena_free(&arena);
    free(ops);
    free(results);
    json_decref(input);
    return out;
}

int concord_verify(struct concord *cc, char *error, size_t error_size)
{
    struct cc_error err = {0};
    if (concord_check(cc, &err) == CC_OK) return 0;
    error_copy(error, error_size, err.message);
    return cc_err_exit_status(err.code);
}
