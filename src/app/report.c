/*
 * report.c — gaps, scenarios and forecasts over the requirements (see report.h).
 *
 * Every report loads the conditions and requirements into its own view (so
 * derived conditions are evaluated exactly as the ledger does), measures
 * what has posted from the balances, then walks the pending transfers once:
 * each one adds to every requirement whose accounts it credits (and, for the
 * balance measure, subtracts from those whose accounts it debits).
 */
#include "app/report.h"

#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_internal.h"
#include "util/timefmt.h"

static int64_t clamp64(__int128 v)
{
    if (v > INT64_MAX) return INT64_MAX;
    if (v < INT64_MIN) return INT64_MIN;
    return (int64_t)v;
}

static int64_t gap_of(__int128 target, __int128 have)
{
    return target > have ? clamp64(target - have) : 0;
}

void report_free(struct report *report)
{
    ledger_view_free(&report->view);
    free(report->requirements);
    free(report->exposure);
    memset(report, 0, sizeof *report);
}

static bool in_scope(const struct ledger_requirement *r, const char *account)
{
    size_t n = strlen(r->account);
    return r->account[n - 1] == '.' ? strncmp(account, r->account, n) == 0
                                    : strcmp(account, r->account) == 0;
}

/* What a pending transfer adds to requirement r if it posts (0: not in scope). */
static int64_t contribution(const struct ledger_requirement *r, const struct ledger_transfer *t)
{
    if (strcmp(t->unit, r->unit) != 0) return 0;
    __int128 c = 0;
    if (in_scope(r, t->credit)) c += t->amount;
    if (r->measure == LEDGER_MEASURE_BALANCE && in_scope(r, t->debit)) c -= t->amount;
    return clamp64(c);
}

/* ---------------------------------------------------------------- conversion */

/* Parses a rate "12.345" into mantissa and decimal places (validated on entry). */
static bool rate_parse(const char *text, __int128 *mantissa, int *places)
{
    __int128 m = 0;
    int k = 0;
    bool point = false;
    for (const char *p = text; *p; p++) {
        if (*p == '.') {
            point = true;
            continue;
        }
        if (*p < '0' || *p > '9' || m > (__int128)1 << 100) return false;
        m = m * 10 + (*p - '0');
        if (point) k++;
    }
    *mantissa = m;
    *places = k;
    return true;
}

static __int128 pow10_i128(int e)
{
    __int128 p = 1;
    while (e-- > 0) p *= 10;
    return p;
}

/* a / b rounded half away from zero (b > 0). */
static __int128 div_round(__int128 a, __int128 b)
{
    __int128 q = a / b, r = a % b;
    if (r < 0) r = -r;
    if (2 * r >= b) q += a < 0 ? -1 : 1;
    return q;
}

struct converter {
    struct report *report;
    struct concord *cc;
};

/*
 * Converts `amount` minor units of `unit` into REPORT_SUBUNITS_PER_MINOR-ths
 * of a minor unit of report->in, at the latest rate from `unit` to it dated
 * at or before `date`. Integer arithmetic throughout.
 */
static enum cc_err convert(const struct converter *c, const char *unit, int64_t amount,
                           int64_t date, __int128 *out, struct cc_error *err)
{
    struct report *report = c->report;
    if (strcmp(unit, report->in) == 0) {
        *out = (__int128)amount * REPORT_SUBUNITS_PER_MINOR;
        return CC_OK;
    }
    const struct ledger_rate *best = NULL;
    for (uint32_t i = 0; i < report->view.rates_count; i++) {
        const struct ledger_rate *r = &report->view.rates[i];
        if (r->date <= date && strcmp(r->unit, unit) == 0 && strcmp(r->to, report->in) == 0 &&
            (best == NULL || r->date > best->date))
            best = r;
    }
    if (best == NULL) {
        char when[TIME_TEXT_BYTES];
        time_format_date(date, when);
        return cc_error_set(err, CC_ERR_NOT_FOUND, "no rate from %s to %s on or before %s",
                            unit, report->in, when);
    }
    struct ledger_unit from;
    enum cc_err rc = concord_unit_get(c->cc, unit, &from, NULL, 0, err);
    if (rc != CC_OK) return rc;
    __int128 mantissa;
    int places;
    if (!rate_parse(best->rate, &mantissa, &places))
        return cc_error_set(err, CC_ERR_STORE, "rate %s is not a decimal", best->rate);
    /* amount · mantissa · 10^(to_scale − from_scale + 9 − places) */
    int e = report->in_scale - from.scale + 9 - places;
    __int128 v;
    if (__builtin_mul_overflow((__int128)amount, mantissa, &v) ||
        (e > 0 && __builtin_mul_overflow(v, pow10_i128(e), &v)))
        return cc_error_set(err, CC_ERR_REJECTED, "converting %lld %s into %s overflows",
                            (long long)amount, unit, report->in);
    *out = e >= 0 ? v : div_round(v, pow10_i128(-e));
    return CC_OK;
}

