/*
 * fuzz_keys.h — the fixed Ed25519 key pair the audit fuzz targets sign and
 * verify with: made from a fixed seed, through the signer's text, which must
 * parse back to the same key (so the text format is checked on the way).
 */
#ifndef CONCORD_TESTS_FUZZ_KEYS_H
#define CONCORD_TESTS_FUZZ_KEYS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "audit/audit.h"
#include "fuzz.h"

#define FUZZ_KEY_NAME "fuzz.example/log"

struct keys {
    struct audit_signer signer;
    struct audit_verifier verifier;
};

/* The fixed key pair, made once through the signer's text (which must parse to the same key). */
static const struct keys *keys_get(void)
{
    static struct keys keys;
    static bool made;
    if (made) return &keys;
    FUZZ_CHECK(audit_init(), "sodium_init failed");
    uint8_t seed[32], public_key[32], secret_key[64];
    memset(seed, 0x42, sizeof seed);
    crypto_sign_ed25519_seed_keypair(public_key, secret_key, seed);
    uint8_t hashed[sizeof FUZZ_KEY_NAME - 1 + 2 + 32];
    memcpy(hashed, FUZZ_KEY_NAME, sizeof FUZZ_KEY_NAME - 1);
    hashed[sizeof FUZZ_KEY_NAME - 1] = '\n';
    hashed[sizeof FUZZ_KEY_NAME] = 0x01;
    memcpy(hashed + sizeof FUZZ_KEY_NAME + 1, public_key, 32);
    uint8_t id[crypto_hash_sha256_BYTES], blob[33] = {0x01};
    crypto_hash_sha256(id, hashed, sizeof hashed);
    memcpy(blob + 1, seed, 32);
    char hex[9], base64[64], text[AUDIT_KEY_TEXT_BYTES_MAX + 1], message[256];
    sodium_bin2hex(hex, sizeof hex, id, 4);
    FUZZ_CHECK(audit_base64_encode(blob, sizeof blob, base64, sizeof base64), "base64");
    snprintf(text, sizeof text, "PRIVATE+KEY+%s+%s+%s", FUZZ_KEY_NAME, hex, base64);
    FUZZ_CHECK(audit_signer_parse(text, &keys.signer, message, sizeof message), "%s", message);
    FUZZ_CHECK(memcmp(keys.signer.public_key, public_key, 32) == 0, "public key");
    FUZZ_CHECK(memcmp(keys.signer.secret_key, secret_key, 64) == 0, "secret key");
    FUZZ_CHECK(memcmp(keys.signer.key_id, id, 4) == 0, "key id");
    audit_verifier_of(&keys.signer, &keys.verifier);
    made = true;
    return &keys;
}

#endif
