/*
 * audit.c — libsodium's start, base64, and the log's Ed25519 keys as text.
 *
 * Keys are named: a name says which log (or witness) a key speaks for, and
 * the 4-byte key id, SHA-256(name || '\n' || 0x01 || public key)[0..4),
 * binds the name to the key so that a reader picks the right key for a
 * signature line without trying each. A key travels as one line of text, as
 * in Go's golang.org/x/mod/sumdb/note (and the C2SP signed-note spec):
 *
 *     PRIVATE+KEY+<name>+<id>+<base64(0x01 || 32-byte Ed25519 seed)>
 *     <name>+<id>+<base64(0x01 || 32-byte Ed25519 public key)>
 *
 * with <id> the key id as 8 lowercase hex digits and 0x01 the algorithm
 * byte of Ed25519, the only algorithm this log signs with. Names hold no '+'
 * (the separator), so splitting at the first '+' signs is unambiguous even
 * though base64 text may hold '+' itself. Parsing checks every part, then
 * derives the public key from the seed (signer) and recomputes the key id:
 * a text whose id does not belong to its name and key is refused, so a key
 * cannot be relabelled by editing its text. A signer keeps libsodium's
 * 64-byte secret key (seed || public key) so that signing needs no
 * derivation; formatting writes the seed only. Buffers that held a seed are
 * wiped with sodium_memzero before they go out of scope.
 *
 * Base64 is RFC 4648's standard alphabet with padding, strict: the whole
 * text must decode, padding is required, and unused low bits must be zero,
 * so each byte string has exactly one text (libsodium's
 * sodium_base642bin with sodium_base64_VARIANT_ORIGINAL and nothing ignored).
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "audit/audit.h"
#include "audit/audit_internal.h"

_Static_assert(AUDIT_PUBLIC_KEY_BYTES == crypto_sign_ed25519_PUBLICKEYBYTES, "Ed25519 public key");
_Static_assert(AUDIT_SECRET_KEY_BYTES == crypto_sign_ed25519_SECRETKEYBYTES, "Ed25519 secret key");
_Static_assert(AUDIT_SIGNATURE_BYTES == crypto_sign_ed25519_BYTES, "Ed25519 signature");

#define SEED_BYTES crypto_sign_ed25519_SEEDBYTES
#define KEY_ID_HEX_BYTES (2 * AUDIT_KEY_ID_BYTES)
#define SIGNER_PREFIX "PRIVATE+KEY+"
/* The algorithm byte and a 32-byte key: the same length for seeds and public keys. */
#define KEY_BLOB_BYTES (1 + AUDIT_PUBLIC_KEY_BYTES)
_Static_assert(SEED_BYTES == AUDIT_PUBLIC_KEY_BYTES, "seeds and public keys are 32 bytes");

bool audit_init(void)
{
    return sodium_init() >= 0; /* 1: already initialised, which is fine */
}

/* ---------------------------------------------------------------- base64 */

bool audit_base64_encode(const uint8_t *data, size_t size, char *out, size_t capacity)
{
    assert(data != NULL || size == 0);
    assert(out != NULL || capacity == 0);
    if (size > (SIZE_MAX / 4) * 3 - 3) return false;
    if (capacity < sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL)) return false;
    sodium_bin2base64(out, capacity, data, size, sodium_base64_VARIANT_ORIGINAL);
    return true;
}

bool audit_base64_decode_span(const char *text, size_t length, uint8_t *out, size_t capacity,
                              size_t *size)
{
    assert(text != NULL || length == 0);
    assert(out != NULL || capacity == 0);
    assert(size != NULL);
    *size = 0;
    if (length % 4 != 0) return false; /* padded: whole groups of four */
    if (length == 0) return true;
    size_t decoded = 0;
    const char *end = NULL;
    if (sodium_base642bin(out, capacity, text, length, NULL, &decoded, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    if (end != text + length) return false; /* stopped early: not all of it is base64 */
    *size = decoded;
    return true;
}

bool audit_base64_decode(const char *text, uint8_t *out, size_t capacity, size_t *size)
{
    assert(text != NULL);
    return audit_base64_decode_span(text, strlen(text), out, capacity, size);
}

/* ---------------------------------------------------------------- names and ids */

bool audit_key_name_valid(const char *name)
{
    assert(name != NULL);
    size_t length = strnlen(name, AUDIT_NAME_BYTES_MAX + 1);
    if (length == 0 || length > AUDIT_NAME_BYTES_MAX) return false;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= ' ' || c >= 0x7f || c == '+') return false; /* printable, no space, no '+' */
    }
    return true;
}

