/*
 * audit.h — a tamper-evident log: Merkle trees, proofs, signed checkpoints.
 *
 * The ledger appends a record of every batch to a log whose history cannot
 * be rewritten without the rewrite showing. The log is a Merkle tree in the
 * shape of RFC 6962 / RFC 9162 (Certificate Transparency) over SHA-256:
 *
 *     leaf hash       SHA-256(0x00 || record)
 *     node hash       SHA-256(0x01 || left || right)
 *     MTH(D[0])       SHA-256("")                     the empty tree
 *     MTH(D[1])       the leaf hash
 *     MTH(D[n])       node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n
 *
 * The distinct prefixes keep a leaf from ever passing for an inner node. An
 * inclusion proof shows that a record is leaf `index` of the tree of `size`
 * leaves whose root is known; a consistency proof shows that the tree of
 * `old_size` leaves is a prefix of the tree of `size` leaves, so that a
 * reader who once saw the older root can tell that nothing was changed or
 * removed since, only appended. Both kinds of proof hold at most
 * AUDIT_PROOF_HASHES_MAX hashes, since sizes are bounded by 2^63 − 1.
 * A proof ties hashes to roots through the shape of the tree, not through
 * its size: where two sizes give a path the same turns (leaf 0 in trees of
 * 3 and of 4 leaves), the same proof verifies against the same root under
 * either. Sizes must therefore come from a signed checkpoint, as roots do.
 *
 * Proofs are generated from the caller's array of leaf hashes (the log's
 * store keeps them) by the recursive definitions of RFC 6962 2.1.1/2.1.2,
 * walked as loops of at most AUDIT_LEVELS_MAX steps; subtree roots are
 * computed with a stack of AUDIT_LEVELS_MAX hashes, never a copy of the
 * leaves. Proofs are verified by the algorithms of RFC 9162 2.1.3.2 and
 * 2.1.4.2, step for step.
 *
 * A frontier is what appending needs of a tree without its leaves: the
 * roots of the perfect subtrees along its right edge, one per bit set in its
 * size, largest first (a tree of 6 leaves has a subtree of 4 and one of 2).
 * Appending a leaf merges equal subtrees like carries in binary addition;
 * the root folds the frontier from the right. Encoded, a frontier is
 *
 *     size         8 bytes, big-endian
 *     hashes       popcount(size) × 32 bytes, largest subtree first
 *
 * and nothing else: a decoder that finds another length, or a size of
 * 2^63 or more, refuses it.
 *
 * The log's state is published as a checkpoint (C2SP tlog-checkpoint) in a
 * signed note (C2SP signed-note, the format of Go's
 * golang.org/x/mod/sumdb/note), signed with Ed25519:
 *
 *     concord.example/mission-log          origin: the log's name
 *     1024                                 size: decimal, no sign, no leading zero
 *     6Qle3CT4MUG3bpuZX+36tUxO+pP43XcRJGXDd3sbf2M=    root: base64 of 32 bytes
 *                                          (optional extension lines, ignored)
 *                                          a blank line
 *     — concord.example/mission-log Az3grlgt…          one line per signature
 *
 * The signature covers the body: every byte up to and including the newline
 * before the blank line. A signature line is U+2014 EM DASH, a space, the
 * key's name, a space, and base64 of the 4-byte key id followed by the
 * 64-byte signature. A key id is the first 4 bytes of
 * SHA-256(name || '\n' || 0x01 || public key), 0x01 naming Ed25519, so a
 * reader picks the key by name and id without trying each. A note must be
 * valid UTF-8 without control characters other than '\n', at most
 * AUDIT_NOTE_BYTES_MAX bytes, with no empty line but the one before the
 * signatures, and at most AUDIT_SIGNATURES_MAX signature lines. Signatures by
 * keys the reader does not know (another name, or another id under the same
 * name) are allowed and skipped, so witnesses can cosign a checkpoint; a
 * signature by the expected key that does not verify makes the note invalid.
 *
 * Keys travel as text in the same formats as Go's note package:
 *
 *     signer       PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || 32-byte seed)>
 *     verifier     <name>+<8 hex key id>+<base64(0x01 || 32-byte public key)>
 *
 * Functions that read text report what is wrong in `message` (for people;
 * may be NULL when message_size is 0). Key texts are canonical: the key id is
 * lowercase hex, base64 is strict, so formatting a parsed key gives its text
 * back; a text whose key id does not belong to its name and key is refused.
 * Writers (audit_checkpoint_sign, the *_format functions) NUL-terminate what
 * they write and fail when it would not fit. A checkpoint that could not be
 * read back is not signed either: an origin that is empty, longer than
 * AUDIT_NAME_BYTES_MAX, not UTF-8 or holding a control character, or a size
 * above AUDIT_TREE_SIZE_MAX. audit_checkpoint_parse reads a signed
 * note (body and signature lines) without checking any signature; it
 * accepts what audit_checkpoint_open accepts and more, never less. A
 * verifier or signer passed in must come from the parse, generate or
 * verifier_of functions. This engine is pure C over libsodium:
 * no files, no network, no global state beyond libsodium's own
 * initialisation (audit_init), which must succeed before any other call.
 */
