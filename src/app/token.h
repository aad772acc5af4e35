/*
 * token.h — access tokens: how a person or a program proves who it acts as.
 *
 * A token is "cct_<id>_<secret>": `id` is 16 random hex digits and finds the
 * row; `secret` is 32 random bytes in base64url without padding (43
 * characters). Only a BLAKE2b-256 digest of the secret is stored, so the
 * database never holds what would let someone act as a user; the secret is
 * shown once, when the token is made. Verification compares digests in
 * constant time and answers every failure (malformed, unknown, wrong
 * secret, expired, revoked) with the same message, so that a caller learns
 * nothing about which it was.
 *
 * Making, listing and revoking tokens is the administrator's alone (the
 * local CLI acts as the administrator).
 *
 * Each creation and each revocation appends an audit event (app/log.h) in
 * the transaction that writes the token's row, shaped like a batch's event
 * with one operation and its result {"index":0,"status":"created",
 * "timestamp":T}, T the event's time (the row's created or revoked):
 *
 *   {"op":"token","id":ID,"user":U,"role":R[,"party":P][,"expires":TIME],
 *    "hash":BASE64}       the digest in standard base64, never the secret
 *   {"op":"token_revoke","id":ID}
 *
 * written, like every operation not of the ledger's own types, as canonical
 * JSON (keys sorted, no spaces: fmt/json.c). verify replays these events
 * with concord_token_replay and compares the tokens table with the ledger's.
 */
#ifndef CONCORD_TOKEN_H
#define CONCORD_TOKEN_H

#include <stdbool.h>
#include <stdint.h>

#include "app/app.h"

#define TOKEN_PREFIX "cct_"
#define TOKEN_ID_HEX_BYTES 16        /* the public half: 8 random bytes in hex */
#define TOKEN_SECRET_RAW_BYTES 32    /* the secret, before encoding */
#define TOKEN_SECRET_TEXT_BYTES 43   /* base64url without padding of 32 bytes */
#define TOKEN_TEXT_BYTES (4 + TOKEN_ID_HEX_BYTES + 1 + TOKEN_SECRET_TEXT_BYTES) /* 64 */
#define TOKEN_TEXT_BYTES_MAX 128     /* longer input is refused before it is parsed */
#define TOKEN_INVALID_MESSAGE "invalid, expired or revoked token"
#define TOKEN_OP_CREATE "token"         /* the audit event's operation for a new token */
#define TOKEN_OP_REVOKE "token_revoke"  /* and for a revocation */

/* What a new token is for; party only for editors and viewers; expires 0: never. */
struct token_spec {
    const char *user;
    const char *role;
    const char *party;
    int64_t expires;
};

/* A token as listed: never its secret nor its digest. Times 0: none. */
struct token_info {
    char id[TOKEN_ID_HEX_BYTES + 1];
    char user[LEDGER_USER_BYTES_MAX + 1];
    enum auth_role role;
    char party[LEDGER_ID_BYTES_MAX + 1]; /* "" for roles without a party */
    int64_t created, expires, revoked;
};

typedef int (*concord_token_fn)(void *ctx, const struct token_info *info);

/*
 * Makes a token (admin only): validates spec (user name, known role, party
 * exactly for editor and viewer, expiry in the future), stores its digest,
 * and writes the token text into token (shown once) and its row into info.
 */
enum cc_err concord_token_create(struct concord *cc, const struct token_spec *spec,
                                 char token[TOKEN_TEXT_BYTES + 1], struct token_info *info,
                                 struct cc_error *err);
/* Every token, oldest first (admin only). */
enum cc_err concord_tokens_list(struct concord *cc, concord_token_fn fn, void *ctx,
                                struct cc_error *err);
/* Revokes token id (admin only); CC_ERR_NOT_FOUND when no such token is active. */
enum cc_err concord_token_revoke(struct concord *cc, const char *id, struct cc_error *err);
/* Is op a token event's operation (a valid domain-shaped "token" or "token_revoke")? */
bool concord_token_op(const struct ledger_op *op);
/*
 * Replays a token event's operation op (concord_token_op) as cc's actor at
 * cc's clock (the event's time), through the same checks and writes as
 * create and revoke, and fills the result the event must record.
 */
enum cc_err concord_token_replay(struct concord *cc, const struct ledger_op *op,
                                 struct ledger_result *result, struct cc_error *err);
/*
 * The actor a token stands for, or CC_ERR_UNAUTHORIZED with
 * TOKEN_INVALID_MESSAGE. One indexed lookup and one digest. expires, when
 * not NULL, receives the token's expiry (0: none), for callers that cache.
 */
enum cc_err concord_token_verify(struct concord *cc, const char *token, struct auth_actor *out,
                                 int64_t *expires, struct cc_error *err);

#endif
