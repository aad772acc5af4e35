/*
 * domain.h — the mission's operations (pledges, contingents, consignments)
 * as expansions into ledger operations.
 *
 * A domain operation arrives like any other ({"op":"pledge","id":…}); the
 * decoder keeps it whole (LEDGER_OP_DOMAIN, its JSON in `meta`). Before the
 * engine runs, concord_apply() expands each one into a linked chain of
 * ledger operations — accounts, transfers, posts — whose ids derive from
 * the domain operation's id, on stage accounts named by one scheme
 * (docs/DOMAIN.md). The ledger's own rules then enforce the domain's: a
 * stage account flagged debits_must_not_exceed_credits cannot give what it
 * never received (no stage is skipped), a day's capacity account cannot
 * give more trucks than the crossing takes (no crossing over capacity).
 *
 * So a domain operation is, like any operation: atomic (its chain commits
 * whole or not at all), idempotent by id (every step answers `exists` the
 * second time), authorized (each step passes the authorization rule), and
 * audited (the log records the domain operation as given, and replay expands
 * it again to the same steps). Its result is folded from its steps': the
 * first failing step's status and message, named; else created or exists.
 *
 * An expansion may read what is already recorded (a consignment's items for
 * its next move) and what earlier operations of the same batch expanded to;
 * it never writes. Expanding the same operation against the same ledger at
 * the same `now` gives the same steps, which is what replay relies on.
 */
#ifndef CONCORD_APP_DOMAIN_H
#define CONCORD_APP_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fmt/fts.h"
#include "ledger/ledger.h"
#include "util/strmap.h"

#define DOMAIN_STEPS_MAX 96        /* ledger operations one domain operation becomes */
#define DOMAIN_MESSAGE_BYTES 1024

struct concord;

/* What an expansion function works with, and what it produces. */
struct domain_expansion {
    struct concord *cc;          /* the ledger, to read what is recorded */
    struct arena *arena;         /* strings of the steps */
    int64_t now;                 /* the batch's clock: default dates */
    const json_t *op;            /* the operation object */
    const char *id;              /* its "id" (validated by domain_expand) */
    const struct ledger_op *earlier; /* steps of the batch's earlier operations */
    size_t earlier_count;
    /* Their accounts and transfers by id, to the index in earlier of the latest (refused
       ones left out): lookups over a large batch without scanning it. */
    const struct strmap *earlier_accounts, *earlier_transfers;
    /* Notes a verb leaves for the batch's later operations (keys in the arena). An
       expansion writes here only what its steps imply, so replay notes the same. */
    struct strmap *batch_keys;
    struct ledger_op steps[DOMAIN_STEPS_MAX];
    size_t count;
    char message[DOMAIN_MESSAGE_BYTES]; /* why the operation is invalid */
};

/* Fills x->steps; false (with x->message) when the operation is invalid. */
typedef bool (*domain_expand_fn)(struct domain_expansion *x);

struct domain_verb {
    const char *name;            /* the "op" */
    const char *domain;          /* funding, force, aid */
    domain_expand_fn expand;
    const char *summary;
};

/* Every domain operation, in one table; NULL-terminated. */
extern const struct domain_verb domain_verbs[];
const struct domain_verb *domain_verb_find(const char *name);

/*
 * Expands op (LEDGER_OP_DOMAIN) into x->steps, chained: every step but the
 * last is linked, the last as op itself. false: invalid, x->message says why.
 */
bool domain_expand(struct domain_expansion *x, const struct ledger_op *op);

/* ---- for expansion functions */

/* false with "field: unknown field" unless every member of x->op is in the list. */
bool domain_fields(struct domain_expansion *x, const char *const *allowed);
/* The member as a string; NULL when absent (invalid when required or not a string). */
const char *domain_string(struct domain_expansion *x, const char *name, bool required,
                          bool *ok);
/* An identifier part ([a-z0-9][a-z0-9_-]{0,47}) that goes into account ids. */
const char *domain_name(struct domain_expansion *x, const char *name, bool required, bool *ok);
/* An integer member ≥ min; *given says whether it was there. */
int64_t domain_integer(struct domain_expansion *x, const char *name, int64_t min, bool required,
                       bool *given, bool *ok);