#ifndef CONCORD_AUDIT_AUDIT_H
#define CONCORD_AUDIT_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUDIT_HASH_BYTES 32
#define AUDIT_LEVELS_MAX 64            /* tree height bound: sizes < 2^63 */
#define AUDIT_PROOF_HASHES_MAX 64
#define AUDIT_NAME_BYTES_MAX 128       /* origin / key name */
#define AUDIT_NOTE_BYTES_MAX 4096      /* a signed checkpoint */
#define AUDIT_KEY_TEXT_BYTES_MAX 256   /* signer or verifier key text */
#define AUDIT_FRONTIER_BYTES_MAX (8 + AUDIT_LEVELS_MAX * AUDIT_HASH_BYTES)

#define AUDIT_TREE_SIZE_MAX ((UINT64_C(1) << 63) - 1) /* the largest tree size accepted */
#define AUDIT_SIGNATURES_MAX 100       /* signature lines in one note */
#define AUDIT_KEY_ID_BYTES 4
#define AUDIT_PUBLIC_KEY_BYTES 32
#define AUDIT_SECRET_KEY_BYTES 64
#define AUDIT_SIGNATURE_BYTES 64
#define AUDIT_ALGORITHM_ED25519 0x01   /* the signed-note algorithm byte */

bool audit_init(void);   /* sodium_init(); false on failure; idempotent */

/* ---------------------------------------------------------------- Merkle trees */

/* RFC 6962 / RFC 9162 Merkle tree over SHA-256 */
void audit_leaf_hash(const void *data, size_t size, uint8_t out[AUDIT_HASH_BYTES]);    /* SHA-256(0x00 || data) */
void audit_node_hash(const uint8_t left[AUDIT_HASH_BYTES], const uint8_t right[AUDIT_HASH_BYTES], uint8_t out[AUDIT_HASH_BYTES]); /* SHA-256(0x01||l||r) */
/* MTH of leaves[0..size): size 0 gives SHA-256 of the empty string. leaves are leaf hashes. */
void audit_tree_root(const uint8_t (*leaves)[AUDIT_HASH_BYTES], uint64_t size, uint8_t out[AUDIT_HASH_BYTES]);
/* PATH(index, D[size]): writes the audit path into out, returns its length (≤ AUDIT_PROOF_HASHES_MAX); requires index < size. */
size_t audit_inclusion_proof(const uint8_t (*leaves)[AUDIT_HASH_BYTES], uint64_t size, uint64_t index, uint8_t (*out)[AUDIT_HASH_BYTES]);
bool audit_inclusion_verify(uint64_t index, uint64_t size, const uint8_t leaf[AUDIT_HASH_BYTES], const uint8_t (*proof)[AUDIT_HASH_BYTES], size_t count, const uint8_t root[AUDIT_HASH_BYTES]);
/* PROOF(old_size, D[size]) per RFC 9162 2.1.4; 0 < old_size ≤ size; returns the length. */
size_t audit_consistency_proof(const uint8_t (*leaves)[AUDIT_HASH_BYTES], uint64_t size, uint64_t old_size, uint8_t (*out)[AUDIT_HASH_BYTES]);
bool audit_consistency_verify(uint64_t old_size, uint64_t size, const uint8_t old_root[AUDIT_HASH_BYTES], const uint8_t root[AUDIT_HASH_BYTES], const uint8_t (*proof)[AUDIT_HASH_BYTES], size_t count);

/* ---------------------------------------------------------------- frontiers */

