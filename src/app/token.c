/*
 * token.c — making, listing, revoking and verifying access tokens, and
 * recording each creation and revocation in the audit log.
 *
 * See token.h for the format and what is stored. The digest is libsodium's
 * crypto_generichash (BLAKE2b) of the secret's text, 32 bytes; random bytes
 * come from randombytes_buf. Verification parses the token strictly (fixed
 * lengths, hex id, base64url secret) before it touches the store.
 *
 * Creating and revoking go through one path, token_apply(): the operation
 * is written as canonical JSON (json_decode_op makes it a domain-shaped
 * ledger_op whose meta is that text), read back and checked, and its row is
 * inserted or updated in the same transaction as its audit event. verify's
 * replay calls the same path with the operation decoded from the event, at
 * the event's time, so it makes the same decisions and the same row.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "app/log.h"
#include "app/token.h"
#include "fmt/json.h"
#include "util/arena.h"
#include "util/timefmt.h"

#define TOKEN_HASH_TEXT_BYTES \
    sodium_base64_ENCODED_LEN(STORE_TOKEN_HASH_BYTES, sodium_base64_VARIANT_ORIGINAL)

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

/* ---------------------------------------------------------------- the operations */

bool concord_token_op(const struct ledger_op *op)
{
    return op->type == LEDGER_OP_DOMAIN && op->invalid == NULL && op->kind != NULL &&
           op->meta != NULL &&
           (strcmp(op->kind, TOKEN_OP_CREATE) == 0 || strcmp(op->kind, TOKEN_OP_REVOKE) == 0);
}

/* A token operation read back from its canonical JSON; strings borrow from it. */
struct token_op {
    bool revoke;
    const char *id;
    struct token_spec spec;
    enum auth_role role;
    unsigned char hash[STORE_TOKEN_HASH_BYTES];
};

static bool only_fields(const json_t *v, const char *const *names)
{
    const char *key;
    const json_t *member;
    json_object_foreach((json_t *)v, key, member) {
        bool known = false;
        for (size_t i = 0; names[i] != NULL && !known; i++) known = strcmp(key, names[i]) == 0;
        if (!known) return false;
    }
    (void)member;
    return true;
}

