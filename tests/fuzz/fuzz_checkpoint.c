/*
 * fuzz_checkpoint.c — the tamper-evident log's readers: checkpoints, key texts, frontiers, proofs.
 *
 * Every input is read in each of these ways:
 *
 *  - as a signed checkpoint, by audit_checkpoint_parse and by
 *    audit_checkpoint_open with a fixed verifier (the key derived from the
 *    seed 0x42…42 by crypto_sign_ed25519_seed_keypair, named
 *    "fuzz.example/log"). A refusal must carry a printable message. A note
 *    that opens must also parse, to the same fields. A note that parses is
 *    signed again with the fixed key; that note must open and parse back to
 *    the same fields, so that the reader accepts everything the writer can
 *    write for what it read;
 *  - NUL-terminated, as a verifier key text and as a signer key text. A text
 *    that parses must be canonical: formatting the key gives the text back,
 *    byte for byte, and its key id belongs to its name and key;
 *  - as an encoded frontier. One that decodes encodes back to the input;
 *  - as a proof: 8 bytes of index (or old size), 8 of size, a leaf hash (or
 *    old root), a root and then up to AUDIT_PROOF_HASHES_MAX + 1 hashes, for
 *    audit_inclusion_verify and audit_consistency_verify. Whatever the
 *    input, a proof that verifies has exactly the length RFC 6962's
 *    recursion gives for its sizes (computed here independently);
 *  - as a script against a good note: the input's first bytes pick a tree
 *    size and root, which the fixed key signs; that note opens. Then the
 *    remaining bytes, in pairs (position, xor mask), change the note, and
 *    the last one's low bit may cut a byte off its end. If the changed note
 *    still opens, its body must be the signed one, byte for byte: nothing
 *    but a forged signature could make another body open;
 *  - as the seed of a small tree of 1 … 64 leaves whose generated inclusion
 *    and consistency proofs must verify, and fail with one bit flipped.
 */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "audit/audit.h"
#include "fuzz.h"
#include "fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_LEAVES_MAX 64
#define PROOF_HEADER_BYTES (8 + 8 + 2 * AUDIT_HASH_BYTES)

typedef uint8_t hash_t[AUDIT_HASH_BYTES];


static void check_message(const char *message)
{
    FUZZ_CHECK(message[0] != '\0', "refused without a message");
    for (const char *m = message; *m; m++)
        FUZZ_CHECK(*m >= 0x20 && *m < 0x7f, "unprintable byte 0x%02x in \"%s\"",
                   (unsigned char)*m, message);
}

static void check_same(const struct audit_checkpoint *a, const struct audit_checkpoint *b,
                       const char *what)
{
    FUZZ_CHECK(strcmp(a->origin, b->origin) == 0, "%s: origin \"%s\" then \"%s\"", what,
               a->origin, b->origin);
    FUZZ_CHECK(a->size == b->size, "%s: size %llu then %llu", what, (unsigned long long)a->size,
               (unsigned long long)b->size);
    FUZZ_CHECK(memcmp(a->root, b->root, AUDIT_HASH_BYTES) == 0, "%s: roots differ", what);
}

/* ---------------------------------------------------------------- notes */

static void check_note(const uint8_t *data, size_t size)
{
    const struct keys *keys = keys_get();
    const char *note = (const char *)data;
    struct audit_checkpoint opened, parsed, again;
    char message[256] = "";
    bool open_ok = audit_checkpoint_open(note, size, &keys->verifier, &opened, message,
                                         sizeof message);
    if (!open_ok) check_message(message);
    message[0] = '\0';
    bool parse_ok = audit_checkpoint_parse(note, size, &parsed, message, sizeof message);
    if (!parse_ok) check_message(message);
    if (open_ok) {
        FUZZ_CHECK(parse_ok, "opens but does not parse: %s", message);
        check_same(&opened, &parsed, "open, parse");
    }
    if (!parse_ok) return;
    size_t origin_length = strlen(parsed.origin);
    FUZZ_CHECK(origin_length >= 1 && origin_length <= AUDIT_NAME_BYTES_MAX, "origin of %zu bytes",
               origin_length);
    FUZZ_CHECK(parsed.size <= AUDIT_TREE_SIZE_MAX, "size %llu", (unsigned long long)parsed.size);
    static char signed_note[AUDIT_NOTE_BYTES_MAX + 1];
    size_t length = audit_checkpoint_sign(&keys->signer, &parsed, signed_note, sizeof signed_note);
    FUZZ_CHECK(length > 0, "a parsed checkpoint cannot be signed");
    FUZZ_CHECK(audit_checkpoint_open(signed_note, length, &keys->verifier, &again, message,
                                     sizeof message),
               "signed again, it does not open: %s", message);
    check_same(&parsed, &again, "parse, sign, open");
    FUZZ_CHECK(audit_checkpoint_parse(signed_note, length, &again, message, sizeof message),
               "signed again, it does not parse: %s", message);
    check_same(&parsed, &again, "parse, sign, parse");
}