/* A sum of subunits, rounded once into minor units. */
static int64_t to_minor(__int128 subunits)
{
    return clamp64(div_round(subunits, REPORT_SUBUNITS_PER_MINOR));
}

/* ---------------------------------------------------------------- measuring */

/* The four balances of a scope (an account, or accounts under a prefix) in one unit. */
struct measured {
    const char *unit;      /* the unit of the accounts measured */
    const char *scope;     /* account id, or prefix */
    bool prefix;           /* scope is a prefix */
    __int128 b[4];         /* debits_pending, debits_posted, credits_pending, credits_posted */
    int64_t accounts;
    const struct converter *conv; /* NULL: no conversion, b in minor units of unit */
    enum cc_err error;
    struct cc_error *err;
};

static int measure_row(void *ctx, const struct store_balance *b)
{
    struct measured *m = ctx;
    if (strcmp(b->unit, m->unit) != 0) return 0;
    m->b[0] += b->debits_pending;
    m->b[1] += b->debits_posted;
    m->b[2] += b->credits_pending;
    m->b[3] += b->credits_posted;
    m->accounts += b->accounts;
    return 0;
}

/* One row of an account in scope, converted at its dates (subunits). */
static int measure_effect(void *ctx, const struct store_effect *e)
{
    struct measured *m = ctx;
    __int128 posted, pending;
    m->error = convert(m->conv, m->unit, e->posted, e->date, &posted, m->err);
    if (m->error == CC_OK)
        m->error = convert(m->conv, m->unit, e->pending, e->pending_date, &pending, m->err);
    if (m->error != CC_OK) return 1;
    __int128 *side = m->b + (e->debit ? 0 : 2);
    side[0] += pending;
    side[1] += posted;
    return 0;
}

struct scope_walk {
    struct concord *cc;
    struct measured *m;
    int64_t at;
    char last[LEDGER_ID_BYTES_MAX + 1];
    uint32_t seen;
};

static int scope_account(void *ctx, const struct ledger_account *a)
{
    struct scope_walk *w = ctx;
    snprintf(w->last, sizeof w->last, "%s", a->id);
    w->seen++;
    if (strcmp(a->unit, w->m->unit) != 0) return 0;
    w->m->accounts++;
    enum cc_err rc = w->cc->store->driver->account_effects(w->cc->store, a->id, w->at,
                                                           measure_effect, w->m, w->m->err);
    if (rc != CC_OK && w->m->error == CC_OK) w->m->error = rc;
    return w->m->error != CC_OK;
}

/* A scope's balances, converted transfer by transfer (in subunits). */
static enum cc_err measure_converted(struct concord *cc, int64_t at, struct measured *m)
{
    if (!m->prefix) {
        m->accounts = 1;
        enum cc_err rc = cc->store->driver->account_effects(cc->store, m->scope, at,
                                                            measure_effect, m, m->err);
        if (rc == CC_ERR_NOT_FOUND) {
            m->accounts = 0;
            return CC_OK;
        }
        return rc != CC_OK ? rc : m->error;
    }
    struct scope_walk w = {.cc = cc, .m = m, .at = at};
    for (;;) {
        w.seen = 0;
        enum cc_err rc = concord_accounts_list_any(cc, m->scope, w.last, STORE_LIST_LIMIT_MAX,
                                               scope_account, &w, m->err);
        if (rc != CC_OK) return rc;
        if (m->error != CC_OK) return m->error;
        if (w.seen < STORE_LIST_LIMIT_MAX) return CC_OK;
    }
}

