/*
 * routes.c — the one table of HTTP routes, their handlers, and the OpenAPI
 * document generated from the table (so the two cannot disagree).
 *
 * A handler reads its request (path id, query, body), calls the use cases
 * with the store connection it was lent, and leaves a status and a JSON
 * answer in the request. Shapes are the CLI's --json shapes exactly.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "app/interop.h"
#include "app/interop_hxl.h"
#include "app/interop_iati.h"
#include "app/log.h"
#include "app/report.h"
#include "app/report_domain.h"
#include "fmt/fts.h"
#include "fmt/json.h"
#include "fmt/proof.h"
#include "http/http.h"
#include "util/timefmt.h"

/* ---------------------------------------------------------------- answers */

void http_error(struct http_request *request, unsigned status, const char *code,
                const char *fmt, ...)
{
    char message[CC_ERROR_MESSAGE_BYTES_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    json_decref(request->json);
    request->status = status;
    /* Bytes a caller sent that are not UTF-8 (a name, a path) are shown as \xNN, not lost. */
    request->json = json_pack("{s:{s:s, s:o}}", "error", "code", code, "message",
                              json_text(message));
}

void http_error_from(struct http_request *request, const struct cc_error *err)
{
    switch (err->code) {
    case CC_ERR_NOT_FOUND: http_error(request, 404, "not_found", "%s", err->message); return;
    case CC_ERR_USAGE:
    case CC_ERR_INPUT:
    case CC_ERR_REJECTED: http_error(request, 400, "bad_request", "%s", err->message); return;
    case CC_ERR_NOMEM: http_error(request, 503, "overloaded", "%s", err->message); return;
    case CC_ERR_BUSY: /* another process writing (a long import): worth another try */
        http_error(request, 503, "busy", "%s", err->message);
        request->retry = true;
        return;
    case CC_ERR_UNAUTHORIZED:
        http_error(request, 401, "unauthorized", "%s", err->message);
        return;
    case CC_ERR_FORBIDDEN: http_error(request, 403, "forbidden", "%s", err->message); return;
    case CC_OK:
    case CC_ERR_STORE:
    case CC_ERR_SYSTEM: break;
    }
    http_error(request, 500, "internal", "%s", err->message);
}

static void answer(struct http_request *request, json_t *json)
{
    request->status = 200;
    request->json = json;
}

const char *http_query(const struct http_request *request, const char *name)
{
    return MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND, name);
}

/* An optional date query argument "through the end of that day"; false after an error. */
static bool query_through(struct http_request *request, const char *name, int64_t *out)
{
    const char *text = http_query(request, name);
    *out = INT64_MAX;
    if (text == NULL || text[0] == '\0') return true;
    if (time_parse_through(text, out)) return true;
    http_error(request, 400, "bad_request",
               "%s: expected a date (YYYY-MM-DD) or an RFC 3339 date-time", name);
    return false;
}

/* The `in` query argument: a unit code, or NULL when absent or empty. */
static const char *query_unit(const struct http_request *request)
{
    const char *in = http_query(request, "in");
    return in != NULL && in[0] != '\0' ? in : NULL;
}

/*
 * The `dry_run` query argument of the imports: true, false or absent; false
 * after an error. `?dry_run` and `?dry_run=` are refused, not read as false:
 * a caller who meant a dry run must not get a real import.
 */
static bool query_dry_run(struct http_request *request, bool *out)
{
    static const char name[] = "dry_run";
    const char *text = NULL;
    size_t length = 0;
    *out = false;
    if (MHD_lookup_connection_value_n(request->connection, MHD_GET_ARGUMENT_KIND, name,
                                      sizeof name - 1, &text, &length) != MHD_YES)
        return true;
    if (text != NULL && strcmp(text, "true") == 0) {
        *out = true;
        return true;
    }
    if (text != NULL && strcmp(text, "false") == 0) return true;
    http_error(request, 400, "bad_request", "dry_run: expected true or false");
    return false;
}

