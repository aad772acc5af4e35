/*
 * interop.c — OCHA FTS flow searches into the ledger (see interop.h).
 *
 * The pages are read whole first (fmt/fts.c), and checked to be one answer:
 * when FTS says how many flows the answer holds (meta.count), the pages
 * given must hold that many, so a missing page is an error rather than a
 * quiet shortfall. A flow repeated across pages (FTS pages can overlap when
 * the data changes between requests) is taken once. The flows then go to the
 * ledger as `fts_flow` operations in one batch (app/domain_fts.c maps them),
 * oldest version first, and the summary reads each flow's recorded version
 * back from the store.
 */
#include "app/interop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "fmt/fts.h"
#include "fmt/json.h"
#include "util/arena.h"

/* Orders flows by id then version, so a batch supersedes in FTS's order. */
static int flow_order(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    return fts_flow_compare(json_string_value(json_object_get(x, "flow")),
                            json_integer_value(json_object_get(x, "version")),
                            json_string_value(json_object_get(y, "flow")),
                            json_integer_value(json_object_get(y, "version")));
}

/* Reads every page into one sorted, de-duplicated array of operations. */
static enum cc_err read_pages(const struct interop_input *inputs, size_t count, json_t **out,
                              struct fts_page *first, struct cc_error *err)
{
    json_t *ops = json_array();
    int64_t expected = -1;
    const char *expected_from = NULL;
    memset(first, 0, sizeof *first);
    for (size_t i = 0; i < count; i++) {
        json_error_t jerr;
        struct json_place too_big = {0, 0};
        json_t *root = inputs[i].value != NULL
                           ? json_incref((json_t *)inputs[i].value)
                           : json_parse_text(inputs[i].text, inputs[i].length, &jerr, &too_big,
                                             NULL);
        if (root == NULL) {
            json_decref(ops);
            if (too_big.line != 0)
                return cc_error_set(err, CC_ERR_INPUT, "%s:%d:%d: a number beyond 64 bits",
                                    inputs[i].name, too_big.line, too_big.column);
            return cc_error_set(err, CC_ERR_INPUT, "%s:%d:%d: not JSON: %s", inputs[i].name,
                                jerr.line, jerr.column, jerr.text);
        }
        struct fts_page page;
        char message[FTS_MESSAGE_BYTES];
        bool ok = fts_read(root, ops, &page, message, sizeof message);
        json_decref(root);
        if (!ok) {
            json_decref(ops);
            return cc_error_set(err, CC_ERR_INPUT, "%s: %s", inputs[i].name, message);
        }
        if (page.first) { /* every page repeats the search's totals: they must agree */
            if (first->first && (first->incoming_flows != page.incoming_flows ||
                                 first->incoming_funding != page.incoming_funding ||
                                 first->incoming_pledges != page.incoming_pledges)) {
                json_decref(ops);
                return cc_error_set(err, CC_ERR_INPUT,
                                    "%s: data.incoming differs from the other pages': one "
                                    "import takes the pages of one search",
                                    inputs[i].name);
            }
            *first = page;
        }
        if (page.count >= 0) {
            if (expected >= 0 && page.count != expected) {
                json_decref(ops);
                return cc_error_set(err, CC_ERR_INPUT,
                                    "%s: meta.count is %lld, %s's is %lld: the pages are not of "
                                    "one search",
                                    inputs[i].name, (long long)page.count, expected_from,
                                    (long long)expected);
            }
            expected = page.count;
            expected_from = inputs[i].name;
        }
    }
    size_t n = json_array_size(ops);
    json_t **sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (sorted == NULL) {
        json_decref(ops);
        return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) sorted[i] = json_array_get(ops, i);
    qsort(sorted, n, sizeof *sorted, flow_order);
    json_t *unique = json_array();
    size_t flows = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && flow_order(&sorted[i - 1], &sorted[i]) == 0) {
            if (!json_equal(sorted[i - 1], sorted[i])) {
                json_t *id = json_object_get(sorted[i], "id");
                free(sorted);
                json_decref(unique);
                json_decref(ops);
                return cc_error_set(err, CC_ERR_INPUT,
                                    "flow version %s appears twice with different contents",
                                    json_string_value(id));
            }
            continue;
        }
        if (i == 0 || strcmp(json_string_value(json_object_get(sorted[i - 1], "flow")),
                             json_string_value(json_object_get(sorted[i], "flow"))) != 0)
            flows++;
        json_array_append(unique, sorted[i]);
    }
    free(sorted);
    json_decref(ops);
    if (expected >= 0 && (int64_t)flows != expected) {
        json_decref(unique);
        return cc_error_set(err, CC_ERR_INPUT,
                            "meta.count says the search found %lld flows; the %zu page%s given "
                            "hold%s %zu: give every page of the answer (meta.nextLink)",
                            (long long)expected, count, count == 1 ? "" : "s",
                            count == 1 ? "s" : "", flows);
    }
    *out = unique;
    return CC_OK;
}