static bool valid_token_id(const char *id)
{
    if (id == NULL || strlen(id) != TOKEN_ID_HEX_BYTES) return false;
    for (const char *p = id; *p != '\0'; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return false;
    return true;
}

/* Reads and checks the operation at time now (the spec as when it was made). */
static enum cc_err token_op_read(const json_t *v, int64_t now, struct token_op *out,
                                 struct cc_error *err)
{
    static const char *const create_fields[] = {"op", "id", "user", "role", "party",
                                                "expires", "hash", NULL};
    static const char *const revoke_fields[] = {"op", "id", NULL};
    memset(out, 0, sizeof *out);
    const char *op = json_string_value(json_object_get(v, "op"));
    out->revoke = op != NULL && strcmp(op, TOKEN_OP_REVOKE) == 0;
    out->id = json_string_value(json_object_get(v, "id"));
    if (out->revoke) {
        if (!only_fields(v, revoke_fields) || !valid_token_id(out->id))
            return cc_error_set(err, CC_ERR_INPUT, "a token revocation is {\"op\",\"id\"} "
                                                   "with an id of %d hex digits",
                                TOKEN_ID_HEX_BYTES);
        return CC_OK;
    }
    if (op == NULL || strcmp(op, TOKEN_OP_CREATE) != 0 || !only_fields(v, create_fields))
        return cc_error_set(err, CC_ERR_INPUT, "not a token operation");
    if (!valid_token_id(out->id))
        return cc_error_set(err, CC_ERR_INPUT, "id: expected %d hex digits", TOKEN_ID_HEX_BYTES);
    const json_t *party = json_object_get(v, "party"), *expires = json_object_get(v, "expires");
    out->spec.user = json_string_value(json_object_get(v, "user"));
    out->spec.role = json_string_value(json_object_get(v, "role"));
    out->spec.party = json_string_value(party);
    if ((party != NULL && out->spec.party == NULL) ||
        (expires != NULL && !json_is_string(expires)))
        return cc_error_set(err, CC_ERR_INPUT, "party and expires: strings when present");
    bool date_only = false;
    if (expires != NULL &&
        (!time_parse(json_string_value(expires), &out->spec.expires, &date_only) || date_only ||
         out->spec.expires == 0))
        return cc_error_set(err, CC_ERR_INPUT, "expires: expected an RFC 3339 date-time");
    const char *hash = json_string_value(json_object_get(v, "hash"));
    size_t n = 0;
    const char *end = NULL;
    if (hash == NULL ||
        sodium_base642bin(out->hash, sizeof out->hash, hash, strlen(hash), NULL, &n, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        n != sizeof out->hash || *end != '\0')
        return cc_error_set(err, CC_ERR_INPUT, "hash: expected the base64 of %d bytes",
                            STORE_TOKEN_HASH_BYTES);
    return spec_check(&out->spec, now, &out->role, err);
}

/*
 * Applies a token operation as cc's actor at time now: its row and (when the
 * ledger keeps a log) its event, in one transaction. result: what the event
 * records.
 */
static enum cc_err token_apply(struct concord *cc, const struct ledger_op *op, int64_t now,
                               struct ledger_result *result, struct cc_error *err)
{
    memset(result, 0, sizeof *result);
    if (!actor_is_admin(cc, err)) return CC_ERR_FORBIDDEN;
    if (!concord_token_op(op)) return cc_error_set(err, CC_ERR_INPUT, "not a token operation");
    json_error_t jerr;
    json_t *v = json_loads(op->meta, 0, &jerr);
    if (v == NULL) return cc_error_set(err, CC_ERR_INPUT, "a token operation: %s", jerr.text);
    struct token_op t;
    enum cc_err rc = token_op_read(v, now, &t, err);
    const struct store_driver *d = cc->store->driver;
    if (rc == CC_OK) rc = store_begin(cc->store, err);
    if (rc != CC_OK) {
        json_decref(v);
        return rc;
    }
    if (t.revoke) {
        rc = d->token_revoke(cc->store, t.id, now, err);
        if (rc == CC_ERR_NOT_FOUND)
            rc = cc_error_set(err, CC_ERR_NOT_FOUND, "no active token %s", t.id);
    } else {
        struct store_token row = {.id = t.id, .user = t.spec.user,
                                  .role = auth_role_name(t.role), .party = t.spec.party,
                                  .created = now, .expires = t.spec.expires};
        memcpy(row.hash, t.hash, sizeof row.hash);
        rc = d->token_insert(cc->store, &row, err);
    }
    *result = (struct ledger_result){.status = LEDGER_CREATED, .timestamp = now};
    /* The event's ts_last: the ledger's last timestamp, which a token does not move. */
    if (rc == CC_OK) rc = d->timestamp_last(cc->store, &cc->view.timestamp_last, err);
    if (rc == CC_OK && cc->audit) {
        struct concord_batch batch = {.ops = op, .results = result, .count = 1, .now = now};
        rc = concord_log_record(cc, &batch, err);
    }
    if (rc == CC_OK) rc = store_commit(cc->store, err);
    if (rc != CC_OK) store_rollback(cc->store);
    json_decref(v);
    return rc;
}

/* Makes the operation of value (canonical JSON in op->meta) and applies it. */
static enum cc_err token_apply_json(struct concord *cc, json_t *value, int64_t now,
                                    struct cc_error *err)
{
    if (value == NULL) return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    struct arena arena;
    arena_init(&arena);
    struct ledger_op op;
    struct ledger_result result;
    enum cc_err rc = CC_OK;
    if (!json_decode_op(value, &op, &arena))
        rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    else if (op.invalid != NULL)
        rc = cc_error_set(err, CC_ERR_USAGE, "%s", op.invalid);
    else
        rc = token_apply(cc, &op, now, &result, err);
    arena_free(&arena);
    json_decref(value);
    return rc;
}

enum cc_err concord_token_replay(struct concord *cc, const struct ledger_op *op,
                                 struct ledger_result *result, struct cc_error *err)
{
    if (sodium_init() < 0) return cc_error_set(err, CC_ERR_SYSTEM, "libsodium did not start");
    return token_apply(cc, op, cc->clock(cc->clock_ctx), result, err);
}

/* ---------------------------------------------------------------- making, listing, revoking */

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
    /* The event holds the digest, never the secret. */
    char hash[TOKEN_HASH_TEXT_BYTES], expires[TIME_TEXT_BYTES];
    sodium_bin2base64(hash, sizeof hash, row.hash, sizeof row.hash,
                      sodium_base64_VARIANT_ORIGINAL);
    json_t *op = json_pack("{s:s,s:s,s:s,s:s,s:s}", "op", TOKEN_OP_CREATE, "id", id, "user",
                           spec->user, "role", row.role, "hash", hash);
    if (op != NULL && spec->party != NULL)
        json_object_set_new(op, "party", json_string(spec->party));
    if (op != NULL && spec->expires != 0) {
        time_format(spec->expires, expires);
        json_object_set_new(op, "expires", json_string(expires));
    }
    rc = token_apply_json(cc, op, now, err);
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
    if (!valid_token_id(id)) return cc_error_set(err, CC_ERR_NOT_FOUND, "no active token %s", id);
    json_t *op = json_pack("{s:s,s:s}", "op", TOKEN_OP_REVOKE, "id", id);
    return token_apply_json(cc, op, cc->clock(cc->clock_ctx), err);
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
