/*
 * ledger.c — the rules: validating and applying operations to a view.
 *
 * Each operation is checked completely before it changes anything, so a
 * rejected operation outside a chain needs no undo. Inside a linked chain the
 * accepted operations before a failure must be taken back; every change made
 * while a chain is open is first recorded in the undo log (old balances, old
 * states, rows appended), and a failing chain replays the log backwards.
 *
 * Checks run in a fixed order so that an operation that breaks several rules
 * always gets the same status: malformed fields (invalid), then the
 * idempotency key (exists, exists_with_different_fields), then the amount and
 * accounts, then units, conditions, an `expires` already past (invalid: it
 * depends on the commit time, so it comes after the key, letting a replay of
 * an old operation still answer `exists`), overflow, and the balance limits
 * last. A post or void checks its pending transfer (found, pending, not
 * lapsed) before its own `date` against the pending one's (invalid when
 * earlier: it depends on another row, so it too comes after the key), then
 * the amount.
 *
 * Dates: a resolution never takes effect before the pending transfer it
 * resolves. A `date` given earlier is refused; the defaults (the commit time
 * for a post or void, `expires` for an expiry) move up to the pending
 * transfer's date when they fall before it.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "ledger/ledger_internal.h"
#include "util/amount.h"
#include "util/timefmt.h"
#include "util/utf8.h"

static const char *const status_names[LEDGER_STATUS_COUNT] = {
    [LEDGER_CREATED] = "created",
    [LEDGER_EXISTS] = "exists",
    [LEDGER_RESOLVED] = "resolved",
    [LEDGER_EXISTS_WITH_DIFFERENT_FIELDS] = "exists_with_different_fields",
    [LEDGER_INVALID] = "invalid",
    [LEDGER_UNIT_NOT_FOUND] = "unit_not_found",
    [LEDGER_DEBIT_ACCOUNT_NOT_FOUND] = "debit_account_not_found",
    [LEDGER_CREDIT_ACCOUNT_NOT_FOUND] = "credit_account_not_found",
    [LEDGER_ACCOUNTS_MUST_BE_DIFFERENT] = "accounts_must_be_different",
    [LEDGER_ACCOUNTS_MUST_HAVE_THE_SAME_UNIT] = "accounts_must_have_the_same_unit",
    [LEDGER_AMOUNT_MUST_NOT_BE_ZERO] = "amount_must_not_be_zero",
    [LEDGER_EXCEEDS_CREDITS] = "exceeds_credits",
    [LEDGER_EXCEEDS_DEBITS] = "exceeds_debits",
    [LEDGER_OVERFLOWS] = "overflows",
    [LEDGER_PENDING_TRANSFER_NOT_FOUND] = "pending_transfer_not_found",
    [LEDGER_PENDING_TRANSFER_NOT_PENDING] = "pending_transfer_not_pending",
    [LEDGER_PENDING_TRANSFER_ALREADY_POSTED] = "pending_transfer_already_posted",
    [LEDGER_PENDING_TRANSFER_ALREADY_VOIDED] = "pending_transfer_already_voided",
    [LEDGER_PENDING_TRANSFER_EXPIRED] = "pending_transfer_expired",
    [LEDGER_EXCEEDS_PENDING_TRANSFER_AMOUNT] = "exceeds_pending_transfer_amount",
    [LEDGER_CONDITION_NOT_FOUND] = "condition_not_found",
    [LEDGER_CONDITION_REQUIRES_PENDING] = "condition_requires_pending",
    [LEDGER_CONDITION_ALREADY_RESOLVED] = "condition_already_resolved",
    [LEDGER_LINKED_EVENT_FAILED] = "linked_event_failed",
    [LEDGER_LINKED_EVENT_CHAIN_OPEN] = "linked_event_chain_open",
    [LEDGER_FORBIDDEN] = "forbidden",
    [LEDGER_APPROVAL_REQUIRED] = "approval_required",
    [LEDGER_APPROVAL_ALREADY_GIVEN] = "approval_already_given",
};

const char *ledger_status_name(enum ledger_status status)
{
    assert(status < LEDGER_STATUS_COUNT);
    return status < LEDGER_STATUS_COUNT ? status_names[status] : "unknown";
}

const char *ledger_op_name(enum ledger_op_type type)
{
    static const char *const names[LEDGER_OP_TYPE_COUNT] = {
        "unit", "account", "transfer", "post", "void", "condition", "resolve", "requirement",
        "rate", "party", "approve", "domain"};
    return type < LEDGER_OP_TYPE_COUNT ? names[type] : NULL;
}

const char *ledger_op_label(const struct ledger_op *op)
{
    if (op->type == LEDGER_OP_DOMAIN && op->kind != NULL) return op->kind;
    const char *name = ledger_op_name(op->type);
    return name != NULL ? name : "transfer";
}

const char *ledger_state_name(enum ledger_state state)
{
    switch (state) {
    case LEDGER_STATE_POSTED: return "posted";
    case LEDGER_STATE_PENDING: return "pending";
    case LEDGER_STATE_VOIDED: return "voided";
    case LEDGER_STATE_EXPIRED: return "expired";
    }
    return "unknown";
}

const char *ledger_reason_name(enum ledger_reason reason)
{
    switch (reason) {
    case LEDGER_REASON_NONE: return NULL;
    case LEDGER_REASON_POST: return "post";
    case LEDGER_REASON_VOID: return "void";
    case LEDGER_REASON_EXPIRY: return "expiry";
    case LEDGER_REASON_CONDITION: return "condition";
    case LEDGER_REASON_APPROVAL: return "approval";
    }
    return NULL;
}

/* ---------------------------------------------------------------- identifiers */

bool ledger_valid_unit_code(const char *code)
{
    if (code == NULL || !(code[0] >= 'A' && code[0] <= 'Z')) return false;
    size_t n = 1;
    for (const char *p = code + 1; *p; p++, n++) {
        bool ok = (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_';
        if (!ok || n >= LEDGER_UNIT_CODE_BYTES_MAX) return false;
    }
    return true;
}

bool ledger_valid_account_id(const char *id)
{
    if (id == NULL) return false;
    bool first_ok = (id[0] >= 'a' && id[0] <= 'z') || (id[0] >= '0' && id[0] <= '9');
    if (!first_ok) return false;
    size_t n = 1;
    for (const char *p = id + 1; *p; p++, n++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ||
                  *p == '_' || *p == '-';
        if (!ok || n >= LEDGER_ID_BYTES_MAX) return false;
    }
    return true;
}

bool ledger_valid_transfer_id(const char *id)
{
    if (id == NULL || id[0] == '\0') return false;
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++, n++)
        if (*p < 0x21 || *p > 0x7e || n >= LEDGER_ID_BYTES_MAX) return false;
    return true;
}

/*
 * Free text (names, kind, memo, meta, `if`) is shown as JSON and to people:
 * it must be UTF-8. JSON input always is; a C caller or a command line may
 * hand over anything.
 */
