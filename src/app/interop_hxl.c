/*
 * interop_hxl.c — HXL tables of funding into the ledger, and the ledger out
 * as CSV or HXL (see interop_hxl.h; docs/INTEROP.md has the mappings).
 *
 * The import follows `import fts` (app/interop.c): read everything first,
 * commit batches of HXL_BATCH_ROWS that make one group (all or nothing),
 * read the ledger back for the summary after each. Before the first batch
 * it does what needs the whole file or the ledger's names:
 *
 *   - rows giving one FTS flow's version twice are taken once when they say
 *     the same and refused when they differ, but where one is concord's
 *     export of the table's record that FTS's own replaced: FTS's is taken;
 *     FTS rows go in flow and version order, so that a newer version
 *     supersedes in the batch;
 *   - an FTS row's organisations, which HDX's tables give by name only, are
 *     matched to the FTS organisation ids the ledger knows (the names of the
 *     accounts fts.org.<id>.given/.received that `import fts` made): a name
 *     held by exactly one id gets it, and the row then moves that
 *     organisation's accounts; any other name is an hxl.org.<slug> account.
 *
 * The export reads as the actor. Transfers are gathered from the histories
 * of the accounts under the prefix — each transfer once, at its debit
 * account when that account is exported, else at its credit — and written
 * in the order the ledger recorded them.
 */
#include "app/interop_hxl.h"

#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/report.h"
#include "fmt/csv_out.h"
#include "fmt/fts.h"
#include "fmt/json.h"
#include "util/amount.h"
#include "util/arena.h"
#include "util/strmap.h"
#include "util/timefmt.h"

#define EXPORT_TRANSFERS_MAX 10000000 /* rows of one transfers export (ids held in memory) */
#define EXPORT_HISTORY_PAGE STORE_LIST_LIMIT_MAX
#define ORG_NAMES_PAGE 1000           /* accounts read at a time to match names */
#define ORG_AMBIGUOUS UINT32_MAX      /* a name two FTS organisations share */

/* ================================================================ import */

/* Orders rows: FTS rows by flow and version first, then the others in file order. */
static int row_order(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    const json_t *ox = json_object_get(x, "op"), *oy = json_object_get(y, "op");
    const char *fx = json_string_value(json_object_get(ox, "flow"));
    const char *fy = json_string_value(json_object_get(oy, "flow"));
    if ((fx == NULL) != (fy == NULL)) return fx != NULL ? -1 : 1;
    if (fx != NULL) {
        int c = fts_flow_compare(fx, json_integer_value(json_object_get(ox, "version")), fy,
                                 json_integer_value(json_object_get(oy, "version")));
        if (c != 0) return c;
    }
    json_int_t rx = json_integer_value(json_object_get(x, "row"));
    json_int_t ry = json_integer_value(json_object_get(y, "row"));
    return (rx > ry) - (rx < ry);
}

static bool table_record(const json_t *row)
{
    return json_is_true(json_object_get(row, "table_record"));
}

/*
 * Sorts rows and takes each FTS flow version once; false (problems) when two
 * differ. An export of a ledger where FTS's own record of a version replaced
 * the table's (fts.<flow>.v<k>.hxl, undone by …hxl.superseded) gives both:
 * FTS's, the fuller, is the version, as in the ledger it came from.
 */
static bool rows_prepare(json_t *rows, const char *name, json_t **out,
                         struct hxl_problems *problems)
{
    size_t n = json_array_size(rows);
    json_t **sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (sorted == NULL) {
        hxl_problem(problems, "%s: out of memory", name);
        return false;
    }
    for (size_t i = 0; i < n; i++) sorted[i] = json_array_get(rows, i);
    qsort(sorted, n, sizeof *sorted, row_order);
    json_t *unique = json_array();
    for (size_t i = 0; i < n; i++) {
        const json_t *op = json_object_get(sorted[i], "op");
        size_t kept = json_array_size(unique);
        const json_t *last = kept > 0 ? json_array_get(unique, kept - 1) : NULL;
        const json_t *before = json_object_get(last, "op");
        const char *id = json_string_value(json_object_get(op, "id"));
        if (before != NULL && json_object_get(op, "flow") != NULL &&
            strcmp(id, json_string_value(json_object_get(before, "id"))) == 0) {
            if (table_record(last) && !table_record(sorted[i]))
                json_array_set(unique, kept - 1, sorted[i]); /* FTS's own record */
            else if (!json_equal(op, before) && table_record(last) == table_record(sorted[i]))
                hxl_problem(problems,
                            "%s: rows %lld and %lld give FTS flow version %s differently: one "
                            "version of a flow is one set of figures",
                            name, (long long)json_integer_value(json_object_get(last, "row")),
                            (long long)json_integer_value(json_object_get(sorted[i], "row")), id);
            continue;
        }
        json_array_append(unique, sorted[i]);
    }
    free(sorted);
    if (problems->count > 0) {
        json_decref(unique);
        return false;
    }
    *out = unique;
    return true;
}

/* FTS organisations by name: the names of the accounts fts.org.<id>.given/.received. */
struct org_names {
    struct strmap by_name; /* name → index in ids, or ORG_AMBIGUOUS */
    struct arena arena;    /* names and ids */
    const char **ids;
    uint32_t count, capacity;
    char after[LEDGER_ID_BYTES_MAX + 1];
    uint32_t read;         /* accounts of the page */
    bool failed;
};

