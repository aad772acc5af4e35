/*
 * report_domain.c — the funding, force and aid reports (see report_domain.h).
 *
 * Every report works on the same few tools:
 *
 *   balances   per account, the sums of the kept rows' effects (credits and
 *              debits, posted and pending): a stage account's balance is
 *              what sits at that stage;
 *   flows      per root row (a row that resolves nothing), its posted parts
 *              (its own effect_posted at its date, then each resolution
 *              record's at the record's date), what is still pending, and
 *              whether a void or an expiry released it;
 *   groups     rows of integer columns keyed by a string (donor, month, …),
 *              printed sorted by key so that reports are deterministic.
 *
 * Figures add with saturation at the int64 range, so a report never wraps,
 * and a report with a figure at that edge is refused (figure_saturated):
 * the clamped number is not the figure.
 */
#include "app/report_domain.h"

#include <stdlib.h>
#include <string.h>

#include "fmt/fts.h"
#include "ledger/ledger_internal.h"
#include "util/timefmt.h"

#define GROUP_COLUMNS 8

static int64_t add_sat(int64_t a, int64_t b)
{
    int64_t r;
    if (!__builtin_add_overflow(a, b, &r)) return r;
    return b > 0 ? INT64_MAX : INT64_MIN;
}

static int64_t mul_sat(int64_t a, int64_t b)
{
    int64_t r;
    if (!__builtin_mul_overflow(a, b, &r)) return r;
    return (a < 0) != (b < 0) ? INT64_MIN : INT64_MAX;
}