static bool text_ok(const char *s)
{
    return s == NULL || utf8_valid(s, strlen(s));
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

bool ledger_reserved_transfer_id(const char *id)
{
    return ends_with(id, LEDGER_EXPIRY_SUFFIX) || ends_with(id, LEDGER_CONDITION_SUFFIX) ||
           ends_with(id, LEDGER_APPROVAL_SUFFIX);
}

/* ---------------------------------------------------------------- undo log */

static bool conditions_recompute(struct ledger_view *view);

enum undo_kind {
    UNDO_UNIT_NEW,          /* remove units[index] (the last) */
    UNDO_ACCOUNT_NEW,       /* remove accounts[index] (the last) */
    UNDO_TRANSFER_NEW,      /* remove transfers[index] (the last) */
    UNDO_ACCOUNT_BALANCES,  /* restore balances and row flags of accounts[index] */
    UNDO_TRANSFER_STATE,    /* restore state and row flags of transfers[index] */
    UNDO_CONDITION_NEW,     /* remove conditions[index] (the last) */
    UNDO_CONDITION_STATE,   /* restore state, resolved_at and row flags of conditions[index]
                               (a base condition resolved, or a derived one that followed) */
    UNDO_REQUIREMENT_NEW,   /* remove requirements[index] (the last) */
    UNDO_RATE_NEW,          /* remove rates[index] (the last) */
    UNDO_PARTY_NEW,         /* remove parties[index] (the last) */
    UNDO_APPROVAL_NEW,      /* remove approvals[index] (the last) */
};

struct ledger_undo {
    uint8_t kind;     /* enum undo_kind */
    uint8_t row;      /* old row flags */
    uint8_t state;    /* old transfer state */
    uint32_t index;   /* into the array kind names */
    int64_t balances[4]; /* old debits_pending, debits_posted, credits_pending, credits_posted */
};

static bool undo_push(struct ledger_view *view, struct ledger_undo entry)
{
    if (!view->undo_active) return true;
    if (!ledger_grow((void **)&view->undo, &view->undo_capacity, view->undo_count,
                     sizeof *view->undo))
        return false;
    view->undo[view->undo_count++] = entry;
    return true;
}

static bool undo_account(struct ledger_view *view, uint32_t index)
{
    const struct ledger_account *a = &view->accounts[index];
    return undo_push(view, (struct ledger_undo){
                               .kind = UNDO_ACCOUNT_BALANCES,
                               .row = a->row,
                               .index = index,
                               .balances = {a->debits_pending, a->debits_posted,
                                            a->credits_pending, a->credits_posted},
                           });
}

static void undo_rollback(struct ledger_view *view)
{
    while (view->undo_count > 0) {
        const struct ledger_undo *u = &view->undo[--view->undo_count];
        switch ((enum undo_kind)u->kind) {
        case UNDO_UNIT_NEW:
            assert(u->index == view->units_count - 1);
            strmap_remove(&view->units_by_code, view->units[u->index].code);
            view->units_count--;
            break;
        case UNDO_ACCOUNT_NEW:
            assert(u->index == view->accounts_count - 1);
            strmap_remove(&view->accounts_by_id, view->accounts[u->index].id);
            view->accounts_count--;
            break;
        case UNDO_TRANSFER_NEW:
            assert(u->index == view->transfers_count - 1);
            strmap_remove(&view->transfers_by_id, view->transfers[u->index].id);
            view->transfers_count--;
            break;
        case UNDO_ACCOUNT_BALANCES: {
            struct ledger_account *a = &view->accounts[u->index];
            a->debits_pending = u->balances[0];
            a->debits_posted = u->balances[1];
            a->credits_pending = u->balances[2];
            a->credits_posted = u->balances[3];
            a->row = u->row;
            break;
        }
        case UNDO_TRANSFER_STATE:
            view->transfers[u->index].state = u->state;
            view->transfers[u->index].row = u->row;
            break;
        case UNDO_CONDITION_NEW:
            assert(u->index == view->conditions_count - 1);
            strmap_remove(&view->conditions_by_name, view->conditions[u->index].name);
            cond_expr_free(&view->condition_when[u->index]);
            view->conditions_count--;
            break;
        case UNDO_CONDITION_STATE:
            view->conditions[u->index].state = u->state;
            view->conditions[u->index].resolved_at = u->balances[0];
            view->conditions[u->index].row = u->row;
            view->condition_states[u->index] = u->state;
            break;
        case UNDO_REQUIREMENT_NEW:
            assert(u->index == view->requirements_count - 1);
            strmap_remove(&view->requirements_by_id, view->requirements[u->index].id);
            view->requirements_count--;
            break;
        case UNDO_RATE_NEW:
            assert(u->index == view->rates_count - 1);
            strmap_remove(&view->rates_by_key, view->rates[u->index].key);
            view->rates_count--;
            break;
        case UNDO_PARTY_NEW:
            assert(u->index == view->parties_count - 1);
            strmap_remove(&view->parties_by_id, view->parties[u->index].id);
            view->parties_count--;
            break;
        case UNDO_APPROVAL_NEW:
            assert(u->index == view->approvals_count - 1);
            strmap_remove(&view->approvals_by_id, view->approvals[u->index].id);
            view->approvals_count--;
            break;
        }
    }
}

/* ---------------------------------------------------------------- helpers */

struct exec {
    struct ledger_view *view;
    int64_t now;
    bool out_of_memory;
};

static const char *msgf(struct exec *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static const char *msgf(struct exec *x, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    /* Truncation can cut a character of a quoted field in two: the message must stay UTF-8. */
    const char *m = arena_strdup(&x->view->arena, utf8_truncate(buf));
    if (m == NULL) x->out_of_memory = true;
    return m;
}

static int64_t next_timestamp(struct ledger_view *view, int64_t now)
{
    int64_t ts = view->timestamp_last >= now ? view->timestamp_last + 1 : now;
    view->timestamp_last = ts;
    return ts;
}

static bool str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL) return a == b;
    return strcmp(a, b) == 0;
}

static struct ledger_result result(enum ledger_status status, int64_t timestamp,
                                   const char *message)
{
    return (struct ledger_result){.status = status, .timestamp = timestamp, .message = message};
}

/* exists carries the timestamp of the row found; a different row with the id is a rejection. */
static struct ledger_result existing(bool same, int64_t timestamp)
{
    return same ? result(LEDGER_EXISTS, timestamp, NULL)
                : result(LEDGER_EXISTS_WITH_DIFFERENT_FIELDS, 0, NULL);
}

static struct ledger_result invalid(const char *message)
{
    return result(LEDGER_INVALID, 0, message);
}

/* Appends a new transfer row (strings copied); returns its index or −1. */
static int64_t transfer_append(struct exec *x, const struct ledger_transfer *t)
{
    struct ledger_view *view = x->view;
    if (!ledger_view_add_transfer(view, t)) {
        x->out_of_memory = true;
        return -1;
    }
    uint32_t index = view->transfers_count - 1;
    if (!undo_push(view, (struct ledger_undo){.kind = UNDO_TRANSFER_NEW, .index = index})) {
        x->out_of_memory = true;
        return -1;
    }
    return index;
}

static bool transfer_set_state(struct exec *x, uint32_t index, enum ledger_state state)
{
    struct ledger_transfer *t = &x->view->transfers[index];
    if (!undo_push(x->view, (struct ledger_undo){.kind = UNDO_TRANSFER_STATE,
                                                 .row = t->row,
                                                 .state = t->state,
                                                 .index = index})) {
        x->out_of_memory = true;
        return false;
    }
    t->state = (uint8_t)state;
    if (!(t->row & LEDGER_ROW_NEW)) t->row |= LEDGER_ROW_DIRTY;
    return true;
}

/*
 * Adds (posted, pending) to both sides of a transfer between accounts dr and
 * cr, with every overflow checked before anything changes.
 */
static enum ledger_status balances_apply(struct exec *x, uint32_t dr_index, uint32_t cr_index,
                                         int64_t posted, int64_t pending)
{
    struct ledger_account *dr = &x->view->accounts[dr_index];
    struct ledger_account *cr = &x->view->accounts[cr_index];
    int64_t dp, dpo, cp, cpo;
    if (!amount_add(dr->debits_pending, pending, &dp) ||
        !amount_add(dr->debits_posted, posted, &dpo) ||
        !amount_add(cr->credits_pending, pending, &cp) ||
        !amount_add(cr->credits_posted, posted, &cpo))
        return LEDGER_OVERFLOWS;
    assert(dp >= 0 && cp >= 0 && dpo >= 0 && cpo >= 0);
    if (!undo_account(x->view, dr_index) || !undo_account(x->view, cr_index)) {
        x->out_of_memory = true;
        return LEDGER_OVERFLOWS;
    }
    dr->debits_pending = dp;
    dr->debits_posted = dpo;
    cr->credits_pending = cp;
    cr->credits_posted = cpo;
    if (!(dr->row & LEDGER_ROW_NEW)) dr->row |= LEDGER_ROW_DIRTY;
    if (!(cr->row & LEDGER_ROW_NEW)) cr->row |= LEDGER_ROW_DIRTY;
    return LEDGER_CREATED;
}

/* ---------------------------------------------------------------- unit */

static struct ledger_result unit_create(struct exec *x, const struct ledger_op *op)
{
    struct ledger_view *view = x->view;
    if (!ledger_valid_unit_code(op->id))
        return invalid("code must match [A-Z][A-Z0-9_]{0,15}");
    if (!(op->flags & LEDGER_OP_HAS_SCALE)) return invalid("scale is required");
    if (op->scale < 0 || op->scale > LEDGER_SCALE_MAX)
        return invalid(msgf(x, "scale must be 0 … %d", LEDGER_SCALE_MAX));
    if (op->name != NULL && strlen(op->name) > LEDGER_NAME_BYTES_MAX)
        return invalid(msgf(x, "name is longer than %d bytes", LEDGER_NAME_BYTES_MAX));
    if (!text_ok(op->name)) return invalid("name must be UTF-8 text");
    const struct ledger_unit *found = ledger_view_unit(view, op->id);
    if (found != NULL) {
        bool same = found->scale == op->scale && str_eq(found->name, op->name);
        return existing(same, found->timestamp);
    }
    struct ledger_unit u = {
        .code = op->id, .name = op->name, .scale = op->scale,
        .timestamp = next_timestamp(view, x->now), .row = LEDGER_ROW_NEW,
    };
    if (!ledger_view_add_unit(view, &u) ||
        !undo_push(view, (struct ledger_undo){.kind = UNDO_UNIT_NEW,
                                              .index = view->units_count - 1})) {
        x->out_of_memory = true;
        return invalid(NULL);
    }
    return result(LEDGER_CREATED, u.timestamp, NULL);
}

/* ---------------------------------------------------------------- account */

/* A user name: [a-z0-9][a-z0-9._-]{0,63}, like an id but shorter. */
bool ledger_valid_user(const char *user)
{
    return user != NULL && strlen(user) <= LEDGER_USER_BYTES_MAX && ledger_valid_account_id(user);
}

/* Approvers in a space-separated list; 0 when there are none. */
static int32_t approvers_count(const char *approvers)
{
    if (approvers == NULL || approvers[0] == '\0') return 0;
    int32_t n = 1;
    for (const char *p = approvers; *p; p++) n += *p == ' ';
    return n;
}