/* A scope's balances in its own unit, from the account rows or as of a date. */
static enum cc_err measure_plain(struct concord *cc, int64_t at, struct measured *m)
{
    if (m->prefix) return concord_balance_prefix(cc, m->scope, at, measure_row, m, m->err);
    enum cc_err rc = concord_balance_any(cc, m->scope, at, measure_row, m, m->err);
    return rc == CC_ERR_NOT_FOUND ? CC_OK : rc; /* planned before the account exists */
}

/* The target in the reporting unit: at the rate of its due date, or now. */
static enum cc_err target_converted(const struct converter *conv,
                                    const struct ledger_requirement *r, int64_t *out,
                                    struct cc_error *err)
{
    __int128 v;
    enum cc_err rc = convert(conv, r->unit, r->target, r->has_due ? r->due : time_now_ns(), &v,
                             err);
    if (rc == CC_OK) *out = to_minor(v);
    return rc;
}

/* Loads conditions, requirements and rates, and measures every requirement as of `at`. */
static enum cc_err report_load(struct concord *cc, int64_t at, const char *in,
                               struct report *report, struct cc_error *err)
{
    memset(report, 0, sizeof *report);
    ledger_view_init(&report->view);
    const struct store_driver *d = cc->store->driver;
    enum cc_err rc = d->load_conditions(cc->store, &report->view, err);
    if (rc == CC_OK) rc = d->load_requirements(cc->store, &report->view, err);
    if (rc == CC_OK && in != NULL) rc = d->load_rates(cc->store, &report->view, err);
    if (rc != CC_OK) return rc;
    if (in != NULL) {
        struct ledger_unit unit;
        if (concord_unit_get(cc, in, &unit, NULL, 0, err) != CC_OK)
            return cc_error_set(err, CC_ERR_NOT_FOUND, "no unit %s to report in", in);
        report->in = arena_strdup(&report->view.arena, in);
        if (report->in == NULL) return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
        report->in_scale = unit.scale;
    }
    struct converter conv = {.report = report, .cc = cc};
    uint32_t n = report->view.requirements_count;
    report->requirements = calloc(n ? n : 1, sizeof *report->requirements);
    if (report->requirements == NULL) return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    report->requirements_count = n;
    for (uint32_t i = 0; i < n && rc == CC_OK; i++) {
        const struct ledger_requirement *r = &report->view.requirements[i];
        struct report_requirement *out = &report->requirements[i];
        struct measured m = {.unit = r->unit, .scope = r->account,
                             .prefix = r->account[strlen(r->account) - 1] == '.', .err = err};
        out->requirement = r;
        out->target = r->target;
        out->unit = r->unit;
        bool converting = in != NULL && strcmp(in, r->unit) != 0;
        if (converting) {
            m.conv = &conv;
            out->unit = report->in;
            out->scale = report->in_scale;
            rc = target_converted(&conv, r, &out->target, err);
            if (rc == CC_OK) rc = measure_converted(cc, at, &m);
            for (int k = 0; k < 4; k++) m.b[k] = to_minor(m.b[k]);
        } else {
            struct ledger_unit unit;
            rc = concord_unit_get(cc, r->unit, &unit, NULL, 0, err);
            out->scale = unit.scale;
            if (rc == CC_OK) rc = measure_plain(cc, at, &m);
        }
        __int128 posted = m.b[3], pending = m.b[2];
        if (r->measure == LEDGER_MEASURE_BALANCE) {
            posted -= m.b[1];
            pending -= m.b[0];
        }
        out->posted = clamp64(posted);
        out->pending = clamp64(pending);
        out->gap = gap_of(out->target, posted);
        out->gap_if_pending_post = gap_of(out->target, posted + pending);
    }
    return rc;
}

enum cc_err report_gaps(struct concord *cc, int64_t at, const char *in, struct report *report,
                        struct cc_error *err)
{
    /* Callers record due expiries first when they can write (the CLI does). */
    return report_load(cc, at, in, report, err);
}

/*
 * What pending transfer t adds to requirement i if it posts, in subunits of
 * the requirement's figures (converted at t's date when reporting in another
 * unit). 0 when it is out of scope.
 */