static void key_id_compute(const char *name, const uint8_t public_key[AUDIT_PUBLIC_KEY_BYTES],
                           uint8_t key_id[AUDIT_KEY_ID_BYTES])
{
    static const uint8_t separator[2] = {'\n', AUDIT_ALGORITHM_ED25519};
    uint8_t hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_state state;
    crypto_hash_sha256_init(&state);
    crypto_hash_sha256_update(&state, (const uint8_t *)name, strlen(name));
    crypto_hash_sha256_update(&state, separator, sizeof separator);
    crypto_hash_sha256_update(&state, public_key, AUDIT_PUBLIC_KEY_BYTES);
    crypto_hash_sha256_final(&state, hash);
    memcpy(key_id, hash, AUDIT_KEY_ID_BYTES);
}

bool audit_fail(char *message, size_t message_size, const char *fmt, ...)
{
    assert(message != NULL || message_size == 0);
    if (message_size == 0) return false;
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, message_size, fmt, args);
    va_end(args);
    return false;
}

/* ---------------------------------------------------------------- signers */

bool audit_signer_generate(const char *name, struct audit_signer *out)
{
    assert(name != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    if (!audit_key_name_valid(name)) return false;
    if (crypto_sign_ed25519_keypair(out->public_key, out->secret_key) != 0) return false;
    memcpy(out->name, name, strlen(name) + 1);
    key_id_compute(out->name, out->public_key, out->key_id);
    return true;
}

/* "<name>+<8 hex>+<base64(0x01 || key)>" after `prefix`, into out. */
static bool key_text_format(const char *prefix, const char *name,
                            const uint8_t key_id[AUDIT_KEY_ID_BYTES],
                            const uint8_t key[AUDIT_PUBLIC_KEY_BYTES], char *out, size_t capacity)
{
    assert(audit_key_name_valid(name));
    char hex[KEY_ID_HEX_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, key_id, AUDIT_KEY_ID_BYTES);
    uint8_t blob[KEY_BLOB_BYTES];
    blob[0] = AUDIT_ALGORITHM_ED25519;
    memcpy(blob + 1, key, AUDIT_PUBLIC_KEY_BYTES);
    char base64[sodium_base64_ENCODED_LEN(KEY_BLOB_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    bool encoded = audit_base64_encode(blob, sizeof blob, base64, sizeof base64);
    sodium_memzero(blob, sizeof blob);
    int length = encoded ? snprintf(out, capacity, "%s%s+%s+%s", prefix, name, hex, base64) : -1;
    sodium_memzero(base64, sizeof base64);
    if (length < 0 || (size_t)length >= capacity) {
        if (capacity > 0) sodium_memzero(out, capacity);
        return false;
    }
    return true;
}

bool audit_signer_format(const struct audit_signer *s, char *out, size_t capacity)
{
    assert(s != NULL);
    assert(out != NULL || capacity == 0);
    uint8_t seed[SEED_BYTES];
    crypto_sign_ed25519_sk_to_seed(seed, s->secret_key);
    bool ok = key_text_format(SIGNER_PREFIX, s->name, s->key_id, seed, out, capacity);
    sodium_memzero(seed, sizeof seed);
    return ok;
}

/* ---------------------------------------------------------------- parsing key texts */

/* The parts of "<name>+<id>+<base64>", checked one by one. */
struct key_text {
    char name[AUDIT_NAME_BYTES_MAX + 1];
    uint8_t key_id[AUDIT_KEY_ID_BYTES];
    uint8_t key[AUDIT_PUBLIC_KEY_BYTES]; /* seed or public key, after the algorithm byte */
};

static bool key_id_parse(const char *hex, size_t length, uint8_t key_id[AUDIT_KEY_ID_BYTES])
{
    if (length != KEY_ID_HEX_BYTES) return false;
    for (size_t i = 0; i < length; i++) /* lowercase only: one text per key */
        if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f'))) return false;
    size_t decoded = 0;
    return sodium_hex2bin(key_id, AUDIT_KEY_ID_BYTES, hex, length, NULL, &decoded, NULL) == 0 &&
           decoded == AUDIT_KEY_ID_BYTES;
}

static bool key_text_parse(const char *text, struct key_text *out, char *message,
                           size_t message_size)
{
    memset(out, 0, sizeof *out); /* names are compared and copied whole, padding included */
    const char *plus = strchr(text, '+');
    if (plus == NULL) return audit_fail(message, message_size, "expected <name>+<key id>+<key>");
    size_t name_length = (size_t)(plus - text);
    if (name_length == 0 || name_length > AUDIT_NAME_BYTES_MAX)
        return audit_fail(message, message_size, "the key name must be 1 to %d bytes",
                    AUDIT_NAME_BYTES_MAX);
    memcpy(out->name, text, name_length);
    out->name[name_length] = '\0';
    if (!audit_key_name_valid(out->name))
        return audit_fail(message, message_size, "the key name must be printable ASCII without spaces");
    const char *id = plus + 1;
    const char *plus2 = strchr(id, '+');
    if (plus2 == NULL) return audit_fail(message, message_size, "expected <name>+<key id>+<key>");
    if (!key_id_parse(id, (size_t)(plus2 - id), out->key_id))
        return audit_fail(message, message_size, "the key id must be 8 lowercase hex digits");
    uint8_t blob[KEY_BLOB_BYTES + 1]; /* one more to tell a longer key apart */
    size_t decoded = 0;
    if (!audit_base64_decode(plus2 + 1, blob, sizeof blob, &decoded))
        return audit_fail(message, message_size, "the key is not base64 of 33 bytes");
    uint8_t algorithm = decoded > 0 ? blob[0] : 0;
    if (decoded == KEY_BLOB_BYTES) memcpy(out->key, blob + 1, AUDIT_PUBLIC_KEY_BYTES);
    sodium_memzero(blob, sizeof blob);
    if (decoded != KEY_BLOB_BYTES)
        return audit_fail(message, message_size, "the key must be 33 bytes (0x01 and 32), not %zu",
                    decoded);
    if (algorithm != AUDIT_ALGORITHM_ED25519)
        return audit_fail(message, message_size, "unknown key algorithm %u (1 is Ed25519)", algorithm);
    return true;
}

bool audit_signer_parse(const char *text, struct audit_signer *out, char *message,
                        size_t message_size)
{
    assert(text != NULL && out != NULL);
    assert(message != NULL || message_size == 0);
    memset(out, 0, sizeof *out);
    if (strnlen(text, AUDIT_KEY_TEXT_BYTES_MAX + 1) > AUDIT_KEY_TEXT_BYTES_MAX)
        return audit_fail(message, message_size, "a key text is at most %d bytes",
                    AUDIT_KEY_TEXT_BYTES_MAX);
    if (strncmp(text, SIGNER_PREFIX, strlen(SIGNER_PREFIX)) != 0)
        return audit_fail(message, message_size, "a signer key starts with " SIGNER_PREFIX);
    struct key_text parts;
    bool ok = key_text_parse(text + strlen(SIGNER_PREFIX), &parts, message, message_size);
    if (ok) {
        uint8_t computed[AUDIT_KEY_ID_BYTES];
        crypto_sign_ed25519_seed_keypair(out->public_key, out->secret_key, parts.key);
        key_id_compute(parts.name, out->public_key, computed);
        ok = sodium_memcmp(computed, parts.key_id, AUDIT_KEY_ID_BYTES) == 0;
        if (!ok) audit_fail(message, message_size, "the key id does not match the name and key");
    }
    if (ok) {
        memcpy(out->name, parts.name, sizeof out->name);
        memcpy(out->key_id, parts.key_id, AUDIT_KEY_ID_BYTES);
    } else {
        sodium_memzero(out, sizeof *out);
    }
    sodium_memzero(&parts, sizeof parts);
    return ok;
}

/* ---------------------------------------------------------------- verifiers */

void audit_verifier_of(const struct audit_signer *s, struct audit_verifier *out)
{
    assert(s != NULL && out != NULL);
    assert(audit_key_name_valid(s->name));
    memset(out, 0, sizeof *out);
    memcpy(out->name, s->name, sizeof out->name);
    memcpy(out->key_id, s->key_id, AUDIT_KEY_ID_BYTES);
    memcpy(out->public_key, s->public_key, AUDIT_PUBLIC_KEY_BYTES);
}

bool audit_verifier_format(const struct audit_verifier *v, char *out, size_t capacity)
{
    assert(v != NULL);
    assert(out != NULL || capacity == 0);
    return key_text_format("", v->name, v->key_id, v->public_key, out, capacity);
}

bool audit_verifier_parse(const char *text, struct audit_verifier *out, char *message,
                          size_t message_size)
{
    assert(text != NULL && out != NULL);
    assert(message != NULL || message_size == 0);
    memset(out, 0, sizeof *out);
    if (strnlen(text, AUDIT_KEY_TEXT_BYTES_MAX + 1) > AUDIT_KEY_TEXT_BYTES_MAX)
        return audit_fail(message, message_size, "a key text is at most %d bytes",
                    AUDIT_KEY_TEXT_BYTES_MAX);
    if (strncmp(text, SIGNER_PREFIX, strlen(SIGNER_PREFIX)) == 0)
        return audit_fail(message, message_size, "this is a signer (private) key, not a verifier key");
    struct key_text parts;
    if (!key_text_parse(text, &parts, message, message_size)) return false;
    uint8_t computed[AUDIT_KEY_ID_BYTES];
    key_id_compute(parts.name, parts.key, computed);
    if (sodium_memcmp(computed, parts.key_id, AUDIT_KEY_ID_BYTES) != 0)
        return audit_fail(message, message_size, "the key id does not match the name and key");
    memcpy(out->name, parts.name, sizeof out->name);
    memcpy(out->key_id, parts.key_id, AUDIT_KEY_ID_BYTES);
    memcpy(out->public_key, parts.key, AUDIT_PUBLIC_KEY_BYTES);
    return true;
}