/* A guarded account names 1 … 32 distinct approvers and needs 1 … n of them. */
static const char *guard_invalid(struct exec *x, const struct ledger_op *op)
{
    bool guarded = op->account_flags & LEDGER_ACCOUNT_GUARDED;
    if (!guarded) {
        if (op->approvers != NULL || op->approvals_required != 0)
            return "approvers and approvals_required apply only to a guarded account";
        return NULL;
    }
    int32_t n = approvers_count(op->approvers);
    if (n == 0) return "a guarded account needs approvers";
    if (n > LEDGER_APPROVERS_MAX)
        return msgf(x, "a guarded account has at most %d approvers", LEDGER_APPROVERS_MAX);
    if (op->approvals_required < 1 || op->approvals_required > n)
        return msgf(x, "approvals_required must be 1 … %d (the number of approvers)", n);
    char name[LEDGER_USER_BYTES_MAX + 2];
    for (const char *p = op->approvers; *p != '\0';) {
        const char *end = strchr(p, ' ');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len == 0 || len > LEDGER_USER_BYTES_MAX)
            return "each approver must be a user name of 1 … 64 bytes";
        memcpy(name, p, len);
        name[len] = '\0';
        if (!ledger_valid_user(name))
            return msgf(x, "approver %s must match [a-z0-9][a-z0-9._-]{0,63}", name);
        /* The same approver twice would count one person's decision twice. */
        for (const char *q = op->approvers; q < p;) {
            const char *qe = strchr(q, ' ');
            if ((size_t)(qe - q) == len && memcmp(q, p, len) == 0)
                return msgf(x, "approver %s is named twice", name);
            q = qe + 1;
        }
        p = end != NULL ? end + 1 : p + len;
    }
    return NULL;
}

static struct ledger_result account_create(struct exec *x, const struct ledger_op *op)
{
    struct ledger_view *view = x->view;
    if (!ledger_valid_account_id(op->id))
        return invalid("id must match [a-z0-9][a-z0-9._-]{0,127}");
    if (op->unit == NULL) return invalid("unit is required");
    if (!ledger_valid_unit_code(op->unit))
        return invalid("unit must match [A-Z][A-Z0-9_]{0,15}");
    if (op->name != NULL && strlen(op->name) > LEDGER_NAME_BYTES_MAX)
        return invalid(msgf(x, "name is longer than %d bytes", LEDGER_NAME_BYTES_MAX));
    if (!text_ok(op->name)) return invalid("name must be UTF-8 text");
    if (op->owner != NULL && !ledger_valid_account_id(op->owner))
        return invalid("owner must be a party id matching [a-z0-9][a-z0-9._-]{0,127}");
    const uint32_t both = LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS |
                          LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS;
    if (op->account_flags & ~(both | LEDGER_ACCOUNT_GUARDED))
        return invalid("flags holds an unknown flag");
    if ((op->account_flags & both) == both)
        return invalid("debits_must_not_exceed_credits and credits_must_not_exceed_debits "
                       "exclude each other");
    const char *bad = guard_invalid(x, op);
    if (bad != NULL) return invalid(bad);
    const struct ledger_account *found = ledger_view_account(view, op->id);
    if (found != NULL) {
        bool same = str_eq(found->unit, op->unit) && str_eq(found->name, op->name) &&
                    str_eq(found->owner, op->owner) && found->flags == op->account_flags &&
                    str_eq(found->approvers, op->approvers) &&
                    found->approvals_required == op->approvals_required;
        return existing(same, found->timestamp);
    }
    if (ledger_view_unit(view, op->unit) == NULL)
        return result(LEDGER_UNIT_NOT_FOUND, 0, msgf(x, "no unit %s", op->unit));
    struct ledger_account a = {
        .id = op->id, .unit = op->unit, .name = op->name, .owner = op->owner,
        .flags = op->account_flags, .approvers = op->approvers,
        .approvals_required = op->approvals_required,
        .timestamp = next_timestamp(view, x->now), .row = LEDGER_ROW_NEW,
    };
    if (!ledger_view_add_account(view, &a) ||
        !undo_push(view, (struct ledger_undo){.kind = UNDO_ACCOUNT_NEW,
                                              .index = view->accounts_count - 1})) {
        x->out_of_memory = true;
        return invalid(NULL);
    }
    return result(LEDGER_CREATED, a.timestamp, NULL);
}

/* ---------------------------------------------------------------- conditions: helpers */

static struct ledger_result pending_resolve(struct exec *x, uint32_t p, const char *id,
                                            enum ledger_reason reason, bool post,
                                            int64_t amount, const struct ledger_op *op);

struct bases {
    const struct ledger_view *view;
    uint8_t *seen;  /* per condition */
    char *text;     /* "a b c" */
    size_t length, capacity;
    bool failed;
};

/* Adds the base conditions behind condition `index` (itself, or through `when`). */
static void bases_visit(void *ctx, uint32_t index)
{
    struct bases *b = ctx;
    if (b->seen[index]) return;
    b->seen[index] = 1;
    const struct cond_expr *when = &b->view->condition_when[index];
    if (when->count > 0) {
        cond_expr_names(when, bases_visit, b);
        return;
    }
    const char *name = b->view->conditions[index].name;
    size_t n = strlen(name);
    if (b->length + n + 2 > b->capacity) {
        b->failed = true;
        return;
    }
    if (b->length > 0) b->text[b->length++] = ' ';
    memcpy(b->text + b->length, name, n);
    b->length += n;
    b->text[b->length] = '\0';
}

/*
 * The base conditions an expression depends on, through derived ones, as
 * "a b c" in the arena: the store indexes a gated pending transfer under each,
 * so resolving one finds every transfer it may decide.
 */
static const char *gate_bases(struct exec *x, const struct cond_expr *gate)
{
    struct ledger_view *view = x->view;
    size_t capacity = (size_t)view->conditions_count * (COND_NAME_BYTES_MAX + 1) + 1;
    struct bases b = {.view = view, .seen = calloc(view->conditions_count + 1, 1),
                      .text = arena_alloc(&view->arena, capacity), .capacity = capacity};
    if (b.seen == NULL || b.text == NULL) {
        free(b.seen);
        x->out_of_memory = true;
        return NULL;
    }
    b.text[0] = '\0';
    cond_expr_names(gate, bases_visit, &b);
    free(b.seen);
    assert(!b.failed);
    return b.text;
}

/* Posts (met) or voids (failed) pending transfer p because its `if` is decided. */
static struct ledger_result condition_settle(struct exec *x, uint32_t p, bool met)
{
    const char *pending_id = x->view->transfers[p].id;
    size_t n = strlen(pending_id) + sizeof LEDGER_CONDITION_SUFFIX;
    char *id = arena_alloc(&x->view->arena, n);
    if (id == NULL) {
        x->out_of_memory = true;
        return invalid(NULL);
    }
    snprintf(id, n, "%s%s", pending_id, LEDGER_CONDITION_SUFFIX);
    int64_t amount = x->view->transfers[p].amount;
    return pending_resolve(x, p, id, LEDGER_REASON_CONDITION, met, amount, NULL);
}

/*
 * Recomputes every derived condition's state, in creation order. Each change
 * goes into the undo log first, so a failing chain puts back states and row
 * flags exactly. false: out of memory.
 */
static bool conditions_recompute(struct ledger_view *view)
{
    for (uint32_t i = 0; i < view->conditions_count; i++) {
        if (view->condition_when[i].count == 0) continue;
        uint8_t state = (uint8_t)cond_eval(&view->condition_when[i], view->condition_states);
        struct ledger_condition *c = &view->conditions[i];
        if (state == c->state) continue;
        if (!undo_push(view, (struct ledger_undo){.kind = UNDO_CONDITION_STATE, .row = c->row,
                                                  .state = c->state, .index = i,
                                                  .balances = {c->resolved_at}}))
            return false;
        if (!(c->row & LEDGER_ROW_NEW)) c->row |= LEDGER_ROW_DIRTY;
        view->condition_states[i] = state;
        c->state = state;
    }
    return true;
}

/* ---------------------------------------------------------------- transfer */

/* Checks what every transfer-like operation shares: id, memo, meta, amount sign. */
static const char *common_invalid(struct exec *x, const struct ledger_op *op)
{
    if (!ledger_valid_transfer_id(op->id))
        return msgf(x, "id must be 1 … %d printable ASCII characters without spaces",
                    LEDGER_ID_BYTES_MAX);
    if (ledger_reserved_transfer_id(op->id))
        return "ids ending in " LEDGER_EXPIRY_SUFFIX ", " LEDGER_CONDITION_SUFFIX
               " or " LEDGER_APPROVAL_SUFFIX " are reserved for the records the ledger makes "
               "itself";
    if (op->memo != NULL && strlen(op->memo) > LEDGER_MEMO_BYTES_MAX)
        return msgf(x, "memo is longer than %d bytes", LEDGER_MEMO_BYTES_MAX);
    if (!text_ok(op->memo)) return "memo must be UTF-8 text";
    if (op->meta != NULL && strlen(op->meta) > LEDGER_META_BYTES_MAX)
        return msgf(x, "meta is longer than %d bytes", LEDGER_META_BYTES_MAX);
    if (!text_ok(op->meta)) return "meta must be UTF-8 text";
    if ((op->flags & LEDGER_OP_HAS_AMOUNT) && op->amount < 0)
        return "amount must be an integer in 1 … 2^63-1";
    if (op->kind != NULL && (op->kind[0] == '\0' || strlen(op->kind) > LEDGER_KIND_BYTES_MAX))
        return msgf(x, "kind must be 1 … %d bytes", LEDGER_KIND_BYTES_MAX);
    if (!text_ok(op->kind)) return "kind must be UTF-8 text";
    return NULL;
}

