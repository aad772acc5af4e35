/*
 * auth.c — roles, and the rule that decides each operation of a batch.
 *
 * auth_authorize() is the ledger's authorization hook (ledger.h): the engine
 * calls it for each operation when it reaches it, so an account created
 * earlier in the same batch already has its owner. It only says whether the
 * actor may try the operation; the ledger's own rules decide the rest
 * (an editor's transfer that names no account gets debit_account_not_found
 * from the engine, not forbidden from here). An approver's standing is the
 * engine's to check: it is a rule of the guarded account, not of a role.
 */
#include <stdio.h>
#include <string.h>

#include "app/auth.h"

static const char *const role_names[AUTH_ROLE_COUNT] = {
    [AUTH_ROLE_ADMIN] = "admin",   [AUTH_ROLE_COORDINATOR] = "coordinator",
    [AUTH_ROLE_EDITOR] = "editor", [AUTH_ROLE_VIEWER] = "viewer",
    [AUTH_ROLE_AUDITOR] = "auditor",
};

const char *auth_role_name(enum auth_role role)
{
    return role < AUTH_ROLE_COUNT ? role_names[role] : "unknown";
}

bool auth_role_parse(const char *name, enum auth_role *out)
{
    for (int r = 0; r < AUTH_ROLE_COUNT; r++)
        if (name != NULL && strcmp(name, role_names[r]) == 0) {
            *out = (enum auth_role)r;
            return true;
        }
    return false;
}

void auth_actor_local(struct auth_actor *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->user, sizeof out->user, "%s", AUTH_LOCAL_USER);
    out->role = AUTH_ROLE_ADMIN;
}

void auth_actor_system(struct auth_actor *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->user, sizeof out->user, "%s", AUTH_SYSTEM_USER);
    out->role = AUTH_ROLE_ADMIN;
}

static bool owned_by(const char *owner, const char *party)
{
    return owner != NULL && strcmp(owner, party) == 0;
}

bool auth_reads_everything(const struct auth_actor *actor)
{
    return actor->role == AUTH_ROLE_ADMIN || actor->role == AUTH_ROLE_COORDINATOR ||
           actor->role == AUTH_ROLE_AUDITOR;
}

bool auth_may_write(const struct auth_actor *actor)
{
    return (AUTH_ROLES_WRITERS & AUTH_ROLE_BIT(actor->role)) != 0;
}

bool auth_may_read_owned(const struct auth_actor *actor, const char *owner)
{
    return auth_reads_everything(actor) || owned_by(owner, actor->party);
}

bool auth_audit_path_allowed(const struct auth_actor *actor, const char *path,
                             const char **proof_id)
{
    *proof_id = NULL;
    if (auth_reads_everything(actor)) return true;
    if (actor->role != AUTH_ROLE_VIEWER && actor->role != AUTH_ROLE_EDITOR) return false;
    if (strcmp(path, AUTH_AUDIT_CHECKPOINT) == 0 || strcmp(path, AUTH_AUDIT_KEY) == 0 ||
        strcmp(path, AUTH_AUDIT_CONSISTENCY) == 0)
        return true;
    size_t n = strlen(AUTH_AUDIT_PROOF_PREFIX);
    if (strncmp(path, AUTH_AUDIT_PROOF_PREFIX, n) != 0 || path[n] == '\0') return false;
    *proof_id = path + n; /* allowed if the caller finds the transfer readable */
    return true;
}

/* The party that owns the debit side of pending transfer id; NULL when unknown. */
static const struct ledger_account *pending_debit(const struct ledger_view *view, const char *id)
{
    const struct ledger_transfer *t = id != NULL ? ledger_view_transfer(view, id) : NULL;
    return t != NULL ? ledger_view_account(view, t->debit) : NULL;
}

/*
 * What an editor's transfer may do to its credit side. Rejections there read
 * another party's balances: `overflows` says whether the credits plus the
 * amount pass 2^63 − 1, `exceeds_debits` whether the credits would pass the
 * debits. So an editor's amounts stay below AUTH_EDITOR_AMOUNT_MAX (no
 * balance of a real mission is within that of 2^63), and an editor credits
 * another party's account only when it has no credit limit.
 */
static enum ledger_status editor_credit_may(const struct auth_actor *actor,
                                            const struct ledger_view *view,
                                            const struct ledger_op *op, char *message,
                                            size_t size)
{
    if (op->amount > AUTH_EDITOR_AMOUNT_MAX) {
        snprintf(message, size, "an editor's amounts are at most %lld minor units",
                 (long long)AUTH_EDITOR_AMOUNT_MAX);
        return LEDGER_FORBIDDEN;
    }
    const struct ledger_account *credit =
        op->credit != NULL ? ledger_view_account(view, op->credit) : NULL;
    if (credit != NULL && !owned_by(credit->owner, actor->party) &&
        (credit->flags & LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS)) {
        snprintf(message, size, "%s limits its credits and is not %s's: only its party or the "
                 "coordination cell credits it", credit->id, actor->party);
        return LEDGER_FORBIDDEN;
    }
    return LEDGER_CREATED;
}