static int org_name_fn(void *ctx, const struct ledger_account *a)
{
    struct org_names *o = ctx;
    o->read++;
    snprintf(o->after, sizeof o->after, "%s", a->id);
    const char *id = a->id + strlen("fts.org.");
    size_t n = strcspn(id, ".");
    if (a->name == NULL || n == 0 || n > 18 || id[n + strspn(id + n, ".")] == '\0') return 0;
    for (size_t i = 0; i < n; i++)
        if (id[i] < '0' || id[i] > '9') return 0; /* fts.org.unspecified */
    const char *suffix = id + n;
    if (strcmp(suffix, ".given") != 0 && strcmp(suffix, ".received") != 0) return 0;
    uint32_t found;
    if (strmap_get(&o->by_name, a->name, &found)) {
        if (found != ORG_AMBIGUOUS && strncmp(o->ids[found], id, n) == 0 &&
            o->ids[found][n] == '\0')
            return 0; /* the same organisation's other account */
        if (!strmap_put(&o->by_name, a->name, ORG_AMBIGUOUS)) o->failed = true;
        return 0;
    }
    if (o->count == o->capacity) {
        uint32_t capacity = o->capacity ? o->capacity * 2 : 256;
        const char **ids = realloc(o->ids, capacity * sizeof *ids);
        if (ids == NULL) {
            o->failed = true;
            return 1;
        }
        o->ids = ids;
        o->capacity = capacity;
    }
    const char *name = arena_strdup(&o->arena, a->name);
    const char *copy = arena_strndup(&o->arena, id, n);
    if (name == NULL || copy == NULL || !strmap_put(&o->by_name, name, o->count)) {
        o->failed = true;
        return 1;
    }
    o->ids[o->count++] = copy;
    return 0;
}

static enum cc_err org_names_read(struct concord *cc, struct org_names *o, struct cc_error *err)
{
    memset(o, 0, sizeof *o);
    strmap_init(&o->by_name);
    arena_init(&o->arena);
    snprintf(o->after, sizeof o->after, "fts.org.");
    do {
        o->read = 0;
        enum cc_err rc = concord_accounts_list_any(cc, "fts.org.", o->after, ORG_NAMES_PAGE,
                                                   org_name_fn, o, err);
        if (rc != CC_OK) return rc;
        if (o->failed) return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    } while (o->read == ORG_NAMES_PAGE);
    return CC_OK;
}

static void org_names_free(struct org_names *o)
{
    strmap_free(&o->by_name);
    arena_free(&o->arena);
    free(o->ids);
}

/* Gives the FTS rows' organisations the FTS ids their names have in the ledger. */
static enum cc_err orgs_match(struct concord *cc, json_t *rows, struct cc_error *err)
{
    bool any = false;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) any |= json_object_get(json_object_get(row, "op"), "flow") != NULL;
    if (!any) return CC_OK;
    struct org_names names;
    enum cc_err rc = org_names_read(cc, &names, err);
    if (rc == CC_OK) {
        json_array_foreach(rows, i, row) {
            json_t *op = json_object_get(row, "op");
            if (json_object_get(op, "flow") == NULL) continue;
            static const char *const sides[] = {"funder", "recipient"};
            for (size_t s = 0; s < 2; s++) {
                json_t *org = json_object_get(op, sides[s]);
                uint32_t found;
                /* An id the table gives (concord's export of FTS's flows) stands. */
                if (org != NULL && json_object_get(org, "fts_id") == NULL &&
                    strmap_get(&names.by_name, json_string_value(json_object_get(org, "name")),
                               &found) &&
                    found != ORG_AMBIGUOUS)
                    json_object_set_new(org, "fts_id", json_string(names.ids[found]));
            }
        }
    }
    org_names_free(&names);
    return rc;
}

/* ---------------------------------------------------------------- import: the summary */

/* What the ledger holds for one row: its money transfer, when it moved any. */
struct held {
    const char *prefix; /* FTS rows: "fts.<flow>.v" */
    struct fts_held versions; /* FTS rows: what the flow's records say (fmt/fts.h) */
    bool money;
    int64_t amount;
    uint8_t state;
    char kind[16];
    bool shared;        /* meta.fts.on_boundary is "shared" */
};

static void held_take(struct held *h, const struct ledger_transfer *t)
{
    h->money = true;
    h->amount = t->amount;
    h->state = t->state;
    snprintf(h->kind, sizeof h->kind, "%s", t->kind != NULL ? t->kind : "");
    h->shared = false;
    json_t *meta = t->meta != NULL ? json_loads(t->meta, 0, NULL) : NULL;
    const char *on = json_string_value(json_object_get(json_object_get(meta, "fts"),
                                                       "on_boundary"));
    h->shared = on != NULL && strcmp(on, "shared") == 0;
    json_decref(meta);
}

/* The flow's records: which versions, then (held_settle) the one that holds its money. */
static int held_version_fn(void *ctx, const struct ledger_transfer *t)
{
    struct held *h = ctx;
    int64_t k;
    enum fts_record kind;
    if (fts_record_of(t->id, h->prefix, &k, &kind)) fts_held_add(&h->versions, k, kind);
    return 0;
}

static enum cc_err held_settle(struct concord *cc, struct held *h, const char *flow,
                               struct cc_error *err);

static int held_fn(void *ctx, const struct ledger_transfer *t)
{
    held_take(ctx, t);
    return 0;
}

static enum cc_err held_settle(struct concord *cc, struct held *h, const char *flow,
                               struct cc_error *err)
{
    char id[64];
    if (!fts_held_money(&h->versions, flow, id, sizeof id)) return CC_OK;
    return cc->store->driver->transfer_get(cc->store, id, held_fn, h, err);
}

/* Cents as exact dollars: "1234.50". */
static json_t *usd_text(__int128 cents)
{
    char text[48];
    bool negative = cents < 0;
    unsigned __int128 m = negative ? (unsigned __int128)(-cents) : (unsigned __int128)cents;
    unsigned long long whole_high = (unsigned long long)(m / 100 / 1000000000000000000ULL);
    unsigned long long whole_low = (unsigned long long)(m / 100 % 1000000000000000000ULL);
    unsigned part = (unsigned)(m % 100);
    if (whole_high > 0)
        snprintf(text, sizeof text, "%s%llu%018llu.%02u", negative ? "-" : "", whole_high,
                 whole_low, part);
    else
        snprintf(text, sizeof text, "%s%llu.%02u", negative ? "-" : "", whole_low, part);
    return json_string(text);
}