static bool date_same(const struct ledger_op *op, const struct ledger_transfer *t)
{
    bool given = op->flags & LEDGER_OP_HAS_DATE;
    if (given != ((t->flags & LEDGER_TRANSFER_HAS_DATE) != 0)) return false;
    return !given || t->date == op->date;
}

static bool transfer_same(const struct ledger_op *op, const struct ledger_transfer *t)
{
    bool pending = op->flags & LEDGER_OP_PENDING;
    bool has_expires = op->flags & LEDGER_OP_HAS_EXPIRES;
    return t->reason == LEDGER_REASON_NONE && str_eq(op->debit, t->debit) &&
           str_eq(op->credit, t->credit) && op->amount == t->amount &&
           pending == ((t->flags & LEDGER_TRANSFER_PENDING) != 0) &&
           (op->unit == NULL || str_eq(op->unit, t->unit)) && str_eq(op->kind, t->kind) &&
           str_eq(op->cond, t->cond) && str_eq(op->memo, t->memo) && str_eq(op->meta, t->meta) &&
           has_expires == ((t->flags & LEDGER_TRANSFER_EXPIRES) != 0) &&
           (!has_expires || op->expires == t->expires) && date_same(op, t);
}

static struct ledger_result transfer_insert(struct exec *x, const struct ledger_op *op,
                                            uint32_t dr_index, uint32_t cr_index,
                                            const struct cond_expr *gate);

static struct ledger_result transfer_create(struct exec *x, const struct ledger_op *op)
{
    struct ledger_view *view = x->view;
    bool pending = op->flags & LEDGER_OP_PENDING;
    const char *bad = common_invalid(x, op);
    if (bad != NULL) return invalid(bad);
    if (op->debit == NULL || !ledger_valid_account_id(op->debit))
        return invalid("debit must be an account id");
    if (op->credit == NULL || !ledger_valid_account_id(op->credit))
        return invalid("credit must be an account id");
    if (!(op->flags & LEDGER_OP_HAS_AMOUNT)) return invalid("amount is required");
    if (op->unit != NULL && !ledger_valid_unit_code(op->unit))
        return invalid("unit must match [A-Z][A-Z0-9_]{0,15}");
    if ((op->flags & LEDGER_OP_HAS_EXPIRES) && !pending)
        return invalid("expires applies only to a pending transfer");
    /* Its expiry record would take effect before the transfer itself did. */
    if ((op->flags & LEDGER_OP_HAS_EXPIRES) && (op->flags & LEDGER_OP_HAS_DATE) &&
        op->expires < op->date)
        return invalid("expires is before the transfer's date");
    if (op->cond != NULL && strlen(op->cond) > LEDGER_EXPR_BYTES_MAX)
        return invalid(msgf(x, "if is longer than %d bytes", LEDGER_EXPR_BYTES_MAX));
    if (!text_ok(op->cond)) return invalid("if must be UTF-8 text");

    const struct ledger_transfer *found = ledger_view_transfer(view, op->id);
    if (found != NULL)
        return existing(transfer_same(op, found), found->timestamp);
    if (op->amount == 0) return result(LEDGER_AMOUNT_MUST_NOT_BE_ZERO, 0, NULL);
    if (strcmp(op->debit, op->credit) == 0)
        return result(LEDGER_ACCOUNTS_MUST_BE_DIFFERENT, 0, NULL);
    uint32_t dr_index, cr_index;
    if (!strmap_get(&view->accounts_by_id, op->debit, &dr_index))
        return result(LEDGER_DEBIT_ACCOUNT_NOT_FOUND, 0, msgf(x, "no account %s", op->debit));
    if (!strmap_get(&view->accounts_by_id, op->credit, &cr_index))
        return result(LEDGER_CREDIT_ACCOUNT_NOT_FOUND, 0, msgf(x, "no account %s", op->credit));
    const struct ledger_account *dr = &view->accounts[dr_index];
    const struct ledger_account *cr = &view->accounts[cr_index];
    if (op->unit != NULL && ledger_view_unit(view, op->unit) == NULL)
        return result(LEDGER_UNIT_NOT_FOUND, 0, msgf(x, "no unit %s", op->unit));
    if (strcmp(dr->unit, cr->unit) != 0 || (op->unit != NULL && strcmp(op->unit, dr->unit) != 0))
        return result(LEDGER_ACCOUNTS_MUST_HAVE_THE_SAME_UNIT, 0, NULL);
    if (dr->flags & LEDGER_ACCOUNT_GUARDED) {
        if (!pending)
            return result(LEDGER_APPROVAL_REQUIRED, 0,
                          msgf(x, "%s is guarded: a debit must be pending until %d of its "
                                  "approvers approve it", dr->id, dr->approvals_required));
        /* Its approvers decide it; a condition deciding it too would race them. */
        if (op->cond != NULL)
            return invalid(msgf(x, "%s is guarded: a transfer from it is decided by its "
                                   "approvers and takes no if", dr->id));
    }
    struct cond_expr gate = {0};
    if (op->cond != NULL) {
        if (!pending) return result(LEDGER_CONDITION_REQUIRES_PENDING, 0, NULL);
        struct cond_error error;
        if (!cond_parse(op->cond, ledger_condition_lookup, view, NULL, &gate, &error)) {
            if (error.kind == COND_ERROR_NO_MEMORY) x->out_of_memory = true;
            enum ledger_status status = error.kind == COND_ERROR_UNKNOWN_NAME
                                            ? LEDGER_CONDITION_NOT_FOUND
                                            : LEDGER_INVALID;
            return result(status, 0, msgf(x, "if: %s", error.message));
        }
    }
    struct ledger_result r = transfer_insert(x, op, dr_index, cr_index, &gate);
    cond_expr_free(&gate);
    return r;
}

/*
 * The rest of transfer_create, once the accounts and the `if` (compiled into
 * gate, empty when there is none) are known: limits, the row, and — when the
 * `if` is already decided — its resolution at once.
 */
static struct ledger_result transfer_insert(struct exec *x, const struct ledger_op *op,
                                            uint32_t dr_index, uint32_t cr_index,
                                            const struct cond_expr *gate)
{
    struct ledger_view *view = x->view;
    bool pending = op->flags & LEDGER_OP_PENDING;
    const struct ledger_account *dr = &view->accounts[dr_index];
    const struct ledger_account *cr = &view->accounts[cr_index];
    if ((op->flags & LEDGER_OP_HAS_EXPIRES) && op->expires <= x->now)
        return invalid("expires must be later than the commit time");

    /* Overflow: each balance, and pending + posted on each side for the limits. */
    int64_t dr_pending, dr_posted, cr_pending, cr_posted, dr_total, cr_total;
    int64_t add_pending = pending ? op->amount : 0, add_posted = pending ? 0 : op->amount;
    if (!amount_add(dr->debits_pending, add_pending, &dr_pending) ||
        !amount_add(dr->debits_posted, add_posted, &dr_posted) ||
        !amount_add(cr->credits_pending, add_pending, &cr_pending) ||
        !amount_add(cr->credits_posted, add_posted, &cr_posted) ||
        !amount_add(dr_pending, dr_posted, &dr_total) ||
        !amount_add(cr_pending, cr_posted, &cr_total))
        return result(LEDGER_OVERFLOWS, 0, NULL);
    if ((dr->flags & LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS) && dr_total > dr->credits_posted)
        return result(LEDGER_EXCEEDS_CREDITS, 0, NULL);
    if ((cr->flags & LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS) && cr_total > cr->debits_posted)
        return result(LEDGER_EXCEEDS_DEBITS, 0, NULL);

    int64_t ts = next_timestamp(view, x->now);
    struct ledger_transfer t = {
        .id = op->id, .debit = dr->id, .credit = cr->id, .unit = dr->unit, .kind = op->kind,
        .cond = op->cond, .memo = op->memo, .meta = op->meta, .amount = op->amount,
        .gates = gate->count > 0 ? gate_bases(x, gate) : NULL,
        .effect_posted = add_posted, .effect_pending = add_pending,
        .expires = (op->flags & LEDGER_OP_HAS_EXPIRES) ? op->expires : 0,
        .date = (op->flags & LEDGER_OP_HAS_DATE) ? op->date : ts, .timestamp = ts,
        .flags = (pending ? LEDGER_TRANSFER_PENDING : 0u) |
                 ((op->flags & LEDGER_OP_HAS_DATE) ? LEDGER_TRANSFER_HAS_DATE : 0u) |
                 ((op->flags & LEDGER_OP_HAS_EXPIRES) ? LEDGER_TRANSFER_EXPIRES : 0u),
        .state = pending ? LEDGER_STATE_PENDING : LEDGER_STATE_POSTED,
        .row = LEDGER_ROW_NEW,
    };
    if (x->out_of_memory) return invalid(NULL);
    int64_t index = transfer_append(x, &t);
    if (index < 0) return invalid(NULL);
    enum ledger_status s = balances_apply(x, dr_index, cr_index, add_posted, add_pending);
    assert(s == LEDGER_CREATED || x->out_of_memory);
    (void)s;
    if (gate->count > 0) {
        /* An `if` already decided on arrival resolves the transfer at once. */
        enum cond_state value = cond_eval(gate, view->condition_states);
        if (value != COND_OPEN) {
            struct ledger_result r = condition_settle(x, (uint32_t)index, value == COND_MET);
            if (r.status != LEDGER_CREATED) return r;
        }
    }
    return result(LEDGER_CREATED, ts, NULL);
}

