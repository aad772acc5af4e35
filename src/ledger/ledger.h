/*
 * ledger.h — the double-entry engine: operations, rows, and their rules.
 *
 * Everything concord counts is an integer amount of a unit moving from a
 * debit account to a credit account. This engine decides, for a batch of
 * operations, which are accepted and what they change. It never touches a
 * database or a file: the caller (app/) loads into a `struct ledger_view`
 * the units, accounts and transfers a batch refers to, calls
 * ledger_execute(), and writes back the rows the view marks new or dirty.
 * The same engine therefore serves SQLite, PostgreSQL and the unit tests.
 *
 * Invariants, per unit, at every moment between operations:
 *   Σ debits_posted  = Σ credits_posted
 *   Σ debits_pending = Σ credits_pending
 * and every balance is in 0 … 2^63−1. An account flagged
 * debits_must_not_exceed_credits keeps debits_pending + debits_posted ≤
 * credits_posted; credits_must_not_exceed_debits mirrors it.
 *
 * Every row a batch creates gets a timestamp: strictly increasing across the
 * whole ledger (the view carries the last one given), nanoseconds UTC.
 *
 * Resolutions of pending transfers (post, void, expiry) are transfer rows of
 * their own that name the pending one (`pending_id`) and a `reason`; the
 * pending row itself changes only its `state`. Each row carries its effect on
 * balances (effect_posted, effect_pending) so that balances as of any
 * effective date are a plain sum over rows. For that sum never to release
 * what was not yet reserved, a resolution's date is never before the date of
 * the pending transfer it resolves.
 */
#ifndef CONCORD_LEDGER_H
#define CONCORD_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cond/cond.h"
#include "util/arena.h"
#include "util/strmap.h"

/* Limits, checked where operations enter and asserted inside. */
#define LEDGER_ID_BYTES_MAX 128         /* account and transfer ids */
#define LEDGER_UNIT_CODE_BYTES_MAX 16   /* [A-Z][A-Z0-9_]{0,15} */
#define LEDGER_NAME_BYTES_MAX 256       /* names of units and accounts */
#define LEDGER_KIND_BYTES_MAX 64        /* a transfer's kind ("pledge") */
#define LEDGER_MEMO_BYTES_MAX 4096
#define LEDGER_META_BYTES_MAX 16384     /* canonical JSON text */
#define LEDGER_EXPR_BYTES_MAX 1024      /* an `if` expression */
#define LEDGER_SCALE_MAX 18
#define LEDGER_BATCH_OPS_MAX 1000000    /* one atomic batch, at most */
#define LEDGER_AMOUNT_MAX INT64_MAX

/* Suffixes of the ids the ledger gives to the records it creates itself. */
#define LEDGER_EXPIRY_SUFFIX "/expiry"
#define LEDGER_CONDITION_SUFFIX "/condition"
#define LEDGER_APPROVAL_SUFFIX "/approval"

#define LEDGER_USER_BYTES_MAX 64     /* a user name: [a-z0-9][a-z0-9._-]{0,63} */
#define LEDGER_APPROVERS_MAX 32      /* user names on one guarded account */
#define LEDGER_PARTY_KIND_BYTES_MAX 16

enum ledger_status {
    LEDGER_CREATED = 0,
    LEDGER_EXISTS,
    LEDGER_RESOLVED,
    LEDGER_EXISTS_WITH_DIFFERENT_FIELDS,
    LEDGER_INVALID,
    LEDGER_UNIT_NOT_FOUND,
    LEDGER_DEBIT_ACCOUNT_NOT_FOUND,
    LEDGER_CREDIT_ACCOUNT_NOT_FOUND,
    LEDGER_ACCOUNTS_MUST_BE_DIFFERENT,
    LEDGER_ACCOUNTS_MUST_HAVE_THE_SAME_UNIT,
    LEDGER_AMOUNT_MUST_NOT_BE_ZERO,
    LEDGER_EXCEEDS_CREDITS,
    LEDGER_EXCEEDS_DEBITS,
    LEDGER_OVERFLOWS,
    LEDGER_PENDING_TRANSFER_NOT_FOUND,
    LEDGER_PENDING_TRANSFER_NOT_PENDING,
    LEDGER_PENDING_TRANSFER_ALREADY_POSTED,
    LEDGER_PENDING_TRANSFER_ALREADY_VOIDED,
    LEDGER_PENDING_TRANSFER_EXPIRED,
    LEDGER_EXCEEDS_PENDING_TRANSFER_AMOUNT,
    LEDGER_CONDITION_NOT_FOUND,
    LEDGER_CONDITION_REQUIRES_PENDING,
    LEDGER_CONDITION_ALREADY_RESOLVED,
    LEDGER_LINKED_EVENT_FAILED,
    LEDGER_LINKED_EVENT_CHAIN_OPEN,
    LEDGER_FORBIDDEN,
    LEDGER_APPROVAL_REQUIRED,
    LEDGER_APPROVAL_ALREADY_GIVEN,
    LEDGER_STATUS_COUNT
};

