/*
 * demo.h — an illustrative mission, loaded into a new ledger so that every
 * command, route and report has something to show.
 *
 * The mission is modelled on public reporting of a possible stabilization
 * force for Gaza, but every amount, pledge, contingent and consignment in it
 * is invented, and says so: parties, conditions and requirements carry
 * "(illustrative)" in their names or titles, and memos repeat it.
 *
 * It is built deterministically: a fixed-seed PRNG (xorshift64*), fixed
 * dates (mission day 1 is 2026-09-01; 60 days of aid, to 2026-10-30), an
 * explicit "date" on every operation that takes one, and a clock fixed
 * after each day's date for the batch of that day, so that expiries,
 * default dates and even timestamps come out the same on every run. It is
 * applied through concord_apply() like any input: one setup batch, then one
 * batch per simulated day (and one per board member who approves that day),
 * so the audit log, `verify` and `check` see an ordinary ledger.
 *
 * The force's and the aid pipeline's parts are loaded only when their
 * operations are in the table of domain verbs (domain_verb_find).
 */
#ifndef CONCORD_APP_DEMO_H
#define CONCORD_APP_DEMO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "app/app.h"

#define DEMO_DAYS 60                  /* days of the mission simulated */
#define DEMO_FIRST_DAY "2026-09-01"   /* mission day 1 */
#define DEMO_CONSIGNMENTS_MAX 12000   /* room for the busiest days the generator makes */

/* What the demo loaded. */
struct demo_summary {
    int64_t parties;      /* every party, donors included */
    int64_t conditions;
    int64_t requirements;
    int64_t pledges;      /* pledge operations */
    int64_t contingents;  /* contingent operations (0 without the force's operations) */
    int64_t consignments; /* consignment operations (0 without the aid pipeline's) */
    int64_t rejected;     /* consignments rejected at screening */
    int64_t overrides;    /* moves that went over a crossing's daily capacity, with a reason */
    int64_t distributed;  /* consignments that reached a distribution point */
    int64_t transfers;    /* transfer rows of the ledger (resolutions included) */
    int64_t batches;      /* batches committed */
    int64_t operations;   /* operations applied */
};

/*
 * Loads the mission into cc, which must hold an empty ledger (nothing ever
 * written: else CC_ERR_USAGE, and nothing is written). Any operation the
 * ledger rejects stops the demo with CC_ERR_REJECTED naming it (the batches
 * before it stay committed). Runs batches under its own clock and as the
 * fund's board members for their approvals; gives cc back with the real
 * clock and the local administrator.
 */
enum cc_err concord_demo_load(struct concord *cc, struct demo_summary *out,
                              struct cc_error *err);

/* Prints what was loaded and how to look around, for people. */
void demo_summary_print(const struct demo_summary *summary, const char *db_path, FILE *out);

#endif