static enum cc_err contribution_subunits(struct concord *cc, struct report *report, uint32_t i,
                                         const struct ledger_transfer *t, __int128 *out,
                                         struct cc_error *err)
{
    const struct report_requirement *rr = &report->requirements[i];
    int64_t c = contribution(rr->requirement, t);
    if (c == 0 || strcmp(rr->unit, rr->requirement->unit) == 0) {
        *out = (__int128)c * REPORT_SUBUNITS_PER_MINOR;
        return CC_OK;
    }
    struct converter conv = {.report = report, .cc = cc};
    return convert(&conv, rr->requirement->unit, c, t->date, out, err);
}

/* ---------------------------------------------------------------- scenario */

struct scenario {
    struct concord *cc;
    struct report *report;
    const uint8_t *states;  /* per condition, with the assumptions */
    __int128 *low, *high;   /* per requirement */
    uint8_t *bases;         /* scratch: per condition, seen while expanding */
    enum cc_err error;
    struct cc_error *err;
};

/* Adds amount to the exposure of condition `name` in `unit`. */
static bool exposure_add(struct report *report, const char *name, const char *unit,
                         int64_t amount)
{
    for (uint32_t i = 0; i < report->exposure_count; i++) {
        struct report_exposure *e = &report->exposure[i];
        if (strcmp(e->condition, name) == 0 && strcmp(e->unit, unit) == 0) {
            e->pending = clamp64((__int128)e->pending + amount);
            return true;
        }
    }
    if (!ledger_grow((void **)&report->exposure, &report->exposure_capacity,
                     report->exposure_count, sizeof *report->exposure))
        return false;
    /* Unit codes are few: keep one copy per exposure row in the view's arena. */
    const char *u = arena_strdup(&report->view.arena, unit);
    if (u == NULL) return false;
    report->exposure[report->exposure_count++] =
        (struct report_exposure){.condition = name, .unit = u, .pending = amount};
    return true;
}

struct expose {
    struct scenario *s;
    const struct ledger_transfer *t;
    bool failed;
};

/* Charges a transfer's amount to each open base condition its `if` depends on. */
static void expose_visit(void *ctx, uint32_t index)
{
    struct expose *e = ctx;
    struct report *report = e->s->report;
    if (e->s->bases[index]) return;
    e->s->bases[index] = 1;
    const struct cond_expr *when = &report->view.condition_when[index];
    if (when->count > 0) {
        cond_expr_names(when, expose_visit, e);
        return;
    }
    if (e->s->states[index] != COND_OPEN) return;
    if (!exposure_add(report, report->view.conditions[index].name, e->t->unit, e->t->amount))
        e->failed = true;
}

static int scenario_pending(void *ctx, const struct ledger_transfer *t)
{
    struct scenario *s = ctx;
    struct report *report = s->report;
    enum cond_state value = COND_MET;
    struct cond_expr gate = {0};
    if (t->cond != NULL) {
        struct cond_error error;
        if (!cond_parse(t->cond, ledger_condition_lookup, &report->view, NULL, &gate, &error)) {
            s->error = cc_error_set(s->err, CC_ERR_STORE, "transfer %s: if: %s", t->id,
                                    error.message);
            return 1;
        }
        value = cond_eval(&gate, s->states);
    }
    for (uint32_t i = 0; i < report->requirements_count && value != COND_FAILED; i++) {
        __int128 c;
        s->error = contribution_subunits(s->cc, report, i, t, &c, s->err);
        if (s->error != CC_OK) break;
        if (c == 0) continue;
        if (value == COND_MET) {
            s->low[i] += c;
            s->high[i] += c;
        } else if (c > 0) {
            s->high[i] += c;
        } else {
            s->low[i] += c;
        }
    }
    if (value == COND_OPEN && s->error == CC_OK) {
        memset(s->bases, 0, report->view.conditions_count);
        struct expose e = {.s = s, .t = t};
        cond_expr_names(&gate, expose_visit, &e);
        if (e.failed) s->error = cc_error_set(s->err, CC_ERR_NOMEM, "out of memory");
    }
    cond_expr_free(&gate);
    return s->error != CC_OK;
}