/*
 * Ids of the forms the mission's operations derive (`c-1/screened/flour`,
 * `crossing.ks.day.20261101`, `course.x`, an imported flow's `fts.1.v2` or
 * `hxl.…`, …) are theirs: a plain transfer under one would stand in for a
 * record they look up, or block it.
 */
static bool derived_id(const char *id)
{
    static const char *const prefixes[] = {"crossing.", "course.", "warehouse.", "point.",
                                           "fts.", "hxl."};
    if (id == NULL) return false;
    if (strchr(id, '/') != NULL) return true;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(id, prefixes[i], strlen(prefixes[i])) == 0) return true;
    return false;
}

/* An editor of `party`: what it may write. */
static enum ledger_status editor_may(const struct auth_actor *actor,
                                     const struct ledger_view *view, const struct ledger_op *op,
                                     char *message, size_t size)
{
    const char *party = actor->party;
    bool moves = op->type == LEDGER_OP_TRANSFER || op->type == LEDGER_OP_POST ||
                 op->type == LEDGER_OP_VOID;
    if (moves && !(op->flags & LEDGER_OP_STEP) && derived_id(op->id)) {
        snprintf(message, size, "ids with '/' or starting with crossing., course., warehouse., "
                 "point., fts. or hxl. are made by the mission's operations and imports, not by "
                 "hand");
        return LEDGER_FORBIDDEN;
    }
    switch (op->type) {
    case LEDGER_OP_ACCOUNT:
        if (owned_by(op->owner, party)) return LEDGER_CREATED;
        snprintf(message, size, "an editor of %s creates only accounts whose owner is %s",
                 party, party);
        return LEDGER_FORBIDDEN;
    case LEDGER_OP_TRANSFER: {
        const struct ledger_account *debit =
            op->debit != NULL ? ledger_view_account(view, op->debit) : NULL;
        if (debit != NULL && !owned_by(debit->owner, party)) {
            snprintf(message, size, "an editor of %s debits only accounts %s owns; %s is not "
                     "one", party, party, debit->id);
            return LEDGER_FORBIDDEN;
        }
        return editor_credit_may(actor, view, op, message, size);
    }
    case LEDGER_OP_POST:
    case LEDGER_OP_VOID: {
        const struct ledger_account *debit = pending_debit(view, op->pending_id);
        if (debit == NULL || owned_by(debit->owner, party)) return LEDGER_CREATED;
        snprintf(message, size, "an editor of %s resolves only transfers from accounts %s owns",
                 party, party);
        return LEDGER_FORBIDDEN;
    }
    case LEDGER_OP_RESOLVE: {
        const struct ledger_condition *c =
            op->id != NULL ? ledger_view_condition(view, op->id) : NULL;
        if (c == NULL || owned_by(c->authority, party)) return LEDGER_CREATED;
        snprintf(message, size, "condition %s is resolved by its authority (%s), not by %s",
                 c->name, c->authority != NULL ? c->authority : "the coordination cell", party);
        return LEDGER_FORBIDDEN;
    }
    case LEDGER_OP_APPROVE: {
        /* One answer for every case an outsider must not tell apart: no such transfer, not
           guarded, decided, or simply not theirs to decide. */
        const struct ledger_account *debit = pending_debit(view, op->pending_id);
        if (debit != NULL && (debit->flags & LEDGER_ACCOUNT_GUARDED) &&
            ledger_account_approver(debit, actor->user))
            return LEDGER_CREATED;
        snprintf(message, size, "only an approver of the guarded account a pending transfer "
                 "debits decides on it");
        return LEDGER_FORBIDDEN;
    }
    case LEDGER_OP_UNIT:
    case LEDGER_OP_CONDITION:
    case LEDGER_OP_REQUIREMENT:
    case LEDGER_OP_RATE:
    case LEDGER_OP_PARTY:
    case LEDGER_OP_DOMAIN: /* expanded before the engine runs: never seen here */
    case LEDGER_OP_TYPE_COUNT:
        break;
    }
    snprintf(message, size, "%s operations are the coordination cell's, not an editor's",
             ledger_op_name(op->type) != NULL ? ledger_op_name(op->type) : "these");
    return LEDGER_FORBIDDEN;
}

enum ledger_status auth_authorize(void *ctx, const struct ledger_view *view,
                                  const struct ledger_op *op, char *message, size_t size)
{
    const struct auth_actor *actor = ctx;
    switch (actor->role) {
    case AUTH_ROLE_ADMIN:
    case AUTH_ROLE_COORDINATOR:
        return LEDGER_CREATED;
    case AUTH_ROLE_EDITOR:
        return editor_may(actor, view, op, message, size);
    case AUTH_ROLE_VIEWER:
    case AUTH_ROLE_AUDITOR:
    case AUTH_ROLE_COUNT:
        break;
    }
    snprintf(message, size, "a%s %s reads and does not write",
             actor->role == AUTH_ROLE_AUDITOR ? "n" : "", auth_role_name(actor->role));
    return LEDGER_FORBIDDEN;
}