struct tally {
    size_t rows;
    __int128 usd;
};

static json_t *tally_json(const struct tally *t)
{
    return json_pack("{s:I,s:o}", "rows", (json_int_t)t->rows, "usd", usd_text(t->usd));
}

struct summary {
    size_t rows, recorded, exists, zero;
    uint32_t corrections; /* rows passed over: correcting entries of an export (fmt/hxl.c) */
    size_t resolved, resolved_before; /* resolution rows: posted or voided now, or before */
    uint32_t resolutions_passed_over; /* made by the exporting ledger's rules (fmt/hxl.c) */
    struct tally pledge, commitment, paid, shared;
    struct {
        size_t rows;
        __int128 funding, pledges;
    } boundary[3]; /* incoming, internal, outgoing */
};

static const char *const boundary_names[3] = {"incoming", "internal", "outgoing"};

/*
 * Adds one row's figures, read from the ledger, when `figures` (an FTS flow's
 * figures are its newest version's, counted at its last row); *money: the
 * ledger holds money for the row.
 */
static enum cc_err summary_add(struct concord *cc, struct summary *s, const json_t *op,
                               bool figures, bool *money, struct cc_error *err)
{
    const char *flow = json_string_value(json_object_get(op, "flow"));
    const char *id = json_string_value(json_object_get(op, "id"));
    struct held h = {0};
    char prefix[64];
    enum cc_err rc;
    if (flow != NULL) {
        snprintf(prefix, sizeof prefix, "fts.%s.v", flow);
        h.prefix = prefix;
        rc = cc->store->driver->transfers_id_prefix(cc->store, prefix, held_version_fn, &h, err);
        if (rc == CC_OK) rc = held_settle(cc, &h, flow, err);
    } else {
        rc = cc->store->driver->transfer_get(cc->store, id, held_fn, &h, err);
    }
    if (rc != CC_OK && rc != CC_ERR_NOT_FOUND) return rc;
    int b = -1;
    const char *boundary = json_string_value(json_object_get(op, "boundary"));
    for (int k = 0; boundary != NULL && k < 3; k++)
        if (strcmp(boundary, boundary_names[k]) == 0) b = k;
    if (b >= 0) s->boundary[b].rows++;
    *money = h.money;
    if (!h.money || !figures) return CC_OK;
    if (h.shared) { /* FTS counts a flow shared across the boundary in no total */
        s->shared.rows++;
        s->shared.usd += h.amount;
        return CC_OK;
    }
    if (h.state == LEDGER_STATE_PENDING && strcmp(h.kind, "pledge") == 0) {
        s->pledge.rows++;
        s->pledge.usd += h.amount;
        if (b >= 0) s->boundary[b].pledges += h.amount;
    } else if (h.state == LEDGER_STATE_POSTED &&
               (strcmp(h.kind, "commitment") == 0 || strcmp(h.kind, "paid") == 0)) {
        struct tally *t = strcmp(h.kind, "paid") == 0 ? &s->paid : &s->commitment;
        t->rows++;
        t->usd += h.amount;
        if (b >= 0) s->boundary[b].funding += h.amount;
    }
    return CC_OK;
}

/*
 * Rows [start, end) of the import, just committed as ops[offset…] with
 * results (their messages live until the next batch), into s.
 */
static enum cc_err summary_batch(struct concord *cc, struct summary *s, json_t *rejected,
                                 const json_t *rows, size_t start, size_t end,
                                 const struct ledger_op *lops,
                                 const struct ledger_result *results, size_t offset,
                                 struct cc_error *err)
{
    for (size_t i = start; i < end; i++) {
        const json_t *row = json_array_get(rows, i);
        const struct ledger_result *r = &results[offset + i - start];
        s->rows++;
        if (!ledger_status_ok(r->status)) {
            json_array_append_new(
                rejected, json_pack("{s:I,s:s,s:s,s:s?}", "row",
                                    (json_int_t)json_integer_value(json_object_get(row, "row")),
                                    "id", lops[offset + i - start].id, "status",
                                    ledger_status_name(r->status), "message", r->message));
            continue;
        }
        /* Rows are in flow and version order: a flow's figures count at its last row. */
        const json_t *op = json_object_get(row, "op");
        const char *flow = json_string_value(json_object_get(op, "flow"));
        const char *next = json_string_value(
            json_object_get(json_object_get(json_array_get(rows, i + 1), "op"), "flow"));
        bool figures = flow == NULL || next == NULL || strcmp(flow, next) != 0;
        bool money;
        enum cc_err rc = summary_add(cc, s, op, figures, &money, err);
        if (rc != CC_OK) return rc;
        /* Each row is one of: refused, of 0 USD, recorded now, or recorded before. */
        if (!money) s->zero++;
        else if (r->status == LEDGER_EXISTS) s->exists++;
        else s->recorded++;
    }
    return CC_OK;
}