enum cc_err report_scenario(struct concord *cc, const struct report_assumption *assume,
                            uint32_t count, const char *in, struct report *report,
                            struct cc_error *err)
{
    if (count > REPORT_ASSUMPTIONS_MAX)
        return cc_error_set(err, CC_ERR_USAGE, "at most %d assumptions", REPORT_ASSUMPTIONS_MAX);
    enum cc_err rc = report_gaps(cc, INT64_MAX, in, report, err);
    if (rc != CC_OK) return rc;
    struct ledger_view *v = &report->view;
    uint32_t n = v->conditions_count, m = report->requirements_count;
    uint8_t *states = malloc(n + 1);
    uint8_t *bases = malloc(n + 1);
    __int128 *low = calloc(m + 1, sizeof *low), *high = calloc(m + 1, sizeof *high);
    if (states == NULL || bases == NULL || low == NULL || high == NULL) {
        rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < n; i++) states[i] = v->conditions[i].state;
    for (uint32_t k = 0; k < count && rc == CC_OK; k++) {
        uint32_t i;
        if (!strmap_get(&v->conditions_by_name, assume[k].name, &i))
            rc = cc_error_set(err, CC_ERR_NOT_FOUND, "no condition %s", assume[k].name);
        else if (v->condition_when[i].count > 0)
            rc = cc_error_set(err, CC_ERR_USAGE, "%s is derived (%s): assume what it is made of",
                              assume[k].name, v->conditions[i].when);
        else if (v->conditions[i].state != COND_OPEN && v->conditions[i].state != assume[k].state)
            rc = cc_error_set(err, CC_ERR_USAGE, "%s is already %s", assume[k].name,
                              cond_state_name(v->conditions[i].state));
        else
            states[i] = (uint8_t)assume[k].state;
    }
    if (rc != CC_OK) goto done;
    /* Derived conditions follow the assumptions, in creation order. */
    for (uint32_t i = 0; i < n; i++)
        if (v->condition_when[i].count > 0)
            states[i] = (uint8_t)cond_eval(&v->condition_when[i], states);
    for (uint32_t i = 0; i < m; i++)
        low[i] = high[i] = (__int128)report->requirements[i].posted * REPORT_SUBUNITS_PER_MINOR;
    struct scenario s = {.cc = cc, .report = report, .states = states, .low = low,
                         .high = high, .bases = bases, .err = err};
    rc = cc->store->driver->pending_all(cc->store, scenario_pending, &s, err);
    if (rc == CC_OK) rc = s.error;
    for (uint32_t i = 0; i < m; i++) {
        report->requirements[i].low = to_minor(low[i]);
        report->requirements[i].high = to_minor(high[i]);
    }
done:
    free(states);
    free(bases);
    free(low);
    free(high);
    return rc;
}

/* ---------------------------------------------------------------- forecast */

/* The pending amounts of one requirement, grouped by the text of their `if`. */
struct terms {
    struct cond_term *items;
    __int128 *subunits;   /* per item: its amount before the one rounding */
    uint32_t count, capacity, subunits_capacity;
    struct strmap by_text; /* `if` text (in the view's arena) → index; "" for none */
};

struct forecast {
    struct concord *cc;
    struct report *report;
    struct terms *terms; /* per requirement */
    enum cc_err error;
    struct cc_error *err;
};

static bool terms_add(struct forecast *f, struct terms *terms, const char *text,
                      __int128 amount)
{
    uint32_t i;
    const char *key = text != NULL ? text : "";
    if (strmap_get(&terms->by_text, key, &i)) {
        terms->subunits[i] += amount;
        return true;
    }
    if (!ledger_grow((void **)&terms->items, &terms->capacity, terms->count,
                     sizeof *terms->items))
        return false;
    if (!ledger_grow((void **)&terms->subunits, &terms->subunits_capacity, terms->count,
                     sizeof *terms->subunits))
        return false;
    struct cond_expr *expr = NULL;
    if (text != NULL) {
        expr = calloc(1, sizeof *expr);
        struct cond_error error;
        if (expr == NULL) return false;
        if (!cond_parse(text, ledger_condition_lookup, &f->report->view, NULL, expr, &error)) {
            free(expr);
            f->error = cc_error_set(f->err, CC_ERR_STORE, "if \"%s\": %s", text, error.message);
            return false;
        }
    }
    const char *copy = arena_strdup(&f->report->view.arena, key);
    if (copy == NULL || !strmap_put(&terms->by_text, copy, terms->count)) {
        if (expr != NULL) cond_expr_free(expr);
        free(expr);
        return false;
    }
    terms->subunits[terms->count] = amount;
    terms->items[terms->count++] = (struct cond_term){.expr = expr};
    return true;
}