/* The contract's snake_case name of a status. */
const char *ledger_status_name(enum ledger_status status);
/* True for created, exists and resolved: the operation holds. */
static inline bool ledger_status_ok(enum ledger_status s)
{
    return s == LEDGER_CREATED || s == LEDGER_EXISTS || s == LEDGER_RESOLVED;
}

enum ledger_op_type {
    LEDGER_OP_UNIT = 0,
    LEDGER_OP_ACCOUNT,
    LEDGER_OP_TRANSFER,
    LEDGER_OP_POST,
    LEDGER_OP_VOID,
    LEDGER_OP_CONDITION,
    LEDGER_OP_RESOLVE,
    LEDGER_OP_REQUIREMENT,
    LEDGER_OP_RATE,
    LEDGER_OP_PARTY,
    LEDGER_OP_APPROVE,
    LEDGER_OP_DOMAIN, /* a mission-domain operation: app/ expands it into the others */
    LEDGER_OP_TYPE_COUNT
};

/* The contract's name of an operation ("transfer"); NULL if out of range. */
const char *ledger_op_name(enum ledger_op_type type);

struct ledger_op;
/* An operation's name as its caller wrote it: a domain operation's own ("pledge"). */
const char *ledger_op_label(const struct ledger_op *op);

/* Flags of an operation. */
#define LEDGER_OP_LINKED (1u << 0)      /* joined to the next operation */
#define LEDGER_OP_PENDING (1u << 1)     /* a two-phase transfer */
#define LEDGER_OP_HAS_DATE (1u << 2)    /* `date` was given */
#define LEDGER_OP_HAS_AMOUNT (1u << 3)  /* `amount` was given */
#define LEDGER_OP_HAS_EXPIRES (1u << 4) /* `expires` was given */
#define LEDGER_OP_HAS_SCALE (1u << 5)   /* `scale` was given */
#define LEDGER_OP_HAS_PROBABILITY (1u << 6) /* condition: `probability` was given */
#define LEDGER_OP_STEP (1u << 7)        /* a step a domain operation expanded to */

/* Account flags, as stored. */
#define LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS (1u << 0)
#define LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS (1u << 1)
#define LEDGER_ACCOUNT_GUARDED (1u << 2) /* debits need k-of-n approvals */

/* An approver's decision on a pending transfer from a guarded account. */
enum ledger_decision {
    LEDGER_DECISION_APPROVE = 1,
    LEDGER_DECISION_REJECT = 2,
};

/*
 * One operation as decoded from JSON (or built by a program). Strings are
 * borrowed: they must outlive ledger_execute(). Fields an operation does not
 * use are NULL or zero. A decoder that finds the input malformed sets
 * `invalid` to a message and the engine reports status `invalid` with it.
 */
