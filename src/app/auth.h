/*
 * auth.h — who is acting, and what each role may do.
 *
 * Every request runs as an actor: a user name, a role and, for editors and
 * viewers, the party they act for. The CLI on a local file acts as the
 * local administrator unless given a token; the HTTP API only with a token.
 *
 * Roles:
 *   admin        everything, tokens included
 *   coordinator  writes and reads everything
 *   editor       of party P: creates accounts P owns, writes transfers that
 *                debit accounts P owns (and posts or voids them), resolves
 *                conditions whose authority is P, approves as a named approver
 *   viewer       of party P: reads P's accounts and transfers, and every
 *                aggregate (balances by prefix, gaps, scenarios, forecasts)
 *   auditor      reads everything, and the audit log
 *
 * Tokens are "cct_<id>_<secret>": the id finds the row, the secret is
 * checked against its stored hash in constant time; the secret itself is
 * never stored.
 */
#ifndef CONCORD_AUTH_H
#define CONCORD_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "ledger/ledger.h"

enum auth_role {
    AUTH_ROLE_ADMIN = 0,
    AUTH_ROLE_COORDINATOR,
    AUTH_ROLE_EDITOR,
    AUTH_ROLE_VIEWER,
    AUTH_ROLE_AUDITOR,
    AUTH_ROLE_COUNT
};

/* Who a batch or a read runs as. */
struct auth_actor {
    char user[LEDGER_USER_BYTES_MAX + 1];
    enum auth_role role;
    char party[LEDGER_ID_BYTES_MAX + 1]; /* editor, viewer: the party; else "" */
};

/* Sets of roles, as bitmasks: the route table says with them who may use each route. */
#define AUTH_ROLE_BIT(role) (1u << (role))
#define AUTH_ROLES_READERS                                                                  \
    (AUTH_ROLE_BIT(AUTH_ROLE_ADMIN) | AUTH_ROLE_BIT(AUTH_ROLE_COORDINATOR) |                \
     AUTH_ROLE_BIT(AUTH_ROLE_EDITOR) | AUTH_ROLE_BIT(AUTH_ROLE_VIEWER) |                    \
     AUTH_ROLE_BIT(AUTH_ROLE_AUDITOR))
#define AUTH_ROLES_WRITERS                                                                  \
    (AUTH_ROLE_BIT(AUTH_ROLE_ADMIN) | AUTH_ROLE_BIT(AUTH_ROLE_COORDINATOR) |                \
     AUTH_ROLE_BIT(AUTH_ROLE_EDITOR))
#define AUTH_ROLES_AUDIT                                                                    \
    (AUTH_ROLE_BIT(AUTH_ROLE_ADMIN) | AUTH_ROLE_BIT(AUTH_ROLE_COORDINATOR) |                \
     AUTH_ROLE_BIT(AUTH_ROLE_AUDITOR))
/* Anyone, without a token (health check, the API's own description). */
#define AUTH_ANONYMOUS (1u << AUTH_ROLE_COUNT)

/*
 * The prefix of the audit routes, and those a viewer or editor may use: what
 * lets a party check the log's integrity (the verifier key, checkpoints,
 * consistency proofs, which hold hashes only) and the proofs of the transfers
 * it reads.
 */
#define AUTH_AUDIT_PREFIX "/v1/audit/"
#define AUTH_AUDIT_CHECKPOINT "/v1/audit/checkpoint"
#define AUTH_AUDIT_KEY "/v1/audit/key"
#define AUTH_AUDIT_CONSISTENCY "/v1/audit/consistency"
#define AUTH_AUDIT_PROOF_PREFIX "/v1/audit/proof/"

/*
 * The largest amount an editor may move in one transfer: 2^53 minor units
 * (90 trillion dollars at scale 2). Larger amounts would let rejections for
 * overflow reveal another party's balance.
 */
#define AUTH_EDITOR_AMOUNT_MAX (INT64_C(1) << 53)

/* The name a local CLI user acts under. */
#define AUTH_LOCAL_USER "local"
/* The name the ledger acts under when it expires transfers on its own (no one asked). */
#define AUTH_SYSTEM_USER "concord"

const char *auth_role_name(enum auth_role role);
bool auth_role_parse(const char *name, enum auth_role *out);
/* The local administrator. */
void auth_actor_local(struct auth_actor *out);
/* The ledger itself (AUTH_SYSTEM_USER, admin): for expiries no request asked for. */
void auth_actor_system(struct auth_actor *out);
/* Does actor read every row (admin, coordinator, auditor), not only its party's? */
bool auth_reads_everything(const struct auth_actor *actor);
/* May actor send batches (admin, coordinator, editor)? Each operation is still judged. */
bool auth_may_write(const struct auth_actor *actor);
/* May actor read a row owned by owner (NULL: owned by no party)? */
bool auth_may_read_owned(const struct auth_actor *actor, const char *owner);
/*
 * The rule of the audit routes (paths under AUTH_AUDIT_PREFIX): true when
 * actor's role may use path whatever it names; for viewers and editors,
 * *proof_id is set to the transfer id of a proof path (the caller then
 * checks that the actor may read that transfer), and the key, checkpoints and
 * consistency proofs are allowed.
 */
bool auth_audit_path_allowed(const struct auth_actor *actor, const char *path,
                             const char **proof_id);

/*
 * The ledger's authorization hook (ledger_authorize_fn) with ctx a
 * `const struct auth_actor *`: LEDGER_CREATED when the actor may try op,
 * else LEDGER_FORBIDDEN with a message.
 */
enum ledger_status auth_authorize(void *ctx, const struct ledger_view *view,
                                  const struct ledger_op *op, char *message, size_t size);

#endif
