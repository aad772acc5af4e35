/*
 * store.h — durable storage of the ledger's rows, behind one interface.
 *
 * The store knows the ledger's row types (ledger.h) but none of its rules: it
 * loads rows into a view, writes back what the engine marked new or dirty,
 * and answers the read queries of the CLI and the API. Each backend fills a
 * `struct store_driver`; SQLite (store_sqlite.c) is the embedded default and
 * a PostgreSQL driver can be added beside it without touching ledger/.
 *
 * Transactions: store_begin() takes the single writer's lock at once (SQLite
 * BEGIN IMMEDIATE; PostgreSQL row locks in account-id order), so a batch that
 * loads, executes and writes sees no concurrent change. One batch is one
 * transaction: all of it becomes durable at store_commit(), or none of it.
 * Transactions nest: a store_begin() inside an open one starts a part of it
 * (an SQLite savepoint) that its store_commit() keeps and its
 * store_rollback() undoes, and only the outermost commit makes anything
 * durable. An import uses this to run as many batches as its input needs and
 * still record all of them or none.
 *
 * Read callbacks receive rows whose strings live only for the call.
 */
#ifndef CONCORD_STORE_H
#define CONCORD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger.h"
#include "util/error.h"

#define STORE_BUSY_TIMEOUT_MS 10000 /* a CLI and a server share one file */
#define STORE_LIST_LIMIT_MAX 100000 /* rows one list or history call returns */
/* A history call may ask for one row more than a listing shows, to tell that more exist. */
#define STORE_HISTORY_LIMIT_MAX (STORE_LIST_LIMIT_MAX + 1)

enum store_mode {
    STORE_OPEN_EXISTING = 0, /* the file must be a concord database */
    STORE_CREATE = 1,        /* create it (or accept an existing concord database) */
};

/* A balance row: one account, or the sum over a prefix for one unit. */
struct store_balance {
    const char *id;   /* account id, or the prefix */
    const char *unit;
    int32_t scale;    /* the unit's */
    int64_t accounts; /* accounts summed (1 for a single account) */
    int64_t debits_pending, debits_posted, credits_pending, credits_posted;
};

/* Filters of an account's history: effective dates through `until`, at most `limit`. */
struct store_history_query {
    const char *account;
    int64_t since;    /* effective date ≥ since */
    int64_t until;    /* effective date ≤ until */
    uint32_t limit;   /* rows, 1 … STORE_HISTORY_LIMIT_MAX */
    int64_t after_seq; /* only rows recorded after this row number (a cursor); 0: all */
};

/* What one transfer row did to one account: for conversions at its date. */
struct store_effect {
    bool debit;      /* the account is the row's debit side */
    int64_t date;    /* the row's effective date: posted amounts convert at it */
    int64_t pending_date; /* pending amounts convert at the pending transfer's date */
    int64_t posted;  /* effect_posted */
    int64_t pending; /* effect_pending */
};

typedef int (*store_effect_fn)(void *ctx, const struct store_effect *effect);

/*
 * The account ids a prefix P covers. Dots make the hierarchy: P is the
 * account P and everything under "P." ("fund" covers fund and fund.pool,
 * not fundraising). A P that ends in '.', or is empty, covers every id that
 * starts with it. As ranges of an index on id: the ids in [lo, hi), and the
 * id `exact` when it is not empty. Ids use bytes below 0x7f only, so "\x7f"
 * is above all of them.
 */
struct store_prefix_range {
    char exact[LEDGER_ID_BYTES_MAX + 1]; /* P itself, or "" */
    char lo[LEDGER_ID_BYTES_MAX + 2];    /* "P." or P */
    char hi[LEDGER_ID_BYTES_MAX + 2];    /* lo with its last byte raised by one */
};

/* Fills range for prefix (see struct store_prefix_range). */
void store_prefix_range(const char *prefix, struct store_prefix_range *range);

typedef int (*store_account_fn)(void *ctx, const struct ledger_account *account);
#define STORE_FILTER_PREFIXES_MAX 8 /* account id prefixes one transfers_each call names */