struct ledger_op {
    enum ledger_op_type type;
    uint32_t flags;         /* LEDGER_OP_* */
    const char *invalid;    /* non-NULL: rejected as invalid with this message */
    const char *id;         /* unit code, account id, or transfer id */
    const char *debit;      /* transfer: debit account id */
    const char *credit;     /* transfer: credit account id */
    const char *unit;       /* account: its unit; transfer: optional check */
    const char *pending_id; /* post, void: the pending transfer */
    const char *name;       /* unit, account: display name */
    const char *owner;      /* account: owning party */
    const char *kind;       /* transfer: what it is ("pledge", "disbursement") */
    const char *cond;       /* transfer: the `if` expression */
    const char *memo;       /* transfer, post, void: free text */
    const char *meta;       /* transfer, post, void: canonical JSON text */
    int64_t amount;         /* transfer, post: minor units */
    int64_t date;           /* effective date, when LEDGER_OP_HAS_DATE */
    int64_t expires;        /* pending transfer, when LEDGER_OP_HAS_EXPIRES */
    int32_t scale;          /* unit: decimal places */
    uint32_t account_flags; /* account: LEDGER_ACCOUNT_* */
    /* condition: id is its name, name its title, owner its authority, cond its `when` */
    double probability;     /* condition, when LEDGER_OP_HAS_PROBABILITY */
    uint8_t state;          /* resolve: COND_MET or COND_FAILED (id is the condition) */
    /* requirement: id, name (title), account, unit, kind (measure), amount (target), date (due) */
    const char *account;    /* requirement: an account id or a prefix ending in '.' */
    /* rate: unit, to, rate, date (from which it applies) */
    const char *to;         /* rate: the unit converted into */
    const char *rate;       /* rate: a positive decimal, "1.0843" */
    /* party: id, name, kind (nation, organisation, force, authority, fund) */
    /* account: guarded (flag), approvers (user names, space-separated), approvals_required */
    const char *approvers;
    int32_t approvals_required;
    /* approve: id (of the approval), pending_id, decision */
    uint8_t decision;       /* enum ledger_decision */
    /* domain: kind is its name ("pledge"), id its id, meta the whole operation as
       canonical JSON; app/ expands it before the engine runs */
    const void *parsed;     /* domain: what meta was made from, when the caller still holds
                               it (app/: a json_t), so that it is not parsed again */
};

/* The outcome of one operation. */
struct ledger_result {
    enum ledger_status status;
    const char *records; /* a domain operation's: the ids of the transfers its steps created,
                            space-separated (for the audit log); else NULL */
    int64_t timestamp;   /* of the row created (created) or found (exists); 0 when rejected */
    const char *message; /* for invalid (and some others): why; else NULL */
    int32_t posted;      /* resolve: transfers posted; approve: 1 when it posted its transfer */
    int32_t voided;      /* resolve: transfers voided; approve: 1 when it voided its transfer */
};

/*
 * Does result (of op) report posted and voided: a resolve's, or an
 * approval's that decided its transfer?
 */
static inline bool ledger_result_counts(const struct ledger_op *op,
                                        const struct ledger_result *r)
{
    return r->status == LEDGER_RESOLVED ||
           (op->type == LEDGER_OP_APPROVE && (r->posted != 0 || r->voided != 0));
}

/* Where a row of the view came from and whether it must be written. */
#define LEDGER_ROW_NEW (1u << 0)   /* created by this batch: insert */
#define LEDGER_ROW_DIRTY (1u << 1) /* loaded and changed: update */

struct ledger_unit {
    const char *code;  /* [A-Z][A-Z0-9_]{0,15} */
    const char *name;  /* may be NULL */
    int32_t scale;     /* 0 … LEDGER_SCALE_MAX */
    int64_t timestamp; /* creation */
    uint8_t row;       /* LEDGER_ROW_* */
};

struct ledger_account {
    int64_t seq;   /* the store's row number; 0 until stored */
    const char *id;
    const char *unit;
    const char *name;  /* may be NULL */
    const char *owner; /* may be NULL */
    uint32_t flags;    /* LEDGER_ACCOUNT_* */
    int64_t debits_pending;
    int64_t debits_posted;
    int64_t credits_pending;
    int64_t credits_posted;
    int64_t timestamp; /* creation */
    int64_t history_seq; /* the store's: its latest transfer row (0: none); the engine ignores it */
    const char *approvers;      /* guarded: user names, space-separated; else NULL */
    int32_t approvals_required; /* guarded: k approvals post a debit */
    uint8_t row;       /* LEDGER_ROW_* */
};

