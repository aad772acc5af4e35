/*
 * report.h — what the requirements receive: gaps, scenarios and forecasts.
 *
 * A requirement is a target on an account, or on every account under a
 * prefix, measured as cumulative credits or as balance (credits − debits).
 * Three questions are asked of it:
 *
 *   gaps      what has posted (as of a date) and what the pending transfers
 *             would add if they all post;
 *   scenario  with some open conditions assumed met or failed, what posts
 *             for certain (low) and what may still post (high);
 *   forecast  with every open base condition met independently with its
 *             probability, the distribution of what the requirement gets.
 *
 * Pending transfers without `if` count as posting: nothing but a person's
 * decision stands between them and the ledger. Figures are integers in the
 * requirement's unit, computed in 128 bits and clamped to 0 … 2^63−1 (gaps)
 * or to the int64 range (balances can fall below zero).
 */
#ifndef CONCORD_APP_REPORT_H
#define CONCORD_APP_REPORT_H

#include <jansson.h>

#include "app/app.h"
#include "cond/cond.h"

#define REPORT_ASSUMPTIONS_MAX 256

struct report_requirement {
    const struct ledger_requirement *requirement; /* in report.view */
    const char *unit;       /* the unit of the figures: the requirement's, or report.in */
    int32_t scale;          /* that unit's */
    int64_t target;         /* in that unit */
    int64_t posted;         /* measured as of the date asked */
    int64_t pending;        /* what every pending transfer would add */
    int64_t gap;            /* max(0, target − posted) */
    int64_t gap_if_pending_post; /* max(0, target − posted − pending) */
    int64_t low, high;      /* scenario */
    struct cond_forecast_output forecast;
};

struct report_exposure {
    const char *condition; /* in report.view */
    const char *unit;      /* in report.view */
    int64_t pending;       /* pending amount whose fate the condition decides */
};

struct report_assumption {
    const char *name;
    enum cond_state state;
};

/* Conversions are exact to 10^-9 of the reporting unit's minor unit. */
#define REPORT_SUBUNITS_PER_MINOR INT64_C(1000000000)

struct report {
    struct ledger_view view; /* conditions, requirements, rates, and their strings */
    const char *in;          /* reporting unit (in view), or NULL: each requirement's own */
    int32_t in_scale;
    struct report_requirement *requirements;
    uint32_t requirements_count;
    struct report_exposure *exposure;
    uint32_t exposure_count, exposure_capacity;
    struct cond_forecast_summary summary;
};

void report_free(struct report *report);

/*
 * Every requirement's posted, pending and gaps as of `at` (INT64_MAX: now).
 * With `in` (a unit code, or NULL), every figure is converted into that unit
 * with the rate in force on each transfer's effective date (the target at
 * the rate in force on the due date, or now when there is none).
 */
enum cc_err report_gaps(struct concord *cc, int64_t at, const char *in, struct report *report,
                        struct cc_error *err);

/* Every requirement's low and high with the assumptions, and the exposure per condition. */
enum cc_err report_scenario(struct concord *cc, const struct report_assumption *assume,
                            uint32_t count, const char *in, struct report *report,
                            struct cc_error *err);

/* Every requirement's forecast (conditions without a probability count as 0.5). */
enum cc_err report_forecast(struct concord *cc, const struct cond_forecast_options *options,
                            const char *in, struct report *report, struct cc_error *err);

/*
 * The balances of account `scope` (or of every account under prefix `scope`)
 * counted in `unit`, converted into `in` transfer by transfer at their
 * effective dates, as of `at`; each figure rounded once.
 */
enum cc_err report_balance_in(struct concord *cc, const char *scope, bool prefix,
                              const char *unit, int64_t at, const char *in,
                              struct store_balance *out, struct cc_error *err);

/* The contract's JSON of each report. */
json_t *report_gaps_json(const struct report *report);
json_t *report_scenario_json(const struct report *report, const struct report_assumption *assume,
                             uint32_t count);
json_t *report_forecast_json(const struct report *report);

#endif