/* One transfer's figures. */
struct money {
    int64_t amount;
    uint8_t state;
    char kind[16];
};

/*
 * The newest recorded version of a flow and the record that holds its money
 * (fmt/fts.h: FTS's own, else the table's unless FTS's replaced it).
 */
struct recorded {
    const char *prefix;
    struct fts_held held;
    struct money flow, table; /* of the newest version's records */
    bool money;               /* after the scan: `kept` holds the flow's money */
    struct money kept;
};

static int recorded_fn(void *ctx, const struct ledger_transfer *t)
{
    struct recorded *r = ctx;
    int64_t k;
    enum fts_record kind;
    if (!fts_record_of(t->id, r->prefix, &k, &kind)) return 0;
    fts_held_add(&r->held, k, kind);
    if (k != r->held.latest || (kind != FTS_RECORD_FLOW && kind != FTS_RECORD_TABLE)) return 0;
    struct money *m = kind == FTS_RECORD_FLOW ? &r->flow : &r->table;
    m->amount = t->amount;
    m->state = t->state;
    snprintf(m->kind, sizeof m->kind, "%s", t->kind != NULL ? t->kind : "");
    return 0;
}

/* After the scan: which record, if any, holds the money. */
static void recorded_settle(struct recorded *r)
{
    r->money = r->held.flow || (r->held.table && !r->held.table_undone);
    if (r->money) r->kept = r->held.flow ? r->flow : r->table;
}