/* A good note from the input's first bytes, then changed by the rest. */
static void check_tampering(const uint8_t *data, size_t size)
{
    const struct keys *keys = keys_get();
    struct audit_checkpoint checkpoint = {.origin = FUZZ_KEY_NAME};
    for (size_t i = 0; i < 8 && i < size; i++) checkpoint.size = checkpoint.size << 8 | data[i];
    checkpoint.size &= AUDIT_TREE_SIZE_MAX;
    crypto_hash_sha256(checkpoint.root, data, size < 8 ? size : 8);
    static char note[AUDIT_NOTE_BYTES_MAX + 1];
    size_t length = audit_checkpoint_sign(&keys->signer, &checkpoint, note, sizeof note);
    FUZZ_CHECK(length > 0, "cannot sign");
    size_t body_length = (size_t)(strstr(note, "\n\n") + 1 - note);
    char body[AUDIT_NOTE_BYTES_MAX];
    memcpy(body, note, body_length);
    struct audit_checkpoint opened;
    char message[256];
    FUZZ_CHECK(audit_checkpoint_open(note, length, &keys->verifier, &opened, message,
                                     sizeof message),
               "a fresh note does not open: %s", message);
    check_same(&checkpoint, &opened, "sign, open");
    for (size_t i = 8; i + 1 < size; i += 2) note[data[i] % length] ^= (char)data[i + 1];
    if (size > 8 && (data[size - 1] & 1u)) length--;
    if (!audit_checkpoint_open(note, length, &keys->verifier, &opened, message, sizeof message)) {
        check_message(message);
        return;
    }
    FUZZ_CHECK(length > body_length && memcmp(note, body, body_length) == 0,
               "a changed body opens");
    check_same(&checkpoint, &opened, "tampered, open");
}

/* ---------------------------------------------------------------- key texts */

static void check_keys(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL) return;
    memcpy(text, data, size);
    text[size] = '\0';
    char message[256] = "", formatted[AUDIT_KEY_TEXT_BYTES_MAX + 1];
    struct audit_verifier v;
    if (audit_verifier_parse(text, &v, message, sizeof message)) {
        FUZZ_CHECK(audit_key_name_valid(v.name), "invalid name accepted");
        FUZZ_CHECK(audit_verifier_format(&v, formatted, sizeof formatted), "cannot format");
        FUZZ_CHECK(strcmp(formatted, text) == 0, "verifier \"%s\" formats as \"%s\"", text,
                   formatted);
    } else {
        check_message(message);
    }
    message[0] = '\0';
    struct audit_signer s;
    if (audit_signer_parse(text, &s, message, sizeof message)) {
        FUZZ_CHECK(audit_key_name_valid(s.name), "invalid name accepted");
        FUZZ_CHECK(audit_signer_format(&s, formatted, sizeof formatted), "cannot format");
        FUZZ_CHECK(strcmp(formatted, text) == 0, "signer does not format back to its text");
        audit_verifier_of(&s, &v);
        FUZZ_CHECK(audit_verifier_format(&v, formatted, sizeof formatted), "cannot format");
        struct audit_verifier back;
        FUZZ_CHECK(audit_verifier_parse(formatted, &back, message, sizeof message), "%s",
                   message);
    } else {
        check_message(message);
    }
    sodium_memzero(&s, sizeof s);
    free(text);
}

/* ---------------------------------------------------------------- frontiers */

static void check_frontier(const uint8_t *data, size_t size)
{
    struct audit_frontier f;
    if (!audit_frontier_decode(data, size, &f)) return;
    uint8_t encoded[AUDIT_FRONTIER_BYTES_MAX];
    size_t length = audit_frontier_encode(&f, encoded, sizeof encoded);
    FUZZ_CHECK(length == size && memcmp(encoded, data, size) == 0, "decode, encode: %zu of %zu",
               length, size);
    hash_t root;
    audit_frontier_root(&f, root);
    if (f.size < AUDIT_TREE_SIZE_MAX) audit_frontier_append(&f, root);
}

/* ---------------------------------------------------------------- proofs */

/* Hashes in PATH(index, D[size]) by RFC 6962's recursion; requires index < size. */
static size_t path_length(uint64_t index, uint64_t size)
{
    size_t length = 0;
    while (size > 1) {
        uint64_t k = 1;
        while (k < size - k) k <<= 1;
        if (index < k) {
            size = k;
        } else {
            index -= k;
            size -= k;
        }
        length++;
    }
    return length;
}

/* Hashes in PROOF(m, D[n]) by RFC 6962's recursion; requires 0 < m ≤ n. */
static size_t consistency_length(uint64_t m, uint64_t n)
{
    size_t length = 0;
    bool whole = true;
    while (m != n) {
        uint64_t k = 1;
        while (k < n - k) k <<= 1;
        if (m <= k) {
            n = k;
        } else {
            m -= k;
            n -= k;
            whole = false;
        }
        length++;
    }
    return length + (whole ? 0 : 1);
}