static json_t *summary_json(const struct summary *s, const struct interop_input *input,
                            char delimiter, bool converted, json_t *rejected)
{
    char separator[2] = {delimiter, '\0'};
    json_t *by_boundary = json_object();
    for (int b = 0; b < 3; b++)
        json_object_set_new(by_boundary, boundary_names[b],
                            json_pack("{s:I,s:o,s:o}", "rows", (json_int_t)s->boundary[b].rows,
                                      "funding_usd", usd_text(s->boundary[b].funding),
                                      "pledges_usd", usd_text(s->boundary[b].pledges)));
    return json_pack(
        "{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:{s:I,s:I,s:I},s:o,s:o,s:o,s:{s:o,s:o,s:o},s:o,s:O}",
        "file",
        input->name, "delimiter", separator, "encoding", converted ? "windows-1252" : "utf-8",
        "rows", (json_int_t)s->rows, "recorded", (json_int_t)s->recorded, "exists",
        (json_int_t)s->exists, "zero_usd", (json_int_t)s->zero, "corrections",
        (json_int_t)s->corrections, "resolutions", "applied", (json_int_t)s->resolved, "exists",
        (json_int_t)s->resolved_before, "passed_over", (json_int_t)s->resolutions_passed_over,
        "funding_usd",
        usd_text(s->commitment.usd + s->paid.usd), "pledges_usd", usd_text(s->pledge.usd),
        "shared", tally_json(&s->shared), "by_status", "pledge", tally_json(&s->pledge),
        "commitment", tally_json(&s->commitment), "paid", tally_json(&s->paid), "by_boundary",
        by_boundary, "rejected", rejected);
}

/* ---------------------------------------------------------------- import */

/*
 * Rows per batch: memory holds one batch's steps, view and audit event,
 * whatever the number of rows. The batches are one group.
 */
#define HXL_BATCH_ROWS 5000

/* The FTS flow of row i, or NULL. */
static const char *row_flow(const json_t *rows, size_t i)
{
    return json_string_value(json_object_get(json_object_get(json_array_get(rows, i), "op"),
                                             "flow"));
}

struct found {
    bool found;
    int64_t amount;
};

static int found_fn(void *ctx, const struct ledger_transfer *t)
{
    struct found *f = ctx;
    f->found = true;
    f->amount = t->amount;
    return 0;
}

/*
 * A resolution row's operation made fit for this ledger; *recorded when its
 * record is here already (the same ledger's export back: nothing to do,
 * whatever fields the record was first given). The pledge it resolves is
 * named as this ledger names it: an FTS version a table gave is recorded as
 * the table's record (fts.<flow>.v<k>.hxl, fmt/fts.h) where the exporting
 * ledger had FTS's own (fts.<flow>.v<k>). A posting of the whole pledge is
 * made as one, without an amount.
 */
static enum cc_err resolution_fit(struct concord *cc, json_t *op, bool *recorded,
                                  struct cc_error *err)
{
    const struct store_driver *d = cc->store->driver;
    struct found f = {false, 0};
    enum cc_err rc = d->transfer_get(cc->store, json_string_value(json_object_get(op, "id")),
                                     found_fn, &f, err);
    *recorded = f.found;
    if (rc != CC_OK || f.found) return rc;
    const char *pending = json_string_value(json_object_get(op, "pending_id"));
    rc = d->transfer_get(cc->store, pending, found_fn, &f, err);
    char table[LEDGER_ID_BYTES_MAX + 1];
    if (rc == CC_OK && !f.found && strncmp(pending, "fts.", 4) == 0 &&
        snprintf(table, sizeof table, "%s" FTS_TABLE, pending) < (int)sizeof table) {
        rc = d->transfer_get(cc->store, table, found_fn, &f, err);
        if (rc == CC_OK && f.found && json_object_set_new(op, "pending_id", json_string(table)))
            rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    }
    const json_t *amount = json_object_get(op, "amount");
    if (rc == CC_OK && f.found && amount != NULL && json_integer_value(amount) == f.amount)
        json_object_del(op, "amount");
    return rc;
}

/*
 * The rows in batches of one group (all or nothing), USD in cents first when
 * the ledger has none (as import fts), summarized batch by batch.
 */
static enum cc_err rows_commit(struct concord *cc, const struct interop_input *input,
                               char delimiter, bool converted, uint32_t corrections,
                               const json_t *rows, json_t *resolutions,
                               uint32_t passed_over, bool dry_run, json_t **summary,
                               struct cc_error *err)
{
    struct summary s = {.corrections = corrections, .resolutions_passed_over = passed_over};
    json_t *rejected = json_array();
    if (rejected == NULL) return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    enum cc_err rc = concord_group_begin(cc, err);
    bool group = rc == CC_OK;
    size_t n = json_array_size(rows);
    for (size_t start = 0, end; rc == CC_OK && start < n; start = end) {
        end = start + HXL_BATCH_ROWS < n ? start + HXL_BATCH_ROWS : n;
        /*
         * A flow's rows (its versions, in order) stay in one batch: each row's
         * count reads the flow as its last version left it.
         */
        while (end < n && row_flow(rows, end - 1) != NULL && row_flow(rows, end) != NULL &&
               strcmp(row_flow(rows, end - 1), row_flow(rows, end)) == 0)
            end++;
        struct interop_batch batch;
        rc = interop_commit_usd(cc, rows, "op", start, end, &batch, err);
        if (rc == CC_OK)
            rc = summary_batch(cc, &s, rejected, rows, start, end, batch.ops, batch.results,
                               batch.offset, err);
        interop_batch_free(&batch);
    }
    /* The pledges' postings and voidings, once every flow is there (fmt/hxl.c). */
    json_t *todo = json_array();
    if (todo == NULL && rc == CC_OK) rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    size_t k;
    json_t *resolution;
    json_array_foreach(rc == CC_OK ? resolutions : NULL, k, resolution) {
        bool recorded;
        rc = resolution_fit(cc, json_object_get(resolution, "op"), &recorded, err);
        if (rc != CC_OK) break;
        if (recorded) s.resolved_before++;
        else if (json_array_append(todo, resolution) != 0)
            rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    }
    size_t m = json_array_size(todo);
    for (size_t start = 0, end; rc == CC_OK && start < m; start = end) {
        end = start + HXL_BATCH_ROWS < m ? start + HXL_BATCH_ROWS : m;
        struct interop_batch batch;
        rc = interop_commit_usd(cc, todo, "op", start, end, &batch, err);
        for (size_t i = start; rc == CC_OK && i < end; i++) {
            const json_t *row = json_array_get(todo, i);
            const struct ledger_result *r = &batch.results[batch.offset + i - start];
            if (r->status == LEDGER_CREATED) s.resolved++;
            else if (r->status == LEDGER_EXISTS) s.resolved_before++;
            else if (json_array_append_new(
                         rejected,
                         json_pack("{s:I,s:s,s:s,s:s?}", "row",
                                   (json_int_t)json_integer_value(json_object_get(row, "row")),
                                   "id", batch.ops[batch.offset + i - start].id, "status",
                                   ledger_status_name(r->status), "message", r->message)) != 0)
                rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
        }
        interop_batch_free(&batch);
    }
    json_decref(todo);
    if (rc == CC_OK && !dry_run) rc = concord_group_commit(cc, err);
    else if (group) concord_group_rollback(cc);
    if (rc == CC_OK) {
        *summary = summary_json(&s, input, delimiter, converted, rejected);
        if (*summary == NULL) rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
        else if (dry_run) json_object_set_new(*summary, "dry_run", json_true());
    }
    json_decref(rejected);
    return rc;
}