/* Dollars as JSON: an integer when whole (as FTS gives its totals), else a decimal. */
static json_t *usd(__int128 cents)
{
    if (cents % 100 == 0) return json_integer((json_int_t)(cents / 100));
    return json_real((double)cents / 100.0);
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

struct tally {
    size_t flows;
    __int128 funding, pledges; /* cents */
};

static enum cc_err summarize(struct concord *cc, const json_t *ops, const struct ledger_op *lops,
                             const struct ledger_result *results, size_t offset,
                             const struct fts_page *first, json_t **summary,
                             struct cc_error *err)
{
    struct tally in = {0}, internal = {0}, out = {0};
    size_t flows = 0, created = 0, superseded = 0, stale = 0, zero = 0;
    json_t *rejected = json_array();
    size_t i;
    const json_t *op;
    json_array_foreach(ops, i, op) {
        const struct ledger_result *r = &results[offset + i];
        const char *flow = json_string_value(json_object_get(op, "flow"));
        int64_t version = json_integer_value(json_object_get(op, "version"));
        if (!ledger_status_ok(r->status)) {
            json_array_append_new(rejected,
                                  json_pack("{s:s,s:s,s:s?}", "id", lops[offset + i].id, "status",
                                            ledger_status_name(r->status), "message",
                                            r->message));
            continue;
        }
        if (r->records != NULL && r->records[0] != '\0') {
            /* The transfers this operation created: the version, and any correction. */
            for (const char *p = r->records; *p;) {
                size_t n = strcspn(p, " ");
                if (ends_with(p, n, FTS_SUPERSEDES) || ends_with(p, n, FTS_TABLE_SUPERSEDED))
                    superseded++;
                else if (n > 0)
                    created++;
                p += n + (p[n] == ' ');
            }
        }
        /* Figures per flow, not per version: only a flow's last version in the files counts. */
        const json_t *next = json_array_get(ops, i + 1);
        if (next != NULL && strcmp(json_string_value(json_object_get(next, "flow")), flow) == 0)
            continue;
        flows++;
        char prefix[64];
        snprintf(prefix, sizeof prefix, "fts.%s.v", flow);
        struct recorded rec = {.prefix = prefix};
        enum cc_err rc = cc->store->driver->transfers_id_prefix(cc->store, prefix, recorded_fn,
                                                                 &rec, err);
        if (rc != CC_OK) {
            json_decref(rejected);
            return rc;
        }
        recorded_settle(&rec);
        if (rec.held.latest > version) stale++;
        const char *boundary = json_string_value(json_object_get(op, "boundary"));
        bool single = strcmp(json_string_value(json_object_get(op, "on_boundary")), "single") == 0;
        struct tally *t = strcmp(boundary, "incoming") == 0   ? &in
                          : strcmp(boundary, "outgoing") == 0 ? &out
                                                              : &internal;
        t->flows++;
        /* The newest version moved nothing (0 USD): it may have undone an older one. */
        if (!rec.money) {
            zero++;
            continue;
        }
        if (!single) continue; /* FTS counts a flow shared across the boundary in no total */
        if (rec.kept.state == LEDGER_STATE_PENDING && strcmp(rec.kept.kind, "pledge") == 0)
            t->pledges += rec.kept.amount;
        else if (rec.kept.state == LEDGER_STATE_POSTED &&
                 (strcmp(rec.kept.kind, "commitment") == 0 || strcmp(rec.kept.kind, "paid") == 0))
            t->funding += rec.kept.amount;
    }
    json_t *s = json_pack(
        "{s:I,s:{s:I,s:o,s:o},s:{s:I},s:{s:I,s:o},s:{s:I,s:I},s:I,s:I,s:o}", "flows",
        (json_int_t)flows, "incoming", "flows", (json_int_t)in.flows, "funding_usd",
        usd(in.funding), "pledges_usd", usd(in.pledges), "internal", "flows",
        (json_int_t)internal.flows, "outgoing", "flows", (json_int_t)out.flows, "funding_usd",
        usd(out.funding), "transfers", "created", (json_int_t)created, "superseded",
        (json_int_t)superseded, "stale", (json_int_t)stale, "zero_usd", (json_int_t)zero,
        "rejected", rejected);
    if (first->first)
        json_object_set_new(s, "reported_by_fts",
                            json_pack("{s:{s:I,s:I,s:I}}", "incoming", "flows",
                                      (json_int_t)first->incoming_flows, "funding_usd",
                                      (json_int_t)first->incoming_funding, "pledges_usd",
                                      (json_int_t)first->incoming_pledges));
    *summary = s;
    return CC_OK;
}

enum cc_err interop_commit_usd(struct concord *cc, const json_t *ops, const char *key,
                               struct interop_batch *b, struct cc_error *err)
{
    memset(b, 0, sizeof *b);
    arena_init(&b->arena);
    struct ledger_unit unit;
    char unit_name[LEDGER_NAME_BYTES_MAX + 1];
    struct cc_error uerr = {0};
    enum cc_err rc = concord_unit_get(cc, "USD", &unit, unit_name, sizeof unit_name, &uerr);
    bool make_usd = rc == CC_ERR_NOT_FOUND;
    if (rc != CC_OK && !make_usd) {
        *err = uerr;
        return rc;
    }
    if (!make_usd && unit.scale != 2)
        return cc_error_set(err, CC_ERR_INPUT,
                            "the ledger's USD has scale %d; imported funding is recorded in "
                            "cents (scale 2)",
                            unit.scale);
    b->offset = make_usd ? 1 : 0;
    b->count = json_array_size(ops) + b->offset;
    b->ops = calloc(b->count ? b->count : 1, sizeof *b->ops);
    b->results = calloc(b->count ? b->count : 1, sizeof *b->results);
    if (b->ops == NULL || b->results == NULL)
        return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    if (make_usd) {
        b->ops[0].type = LEDGER_OP_UNIT;
        b->ops[0].id = "USD";
        b->ops[0].name = "US dollar";
        b->ops[0].scale = 2;
        b->ops[0].flags = LEDGER_OP_HAS_SCALE;
    }
    for (size_t i = b->offset; i < b->count; i++) {
        const json_t *op = json_array_get(ops, i - b->offset);
        if (key != NULL) op = json_object_get(op, key);
        if (!json_decode_op(op, &b->ops[i], &b->arena))
            return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    }
    return concord_apply(cc, b->ops, b->count, b->results, err);
}

void interop_batch_free(struct interop_batch *b)
{
    arena_free(&b->arena);
    free(b->ops);
    free(b->results);
    memset(b, 0, sizeof *b);
}

enum cc_err concord_import_fts(struct concord *cc, const struct interop_input *inputs,
                               size_t count, json_t **summary, struct cc_error *err)
{
    *summary = NULL;
    if (count == 0) return cc_error_set(err, CC_ERR_USAGE, "import fts: no file given");
    json_t *ops = NULL;
    struct fts_page first;
    enum cc_err rc = read_pages(inputs, count, &ops, &first, err);
    if (rc != CC_OK) return rc;

    struct interop_batch batch;
    rc = interop_commit_usd(cc, ops, NULL, &batch, err);
    if (rc == CC_OK)
        rc = summarize(cc, ops, batch.ops, batch.results, batch.offset, &first, summary, err);
    interop_batch_free(&batch);
    json_decref(ops);
    return rc;
}