static bool starts_with(const char *s, const char *prefix)
{
    return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool kind_is(const struct ledger_transfer *t, const char *kind)
{
    return t->kind != NULL && strcmp(t->kind, kind) == 0;
}

/* "YYYY-MM" and "YYYY-MM-DD" of an instant. */
static void month_of(int64_t ns, char out[8])
{
    char text[TIME_TEXT_BYTES];
    time_format(ns, text);
    memcpy(out, text, 7);
    out[7] = '\0';
}

static void day_of(int64_t ns, char out[11])
{
    char text[TIME_TEXT_BYTES];
    time_format(ns, text);
    memcpy(out, text, 10);
    out[10] = '\0';
}

/* The first instant of the month after "YYYY-MM" (util/timefmt does the calendar). */
static int64_t month_next_start(const char *month)
{
    int y = atoi(month), m = atoi(month + 5) + 1;
    if (m == 13) {
        m = 1;
        y++;
    }
    char text[32]; /* room for any int */
    snprintf(text, sizeof text, "%04d-%02d-01", y, m);
    int64_t ns = 0;
    bool date_only;
    /* Past the last month timefmt can write, the month never ends. */
    return time_parse(text, &ns, &date_only) ? ns : INT64_MAX;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Nearest-rank percentile p (1 … 100) of sorted values[0..n), n > 0. */
static int64_t percentile(const int64_t *sorted, size_t n, int p)
{
    size_t rank = ((size_t)p * n + 99) / 100;
    return sorted[rank > 0 ? rank - 1 : 0];
}

static int cmp_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* A transfer's meta as JSON (a new reference), or NULL. */
static json_t *meta_of(const struct ledger_transfer *t)
{
    return t->meta != NULL ? json_loads(t->meta, 0, NULL) : NULL;
}

/* A string member of meta copied into out (size > 0); false when absent. */
static bool meta_text(const json_t *meta, const char *name, char *out, size_t size)
{
    const char *s = json_string_value(json_object_get(meta, name));
    if (s == NULL) return false;
    snprintf(out, size, "%s", s);
    return true;
}

static json_t *int_or_null(bool present, int64_t v)
{
    return present ? json_integer(v) : json_null();
}

/* ---------------------------------------------------------------- rows */

struct rows_load {
    struct report_rows *rows;
    bool failed;
};

static int rows_transfer(void *ctx, const struct ledger_transfer *t)
{
    struct rows_load *l = ctx;
    if (!ledger_view_add_transfer(&l->rows->view, t)) {
        l->failed = true;
        return 1;
    }
    return 0;
}

static int rows_account(void *ctx, const struct ledger_account *a)
{
    struct rows_load *l = ctx;
    if (ledger_view_add_account(&l->rows->view, a)) return 0;
    l->failed = true;
    return 1;
}

static int rows_unit(void *ctx, const struct ledger_unit *u)
{
    struct rows_load *l = ctx;
    if (ledger_view_add_unit(&l->rows->view, u)) return 0;
    l->failed = true;
    return 1;
}

enum cc_err report_rows_load(struct concord *cc, int64_t at, struct report_rows *rows,
                             struct cc_error *err)
{
    memset(rows, 0, sizeof *rows);
    ledger_view_init(&rows->view);
    rows->at = at;
    const struct store_driver *d = cc->store->driver;
    struct rows_load l = {.rows = rows};
    /*
     * The rows that matter to the domain reports carry a kind (pledge,
     * contingent, aid.entered, …) or resolve a pending transfer, or move the
     * accounts of the schemes (docs/DOMAIN.md). A ledger's other transfers —
     * most of a large one — are left in the store.
     */
    static const char *const schemes[] = {"donor.", "fund.", "force.", "aid.", "spent."};
    const struct store_transfer_filter filter = {
        .at = at, .prefixes = schemes, .prefixes_count = sizeof schemes / sizeof schemes[0]};
    enum cc_err rc = d->transfers_each(cc->store, &filter, rows_transfer, &l, err);
    if (rc == CC_OK && !l.failed) rc = d->units_list(cc->store, rows_unit, &l, err);
    /* The commodities' accounts name their units, also for what nothing moved yet. */
    if (rc == CC_OK && !l.failed)
        rc = d->accounts_list(cc->store, "aid.commodity.", NULL, STORE_LIST_LIMIT_MAX,
                              rows_account, &l, err);
    if (rc == CC_OK && !l.failed) rc = d->load_requirements(cc->store, &rows->view, err);
    if (rc == CC_OK && !l.failed) rc = d->load_rates(cc->store, &rows->view, err);
    if (rc == CC_OK && l.failed) rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    return rc;
}

void report_rows_free(struct report_rows *rows)
{
    ledger_view_free(&rows->view);
    memset(rows, 0, sizeof *rows);
}

static int32_t unit_scale(const struct report_rows *rows, const char *code, int32_t fallback)
{
    const struct ledger_unit *u = ledger_view_unit(&rows->view, code);
    return u != NULL ? u->scale : fallback;
}

/* ---------------------------------------------------------------- balances */

struct balance {
    const char *id;   /* in the rows' view */
    const char *unit;
    int64_t debits_posted, credits_posted, debits_pending, credits_pending;
};

struct balances {
    struct strmap by_id;
    struct balance *rows;
    uint32_t count, capacity;
};

static struct balance *balance_at(struct balances *b, const char *id, const char *unit)
{
    uint32_t i;
    if (strmap_get(&b->by_id, id, &i)) return &b->rows[i];
    if (!ledger_grow((void **)&b->rows, &b->capacity, b->count, sizeof *b->rows) ||
        !strmap_put(&b->by_id, id, b->count))
        return NULL;
    b->rows[b->count] = (struct balance){.id = id, .unit = unit};
    return &b->rows[b->count++];
}

static bool balances_build(const struct report_rows *rows, struct balances *b)
{
    memset(b, 0, sizeof *b);
    strmap_init(&b->by_id);
    for (uint32_t i = 0; i < rows->view.transfers_count; i++) {
        const struct ledger_transfer *t = &rows->view.transfers[i];
        struct balance *d = balance_at(b, t->debit, t->unit);
        if (d == NULL) return false;
        d->debits_posted = add_sat(d->debits_posted, t->effect_posted);
        d->debits_pending = add_sat(d->debits_pending, t->effect_pending);
        struct balance *c = balance_at(b, t->credit, t->unit);
        if (c == NULL) return false;
        c->credits_posted = add_sat(c->credits_posted, t->effect_posted);
        c->credits_pending = add_sat(c->credits_pending, t->effect_pending);
    }
    return true;
}

static void balances_free(struct balances *b)
{
    strmap_free(&b->by_id);
    free(b->rows);
}

/* credits_posted − debits_posted of an account (0 when it has no row). */
static int64_t balance_of(const struct balances *b, const char *id)
{
    uint32_t i;
    if (!strmap_get(&b->by_id, id, &i)) return 0;
    return add_sat(b->rows[i].credits_posted, -b->rows[i].debits_posted);
}

/* ---------------------------------------------------------------- flows */

/* Each row's resolution records, linked: first[root], next[record]; UINT32_MAX ends. */
struct links {
    uint32_t *first, *next;
};

static bool links_build(const struct report_rows *rows, struct links *l)
{
    uint32_t n = rows->view.transfers_count;
    l->first = malloc((n ? n : 1) * sizeof *l->first);
    l->next = malloc((n ? n : 1) * sizeof *l->next);
    if (l->first == NULL || l->next == NULL) return false;
    for (uint32_t i = 0; i < n; i++) l->first[i] = l->next[i] = UINT32_MAX;
    /* Backwards, so that each list comes out in seq order. */
    for (uint32_t j = n; j-- > 0;) {
        const struct ledger_transfer *t = &rows->view.transfers[j];
        if (t->pending_id == NULL) continue;
        const struct ledger_transfer *root = ledger_view_transfer(&rows->view, t->pending_id);
        if (root == NULL) continue; /* a root after `at` cannot be: resolutions come later */
        uint32_t i = (uint32_t)(root - rows->view.transfers);
        l->next[j] = l->first[i];
        l->first[i] = j;
    }
    return true;
}

static void links_free(struct links *l)
{
    free(l->first);
    free(l->next);
}

struct flow {
    int64_t pending;         /* still pending */
    bool voided, expired;    /* released by a void (or a failed condition) or an expiry */
};

static struct flow flow_of(const struct report_rows *rows, const struct links *l, uint32_t i)
{
    const struct ledger_transfer *t = &rows->view.transfers[i];
    struct flow f = {.pending = t->effect_pending};
    for (uint32_t j = l->first[i]; j != UINT32_MAX; j = l->next[j]) {
        const struct ledger_transfer *r = &rows->view.transfers[j];
        f.pending = add_sat(f.pending, r->effect_pending);
        f.voided |= r->state == LEDGER_STATE_VOIDED;
        f.expired |= r->state == LEDGER_STATE_EXPIRED;
    }
    return f;
}

/* Calls fn for each posted part of root i: its own, then its resolution records'. */
typedef void (*posted_fn)(void *ctx, int64_t amount, int64_t date);

static void posted_each(const struct report_rows *rows, const struct links *l, uint32_t i,
                        posted_fn fn, void *ctx)
{
    const struct ledger_transfer *t = &rows->view.transfers[i];
    if (t->effect_posted != 0) fn(ctx, t->effect_posted, t->date);
    for (uint32_t j = l->first[i]; j != UINT32_MAX; j = l->next[j]) {
        const struct ledger_transfer *r = &rows->view.transfers[j];
        if (r->effect_posted != 0) fn(ctx, r->effect_posted, r->date);
    }
}

/* ---------------------------------------------------------------- groups */

struct group {
    const char *key;               /* in the groups' arena */
    const char *label;             /* a second text (a unit, a name), or NULL */
    int64_t v[GROUP_COLUMNS];
    bool touched;
};

struct groups {
    struct arena arena;
    struct strmap by_key;
    struct group *rows;
    uint32_t count, capacity;
    bool failed;                   /* memory ran out: the report is NULL */
};

static void groups_init(struct groups *g)
{
    memset(g, 0, sizeof *g);
    arena_init(&g->arena);
    strmap_init(&g->by_key);
}

static void groups_free(struct groups *g)
{
    arena_free(&g->arena);
    strmap_free(&g->by_key);
    free(g->rows);
}

/* The group of key, created empty; a static dummy when memory ran out (g->failed). */
static struct group *group_at(struct groups *g, const char *key)
{
    static _Thread_local struct group dummy;
    uint32_t i;
    if (strmap_get(&g->by_key, key, &i)) return &g->rows[i];
    const char *copy = arena_strdup(&g->arena, key);
    if (copy == NULL ||
        !ledger_grow((void **)&g->rows, &g->capacity, g->count, sizeof *g->rows) ||
        !strmap_put(&g->by_key, copy, g->count)) {
        g->failed = true;
        memset(&dummy, 0, sizeof dummy);
        return &dummy;
    }
    g->rows[g->count] = (struct group){.key = copy};
    return &g->rows[g->count++];
}

static void group_add(struct groups *g, const char *key, int column, int64_t amount)
{
    struct group *row = group_at(g, key);
    row->v[column] = add_sat(row->v[column], amount);
    row->touched = true;
}

static int cmp_group(const void *a, const void *b)
{
    return strcmp(((const struct group *)a)->key, ((const struct group *)b)->key);
}

/* Sorts by key (the map then no longer applies: call once the groups are complete). */
static void groups_sort(struct groups *g)
{
    if (g->count > 1) qsort(g->rows, g->count, sizeof *g->rows, cmp_group);
    strmap_clear(&g->by_key);
}

/* An array of objects {key_name: key, names[k]: v[k]…}. */
static json_t *groups_json(const struct groups *g, const char *key_name,
                           const char *const *names, int columns)
{
    json_t *array = json_array();
    for (uint32_t i = 0; array != NULL && i < g->count; i++) {
        json_t *o = json_pack("{s:s}", key_name, g->rows[i].key);
        for (int k = 0; o != NULL && k < columns; k++)
            json_object_set_new(o, names[k], json_integer(g->rows[i].v[k]));
        if (o == NULL || json_array_append_new(array, o) != 0) {
            json_decref(array);
            return NULL;
        }
    }
    return array;
}

/* ---------------------------------------------------------------- funding */

#define FUNDING_UNIT "USD"
#define FUNDING_NONE "(none)"
#define FUNDING_UNCONDITIONAL "(unconditional)"

enum { F_PLEDGED, F_CONDITIONAL, F_COMMITTED, F_DISBURSED, F_AWAITING, F_SPENT, F_PENDING,
       F_REQUIRED };

struct funding {
    const struct report_rows *rows;
    struct links links;
    struct groups totals, donors, requirements, conditions, months, sources;
    int64_t voided, expired, unconditional;
    /* what the posted parts are counted as, while walking one root */
    int column;
    int64_t sign;      /* -1 for an IATI transaction of a negative value (recorded reversed) */
    const char *donor, *requirement, *condition, *source;
};

/*
 * What a transfer is to the funding report: its kind, or for an IATI
 * transaction (app/domain_iati.c) the funding step its type is. Pledges
 * (12, 13) are pledges, commitments (2, 11) commitments, disbursements and
 * the funds they bring (3, 1) disbursements, expenditure (4) spending; the
 * other types (interest, loans, equity, guarantees, reimbursements) are not
 * funding. Only USD counts: the report is in USD and converts nothing.
 */
static bool iati_record(const struct ledger_transfer *t)
{
    /* An IATI import's ids carry '/', which no editor may write by hand (app/auth.c). */
    return t->kind != NULL && strncmp(t->kind, "iati.", 5) == 0 &&
           strncmp(t->id, "iati/", 5) == 0;
}

static const char *funding_kind(const struct ledger_transfer *t)
{
    if (t->kind == NULL || strncmp(t->kind, "iati.", 5) != 0) return t->kind;
    if (!iati_record(t) || t->unit == NULL || strcmp(t->unit, FUNDING_UNIT) != 0) return NULL;
    static const char *const map[][2] = {
        {"iati.incoming_pledge", "pledge"},        {"iati.outgoing_pledge", "pledge"},
        {"iati.incoming_commitment", "commitment"}, {"iati.outgoing_commitment", "commitment"},
        {"iati.disbursement", "disbursement"},     {"iati.incoming_funds", "disbursement"},
        {"iati.expenditure", "expenditure"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(t->kind, map[i][0]) == 0) return map[i][1];
    return NULL;
}

static bool funding_is(const struct ledger_transfer *t, const char *kind)
{
    const char *k = funding_kind(t);
    return k != NULL && strcmp(k, kind) == 0;
}

/*
 * Where a funding transfer came from: its meta's "source" (an import),
 * believed only where its id is one an import makes
 * and no editor may write by hand (app/auth.c): fts.… for FTS and the
 * tables' records of FTS flows (….hxl), hxl.… for other table rows,
 * iati/… for IATI. Anything else is the mission's, whatever its meta says.
 */
static void source_of_transfer(const struct ledger_transfer *t, const json_t *meta,
                               char out[REPORT_SOURCE_BYTES_MAX + 1])
{
    if (iati_record(t)) {
        snprintf(out, REPORT_SOURCE_BYTES_MAX + 1, "iati");
        return;
    }
    bool fts_id = strncmp(t->id, "fts.", 4) == 0, hxl_id = strncmp(t->id, "hxl.", 4) == 0;
    bool ok = meta_text(meta, "source", out, REPORT_SOURCE_BYTES_MAX + 1) &&
              ((strcmp(out, "fts") == 0 && fts_id) ||
               (strcmp(out, "hxl") == 0 && (fts_id || hxl_id)));
    if (!ok) snprintf(out, REPORT_SOURCE_BYTES_MAX + 1, "%s", REPORT_SOURCE_MISSION);
}

static void requirement_of_account(const struct report_rows *rows, const char *account,
                                   char *out, size_t size)
{
    for (uint32_t i = 0; i < rows->view.requirements_count; i++) {
        const struct ledger_requirement *r = &rows->view.requirements[i];
        size_t n = strlen(r->account);
        bool in = r->account[n - 1] == '.' ? strncmp(account, r->account, n) == 0
                                           : strcmp(account, r->account) == 0;
        if (in && strcmp(r->unit, FUNDING_UNIT) == 0) {
            snprintf(out, size, "%s", r->id);
            return;
        }
    }
    snprintf(out, size, "%s", FUNDING_NONE);
}

static void funding_posted(void *ctx, int64_t amount, int64_t date)
{
    struct funding *f = ctx;
    amount *= f->sign;
    char month[8];
    month_of(date, month);
    group_add(&f->totals, "", f->column, amount);
    group_add(&f->months, month, f->column, amount);
    if (f->requirement != NULL) group_add(&f->requirements, f->requirement, f->column, amount);
    if (f->donor != NULL) group_add(&f->donors, f->donor, f->column, amount);
    if (f->condition != NULL) group_add(&f->conditions, f->condition, f->column, amount);
    group_add(&f->sources, f->source, f->column, amount);
}

/* A pledge or a commitment: by donor, requirement and condition. */
static void funding_promise(struct funding *f, uint32_t i, const json_t *meta)
{
    const struct ledger_transfer *t = &f->rows->view.transfers[i];
    char donor[LEDGER_ID_BYTES_MAX + 1], requirement[LEDGER_ID_BYTES_MAX + 1];
    /* The debit account says who gave: a meta's "donor" counts only where it cannot lie. */
    if (starts_with(t->debit, "donor.") || !meta_text(meta, "donor", donor, sizeof donor))
        snprintf(donor, sizeof donor, "%s",
                 starts_with(t->debit, "donor.") ? t->debit + strlen("donor.") : t->debit);
    if (!meta_text(meta, "requirement", requirement, sizeof requirement))
        snprintf(requirement, sizeof requirement, "%s", FUNDING_NONE);
    const char *condition = t->cond != NULL ? t->cond : FUNDING_UNCONDITIONAL;
    if (funding_is(t, "pledge")) {
        struct flow fl = flow_of(f->rows, &f->links, i);
        int64_t pledged = t->amount * f->sign, pending = fl.pending * f->sign;
        if (fl.voided || fl.expired) { /* no longer pledged: reported apart */
            if (fl.voided) f->voided = add_sat(f->voided, pledged);
            else f->expired = add_sat(f->expired, pledged);
            return;
        }
        char month[8];
        month_of(t->date, month);
        group_add(&f->totals, "", F_PLEDGED, pledged);
        group_add(&f->months, month, F_PLEDGED, pledged);
        group_add(&f->donors, donor, F_PLEDGED, pledged);
        group_add(&f->requirements, requirement, F_PLEDGED, pledged);
        group_add(&f->conditions, condition, F_PLEDGED, pledged);
        group_add(&f->conditions, condition, F_PENDING, pending);
        group_add(&f->totals, "", F_PENDING, pending);
        group_add(&f->sources, f->source, F_PLEDGED, pledged);
        if (t->cond != NULL) {
            group_add(&f->totals, "", F_CONDITIONAL, pledged);
            group_add(&f->donors, donor, F_CONDITIONAL, pledged);
            group_add(&f->sources, f->source, F_CONDITIONAL, pledged);
        } else {
            f->unconditional = add_sat(f->unconditional, pledged);
        }
    }
    f->column = F_COMMITTED;
    f->donor = donor;
    f->requirement = requirement;
    f->condition = condition;
    posted_each(f->rows, &f->links, i, funding_posted, f);
}

/* A disbursement or an expenditure: by requirement (meta, else the account's). */
static void funding_spending(struct funding *f, uint32_t i, const json_t *meta, int column)
{
    const struct ledger_transfer *t = &f->rows->view.transfers[i];
    char requirement[LEDGER_ID_BYTES_MAX + 1];
    if (!meta_text(meta, "requirement", requirement, sizeof requirement))
        requirement_of_account(f->rows, column == F_DISBURSED ? t->credit : t->debit,
                               requirement, sizeof requirement);
    f->column = column;
    f->donor = f->condition = NULL;
    f->requirement = requirement;
    posted_each(f->rows, &f->links, i, funding_posted, f);
    if (column == F_DISBURSED) {
        struct flow fl = flow_of(f->rows, &f->links, i);
        group_add(&f->totals, "", F_AWAITING, fl.pending);
        group_add(&f->requirements, requirement, F_AWAITING, fl.pending);
    }
}

/*
 * An imported flow counts where its source counts it. FTS counts in a
 * search's funding only flows that enter the place (boundary incoming) whole
 * (on_boundary single): a flow within it (internal) was counted when the
 * money came in, and one shared with other places is not all this place's.
 */
static bool imported_counts(const json_t *meta)
{
    const json_t *fts = json_object_get(meta, "fts");
    if (fts == NULL) return true;
    const char *boundary = json_string_value(json_object_get(fts, "boundary"));
    const char *on = json_string_value(json_object_get(fts, "on_boundary"));
    return boundary != NULL && on != NULL && strcmp(boundary, "incoming") == 0 &&
           strcmp(on, "single") == 0;
}

/*
 * The ids a correction undid (its meta's "corrects"): a superseded version
 * counts no more. Only an import's own corrections are believed: their ids
 * are the superseding version's (fts.<flow>.v<k>.supersedes, or
 * ….hxl.superseded), which no editor may write (app/auth.c), and they undo a
 * record of the same flow.
 */
static bool correction_trusted(const char *id, const char *corrects)
{
    const char *v = strncmp(id, "fts.", 4) == 0 ? strstr(id + 4, ".v") : NULL;
    char prefix[LEDGER_ID_BYTES_MAX + 1];
    if (v == NULL || (size_t)(v - id) + 2 > LEDGER_ID_BYTES_MAX) return false;
    snprintf(prefix, sizeof prefix, "%.*s", (int)(v - id) + 2, id); /* "fts.<flow>.v" */
    int64_t k;
    enum fts_record kind, undone;
    return fts_record_of(id, prefix, &k, &kind) &&
           (kind == FTS_RECORD_SUPERSEDES || kind == FTS_RECORD_TABLE_SUPERSEDED) &&
           fts_record_of(corrects, prefix, &k, &undone) &&
           (undone == FTS_RECORD_FLOW || undone == FTS_RECORD_TABLE);
}

static bool corrected_build(const struct ledger_view *v, struct strmap *corrected)
{
    for (uint32_t i = 0; i < v->transfers_count; i++) {
        const struct ledger_transfer *t = &v->transfers[i];
        if (!kind_is(t, "correction") || t->meta == NULL) continue;
        json_t *meta = meta_of(t);
        const char *id = json_string_value(json_object_get(meta, "corrects"));
        /* The key must outlive the meta: the transfer row of that id holds the same text. */
        const struct ledger_transfer *undone =
            id != NULL && correction_trusted(t->id, id) ? ledger_view_transfer(v, id) : NULL;
        bool ok = undone == NULL || strmap_put(corrected, undone->id, 1);
        json_decref(meta);
        if (!ok) return false;
    }
    return true;
}

static void funding_walk(struct funding *f)
{
    const struct ledger_view *v = &f->rows->view;
    struct strmap corrected;
    strmap_init(&corrected);
    if (!corrected_build(v, &corrected)) f->totals.failed = true;
    for (uint32_t i = 0; i < v->requirements_count; i++) {
        const struct ledger_requirement *r = &v->requirements[i];
        if (strcmp(r->unit, FUNDING_UNIT) != 0) continue;
        group_add(&f->requirements, r->id, F_REQUIRED, r->target);
        group_add(&f->totals, "", F_REQUIRED, r->target);
    }
    for (uint32_t i = 0; i < v->transfers_count; i++) {
        const struct ledger_transfer *t = &v->transfers[i];
        if (t->pending_id != NULL || t->kind == NULL) continue; /* resolutions: via their root */
        /* An FTS paid contribution is funding as a commitment is ("funding" in FTS's words). */
        bool promise = funding_is(t, "pledge") || funding_is(t, "commitment") ||
                       funding_is(t, "paid");
        bool disbursement = funding_is(t, "disbursement");
        bool expenditure = funding_is(t, "expenditure");
        if (!promise && !disbursement && !expenditure) continue;
        uint32_t undone;
        if (strmap_get(&corrected, t->id, &undone)) continue;
        json_t *meta = meta_of(t);
        char source[REPORT_SOURCE_BYTES_MAX + 1];
        source_of_transfer(t, meta, source);
        if ((f->rows->source != NULL && strcmp(source, f->rows->source) != 0) ||
            !imported_counts(meta)) {
            json_decref(meta);
            continue;
        }
        f->source = source;
        /* A negative IATI value is recorded reversed: from the receiver's account. */
        f->sign = strncmp(t->kind, "iati.", 5) == 0 && strstr(t->debit, ".received.") != NULL
                      ? -1
                      : 1;
        if (promise) funding_promise(f, i, meta);
        else funding_spending(f, i, meta, disbursement ? F_DISBURSED : F_SPENT);
        json_decref(meta);
    }
    strmap_free(&corrected);
    group_at(&f->totals, "");
}

json_t *report_funding_json(const struct report_rows *rows)
{
    struct funding f = {.rows = rows};
    groups_init(&f.totals);
    groups_init(&f.donors);
    groups_init(&f.requirements);
    groups_init(&f.conditions);
    groups_init(&f.months);
    groups_init(&f.sources);
    json_t *out = NULL;
    if (!links_build(rows, &f.links)) goto done;
    funding_walk(&f);
    if (f.totals.failed || f.donors.failed || f.requirements.failed || f.conditions.failed ||
        f.months.failed || f.sources.failed)
        goto done;
    groups_sort(&f.sources);
    groups_sort(&f.donors);
    groups_sort(&f.requirements);
    groups_sort(&f.conditions);
    groups_sort(&f.months);
    const int64_t *t = f.totals.rows[0].v;
    static const char *const donor_cols[] = {"pledged", "conditional", "committed"};
    json_t *by_requirement = json_array();
    for (uint32_t i = 0; by_requirement != NULL && i < f.requirements.count; i++) {
        const int64_t *v = f.requirements.rows[i].v;
        json_array_append_new(
            by_requirement,
            json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "requirement",
                      f.requirements.rows[i].key, "required", (json_int_t)v[F_REQUIRED],
                      "pledged", (json_int_t)v[F_PLEDGED], "committed",
                      (json_int_t)v[F_COMMITTED], "disbursed", (json_int_t)v[F_DISBURSED],
                      "awaiting_approval", (json_int_t)v[F_AWAITING], "spent",
                      (json_int_t)v[F_SPENT]));
    }
    json_t *by_condition = json_array();
    for (uint32_t i = 0; by_condition != NULL && i < f.conditions.count; i++) {
        const int64_t *v = f.conditions.rows[i].v;
        json_array_append_new(by_condition,
                              json_pack("{s:s, s:I, s:I, s:I}", "condition",
                                        f.conditions.rows[i].key, "pledged",
                                        (json_int_t)v[F_PLEDGED], "committed",
                                        (json_int_t)v[F_COMMITTED], "pending",
                                        (json_int_t)v[F_PENDING]));
    }
    json_t *by_month = json_array();
    for (uint32_t i = 0; by_month != NULL && i < f.months.count; i++) {
        const int64_t *v = f.months.rows[i].v;
        json_array_append_new(by_month,
                              json_pack("{s:s, s:I, s:I, s:I, s:I}", "month", f.months.rows[i].key,
                                        "pledged", (json_int_t)v[F_PLEDGED], "committed",
                                        (json_int_t)v[F_COMMITTED], "disbursed",
                                        (json_int_t)v[F_DISBURSED], "spent",
                                        (json_int_t)v[F_SPENT]));
    }
    char at[TIME_TEXT_BYTES];
    if (rows->at != INT64_MAX) time_format(rows->at, at);
    out = json_pack(
        "{s:s, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:o, s:o, s:o, "
        "s:o}",
        "unit", FUNDING_UNIT, "at", rows->at != INT64_MAX ? json_string(at) : json_null(),
        "totals", "required", (json_int_t)t[F_REQUIRED], "pledged", (json_int_t)t[F_PLEDGED],
        "conditional", (json_int_t)t[F_CONDITIONAL], "unconditional",
        (json_int_t)f.unconditional, "voided", (json_int_t)f.voided, "expired",
        (json_int_t)f.expired, "pending", (json_int_t)t[F_PENDING], "committed",
        (json_int_t)t[F_COMMITTED], "disbursed", (json_int_t)t[F_DISBURSED],
        "awaiting_approval", (json_int_t)t[F_AWAITING], "spent", (json_int_t)t[F_SPENT],
        "by_donor", groups_json(&f.donors, "donor", donor_cols, 3), "by_requirement",
        by_requirement, "by_condition", by_condition, "by_month", by_month);
    static const char *const source_cols[] = {"pledged", "conditional", "committed",
                                              "disbursed", "awaiting_approval", "spent"};
    if (out != NULL) {
        json_object_set_new(out, "source",
                            rows->source != NULL ? json_string(rows->source) : json_null());
        json_object_set_new(out, "by_source", groups_json(&f.sources, "source", source_cols, 6));
    }
done:
    links_free(&f.links);
    groups_free(&f.totals);
    groups_free(&f.donors);
    groups_free(&f.requirements);
    groups_free(&f.conditions);
    groups_free(&f.months);
    groups_free(&f.sources);
    return out;
}

/* ---------------------------------------------------------------- force */

#define FORCE_STAGES 6
#define FORCE_MONTH_UNIT "PERSON_MONTH"

static const char *const force_stages[FORCE_STAGES] = {
    "pledged", "accepted", "training", "certified", "deployed", "rotated",
};

/* The stage of account force.<stage>.<contingent>, or -1; *contingent after it. */
static int force_stage_of(const char *account, const char **contingent)
{
    if (!starts_with(account, "force.")) return -1;
    const char *rest = account + strlen("force.");
    for (int k = 0; k < FORCE_STAGES; k++) {
        size_t n = strlen(force_stages[k]);
        if (strncmp(rest, force_stages[k], n) == 0 && rest[n] == '.' && rest[n + 1] != '\0') {
            *contingent = rest + n + 1;
            return k;
        }
    }
    return -1;
}

/* Minor units of `to` (scale) per unit of the decimal text rate, rounded half up. */
static int64_t rate_minor(const char *rate, int32_t scale)
{
    __int128 m = 0;
    int places = 0;
    bool point = false;
    for (const char *p = rate; *p; p++) {
        if (*p == '.') {
            point = true;
            continue;
        }
        if (*p < '0' || *p > '9' || m > (__int128)1 << 100) return 0;
        m = m * 10 + (*p - '0');
        places += point;
    }
    for (int32_t k = 0; k < scale; k++) m *= 10;
    __int128 div = 1;
    for (int k = 0; k < places; k++) div *= 10;
    __int128 q = (m + div / 2) / div;
    return q > INT64_MAX ? INT64_MAX : (int64_t)q;
}

/* The PERSON_MONTH → USD rate in force at `when`: the ledger's latest, else the default. */
static const char *force_rate(const struct report_rows *rows, int64_t when, bool *from_ledger)
{
    const struct ledger_rate *best = NULL;
    for (uint32_t i = 0; i < rows->view.rates_count; i++) {
        const struct ledger_rate *r = &rows->view.rates[i];
        if (strcmp(r->unit, FORCE_MONTH_UNIT) == 0 && strcmp(r->to, FUNDING_UNIT) == 0 &&
            r->date <= when && (best == NULL || r->date > best->date))
            best = r;
    }
    *from_ledger = best != NULL;
    return best != NULL ? best->rate : REPORT_PERSON_MONTH_RATE_DEFAULT;
}

/* A change of one stage's strength at a date. */
struct force_move {
    int64_t date;
    int stage;
    int64_t delta;
};

static int cmp_move(const void *a, const void *b)
{
    int64_t x = ((const struct force_move *)a)->date, y = ((const struct force_move *)b)->date;
    return (x > y) - (x < y);
}

/* Strength per stage at each month end, and the reimbursement of each month's deployed. */
static bool force_history(const struct report_rows *rows, json_t *history, json_t *reimbursed,
                          int32_t usd_scale)
{
    const struct ledger_view *v = &rows->view;
    struct force_move *moves = malloc((2 * (size_t)v->transfers_count + 1) * sizeof *moves);
    if (moves == NULL) return false;
    size_t n = 0;
    const char *contingent;
    for (uint32_t i = 0; i < v->transfers_count; i++) {
        const struct ledger_transfer *t = &v->transfers[i];
        if (t->effect_posted == 0) continue;
        int d = force_stage_of(t->debit, &contingent), c = force_stage_of(t->credit, &contingent);
        if (d >= 0) moves[n++] = (struct force_move){t->date, d, -t->effect_posted};
        if (c >= 0) moves[n++] = (struct force_move){t->date, c, t->effect_posted};
    }
    if (n == 0) {
        free(moves);
        return true;
    }
    qsort(moves, n, sizeof *moves, cmp_move);
    char month[8], last[8];
    month_of(moves[0].date, month);
    month_of(rows->at != INT64_MAX ? rows->at : moves[n - 1].date, last);
    /* Keep the latest REPORT_MONTHS_MAX months: start later when the span is longer. */
    int64_t span = (strtoll(last, NULL, 10) - strtoll(month, NULL, 10)) * 12 +
                   strtoll(last + 5, NULL, 10) - strtoll(month + 5, NULL, 10);
    int64_t strength[FORCE_STAGES] = {0};
    size_t k = 0;
    bool ok = true;
    for (int64_t m = 0; ok && m <= span; m++) {
        int64_t end = month_next_start(month); /* exclusive */
        for (; k < n && moves[k].date < end; k++)
            strength[moves[k].stage] = add_sat(strength[moves[k].stage], moves[k].delta);
        if (span - m < REPORT_MONTHS_MAX) {
            json_t *row = json_pack("{s:s}", "month", month);
            for (int s = 0; row != NULL && s < FORCE_STAGES; s++)
                json_object_set_new(row, force_stages[s], json_integer(strength[s]));
            bool from_ledger;
            int64_t rate = rate_minor(force_rate(rows, end - 1, &from_ledger), usd_scale);
            ok = row != NULL && json_array_append_new(history, row) == 0 &&
                 json_array_append_new(
                     reimbursed, json_pack("{s:s, s:I, s:I}", "month", month, "deployed",
                                           (json_int_t)strength[4], "amount",
                                           (json_int_t)mul_sat(strength[4], rate))) == 0;
        }
        month_of(end, month);
    }
    free(moves);
    return ok;
}

/* Contingents: their record, strength per stage, and days from pledge to deployment. */
static json_t *force_contingents(const struct report_rows *rows, const struct balances *b,
                                 json_t *deployment)
{
    const struct ledger_view *v = &rows->view;
    json_t *array = json_array();
    int64_t *days = malloc(((size_t)v->transfers_count + 1) * sizeof *days);
    size_t deployed = 0;
    if (array == NULL || days == NULL) goto fail;
    for (uint32_t i = 0; i < v->transfers_count; i++) {
        const struct ledger_transfer *t = &v->transfers[i];
        if (t->pending_id != NULL || !kind_is(t, "contingent")) continue;
        json_t *meta = meta_of(t), *o = json_object();
        if (o == NULL) {
            json_decref(meta);
            goto fail;
        }
        json_object_set_new(o, "contingent", json_string(t->id));
        static const char *const fields[] = {"nation", "type", "readiness", "personnel"};
        for (size_t k = 0; k < 4; k++) {
            json_t *value = json_object_get(meta, fields[k]);
            json_object_set(o, fields[k], value != NULL ? value : json_null());
        }
        json_decref(meta);
        char account[LEDGER_ID_BYTES_MAX + 32];
        for (int s = 0; s < FORCE_STAGES; s++) {
            snprintf(account, sizeof account, "force.%s.%s", force_stages[s], t->id);
            json_object_set_new(o, force_stages[s], json_integer(balance_of(b, account)));
        }
        /* The first move into force.deployed.<id>, by effective date. */
        snprintf(account, sizeof account, "force.deployed.%s", t->id);
        int64_t first = INT64_MAX;
        for (uint32_t j = 0; j < v->transfers_count; j++) {
            const struct ledger_transfer *m = &v->transfers[j];
            if (kind_is(m, "force.deployed") && strcmp(m->credit, account) == 0 &&
                m->effect_posted > 0 && m->date < first)
                first = m->date;
        }
        bool has = first != INT64_MAX;
        int64_t d = has ? floor_div(first - t->date, TIME_NS_PER_DAY) : 0;
        if (has) days[deployed++] = d;
        json_object_set_new(o, "days_to_deployment", int_or_null(has, d));
        if (json_array_append_new(array, o) != 0) goto fail;
    }
    qsort(days, deployed, sizeof *days, cmp_int64);
    json_object_set_new(deployment, "contingents", json_integer((json_int_t)deployed));
    json_object_set_new(deployment, "p50_days",
                        int_or_null(deployed > 0, deployed ? percentile(days, deployed, 50) : 0));
    json_object_set_new(deployment, "p90_days",
                        int_or_null(deployed > 0, deployed ? percentile(days, deployed, 90) : 0));
    free(days);
    return array;
fail:
    free(days);
    json_decref(array);
    return NULL;
}

/* Requirements on accounts under force.: each with what its scope holds now. */
static json_t *force_targets(const struct report_rows *rows, const struct balances *b)
{
    json_t *array = json_array();
    for (uint32_t i = 0; array != NULL && i < rows->view.requirements_count; i++) {
        const struct ledger_requirement *r = &rows->view.requirements[i];
        if (!starts_with(r->account, "force.")) continue;
        size_t n = strlen(r->account);
        bool prefix = r->account[n - 1] == '.';
        int64_t credits = 0, debits = 0;
        for (uint32_t k = 0; k < b->count; k++) {
            const struct balance *a = &b->rows[k];
            bool in = prefix ? strncmp(a->id, r->account, n) == 0 : strcmp(a->id, r->account) == 0;
            if (!in || strcmp(a->unit, r->unit) != 0) continue;
            credits = add_sat(credits, a->credits_posted);
            debits = add_sat(debits, a->debits_posted);
        }
        bool balance = r->measure == LEDGER_MEASURE_BALANCE;
        json_array_append_new(
            array, json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "requirement", r->id, "account",
                             r->account, "unit", r->unit, "measure",
                             balance ? "balance" : "credits", "target", (json_int_t)r->target,
                             "posted", (json_int_t)(balance ? add_sat(credits, -debits) : credits)));
    }
    return array;
}

/* Courses (definitions, seats, certified) and certifications per month. */
static bool force_training(const struct report_rows *rows, const struct balances *b,
                           json_t *courses, json_t *by_month)
{
    const struct ledger_view *v = &rows->view;
    struct groups certified, months;
    groups_init(&certified);
    groups_init(&months);
    for (uint32_t i = 0; i < v->transfers_count; i++) {
        const struct ledger_transfer *t = &v->transfers[i];
        if (!kind_is(t, "force.certified") || t->effect_posted == 0) continue;
        json_t *meta = meta_of(t);
        char course[LEDGER_ID_BYTES_MAX + 1], month[8];
        if (!meta_text(meta, "course", course, sizeof course))
            snprintf(course, sizeof course, "%s", FUNDING_NONE);
        json_decref(meta);
        month_of(t->date, month);
        group_add(&certified, course, 0, t->effect_posted);
        group_add(&months, month, 0, t->effect_posted);
    }
    for (uint32_t i = 0; i < v->transfers_count; i++) {
        const struct ledger_transfer *t = &v->transfers[i];
        if (t->pending_id != NULL || !kind_is(t, "course") || !starts_with(t->id, "course."))
            continue;
        const char *id = t->id + strlen("course.");
        json_t *meta = meta_of(t), *o = json_pack("{s:s}", "course", id);
        static const char *const fields[] = {"name", "capacity", "duration_days"};
        for (size_t k = 0; o != NULL && k < 3; k++) {
            json_t *value = json_object_get(meta, fields[k]);
            json_object_set(o, fields[k], value != NULL ? value : json_null());
        }
        json_decref(meta);
        char account[LEDGER_ID_BYTES_MAX + 32];
        snprintf(account, sizeof account, "force.course.%s.seats", id);
        if (o != NULL) json_object_set_new(o, "seats_free", json_integer(balance_of(b, account)));
        snprintf(account, sizeof account, "force.course.%s.in_training", id);
        if (o != NULL) json_object_set_new(o, "in_training", json_integer(balance_of(b, account)));
        if (o != NULL) json_object_set_new(o, "certified", json_integer(group_at(&certified, id)->v[0]));
        if (o == NULL || json_array_append_new(courses, o) != 0) certified.failed = true;
    }
    groups_sort(&months);
    static const char *const cols[] = {"certified"};
    json_t *m = groups_json(&months, "month", cols, 1);
    bool ok = m != NULL && !certified.failed && !months.failed &&
              json_array_extend(by_month, m) == 0;
    json_decref(m);
    groups_free(&certified);
    groups_free(&months);
    return ok;
}

json_t *report_force_json(const struct report_rows *rows)
{
    struct balances b;
    json_t *out = NULL;
    if (!balances_build(rows, &b)) goto done;
    int64_t by_stage[FORCE_STAGES] = {0};
    const char *contingent;
    for (uint32_t i = 0; i < b.count; i++) {
        int s = force_stage_of(b.rows[i].id, &contingent);
        if (s >= 0) by_stage[s] = add_sat(by_stage[s], balance_of(&b, b.rows[i].id));
    }
    int32_t usd_scale = unit_scale(rows, FUNDING_UNIT, 2);
    json_t *stages = json_object(), *deployment = json_object(), *history = json_array(),
           *reimbursed = json_array(), *courses = json_array(), *certified = json_array();
    for (int s = 0; stages != NULL && s < FORCE_STAGES; s++)
        json_object_set_new(stages, force_stages[s], json_integer(by_stage[s]));
    bool ok = stages && deployment && history && reimbursed && courses && certified &&
              force_history(rows, history, reimbursed, usd_scale) &&
              force_training(rows, &b, courses, certified);
    json_t *contingents = ok ? force_contingents(rows, &b, deployment) : NULL;
    bool from_ledger;
    const char *rate = force_rate(rows, rows->at != INT64_MAX ? rows->at : time_now_ns(),
                                  &from_ledger);
    int64_t per = rate_minor(rate, usd_scale), monthly = mul_sat(by_stage[4], per);
    char at[TIME_TEXT_BYTES];
    if (rows->at != INT64_MAX) time_format(rows->at, at);
    if (ok && contingents != NULL)
        out = json_pack(
            "{s:s, s:o, s:O, s:o, s:o, s:O, s:{s:O, s:O}, s:O, s:{s:s, s:s, s:s, s:I, s:I, s:I, "
            "s:I, s:O}}",
            "unit", "PERSON", "at", rows->at != INT64_MAX ? json_string(at) : json_null(),
            "stages", stages, "contingents", contingents, "targets", force_targets(rows, &b),
            "history", history, "training", "courses", courses, "certified_by_month",
            certified, "deployment", deployment, "reimbursement", "unit", FUNDING_UNIT, "rate",
            rate, "rate_source", from_ledger ? "ledger" : "default", "per_person_month",
            (json_int_t)per, "deployed", (json_int_t)by_stage[4], "monthly",
            (json_int_t)monthly, "next_12_months",
            (json_int_t)mul_sat(monthly, REPORT_PROJECTION_MONTHS), "by_month", reimbursed);
    else
        json_decref(contingents);
    json_decref(stages);
    json_decref(deployment);
    json_decref(history);
    json_decref(reimbursed);
    json_decref(courses);
    json_decref(certified);
done:
    balances_free(&b);
    return out;
}

/* ---------------------------------------------------------------- aid */

#define AID_STAGES 11
#define AID_PATH 8 /* the stages a consignment goes through when nothing goes wrong */

static const char *const aid_stages[AID_STAGES] = {
    "registered", "screened", "entered", "awaiting", "collected", "warehoused",
    "dispatched", "distributed", "rejected", "damaged", "lost",
};

/*
 * The stage of account aid.<stage>.<location>.<commodity>, or -1; the
 * location (which may hold dots) and the commodity (after the last dot).
 */
static int aid_stage_of(const char *account, char *location, size_t size, const char **commodity)
{
    if (!starts_with(account, "aid.")) return -1;
    const char *rest = account + strlen("aid.");
    for (int k = 0; k < AID_STAGES; k++) {
        size_t n = strlen(aid_stages[k]);
        if (strncmp(rest, aid_stages[k], n) != 0 || rest[n] != '.') continue;
        const char *place = rest + n + 1, *dot = strrchr(place, '.');
        if (dot == NULL || dot == place || dot[1] == '\0') return -1;
        snprintf(location, size, "%.*s", (int)(dot - place), place);
        *commodity = dot + 1;
        return k;
    }
    return -1;
}

/* Stock per stage, location and commodity; totals per stage and commodity. */
static bool aid_stock(const struct balances *b, json_t *stock, json_t *by_commodity,
                      struct groups *totals)
{
    struct groups places;
    groups_init(&places);
    char location[LEDGER_ID_BYTES_MAX + 1], key[3 * LEDGER_ID_BYTES_MAX];
    const char *commodity;
    for (uint32_t i = 0; i < b->count; i++) {
        int s = aid_stage_of(b->rows[i].id, location, sizeof location, &commodity);
        if (s < 0) continue;
        int64_t q = balance_of(b, b->rows[i].id);
        /* Keys sort in pipeline order: the stage's index first. */
        snprintf(key, sizeof key, "%02d\x1f%s\x1f%s", s, location, commodity);
        struct group *g = group_at(&places, key);
        g->label = b->rows[i].unit;
        g->v[0] = add_sat(g->v[0], q);
        snprintf(key, sizeof key, "%02d\x1f%s", s, commodity);
        g = group_at(totals, key);
        g->label = b->rows[i].unit;
        g->v[0] = add_sat(g->v[0], q);
    }
    groups_sort(&places);
    groups_sort(totals);
    bool ok = !places.failed && !totals->failed;
    for (uint32_t i = 0; ok && i < places.count; i++) {
        const struct group *g = &places.rows[i];
        if (g->v[0] == 0) continue;
        char copy[3 * LEDGER_ID_BYTES_MAX];
        snprintf(copy, sizeof copy, "%s", g->key);
        char *place = strchr(copy, '\x1f') + 1, *what = strchr(place, '\x1f') + 1;
        place[-1] = what[-1] = '\0';
        ok = json_array_append_new(stock, json_pack("{s:s, s:s, s:s, s:s, s:I}", "stage",
                                                    aid_stages[atoi(copy)], "location", place,
                                                    "commodity", what, "unit", g->label,
                                                    "quantity", (json_int_t)g->v[0])) == 0;
    }
    for (uint32_t i = 0; ok && i < totals->count; i++) {
        const struct group *g = &totals->rows[i];
        if (g->v[0] == 0) continue;
        ok = json_array_append_new(by_commodity,
                                   json_pack("{s:s, s:s, s:s, s:I}", "stage",
                                             aid_stages[atoi(g->key)], "commodity",
                                             strchr(g->key, '\x1f') + 1, "unit", g->label,
                                             "quantity", (json_int_t)g->v[0])) == 0;
    }
    groups_free(&places);
    return ok;
}

/* "YYYYMMDD" as "YYYY-MM-DD"; false when it is not 8 digits. */
static bool aid_day_text(const char *digits, char out[11])
{
    if (strlen(digits) != 8 || strspn(digits, "0123456789") != 8) return false;
    snprintf(out, 11, "%.4s-%.2s-%.2s", digits, digits + 4, digits + 6);
    return true;
}

enum { X_TRUCKS, X_OVERRIDES, X_KG };

/* Trucks (capacity and overrides) and kilograms entered per crossing per day. */
static json_t *aid_crossings(const struct report_rows *rows)
{
    const struct ledger_view *v = &rows->view;
    struct groups days;
    groups_init(&days);
    char key[2 * LEDGER_ID_BYTES_MAX], location[LEDGER_ID_BYTES_MAX + 1], day[11];
    for (uint32_t i = 0; i < v->transfers_count; i++) {
        const struct ledger_transfer *t = &v->transfers[i];
        if (t->effect_posted == 0) continue;
        if (ends_with(t->id, "/entered/trucks") && starts_with(t->debit, "aid.crossing.")) {
            const char *x = t->debit + strlen("aid.crossing."), *tail = strrchr(x, '.');
            bool override = ends_with(x, ".override");
            const char *mark = override ? tail : strstr(x, ".day.");
            if (mark == NULL || (!override && !aid_day_text(mark + strlen(".day."), day)))
                continue;
            if (override) day_of(t->date, day);
            snprintf(key, sizeof key, "%.*s\x1f%s", (int)(mark - x), x, day);
            group_add(&days, key, X_TRUCKS, t->effect_posted);
            if (override) group_add(&days, key, X_OVERRIDES, t->effect_posted);
            continue;
        }
        const char *commodity;
        if (!kind_is(t, "aid.entered") || strcmp(t->unit, "KG") != 0 ||
            aid_stage_of(t->credit, location, sizeof location, &commodity) != 2)
            continue;
        day_of(t->date, day);
        snprintf(key, sizeof key, "%s\x1f%s", location, day);
        group_add(&days, key, X_KG, t->effect_posted);
    }
    groups_sort(&days);
    json_t *array = days.failed ? NULL : json_array();
    for (uint32_t i = 0; array != NULL && i < days.count; i++) {
        const struct group *g = &days.rows[i];
        char crossing[LEDGER_ID_BYTES_MAX + 1];
        const char *sep = strchr(g->key, '\x1f');
        snprintf(crossing, sizeof crossing, "%.*s", (int)(sep - g->key), g->key);
        char definition[LEDGER_ID_BYTES_MAX + 16];
        snprintf(definition, sizeof definition, "crossing.%s", crossing);
        const struct ledger_transfer *d = ledger_view_transfer(v, definition);
        json_t *meta = d != NULL && kind_is(d, "crossing") ? meta_of(d) : NULL;
        json_t *capacity = json_object_get(meta, "trucks_per_day");
        json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:O}", "crossing", crossing, "day",
                              sep + 1, "trucks", (json_int_t)g->v[X_TRUCKS], "overrides",
                              (json_int_t)g->v[X_OVERRIDES], "kg", (json_int_t)g->v[X_KG],
                              "capacity", capacity != NULL ? capacity : json_null());
        json_decref(meta);
        if (o == NULL || json_array_append_new(array, o) != 0) {
            json_decref(array);
            array = NULL;
        }
    }
    groups_free(&days);
    return array;
}

