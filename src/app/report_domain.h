/*
 * report_domain.h — the mission's reports: funding, force generation and the
 * aid pipeline, computed from the ledger's rows by the account scheme of
 * docs/DOMAIN.md and the transfers' kind and meta.
 *
 * A report reads every transfer row once (a store scan in seq order), keeps
 * those effective at or before `at`, and adds the requirements, rates and
 * units. Balances as of `at` are the sums of the kept rows' effects, which is
 * how the ledger defines them (ledger.h), so a report needs nothing else.
 * The computations take these rows and give a json_t: they can be tested and
 * reused without a store, a command line or a server.
 *
 * Amounts in the JSON are integers in minor units of their unit; times are
 * whole days or hours; percentiles are nearest-rank. Reports are aggregates:
 * they are computed over every row whoever asks (like gaps).
 */
#ifndef CONCORD_APP_REPORT_DOMAIN_H
#define CONCORD_APP_REPORT_DOMAIN_H

#include <jansson.h>

#include "app/app.h"

#define REPORT_MONTHS_MAX 1200       /* months one history spans, at most (the latest kept) */
#define REPORT_PROJECTION_MONTHS 12  /* reimbursement projected at the current strength */
#define REPORT_PERSON_MONTH_RATE_DEFAULT "1428.00" /* USD per person-month (UN, from 2018) */

/* The rows a report is computed from. */
struct report_rows {
    struct ledger_view view; /* transfers effective ≤ at in seq order; requirements; rates;
                                units */
    int64_t at;              /* INT64_MAX: every row */
    const char *source;      /* funding: only transfers from this source (meta "source":
                                fts, iati, hxl; "mission" for those without); NULL: all */
};

/* Loads the rows as of `at` (INT64_MAX: all). Free with report_rows_free, also on error. */
enum cc_err report_rows_load(struct concord *cc, int64_t at, struct report_rows *rows,
                             struct cc_error *err);
void report_rows_free(struct report_rows *rows);

/* Each report's JSON (docs/DOMAIN.md, "Reports"); NULL when memory ran out. */
json_t *report_funding_json(const struct report_rows *rows);
json_t *report_force_json(const struct report_rows *rows);
json_t *report_aid_json(const struct report_rows *rows);
/* The Overview: funding's unit, totals and by_condition; force's unit, stages,
   targets and deployment; aid's delivery; from one load of the rows. */
json_t *report_overview_json(const struct report_rows *rows);

/* The report named ("funding", "force", "aid", "overview"), or NULL for another name. */
typedef json_t *(*report_domain_fn)(const struct report_rows *rows);
report_domain_fn report_domain_find(const char *name);

/* Loads the rows and computes report `name` into *out; CC_ERR_USAGE for an unknown name. */
enum cc_err report_domain(struct concord *cc, const char *name, int64_t at, json_t **out,
                          struct cc_error *err);
/* The same, the funding report restricted to one source (see report_rows.source). */
enum cc_err report_domain_source(struct concord *cc, const char *name, int64_t at,
                                 const char *source, json_t **out, struct cc_error *err);

#define REPORT_SOURCE_MISSION "mission" /* funding recorded here, not imported */
#define REPORT_SOURCE_BYTES_MAX 32

#endif