enum ledger_state {
    LEDGER_STATE_POSTED = 1,  /* single-phase, a posted pending one, or a post record */
    LEDGER_STATE_PENDING = 2, /* reserved, awaiting resolution */
    LEDGER_STATE_VOIDED = 3,  /* a voided pending transfer, or a void record */
    LEDGER_STATE_EXPIRED = 4, /* an expired pending transfer, or an expiry record */
};

enum ledger_reason {
    LEDGER_REASON_NONE = 0, /* not a resolution record */
    LEDGER_REASON_POST = 1,
    LEDGER_REASON_VOID = 2,
    LEDGER_REASON_EXPIRY = 3,
    LEDGER_REASON_CONDITION = 4,
    LEDGER_REASON_APPROVAL = 5,
};

const char *ledger_state_name(enum ledger_state state);
const char *ledger_reason_name(enum ledger_reason reason);

/* Flags of a transfer row. */
#define LEDGER_TRANSFER_PENDING (1u << 0)    /* created two-phase */
#define LEDGER_TRANSFER_HAS_DATE (1u << 1)   /* `date` given, not defaulted */
#define LEDGER_TRANSFER_HAS_AMOUNT (1u << 2) /* post: `amount` given */
#define LEDGER_TRANSFER_EXPIRES (1u << 3)    /* `expires` set */

struct ledger_transfer {
    int64_t seq;            /* the store's row number; 0 until stored */
    const char *id;
    const char *debit;      /* account id */
    const char *credit;     /* account id */
    const char *unit;
    const char *pending_id; /* resolution records: the pending transfer */
    const char *kind;       /* may be NULL */
    const char *cond;       /* `if`, may be NULL */
    const char *memo;       /* may be NULL */
    const char *meta;       /* canonical JSON, may be NULL */
    const char *gates;      /* new gated pending transfer: the base conditions its `if`
                               depends on, space-separated, for the store to index */
    int64_t amount;         /* as given; void/expiry records: the amount released */
    int64_t effect_posted;  /* added to both accounts' *_posted */
    int64_t effect_pending; /* added to both accounts' *_pending (negative to release) */
    int64_t expires;        /* when LEDGER_TRANSFER_EXPIRES */
    int64_t date;           /* effective date */
    int64_t timestamp;      /* creation */
    uint32_t flags;         /* LEDGER_TRANSFER_* */
    uint8_t state;          /* enum ledger_state */
    uint8_t reason;         /* enum ledger_reason */
    uint8_t row;            /* LEDGER_ROW_* */
};

/* A condition: base (decided once by `resolve`) or derived (`when`). */
struct ledger_condition {
    const char *name;      /* [a-z][a-z0-9_]{0,63} */
    const char *title;     /* may be NULL */
    const char *authority; /* the party that resolves it, may be NULL */
    const char *when;      /* derived: the expression; NULL for a base condition */
    double probability;    /* chance it is met, when has_probability */
    bool has_probability;
    uint8_t state;         /* base: enum cond_state as decided; derived: computed */
    int64_t resolved_at;   /* base: timestamp of its resolution, 0 while open */
    int64_t timestamp;     /* creation */
    uint8_t row;           /* LEDGER_ROW_* */
};

enum ledger_measure {
    LEDGER_MEASURE_CREDITS = 1, /* cumulative inflow: credits */
    LEDGER_MEASURE_BALANCE = 2, /* credits − debits */
};

/* A target on an account (or every account under a prefix ending in '.') by a date. */
struct ledger_requirement {
    const char *id;
    const char *title;   /* may be NULL */
    const char *account; /* account id, or prefix ending in '.' */
    const char *unit;
    uint8_t measure;     /* enum ledger_measure */
    int64_t target;      /* minor units of unit */
    int64_t due;         /* when has_due */
    bool has_due;
    int64_t timestamp;
    uint8_t row;
};

/* 1 `unit` = `rate` `to`, for transfers effective from `date` on. */
struct ledger_rate {
    const char *key;  /* "UNIT TO DATE-NS": the view's index */
    const char *unit;
    const char *to;
    const char *rate; /* a positive decimal as given */
    int64_t date;
    int64_t timestamp;
    uint8_t row;
};