/* The consignment a per-item move belongs to: its id up to the first '/'. */
static bool aid_consignment_of(const char *id, char *out, size_t size)
{
    const char *slash = strchr(id, '/');
    if (slash == NULL || slash == id) return false;
    snprintf(out, size, "%.*s", (int)(slash - id), id);
    return true;
}

/* Hours each consignment stayed at each stage of the path, p50 and p90 per stage. */
static json_t *aid_dwell(const struct report_rows *rows)
{
    const struct ledger_view *v = &rows->view;
    struct strmap index;
    strmap_init(&index);
    uint32_t consignments = 0;
    int64_t (*arrival)[AID_PATH] = NULL;
    int64_t *hours = NULL;
    json_t *array = NULL;
    /* Each consignment's record, numbered in seq order. */
    for (uint32_t i = 0; i < v->transfers_count; i++)
        if (v->transfers[i].pending_id == NULL && kind_is(&v->transfers[i], "consignment") &&
            !strmap_put(&index, v->transfers[i].id, consignments++))
            goto done;
    arrival = malloc((consignments ? consignments : 1) * sizeof *arrival);
    hours = malloc((consignments ? consignments : 1) * sizeof *hours);
    if (arrival == NULL || hours == NULL) goto done;
    for (uint32_t c = 0; c < consignments; c++)
        for (int s = 0; s < AID_PATH; s++) arrival[c][s] = INT64_MAX;
    for (uint32_t i = 0; i < v->transfers_count; i++) {
        const struct ledger_transfer *t = &v->transfers[i];
        char consignment[LEDGER_ID_BYTES_MAX + 1];
        uint32_t c;
        if (t->pending_id == NULL && kind_is(t, "consignment") &&
            strmap_get(&index, t->id, &c) && t->date < arrival[c][0])
            arrival[c][0] = t->date; /* registered when recorded */
        if (t->kind == NULL || !starts_with(t->kind, "aid.") || ends_with(t->id, "/trucks") ||
            !aid_consignment_of(t->id, consignment, sizeof consignment) ||
            !strmap_get(&index, consignment, &c))
            continue;
        for (int s = 0; s < AID_PATH; s++)
            if (strcmp(t->kind + strlen("aid."), aid_stages[s]) == 0 && t->date < arrival[c][s])
                arrival[c][s] = t->date;
    }
    array = json_array();
    for (int s = 0; array != NULL && s < AID_PATH - 1; s++) {
        size_t n = 0;
        for (uint32_t c = 0; c < consignments; c++) {
            if (arrival[c][s] == INT64_MAX) continue;
            int64_t next = INT64_MAX; /* the first later stage it reached */
            for (int k = s + 1; k < AID_PATH && next == INT64_MAX; k++) next = arrival[c][k];
            if (next != INT64_MAX && next >= arrival[c][s])
                hours[n++] = (next - arrival[c][s]) / (3600 * TIME_NS_PER_SECOND);
        }
        if (n == 0) continue;
        qsort(hours, n, sizeof *hours, cmp_int64);
        json_array_append_new(array, json_pack("{s:s, s:I, s:I, s:I}", "stage", aid_stages[s],
                                               "consignments", (json_int_t)n, "p50_hours",
                                               (json_int_t)percentile(hours, n, 50), "p90_hours",
                                               (json_int_t)percentile(hours, n, 90)));
    }
done:
    strmap_free(&index);
    free(arrival);
    free(hours);
    return array;
}

