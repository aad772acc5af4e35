/*
 * token.c — making, listing, revoking and verifying access tokens.
 *
 * See token.h for the format and what is stored. The digest is libsodium's
 * crypto_generichash (BLAKE2b) of the secret's text, 32 bytes; random bytes
 * come from randombytes_buf. Verification parses the token strictly (fixed
 * lengths, hex id, base64url secret) before it touches the store.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "app/token.h"

static bool actor_is_admin(const struct concord *cc, struct cc_error *err)
{
    if (cc->actor.role == AUTH_ROLE_ADMIN) return true;
    cc_error_set(err, CC_ERR_FORBIDDEN, "only an administrator manages tokens (%s is a%s %s)",
                 cc->actor.user, cc->actor.role == AUTH_ROLE_AUDITOR ||
                                         cc->actor.role == AUTH_ROLE_EDITOR ? "n" : "",
                 auth_role_name(cc->actor.role));
    return false;
}

static void secret_digest(const char *secret, unsigned char out[STORE_TOKEN_HASH_BYTES])
{
    crypto_generichash(out, STORE_TOKEN_HASH_BYTES, (const unsigned char *)secret,
                       strlen(secret), NULL, 0);
}

static enum cc_err spec_check(const struct token_spec *spec, int64_t now, enum auth_role *role,
                              struct cc_error *err)
{
    if (spec->user == NULL || !ledger_valid_user(spec->user))
        return cc_error_set(err, CC_ERR_USAGE, "user: expected [a-z0-9][a-z0-9._-]{0,63}, not "
                            "\"%s\"", spec->user ? spec->user : "");
    /* The names the ledger acts under itself: a token under one would pass for it. */
    if (strcmp(spec->user, AUTH_LOCAL_USER) == 0 || strcmp(spec->user, AUTH_SYSTEM_USER) == 0)
        return cc_error_set(err, CC_ERR_USAGE, "user: \"%s\" is reserved for the %s", spec->user,
                            strcmp(spec->user, AUTH_LOCAL_USER) == 0
                                ? "local administrator"
                                : "ledger's own records (expiries)");
    if (!auth_role_parse(spec->role, role))
        return cc_error_set(err, CC_ERR_USAGE, "role: expected admin, coordinator, editor, "
                            "viewer or auditor, not \"%s\"", spec->role ? spec->role : "");
    bool needs_party = *role == AUTH_ROLE_EDITOR || *role == AUTH_ROLE_VIEWER;
    if (needs_party && (spec->party == NULL || !ledger_valid_account_id(spec->party)))
        return cc_error_set(err, CC_ERR_USAGE, "party: an %s acts for a party; give its id",
                            spec->role);
    if (!needs_party && spec->party != NULL)
        return cc_error_set(err, CC_ERR_USAGE, "party: a%s %s acts for no party",
                            *role == AUTH_ROLE_ADMIN || *role == AUTH_ROLE_AUDITOR ? "n" : "",
                            spec->role);
    if (spec->expires != 0 && spec->expires <= now)
        return cc_error_set(err, CC_ERR_USAGE, "expires: must be in the future");
    return CC_OK;
}

static void info_from_row(const struct store_token *t, struct token_info *info)
{
    memset(info, 0, sizeof *info);
    snprintf(info->id, sizeof info->id, "%s", t->id ? t->id : "");
    snprintf(info->user, sizeof info->user, "%s", t->user ? t->user : "");
    if (!auth_role_parse(t->role, &info->role)) info->role = AUTH_ROLE_COUNT;
    snprintf(info->party, sizeof info->party, "%s", t->party ? t->party : "");
    info->created = t->created;
    info->expires = t->expires;
    info->revoked = t->revoked;
}