/* A party of the mission: a nation, organisation, force, authority or fund. */
struct ledger_party {
    const char *id;    /* as an account id */
    const char *name;  /* may be NULL */
    const char *kind;  /* nation, organisation, force, authority, fund */
    int64_t timestamp;
    uint8_t row;
};

/* One approver's decision on a pending transfer that debits a guarded account. */
struct ledger_approval {
    int64_t seq;            /* the store's row number; 0 until stored */
    const char *id;         /* the approve operation's id */
    const char *pending_id;
    const char *user;
    uint8_t decision;       /* enum ledger_decision */
    int64_t timestamp;
    uint8_t row;
};

/*
 * Authorization, decided by the caller (app/) for each operation at the
 * moment the engine reaches it, so that rows created earlier in the same
 * batch count: LEDGER_CREATED to go on, or LEDGER_FORBIDDEN with a message
 * saying why. NULL: all allowed.
 */
struct ledger_view;
typedef enum ledger_status (*ledger_authorize_fn)(void *ctx, const struct ledger_view *view,
                                                  const struct ledger_op *op, char *message,
                                                  size_t message_size);

/* One step the engine can take back when a linked chain fails. */
struct ledger_undo;

/*
 * The rows a batch reads and writes, indexed by id. The caller loads what
 * the batch refers to (ledger_view_add_*), runs the engine, then writes the
 * rows marked LEDGER_ROW_NEW or LEDGER_ROW_DIRTY, in array order (accounts
 * before the transfers that name them).
 */
struct ledger_view {
    struct arena arena; /* strings of every row in the view */
    struct ledger_unit *units;
    uint32_t units_count, units_capacity;
    struct strmap units_by_code;
    struct ledger_account *accounts;
    uint32_t accounts_count, accounts_capacity;
    struct strmap accounts_by_id;
    int64_t (*accounts_loaded)[4]; /* balances as added to the view, for ledger_check_view */
    uint32_t accounts_loaded_capacity;
    struct ledger_transfer *transfers;
    uint32_t transfers_count, transfers_capacity;
    struct strmap transfers_by_id;
    struct ledger_condition *conditions; /* every condition, in creation order */
    uint32_t conditions_count, conditions_capacity;
    struct strmap conditions_by_name;
    uint8_t *condition_states;      /* per condition: base as decided, derived computed */
    struct cond_expr *condition_when; /* per condition: compiled `when` (empty for base) */
    uint32_t condition_states_capacity;
    struct ledger_requirement *requirements;
    uint32_t requirements_count, requirements_capacity;
    struct strmap requirements_by_id;
    struct ledger_rate *rates;
    uint32_t rates_count, rates_capacity;
    struct strmap rates_by_key;
    struct ledger_party *parties;
    uint32_t parties_count, parties_capacity;
    struct strmap parties_by_id;
    struct ledger_approval *approvals; /* of the pending transfers the batch loaded */
    uint32_t approvals_count, approvals_capacity;
    struct strmap approvals_by_id;
    const char *actor;      /* the user the batch runs as (recorded on approvals) */
    ledger_authorize_fn authorize; /* NULL: every operation allowed */
    void *authorize_ctx;
    int64_t timestamp_last; /* the ledger's latest timestamp; set before executing */
    struct ledger_undo *undo; /* the current chain's undo log */
    uint32_t undo_count, undo_capacity;
    bool undo_active; /* inside a linked chain */
};

void ledger_view_init(struct ledger_view *view);
void ledger_view_free(struct ledger_view *view);
/* Empties the view for the next batch, keeping its memory. */
void ledger_view_reset(struct ledger_view *view);

/* Copies a stored row into the view (strings included). false: out of memory. */
bool ledger_view_add_unit(struct ledger_view *view, const struct ledger_unit *unit);
bool ledger_view_add_account(struct ledger_view *view, const struct ledger_account *account);
bool ledger_view_add_transfer(struct ledger_view *view, const struct ledger_transfer *transfer);