static int forecast_pending(void *ctx, const struct ledger_transfer *t)
{
    struct forecast *f = ctx;
    for (uint32_t i = 0; i < f->report->requirements_count; i++) {
        __int128 c;
        f->error = contribution_subunits(f->cc, f->report, i, t, &c, f->err);
        if (f->error != CC_OK) return 1;
        if (c != 0 && !terms_add(f, &f->terms[i], t->cond, c)) {
            if (f->error == CC_OK) f->error = cc_error_set(f->err, CC_ERR_NOMEM, "out of memory");
            return 1;
        }
    }
    return 0;
}

enum cc_err report_forecast(struct concord *cc, const struct cond_forecast_options *options,
                            const char *in, struct report *report, struct cc_error *err)
{
    enum cc_err rc = report_gaps(cc, INT64_MAX, in, report, err);
    if (rc != CC_OK) return rc;
    struct ledger_view *v = &report->view;
    uint32_t n = v->conditions_count, m = report->requirements_count;
    struct terms *terms = calloc(m + 1, sizeof *terms);
    double *probability = malloc((n + 1) * sizeof *probability);
    const struct cond_expr **when = malloc((n + 1) * sizeof *when);
    struct cond_forecast_input *inputs = calloc(m + 1, sizeof *inputs);
    struct cond_forecast_output *outputs = calloc(m + 1, sizeof *outputs);
    if (terms == NULL || probability == NULL || when == NULL || inputs == NULL ||
        outputs == NULL) {
        rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < m; i++) strmap_init(&terms[i].by_text);
    struct forecast f = {.cc = cc, .report = report, .terms = terms, .err = err};
    rc = cc->store->driver->pending_all(cc->store, forecast_pending, &f, err);
    if (rc == CC_OK) rc = f.error;
    if (rc != CC_OK) goto done;
    for (uint32_t i = 0; i < n; i++) {
        probability[i] = v->conditions[i].has_probability ? v->conditions[i].probability : 0.5;
        when[i] = v->condition_when[i].count > 0 ? &v->condition_when[i] : NULL;
    }
    for (uint32_t i = 0; i < m; i++) {
        /* Each group of amounts is rounded once, from its exact sum. */
        for (uint32_t k = 0; k < terms[i].count; k++)
            terms[i].items[k].amount = to_minor(terms[i].subunits[k]);
    }
    for (uint32_t i = 0; i < m; i++)
        inputs[i] = (struct cond_forecast_input){
            .posted = report->requirements[i].posted,
            .target = report->requirements[i].target,
            .terms = terms[i].items, .terms_count = terms[i].count};
    struct cond_system system = {.count = n, .when = when, .state = v->condition_states,
                                 .probability = probability};
    if (!cond_forecast(&system, inputs, m, options, outputs, &report->summary))
        rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory forecasting");
    for (uint32_t i = 0; rc == CC_OK && i < m; i++) report->requirements[i].forecast = outputs[i];
done:
    for (uint32_t i = 0; terms != NULL && i < m; i++) {
        for (uint32_t k = 0; k < terms[i].count; k++) {
            struct cond_expr *e = (struct cond_expr *)terms[i].items[k].expr;
            if (e != NULL) cond_expr_free(e);
            free(e);
        }
        free(terms[i].items);
        free(terms[i].subunits);
        strmap_free(&terms[i].by_text);
    }
    free(terms);
    free(probability);
    free(when);
    free(inputs);
    free(outputs);
    return rc;
}

/* ---------------------------------------------------------------- JSON */

static json_t *requirement_head(const struct report_requirement *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(r->requirement->id));
    json_object_set_new(o, "target", json_integer(r->target));
    return o;
}

