/*
 * app.h — concord's use cases: the one layer that joins engines and store.
 *
 * A `struct concord` is an open ledger: a store, the view a batch works in,
 * and the clock that stamps commits. concord_apply() runs one batch from end
 * to end in a single storage transaction:
 *
 *   1. begin (the writer's lock), read the last timestamp;
 *   2. load every pending transfer whose expiry is due, and the units,
 *      accounts and transfers the operations name (each key looked up once);
 *   3. expire what is due, then execute the operations (ledger_execute);
 *   4. write the rows the engine marked new or dirty;
 *   5. append the batch's event to the audit log and sign a checkpoint
 *      (app/log.h), commit.
 *
 * Any storage failure rolls the whole batch back; results then mean nothing
 * and the caller reports the error. Reads go straight to the store.
 */
#ifndef CONCORD_APP_H
#define CONCORD_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/auth.h"
#include "audit/audit.h"
#include "fmt/event.h"

struct concord_log_pending;
struct concord_expanded;
#include "ledger/ledger.h"
#include "store/store.h"
#include "util/error.h"

/* The clock that stamps commits; tests and benchmarks may supply their own. */
typedef int64_t (*concord_clock_fn)(void *ctx);

struct concord {
    struct store *store;
    struct ledger_view view;         /* the batch being executed; reset per batch */
    concord_clock_fn clock;          /* time_now_ns unless replaced */
    void *clock_ctx;
    struct strmap missing_units;     /* keys a batch looked up and did not find */
    struct strmap missing_accounts;
    struct strmap missing_transfers;
    bool conditions_loaded;          /* whole tables this batch has loaded */
    bool requirements_loaded;
    bool rates_loaded;
    struct auth_actor actor;         /* who batches run as; the local admin unless set */
    enum cc_err load_error;          /* first error while loading a batch's keys */
    struct cc_error load_error_detail;
    bool audit;                      /* append an event per committed batch (default on) */
    char *key_path;                  /* the audit signing key's file */
    struct audit_signer *signer;     /* loaded at the first batch that records an event */
    struct event_buffer event;       /* the body being written, reused across batches */
    struct concord_log_pending *log_pending; /* the event being computed beside a write */
    struct concord_expanded *expanded; /* a batch with domain operations, as the engine runs it */
    int expansion;                   /* how domain operations become steps (EVENT_EXPANSION_*):
                                        the current rule, or a replayed event's own */
    const char **expired;            /* pending ids the batch expired (strings in the view) */
    size_t expired_count, expired_capacity;
    const char **settled;            /* records of reason condition or approval the batch
                                        created, in view order (strings in the view) */
    size_t settled_count, settled_capacity;
    const char **keys;               /* a batch's account or transfer ids, to load at once */
    size_t keys_count, keys_capacity;
};

/* The signing key's file beside the database, unless configured: "<db path>.key". */
#define CONCORD_KEY_SUFFIX ".key"

struct concord_options {
    const char *path;     /* the database */
    const char *key_path; /* the audit signing key; NULL: path + CONCORD_KEY_SUFFIX */
    enum store_mode mode; /* STORE_CREATE also creates the key file when it is missing */
    bool audit_off;       /* record no events and never touch a key (replay) */
};

/* Opens (or with STORE_CREATE creates) the database at path, its key beside it. */
enum cc_err concord_open(struct concord **out, const char *path, enum store_mode mode,
                         struct cc_error *err);
enum cc_err concord_open_options(struct concord **out, const struct concord_options *options,
                                 struct cc_error *err);
/*
 * Turns the audit log off (or on again) for the following batches. Only for
 * measuring the log's cost and for replaying a log: a ledger whose batches
 * are not all in its log no longer verifies.
 */
void concord_set_audit(struct concord *cc, bool on);
void concord_close(struct concord *cc);
void concord_set_clock(struct concord *cc, concord_clock_fn clock, void *ctx);
/* Runs the following batches as actor (copied); NULL: the local admin. */
void concord_set_actor(struct concord *cc, const struct auth_actor *actor);

/*
 * Commits ops[0..count) as one batch and fills results[0..count). Messages
 * in results stay valid until the next call on cc. Returns CC_OK when the
 * batch was committed (some operations may still have been rejected: see
 * each result), or an error when nothing was committed.
 */
enum cc_err concord_apply(struct concord *cc, const struct ledger_op *ops, size_t count,
                          struct ledger_result *results, struct cc_error *err);

/*
 * A group of batches: the concord_apply() calls between concord_group_begin()
 * and concord_group_commit() become durable together, and
 * concord_group_rollback() undoes every one of them, committed or not. Each
 * batch still has its own results and its own audit event. The group holds
 * the writer's lock throughout. For an import, which commits its input as it
 * reads it and must record all of it or none.
 */