/*
 * Conditions must be added in creation order, all of them, before executing:
 * derived conditions are evaluated over those before them. false: out of
 * memory, or a stored `when` that no longer compiles (the message says why).
 */
bool ledger_view_add_condition(struct ledger_view *view, const struct ledger_condition *condition,
                               char *message, size_t message_size);
bool ledger_view_add_requirement(struct ledger_view *view,
                                 const struct ledger_requirement *requirement);
bool ledger_view_add_rate(struct ledger_view *view, const struct ledger_rate *rate);
bool ledger_view_add_party(struct ledger_view *view, const struct ledger_party *party);
bool ledger_view_add_approval(struct ledger_view *view, const struct ledger_approval *approval);
struct ledger_party *ledger_view_party(const struct ledger_view *view, const char *id);
struct ledger_approval *ledger_view_approval(const struct ledger_view *view, const char *id);
/* true when user is among the account's approvers. */
bool ledger_account_approver(const struct ledger_account *account, const char *user);
struct ledger_condition *ledger_view_condition(const struct ledger_view *view, const char *name);
struct ledger_requirement *ledger_view_requirement(const struct ledger_view *view,
                                                   const char *id);
/* Writes a rate's view key for (unit, to, date) into out. */
void ledger_rate_key(const char *unit, const char *to, int64_t date, char *out, size_t size);

struct ledger_unit *ledger_view_unit(const struct ledger_view *view, const char *code);
struct ledger_account *ledger_view_account(const struct ledger_view *view, const char *id);
struct ledger_transfer *ledger_view_transfer(const struct ledger_view *view, const char *id);

/*
 * Expires every pending transfer in the view whose `expires` is ≤ now,
 * creating its expiry record. Call after loading, before ledger_execute.
 * Returns the number expired, or −1 when memory ran out.
 */
int32_t ledger_expire(struct ledger_view *view, int64_t now);

/*
 * Applies ops[0..count) in order to the view and writes one result per
 * operation. `now` is the commit time (it bounds timestamps from below and
 * decides expiry). Message strings live in the view's arena. Returns false
 * only when memory ran out (the view is then unusable; discard the batch).
 */
bool ledger_execute(struct ledger_view *view, const struct ledger_op *ops, size_t count,
                    int64_t now, struct ledger_result *results);

/*
 * The ids an operation refers to, for the caller to load before executing:
 * calls visit(ctx, kind, id) with kind 'u' (unit), 'a' (account), 't'
 * (transfer), 'p' (party), 'v' (the approvals of pending transfer id), 'w'
 * (the approval id) or
 * 'g' (the pending transfers gated on base condition id, with their
 * accounts) for each; and with id NULL, kind 'c' (every condition),
 * 'q' (every requirement) or 'x' (every rate) when the operation needs that
 * whole table. Ids may repeat; the caller dedups.
 */
void ledger_op_refs(const struct ledger_op *op,
                    void (*visit)(void *ctx, char kind, const char *id), void *ctx);

/*
 * The double-entry invariants over a set of accounts that holds every
 * account of the units it covers: per unit, Σ debits = Σ credits for posted
 * and pending; balances non-negative; flag limits hold. On failure writes a
 * message naming the unit or account and returns false.
 */
bool ledger_check_accounts(const struct ledger_account *accounts, size_t count, char *message,
                           size_t message_size);

/*
 * The engine's bookkeeping over one batch: every account in the view holds
 * its balances as loaded plus the effects of the rows the batch created;
 * balances are non-negative and within their flags' limits; every resolution
 * names a pending transfer that is no longer pending. Cheap enough for debug
 * builds to run after every batch. On failure writes a message and returns false.
 */
bool ledger_check_view(const struct ledger_view *view, char *message, size_t message_size);

/* Validation of identifiers, shared with the decoders and the CLI. */
bool ledger_valid_unit_code(const char *code);
bool ledger_valid_account_id(const char *id);
bool ledger_valid_transfer_id(const char *id);
/* Whether id ends in a suffix of the records the ledger makes itself ("p-1/expiry"). */
bool ledger_reserved_transfer_id(const char *id);
bool ledger_valid_user(const char *user); /* [a-z0-9][a-z0-9._-]{0,63} */

#endif