static uint64_t load_be64(const uint8_t *p)
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++) value = value << 8 | p[i];
    return value;
}

static void check_proof_input(const uint8_t *data, size_t size)
{
    if (size < PROOF_HEADER_BYTES) return;
    uint64_t a = load_be64(data), b = load_be64(data + 8);
    hash_t first, second, proof[AUDIT_PROOF_HASHES_MAX + 1];
    memcpy(first, data + 16, AUDIT_HASH_BYTES);
    memcpy(second, data + 16 + AUDIT_HASH_BYTES, AUDIT_HASH_BYTES);
    size_t count = (size - PROOF_HEADER_BYTES) / AUDIT_HASH_BYTES;
    if (count > AUDIT_PROOF_HASHES_MAX + 1) count = AUDIT_PROOF_HASHES_MAX + 1;
    if (count > 0) memcpy(proof, data + PROOF_HEADER_BYTES, count * AUDIT_HASH_BYTES);
    const uint8_t (*hashes)[AUDIT_HASH_BYTES] = (const uint8_t (*)[AUDIT_HASH_BYTES])proof;
    if (audit_inclusion_verify(a, b, first, hashes, count, second)) {
        FUZZ_CHECK(a < b && b <= AUDIT_TREE_SIZE_MAX, "inclusion of %llu in %llu",
                   (unsigned long long)a, (unsigned long long)b);
        FUZZ_CHECK(count == path_length(a, b), "inclusion proof of %zu hashes for %llu in %llu",
                   count, (unsigned long long)a, (unsigned long long)b);
    }
    if (audit_consistency_verify(a, b, first, second, hashes, count)) {
        FUZZ_CHECK(0 < a && a <= b && b <= AUDIT_TREE_SIZE_MAX, "consistency of %llu and %llu",
                   (unsigned long long)a, (unsigned long long)b);
        FUZZ_CHECK(count == consistency_length(a, b),
                   "consistency proof of %zu hashes for %llu to %llu", count,
                   (unsigned long long)a, (unsigned long long)b);
    }
}

/* A small tree seeded by the input: generated proofs verify, and not with a bit flipped. */
static void check_generated_proofs(const uint8_t *data, size_t size)
{
    if (size < 4) return;
    uint64_t n = (uint64_t)(data[0] % FUZZ_LEAVES_MAX) + 1;
    uint64_t index = data[1] % n, old_size = (uint64_t)(data[2] % n) + 1;
    static hash_t leaves[FUZZ_LEAVES_MAX];
    for (uint64_t i = 0; i < n; i++) {
        uint8_t record[9] = {data[3]};
        memcpy(record + 1, &i, sizeof i);
        audit_leaf_hash(record, sizeof record, leaves[i]);
    }
    const uint8_t (*c_leaves)[AUDIT_HASH_BYTES] = (const uint8_t (*)[AUDIT_HASH_BYTES])leaves;
    hash_t root, old_root, proof[AUDIT_PROOF_HASHES_MAX];
    audit_tree_root(c_leaves, n, root);
    audit_tree_root(c_leaves, old_size, old_root);
    const uint8_t (*hashes)[AUDIT_HASH_BYTES] = (const uint8_t (*)[AUDIT_HASH_BYTES])proof;
    size_t count = audit_inclusion_proof(c_leaves, n, index, proof);
    FUZZ_CHECK(count == path_length(index, n), "path of %zu hashes", count);
    FUZZ_CHECK(audit_inclusion_verify(index, n, leaves[index], hashes, count, root),
               "inclusion of %llu in %llu", (unsigned long long)index, (unsigned long long)n);
    size_t bit = size > 4 ? data[4] : 0;
    if (count > 0) {
        proof[bit / 8 % count][bit % 8] ^= 1u;
        FUZZ_CHECK(!audit_inclusion_verify(index, n, leaves[index], hashes, count, root),
                   "a changed inclusion proof verifies");
    }
    count = audit_consistency_proof(c_leaves, n, old_size, proof);
    FUZZ_CHECK(count == consistency_length(old_size, n), "consistency proof of %zu hashes",
               count);
    FUZZ_CHECK(audit_consistency_verify(old_size, n, old_root, root, hashes, count),
               "consistency of %llu and %llu", (unsigned long long)old_size,
               (unsigned long long)n);
    if (count > 0) {
        proof[bit / 8 % count][bit % 8] ^= 1u;
        FUZZ_CHECK(!audit_consistency_verify(old_size, n, old_root, root, hashes, count),
                   "a changed consistency proof verifies");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_note(data, size);
    check_tampering(data, size);
    check_keys(data, size);
    check_frontier(data, size);
    check_proof_input(data, size);
    check_generated_proofs(data, size);
    return 0;
}