/* Delivered (distributed, good) against need per point over the period. */
static json_t *aid_delivery(const struct report_rows *rows, const struct balances *b)
{
    const struct ledger_view *v = &rows->view;
    int64_t first = INT64_MAX, last = INT64_MIN;
    for (uint32_t i = 0; i < v->transfers_count; i++) {
        const struct ledger_transfer *t = &v->transfers[i];
        if (!kind_is(t, "aid.distributed")) continue;
        if (t->date < first) first = t->date;
        if (t->date > last) last = t->date;
    }
    bool any = first != INT64_MAX;
    if (any && rows->at != INT64_MAX) last = rows->at;
    int64_t days = any ? floor_div(last, TIME_NS_PER_DAY) - floor_div(first, TIME_NS_PER_DAY) + 1
                       : 0;
    char from[11] = "", to[11] = "";
    if (any) {
        day_of(first, from);
        day_of(last, to);
    }
    json_t *points = json_array();
    for (uint32_t i = 0; points != NULL && i < v->transfers_count; i++) {
        const struct ledger_transfer *t = &v->transfers[i];
        if (t->pending_id != NULL || !kind_is(t, "distribution_point") ||
            !starts_with(t->id, "point."))
            continue;
        const char *point = t->id + strlen("point.");
        json_t *meta = meta_of(t), *need = json_object_get(meta, "need");
        const char *commodity;
        json_t *per_day;
        json_object_foreach(need, commodity, per_day) {
            char account[2 * LEDGER_ID_BYTES_MAX];
            snprintf(account, sizeof account, "aid.distributed.%s.%s", point, commodity);
            int64_t delivered = balance_of(b, account);
            uint32_t k;
            const char *unit = strmap_get(&b->by_id, account, &k) ? b->rows[k].unit : NULL;
            if (unit == NULL) { /* nothing delivered yet: the commodity's own unit */
                snprintf(account, sizeof account, "aid.commodity.%s", commodity);
                const struct ledger_account *a = ledger_view_account(v, account);
                unit = a != NULL ? a->unit : NULL;
            }
            int64_t needed = mul_sat(json_integer_value(per_day), days);
            json_t *name = json_object_get(meta, "name"),
                   *population = json_object_get(meta, "population");
            json_array_append_new(
                points,
                json_pack("{s:s, s:O, s:O, s:s, s:s?, s:I, s:I, s:I, s:I}", "point", point,
                          "name", name != NULL ? name : json_null(), "population",
                          population != NULL ? population : json_null(), "commodity", commodity,
                          "unit", unit,
                          "need_per_day", (json_int_t)json_integer_value(per_day), "need",
                          (json_int_t)needed, "delivered", (json_int_t)delivered, "shortfall",
                          (json_int_t)(needed > delivered ? needed - delivered : 0)));
        }
        json_decref(meta);
    }
    return json_pack("{s:o, s:o, s:I, s:o}", "from", any ? json_string(from) : json_null(), "to",
                     any ? json_string(to) : json_null(), "days", (json_int_t)days, "points",
                     points);
}