enum cc_err concord_group_begin(struct concord *cc, struct cc_error *err);
enum cc_err concord_group_commit(struct concord *cc, struct cc_error *err);
void concord_group_rollback(struct concord *cc);

/* Expires pending transfers whose time has come (a batch with no operations). */
enum cc_err concord_expire_due(struct concord *cc, struct cc_error *err);

/* Checks every invariant of the stored ledger (see store_check). */
enum cc_err concord_check(struct concord *cc, struct cc_error *err);

/*
 * Reads; callbacks get rows whose strings live only during the call.
 *
 * Reads run as the actor (concord_set_actor): an administrator, coordinator
 * or auditor reads everything; an editor or viewer of party P reads P's
 * accounts (CC_ERR_FORBIDDEN for another's), the transfers that debit or
 * credit one of them, and their histories and balances; listings skip what
 * it may not read. Aggregates (prefix sums, reports, conditions,
 * requirements, units, parties) are everyone's. The `_any` variants skip
 * the rule: they are for aggregates computed over every account.
 */
enum cc_err concord_unit_get(struct concord *cc, const char *code, struct ledger_unit *out,
                             char *name, size_t name_size, struct cc_error *err);
enum cc_err concord_units_list(struct concord *cc, store_unit_fn fn, void *ctx,
                               struct cc_error *err);
enum cc_err concord_account_get(struct concord *cc, const char *id, store_account_fn fn,
                                void *ctx, struct cc_error *err);
enum cc_err concord_accounts_list(struct concord *cc, const char *prefix, const char *after,
                                  uint32_t limit, store_account_fn fn, void *ctx,
                                  struct cc_error *err);
/* How far a listing read the store, skipped rows included: for the next page. */
struct concord_scan {
    uint32_t read;                      /* rows the store returned */
    char last[LEDGER_ID_BYTES_MAX + 1]; /* the last id it returned, or `after` */
};
enum cc_err concord_accounts_page(struct concord *cc, const char *prefix, const char *after,
                                  uint32_t limit, store_account_fn fn, void *ctx,
                                  struct concord_scan *scan, struct cc_error *err);
enum cc_err concord_accounts_list_any(struct concord *cc, const char *prefix, const char *after,
                                      uint32_t limit, store_account_fn fn, void *ctx,
                                      struct cc_error *err);
enum cc_err concord_transfer_get(struct concord *cc, const char *id, store_transfer_fn fn,
                                 void *ctx, struct cc_error *err);
enum cc_err concord_history(struct concord *cc, const struct store_history_query *query,
                            store_transfer_fn fn, void *ctx, struct cc_error *err);
/* at = INT64_MAX for current balances. */
enum cc_err concord_balance(struct concord *cc, const char *id, int64_t at, store_balance_fn fn,
                            void *ctx, struct cc_error *err);
enum cc_err concord_balance_any(struct concord *cc, const char *id, int64_t at,
                                store_balance_fn fn, void *ctx, struct cc_error *err);
enum cc_err concord_balance_prefix(struct concord *cc, const char *prefix, int64_t at,
                                   store_balance_fn fn, void *ctx, struct cc_error *err);
/* Every party, in id order. */
enum cc_err concord_parties_list(struct concord *cc, store_party_fn fn, void *ctx,
                                 struct cc_error *err);
/*
 * May the actor use audit route `path` (under AUTH_AUDIT_PREFIX)? CC_OK, or
 * CC_ERR_FORBIDDEN; for a viewer's or editor's proof of a transfer, also
 * CC_ERR_NOT_FOUND when there is no such transfer.
 */
enum cc_err concord_audit_authorize(struct concord *cc, const char *path, struct cc_error *err);
/* Every condition (derived states evaluated) or requirement, into a fresh view. */
enum cc_err concord_conditions(struct concord *cc, struct ledger_view *view,
                               struct cc_error *err);
enum cc_err concord_requirements(struct concord *cc, struct ledger_view *view,
                                 struct cc_error *err);

/*
 * Calls fn for every account under prefix ("" for all), in id order. Ids are
 * read a page at a time and copied out first, so fn may use the store.
 */
typedef enum cc_err (*concord_account_visit_fn)(void *ctx, const char *id, const char *unit,
                                                struct cc_error *err);
enum cc_err concord_accounts_each(struct concord *cc, const char *prefix,
                                  concord_account_visit_fn fn, void *ctx,
                                  struct cc_error *err);

/* The scale of the unit of account id (for decimal amounts typed by people). */
enum cc_err concord_account_scale(struct concord *cc, const char *id, int32_t *scale,
                                  struct cc_error *err);

#endif