enum cc_err concord_import_hxl(struct concord *cc, const struct interop_input *input,
                               bool dry_run, json_t **summary, struct hxl_problems *problems,
                               struct cc_error *err)
{
    *summary = NULL;
    memset(problems, 0, sizeof *problems);
    struct hxl_table table;
    json_t *rows = json_array(), *ready = NULL, *resolutions = json_array();
    if (rows == NULL || resolutions == NULL) {
        json_decref(rows);
        json_decref(resolutions);
        return cc_error_set(err, CC_ERR_NOMEM, "%s: out of memory", input->name);
    }
    uint32_t corrections = 0;
    /* Resolutions apart: applied after every flow, in the file's order. */
    struct hxl_resolutions counted = {.ops = resolutions};
    bool ok = hxl_read_selected(input->name, input->text, input->length, input->selector,
                                &table, problems) &&
              hxl_funding_ops(&table, input->name, rows, &corrections, &counted, problems) &&
              rows_prepare(rows, input->name, &ready, problems);
    char delimiter = table.delimiter;
    bool converted = table.converted;
    hxl_table_free(&table);
    json_decref(rows);
    if (!ok) {
        json_decref(resolutions);
        return cc_error_set(err, CC_ERR_INPUT, "%s: %u problem%s: nothing recorded", input->name,
                            problems->count, problems->count == 1 ? "" : "s");
    }
    if (json_array_size(ready) + json_array_size(resolutions) + 1 > LEDGER_BATCH_OPS_MAX) {
        json_decref(resolutions);
        json_decref(ready);
        return cc_error_set(err, CC_ERR_INPUT, "%s: more than %d rows in one import",
                            input->name, LEDGER_BATCH_OPS_MAX - 1);
    }
    enum cc_err rc = orgs_match(cc, ready, err);
    if (rc == CC_OK)
        rc = rows_commit(cc, input, delimiter, converted, corrections, ready, resolutions,
                         counted.passed_over, dry_run, summary, err);
    json_decref(resolutions);
    json_decref(ready);
    return rc;
}

/* ================================================================ export */

/* One column of an export: its header, and its hashtag for HXL. */
struct export_column {
    const char *header;
    const char *tag;
};

static const struct export_column transfer_columns[] = {
    {"id", "#meta+id"},
    {"date", "#date"},
    {"debit", "#account+id+debit"},
    {"credit", "#account+id+credit"},
    {"unit", "#unit+code"},
    {"amount", "#value"},
    {"kind", "#status+text"},
    {"state", "#status+code"},
    {"pending_id", "#meta+id+pending"},
    {"memo", "#description+notes"},
    {"funder", "#org+name+funder"},
    {"recipient", "#org+name+impl"},
    {"amount_usd", "#value+funding+total+usd"},
    {"original_amount", "#value+funding+total"},
    {"currency", "#value+funding+total+currency"},
    {"rate", "#financial+fx"},
    {"ref_code", "#activity+code"},
    {"fts_flow", "#activity+id+fts_internal"},
    {"fts_version", "#meta+version"},
    {"funder_fts_id", "#org+id+funder+fts_internal"},
    {"recipient_fts_id", "#org+id+impl+fts_internal"},
    {"boundary", "#financial+direction"},
    {"on_boundary", "#financial+direction+type"},
    {"if", "#meta+condition"},
    {"recorded", "#date+recorded"},
};
enum { TRANSFER_COLUMNS = sizeof transfer_columns / sizeof transfer_columns[0] };

static const struct export_column balance_columns[] = {
    {"id", "#account+id"},
    {"name", "#account+name"},
    {"owner", "#org+id"},
    {"unit", "#unit+code"},
    {"debits_pending", "#value+debits+pending"},
    {"debits_posted", "#value+debits+posted"},
    {"credits_pending", "#value+credits+pending"},
    {"credits_posted", "#value+credits+posted"},
    {"net_posted", "#value+net+posted"},
};
enum { BALANCE_COLUMNS = sizeof balance_columns / sizeof balance_columns[0] };

static const struct export_column gap_columns[] = {
    {"id", "#indicator+code"},
    {"title", "#indicator+name"},
    {"account", "#account+id"},
    {"measure", "#indicator+measure"},
    {"unit", "#unit+code"},
    {"due", "#date+due"},
    {"target", "#indicator+num+target"},
    {"posted", "#indicator+num+posted"},
    {"pending", "#indicator+num+pending"},
    {"gap", "#indicator+num+gap"},
    {"gap_if_pending_post", "#indicator+num+gap+pending_posted"},
};
enum { GAP_COLUMNS = sizeof gap_columns / sizeof gap_columns[0] };