enum { L_MOVES, L_QUANTITY };

/* Damaged and lost per commodity; rejections per reason and commodity. */
static bool aid_losses(const struct report_rows *rows, json_t *losses, json_t *rejections)
{
    const struct ledger_view *v = &rows->view;
    struct groups lost, rejected;
    groups_init(&lost);
    groups_init(&rejected);
    char location[LEDGER_ID_BYTES_MAX + 1], key[3 * LEDGER_ID_BYTES_MAX];
    const char *commodity;
    for (uint32_t i = 0; i < v->transfers_count; i++) {
        const struct ledger_transfer *t = &v->transfers[i];
        if (t->effect_posted == 0) continue;
        int s = aid_stage_of(t->credit, location, sizeof location, &commodity);
        if (s == 9 || s == 10) { /* damaged, lost */
            snprintf(key, sizeof key, "%02d\x1f%s", s, commodity);
            struct group *g = group_at(&lost, key);
            g->label = t->unit;
            g->v[L_MOVES]++;
            g->v[L_QUANTITY] = add_sat(g->v[L_QUANTITY], t->effect_posted);
        } else if (s == 8) {
            json_t *meta = meta_of(t);
            char reason[LEDGER_ID_BYTES_MAX + 1];
            if (!meta_text(meta, "reason", reason, sizeof reason))
                snprintf(reason, sizeof reason, "%s", FUNDING_NONE);
            json_decref(meta);
            snprintf(key, sizeof key, "%s\x1f%s", reason, commodity);
            struct group *g = group_at(&rejected, key);
            g->label = t->unit;
            g->v[L_MOVES]++;
            g->v[L_QUANTITY] = add_sat(g->v[L_QUANTITY], t->effect_posted);
        }
    }
    groups_sort(&lost);
    groups_sort(&rejected);
    bool ok = !lost.failed && !rejected.failed;
    for (uint32_t i = 0; ok && i < lost.count; i++) {
        const struct group *g = &lost.rows[i];
        ok = json_array_append_new(
                 losses, json_pack("{s:s, s:s, s:s, s:I, s:I}", "stage", aid_stages[atoi(g->key)],
                                   "commodity", strchr(g->key, '\x1f') + 1, "unit", g->label,
                                   "moves", (json_int_t)g->v[L_MOVES], "quantity",
                                   (json_int_t)g->v[L_QUANTITY])) == 0;
    }
    for (uint32_t i = 0; ok && i < rejected.count; i++) {
        const struct group *g = &rejected.rows[i];
        const char *sep = strchr(g->key, '\x1f');
        char reason[LEDGER_ID_BYTES_MAX + 1];
        snprintf(reason, sizeof reason, "%.*s", (int)(sep - g->key), g->key);
        ok = json_array_append_new(
                 rejections, json_pack("{s:s, s:s, s:s, s:I, s:I}", "reason", reason, "commodity",
                                       sep + 1, "unit", g->label, "count",
                                       (json_int_t)g->v[L_MOVES], "quantity",
                                       (json_int_t)g->v[L_QUANTITY])) == 0;
    }
    groups_free(&lost);
    groups_free(&rejected);
    return ok;
}