static bool query_limit(struct http_request *request, uint32_t *out)
{
    const char *text = http_query(request, "limit");
    *out = HTTP_PAGE_LIMIT_DEFAULT;
    if (text == NULL || text[0] == '\0') return true;
    char *end;
    long v = strtol(text, &end, 10);
    if (*end != '\0' || v < 1 || v > HTTP_PAGE_LIMIT_MAX) {
        http_error(request, 400, "bad_request", "limit: expected an integer in 1 … %d",
                   HTTP_PAGE_LIMIT_MAX);
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

/* ---------------------------------------------------------------- bodies */

/*
 * Parses a request body; NULL after answering 400 with the line and column.
 * A number beyond 64 bits refuses the whole body: it is one JSON text.
 */
static json_t *body_parse(struct http_request *request)
{
    json_error_t jerr;
    struct json_place too_big;
    json_t *value = json_parse_text(request->body ? request->body : "", request->body_length,
                                    &jerr, &too_big, NULL);
    if (value != NULL) return value;
    if (too_big.line != 0)
        http_error(request, 400, "bad_request",
                   "line %d, column %d: a number does not fit 64 bits; nothing was committed",
                   too_big.line, too_big.column);
    else
        http_error(request, 400, "bad_request", "line %d, column %d: %s", jerr.line,
                   jerr.column, jerr.text);
    return NULL;
}

/* ---------------------------------------------------------------- batch */

static void h_batch(struct http_request *request, struct concord *cc)
{
    json_t *input = body_parse(request);
    if (input == NULL) return;
    if (!json_is_array(input)) {
        json_decref(input);
        http_error(request, 400, "bad_request", "expected a JSON array of operations");
        return;
    }
    size_t count = json_array_size(input);
    if (count > HTTP_BATCH_OPS_MAX) {
        json_decref(input);
        http_error(request, 413, "payload_too_large", "%zu operations: at most %d per batch",
                   count, HTTP_BATCH_OPS_MAX);
        return;
    }
    struct ledger_op *ops = calloc(count ? count : 1, sizeof *ops);
    struct ledger_result *results = calloc(count ? count : 1, sizeof *results);
    struct arena arena;
    arena_init(&arena);
    bool ok = ops != NULL && results != NULL;
    for (size_t i = 0; ok && i < count; i++)
        ok = json_decode_op(json_array_get(input, i), &ops[i], &arena);
    struct cc_error err = {0};
    if (!ok) {
        http_error(request, 503, "overloaded", "out of memory decoding the batch");
    } else if (concord_apply(cc, ops, count, results, &err) != CC_OK) {
        http_error_from(request, &err);
    } else {
        json_t *array = json_array();
        for (size_t i = 0; i < count; i++)
            json_array_append_new(array, json_encode_result(i, &ops[i], &results[i]));
        answer(request, array);
    }
    arena_free(&arena);
    free(ops);
    free(results);
    json_decref(input);
}

/* ---------------------------------------------------------------- imports */

/* The pages of one FTS search, together; a country's year is ~2 MB. Each page is read a
   flow at a time; a body whose pages cannot be told apart by its brackets is parsed whole
   (jansson builds its tree, some fifteen times the text), so kept where that fits in memory. */
#define HTTP_FTS_BYTES_MAX (UINT64_C(32) << 20)
#define HTTP_HXL_BYTES_MAX ((uint64_t)HXL_FILE_BYTES_MAX) /* one table, as the command takes */
#define HTTP_IATI_BYTES_MAX HTTP_IMPORT_BYTES_MAX      /* streamed: memory stays bounded */
#define HTTP_IATI_SCHEMA_ENV "CONCORD_IATI_SCHEMA"     /* the server's path to the XSD */

/* An import route's spooled body, whole, NUL-terminated; NULL (answered) when it cannot be. */
static char *body_read(struct http_request *request)
{
    char *text = malloc(request->body_length + 1);
    if (text == NULL) {
        http_error(request, 503, "overloaded", "out of memory reading the body");
        return NULL;
    }
    if (fread(text, 1, request->body_length, request->body_file) != request->body_length) {
        free(text);
        http_error(request, 503, "overloaded", "the body could not be read back");
        return NULL;
    }
    text[request->body_length] = '\0';
    return text;
}

/*
 * Pages as texts within the body: each read a flow at a time, as the command
 * reads a file, its tree never built. A page refused is read whole to word
 * the refusal as it always was (reread: the route's limit bounds its tree),
 * and a body the import refuses as input is parsed as any body is first, so
 * that one that is not JSON gets the reply every route gives it.
 */
static void import_fts_texts(struct http_request *request, struct concord *cc, char *text,
                             const struct interop_input *inputs, size_t count, bool dry_run)
{
    json_t *summary = NULL;
    struct cc_error err = {0};
    enum cc_err rc = concord_import_fts(cc, inputs, count, dry_run, &summary, &err);
    if (rc == CC_OK) {
        answer(request, summary);
        return;
    }
    if (rc == CC_ERR_INPUT) {
        request->body = text;
        json_t *body = body_parse(request); /* not JSON: answered there */
        request->body = NULL;
        if (body == NULL) return;
        json_decref(body);
    }
    http_error_from(request, &err);
}

/*
 * POST /v1/import/fts: one page of an FTS flow search answer, or a JSON array
 * of its pages (all pages of one search, as `concord import fts` takes them).
 */
static void h_import_fts(struct http_request *request, struct concord *cc)
{
    bool dry_run;
    if (!query_dry_run(request, &dry_run)) return;
    char *text = body_read(request);
    if (text == NULL) return;
    struct interop_input inputs[INTEROP_FILES_MAX];
    char names[INTEROP_FILES_MAX][32]; /* "page [N]" */
    if (text[strspn(text, " \t\r\n")] == '{') {
        inputs[0] = (struct interop_input){.name = "the body", .text = text,
                                           .length = request->body_length, .reread = true};
        import_fts_texts(request, cc, text, inputs, 1, dry_run);
        free(text);
        return;
    }
    struct fts_span spans[INTEROP_FILES_MAX];
    size_t count;
    if (fts_pages_split(text, request->body_length, spans, INTEROP_FILES_MAX, &count)) {
        for (size_t i = 0; i < count; i++) {
            snprintf(names[i], sizeof names[i], "page [%zu]", i);
            inputs[i] = (struct interop_input){.name = names[i], .text = text + spans[i].start,
                                               .length = spans[i].length, .reread = true};
        }
        import_fts_texts(request, cc, text, inputs, count, dry_run);
        free(text);
        return;
    }
    request->body = text; /* read back from its file: parsed as any body is */
    json_t *body = body_parse(request);
    if (body == NULL) {
        request->body = NULL;
        free(text);
        return;
    }
    count = json_is_array(body) ? json_array_size(body) : 1;
    if (count == 0 || count > INTEROP_FILES_MAX) {
        request->body = NULL;
        free(text);
        json_decref(body);
        http_error(request, 400, "bad_request", "expected an FTS answer or an array of 1 to %d "
                   "of its pages", INTEROP_FILES_MAX);
        return;
    }
    /* The pages as parsed: the importer reads them as they are, not as text again. */
    for (size_t i = 0; i < count; i++) {
        if (json_is_array(body)) snprintf(names[i], sizeof names[i], "page [%zu]", i);
        else snprintf(names[i], sizeof names[i], "the body");
        inputs[i] = (struct interop_input){
            .name = names[i], .value = json_is_array(body) ? json_array_get(body, i) : body};
    }
    json_t *summary = NULL;
    struct cc_error err = {0};
    if (concord_import_fts(cc, inputs, count, dry_run, &summary, &err) != CC_OK)
        http_error_from(request, &err);
    else
        answer(request, summary);
    json_decref(body);
    request->body = NULL;
    free(text);
}

/* POST /v1/import/iati: an IATI 2.03 activity file, streamed from its spooled body. */
static void h_import_iati(struct http_request *request, struct concord *cc)
{
    const char *schema = getenv(HTTP_IATI_SCHEMA_ENV);
    if (schema == NULL || schema[0] == '\0') {
        http_error(request, 503, "unavailable", "this server was started without the IATI "
                   "schema: set %s to iati-activities-schema.xsd", HTTP_IATI_SCHEMA_ENV);
        return;
    }
    bool dry_run;
    if (!query_dry_run(request, &dry_run)) return;
    struct interop_iati_input input = {.name = "the body", .file = request->body_file};
    json_t *summary = NULL;
    struct cc_error err = {0};
    enum cc_err rc = concord_import_iati(cc, &input, 1, schema, dry_run, &summary, &err);
    if (rc == CC_ERR_USAGE) /* of one body, only the server's schema can be wrong */
        http_error(request, 503, "unavailable", "%s", err.message);
    else if (rc != CC_OK)
        http_error_from(request, &err);
    else
        answer(request, summary);
}

/*
 * Every problem found, not only the first, so that a table is fixed in one
 * pass: the error's `problems`, each as the command prints it, and `more`,
 * how many were found beyond those listed. (The message, one line, is
 * shorter than the problems of a table.)
 */
static void import_problems(struct http_request *request, const struct hxl_problems *problems)
{
    json_t *error = json_object_get(request->json, "error");
    json_t *listed = json_array();
    if (error == NULL || listed == NULL) {
        json_decref(listed);
        return;
    }
    for (uint32_t i = 0; i < problems->listed; i++)
        json_array_append_new(listed, json_text(problems->text[i]));
    json_object_set_new(error, "problems", listed);
    json_object_set_new(error, "more", json_integer(problems->count - problems->listed));
}

/* POST /v1/import/hxl: an HXL-tagged table (CSV, TSV or semicolons). */
static void h_import_hxl(struct http_request *request, struct concord *cc)
{
    bool dry_run;
    if (!query_dry_run(request, &dry_run)) return;
    char *text = body_read(request);
    if (text == NULL) return;
    struct hxl_problems *problems = calloc(1, sizeof *problems);
    json_t *summary = NULL;
    struct cc_error err = {0};
    const char *selector = http_query(request, "selector");
    struct interop_input input = {.name = "the body", .text = text,
                                  .length = request->body_length,
                                  .selector = selector != NULL && *selector ? selector : NULL};
    if (problems == NULL) {
        http_error(request, 503, "overloaded", "out of memory");
    } else if (concord_import_hxl(cc, &input, dry_run, &summary, problems, &err) != CC_OK) {
        http_error_from(request, &err);
        if (err.code == CC_ERR_INPUT) import_problems(request, problems);
    } else {
        answer(request, summary);
    }
    free(problems);
    free(text);
}

/* An export's bytes, gathered in memory, as the answer in their media type. */
struct export_buffer {
    char *bytes;
    size_t length;
    FILE *stream;
};

static bool export_write(void *ctx, const char *bytes, size_t length)
{
    struct export_buffer *b = ctx;
    return fwrite(bytes, 1, length, b->stream) == length;
}

static void export_answer(struct http_request *request, struct export_buffer *b, enum cc_err rc,
                          const struct cc_error *err, const char *type)
{
    bool closed = fclose(b->stream) == 0;
    if (rc != CC_OK) {
        free(b->bytes);
        http_error_from(request, err);
        return;
    }
    if (!closed) {
        free(b->bytes);
        http_error(request, 503, "overloaded", "out of memory writing the export");
        return;
    }
    request->status = 200;
    request->raw = b->bytes;
    request->raw_length = b->length;
    request->raw_type = type;
}

static bool export_open(struct http_request *request, struct export_buffer *b)
{
    *b = (struct export_buffer){0};
    b->stream = open_memstream(&b->bytes, &b->length);
    if (b->stream == NULL) http_error(request, 503, "overloaded", "out of memory");
    return b->stream != NULL;
}

/* GET /v1/export/iati: the ledger's funding as IATI 2.03. */
static void h_export_iati(struct http_request *request, struct concord *cc)
{
    struct export_buffer b;
    if (!export_open(request, &b)) return;
    struct cc_error err = {0};
    enum cc_err rc = concord_export_iati(cc, http_query(request, "activity_prefix"), export_write,
                                         &b, &err);
    export_answer(request, &b, rc, &err, "application/xml");
}

/* GET /v1/export/hxl and /v1/export/csv: transfers, balances or gaps as a table. */
static void export_table(struct http_request *request, struct concord *cc, bool hxl)
{
    const char *what = http_query(request, "what");
    struct export_request e = {.hxl = hxl, .prefix = http_query(request, "prefix")};
    if (what != NULL && strcmp(what, "transfers") == 0) e.what = EXPORT_TRANSFERS;
    else if (what != NULL && strcmp(what, "balances") == 0) e.what = EXPORT_BALANCES;
    else if (what != NULL && strcmp(what, "gaps") == 0) e.what = EXPORT_GAPS;
    else {
        http_error(request, 400, "bad_request", "what: transfers, balances or gaps");
        return;
    }
    if (e.prefix != NULL && e.prefix[0] == '\0') e.prefix = NULL;
    if (!query_through(request, "at", &e.at)) return;
    if (e.at != INT64_MAX && e.what == EXPORT_TRANSFERS) {
        http_error(request, 400, "bad_request", "at: applies to balances and gaps");
        return;
    }
    struct export_buffer b;
    if (!export_open(request, &b)) return;
    struct cc_error err = {0};
    enum cc_err rc = concord_export(cc, &e, b.stream, &err);
    export_answer(request, &b, rc, &err, "text/csv; charset=utf-8");
}

static void h_export_hxl(struct http_request *request, struct concord *cc)
{
    export_table(request, cc, true);
}

static void h_export_csv(struct http_request *request, struct concord *cc)
{
    export_table(request, cc, false);
}

/* ---------------------------------------------------------------- accounts, transfers */

static int one_account(void *ctx, const struct ledger_account *account)
{
    *(json_t **)ctx = json_encode_account(account);
    return 0;
}

static void h_account(struct http_request *request, struct concord *cc)
{
    json_t *json = NULL;
    struct cc_error err = {0};
    if (concord_account_get(cc, request->id, one_account, &json, &err) != CC_OK)
        http_error_from(request, &err);
    else
        answer(request, json);
}

struct account_page {
    const char *unit, *owner;
    uint32_t limit;     /* rows wanted */
    json_t *rows;       /* up to limit + 1: one more tells there is a next page */
    struct concord_scan scan; /* how far the store was read, matching or not */
};

static int account_page_row(void *ctx, const struct ledger_account *a)
{
    struct account_page *p = ctx;
    if (p->unit != NULL && strcmp(a->unit, p->unit) != 0) return 0;
    if (p->owner != NULL && (a->owner == NULL || strcmp(a->owner, p->owner) != 0)) return 0;
    json_array_append_new(p->rows, json_encode_account(a));
    return json_array_size(p->rows) > p->limit; /* one more than asked: stop */
}

static void h_accounts(struct http_request *request, struct concord *cc)
{
    struct account_page page = {.unit = http_query(request, "unit"),
                                .owner = http_query(request, "owner"), .rows = json_array()};
    if (!query_limit(request, &page.limit)) {
        json_decref(page.rows);
        return;
    }
    const char *prefix = http_query(request, "prefix");
    const char *after = http_query(request, "after");
    snprintf(page.scan.last, sizeof page.scan.last, "%s", after ? after : "");
    struct cc_error err = {0};
    /* Filters (and the actor's party) may skip rows: read pages of the index until enough match. */
    for (;;) {
        char from[sizeof page.scan.last];
        snprintf(from, sizeof from, "%s", page.scan.last);
        if (concord_accounts_page(cc, prefix ? prefix : "", from, page.limit + 1,
                                  account_page_row, &page, &page.scan, &err) != CC_OK) {
            json_decref(page.rows);
            http_error_from(request, &err);
            return;
        }
        if (json_array_size(page.rows) > page.limit || page.scan.read < page.limit + 1) break;
    }
    json_t *next = json_null();
    if (json_array_size(page.rows) > page.limit) {
        json_array_remove(page.rows, page.limit);
        next = json_incref(json_object_get(json_array_get(page.rows, page.limit - 1), "id"));
    }
    answer(request, json_pack("{s:o, s:o}", "accounts", page.rows, "next", next));
}

static int one_transfer(void *ctx, const struct ledger_transfer *transfer)
{
    *(json_t **)ctx = json_encode_transfer(transfer);
    return 0;
}

static int transfer_seq(void *ctx, const struct ledger_transfer *transfer)
{
    *(int64_t *)ctx = transfer->seq;
    return 0;
}

static int transfer_row(void *ctx, const struct ledger_transfer *transfer)
{
    json_array_append_new(ctx, json_encode_transfer(transfer));
    return 0;
}

static void h_account_transfers(struct http_request *request, struct concord *cc)
{
    struct store_history_query q = {.account = request->id, .since = INT64_MIN};
    uint32_t limit;
    const char *since = http_query(request, "since");
    bool date_only;
    if (!query_limit(request, &limit) || !query_through(request, "until", &q.until)) return;
    if (since != NULL && since[0] != '\0' && !time_parse(since, &q.since, &date_only)) {
        http_error(request, 400, "bad_request",
                   "since: expected a date (YYYY-MM-DD) or an RFC 3339 date-time");
        return;
    }
    struct cc_error err = {0};
    const char *after = http_query(request, "after");
    if (after != NULL && after[0] != '\0' &&
        concord_transfer_get(cc, after, transfer_seq, &q.after_seq, &err) != CC_OK) {
        http_error(request, 400, "bad_request", "after: %s", err.message);
        return;
    }
    q.limit = limit + 1; /* one more tells there is a next page */
    json_t *rows = json_array();
    if (concord_history(cc, &q, transfer_row, rows, &err) != CC_OK) {
        json_decref(rows);
        http_error_from(request, &err);
        return;
    }
    json_t *next = json_null();
    if (json_array_size(rows) > limit) {
        json_array_remove(rows, limit);
        next = json_incref(json_object_get(json_array_get(rows, limit - 1), "id"));
    }
    answer(request, json_pack("{s:o, s:o}", "transfers", rows, "next", next));
}

static void h_transfer(struct http_request *request, struct concord *cc)
{
    json_t *json = NULL;
    struct cc_error err = {0};
    if (concord_transfer_get(cc, request->id, one_transfer, &json, &err) != CC_OK)
        http_error_from(request, &err);
    else
        answer(request, json);
}

/* ---------------------------------------------------------------- balances */

struct balances {
    json_t *rows;
    bool with_accounts;
    int64_t at;
    struct concord *cc;
};

static int balance_row(void *ctx, const struct store_balance *b)
{
    struct balances *bs = ctx;
    json_array_append_new(bs->rows, json_encode_balance(b, bs->with_accounts));
    return 0;
}

static enum cc_err account_balance(void *ctx, const char *id, const char *unit,
                                   struct cc_error *err)
{
    (void)unit;
    struct balances *bs = ctx;
    return concord_balance(bs->cc, id, bs->at, balance_row, bs, err);
}

/* Units a prefix holds, collected from its per-unit sums. */
#define HTTP_UNITS_PER_SUM_MAX 256

struct units_seen {
    char codes[HTTP_UNITS_PER_SUM_MAX][LEDGER_UNIT_CODE_BYTES_MAX + 1];
    uint32_t count;
    bool overflow;
};

static int unit_seen(void *ctx, const struct store_balance *b)
{
    struct units_seen *u = ctx;
    if (u->count == sizeof u->codes / sizeof u->codes[0]) {
        u->overflow = true; /* never drop a unit from a sum silently */
        return 1;
    }
    snprintf(u->codes[u->count++], sizeof u->codes[0], "%s", b->unit);
    return 0;
}

/* Adds b into sum; false when a figure would pass 2^63−1. */
static bool balance_sum(struct store_balance *sum, const struct store_balance *b)
{
    sum->accounts += b->accounts;
    return !__builtin_add_overflow(sum->debits_pending, b->debits_pending, &sum->debits_pending) &&
           !__builtin_add_overflow(sum->debits_posted, b->debits_posted, &sum->debits_posted) &&
           !__builtin_add_overflow(sum->credits_pending, b->credits_pending,
                                   &sum->credits_pending) &&
           !__builtin_add_overflow(sum->credits_posted, b->credits_posted, &sum->credits_posted);
}

struct converted_rows {
    json_t *rows;
    int64_t at;
    const char *in;
    struct concord *cc;
};

static enum cc_err account_converted(void *ctx, const char *id, const char *unit,
                                     struct cc_error *err)
{
    struct converted_rows *each = ctx;
    struct store_balance one = {0};
    enum cc_err rc = report_balance_in(each->cc, id, false, unit, each->at, each->in, &one, err);
    one.id = id;
    if (rc == CC_OK) json_array_append_new(each->rows, json_encode_balance(&one, false));
    return rc;
}

/* GET /v1/balances?in=: every figure converted into one unit. */
static void balances_in(struct http_request *request, struct concord *cc, const char *prefix,
                        int64_t at, const char *in)
{
    struct cc_error err = {0};
    json_t *rows = json_array();
    enum cc_err rc = CC_OK;
    if (prefix != NULL) {
        struct units_seen units = {.count = 0};
        rc = concord_balance_prefix(cc, prefix, at, unit_seen, &units, &err);
        if (rc == CC_OK && units.overflow)
            rc = cc_error_set(&err, CC_ERR_USAGE, "more than %d units under %s: convert fewer",
                              HTTP_UNITS_PER_SUM_MAX, prefix);
        struct store_balance sum = {.id = prefix, .unit = in};
        for (uint32_t i = 0; rc == CC_OK && i < units.count; i++) {
            struct store_balance one = {0};
            rc = report_balance_in(cc, prefix, true, units.codes[i], at, in, &one, &err);
            if (rc == CC_OK && !balance_sum(&sum, &one))
                rc = cc_error_set(&err, CC_ERR_REJECTED, "the sum in %s exceeds 2^63-1", in);
        }
        if (rc == CC_OK && units.count > 0) json_array_append_new(rows, json_encode_balance(&sum, true));
    } else {
        struct converted_rows each = {.rows = rows, .at = at, .in = in, .cc = cc};
        rc = concord_accounts_each(cc, "", account_converted, &each, &err);
    }
    if (rc != CC_OK) {
        json_decref(rows);
        http_error_from(request, &err);
        return;
    }
    answer(request, rows);
}

static void h_balances(struct http_request *request, struct concord *cc)
{
    struct cc_error err = {0};
    struct balances bs = {.rows = json_array()};
    if (!query_through(request, "at", &bs.at)) {
        json_decref(bs.rows);
        return;
    }
    const char *prefix = http_query(request, "prefix");
    const char *in = http_query(request, "in");
    if (in != NULL && in[0] != '\0') {
        json_decref(bs.rows);
        balances_in(request, cc, prefix, bs.at, in);
        return;
    }
    enum cc_err rc;
    if (prefix != NULL) {
        bs.with_accounts = true;
        rc = concord_balance_prefix(cc, prefix, bs.at, balance_row, &bs, &err);
    } else {
        bs.cc = cc;
        rc = concord_accounts_each(cc, "", account_balance, &bs, &err);
    }
    if (rc != CC_OK) {
        json_decref(bs.rows);
        http_error_from(request, &err);
        return;
    }
    answer(request, bs.rows);
}

/* ---------------------------------------------------------------- conditions and reports */

static void h_conditions(struct http_request *request, struct concord *cc)
{
    struct ledger_view view;
    ledger_view_init(&view);
    struct cc_error err = {0};
    if (concord_conditions(cc, &view, &err) != CC_OK)
        http_error_from(request, &err);
    else
        answer(request, json_encode_conditions(&view));
    ledger_view_free(&view);
}

static void h_requirements(struct http_request *request, struct concord *cc)
{
    struct ledger_view view;
    ledger_view_init(&view);
    struct cc_error err = {0};
    if (concord_requirements(cc, &view, &err) != CC_OK)
        http_error_from(request, &err);
    else
        answer(request, json_encode_requirements(&view));
    ledger_view_free(&view);
}

static int party_row(void *ctx, const struct ledger_party *party)
{
    json_array_append_new(ctx, json_encode_party(party));
    return 0;
}

static void h_parties(struct http_request *request, struct concord *cc)
{
    json_t *rows = json_array();
    struct cc_error err = {0};
    if (concord_parties_list(cc, party_row, rows, &err) != CC_OK) {
        json_decref(rows);
        http_error_from(request, &err);
        return;
    }
    answer(request, rows);
}

/* The caller, as its token names it: the dashboard shows and offers what it may. */
static void h_me(struct http_request *request, struct concord *cc)
{
    const struct auth_actor *a = &cc->actor;
    answer(request, json_encode_caller(a->user, auth_role_name(a->role), a->party,
                                       auth_may_write(a), auth_reads_everything(a)));
}

static int unit_row(void *ctx, const struct ledger_unit *unit)
{
    json_array_append_new(ctx, json_encode_unit(unit));
    return 0;
}

static void h_units(struct http_request *request, struct concord *cc)
{
    json_t *rows = json_array();
    struct cc_error err = {0};
    if (concord_units_list(cc, unit_row, rows, &err) != CC_OK) {
        json_decref(rows);
        http_error_from(request, &err);
        return;
    }
    answer(request, rows);
}

static void h_gaps(struct http_request *request, struct concord *cc)
{
    int64_t at;
    if (!query_through(request, "at", &at)) return;
    struct report report;
    struct cc_error err = {0};
    if (report_gaps(cc, at, query_unit(request), &report, &err) != CC_OK)
        http_error_from(request, &err);
    else
        answer(request, report_gaps_json(&report));
    report_free(&report);
}

/* A report of the mission's domain, as `concord report NAME --json`. */
static void domain_report(struct http_request *request, struct concord *cc, const char *name)
{
    int64_t at;
    if (!query_through(request, "at", &at)) return;
    json_t *report;
    struct cc_error err = {0};
    if (report_domain_source(cc, name, at, http_query(request, "source"), &report, &err) !=
        CC_OK)
        http_error_from(request, &err);
    else
        answer(request, report);
}

static void h_report_funding(struct http_request *request, struct concord *cc)
{
    domain_report(request, cc, "funding");
}

static void h_report_force(struct http_request *request, struct concord *cc)
{
    domain_report(request, cc, "force");
}

static void h_report_aid(struct http_request *request, struct concord *cc)
{
    domain_report(request, cc, "aid");
}

static void h_report_overview(struct http_request *request, struct concord *cc)
{
    domain_report(request, cc, "overview");
}

static void h_scenario(struct http_request *request, struct concord *cc)
{
    json_t *body = body_parse(request);
    if (body == NULL) return;
    json_t *assume = json_object_get(body, "assume");
    json_t *in = json_object_get(body, "in");
    struct report_assumption assumptions[REPORT_ASSUMPTIONS_MAX];
    uint32_t count = 0;
    const char *key;
    json_t *value;
    bool ok = json_is_object(body) && (assume == NULL || json_is_object(assume)) &&
              (in == NULL || json_is_string(in));
    json_object_foreach(body, key, value) {
        if (strcmp(key, "assume") != 0 && strcmp(key, "in") != 0) ok = false;
    }
    if (ok && assume != NULL) {
        json_object_foreach(assume, key, value) {
            enum cond_state state;
            if (count == REPORT_ASSUMPTIONS_MAX || !json_is_string(value) ||
                !cond_state_parse(json_string_value(value), &state) || state == COND_OPEN) {
                ok = false;
                break;
            }
            assumptions[count++] = (struct report_assumption){.name = key, .state = state};
        }
    }
    if (!ok) {
        json_decref(body);
        http_error(request, 400, "bad_request",
                   "expected {\"assume\":{\"NAME\":\"met\"|\"failed\", …}, \"in\":\"UNIT\"} "
                   "(at most %d assumptions)", REPORT_ASSUMPTIONS_MAX);
        return;
    }
    struct report report;
    struct cc_error err = {0};
    if (report_scenario(cc, assumptions, count, json_string_value(in), &report, &err) != CC_OK)
        http_error_from(request, &err);
    else
        answer(request, report_scenario_json(&report, assumptions, count));
    report_free(&report);
    json_decref(body);
}

static void h_forecast(struct http_request *request, struct concord *cc)
{
    struct cond_forecast_options options = {.samples = COND_SAMPLES_DEFAULT, .seed = 1};
    const char *samples = http_query(request, "samples"), *seed = http_query(request, "seed");
    char *end;
    if (samples != NULL) {
        unsigned long long v = strtoull(samples, &end, 10);
        if (end == samples || *end != '\0' || v < 1 || v > COND_SAMPLES_MAX) {
            http_error(request, 400, "bad_request", "samples: expected 1 … %d",
                       COND_SAMPLES_MAX);
            return;
        }
        options.samples = (uint32_t)v;
    }
    if (seed != NULL) {
        options.seed = strtoull(seed, &end, 10);
        if (end == seed || *end != '\0') {
            http_error(request, 400, "bad_request", "seed: expected an integer");
            return;
        }
    }
    struct report report;
    struct cc_error err = {0};
    if (report_forecast(cc, &options, query_unit(request), &report, &err) != CC_OK)
        http_error_from(request, &err);
    else
        answer(request, report_forecast_json(&report));
    report_free(&report);
}

static int balance_ignore(void *ctx, const struct store_balance *b)
{
    (void)ctx;
    (void)b;
    return 0;
}

static void h_health(struct http_request *request, struct concord *cc)
{
    struct cc_error err = {0};
    /* Every invariant would take long; the store's own row and a sum over accounts do not. */
    int64_t last;
    enum cc_err rc = cc->store->driver->timestamp_last(cc->store, &last, &err);
    if (rc == CC_OK) rc = concord_balance_prefix(cc, "", INT64_MAX, balance_ignore, NULL, &err);
    if (rc != CC_OK)
        http_error(request, 503, "unavailable", "the store does not answer: %s", err.message);
    else
        answer(request, json_pack("{s:s}", "status", "ok"));
}

static void h_openapi(struct http_request *request, struct concord *cc)
{
    (void)cc;
    answer(request, http_openapi());
}

/* The dashboard's files (files.c): no store, no data. */
static void h_file(struct http_request *request, struct concord *cc)
{
    (void)cc;
    http_file_answer(request);
}

/* ---------------------------------------------------------------- the audit log */

static json_t *checkpoint_object(const struct concord_checkpoint *c)
{
    char time[TIME_TEXT_BYTES];
    time_format(c->time, time);
    return json_pack("{s:I, s:o, s:s, s:s}", "size", (json_int_t)c->size, "root",
                     proof_hash_encode(c->root), "time", time, "checkpoint", c->note);
}

static void h_audit_checkpoint(struct http_request *request, struct concord *cc)
{
    struct concord_checkpoint c;
    struct cc_error err = {0};
    if (concord_log_checkpoint(cc, 0, &c, &err) != CC_OK)
        http_error_from(request, &err);
    else
        answer(request, checkpoint_object(&c));
}

/* The verifier key: with it alone, anyone can check checkpoints and proofs. */
static void h_audit_key(struct http_request *request, struct concord *cc)
{
    struct audit_verifier verifier;
    struct cc_error err = {0};
    char text[AUDIT_KEY_TEXT_BYTES_MAX];
    if (concord_key_verifier(cc, &verifier, &err) != CC_OK)
        http_error_from(request, &err);
    else if (!audit_verifier_format(&verifier, text, sizeof text))
        http_error(request, 500, "store_error", "cannot format the verifier key");
    else
        answer(request, json_pack("{s:s, s:s}", "name", verifier.name, "verifier", text));
}

/* The proof of a transfer (/v1/audit/proof/{id}) or of event {id} itself. */
static void audit_proof_answer(struct http_request *request, struct concord *cc, bool of_event)
{
    struct proof *proof = malloc(sizeof *proof);
    struct cc_error err = {0};
    if (proof == NULL) {
        http_error(request, 503, "overloaded", "out of memory");
        return;
    }
    enum cc_err rc;
    if (of_event) {
        char *end;
        errno = 0;
        long long seq = strtoll(request->id, &end, 10);
        if (errno != 0 || end == request->id || *end != '\0' || seq < 1) {
            free(proof);
            http_error(request, 400, "bad_request", "seq: expected an integer ≥ 1");
            return;
        }
        rc = concord_log_event_proof(cc, seq, proof, &err);
    } else {
        rc = concord_log_proof(cc, request->id, proof, &err);
    }
    if (rc != CC_OK) {
        http_error_from(request, &err);
    } else {
        answer(request, proof_encode(proof));
        proof_free(proof);
    }
    free(proof);
}

static void h_audit_proof(struct http_request *request, struct concord *cc)
{
    audit_proof_answer(request, cc, false);
}

static void h_audit_event_proof(struct http_request *request, struct concord *cc)
{
    audit_proof_answer(request, cc, true);
}

/* An optional query argument that is a count ≥ 0 (a seq or a size); false after answering 400. */
static bool query_count(struct http_request *request, const char *name, int64_t *out)
{
    const char *text = http_query(request, name);
    *out = 0;
    if (text == NULL || text[0] == '\0') return true;
    char *end;
    long long v = strtoll(text, &end, 10);
    if (*end != '\0' || v < 0 || v == LLONG_MAX) {
        http_error(request, 400, "bad_request", "%s: expected an integer ≥ 0", name);
        return false;
    }
    *out = v;
    return true;
}

static void h_audit_consistency(struct http_request *request, struct concord *cc)
{
    int64_t from, to;
    if (!query_count(request, "from", &from) || !query_count(request, "to", &to)) return;
    if (from < 1) {
        http_error(request, 400, "bad_request", "from: required, a checkpoint size ≥ 1");
        return;
    }
    struct concord_consistency *c = malloc(sizeof *c);
    struct cc_error err = {0};
    enum cc_err rc = c != NULL ? concord_log_consistency(cc, from, to, c, &err)
                               : cc_error_set(&err, CC_ERR_NOMEM, "out of memory");
    if (rc != CC_OK)
        http_error_from(request, &err);
    else
        answer(request, proof_consistency_encode(
                            (uint64_t)c->from.size, (uint64_t)c->to.size,
                            (const uint8_t(*)[AUDIT_HASH_BYTES])c->hashes, c->count,
                            c->from.note, c->to.note));
    free(c);
}

static int event_row(void *ctx, const struct store_event *e)
{
    json_t *rows = ctx;
    char time[TIME_TEXT_BYTES];
    time_format(e->time, time);
    json_error_t jerr;
    json_t *event = json_loadb(e->body, e->body_size, JSON_REJECT_DUPLICATES, &jerr);
    json_t *actor = json_loads(e->actor, JSON_REJECT_DUPLICATES, &jerr);
    uint8_t leaf[AUDIT_HASH_BYTES] = {0};
    if (e->leaf_size == sizeof leaf) memcpy(leaf, e->leaf, sizeof leaf);
    json_array_append_new(rows, json_pack("{s:I, s:s, s:o, s:o, s:o}", "seq", (json_int_t)e->seq,
                                          "time", time, "actor", actor ? actor : json_null(),
                                          "leaf_hash", proof_hash_encode(leaf), "event",
                                          event ? event : json_null()));
    return 0;
}

static void h_audit_events(struct http_request *request, struct concord *cc)
{
    int64_t after;
    uint32_t limit;
    if (!query_count(request, "after", &after) || !query_limit(request, &limit)) return;
    json_t *rows = json_array();
    struct cc_error err = {0};
    if (concord_log_events(cc, after, limit, event_row, rows, &err) != CC_OK) {
        json_decref(rows);
        http_error_from(request, &err);
        return;
    }
    json_t *next = json_null();
    if (json_array_size(rows) == limit)
        next = json_incref(json_object_get(json_array_get(rows, limit - 1), "seq"));
    answer(request, json_pack("{s:o, s:o}", "events", rows, "next", next));
}

/* ---------------------------------------------------------------- the table */

/*
 * Roles: who may use each route (the OpenAPI document lists them as x-roles).
 * Reads are every role's, the rows they return filtered by app/ (an editor or
 * viewer sees its party's accounts and transfers); a batch is the writers',
 * each operation then judged by auth_authorize. Routes under /v1/audit/ are
 * AUTH_ROLES_AUDIT plus, for viewers and editors, what auth_audit_path_allowed
 * grants (the server applies it to any such route). The health check, the
 * OpenAPI document and the dashboard's files (files.c) need no token.
 */
#define READERS AUTH_ROLES_READERS
#define WRITERS AUTH_ROLES_WRITERS
#define AUDIT AUTH_ROLES_AUDIT
#define ANYONE AUTH_ANONYMOUS

const struct http_route http_routes[] = {
    {"POST", "/v1/batch", h_batch, WRITERS, true, false, "submitBatch",
     "Commit a batch of operations", NULL, "Operations", "Results", 0, NULL},
    {"POST", "/v1/import/fts", h_import_fts, WRITERS, true, false, "importFts",
     "Import an OCHA FTS flow search (one page, or an array of its pages)", "dry_run",
     "FtsAnswer", "FtsImportSummary", HTTP_FTS_BYTES_MAX, "application/json"},
    {"POST", "/v1/import/iati", h_import_iati, WRITERS, true, false, "importIati",
     "Import an IATI 2.03 activity file (validated against the official schema)", "dry_run",
     "IatiActivities", "IatiImportSummary", HTTP_IATI_BYTES_MAX, "application/xml text/xml"},
    {"POST", "/v1/import/hxl", h_import_hxl, WRITERS, true, false, "importHxl",
     "Import an HXL-tagged table of funding flows", "selector dry_run", "HxlTable",
     "HxlImportSummary", HTTP_HXL_BYTES_MAX, "text/csv text/tab-separated-values text/plain"},
    {"GET", "/v1/export/iati", h_export_iati, AUDIT, false, false, "exportIati",
     "The ledger's funding as IATI 2.03 activities", "activity_prefix", NULL, "application/xml",
     0, NULL},
    {"GET", "/v1/export/hxl", h_export_hxl, READERS, false, false, "exportHxl",
     "Transfers, balances or gaps as CSV with an HXL hashtag row", "what prefix at", NULL,
     "text/csv", 0, NULL},
    {"GET", "/v1/export/csv", h_export_csv, READERS, false, false, "exportCsv",
     "Transfers, balances or gaps as CSV (RFC 4180)", "what prefix at", NULL, "text/csv", 0,
     NULL},
    {"GET", "/v1/accounts", h_accounts, READERS, false, false, "listAccounts",
     "List accounts in id order", "prefix unit owner limit after", NULL, "AccountPage", 0, NULL},
    {"GET", "/v1/accounts/{id}/transfers", h_account_transfers, READERS, false, false,
     "listAccountTransfers", "An account's transfers, oldest first", "since until limit after",
     NULL, "TransferPage", 0, NULL},
    {"GET", "/v1/accounts/{id}", h_account, READERS, false, false, "getAccount",
     "One account with its balances", NULL, NULL, "Account", 0, NULL},
    {"GET", "/v1/transfers/{id}", h_transfer, READERS, false, true, "getTransfer",
     "One transfer with its state", NULL, NULL, "Transfer", 0, NULL},
    {"GET", "/v1/balances", h_balances, READERS, false, false, "getBalances",
     "Balances of every account, or per unit under a prefix, as of a date", "prefix at in",
     NULL, "Balances", 0, NULL},
    {"GET", "/v1/conditions", h_conditions, READERS, false, false, "listConditions",
     "The conditions and their states", NULL, NULL, "Conditions", 0, NULL},
    {"GET", "/v1/requirements", h_requirements, READERS, false, false, "listRequirements",
     "The requirements", NULL, NULL, "Requirements", 0, NULL},
    {"GET", "/v1/me", h_me, READERS, false, false, "getCaller",
     "Who the token is: user, role, party and what it may do", NULL, NULL, "Caller", 0, NULL},
    {"GET", "/v1/parties", h_parties, READERS, false, false, "listParties",
     "The parties of the mission", NULL, NULL, "Parties", 0, NULL},
    {"GET", "/v1/units", h_units, READERS, false, false, "listUnits",
     "The units and their scales", NULL, NULL, "Units", 0, NULL},
    {"GET", "/v1/gaps", h_gaps, READERS, false, false, "getGaps",
     "What each requirement still lacks", "at in", NULL, "Gaps", 0, NULL},
    {"POST", "/v1/scenario", h_scenario, READERS, false, false, "runScenario",
     "Low and high under assumptions", NULL, "Assumptions", "Scenario", 0, NULL},
    {"GET", "/v1/forecast", h_forecast, READERS, false, false, "getForecast",
     "How likely each requirement is to be met", "samples seed in", NULL, "Forecast", 0, NULL},
    {"GET", "/v1/reports/funding", h_report_funding, READERS, false, false, "getFundingReport",
     "The pooled fund: pledged, committed, disbursed, spent", "at source", NULL, "Report", 0,
     NULL},
    {"GET", "/v1/reports/force", h_report_force, READERS, false, false, "getForceReport",
     "Force generation: persons per stage, training, deployment, reimbursement", "at", NULL,
     "Report", 0, NULL},
    {"GET", "/v1/reports/aid", h_report_aid, READERS, false, false, "getAidReport",
     "The aid pipeline: stock, crossings, dwell times, delivery, losses", "at", NULL, "Report", 0, NULL},
    {"GET", "/v1/reports/overview", h_report_overview, READERS, false, false,
     "getOverviewReport", "The mission at a glance: funding, force and aid from one reading",
     "at", NULL, "Report", 0, NULL},
    {"GET", "/v1/audit/checkpoint", h_audit_checkpoint, READERS, false, false,
     "getAuditCheckpoint", "The latest signed checkpoint of the audit log", NULL, NULL,
     "Checkpoint", 0, NULL},
    {"GET", "/v1/audit/key", h_audit_key, READERS, false, false, "getAuditKey",
     "The verifier key of the audit log's signatures", NULL, NULL, "VerifierKey", 0, NULL},
    {"GET", "/v1/audit/proof/{id}", h_audit_proof, READERS, false, true, "getAuditProof",
     "The inclusion proof of the event that created a transfer", NULL, NULL, "Proof", 0, NULL},
    {"GET", "/v1/audit/events/{id}/proof", h_audit_event_proof, AUDIT, false, false,
     "getAuditEventProof", "The inclusion proof of an event, with its text", NULL, NULL,
     "Proof", 0, NULL},
    {"GET", "/v1/audit/consistency", h_audit_consistency, READERS, false, false,
     "getAuditConsistency", "The consistency proof between two checkpoints", "from to", NULL,
     "Consistency", 0, NULL},
    {"GET", "/v1/audit/events", h_audit_events, AUDIT, false, false, "listAuditEvents",
     "The audit log's events, oldest first", "after limit", NULL, "EventPage", 0, NULL},
    {"GET", "/healthz", h_health, ANYONE, false, false, "getHealth", "Whether the store answers",
     NULL, NULL, "Health", 0, NULL},
    {"GET", "/v1/openapi.json", h_openapi, ANYONE, false, false, "getOpenApi", "This document",
     NULL, NULL, "OpenAPI", 0, NULL},
    {"GET", "/", h_file, ANYONE, false, false, "getDashboard", "The dashboard's page", NULL,
     NULL, "text/html", 0, NULL},
    {"GET", "/assets/{path}", h_file, ANYONE, false, true, "getDashboardAsset",
     "A file of the dashboard: script, style sheet, image, font", NULL, NULL, "*/*", 0, NULL},
    {NULL, NULL, NULL, 0, false, false, NULL, NULL, NULL, NULL, NULL, 0, NULL},
};

/*
 * Does path match pattern? A {name} segment matches one non-empty segment
 * into id — or, for a route whose id takes the rest, the whole rest of the
 * path: transfer ids may hold '/' (the ledger's own "p-1/expiry"), and the
 * server receives %2F already decoded.
 */
static bool pattern_match(const char *pattern, bool id_rest, const char *path, char *id,
                          size_t id_size)
{
    const char *p = pattern, *s = path;
    while (*p != '\0') {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            bool rest = id_rest && close != NULL && close[1] == '\0';
            const char *end = rest ? NULL : strchr(s, '/');
            size_t n = end ? (size_t)(end - s) : strlen(s);
            if (close == NULL || n == 0 || n >= id_size) return false;
            memcpy(id, s, n);
            id[n] = '\0';
            p = close + 1;
            s += n;
            continue;
        }
        if (*p != *s) return false;
        p++;
        s++;
    }
    return *s == '\0';
}

const struct http_route *http_route_find(const char *method, const char *path, char *id,
                                         size_t id_size, bool *path_known, char *allow,
                                         size_t allow_size)
{
    *path_known = false;
    allow[0] = '\0';
    for (const struct http_route *r = http_routes; r->method != NULL; r++) {
        if (!pattern_match(r->pattern, r->id_rest, path, id, id_size)) continue;
        if (strcmp(r->method, method) == 0) return r;
        *path_known = true;
        if (strstr(allow, r->method) != NULL) continue; /* each method once */
        size_t n = strlen(allow);
        snprintf(allow + n, allow_size - n, "%s%s", n ? ", " : "", r->method);
    }
    return NULL;
}

/* ---------------------------------------------------------------- OpenAPI */

static json_t *parameter(const char *name, const char *in, const char *description)
{
    const char *type = strcmp(name, "limit") == 0 || strcmp(name, "samples") == 0 ||
                               strcmp(name, "seed") == 0
                           ? "integer"
                       : strcmp(name, "dry_run") == 0 ? "boolean"
                                                      : "string";
    return json_pack("{s:s, s:s, s:b, s:s, s:{s:s}}", "name", name, "in", in, "required",
                     strcmp(in, "path") == 0, "description", description, "schema", "type",
                     type);
}

static const char *query_description(const char *name)
{
    static const struct {
        const char *name, *text;
    } texts[] = {
        {"prefix", "accounts under this prefix (dots make the hierarchy)"},
        {"unit", "only accounts of this unit"},
        {"owner", "only accounts of this party"},
        {"limit", "rows per page (1 … 1000, default 100)"},
        {"after", "the cursor: the `next` of the previous page"},
        {"from", "the size of the older checkpoint"},
        {"to", "the size of the newer checkpoint (default: the latest)"},
        {"since", "effective date from (YYYY-MM-DD or RFC 3339)"},
        {"until", "effective date through (a bare date includes the whole day)"},
        {"at", "as of this effective date (a bare date includes the whole day)"},
        {"source", "only funding from this source: fts, iati, hxl (imported) or mission"},
        {"what", "the table: transfers, balances or gaps"},
        {"selector", "HXL as JSON: the member holding the rows (libhxl's selector)"},
        {"dry_run", "true: do the whole import, record nothing, and answer what it would record"},
        {"activity_prefix", "the organisation identifier the exported activities' ids start with"},
        {"in", "report in this unit, converting each transfer at its effective date"},
        {"samples", "Monte Carlo samples beyond 20 open conditions"},
        {"seed", "Monte Carlo seed"},
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (strcmp(texts[i].name, name) == 0) return texts[i].text;
    return "";
}

static json_t *error_response(const char *description)
{
    return json_pack("{s:s, s:{s:{s:{s:s}}}}", "description", description, "content",
                     "application/json", "schema", "$ref", "#/components/schemas/Error");
}

/* The roles a route allows, by name; empty for a route that needs no token. */
static json_t *roles_json(uint32_t roles)
{
    json_t *names = json_array();
    for (int r = 0; r < AUTH_ROLE_COUNT; r++)
        if (roles & AUTH_ROLE_BIT(r))
            json_array_append_new(names, json_string(auth_role_name((enum auth_role)r)));
    return names;
}

/* Who may call a route: x-roles, the bearer requirement, and its 401 and 403. */
static void operation_security(json_t *op, json_t *responses, uint32_t roles)
{
    json_object_set_new(op, "x-roles", roles_json(roles));
    if (roles & AUTH_ANONYMOUS) {
        json_object_set_new(op, "security", json_array()); /* no token needed */
        return;
    }
    json_object_set_new(op, "security", json_pack("[{s:[]}]", "bearer"));
    json_object_set_new(responses, "401", error_response("no valid bearer token "
                                                         "(WWW-Authenticate: Bearer)"));
    json_object_set_new(responses, "403", error_response("the token's role may not use this "
                                                         "route, or the row is another party's"));
}

json_t *http_openapi(void)
{
    json_t *paths = json_object();
    for (const struct http_route *r = http_routes; r->method != NULL; r++) {
        json_t *item = json_object_get(paths, r->pattern);
        if (item == NULL) {
            item = json_object();
            json_object_set_new(paths, r->pattern, item);
        }
        json_t *params = json_array();
        if (strstr(r->pattern, "{id}") != NULL)
            json_array_append_new(params, parameter("id", "path", "the account or transfer id"));
        if (strstr(r->pattern, "{path}") != NULL)
            json_array_append_new(params, parameter("path", "path", "the file's path under "
                                                                    "the dashboard's assets"));
        if (r->query != NULL) {
            char names[128];
            snprintf(names, sizeof names, "%s", r->query);
            for (char *save, *q = strtok_r(names, " ", &save); q; q = strtok_r(NULL, " ", &save))
                json_array_append_new(params, parameter(q, "query", query_description(q)));
        }
        char ref[96];
        snprintf(ref, sizeof ref, "#/components/schemas/%s", r->response);
        bool file = strchr(r->response, '/') != NULL; /* a media type: an embedded file */
        json_t *responses =
            file ? json_pack("{s:{s:s, s:{s:{s:{s:s}}}}, s:{s:s}}", "200", "description",
                             "OK (ETag; gzip when Accept-Encoding takes it)", "content",
                             r->response, "schema", "type", "string", "304", "description",
                             "Not Modified (If-None-Match)")
                 : json_pack("{s:{s:s, s:{s:{s:{s:s}}}}}", "200", "description", "OK",
                             "content", "application/json", "schema", "$ref", ref);
        json_object_set_new(responses, "400", error_response("malformed request"));
        json_object_set_new(responses, "404", error_response("no such route or resource"));
        json_object_set_new(responses, "405", error_response("method not allowed (see Allow)"));
        json_object_set_new(responses, "503", error_response("overloaded"));
        json_t *op = json_pack("{s:s, s:s, s:o, s:o}", "summary", r->summary, "operationId",
                               r->operation, "parameters", params, "responses", responses);
        if (r->body != NULL) {
            snprintf(ref, sizeof ref, "#/components/schemas/%s", r->body);
            json_t *content = json_object();
            char media[128];
            snprintf(media, sizeof media, "%s", r->media ? r->media : "application/json");
            for (char *save, *m = strtok_r(media, " ", &save); m; m = strtok_r(NULL, " ", &save))
                json_object_set_new(content, m, json_pack("{s:{s:s}}", "schema", "$ref", ref));
            json_object_set_new(op, "requestBody",
                                json_pack("{s:b, s:o}", "required", 1, "content", content));
            json_object_set_new(responses, "411", error_response("Content-Length required"));
            char too_large[96];
            if (r->body_max != 0)
                snprintf(too_large, sizeof too_large, "body over %llu MiB",
                         (unsigned long long)(r->body_max >> 20));
            else
                snprintf(too_large, sizeof too_large, "body over 8 MiB or batch over 8,189 "
                                                      "operations");
            json_object_set_new(responses, "413", error_response(too_large));
            json_object_set_new(responses, "415", error_response(r->media ? "not of the media "
                                                                             "types listed"
                                                                           : "not application/json"));
        }
        operation_security(op, responses, r->roles);
        json_object_set_new(item, strcmp(r->method, "POST") == 0 ? "post" : "get", op);
    }
    json_t *schemas = json_object();
    static const struct {
        const char *name, *type;
    } kinds[] = {
        {"Operations", "array"}, {"Results", "array"},
        {"FtsAnswer", "object"}, {"FtsImportSummary", "object"},
        {"IatiActivities", "string"}, {"IatiImportSummary", "object"},
        {"HxlTable", "string"}, {"HxlImportSummary", "object"},        {"AccountPage", "object"},
        {"Account", "object"},   {"TransferPage", "object"},  {"Transfer", "object"},
        {"Balances", "array"},   {"Conditions", "array"},     {"Requirements", "array"},
        {"Gaps", "array"},       {"Assumptions", "object"},   {"Scenario", "object"},
        {"Forecast", "object"},  {"Health", "object"},        {"OpenAPI", "object"},
        {"Parties", "array"},    {"Units", "array"},
        {"Checkpoint", "object"}, {"Proof", "object"},     {"Consistency", "object"},
        {"EventPage", "object"},  {"VerifierKey", "object"}, {"Caller", "object"},
        {"Report", "object"},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        json_object_set_new(schemas, kinds[i].name,
                            json_pack("{s:s, s:s}", "type", kinds[i].type, "description",
                                      "as described in docs/API.md and docs/OPERATIONS.md"));
    /* One page of the answer, or an array of its pages. */
    json_object_set_new(json_object_get(schemas, "FtsAnswer"), "type",
                        json_pack("[s, s]", "object", "array"));
    json_object_set_new(schemas, "Error",
                        json_pack("{s:s, s:{s:{s:s, s:{s:{s:s}, s:{s:s}}}}}", "type", "object",
                                  "properties", "error", "type", "object", "properties", "code",
                                  "type", "string", "message", "type", "string"));
    /* POST /v1/import/hxl's refusal lists every problem of the table. */
    json_t *error_fields = json_object_get(
        json_object_get(json_object_get(json_object_get(schemas, "Error"), "properties"),
                        "error"),
        "properties");
    json_object_set_new(error_fields, "problems",
                        json_pack("{s:s, s:{s:s}, s:s}", "type", "array", "items", "type",
                                  "string", "description", "import hxl: the problems, up to 50"));
    json_object_set_new(error_fields, "more",
                        json_pack("{s:s, s:s}", "type", "integer", "description",
                                  "import hxl: the problems found beyond those listed"));
    json_t *schemes = json_pack("{s:{s:s, s:s, s:s}}", "bearer", "type", "http", "scheme",
                                "bearer", "description",
                                "an access token from `concord token create` "
                                "(Authorization: Bearer cct_…)");
    return json_pack("{s:s, s:{s:s, s:s}, s:o, s:[{s:[]}], s:{s:o, s:o}}", "openapi", "3.1.0",
                     "info", "title", "concord", "version", "0.1.0", "paths", paths, "security",
                     "bearer", "components", "schemas", schemas, "securitySchemes", schemes);
}