static void heading(struct csv_out *out, const struct export_column *columns, size_t count,
                    bool hxl)
{
    for (size_t i = 0; i < count; i++) csv_out_text(out, columns[i].header);
    csv_out_end(out);
    if (!hxl) return;
    for (size_t i = 0; i < count; i++) csv_out_text(out, columns[i].tag);
    csv_out_end(out);
}

/* Does prefix cover account id (the store's rule: P itself, under "P.", or any when P is ""
   or ends in '.')? */
static bool covered(const char *prefix, const char *id)
{
    size_t n = strlen(prefix);
    if (n == 0) return true;
    if (strncmp(id, prefix, n) != 0) return false;
    return prefix[n - 1] == '.' || id[n] == '\0' || id[n] == '.';
}

/* ---------------------------------------------------------------- export: units, parties */

struct names {
    struct strmap units;   /* code → scale */
    struct strmap parties; /* id → index in party_names */
    struct arena arena;
    const char **party_names;
    uint32_t parties_count, parties_capacity;
    bool failed;
};

static int unit_fn(void *ctx, const struct ledger_unit *u)
{
    struct names *n = ctx;
    const char *code = arena_strdup(&n->arena, u->code);
    if (code == NULL || !strmap_put(&n->units, code, (uint32_t)u->scale)) n->failed = true;
    return 0;
}

static int party_fn(void *ctx, const struct ledger_party *p)
{
    struct names *n = ctx;
    if (p->name == NULL) return 0;
    if (n->parties_count == n->parties_capacity) {
        uint32_t capacity = n->parties_capacity ? n->parties_capacity * 2 : 64;
        const char **grown = realloc(n->party_names, capacity * sizeof *grown);
        if (grown == NULL) {
            n->failed = true;
            return 1;
        }
        n->party_names = grown;
        n->parties_capacity = capacity;
    }
    const char *id = arena_strdup(&n->arena, p->id), *name = arena_strdup(&n->arena, p->name);
    if (id == NULL || name == NULL || !strmap_put(&n->parties, id, n->parties_count)) {
        n->failed = true;
        return 1;
    }
    n->party_names[n->parties_count++] = name;
    return 0;
}

static enum cc_err names_read(struct concord *cc, struct names *n, bool parties,
                              struct cc_error *err)
{
    memset(n, 0, sizeof *n);
    strmap_init(&n->units);
    strmap_init(&n->parties);
    arena_init(&n->arena);
    enum cc_err rc = concord_units_list(cc, unit_fn, n, err);
    if (rc == CC_OK && parties) rc = concord_parties_list(cc, party_fn, n, err);
    if (rc == CC_OK && n->failed) rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    return rc;
}

static void names_free(struct names *n)
{
    strmap_free(&n->units);
    strmap_free(&n->parties);
    arena_free(&n->arena);
    free(n->party_names);
}

static int32_t scale_of(const struct names *n, const char *unit, int32_t fallback)
{
    uint32_t scale;
    return unit != NULL && strmap_get(&n->units, unit, &scale) ? (int32_t)scale : fallback;
}

static void amount_cell(struct csv_out *out, int64_t minor, int32_t scale)
{
    char text[AMOUNT_TEXT_BYTES];
    amount_format(minor, scale, false, text);
    csv_out_value(out, text);
}

/* ---------------------------------------------------------------- export: transfers */

struct gathered {
    int64_t seq;
    const char *id; /* in the arena */
};

struct transfer_export {
    struct concord *cc;
    struct strmap exported; /* the accounts whose histories are read */
    struct arena arena;
    struct gathered *rows;
    size_t count, capacity;
    const char *account;    /* the account whose history is being read */
    int64_t last_seq;       /* the history's cursor */
    uint32_t page;          /* rows of this page */
    bool failed, too_many;
};

static enum cc_err account_seen(void *ctx, const char *id, const char *unit,
                                struct cc_error *err)
{
    (void)unit;
    struct transfer_export *e = ctx;
    const char *copy = arena_strdup(&e->arena, id);
    if (copy == NULL || !strmap_put(&e->exported, copy, 0))
        return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    return CC_OK;
}

static int gather_fn(void *ctx, const struct ledger_transfer *t)
{
    struct transfer_export *e = ctx;
    e->page++;
    e->last_seq = t->seq;
    uint32_t unused;
    /* Each transfer once: at its debit account, or at its credit when the debit is not read. */
    bool mine = strcmp(t->debit, e->account) == 0 ||
                (strcmp(t->credit, e->account) == 0 &&
                 !strmap_get(&e->exported, t->debit, &unused));
    if (!mine) return 0;
    if (e->count == EXPORT_TRANSFERS_MAX) {
        e->too_many = true;
        return 1;
    }
    if (e->count == e->capacity) {
        size_t capacity = e->capacity ? e->capacity * 2 : 1024;
        struct gathered *grown = realloc(e->rows, capacity * sizeof *grown);
        if (grown == NULL) {
            e->failed = true;
            return 1;
        }
        e->rows = grown;
        e->capacity = capacity;
    }
    const char *id = arena_strdup(&e->arena, t->id);
    if (id == NULL) {
        e->failed = true;
        return 1;
    }
    e->rows[e->count++] = (struct gathered){.seq = t->seq, .id = id};
    return 0;
}

static enum cc_err history_gather(void *ctx, const char *id, const char *unit,
                                  struct cc_error *err)
{
    (void)unit;
    struct transfer_export *e = ctx;
    e->account = id;
    e->last_seq = 0;
    do {
        e->page = 0;
        struct store_history_query q = {.account = id, .since = INT64_MIN, .until = INT64_MAX,
                                        .limit = EXPORT_HISTORY_PAGE, .after_seq = e->last_seq};
        enum cc_err rc = concord_history(e->cc, &q, gather_fn, e, err);
        if (rc != CC_OK) return rc;
        if (e->failed) return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
        if (e->too_many)
            return cc_error_set(err, CC_ERR_INPUT,
                                "more than %d transfers: export a narrower --prefix",
                                EXPORT_TRANSFERS_MAX);
    } while (e->page == EXPORT_HISTORY_PAGE);
    return CC_OK;
}