/*
 * Which rows transfers_each reads: those dated at or before `at` that carry
 * a kind, resolve a pending transfer (pending_id), or move an account whose
 * id starts with one of `prefixes` (each non-empty). The filter runs inside
 * the store, so the rows it skips cost no copy.
 */
struct store_transfer_filter {
    int64_t at;
    const char *const *prefixes;
    size_t prefixes_count; /* 0 … STORE_FILTER_PREFIXES_MAX */
};

typedef int (*store_transfer_fn)(void *ctx, const struct ledger_transfer *transfer);
typedef int (*store_unit_fn)(void *ctx, const struct ledger_unit *unit);
typedef int (*store_balance_fn)(void *ctx, const struct store_balance *balance);
typedef int (*store_party_fn)(void *ctx, const struct ledger_party *party);

/* One row of the audit log: the record of one committed batch or token change. */
/*
 * An audit event. Its body is canonical JSON, which the caller may give
 * deflated (zlib) to event_append; the store keeps the bytes it is given and
 * hands back the JSON on every read, inflating what it stored deflated (a
 * stored body whose first byte is not '{'), up to STORE_EVENT_BYTES_MAX.
 */
#define STORE_EVENT_BYTES_MAX ((size_t)1 << 31)

struct store_event {
    int64_t seq;          /* 1, 2, …: the leaf index + 1 */
    int64_t time;         /* the batch's clock, ns */
    int64_t ts_last;      /* the ledger's last timestamp after the batch */
    const char *actor;    /* the actor object, as in the body */
    const char *body;     /* canonical JSON; NULL when not asked for */
    size_t body_size;
    const uint8_t *leaf;  /* the leaf hash of body */
    size_t leaf_size;
};

/* One signed checkpoint of the audit log: the tree of its first `size` events. */
struct store_checkpoint {
    int64_t size;
    int64_t time;              /* the batch's clock */
    const uint8_t *root;
    size_t root_size;
    const uint8_t *frontier;   /* audit_frontier_encode */
    size_t frontier_size;
    const char *note;          /* the signed note */
};

typedef int (*store_event_fn)(void *ctx, const struct store_event *event);
typedef int (*store_checkpoint_fn)(void *ctx, const struct store_checkpoint *checkpoint);

/*
 * An access token's row. The secret is never stored: `hash` is a digest of
 * it. Times are nanoseconds since 1970 UTC; 0: none (no expiry, not revoked).
 */
#define STORE_TOKEN_HASH_BYTES 32
struct store_token {
    const char *id;                              /* 16 hex digits: the token's public half */
    unsigned char hash[STORE_TOKEN_HASH_BYTES];  /* BLAKE2b-256 of the secret */
    const char *user;
    const char *role;                            /* auth_role_name() */
    const char *party;                           /* editor, viewer: the party; else NULL */
    int64_t created, expires, revoked;
};

typedef int (*store_token_fn)(void *ctx, const struct store_token *token);

struct store;