/* ---------------------------------------------------------------- post, void, expiry */

static bool resolution_same(const struct ledger_op *op, const struct ledger_transfer *t)
{
    enum ledger_reason reason = op->type == LEDGER_OP_POST ? LEDGER_REASON_POST
                                                           : LEDGER_REASON_VOID;
    bool has_amount = op->flags & LEDGER_OP_HAS_AMOUNT;
    return t->reason == reason && str_eq(op->pending_id, t->pending_id) &&
           has_amount == ((t->flags & LEDGER_TRANSFER_HAS_AMOUNT) != 0) &&
           (!has_amount || op->amount == t->amount) && str_eq(op->kind, t->kind) &&
           str_eq(op->memo, t->memo) && str_eq(op->meta, t->meta) && date_same(op, t);
}

/*
 * Resolves the pending transfer at index p: posts `amount` of it (post) or
 * releases it (void, expiry), creating the record `id`. Everything is
 * checked by the caller except overflow.
 */
static struct ledger_result pending_resolve(struct exec *x, uint32_t p, const char *id,
                                            enum ledger_reason reason, bool post,
                                            int64_t amount, const struct ledger_op *op)
{
    struct ledger_view *view = x->view;
    const struct ledger_transfer *pt = &view->transfers[p];
    uint32_t dr_index, cr_index;
    bool found = strmap_get(&view->accounts_by_id, pt->debit, &dr_index) &&
                 strmap_get(&view->accounts_by_id, pt->credit, &cr_index);
    assert(found); /* the caller loads a pending transfer's accounts with it */
    if (!found) return invalid("the pending transfer's accounts are not loaded");
    assert(post == (reason == LEDGER_REASON_POST) || reason == LEDGER_REASON_CONDITION ||
           reason == LEDGER_REASON_APPROVAL);
    int64_t posted = post ? amount : 0;
    enum ledger_status s = balances_apply(x, dr_index, cr_index, posted, -pt->amount);
    if (s != LEDGER_CREATED) return result(s, 0, NULL);
    pt = &view->transfers[p];
    enum ledger_state state = post                             ? LEDGER_STATE_POSTED
                              : reason == LEDGER_REASON_EXPIRY ? LEDGER_STATE_EXPIRED
                                                               : LEDGER_STATE_VOIDED;
    int64_t ts = next_timestamp(view, x->now);
    bool has_date = op != NULL && (op->flags & LEDGER_OP_HAS_DATE);
    /* An expiry takes effect when the transfer lapsed, not when it was noticed. */
    int64_t date = has_date ? op->date : reason == LEDGER_REASON_EXPIRY ? pt->expires : ts;
    /*
     * Nor before the transfer it resolves: a pending transfer dated ahead of
     * the commit (or lapsing before its date, as rows stored before this rule
     * may) would otherwise be released at a date when it did not yet reserve
     * anything, and balances as of that date would go negative. A date given
     * by the caller was checked (pending_op); a default moves up to it.
     */
    assert(!has_date || date >= pt->date);
    if (date < pt->date) date = pt->date;
    struct ledger_transfer r = {
        .id = id, .debit = pt->debit, .credit = pt->credit, .unit = pt->unit,
        .pending_id = pt->id, .kind = op ? op->kind : NULL,
        .memo = op ? op->memo : NULL, .meta = op ? op->meta : NULL,
        .amount = post ? amount : pt->amount,
        .effect_posted = posted, .effect_pending = -pt->amount,
        .date = date, .timestamp = ts,
        .flags = (has_date || reason == LEDGER_REASON_EXPIRY ? LEDGER_TRANSFER_HAS_DATE : 0u) |
                 (op != NULL && (op->flags & LEDGER_OP_HAS_AMOUNT) ? LEDGER_TRANSFER_HAS_AMOUNT
                                                                   : 0u),
        .state = (uint8_t)state, .reason = (uint8_t)reason, .row = LEDGER_ROW_NEW,
    };
    if (!transfer_set_state(x, p, state)) return invalid(NULL);
    if (transfer_append(x, &r) < 0) return invalid(NULL);
    return result(LEDGER_CREATED, ts, NULL);
}

/*
 * The pending transfer a post, void or approval names: its index, when it is
 * still pending and has not lapsed; else false with the rejection to answer.
 */
static bool pending_find(struct exec *x, const char *pending_id, uint32_t *p,
                         struct ledger_result *refused)
{
    const struct ledger_view *view = x->view;
    if (!strmap_get(&view->transfers_by_id, pending_id, p)) {
        *refused = result(LEDGER_PENDING_TRANSFER_NOT_FOUND, 0,
                          msgf(x, "no transfer %s", pending_id));
        return false;
    }
    const struct ledger_transfer *pt = &view->transfers[*p];
    enum ledger_status status = LEDGER_CREATED;
    if (!(pt->flags & LEDGER_TRANSFER_PENDING)) status = LEDGER_PENDING_TRANSFER_NOT_PENDING;
    else if (pt->state == LEDGER_STATE_POSTED) status = LEDGER_PENDING_TRANSFER_ALREADY_POSTED;
    else if (pt->state == LEDGER_STATE_VOIDED) status = LEDGER_PENDING_TRANSFER_ALREADY_VOIDED;
    else if (pt->state == LEDGER_STATE_EXPIRED) status = LEDGER_PENDING_TRANSFER_EXPIRED;
    else if ((pt->flags & LEDGER_TRANSFER_EXPIRES) && pt->expires <= x->now)
        status = LEDGER_PENDING_TRANSFER_EXPIRED;
    if (status == LEDGER_CREATED) return true;
    *refused = result(status, 0, NULL);
    return false;
}

static struct ledger_result pending_op(struct exec *x, const struct ledger_op *op)
{
    struct ledger_view *view = x->view;
    bool post = op->type == LEDGER_OP_POST;
    const char *bad = common_invalid(x, op);
    if (bad != NULL) return invalid(bad);
    if (op->pending_id == NULL || !ledger_valid_transfer_id(op->pending_id))
        return invalid("pending_id must be a transfer id");
    if (!post && (op->flags & LEDGER_OP_HAS_AMOUNT))
        return invalid("a void takes no amount: it releases the whole pending amount");
    const struct ledger_transfer *found = ledger_view_transfer(view, op->id);
    if (found != NULL)
        return existing(resolution_same(op, found), found->timestamp);
    if ((op->flags & LEDGER_OP_HAS_AMOUNT) && op->amount == 0)
        return result(LEDGER_AMOUNT_MUST_NOT_BE_ZERO, 0, NULL);
    uint32_t p;
    struct ledger_result refused;
    if (!pending_find(x, op->pending_id, &p, &refused)) return refused;
    const struct ledger_transfer *pt = &view->transfers[p];
    if ((op->flags & LEDGER_OP_HAS_DATE) && op->date < pt->date) {
        char date[TIME_TEXT_BYTES];
        time_format_date(pt->date, date);
        return invalid(msgf(x, "date is before the pending transfer's date (%s)", date));
    }
    if (post) {
        const struct ledger_account *dr = ledger_view_account(view, pt->debit);
        assert(dr != NULL); /* loaded with the pending transfer */
        if (dr != NULL && (dr->flags & LEDGER_ACCOUNT_GUARDED))
            return result(LEDGER_APPROVAL_REQUIRED, 0,
                          msgf(x, "%s is guarded: its approvers post this transfer", dr->id));
    }
    int64_t amount = (op->flags & LEDGER_OP_HAS_AMOUNT) ? op->amount : pt->amount;
    if (post && amount > pt->amount)
        return result(LEDGER_EXCEEDS_PENDING_TRANSFER_AMOUNT, 0,
                      msgf(x, "%lld is more than the pending %lld", (long long)amount,
                           (long long)pt->amount));
    return pending_resolve(x, p, op->id, post ? LEDGER_REASON_POST : LEDGER_REASON_VOID, post,
                           amount, op);
}

int32_t ledger_expire(struct ledger_view *view, int64_t now)
{
    struct exec x = {.view = view, .now = now};
    int32_t expired = 0;
    uint32_t count = view->transfers_count; /* records appended below are not pending */
    for (uint32_t i = 0; i < count; i++) {
        const struct ledger_transfer *t = &view->transfers[i];
        if (t->state != LEDGER_STATE_PENDING || !(t->flags & LEDGER_TRANSFER_EXPIRES) ||
            t->expires > now)
            continue;
        size_t n = strlen(t->id) + sizeof LEDGER_EXPIRY_SUFFIX;
        char *id = arena_alloc(&view->arena, n);
        if (id == NULL) return -1;
        snprintf(id, n, "%s%s", t->id, LEDGER_EXPIRY_SUFFIX);
        struct ledger_result r = pending_resolve(&x, i, id, LEDGER_REASON_EXPIRY, false, 0, NULL);
        if (x.out_of_memory) return -1;
        /* Releasing pending amounts only lowers balances: it cannot overflow. */
        assert(r.status == LEDGER_CREATED);
        (void)r;
        expired++;
    }
    return expired;
}

/* ---------------------------------------------------------------- condition, resolve */