json_t *report_aid_json(const struct report_rows *rows)
{
    struct balances b;
    struct groups totals;
    groups_init(&totals);
    json_t *out = NULL;
    if (!balances_build(rows, &b)) goto done;
    json_t *stock = json_array(), *by_commodity = json_array(), *losses = json_array(),
           *rejections = json_array();
    bool ok = stock && by_commodity && losses && rejections &&
              aid_stock(&b, stock, by_commodity, &totals) &&
              aid_losses(rows, losses, rejections);
    char at[TIME_TEXT_BYTES];
    if (rows->at != INT64_MAX) time_format(rows->at, at);
    if (ok)
        out = json_pack("{s:o, s:O, s:O, s:o, s:o, s:o, s:O, s:O}", "at",
                        rows->at != INT64_MAX ? json_string(at) : json_null(), "stock", stock,
                        "stock_by_commodity", by_commodity, "crossings", aid_crossings(rows),
                        "dwell", aid_dwell(rows), "delivery", aid_delivery(rows, &b), "losses",
                        losses, "rejections", rejections);
    json_decref(stock);
    json_decref(by_commodity);
    json_decref(losses);
    json_decref(rejections);
done:
    groups_free(&totals);
    balances_free(&b);
    return out;
}

/* ---------------------------------------------------------------- the overview */