/* A date or date-time member; *given says whether it was there. */
int64_t domain_time(struct domain_expansion *x, const char *name, bool *given, bool *ok);
/* The member re-encoded as canonical JSON (for meta), or NULL. */
const char *domain_json(struct domain_expansion *x, const json_t *value);
/* Sets x->message; returns false. */
bool domain_invalid(struct domain_expansion *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A string in the arena. */
const char *domain_printf(struct domain_expansion *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends a zeroed step of the type; NULL (and invalid) when there are too many. */
struct ledger_op *domain_step(struct domain_expansion *x, enum ledger_op_type type);
/* An account step (idempotent: the same fields answer exists). */
struct ledger_op *domain_account(struct domain_expansion *x, const char *id, const char *unit,
                                 const char *owner, uint32_t flags, const char *name);
/* A single-phase transfer step. */
struct ledger_op *domain_transfer(struct domain_expansion *x, const char *id, const char *debit,
                                  const char *credit, int64_t amount, const char *kind);

/* A transfer as an expansion sees it: recorded, or made by an earlier step of the batch. */
struct domain_found {
    int64_t amount;
    const char *debit, *credit; /* in the arena */
    const char *meta;           /* canonical JSON or NULL, in the arena */
    int64_t date;               /* effective date (0 when made in this batch without one) */
    bool pending;               /* still pending (or made pending in this batch) */
};

/*
 * Looks transfer id up; false when neither recorded nor made earlier in the
 * batch. Operations refused as they were read are skipped. A recorded row
 * the actor may not see (another party's) is absent to the expansion.
 */
bool domain_lookup(struct domain_expansion *x, const char *id, struct domain_found *out);
/* The same, among recorded rows only. */
bool domain_lookup_recorded(struct domain_expansion *x, const char *id, struct domain_found *out);
/* The same, among what the batch made before (this operation's steps included) only. */
bool domain_lookup_batch(struct domain_expansion *x, const char *id, struct domain_found *out);

/* An account's unit and name as an expansion sees it (recorded, or made earlier in the batch). */
bool domain_lookup_account(struct domain_expansion *x, const char *id, const char **unit,
                           const char **name);

/*
 * What the ledger and the batch so far hold of one FTS flow (fmt/fts.h), for
 * the verbs that record FTS flows (domain_fts.c, domain_hxl.c): read from the
 * ids under prefix "fts.<flow>.v" and from the batch's note under the same key.
 */
struct domain_fts_versions {
    const char *prefix;
    struct fts_held held;
};
bool domain_fts_versions_read(struct domain_expansion *x, struct domain_fts_versions *v);
/* Notes for later operations what this one's steps will record of the flow (after). */
bool domain_fts_versions_note(struct domain_expansion *x, const struct domain_fts_versions *v,
                              const struct fts_held *after);
/*
 * Undoes the record `old` that holds a flow's money, as step `id`: a pledge
 * voided, a commitment or payment reversed (destination → source, on its own
 * date, meta {"corrects": old, "source": source}).
 */
bool domain_fts_undo(struct domain_expansion *x, const char *old, const char *id,
                     const char *memo, const char *source);

/* The UTC day of a time as YYYYMMDD (for ids of per-day accounts). */
void domain_day(int64_t ns, char out[9]);

/* ---- the verbs, by domain (domain_funding.c, domain_fts.c, domain_force.c, domain_aid.c) */

bool domain_donor(struct domain_expansion *x);
bool domain_pledge(struct domain_expansion *x);
bool domain_commitment(struct domain_expansion *x);
bool domain_disbursement(struct domain_expansion *x);
bool domain_expenditure(struct domain_expansion *x);
bool domain_fts_flow(struct domain_expansion *x);
bool domain_iati_activity(struct domain_expansion *x);
bool domain_iati_transaction(struct domain_expansion *x);
bool domain_hxl_flow(struct domain_expansion *x);
bool domain_course(struct domain_expansion *x);
bool domain_contingent(struct domain_expansion *x);
bool domain_contingent_move(struct domain_expansion *x);
bool domain_reimbursement_rate(struct domain_expansion *x);
bool domain_organisation(struct domain_expansion *x);
bool domain_commodity(struct domain_expansion *x);
bool domain_crossing(struct domain_expansion *x);
bool domain_warehouse(struct domain_expansion *x);
bool domain_distribution_point(struct domain_expansion *x);
bool domain_consignment(struct domain_expansion *x);
bool domain_consignment_move(struct domain_expansion *x);

#endif