static bool probability_same(const struct ledger_op *op, const struct ledger_condition *c)
{
    bool given = op->flags & LEDGER_OP_HAS_PROBABILITY;
    return given == c->has_probability && (!given || op->probability == c->probability);
}

static struct ledger_result condition_create(struct exec *x, const struct ledger_op *op)
{
    struct ledger_view *view = x->view;
    if (!cond_valid_name(op->id)) return invalid("name must match [a-z][a-z0-9_]{0,63}");
    if (op->name != NULL && strlen(op->name) > LEDGER_NAME_BYTES_MAX)
        return invalid(msgf(x, "title is longer than %d bytes", LEDGER_NAME_BYTES_MAX));
    if (!text_ok(op->name)) return invalid("title must be UTF-8 text");
    if (!text_ok(op->cond)) return invalid("when must be UTF-8 text");
    if (op->owner != NULL && !ledger_valid_account_id(op->owner))
        return invalid("authority must be a party id matching [a-z0-9][a-z0-9._-]{0,127}");
    if ((op->flags & LEDGER_OP_HAS_PROBABILITY) &&
        !(op->probability >= 0.0 && op->probability <= 1.0))
        return invalid("probability must be a number in [0, 1]");
    const struct ledger_condition *found = ledger_view_condition(view, op->id);
    if (found != NULL)
        return existing(str_eq(found->title, op->name) && str_eq(found->authority, op->owner) &&
                            str_eq(found->when, op->cond) && probability_same(op, found),
                        found->timestamp);
    if (op->cond != NULL) {
        struct cond_expr when;
        struct cond_error error;
        if (!cond_parse(op->cond, ledger_condition_lookup, view, op->id, &when, &error)) {
            if (error.kind == COND_ERROR_NO_MEMORY) x->out_of_memory = true;
            return invalid(msgf(x, "when: %s", error.message));
        }
        cond_expr_free(&when);
    }
    struct ledger_condition c = {
        .name = op->id, .title = op->name, .authority = op->owner, .when = op->cond,
        .probability = op->probability, .has_probability = op->flags & LEDGER_OP_HAS_PROBABILITY,
        .state = COND_OPEN, .timestamp = next_timestamp(view, x->now), .row = LEDGER_ROW_NEW,
    };
    char message[256];
    if (!ledger_view_add_condition(view, &c, message, sizeof message) ||
        !undo_push(view, (struct ledger_undo){.kind = UNDO_CONDITION_NEW,
                                              .index = view->conditions_count - 1})) {
        x->out_of_memory = true;
        return invalid(NULL);
    }
    return result(LEDGER_CREATED, c.timestamp, NULL);
}

static struct ledger_result condition_resolve(struct exec *x, const struct ledger_op *op)
{
    struct ledger_view *view = x->view;
    if (!cond_valid_name(op->id)) return invalid("name must match [a-z][a-z0-9_]{0,63}");
    if (op->state != COND_MET && op->state != COND_FAILED)
        return invalid("state must be met or failed");
    uint32_t index;
    if (!strmap_get(&view->conditions_by_name, op->id, &index))
        return result(LEDGER_CONDITION_NOT_FOUND, 0, msgf(x, "no condition %s", op->id));
    struct ledger_condition *c = &view->conditions[index];
    if (c->when != NULL)
        return invalid(msgf(x, "%s is derived from others (%s): resolve those", c->name, c->when));
    if (c->state != COND_OPEN)
        return result(LEDGER_CONDITION_ALREADY_RESOLVED, 0,
                      msgf(x, "%s is already %s", c->name, cond_state_name(c->state)));
    if (!undo_push(view, (struct ledger_undo){.kind = UNDO_CONDITION_STATE, .row = c->row,
                                              .state = c->state, .index = index,
                                              .balances = {c->resolved_at}})) {
        x->out_of_memory = true;
        return invalid(NULL);
    }
    int64_t ts = next_timestamp(view, x->now);
    c->state = op->state;
    c->resolved_at = ts;
    if (!(c->row & LEDGER_ROW_NEW)) c->row |= LEDGER_ROW_DIRTY;
    view->condition_states[index] = op->state;
    if (!conditions_recompute(view)) {
        x->out_of_memory = true;
        return invalid(NULL);
    }
    /* Every gated pending transfer the caller loaded whose `if` is now decided. */
    struct ledger_result r = result(LEDGER_RESOLVED, ts, NULL);
    uint32_t count = view->transfers_count; /* records appended below are not pending */
    for (uint32_t i = 0; i < count; i++) {
        const struct ledger_transfer *t = &view->transfers[i];
        if (t->state != LEDGER_STATE_PENDING || t->cond == NULL) continue;
        struct cond_expr gate;
        struct cond_error error;
        if (!cond_parse(t->cond, ledger_condition_lookup, view, NULL, &gate, &error)) {
            /* Stored gates compiled when they were written; only memory can fail now. */
            x->out_of_memory = error.kind == COND_ERROR_NO_MEMORY;
            if (x->out_of_memory) return invalid(NULL);
            continue;
        }
        enum cond_state value = cond_eval(&gate, view->condition_states);
        cond_expr_free(&gate);
        if (value == COND_OPEN) continue;
        struct ledger_result settled = condition_settle(x, i, value == COND_MET);
        if (settled.status != LEDGER_CREATED) return settled;
        if (value == COND_MET)
            r.posted++;
        else
            r.voided++;
    }
    return r;
}

/* ---------------------------------------------------------------- requirement, rate */

static struct ledger_result requirement_create(struct exec *x, const struct ledger_op *op)
{
    struct ledger_view *view = x->view;
    if (!ledger_valid_transfer_id(op->id))
        return invalid(msgf(x, "id must be 1 … %d printable ASCII characters without spaces",
                            LEDGER_ID_BYTES_MAX));
    if (op->name != NULL && strlen(op->name) > LEDGER_NAME_BYTES_MAX)
        return invalid(msgf(x, "title is longer than %d bytes", LEDGER_NAME_BYTES_MAX));
    if (!text_ok(op->name)) return invalid("title must be UTF-8 text");
    if (op->account == NULL || !ledger_valid_account_id(op->account))
        return invalid("account must be an account id or a prefix ending in '.'");
    uint8_t measure = op->kind == NULL                      ? 0
                      : strcmp(op->kind, "credits") == 0 ? LEDGER_MEASURE_CREDITS
                      : strcmp(op->kind, "balance") == 0 ? LEDGER_MEASURE_BALANCE
                                                         : 0;
    if (measure == 0) return invalid("measure must be credits or balance");
    if (!(op->flags & LEDGER_OP_HAS_AMOUNT) || op->amount < 1)
        return invalid("target must be an integer in 1 … 2^63-1 (minor units)");
    if (op->unit != NULL && !ledger_valid_unit_code(op->unit))
        return invalid("unit must match [A-Z][A-Z0-9_]{0,15}");
    bool prefix = op->account[strlen(op->account) - 1] == '.';
    const char *unit = op->unit;
    const struct ledger_account *account = prefix ? NULL : ledger_view_account(view, op->account);
    if (unit == NULL && account != NULL) unit = account->unit;
    const struct ledger_requirement *found = ledger_view_requirement(view, op->id);
    if (found != NULL) {
        bool has_due = op->flags & LEDGER_OP_HAS_DATE;
        bool same = str_eq(found->title, op->name) && str_eq(found->account, op->account) &&
                    (op->unit == NULL || str_eq(found->unit, op->unit)) &&
                    found->measure == measure && found->target == op->amount &&
                    found->has_due == has_due && (!has_due || found->due == op->date);
        return existing(same, found->timestamp);
    }
    if (unit == NULL)
        return invalid(prefix ? "unit is required for a prefix"
                              : "unit is required: no account has that id yet");
    /* An account's unit exists; a unit named outright must be looked up. */
    if (op->unit != NULL && ledger_view_unit(view, unit) == NULL)
        return result(LEDGER_UNIT_NOT_FOUND, 0, msgf(x, "no unit %s", unit));
    if (account != NULL && strcmp(account->unit, unit) != 0)
        return result(LEDGER_ACCOUNTS_MUST_HAVE_THE_SAME_UNIT, 0,
                      msgf(x, "%s counts in %s, not %s", account->id, account->unit, unit));
    struct ledger_requirement r = {
        .id = op->id, .title = op->name, .account = op->account, .unit = unit,
        .measure = measure, .target = op->amount, .due = op->date,
        .has_due = op->flags & LEDGER_OP_HAS_DATE, .timestamp = next_timestamp(view, x->now),
        .row = LEDGER_ROW_NEW,
    };
    if (!ledger_view_add_requirement(view, &r) ||
        !undo_push(view, (struct ledger_undo){.kind = UNDO_REQUIREMENT_NEW,
                                              .index = view->requirements_count - 1})) {
        x->out_of_memory = true;
        return invalid(NULL);
    }
    return result(LEDGER_CREATED, r.timestamp, NULL);
}

/* A positive decimal with at most 12 integer and 18 fractional digits. */
static bool rate_valid(const char *text)
{
    int int_digits = 0, frac_digits = 0;
    bool point = false, nonzero = false;
    for (const char *p = text; *p; p++) {
        if (*p == '.' && !point) {
            point = true;
            continue;
        }
        if (*p < '0' || *p > '9') return false;
        nonzero |= *p != '0';
        if (point ? ++frac_digits > 18 : ++int_digits > 12) return false;
    }
    return int_digits > 0 && (!point || frac_digits > 0) && nonzero;
}