/* A new object of src's members named in keys (NULL-terminated); NULL when memory ran out. */
static json_t *members(const json_t *src, const char *const *keys)
{
    json_t *out = json_object();
    for (const char *const *k = keys; out != NULL && *k != NULL; k++) {
        json_t *v = json_object_get(src, *k);
        if (v != NULL && json_object_set(out, *k, v) != 0) {
            json_decref(out);
            out = NULL;
        }
    }
    return out;
}

/*
 * The mission at a glance, from one load of the rows: what the dashboard's
 * first page shows. Computing the three reports costs little next to
 * reading their rows, which this reads once instead of three times.
 */
json_t *report_overview_json(const struct report_rows *rows)
{
    static const char *const funding_keys[] = {"unit", "totals", "by_condition", NULL};
    static const char *const force_keys[] = {"unit", "stages", "targets", "deployment", NULL};
    static const char *const aid_keys[] = {"delivery", NULL};
    json_t *funding = report_funding_json(rows);
    json_t *force = report_force_json(rows);
    json_t *aid = report_aid_json(rows);
    json_t *out = NULL;
    if (funding != NULL && force != NULL && aid != NULL)
        out = json_pack("{s:O, s:o, s:o, s:o}", "at", json_object_get(funding, "at"),
                        "funding", members(funding, funding_keys), "force",
                        members(force, force_keys), "aid", members(aid, aid_keys));
    json_decref(funding);
    json_decref(force);
    json_decref(aid);
    return out;
}