enum cc_err concord_token_create(struct concord *cc, const struct token_spec *spec,
                                 char token[TOKEN_TEXT_BYTES + 1], struct token_info *info,
                                 struct cc_error *err)
{
    if (sodium_init() < 0) return cc_error_set(err, CC_ERR_SYSTEM, "libsodium did not start");
    if (!actor_is_admin(cc, err)) return CC_ERR_FORBIDDEN;
    int64_t now = cc->clock(cc->clock_ctx);
    enum auth_role role;
    enum cc_err rc = spec_check(spec, now, &role, err);
    if (rc != CC_OK) return rc;
    unsigned char id_raw[TOKEN_ID_HEX_BYTES / 2], secret_raw[TOKEN_SECRET_RAW_BYTES];
    char id[TOKEN_ID_HEX_BYTES + 1], secret[TOKEN_SECRET_TEXT_BYTES + 1];
    randombytes_buf(id_raw, sizeof id_raw);
    randombytes_buf(secret_raw, sizeof secret_raw);
    sodium_bin2hex(id, sizeof id, id_raw, sizeof id_raw);
    sodium_bin2base64(secret, sizeof secret, secret_raw, sizeof secret_raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(secret_raw, sizeof secret_raw);
    struct store_token row = {.id = id, .user = spec->user, .role = auth_role_name(role),
                              .party = spec->party, .created = now, .expires = spec->expires};
    secret_digest(secret, row.hash);
    rc = cc->store->driver->token_insert(cc->store, &row, err);
    if (rc == CC_OK) {
        snprintf(token, TOKEN_TEXT_BYTES + 1, "%s%s_%s", TOKEN_PREFIX, id, secret);
        info_from_row(&row, info);
    }
    sodium_memzero(secret, sizeof secret);
    return rc;
}

struct list_ctx {
    concord_token_fn fn;
    void *ctx;
};

static int list_row(void *ctx, const struct store_token *t)
{
    struct list_ctx *l = ctx;
    struct token_info info;
    info_from_row(t, &info);
    return l->fn(l->ctx, &info);
}

enum cc_err concord_tokens_list(struct concord *cc, concord_token_fn fn, void *ctx,
                                struct cc_error *err)
{
    if (!actor_is_admin(cc, err)) return CC_ERR_FORBIDDEN;
    struct list_ctx l = {.fn = fn, .ctx = ctx};
    return cc->store->driver->tokens_list(cc->store, list_row, &l, err);
}

enum cc_err concord_token_revoke(struct concord *cc, const char *id, struct cc_error *err)
{
    if (!actor_is_admin(cc, err)) return CC_ERR_FORBIDDEN;
    enum cc_err rc = cc->store->driver->token_revoke(cc->store, id, cc->clock(cc->clock_ctx), err);
    if (rc == CC_ERR_NOT_FOUND)
        return cc_error_set(err, CC_ERR_NOT_FOUND, "no active token %s", id);
    return rc;
}

/* Splits "cct_<id>_<secret>" into its halves; false when the shape is wrong. */
static bool token_parse(const char *token, char id[TOKEN_ID_HEX_BYTES + 1],
                        const char **secret)
{
    size_t n = strnlen(token, TOKEN_TEXT_BYTES_MAX + 1);
    size_t prefix = strlen(TOKEN_PREFIX);
    if (n != TOKEN_TEXT_BYTES || strncmp(token, TOKEN_PREFIX, prefix) != 0) return false;
    for (size_t i = 0; i < TOKEN_ID_HEX_BYTES; i++) {
        char c = token[prefix + i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
        id[i] = c;
    }
    id[TOKEN_ID_HEX_BYTES] = '\0';
    if (token[prefix + TOKEN_ID_HEX_BYTES] != '_') return false;
    *secret = token + prefix + TOKEN_ID_HEX_BYTES + 1;
    for (const char *p = *secret; *p != '\0'; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return false;
    return true;
}

struct verify_ctx {
    const char *secret;
    int64_t now;
    struct auth_actor *out;
    int64_t expires;
    bool ok;
};

static int verify_row(void *ctx, const struct store_token *t)
{
    struct verify_ctx *v = ctx;
    unsigned char digest[STORE_TOKEN_HASH_BYTES];
    secret_digest(v->secret, digest);
    bool same = sodium_memcmp(digest, t->hash, sizeof digest) == 0;
    bool live = t->revoked == 0 && (t->expires == 0 || t->expires > v->now);
    enum auth_role role;
    if (!same || !live || !auth_role_parse(t->role, &role) || t->user == NULL) return 0;
    memset(v->out, 0, sizeof *v->out);
    snprintf(v->out->user, sizeof v->out->user, "%s", t->user);
    v->out->role = role;
    snprintf(v->out->party, sizeof v->out->party, "%s", t->party ? t->party : "");
    v->expires = t->expires;
    v->ok = true;
    return 0;
}

enum cc_err concord_token_verify(struct concord *cc, const char *token, struct auth_actor *out,
                                 int64_t *expires, struct cc_error *err)
{
    assert(out != NULL);
    char id[TOKEN_ID_HEX_BYTES + 1];
    struct verify_ctx v = {.now = cc->clock(cc->clock_ctx), .out = out};
    if (token == NULL || !token_parse(token, id, &v.secret))
        return cc_error_set(err, CC_ERR_UNAUTHORIZED, TOKEN_INVALID_MESSAGE);
    enum cc_err rc = cc->store->driver->token_get(cc->store, id, verify_row, &v, err);
    if (rc != CC_OK && rc != CC_ERR_NOT_FOUND) return rc;
    if (rc == CC_ERR_NOT_FOUND) { /* the same work as for a known id: timing tells nothing */
        unsigned char digest[STORE_TOKEN_HASH_BYTES];
        secret_digest(v.secret, digest);
        sodium_memzero(digest, sizeof digest);
    }
    if (!v.ok) return cc_error_set(err, CC_ERR_UNAUTHORIZED, TOKEN_INVALID_MESSAGE);
    if (expires != NULL) *expires = v.expires;
    return CC_OK;
}