static int gathered_order(const void *a, const void *b)
{
    int64_t x = ((const struct gathered *)a)->seq, y = ((const struct gathered *)b)->seq;
    return (x > y) - (x < y);
}

/* A member of meta as text for a cell: strings as they are, integers in decimal. */
static const char *meta_text(const json_t *v, char *buf, size_t size)
{
    if (json_is_string(v)) return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, size, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    return NULL;
}

struct transfer_write {
    struct csv_out *out;
    const struct names *names;
};

/* The columns after the ledger's own: what meta says of the funding. */
static void funding_cells(struct csv_out *out, const struct names *names,
                          const struct ledger_transfer *t, const json_t *meta)
{
    const json_t *fts = json_object_get(meta, "fts"), *hxl = json_object_get(meta, "hxl");
    const json_t *said = fts != NULL ? fts : hxl;
    const char *funder = json_string_value(
        json_object_get(json_object_get(fts, "source"), "name"));
    if (funder == NULL)
        funder = json_string_value(json_object_get(json_object_get(hxl, "funder"), "name"));
    uint32_t party;
    const char *donor = json_string_value(json_object_get(meta, "donor"));
    if (funder == NULL && donor != NULL && strmap_get(&names->parties, donor, &party))
        funder = names->party_names[party];
    const char *recipient = json_string_value(
        json_object_get(json_object_get(fts, "destination"), "name"));
    if (recipient == NULL)
        recipient = json_string_value(json_object_get(json_object_get(hxl, "recipient"), "name"));
    /*
     * An IATI transaction names its own organisations, the provider and the
     * receiver, and its activity: the identifier is IATI's code for it, as
     * refCode is FTS's (an activity's own record carries it as identifier).
     */
    const char *code = json_string_value(json_object_get(said, "ref_code"));
    const json_t *source = json_object_get(meta, "source");
    if (json_is_string(source) && strcmp(json_string_value(source), "iati") == 0) {
        if (code == NULL) code = json_string_value(json_object_get(meta, "activity"));
        if (code == NULL) code = json_string_value(json_object_get(meta, "identifier"));
        if (funder == NULL)
            funder = json_string_value(json_object_get(json_object_get(meta, "provider"), "name"));
        if (recipient == NULL)
            recipient =
                json_string_value(json_object_get(json_object_get(meta, "receiver"), "name"));
    }
    csv_out_prose(out, funder);
    csv_out_prose(out, recipient);
    const json_t *usd = json_object_get(meta, "usd_amount");
    if (json_is_integer(usd)) amount_cell(out, json_integer_value(usd), 2);
    else if (strcmp(t->unit, "USD") == 0) amount_cell(out, t->amount, scale_of(names, "USD", 2));
    else csv_out_value(out, NULL);
    /* The original amount: FTS's and HXL's as written; a pledge's in its currency's cents. */
    char buf[32];
    const json_t *original = json_object_get(said, "original_amount");
    const json_t *currency = json_object_get(said != NULL ? said : meta, "currency");
    if (original == NULL) original = json_object_get(meta, "original_amount");
    if (currency == NULL) currency = json_object_get(meta, "currency");
    if (said == NULL && json_is_integer(original))
        amount_cell(out, json_integer_value(original),
                    scale_of(names, json_string_value(currency), 2));
    else
        csv_out_value(out, meta_text(original, buf, sizeof buf));
    csv_out_value(out, json_string_value(currency));
    const json_t *rate = json_object_get(said, "rate");
    if (rate == NULL) rate = json_object_get(meta, "rate");
    csv_out_value(out, meta_text(rate, buf, sizeof buf));
    csv_out_prose(out, code);
    /* What import hxl needs to record the same flow: its version, and its organisations. */
    csv_out_value(out, json_string_value(json_object_get(fts, "flow")));
    csv_out_value(out, meta_text(json_object_get(fts, "version"), buf, sizeof buf));
    csv_out_value(out, json_string_value(json_object_get(json_object_get(fts, "source"), "id")));
    csv_out_value(out,
                  json_string_value(json_object_get(json_object_get(fts, "destination"), "id")));
    csv_out_value(out, json_string_value(json_object_get(fts, "boundary")));
    csv_out_value(out, json_string_value(json_object_get(fts, "on_boundary")));
}

static int transfer_write_fn(void *ctx, const struct ledger_transfer *t)
{
    struct transfer_write *w = ctx;
    struct csv_out *out = w->out;
    char date[TIME_TEXT_BYTES], recorded[TIME_TEXT_BYTES];
    time_format_date(t->date, date);
    time_format(t->timestamp, recorded);
    csv_out_value(out, t->id);
    csv_out_value(out, date);
    csv_out_value(out, t->debit);
    csv_out_value(out, t->credit);
    csv_out_value(out, t->unit);
    amount_cell(out, t->amount, scale_of(w->names, t->unit, 0));
    csv_out_value(out, t->kind);
    csv_out_value(out, ledger_state_name((enum ledger_state)t->state));
    csv_out_value(out, t->pending_id);
    csv_out_prose(out, t->memo);
    json_t *meta = t->meta != NULL ? json_loads(t->meta, 0, NULL) : NULL;
    funding_cells(out, w->names, t, meta);
    json_decref(meta);
    csv_out_value(out, t->cond);
    csv_out_value(out, recorded);
    csv_out_end(out);
    return 0;
}