/* ---------------------------------------------------------------- by name */

report_domain_fn report_domain_find(const char *name)
{
    static const struct {
        const char *name;
        report_domain_fn fn;
    } reports[] = {
        {"funding", report_funding_json},
        {"force", report_force_json},
        {"aid", report_aid_json},
        {"overview", report_overview_json},
    };
    for (size_t i = 0; i < sizeof reports / sizeof reports[0]; i++)
        if (strcmp(reports[i].name, name) == 0) return reports[i].fn;
    return NULL;
}

enum cc_err report_domain(struct concord *cc, const char *name, int64_t at, json_t **out,
                          struct cc_error *err)
{
    return report_domain_source(cc, name, at, NULL, out, err);
}

/*
 * Is a figure of the report at the end of the int64 range, where its sums
 * saturate (add_sat)? Then it is not the figure, and the report is not
 * shown: where says which ("totals.pledged", "by_donor[2].committed"). A
 * true sum of exactly 2^63-1 is taken for one beyond it, at the same edge.
 */
#define REPORT_PATH_BYTES 128
static bool figure_saturated(const json_t *v, char *where, size_t size, size_t used)
{
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        return n == INT64_MAX || n == INT64_MIN;
    }
    if (json_is_object(v)) {
        const char *key;
        const json_t *member;
        json_object_foreach((json_t *)v, key, member) {
            int w = snprintf(where + used, size - used, "%s%s", used ? "." : "", key);
            size_t next = w > 0 && (size_t)w < size - used ? used + (size_t)w : size - 1;
            if (figure_saturated(member, where, size, next)) return true;
        }
    } else if (json_is_array(v)) {
        size_t i;
        const json_t *item;
        json_array_foreach(v, i, item) {
            int w = snprintf(where + used, size - used, "[%zu]", i);
            size_t next = w > 0 && (size_t)w < size - used ? used + (size_t)w : size - 1;
            if (figure_saturated(item, where, size, next)) return true;
        }
    }
    where[used] = '\0';
    return false;
}

enum cc_err report_domain_source(struct concord *cc, const char *name, int64_t at,
                                 const char *source, json_t **out, struct cc_error *err)
{
    *out = NULL;
    report_domain_fn fn = report_domain_find(name);
    if (fn == NULL)
        return cc_error_set(err, CC_ERR_USAGE, "no report %s (funding, force, aid or overview)", name);
    if (source != NULL && strcmp(name, "funding") != 0)
        return cc_error_set(err, CC_ERR_USAGE, "source: only the funding report has sources");
    /* Only the sources source_of_transfer can answer: any other would report zeros, silently. */
    if (source != NULL && strcmp(source, "fts") != 0 && strcmp(source, "iati") != 0 &&
        strcmp(source, "hxl") != 0 && strcmp(source, REPORT_SOURCE_MISSION) != 0)
        return cc_error_set(err, CC_ERR_USAGE, "source: fts, iati, hxl or mission, not \"%.*s\"",
                            REPORT_SOURCE_BYTES_MAX, source);
    struct report_rows rows;
    enum cc_err rc = report_rows_load(cc, at, &rows, err);
    rows.source = source;
    if (rc == CC_OK) {
        *out = fn(&rows);
        if (*out == NULL) rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    }
    char where[REPORT_PATH_BYTES];
    if (rc == CC_OK && figure_saturated(*out, where, sizeof where, 0)) {
        json_decref(*out);
        *out = NULL;
        rc = cc_error_set(err, CC_ERR_REJECTED,
                          "report %s: %s is beyond 2^63-1 minor units: the sums of these "
                          "amounts cannot be shown exactly",
                          name, where);
    }
    report_rows_free(&rows);
    return rc;
}