static struct ledger_result rate_create(struct exec *x, const struct ledger_op *op)
{
    struct ledger_view *view = x->view;
    if (!ledger_valid_unit_code(op->unit) || !ledger_valid_unit_code(op->to))
        return invalid("unit and to must be unit codes");
    if (strcmp(op->unit, op->to) == 0) return invalid("unit and to must differ");
    if (op->rate == NULL || !rate_valid(op->rate))
        return invalid("rate must be a positive decimal string such as \"1.0843\"");
    if (!(op->flags & LEDGER_OP_HAS_DATE)) return invalid("date is required");
    char key[2 * LEDGER_UNIT_CODE_BYTES_MAX + 32];
    ledger_rate_key(op->unit, op->to, op->date, key, sizeof key);
    uint32_t index;
    if (strmap_get(&view->rates_by_key, key, &index))
        return existing(strcmp(view->rates[index].rate, op->rate) == 0,
                        view->rates[index].timestamp);
    if (ledger_view_unit(view, op->unit) == NULL)
        return result(LEDGER_UNIT_NOT_FOUND, 0, msgf(x, "no unit %s", op->unit));
    if (ledger_view_unit(view, op->to) == NULL)
        return result(LEDGER_UNIT_NOT_FOUND, 0, msgf(x, "no unit %s", op->to));
    struct ledger_rate r = {.unit = op->unit, .to = op->to, .rate = op->rate, .date = op->date,
                            .timestamp = next_timestamp(view, x->now), .row = LEDGER_ROW_NEW};
    if (!ledger_view_add_rate(view, &r) ||
        !undo_push(view, (struct ledger_undo){.kind = UNDO_RATE_NEW,
                                              .index = view->rates_count - 1})) {
        x->out_of_memory = true;
        return invalid(NULL);
    }
    return result(LEDGER_CREATED, r.timestamp, NULL);
}

/* ---------------------------------------------------------------- party */