struct store_driver {
    const char *name;
    void (*close)(struct store *store);
    enum cc_err (*begin)(struct store *store, struct cc_error *err);
    enum cc_err (*commit)(struct store *store, struct cc_error *err);
    void (*rollback)(struct store *store);
    /* Loads the row with this key into the view; CC_ERR_NOT_FOUND when absent. */
    enum cc_err (*load_unit)(struct store *store, const char *code, struct ledger_view *view,
                             struct cc_error *err);
    enum cc_err (*load_account)(struct store *store, const char *id, struct ledger_view *view,
                                struct cc_error *err);
    enum cc_err (*load_transfer)(struct store *store, const char *id, struct ledger_view *view,
                                 struct cc_error *err);
    /*
     * Loads, with one statement, every account (kind 'a') or transfer ('t')
     * of ids[0 … count) that the store holds into the view; the others are
     * left out. Ids may repeat. A batch's keys cost one statement, not one each.
     */
    enum cc_err (*load_many)(struct store *store, char kind, const char *const *ids,
                             size_t count, struct ledger_view *view, struct cc_error *err);
    /* Calls fn for each pending transfer whose expires is ≤ now. */
    enum cc_err (*due_pending)(struct store *store, int64_t now, store_transfer_fn fn, void *ctx,
                               struct cc_error *err);
    enum cc_err (*timestamp_last)(struct store *store, int64_t *timestamp, struct cc_error *err);
    /* Inserts and updates the view's new and dirty rows; sets seq of new ones. */
    enum cc_err (*write)(struct store *store, struct ledger_view *view, struct cc_error *err);
    /* Reads. */
    enum cc_err (*unit_get)(struct store *store, const char *code, store_unit_fn fn, void *ctx,
                            struct cc_error *err);
    enum cc_err (*units_list)(struct store *store, store_unit_fn fn, void *ctx,
                              struct cc_error *err);
    enum cc_err (*account_get)(struct store *store, const char *id, store_account_fn fn,
                               void *ctx, struct cc_error *err);
    enum cc_err (*accounts_list)(struct store *store, const char *prefix, const char *after,
                                 uint32_t limit, store_account_fn fn, void *ctx,
                                 struct cc_error *err);
    enum cc_err (*transfer_get)(struct store *store, const char *id, store_transfer_fn fn,
                                void *ctx, struct cc_error *err);
    /* Every transfer whose id starts with prefix (1 … 128 bytes), in id order. */
    enum cc_err (*transfers_id_prefix)(struct store *store, const char *prefix,
                                       store_transfer_fn fn, void *ctx, struct cc_error *err);
    enum cc_err (*history)(struct store *store, const struct store_history_query *query,
                           store_transfer_fn fn, void *ctx, struct cc_error *err);
    /* One account's balances as of effective date `at` (INT64_MAX: now). */
    enum cc_err (*balance)(struct store *store, const char *id, int64_t at, store_balance_fn fn,
                           void *ctx, struct cc_error *err);
    /* Sums per unit over the accounts prefix covers (store_prefix_range), as of `at`. */
    enum cc_err (*balance_prefix)(struct store *store, const char *prefix, int64_t at,
                                  store_balance_fn fn, void *ctx, struct cc_error *err);
    /* Every account, for invariant checks. */
    enum cc_err (*accounts_all)(struct store *store, store_account_fn fn, void *ctx,
                                struct cc_error *err);
    /* Checks that account balances equal the sums of their transfers' effects. */
    enum cc_err (*check_transfers)(struct store *store, struct cc_error *err);
    /* Every condition (in creation order), requirement or rate, into the view. */
    enum cc_err (*load_conditions)(struct store *store, struct ledger_view *view,
                                   struct cc_error *err);
    enum cc_err (*load_requirements)(struct store *store, struct ledger_view *view,
                                     struct cc_error *err);
    enum cc_err (*load_rates)(struct store *store, struct ledger_view *view,
                              struct cc_error *err);
    /* Every pending transfer gated on base condition `name`, into the view. */
    enum cc_err (*load_gated)(struct store *store, const char *name, struct ledger_view *view,
                              struct cc_error *err);
    /* Every row of account id effective at or before `at`, newest first. */
    enum cc_err (*account_effects)(struct store *store, const char *id, int64_t at,
                                   store_effect_fn fn, void *ctx, struct cc_error *err);
    /* Every pending transfer, oldest first. */
    enum cc_err (*pending_all)(struct store *store, store_transfer_fn fn, void *ctx,
                               struct cc_error *err);
    /*
     * The transfer rows (resolution records included) that `filter` selects,
     * in seq order: for reports, which read few rows of a large ledger.
     */
    enum cc_err (*transfers_each)(struct store *store, const struct store_transfer_filter *filter,
                                  store_transfer_fn fn, void *ctx, struct cc_error *err);
    /* A party, an approval by id, or every approval of a pending transfer, into the view. */
    enum cc_err (*load_party)(struct store *store, const char *id, struct ledger_view *view,
                              struct cc_error *err);
    enum cc_err (*load_approval)(struct store *store, const char *id, struct ledger_view *view,
                                 struct cc_error *err);
    enum cc_err (*load_approvals)(struct store *store, const char *pending_id,
                                  struct ledger_view *view, struct cc_error *err);
    /* Every party, in id order. */
    enum cc_err (*parties_list)(struct store *store, store_party_fn fn, void *ctx,
                                struct cc_error *err);
    /* Access tokens: one by id (CC_ERR_NOT_FOUND when absent), all of them in creation
       order, a new one, and revocation (CC_ERR_NOT_FOUND when absent or already revoked). */
    enum cc_err (*token_get)(struct store *store, const char *id, store_token_fn fn, void *ctx,
                             struct cc_error *err);
    enum cc_err (*tokens_list)(struct store *store, store_token_fn fn, void *ctx,
                               struct cc_error *err);
    enum cc_err (*token_insert)(struct store *store, const struct store_token *token,
                                struct cc_error *err);
    enum cc_err (*token_revoke)(struct store *store, const char *id, int64_t now,
                                struct cc_error *err);
    /* ---- the audit log */
    /* Appends an event and the checkpoint that covers it (inside the batch's transaction). */
    enum cc_err (*event_append)(struct store *store, const struct store_event *event,
                                const struct store_checkpoint *checkpoint, struct cc_error *err);
    /* The highest transfer seq: the number of transfer rows (0: none). */
    enum cc_err (*transfers_last)(struct store *store, int64_t *seq, struct cc_error *err);
    /* The highest event seq (0: none). */
    enum cc_err (*events_last)(struct store *store, int64_t *seq, struct cc_error *err);
    /* Events with seq > after, in seq order, at most limit (0: all); bodies included. */
    enum cc_err (*events_each)(struct store *store, int64_t after, uint32_t limit,
                               store_event_fn fn, void *ctx, struct cc_error *err);
    /* The leaf hashes of events 1 … size, in order (body NULL). */
    enum cc_err (*leaves_each)(struct store *store, int64_t size, store_event_fn fn, void *ctx,
                               struct cc_error *err);
    /* The first event whose ts_last is ≥ timestamp: the batch that stamped it. */
    enum cc_err (*event_at)(struct store *store, int64_t timestamp, store_event_fn fn,
                            void *ctx, struct cc_error *err);
    /* The latest checkpoint, the one of `size` (size > 0), or every one by size. */
    enum cc_err (*checkpoint_get)(struct store *store, int64_t size, store_checkpoint_fn fn,
                                  void *ctx, struct cc_error *err);
    enum cc_err (*checkpoints_each)(struct store *store, store_checkpoint_fn fn, void *ctx,
                                    struct cc_error *err);
    /*
     * Compares every ledger table and the tokens table of this store (rebuilt
     * from the events) with the database at other_path, row by row in key
     * order. *same, or the first difference in problem ("transfers row seq 4
     * (id t-1): amount is …").
     */
    enum cc_err (*compare_tables)(struct store *store, const char *other_path, bool *same,
                                  char *problem, size_t problem_size, struct cc_error *err);
};

struct store {
    const struct store_driver *driver;
};

/* Opens the SQLite database at path. */
enum cc_err store_sqlite_open(struct store **out, const char *path, enum store_mode mode,
                              struct cc_error *err);

/* Thin dispatchers, so callers never reach into the driver. */
static inline void store_close(struct store *s)
{
    if (s != NULL) s->driver->close(s);
}
static inline enum cc_err store_begin(struct store *s, struct cc_error *e)
{
    return s->driver->begin(s, e);
}
static inline enum cc_err store_commit(struct store *s, struct cc_error *e)
{
    return s->driver->commit(s, e);
}
static inline void store_rollback(struct store *s) { s->driver->rollback(s); }

/* Checks every invariant of the stored ledger: per-unit sums, limits, and rows. */
enum cc_err store_check(struct store *store, struct cc_error *err);

#endif