/* The right edge of a tree: the roots of its perfect subtrees, to append in O(log n) without the leaves. */
struct audit_frontier {
    uint64_t size;                                        /* leaves so far */
    uint32_t count;                                       /* = popcount(size) */
    uint8_t hashes[AUDIT_LEVELS_MAX][AUDIT_HASH_BYTES];   /* largest subtree first */
};
void audit_frontier_init(struct audit_frontier *f);
void audit_frontier_append(struct audit_frontier *f, const uint8_t leaf[AUDIT_HASH_BYTES]);
void audit_frontier_root(const struct audit_frontier *f, uint8_t out[AUDIT_HASH_BYTES]); /* equals audit_tree_root of the same leaves */
size_t audit_frontier_encode(const struct audit_frontier *f, uint8_t *out, size_t capacity); /* 8-byte big-endian size then the hashes; 0 if capacity too small */
bool audit_frontier_decode(const uint8_t *data, size_t size, struct audit_frontier *f);      /* false when malformed (count must match popcount) */

/* ---------------------------------------------------------------- keys */

/* Keys and checkpoints in the C2SP signed-note / tlog-checkpoint formats, Ed25519 */
struct audit_signer {
    char name[AUDIT_NAME_BYTES_MAX + 1];
    uint8_t key_id[4];          /* first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key) */
    uint8_t public_key[32];
    uint8_t secret_key[64];     /* libsodium's (seed || public) */
};
struct audit_verifier {
    char name[AUDIT_NAME_BYTES_MAX + 1];
    uint8_t key_id[4];
    uint8_t public_key[32];
};
/* A key name: 1..128 bytes of printable ASCII without spaces and without '+'. */
bool audit_key_name_valid(const char *name);
bool audit_signer_generate(const char *name, struct audit_signer *out);
/* "PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || 32-byte seed)>" (the format of Go's golang.org/x/mod/sumdb/note) */
bool audit_signer_format(const struct audit_signer *s, char *out, size_t capacity);
bool audit_signer_parse(const char *text, struct audit_signer *out, char *message, size_t message_size);
/* "<name>+<8 hex key id>+<base64(0x01 || public key)>" */
void audit_verifier_of(const struct audit_signer *s, struct audit_verifier *out);
bool audit_verifier_format(const struct audit_verifier *v, char *out, size_t capacity);
bool audit_verifier_parse(const char *text, struct audit_verifier *out, char *message, size_t message_size);

/* ---------------------------------------------------------------- checkpoints */

struct audit_checkpoint {
    char origin[AUDIT_NAME_BYTES_MAX + 1];   /* the log's name: by convention the key name */
    uint64_t size;
    uint8_t root[AUDIT_HASH_BYTES];
};
/* Writes the signed note: "<origin>\n<size>\n<base64 root>\n\n— <keyname> <base64(key_id || signature)>\n"; the signature (Ed25519) covers the body text up to and including the newline before the blank line. Returns the length, 0 when capacity is short. */
size_t audit_checkpoint_sign(const struct audit_signer *s, const struct audit_checkpoint *c, char *out, size_t capacity);
/* Parses a signed checkpoint and verifies it carries a valid signature by `v` (other signature lines from unknown keys are allowed and ignored, per the signed-note spec; a line from a known key name with a bad signature is an error). false with a message that says what is wrong (line number) otherwise. */
bool audit_checkpoint_open(const char *note, size_t size, const struct audit_verifier *v, struct audit_checkpoint *out, char *message, size_t message_size);
/* Parses the body only (no signature check), for tools that only display it. */
bool audit_checkpoint_parse(const char *note, size_t size, struct audit_checkpoint *out, char *message, size_t message_size);

/* ---------------------------------------------------------------- base64 */

/*
 * Encoding writes a NUL-terminated text and is false when capacity cannot
 * hold it. Decoding is strict (the whole text, padding required, unused bits
 * zero, so one text per byte string) and false when the bytes do not fit.
 */
/* Base64 (standard alphabet, padded), via libsodium. */
bool audit_base64_encode(const uint8_t *data, size_t size, char *out, size_t capacity);
bool audit_base64_decode(const char *text, uint8_t *out, size_t capacity, size_t *size);
/* The same for text[0..length), which need not be NUL-terminated. */
bool audit_base64_decode_span(const char *text, size_t length, uint8_t *out, size_t capacity,
                              size_t *size);

#endif