static bool party_kind_valid(const char *kind)
{
    static const char *const kinds[] = {"nation", "organisation", "force", "authority", "fund"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (kind != NULL && strcmp(kind, kinds[i]) == 0) return true;
    return false;
}

static struct ledger_result party_create(struct exec *x, const struct ledger_op *op)
{
    struct ledger_view *view = x->view;
    if (!ledger_valid_account_id(op->id))
        return invalid("id must match [a-z0-9][a-z0-9._-]{0,127}");
    if (!party_kind_valid(op->kind))
        return invalid("kind must be nation, organisation, force, authority or fund");
    if (op->name != NULL && strlen(op->name) > LEDGER_NAME_BYTES_MAX)
        return invalid(msgf(x, "name is longer than %d bytes", LEDGER_NAME_BYTES_MAX));
    if (!text_ok(op->name)) return invalid("name must be UTF-8 text");
    const struct ledger_party *found = ledger_view_party(view, op->id);
    if (found != NULL)
        return existing(str_eq(found->name, op->name) && str_eq(found->kind, op->kind),
                        found->timestamp);
    struct ledger_party p = {.id = op->id, .name = op->name, .kind = op->kind,
                             .timestamp = next_timestamp(view, x->now), .row = LEDGER_ROW_NEW};
    if (!ledger_view_add_party(view, &p) ||
        !undo_push(view, (struct ledger_undo){.kind = UNDO_PARTY_NEW,
                                              .index = view->parties_count - 1})) {
        x->out_of_memory = true;
        return invalid(NULL);
    }
    return result(LEDGER_CREATED, p.timestamp, NULL);
}

/* ---------------------------------------------------------------- approve */

/* Approvals and rejections recorded so far for pending transfer id, and whether user decided. */
static void approvals_tally(const struct ledger_view *view, const char *pending_id,
                            const char *user, int32_t *approved, int32_t *rejected, bool *given)
{
    *approved = *rejected = 0;
    *given = false;
    for (uint32_t i = 0; i < view->approvals_count; i++) {
        const struct ledger_approval *a = &view->approvals[i];
        if (strcmp(a->pending_id, pending_id) != 0) continue;
        if (a->decision == LEDGER_DECISION_APPROVE) ++*approved;
        else ++*rejected;
        if (user != NULL && strcmp(a->user, user) == 0) *given = true;
    }
}

/*
 * One approver's decision on a pending transfer from a guarded account. At
 * the k-th approval the transfer posts in full; once rejections leave fewer
 * than k approvers who could still approve, it voids. Either record is
 * `PENDING/approval` with reason approval, and the deciding approval's
 * result says which (posted or voided 1).
 */
static struct ledger_result approval_decide(struct exec *x, const struct ledger_op *op)
{
    struct ledger_view *view = x->view;
    if (!ledger_valid_transfer_id(op->id))
        return invalid(msgf(x, "id must be 1 … %d printable ASCII characters without spaces",
                            LEDGER_ID_BYTES_MAX));
    if (op->pending_id == NULL || !ledger_valid_transfer_id(op->pending_id))
        return invalid("pending_id must be a transfer id");
    if (op->decision != LEDGER_DECISION_APPROVE && op->decision != LEDGER_DECISION_REJECT)
        return invalid("decision must be approve or reject");
    const char *user = view->actor != NULL ? view->actor : "";
    const struct ledger_approval *found = ledger_view_approval(view, op->id);
    if (found != NULL)
        return existing(str_eq(found->pending_id, op->pending_id) && str_eq(found->user, user) &&
                            found->decision == op->decision,
                        found->timestamp);
    uint32_t p;
    struct ledger_result refused;
    if (!pending_find(x, op->pending_id, &p, &refused)) return refused;
    const struct ledger_transfer *pt = &view->transfers[p];
    const struct ledger_account *dr = ledger_view_account(view, pt->debit);
    assert(dr != NULL); /* loaded with the pending transfer */
    if (dr == NULL || !(dr->flags & LEDGER_ACCOUNT_GUARDED))
        return invalid(msgf(x, "%s does not debit a guarded account: it needs no approval",
                            op->pending_id));
    if (!ledger_account_approver(dr, user))
        return result(LEDGER_FORBIDDEN, 0,
                      msgf(x, "%s is not an approver of %s", user[0] ? user : "(no user)",
                           dr->id));
    int32_t approved, rejected;
    bool given;
    approvals_tally(view, op->pending_id, user, &approved, &rejected, &given);
    if (given)
        return result(LEDGER_APPROVAL_ALREADY_GIVEN, 0,
                      msgf(x, "%s has already decided on %s", user, op->pending_id));
    int32_t k = dr->approvals_required, n = approvers_count(dr->approvers);
    struct ledger_approval a = {.id = op->id, .pending_id = op->pending_id, .user = user,
                                .decision = op->decision,
                                .timestamp = next_timestamp(view, x->now),
                                .row = LEDGER_ROW_NEW};
    if (!ledger_view_add_approval(view, &a) ||
        !undo_push(view, (struct ledger_undo){.kind = UNDO_APPROVAL_NEW,
                                              .index = view->approvals_count - 1})) {
        x->out_of_memory = true;
        return invalid(NULL);
    }
    if (op->decision == LEDGER_DECISION_APPROVE) approved++;
    else rejected++;
    bool post = approved >= k;
    if (post || rejected > n - k) {
        size_t size = strlen(op->pending_id) + sizeof LEDGER_APPROVAL_SUFFIX;
        char *id = arena_alloc(&view->arena, size);
        if (id == NULL) {
            x->out_of_memory = true;
            return invalid(NULL);
        }
        snprintf(id, size, "%s%s", op->pending_id, LEDGER_APPROVAL_SUFFIX);
        struct ledger_result r =
            pending_resolve(x, p, id, LEDGER_REASON_APPROVAL, post, view->transfers[p].amount,
                            NULL);
        if (r.status != LEDGER_CREATED) return r;
        struct ledger_result decided = result(LEDGER_CREATED, a.timestamp, NULL);
        decided.posted = post ? 1 : 0;
        decided.voided = post ? 0 : 1;
        return decided;
    }
    return result(LEDGER_CREATED, a.timestamp, NULL);
}

/* ---------------------------------------------------------------- batch */

static struct ledger_result op_apply(struct exec *x, const struct ledger_op *op)
{
    if (op->invalid != NULL) return invalid(op->invalid);
    if (x->view->authorize != NULL) {
        char message[256] = "";
        enum ledger_status s =
            x->view->authorize(x->view->authorize_ctx, x->view, op, message, sizeof message);
        if (s != LEDGER_CREATED)
            return result(s, 0, message[0] ? msgf(x, "%s", message) : NULL);
    }
    switch (op->type) {
    case LEDGER_OP_UNIT: return unit_create(x, op);
    case LEDGER_OP_ACCOUNT: return account_create(x, op);
    case LEDGER_OP_TRANSFER: return transfer_create(x, op);
    case LEDGER_OP_POST:
    case LEDGER_OP_VOID: return pending_op(x, op);
    case LEDGER_OP_CONDITION: return condition_create(x, op);
    case LEDGER_OP_RESOLVE: return condition_resolve(x, op);
    case LEDGER_OP_REQUIREMENT: return requirement_create(x, op);
    case LEDGER_OP_RATE: return rate_create(x, op);
    case LEDGER_OP_PARTY: return party_create(x, op);
    case LEDGER_OP_APPROVE: return approval_decide(x, op);
    case LEDGER_OP_DOMAIN: return invalid("a domain operation is expanded before the ledger runs");
    case LEDGER_OP_TYPE_COUNT: break;
    }
    return invalid("unknown operation");
}

bool ledger_execute(struct ledger_view *view, const struct ledger_op *ops, size_t count,
                    int64_t now, struct ledger_result *results)
{
    assert(count <= LEDGER_BATCH_OPS_MAX);
    struct exec x = {.view = view, .now = now};
    size_t i = 0;
    while (i < count) {
        if (!(ops[i].flags & LEDGER_OP_LINKED)) {
            view->undo_active = false;
            results[i] = op_apply(&x, &ops[i]);
            if (x.out_of_memory) return false;
            i++;
            continue;
        }
        /* A chain: ops[i..end] where every op but the last is linked. */
        size_t end = i;
        while (end < count && (ops[end].flags & LEDGER_OP_LINKED)) end++;
        if (end == count) { /* the batch ended inside the chain */
            for (size_t k = i; k < count; k++)
                results[k] = result(LEDGER_LINKED_EVENT_FAILED, 0, NULL);
            results[count - 1] = result(LEDGER_LINKED_EVENT_CHAIN_OPEN, 0, NULL);
            break;
        }
        view->undo_active = true;
        view->undo_count = 0;
        /* A failed chain leaves no trace, not even the timestamps it took. */
        int64_t timestamp_before = view->timestamp_last;
        size_t failed = end + 1;
        for (size_t k = i; k <= end; k++) {
            results[k] = op_apply(&x, &ops[k]);
            if (x.out_of_memory) return false;
            if (!ledger_status_ok(results[k].status)) {
                failed = k;
                break;
            }
        }
        if (failed <= end) {
            undo_rollback(view);
            view->timestamp_last = timestamp_before;
            for (size_t k = i; k <= end; k++)
                if (k != failed) results[k] = result(LEDGER_LINKED_EVENT_FAILED, 0, NULL);
        }
        view->undo_active = false;
        view->undo_count = 0;
        i = end + 1;
    }
    return true;
}

void ledger_op_refs(const struct ledger_op *op,
                    void (*visit)(void *ctx, char kind, const char *id), void *ctx)
{
    if (op->invalid != NULL) return;
    switch (op->type) {
    case LEDGER_OP_UNIT:
        if (op->id) visit(ctx, 'u', op->id);
        break;
    case LEDGER_OP_ACCOUNT:
        if (op->id) visit(ctx, 'a', op->id);
        if (op->unit) visit(ctx, 'u', op->unit);
        break;
    case LEDGER_OP_TRANSFER:
        if (op->id) visit(ctx, 't', op->id);
        if (op->debit) visit(ctx, 'a', op->debit);
        if (op->credit) visit(ctx, 'a', op->credit);
        if (op->unit) visit(ctx, 'u', op->unit);
        if (op->cond) visit(ctx, 'c', NULL);
        break;
    case LEDGER_OP_POST:
    case LEDGER_OP_VOID:
        if (op->id) visit(ctx, 't', op->id);
        if (op->pending_id) visit(ctx, 't', op->pending_id);
        break;
    case LEDGER_OP_CONDITION:
        visit(ctx, 'c', NULL);
        break;
    case LEDGER_OP_RESOLVE:
        visit(ctx, 'c', NULL);
        if (op->id) visit(ctx, 'g', op->id);
        break;
    case LEDGER_OP_REQUIREMENT:
        visit(ctx, 'q', NULL);
        if (op->unit) visit(ctx, 'u', op->unit);
        if (op->account && op->account[0] && op->account[strlen(op->account) - 1] != '.')
            visit(ctx, 'a', op->account);
        break;
    case LEDGER_OP_RATE:
        visit(ctx, 'x', NULL);
        if (op->unit) visit(ctx, 'u', op->unit);
        if (op->to) visit(ctx, 'u', op->to);
        break;
    case LEDGER_OP_PARTY:
        if (op->id) visit(ctx, 'p', op->id);
        break;
    case LEDGER_OP_APPROVE:
        if (op->pending_id) {
            visit(ctx, 't', op->pending_id);
            visit(ctx, 'v', op->pending_id);
        }
        if (op->id) visit(ctx, 'w', op->id);
        break;
    case LEDGER_OP_DOMAIN:
    case LEDGER_OP_TYPE_COUNT: break;
    }
}

/* ---------------------------------------------------------------- invariants */

/* Balances non-negative and within each account's flag limits. */
static bool ledger_check_accounts_limits(const struct ledger_account *accounts, size_t count,
                                         char *message, size_t message_size)
{
    for (size_t i = 0; i < count; i++) {
        const struct ledger_account *a = &accounts[i];
        if (a->debits_pending < 0 || a->debits_posted < 0 || a->credits_pending < 0 ||
            a->credits_posted < 0) {
            snprintf(message, message_size, "account %s has a negative balance", a->id);
            return false;
        }
        if ((a->flags & LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS) &&
            (__int128)a->debits_pending + a->debits_posted > a->credits_posted) {
            snprintf(message, message_size, "account %s: debits exceed credits", a->id);
            return false;
        }
        if ((a->flags & LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS) &&
            (__int128)a->credits_pending + a->credits_posted > a->debits_posted) {
            snprintf(message, message_size, "account %s: credits exceed debits", a->id);
            return false;
        }
    }
    return true;
}

bool ledger_check_accounts(const struct ledger_account *accounts, size_t count, char *message,
                           size_t message_size)
{
    if (!ledger_check_accounts_limits(accounts, count, message, message_size)) return false;
    /* Sums per unit; units are few, so a small linear table is enough. */
    enum { UNITS_CHECKED_MAX = 1024 };
    static_assert(sizeof(__int128) == 16, "need 128-bit sums");
    struct sum {
        const char *unit;
        __int128 dp, dpo, cp, cpo;
    } sums[UNITS_CHECKED_MAX];
    size_t units = 0;
    for (size_t i = 0; i < count; i++) {
        const struct ledger_account *a = &accounts[i];
        size_t u = 0;
        while (u < units && strcmp(sums[u].unit, a->unit) != 0) u++;
        if (u == units) {
            if (units == UNITS_CHECKED_MAX) {
                snprintf(message, message_size, "more than %d units", UNITS_CHECKED_MAX);
                return false;
            }
            sums[units++] = (struct sum){.unit = a->unit};
        }
        sums[u].dp += a->debits_pending;
        sums[u].dpo += a->debits_posted;
        sums[u].cp += a->credits_pending;
        sums[u].cpo += a->credits_posted;
    }
    for (size_t u = 0; u < units; u++) {
        if (sums[u].dpo != sums[u].cpo) {
            snprintf(message, message_size, "unit %s: posted debits differ from posted credits",
                     sums[u].unit);
            return false;
        }
        if (sums[u].dp != sums[u].cp) {
            snprintf(message, message_size,
                     "unit %s: pending debits differ from pending credits", sums[u].unit);
            return false;
        }
    }
    return true;
}

bool ledger_check_view(const struct ledger_view *view, char *message, size_t message_size)
{
    __int128(*sums)[4] = calloc(view->accounts_count ? view->accounts_count : 1, sizeof *sums);
    if (sums == NULL) {
        snprintf(message, message_size, "out of memory checking the view");
        return false;
    }
    bool ok = true;
    for (uint32_t i = 0; i < view->accounts_count; i++)
        for (int k = 0; k < 4; k++) sums[i][k] = view->accounts_loaded[i][k];
    for (uint32_t i = 0; ok && i < view->transfers_count; i++) {
        const struct ledger_transfer *t = &view->transfers[i];
        if (!(t->row & LEDGER_ROW_NEW)) continue;
        uint32_t dr, cr;
        if (!strmap_get(&view->accounts_by_id, t->debit, &dr) ||
            !strmap_get(&view->accounts_by_id, t->credit, &cr) || dr == cr) {
            snprintf(message, message_size, "transfer %s: its accounts are not in the view", t->id);
            ok = false;
            break;
        }
        sums[dr][0] += t->effect_pending;
        sums[dr][1] += t->effect_posted;
        sums[cr][2] += t->effect_pending;
        sums[cr][3] += t->effect_posted;
        if (t->pending_id != NULL) {
            const struct ledger_transfer *p = ledger_view_transfer(view, t->pending_id);
            if (p == NULL || p->state == LEDGER_STATE_PENDING || p->amount != -t->effect_pending) {
                snprintf(message, message_size, "transfer %s: resolves %s, which is not resolved",
                         t->id, t->pending_id);
                ok = false;
            }
        }
    }
    for (uint32_t i = 0; ok && i < view->accounts_count; i++) {
        const struct ledger_account *a = &view->accounts[i];
        if (sums[i][0] != a->debits_pending || sums[i][1] != a->debits_posted ||
            sums[i][2] != a->credits_pending || sums[i][3] != a->credits_posted) {
            snprintf(message, message_size,
                     "account %s: balances differ from its loaded balances plus this batch's rows",
                     a->id);
            ok = false;
        }
    }
    free(sums);
    return ok && ledger_check_accounts_limits(view->accounts, view->accounts_count, message,
                                              message_size);
}