json_t *report_gaps_json(const struct report *report)
{
    json_t *array = json_array();
    for (uint32_t i = 0; i < report->requirements_count; i++) {
        const struct report_requirement *r = &report->requirements[i];
        const struct ledger_requirement *q = r->requirement;
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(q->id));
        json_object_set_new(o, "title", q->title ? json_string(q->title) : json_null());
        json_object_set_new(o, "unit", json_string(r->unit));
        json_object_set_new(o, "target", json_integer(r->target));
        if (q->has_due) {
            char due[TIME_TEXT_BYTES];
            time_format_date(q->due, due);
            json_object_set_new(o, "due", json_string(due));
        } else {
            json_object_set_new(o, "due", json_null());
        }
        json_object_set_new(o, "posted", json_integer(r->posted));
        json_object_set_new(o, "pending", json_integer(r->pending));
        json_object_set_new(o, "gap", json_integer(r->gap));
        json_object_set_new(o, "gap_if_pending_post", json_integer(r->gap_if_pending_post));
        json_array_append_new(array, o);
    }
    return array;
}

json_t *report_scenario_json(const struct report *report, const struct report_assumption *assume,
                             uint32_t count)
{
    json_t *assumed = json_object();
    for (uint32_t k = 0; k < count; k++)
        json_object_set_new(assumed, assume[k].name, json_string(cond_state_name(assume[k].state)));
    json_t *requirements = json_array();
    for (uint32_t i = 0; i < report->requirements_count; i++) {
        const struct report_requirement *r = &report->requirements[i];
        json_t *o = requirement_head(r);
        json_object_set_new(o, "unit", json_string(r->unit));
        json_object_set_new(o, "posted", json_integer(r->posted));
        json_object_set_new(o, "low", json_integer(r->low));
        json_object_set_new(o, "high", json_integer(r->high));
        json_array_append_new(requirements, o);
    }
    json_t *exposure = json_array();
    for (uint32_t i = 0; i < report->exposure_count; i++) {
        const struct report_exposure *e = &report->exposure[i];
        json_array_append_new(exposure, json_pack("{s:s, s:s, s:I}", "condition", e->condition,
                                                  "unit", e->unit, "pending",
                                                  (json_int_t)e->pending));
    }
    return json_pack("{s:o, s:o, s:o}", "assume", assumed, "requirements", requirements,
                     "exposure", exposure);
}

json_t *report_forecast_json(const struct report *report)
{
    json_t *requirements = json_array();
    for (uint32_t i = 0; i < report->requirements_count; i++) {
        const struct report_requirement *r = &report->requirements[i];
        json_t *o = requirement_head(r);
        json_object_set_new(o, "unit", json_string(r->unit));
        json_object_set_new(o, "expected", json_real(r->forecast.expected));
        json_object_set_new(o, "p_met", json_real(r->forecast.p_met));
        json_object_set_new(o, "p10", json_integer(r->forecast.p10));
        json_object_set_new(o, "p50", json_integer(r->forecast.p50));
        json_object_set_new(o, "p90", json_integer(r->forecast.p90));
        json_array_append_new(requirements, o);
    }
    return json_pack("{s:s, s:I, s:I, s:o}", "method",
                     report->summary.exact ? "exact" : "monte_carlo", "samples",
                     (json_int_t)report->summary.samples, "conditions",
                     (json_int_t)report->summary.conditions, "requirements", requirements);
}

/* ---------------------------------------------------------------- balances in a unit */

enum cc_err report_balance_in(struct concord *cc, const char *scope, bool prefix,
                              const char *unit, int64_t at, const char *in,
                              struct store_balance *out, struct cc_error *err)
{
    struct report report;
    memset(&report, 0, sizeof report);
    ledger_view_init(&report.view);
    struct ledger_unit target;
    enum cc_err rc = concord_unit_get(cc, in, &target, NULL, 0, err);
    if (rc == CC_ERR_NOT_FOUND) rc = cc_error_set(err, CC_ERR_NOT_FOUND, "no unit %s", in);
    if (rc == CC_OK) rc = cc->store->driver->load_rates(cc->store, &report.view, err);
    if (rc == CC_OK) {
        report.in = in;
        report.in_scale = target.scale;
        struct converter conv = {.report = &report, .cc = cc};
        struct measured m = {.unit = unit, .scope = scope, .prefix = prefix, .conv = &conv,
                             .err = err};
        rc = measure_converted(cc, at, &m);
        out->accounts = m.accounts;
        out->debits_pending = to_minor(m.b[0]);
        out->debits_posted = to_minor(m.b[1]);
        out->credits_pending = to_minor(m.b[2]);
        out->credits_posted = to_minor(m.b[3]);
        out->unit = in;
        out->scale = target.scale;
    }
    ledger_view_free(&report.view);
    return rc;
}