static enum cc_err export_transfers(struct concord *cc, const struct export_request *request,
                                    struct csv_out *out, struct cc_error *err)
{
    struct names names;
    enum cc_err rc = names_read(cc, &names, true, err);
    struct transfer_export e = {.cc = cc};
    strmap_init(&e.exported);
    arena_init(&e.arena);
    const char *prefix = request->prefix != NULL ? request->prefix : "";
    if (rc == CC_OK) rc = concord_accounts_each(cc, prefix, account_seen, &e, err);
    if (rc == CC_OK) rc = concord_accounts_each(cc, prefix, history_gather, &e, err);
    if (rc == CC_OK) {
        if (e.count > 0) qsort(e.rows, e.count, sizeof *e.rows, gathered_order);
        heading(out, transfer_columns, TRANSFER_COLUMNS, request->hxl);
        struct transfer_write w = {.out = out, .names = &names};
        for (size_t i = 0; i < e.count && rc == CC_OK && !csv_out_failed(out); i++)
            rc = concord_transfer_get(cc, e.rows[i].id, transfer_write_fn, &w, err);
    }
    free(e.rows);
    strmap_free(&e.exported);
    arena_free(&e.arena);
    names_free(&names);
    return rc;
}

/* ---------------------------------------------------------------- export: balances */

struct balance_export {
    struct concord *cc;
    struct csv_out *out;
    int64_t at;
    const char *name, *owner; /* of the account being written, in the arena */
    struct arena arena;
    bool found;
};

static int account_fn(void *ctx, const struct ledger_account *a)
{
    struct balance_export *b = ctx;
    b->name = a->name != NULL ? arena_strdup(&b->arena, a->name) : NULL;
    b->owner = a->owner != NULL ? arena_strdup(&b->arena, a->owner) : NULL;
    return 0;
}

static int balance_fn(void *ctx, const struct store_balance *r)
{
    struct balance_export *b = ctx;
    struct csv_out *out = b->out;
    b->found = true;
    csv_out_value(out, r->id);
    csv_out_prose(out, b->name);
    csv_out_value(out, b->owner);
    csv_out_value(out, r->unit);
    amount_cell(out, r->debits_pending, r->scale);
    amount_cell(out, r->debits_posted, r->scale);
    amount_cell(out, r->credits_pending, r->scale);
    amount_cell(out, r->credits_posted, r->scale);
    /* Both are in 0 … 2^63−1: their difference cannot overflow. */
    amount_cell(out, r->credits_posted - r->debits_posted, r->scale);
    csv_out_end(out);
    return 0;
}

static enum cc_err balance_row(void *ctx, const char *id, const char *unit, struct cc_error *err)
{
    (void)unit;
    struct balance_export *b = ctx;
    arena_reset(&b->arena);
    b->name = b->owner = NULL;
    enum cc_err rc = concord_account_get(b->cc, id, account_fn, b, err);
    if (rc == CC_OK) rc = concord_balance(b->cc, id, b->at, balance_fn, b, err);
    if (rc == CC_OK && csv_out_failed(b->out))
        rc = cc_error_set(err, CC_ERR_SYSTEM, "cannot write the output");
    return rc;
}

static enum cc_err export_balances(struct concord *cc, const struct export_request *request,
                                   struct csv_out *out, struct cc_error *err)
{
    heading(out, balance_columns, BALANCE_COLUMNS, request->hxl);
    struct balance_export b = {.cc = cc, .out = out, .at = request->at};
    arena_init(&b.arena);
    enum cc_err rc = concord_accounts_each(cc, request->prefix != NULL ? request->prefix : "",
                                           balance_row, &b, err);
    arena_free(&b.arena);
    return rc;
}

/* ---------------------------------------------------------------- export: gaps */

static enum cc_err export_gaps(struct concord *cc, const struct export_request *request,
                               struct csv_out *out, struct cc_error *err)
{
    struct report report;
    enum cc_err rc = report_gaps(cc, request->at, NULL, &report, err);
    if (rc != CC_OK) return rc;
    heading(out, gap_columns, GAP_COLUMNS, request->hxl);
    for (uint32_t i = 0; i < report.requirements_count; i++) {
        const struct report_requirement *r = &report.requirements[i];
        const struct ledger_requirement *q = r->requirement;
        if (request->prefix != NULL && !covered(request->prefix, q->account)) continue;
        char due[TIME_TEXT_BYTES] = "";
        if (q->has_due) time_format_date(q->due, due);
        csv_out_value(out, q->id);
        csv_out_prose(out, q->title);
        csv_out_value(out, q->account);
        csv_out_value(out, q->measure == LEDGER_MEASURE_BALANCE ? "balance" : "credits");
        csv_out_value(out, r->unit);
        csv_out_value(out, due);
        amount_cell(out, r->target, r->scale);
        amount_cell(out, r->posted, r->scale);
        amount_cell(out, r->pending, r->scale);
        amount_cell(out, r->gap, r->scale);
        amount_cell(out, r->gap_if_pending_post, r->scale);
        csv_out_end(out);
    }
    report_free(&report);
    return CC_OK;
}

enum cc_err concord_export(struct concord *cc, const struct export_request *request, FILE *file,
                           struct cc_error *err)
{
    struct csv_out out;
    csv_out_init(&out, file);
    enum cc_err rc;
    switch (request->what) {
    case EXPORT_TRANSFERS: rc = export_transfers(cc, request, &out, err); break;
    case EXPORT_BALANCES: rc = export_balances(cc, request, &out, err); break;
    case EXPORT_GAPS: rc = export_gaps(cc, request, &out, err); break;
    default: return cc_error_set(err, CC_ERR_USAGE, "export: what to export is not known");
    }
    if (rc == CC_OK && csv_out_failed(&out))
        rc = cc_error_set(err, CC_ERR_SYSTEM, "cannot write the output");
    return rc;
}
