/*
 * test_audit.c — unit tests of the tamper-evident log engine (src/audit/).
 *
 * Known answers: SHA-256 of nothing as the empty root, the leaf hash of the
 * empty string, and the eight-leaf reference tree of Certificate
 * Transparency's test suite (roots of sizes 1 … 8, four audit paths and
 * three consistency proofs, as in certificate-transparency's
 * merkle_tree_test.cc); Go's golang.org/x/mod/sumdb/note example key, whose
 * texts must come back byte for byte and whose signature over the example
 * text must be reproduced exactly (Ed25519 is deterministic); and two
 * checkpoints signed by sum.golang.org, which must open with its published
 * verifier key.
 *
 * Exhaustive over small trees: every inclusion proof of sizes 1 … 64 and
 * every consistency proof of 1 ≤ m ≤ n ≤ 40 verifies, and fails once any
 * byte of the proof, the leaf or a root is changed, or the proof is cut
 * short or lengthened. Proofs under other indices and sizes are expected to
 * verify exactly when RFC 6962's recursion takes the same turns for them (a
 * proof binds the shape of a path, not the size: the path of leaf 0 is the
 * same in trees of 3 and 4 leaves), which a reference model of the recursion
 * here decides independently of the verifier's bit arithmetic.
 *
 * Frontiers give the tree's root at every size 0 … 300, survive encoding,
 * and their decoder refuses every other length and impossible sizes.
 *
 * Keys round-trip through text and every malformed part is refused with a
 * message. Checkpoints round-trip; a note fails to open with another key,
 * with any single byte changed, cut at any byte, without its signature or
 * blank line, with a bad signature by the expected key next to a good one,
 * with malformed sizes and roots, over the limits; and opens despite
 * signatures by keys the reader does not know. Every refusal must come with
 * a message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "audit/audit.h"

#define LEAVES_MAX 160
#define MESSAGE_BYTES 256

typedef uint8_t hash_t[AUDIT_HASH_BYTES];

/* ---------------------------------------------------------------- helpers */

static void hex_to(const char *hex, uint8_t *out, size_t size)
{
    size_t decoded = 0;
    assert_int_equal(strlen(hex), 2 * size);
    assert_int_equal(sodium_hex2bin(out, size, hex, strlen(hex), NULL, &decoded, NULL), 0);
    assert_int_equal(decoded, size);
}

static void assert_hash_hex(const uint8_t hash[AUDIT_HASH_BYTES], const char *hex)
{
    char got[2 * AUDIT_HASH_BYTES + 1];
    sodium_bin2hex(got, sizeof got, hash, AUDIT_HASH_BYTES);
    assert_string_equal(got, hex);
}

/* Leaf hashes of distinct records: the 4 bytes of each index. */
static void leaves_make(hash_t *leaves, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        uint8_t record[4] = {(uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8),
                             (uint8_t)i};
        audit_leaf_hash(record, sizeof record, leaves[i]);
    }
}

static const uint8_t (*c_leaves(hash_t *leaves))[AUDIT_HASH_BYTES]
{
    return (const uint8_t (*)[AUDIT_HASH_BYTES])leaves;
}

/* The turns RFC 6962's PATH(index, D[size]) takes from the root: 'l' or 'r' for the side of the leaf. */
static bool path_shape(uint64_t index, uint64_t size, char *out, size_t capacity)
{
    if (index >= size) return false;
    size_t n = 0;
    while (size > 1) {
        uint64_t k = 1;
        while (k * 2 < size) k *= 2;
        assert_true(n + 1 < capacity);
        if (index < k) {
            out[n++] = 'l';
            size = k;
        } else {
            out[n++] = 'r';
            index -= k;
            size -= k;
        }
    }
    out[n] = '\0';
    return true;
}

/* The turns of SUBPROOF(m, D[n], true), and 's' when the proof ends with the old tree's own root. */
static bool consistency_shape(uint64_t m, uint64_t n, char *out, size_t capacity)
{
    if (m == 0 || m > n) return false;
    size_t length = 0;
    bool whole = true;
    while (m != n) {
        uint64_t k = 1;
        while (k * 2 < n) k *= 2;
        assert_true(length + 2 < capacity);
        if (m <= k) {
            out[length++] = 'l';
            n = k;
        } else {
            out[length++] = 'r';
            m -= k;
            n -= k;
            whole = false;
        }
    }
    if (!whole) out[length++] = 's';
    out[length] = '\0';
    return true;
}

/* ---------------------------------------------------------------- known answers */

/* certificate-transparency's reference tree (merkle_tree_test.cc, trillian's merkle_verifier_test.go). */
static const char *const reference_inputs[8] = {
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};
static const char *const reference_roots[8] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};
#define EMPTY_ROOT "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void reference_leaves(hash_t leaves[8])
{
    for (size_t i = 0; i < 8; i++) {
        uint8_t input[16];
        size_t size = strlen(reference_inputs[i]) / 2;
        hex_to(reference_inputs[i], input, size);
        audit_leaf_hash(input, size, leaves[i]);
    }
}

static void known_roots(void **state)
{
    (void)state;
    hash_t root;
    audit_tree_root(NULL, 0, root);
    assert_hash_hex(root, EMPTY_ROOT);
    audit_leaf_hash("", 0, root);
    assert_hash_hex(root, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    hash_t leaves[8];
    reference_leaves(leaves);
    struct audit_frontier frontier;
    audit_frontier_init(&frontier);
    audit_frontier_root(&frontier, root);
    assert_hash_hex(root, EMPTY_ROOT);
    for (uint64_t size = 1; size <= 8; size++) {
        audit_tree_root(c_leaves(leaves), size, root);
        assert_hash_hex(root, reference_roots[size - 1]);
        audit_frontier_append(&frontier, leaves[size - 1]);
        audit_frontier_root(&frontier, root);
        assert_hash_hex(root, reference_roots[size - 1]);
    }
    /* A node is SHA-256(0x01 || left || right): the root of two leaves. */
    uint8_t joined[1 + 2 * AUDIT_HASH_BYTES] = {0x01};
    memcpy(joined + 1, leaves[0], AUDIT_HASH_BYTES);
    memcpy(joined + 1 + AUDIT_HASH_BYTES, leaves[1], AUDIT_HASH_BYTES);
    crypto_hash_sha256(root, joined, sizeof joined);
    assert_hash_hex(root, reference_roots[1]);
}

struct proof_vector {
    uint64_t a, b;           /* index and size, or old and new size */
    size_t count;
    const char *hashes[3];
};

static void known_proofs(void **state)
{
    (void)state;
    static const struct proof_vector paths[] = {
        {0, 8, 3, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                   "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                   "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
        {5, 8, 3, {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                   "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                   "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
        {2, 3, 1, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
        {1, 5, 3, {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                   "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                   "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
        {0, 1, 0, {NULL}},
    };
    static const struct proof_vector proofs[] = {
        {1, 1, 0, {NULL}},
        {1, 8, 3, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                   "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                   "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
        {6, 8, 3, {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                   "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                   "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
        {2, 5, 2, {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                   "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    };
    hash_t leaves[8], proof[AUDIT_PROOF_HASHES_MAX], root, old_root, want[3];
    reference_leaves(leaves);
    for (size_t v = 0; v < sizeof paths / sizeof paths[0]; v++) {
        size_t count = audit_inclusion_proof(c_leaves(leaves), paths[v].b, paths[v].a, proof);
        assert_int_equal(count, paths[v].count);
        for (size_t i = 0; i < count; i++) assert_hash_hex(proof[i], paths[v].hashes[i]);
        for (size_t i = 0; i < count; i++) hex_to(paths[v].hashes[i], want[i], AUDIT_HASH_BYTES);
        hex_to(reference_roots[paths[v].b - 1], root, AUDIT_HASH_BYTES);
        assert_true(audit_inclusion_verify(paths[v].a, paths[v].b, leaves[paths[v].a],
                                           c_leaves(want), count, root));
    }
    for (size_t v = 0; v < sizeof proofs / sizeof proofs[0]; v++) {
        size_t count = audit_consistency_proof(c_leaves(leaves), proofs[v].b, proofs[v].a, proof);
        assert_int_equal(count, proofs[v].count);
        for (size_t i = 0; i < count; i++) assert_hash_hex(proof[i], proofs[v].hashes[i]);
        for (size_t i = 0; i < count; i++) hex_to(proofs[v].hashes[i], want[i], AUDIT_HASH_BYTES);
        hex_to(reference_roots[proofs[v].a - 1], old_root, AUDIT_HASH_BYTES);
        hex_to(reference_roots[proofs[v].b - 1], root, AUDIT_HASH_BYTES);
        assert_true(audit_consistency_verify(proofs[v].a, proofs[v].b, old_root, root,
                                             c_leaves(want), count));
    }
}

/* ---------------------------------------------------------------- inclusion */

/* Whether the proof of (index, size) should verify as a proof of (other_index, other_size). */
static bool inclusion_same_shape(uint64_t index, uint64_t size, uint64_t other_index,
                                 uint64_t other_size)
{
    char a[AUDIT_LEVELS_MAX + 1], b[AUDIT_LEVELS_MAX + 1];
    assert_true(path_shape(index, size, a, sizeof a));
    return path_shape(other_index, other_size, b, sizeof b) && strcmp(a, b) == 0;
}

static void inclusion_corruptions(uint64_t index, uint64_t size, const hash_t leaf,
                                  hash_t *proof, size_t count, const hash_t root)
{
    for (size_t i = 0; i < count; i++)
        for (size_t byte = 0; byte < AUDIT_HASH_BYTES; byte++) {
            proof[i][byte] ^= 0x01;
            assert_false(audit_inclusion_verify(index, size, leaf, c_leaves(proof), count, root));
            proof[i][byte] ^= 0x01;
        }
    hash_t changed;
    for (size_t byte = 0; byte < AUDIT_HASH_BYTES; byte++) {
        memcpy(changed, leaf, AUDIT_HASH_BYTES);
        changed[byte] ^= 0x80;
        assert_false(audit_inclusion_verify(index, size, changed, c_leaves(proof), count, root));
        memcpy(changed, root, AUDIT_HASH_BYTES);
        changed[byte] ^= 0x80;
        assert_false(audit_inclusion_verify(index, size, leaf, c_leaves(proof), count, changed));
    }
    if (count > 0) /* cut short */
        assert_false(audit_inclusion_verify(index, size, leaf, c_leaves(proof), count - 1, root));
    /* lengthened at the end, with the root or with the leaf */
    memcpy(proof[count], root, AUDIT_HASH_BYTES);
    assert_false(audit_inclusion_verify(index, size, leaf, c_leaves(proof), count + 1, root));
    memcpy(proof[count], leaf, AUDIT_HASH_BYTES);
    assert_false(audit_inclusion_verify(index, size, leaf, c_leaves(proof), count + 1, root));
    /* lengthened at the front */
    hash_t longer[AUDIT_PROOF_HASHES_MAX + 1];
    memcpy(longer[0], leaf, AUDIT_HASH_BYTES);
    memcpy(longer[1], proof, count * AUDIT_HASH_BYTES);
    assert_false(audit_inclusion_verify(index, size, leaf, c_leaves(longer), count + 1, root));
}

static void inclusion_every_leaf(void **state)
{
    (void)state;
    static hash_t leaves[LEAVES_MAX];
    leaves_make(leaves, LEAVES_MAX);
    hash_t proof[AUDIT_PROOF_HASHES_MAX + 1], root;
    size_t checked = 0, other_shapes = 0;
    for (uint64_t size = 1; size <= 64; size++) {
        audit_tree_root(c_leaves(leaves), size, root);
        for (uint64_t index = 0; index < size; index++) {
            size_t count = audit_inclusion_proof(c_leaves(leaves), size, index, proof);
            char shape[AUDIT_LEVELS_MAX + 1];
            assert_true(path_shape(index, size, shape, sizeof shape));
            assert_int_equal(count, strlen(shape));
            assert_true(audit_inclusion_verify(index, size, leaves[index], c_leaves(proof), count,
                                               root));
            checked++;
            inclusion_corruptions(index, size, leaves[index], proof, count, root);
            /* Other indices and sizes: verified exactly when the path has the same turns. */
            const uint64_t sizes[] = {size - 1, size, size + 1, size * 2, size / 2, 0,
                                      UINT64_MAX, AUDIT_TREE_SIZE_MAX + 1};
            for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
                for (uint64_t other = 0; other < size + 2; other++) {
                    if (other == index && sizes[s] == size) continue;
                    bool same = sizes[s] <= AUDIT_TREE_SIZE_MAX &&
                                inclusion_same_shape(index, size, other, sizes[s]);
                    other_shapes += same;
                    assert_int_equal(audit_inclusion_verify(other, sizes[s], leaves[index],
                                                            c_leaves(proof), count, root),
                                     same);
                }
        }
    }
    assert_int_equal(checked, 64 * 65 / 2);
    assert_true(other_shapes > 0); /* the model does predict some: the property is not vacuous */
    /* Outside the tree. */
    assert_false(audit_inclusion_verify(0, 0, leaves[0], NULL, 0, root));
    assert_false(audit_inclusion_verify(1, 1, leaves[0], NULL, 0, leaves[0]));
    assert_true(audit_inclusion_verify(0, 1, leaves[0], NULL, 0, leaves[0]));
    assert_false(audit_inclusion_verify(0, 1, leaves[0], c_leaves(proof),
                                        AUDIT_PROOF_HASHES_MAX + 1, leaves[0]));
}

/* A long proof: the last leaf of a tree of 2^63 − 1 leaves takes 62 hashes, all checked. */
static void inclusion_largest_tree(void **state)
{
    (void)state;
    hash_t proof[AUDIT_PROOF_HASHES_MAX], leaf, root;
    uint64_t size = AUDIT_TREE_SIZE_MAX, index = size - 1;
    char shape[AUDIT_LEVELS_MAX + 1];
    assert_true(path_shape(index, size, shape, sizeof shape));
    size_t count = strlen(shape);
    assert_int_equal(count, 62);
    audit_leaf_hash("last", 4, leaf);
    memcpy(root, leaf, AUDIT_HASH_BYTES);
    for (size_t i = 0; i < count; i++) { /* every sibling is on the left */
        audit_leaf_hash(&i, sizeof i, proof[i]);
        audit_node_hash(proof[i], root, root);
    }
    assert_true(audit_inclusion_verify(index, size, leaf, c_leaves(proof), count, root));
    assert_false(audit_inclusion_verify(index, size, leaf, c_leaves(proof), count - 1, root));
    assert_false(audit_inclusion_verify(index, size + 1, leaf, c_leaves(proof), count, root));
    assert_false(audit_inclusion_verify(index - 1, size, leaf, c_leaves(proof), count, root));
}

/* ---------------------------------------------------------------- consistency */

static bool consistency_same_shape(uint64_t m, uint64_t n, uint64_t other_m, uint64_t other_n)
{
    char a[AUDIT_PROOF_HASHES_MAX + 2], b[AUDIT_PROOF_HASHES_MAX + 2];
    assert_true(consistency_shape(m, n, a, sizeof a));
    return other_n <= AUDIT_TREE_SIZE_MAX && consistency_shape(other_m, other_n, b, sizeof b) &&
           strcmp(a, b) == 0;
}

static void consistency_corruptions(uint64_t m, uint64_t n, const hash_t old_root,
                                    const hash_t root, hash_t *proof, size_t count)
{
    for (size_t i = 0; i < count; i++)
        for (size_t byte = 0; byte < AUDIT_HASH_BYTES; byte++) {
            proof[i][byte] ^= 0x01;
            assert_false(audit_consistency_verify(m, n, old_root, root, c_leaves(proof), count));
            proof[i][byte] ^= 0x01;
        }
    hash_t changed;
    for (size_t byte = 0; byte < AUDIT_HASH_BYTES; byte++) {
        memcpy(changed, old_root, AUDIT_HASH_BYTES);
        changed[byte] ^= 0x80;
        assert_false(audit_consistency_verify(m, n, changed, root, c_leaves(proof), count));
        memcpy(changed, root, AUDIT_HASH_BYTES);
        changed[byte] ^= 0x80;
        assert_false(audit_consistency_verify(m, n, old_root, changed, c_leaves(proof), count));
    }
    if (m != n) /* the roots swapped */
        assert_false(audit_consistency_verify(m, n, root, old_root, c_leaves(proof), count));
    if (count > 0) {
        assert_false(audit_consistency_verify(m, n, old_root, root, c_leaves(proof), count - 1));
        assert_false(audit_consistency_verify(m, n, old_root, root, NULL, 0));
    }
    memcpy(proof[count], old_root, AUDIT_HASH_BYTES);
    assert_false(audit_consistency_verify(m, n, old_root, root, c_leaves(proof), count + 1));
    memcpy(proof[count], root, AUDIT_HASH_BYTES);
    assert_false(audit_consistency_verify(m, n, old_root, root, c_leaves(proof), count + 1));
    hash_t longer[AUDIT_PROOF_HASHES_MAX + 1];
    memcpy(longer[0], old_root, AUDIT_HASH_BYTES);
    memcpy(longer[1], proof, count * AUDIT_HASH_BYTES);
    assert_false(audit_consistency_verify(m, n, old_root, root, c_leaves(longer), count + 1));
}

static void consistency_every_pair(void **state)
{
    (void)state;
    static hash_t leaves[LEAVES_MAX];
    leaves_make(leaves, LEAVES_MAX);
    static hash_t roots[LEAVES_MAX + 1];
    for (uint64_t size = 0; size <= LEAVES_MAX; size++)
        audit_tree_root(c_leaves(leaves), size, roots[size]);
    hash_t proof[AUDIT_PROOF_HASHES_MAX + 1];
    size_t checked = 0, other_shapes = 0;
    for (uint64_t n = 1; n <= 40; n++)
        for (uint64_t m = 1; m <= n; m++) {
            size_t count = audit_consistency_proof(c_leaves(leaves), n, m, proof);
            char shape[AUDIT_PROOF_HASHES_MAX + 2];
            assert_true(consistency_shape(m, n, shape, sizeof shape));
            assert_int_equal(count, strlen(shape));
            assert_true(
                audit_consistency_verify(m, n, roots[m], roots[n], c_leaves(proof), count));
            checked++;
            consistency_corruptions(m, n, roots[m], roots[n], proof, count);
            const uint64_t olds[] = {m - 1, m, m + 1, m ^ 2, m / 2, m * 2, UINT64_MAX};
            const uint64_t news[] = {n - 1, n, n + 1, n * 2, n / 2, UINT64_MAX,
                                     AUDIT_TREE_SIZE_MAX + 1};
            for (size_t a = 0; a < sizeof olds / sizeof olds[0]; a++)
                for (size_t b = 0; b < sizeof news / sizeof news[0]; b++) {
                    if (olds[a] == m && news[b] == n) continue;
                    bool same = consistency_same_shape(m, n, olds[a], news[b]);
                    other_shapes += same;
                    assert_int_equal(audit_consistency_verify(olds[a], news[b], roots[m],
                                                              roots[n], c_leaves(proof), count),
                                     same);
                }
        }
    assert_int_equal(checked, 40 * 41 / 2);
    assert_true(other_shapes > 0);
    /* Equal sizes: only an empty proof and equal roots. */
    assert_true(audit_consistency_verify(5, 5, roots[5], roots[5], NULL, 0));
    assert_false(audit_consistency_verify(5, 5, roots[5], roots[4], NULL, 0));
    assert_false(audit_consistency_verify(5, 5, roots[5], roots[5], c_leaves(&roots[5]), 1));
    /* An empty old tree is refused, as is an old tree larger than the new. */
    assert_false(audit_consistency_verify(0, 0, roots[0], roots[0], NULL, 0));
    assert_false(audit_consistency_verify(0, 4, roots[0], roots[4], NULL, 0));
    assert_false(audit_consistency_verify(4, 3, roots[4], roots[3], c_leaves(proof), 1));
    assert_false(audit_consistency_verify(1, 2, roots[1], roots[2], c_leaves(proof),
                                          AUDIT_PROOF_HASHES_MAX + 1));
}

/* ---------------------------------------------------------------- frontiers */

static void assert_frontier_equal(const struct audit_frontier *a, const struct audit_frontier *b)
{
    assert_int_equal(a->size, b->size);
    assert_int_equal(a->count, b->count);
    assert_memory_equal(a->hashes, b->hashes, a->count * AUDIT_HASH_BYTES);
}

static void frontier_matches_tree(void **state)
{
    (void)state;
    enum { SIZES = 300 };
    static hash_t leaves[SIZES];
    leaves_make(leaves, SIZES);
    struct audit_frontier frontier, decoded;
    audit_frontier_init(&frontier);
    uint8_t encoded[AUDIT_FRONTIER_BYTES_MAX + 1];
    for (uint64_t size = 0; size <= SIZES; size++) {
        if (size > 0) audit_frontier_append(&frontier, leaves[size - 1]);
        assert_int_equal(frontier.size, size);
        assert_int_equal(frontier.count, (uint32_t)__builtin_popcountll(size));
        hash_t want, got;
        audit_tree_root(c_leaves(leaves), size, want);
        audit_frontier_root(&frontier, got);
        assert_memory_equal(got, want, AUDIT_HASH_BYTES);
        size_t length = audit_frontier_encode(&frontier, encoded, sizeof encoded);
        assert_int_equal(length, 8 + frontier.count * AUDIT_HASH_BYTES);
        assert_int_equal(audit_frontier_encode(&frontier, encoded, length - 1), 0);
        assert_int_equal(audit_frontier_encode(&frontier, encoded, length), length);
        for (int i = 0; i < 8; i++) assert_int_equal(encoded[i], (uint8_t)(size >> (56 - 8 * i)));
        assert_true(audit_frontier_decode(encoded, length, &decoded));
        assert_frontier_equal(&decoded, &frontier);
        audit_frontier_root(&decoded, got);
        assert_memory_equal(got, want, AUDIT_HASH_BYTES);
        /* Any other length is refused. */
        for (size_t other = 0; other <= sizeof encoded; other++)
            if (other != length) assert_false(audit_frontier_decode(encoded, other, &decoded));
    }
    /* Appending to a decoded frontier goes on as if nothing happened. */
    struct audit_frontier half;
    audit_frontier_init(&half);
    for (size_t i = 0; i < 123; i++) audit_frontier_append(&half, leaves[i]);
    size_t length = audit_frontier_encode(&half, encoded, sizeof encoded);
    assert_true(audit_frontier_decode(encoded, length, &decoded));
    for (size_t i = 123; i < SIZES; i++) audit_frontier_append(&decoded, leaves[i]);
    assert_frontier_equal(&decoded, &frontier);
}

static void frontier_decode_refuses(void **state)
{
    (void)state;
    uint8_t data[AUDIT_FRONTIER_BYTES_MAX + 8];
    memset(data, 0xab, sizeof data);
    struct audit_frontier f;
    assert_false(audit_frontier_decode(data, 0, &f));
    assert_false(audit_frontier_decode(NULL, 0, &f));
    /* size 5 (popcount 2) with 1 or 3 hashes */
    memset(data, 0, 8);
    data[7] = 5;
    assert_true(audit_frontier_decode(data, 8 + 2 * AUDIT_HASH_BYTES, &f));
    assert_false(audit_frontier_decode(data, 8 + 1 * AUDIT_HASH_BYTES, &f));
    assert_false(audit_frontier_decode(data, 8 + 3 * AUDIT_HASH_BYTES, &f));
    assert_int_equal(f.size, 0); /* a refused input leaves an empty frontier */
    /* size 0: exactly 8 bytes */
    data[7] = 0;
    assert_true(audit_frontier_decode(data, 8, &f));
    assert_false(audit_frontier_decode(data, 7, &f));
    assert_false(audit_frontier_decode(data, 8 + AUDIT_HASH_BYTES, &f));
    /* 2^63 − 1: 63 hashes, the largest accepted */
    memset(data, 0xff, 8);
    data[0] = 0x7f;
    assert_true(audit_frontier_decode(data, 8 + 63 * AUDIT_HASH_BYTES, &f));
    assert_int_equal(f.count, 63);
    hash_t root;
    audit_frontier_root(&f, root);
    /* 2^63 (1 hash) and 2^64 − 1 (64 hashes) are not tree sizes here */
    memset(data, 0, 8);
    data[0] = 0x80;
    assert_false(audit_frontier_decode(data, 8 + AUDIT_HASH_BYTES, &f));
    memset(data, 0xff, 8);
    assert_false(audit_frontier_decode(data, 8 + 64 * AUDIT_HASH_BYTES, &f));
    assert_false(audit_frontier_decode(data, sizeof data, &f));
}

/* ---------------------------------------------------------------- base64 */

static void base64_strict(void **state)
{
    (void)state;
    uint8_t data[40], back[40];
    char text[64];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 37 + 11);
    for (size_t size = 0; size <= sizeof data; size++) {
        assert_true(audit_base64_encode(data, size, text, sizeof text));
        assert_int_equal(strlen(text), (size + 2) / 3 * 4);
        assert_false(audit_base64_encode(data, size, text, strlen(text)));
        size_t decoded = 99;
        assert_true(audit_base64_decode(text, back, sizeof back, &decoded));
        assert_int_equal(decoded, size);
        assert_memory_equal(back, data, size);
        if (size > 0) assert_false(audit_base64_decode(text, back, size - 1, &decoded));
    }
    size_t decoded;
    const char *bad[] = {"AA", "AA=", "AAA", "A===", "AB==", "AAB=", "AA==AA==", "AA ==", " AAA",
                         "AA-_", "AAAA\n", "====", "AAAA=", "AAA*"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(audit_base64_decode(bad[i], back, sizeof back, &decoded));
    assert_true(audit_base64_decode("", back, sizeof back, &decoded));
    assert_int_equal(decoded, 0);
    assert_true(audit_base64_decode("AA==", back, sizeof back, &decoded));
    assert_int_equal(decoded, 1);
    assert_true(audit_base64_decode_span("AAAA!", 4, back, sizeof back, &decoded));
    assert_int_equal(decoded, 3);
}

/* ---------------------------------------------------------------- keys */

/* golang.org/x/mod/sumdb/note's example key and signed note. */
#define GO_SIGNER "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define GO_VERIFIER "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define GO_TEXT                                                                                    \
    "If you think cryptography is the answer to your problem,\n"                                   \
    "then you don't know what your problem is.\n"
#define GO_SIGNATURE                                                                               \
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
/* The verifier key of sum.golang.org, as compiled into the go command. */
#define SUMDB_VERIFIER "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"

static void expect_signer_refused(const char *text)
{
    struct audit_signer s;
    char message[MESSAGE_BYTES] = "";
    if (audit_signer_parse(text, &s, message, sizeof message)) fail_msg("accepted: %s", text);
    if (message[0] == '\0') fail_msg("no message for: %s", text);
    static const uint8_t zero[sizeof s] = {0};
    assert_memory_equal(&s, zero, sizeof s); /* nothing secret left behind */
}

static void expect_verifier_refused(const char *text)
{
    struct audit_verifier v;
    char message[MESSAGE_BYTES] = "";
    if (audit_verifier_parse(text, &v, message, sizeof message)) fail_msg("accepted: %s", text);
    if (message[0] == '\0') fail_msg("no message for: %s", text);
}

static void keys_known_answers(void **state)
{
    (void)state;
    struct audit_signer s;
    struct audit_verifier v, parsed;
    char message[MESSAGE_BYTES] = "", text[AUDIT_KEY_TEXT_BYTES_MAX + 1];
    assert_true(audit_signer_parse(GO_SIGNER, &s, message, sizeof message));
    assert_string_equal(s.name, "PeterNeumann");
    static const uint8_t id[4] = {0xc7, 0x4f, 0x20, 0xa3};
    assert_memory_equal(s.key_id, id, 4);
    assert_true(audit_signer_format(&s, text, sizeof text));
    assert_string_equal(text, GO_SIGNER);
    audit_verifier_of(&s, &v);
    assert_true(audit_verifier_format(&v, text, sizeof text));
    assert_string_equal(text, GO_VERIFIER);
    assert_true(audit_verifier_parse(GO_VERIFIER, &parsed, message, sizeof message));
    assert_memory_equal(&parsed, &v, sizeof v);
    /* The signature line of the example note, byte for byte. */
    uint8_t blob[AUDIT_KEY_ID_BYTES + AUDIT_SIGNATURE_BYTES];
    memcpy(blob, s.key_id, AUDIT_KEY_ID_BYTES);
    crypto_sign_ed25519_detached(blob + AUDIT_KEY_ID_BYTES, NULL, (const uint8_t *)GO_TEXT,
                                 strlen(GO_TEXT), s.secret_key);
    char line[128];
    assert_true(audit_base64_encode(blob, sizeof blob, line, sizeof line));
    assert_string_equal(line, GO_SIGNATURE);
    /* Other published verifier keys: the C2SP signed-note example and sum.golang.org. */
    assert_true(audit_verifier_parse("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
                                     &parsed, message, sizeof message));
    assert_string_equal(parsed.name, "example.com/foo");
    assert_true(audit_verifier_parse(SUMDB_VERIFIER, &parsed, message, sizeof message));
    assert_string_equal(parsed.name, "sum.golang.org");
    assert_true(audit_verifier_format(&parsed, text, sizeof text));
    assert_string_equal(text, SUMDB_VERIFIER);
}

static void keys_round_trip(void **state)
{
    (void)state;
    const char *names[] = {"a", "concord.example/mission-log", "witness-1", "x~!@#$%^&*()_=/"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        struct audit_signer s, s2;
        struct audit_verifier v, v2;
        char text[AUDIT_KEY_TEXT_BYTES_MAX + 1], message[MESSAGE_BYTES];
        assert_true(audit_signer_generate(names[i], &s));
        assert_string_equal(s.name, names[i]);
        assert_true(audit_signer_format(&s, text, sizeof text));
        assert_true(audit_signer_parse(text, &s2, message, sizeof message));
        assert_memory_equal(&s2, &s, sizeof s);
        size_t length = strlen(text);
        assert_false(audit_signer_format(&s, text, length)); /* no room for the NUL */
        assert_true(audit_signer_format(&s, text, length + 1));
        audit_verifier_of(&s, &v);
        assert_true(audit_verifier_format(&v, text, sizeof text));
        assert_true(audit_verifier_parse(text, &v2, message, sizeof message));
        assert_memory_equal(&v2, &v, sizeof v);
        assert_false(audit_verifier_format(&v, text, strlen(text)));
    }
    /* The longest name fits the key text limit. */
    char longest[AUDIT_NAME_BYTES_MAX + 1];
    memset(longest, 'n', AUDIT_NAME_BYTES_MAX);
    longest[AUDIT_NAME_BYTES_MAX] = '\0';
    struct audit_signer s, s2;
    char text[AUDIT_KEY_TEXT_BYTES_MAX + 1], message[MESSAGE_BYTES];
    assert_true(audit_signer_generate(longest, &s));
    assert_true(audit_signer_format(&s, text, sizeof text));
    assert_true(audit_signer_parse(text, &s2, message, sizeof message));
    assert_false(audit_signer_generate("", &s));
    assert_false(audit_signer_generate("two words", &s));
}

static void key_names(void **state)
{
    (void)state;
    assert_true(audit_key_name_valid("sum.golang.org"));
    assert_true(audit_key_name_valid("~"));
    const char *bad[] = {"", "a b", "a+b", "tab\there", "new\nline", "caf\xc3\xa9", "del\x7f"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) assert_false(audit_key_name_valid(bad[i]));
    char name[AUDIT_NAME_BYTES_MAX + 2];
    memset(name, 'a', sizeof name);
    name[AUDIT_NAME_BYTES_MAX] = '\0';
    assert_true(audit_key_name_valid(name));
    name[AUDIT_NAME_BYTES_MAX] = 'a';
    name[AUDIT_NAME_BYTES_MAX + 1] = '\0';
    assert_false(audit_key_name_valid(name));
}

/* The base64 of a key blob (algorithm and key) with another algorithm byte, cut or lengthened to size bytes. */
static void blob_with_algorithm(const char *base64, uint8_t algorithm, size_t size, char *out,
                                size_t capacity)
{
    uint8_t blob[40] = {0};
    size_t decoded = 0;
    assert_true(audit_base64_decode(base64, blob, sizeof blob, &decoded));
    assert_int_equal(decoded, 33);
    assert_true(size <= sizeof blob);
    blob[0] = algorithm;
    assert_true(audit_base64_encode(blob, size, out, capacity));
}

static void keys_refused(void **state)
{
    (void)state;
    const char *signers[] = {
        "",
        "PRIVATE+KEY+",
        "PRIVATE+KEY",
        "PUBLIC+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "private+key+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann",
        "PRIVATE+KEY+PeterNeumann+c74f20a3",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+",
        "PRIVATE+KEY++c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+Peter Neumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+c74f20a+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+c74f20a3a+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+c74f20g3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+C74F20A3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+0x4f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumanm+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDF",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz=",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDF!",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz ",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFzAAAA",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHK",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        GO_VERIFIER,
    };
    for (size_t i = 0; i < sizeof signers / sizeof signers[0]; i++) expect_signer_refused(signers[i]);
    const char *verifiers[] = {
        "",
        "PeterNeumann",
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a3+",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter\tNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20aq+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a2+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumanN+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TX",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n",
        "PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        GO_SIGNER,
    };
    for (size_t i = 0; i < sizeof verifiers / sizeof verifiers[0]; i++)
        expect_verifier_refused(verifiers[i]);
    /* Another algorithm byte, and a key of 32 or 34 bytes after it. */
    char blob[64], text[AUDIT_KEY_TEXT_BYTES_MAX + 1];
    blob_with_algorithm("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", 0x02, 33, blob, sizeof blob);
    snprintf(text, sizeof text, "PeterNeumann+c74f20a3+%s", blob);
    expect_verifier_refused(text);
    blob_with_algorithm("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", 0x00, 33, blob, sizeof blob);
    snprintf(text, sizeof text, "PRIVATE+KEY+PeterNeumann+c74f20a3+%s", blob);
    expect_signer_refused(text);
    for (size_t size = 32; size <= 34; size += 2) {
        blob_with_algorithm("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", 0x01, size, blob,
                            sizeof blob);
        snprintf(text, sizeof text, "PeterNeumann+c74f20a3+%s", blob);
        expect_verifier_refused(text);
    }
    /* Longer than AUDIT_KEY_TEXT_BYTES_MAX, and a name over AUDIT_NAME_BYTES_MAX. */
    char name[AUDIT_NAME_BYTES_MAX + 2];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    snprintf(text, sizeof text, "%s+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", name);
    expect_verifier_refused(text);
    char huge[AUDIT_KEY_TEXT_BYTES_MAX + 16];
    memset(huge, 'A', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    memcpy(huge, "PeterNeumann+c74f20a3+", 22);
    expect_verifier_refused(huge);
    memcpy(huge, "PRIVATE+KEY+PeterNeumann+c74f20a3+", 34);
    expect_signer_refused(huge);
    /* No message buffer: still refused, nothing written. */
    struct audit_verifier v;
    assert_false(audit_verifier_parse("nonsense", &v, NULL, 0));
}

/* ---------------------------------------------------------------- checkpoints */

/* Signs body as a signed note would, with s, and appends extra signature lines. */
static size_t note_make(const struct audit_signer *s, const char *body, const char *extra,
                        char *out, size_t capacity)
{
    uint8_t blob[AUDIT_KEY_ID_BYTES + AUDIT_SIGNATURE_BYTES];
    memcpy(blob, s->key_id, AUDIT_KEY_ID_BYTES);
    crypto_sign_ed25519_detached(blob + AUDIT_KEY_ID_BYTES, NULL, (const uint8_t *)body,
                                 strlen(body), s->secret_key);
    char signature[128];
    assert_true(audit_base64_encode(blob, sizeof blob, signature, sizeof signature));
    int n = snprintf(out, capacity, "%s\n\xe2\x80\x94 %s %s\n%s", body, s->name, signature, extra);
    assert_true(n > 0 && (size_t)n < capacity);
    return (size_t)n;
}

/* A well-formed signature line by a key nobody here knows. */
static void unknown_line(const char *name, uint8_t fill, size_t bytes, char *out, size_t capacity)
{
    uint8_t blob[200];
    assert_true(bytes <= sizeof blob);
    memset(blob, fill, bytes);
    char base64[300];
    assert_true(audit_base64_encode(blob, bytes, base64, sizeof base64));
    snprintf(out, capacity, "\xe2\x80\x94 %s %s\n", name, base64);
}

/* Opening fails with a message; returns the message. */
static const char *expect_open_fails(const char *note, size_t size, const struct audit_verifier *v)
{
    static char message[MESSAGE_BYTES];
    struct audit_checkpoint c;
    memset(message, 0, sizeof message);
    if (audit_checkpoint_open(note, size, v, &c, message, sizeof message))
        fail_msg("opened: %.*s", (int)size, note);
    if (message[0] == '\0') fail_msg("no message for: %.*s", (int)size, note);
    return message;
}

static const char *expect_parse_fails(const char *note, size_t size)
{
    static char message[MESSAGE_BYTES];
    struct audit_checkpoint c;
    memset(message, 0, sizeof message);
    if (audit_checkpoint_parse(note, size, &c, message, sizeof message))
        fail_msg("parsed: %.*s", (int)size, note);
    if (message[0] == '\0') fail_msg("no message for: %.*s", (int)size, note);
    return message;
}

static void expect_message_names_line(const char *message, int line)
{
    char want[32];
    snprintf(want, sizeof want, "line %d:", line);
    if (strstr(message, want) == NULL) fail_msg("\"%s\" does not name %s", message, want);
}

static void checkpoints_known_answers(void **state)
{
    (void)state;
    /* Signed tree heads of the Go checksum database (from transparency-dev/formats' tests and
     * a Go client's fixture). */
    static const char first[] =
        "go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n\n"
        "\xe2\x80\x94 sum.golang.org "
        "Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n";
    static const char second[] =
        "go.sum database tree\n65209736\n5+uGFjx6xBZG8ip1+wi77v+grwbhhukIrxEUS8PXvRo=\n\n"
        "\xe2\x80\x94 sum.golang.org "
        "Az3grnbssgK7ubgFX36gVETtNv0U23qxyAhAMai2QUfeGa3nB/akvkMdlUErfcZz7l/R3cVtYspg3dxXABkGZZKdsQ8=\n";
    struct audit_verifier v;
    struct audit_checkpoint c;
    char message[MESSAGE_BYTES] = "";
    assert_true(audit_verifier_parse(SUMDB_VERIFIER, &v, message, sizeof message));
    if (!audit_checkpoint_open(first, strlen(first), &v, &c, message, sizeof message))
        fail_msg("%s", message);
    assert_string_equal(c.origin, "go.sum database tree");
    assert_int_equal(c.size, 6476701);
    char root[64];
    assert_true(audit_base64_encode(c.root, AUDIT_HASH_BYTES, root, sizeof root));
    assert_string_equal(root, "mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=");
    if (!audit_checkpoint_open(second, strlen(second), &v, &c, message, sizeof message))
        fail_msg("%s", message);
    assert_int_equal(c.size, 65209736);
    /* The first's signature does not cover the second's body. */
    char swapped[512];
    const char *signature = strstr(first, "\n\n");
    snprintf(swapped, sizeof swapped, "%.*s%s", (int)(strstr(second, "\n\n") - second), second,
             signature);
    expect_open_fails(swapped, strlen(swapped), &v);
}

struct fixture {
    struct audit_signer signer;
    struct audit_verifier verifier;
    struct audit_checkpoint checkpoint;
    char note[AUDIT_NOTE_BYTES_MAX + 1];
    size_t length;
};

static void fixture_make(struct fixture *f)
{
    memset(f, 0, sizeof *f);
    assert_true(audit_signer_generate("concord.example/log", &f->signer));
    audit_verifier_of(&f->signer, &f->verifier);
    snprintf(f->checkpoint.origin, sizeof f->checkpoint.origin, "concord.example/log");
    f->checkpoint.size = 1234567;
    for (size_t i = 0; i < AUDIT_HASH_BYTES; i++) f->checkpoint.root[i] = (uint8_t)(i * 7);
    f->length = audit_checkpoint_sign(&f->signer, &f->checkpoint, f->note, sizeof f->note);
    assert_true(f->length > 0);
    assert_int_equal(strlen(f->note), f->length);
}

static void assert_checkpoint_equal(const struct audit_checkpoint *a,
                                    const struct audit_checkpoint *b)
{
    assert_string_equal(a->origin, b->origin);
    assert_int_equal(a->size, b->size);
    assert_memory_equal(a->root, b->root, AUDIT_HASH_BYTES);
}

static void checkpoints_round_trip(void **state)
{
    (void)state;
    static struct fixture f;
    fixture_make(&f);
    char root[64];
    assert_true(audit_base64_encode(f.checkpoint.root, AUDIT_HASH_BYTES, root, sizeof root));
    char body[256];
    snprintf(body, sizeof body, "concord.example/log\n1234567\n%s\n\n\xe2\x80\x94 concord.example/log ",
             root);
    assert_memory_equal(f.note, body, strlen(body));
    assert_int_equal(f.note[f.length - 1], '\n');
    struct audit_checkpoint c;
    char message[MESSAGE_BYTES] = "";
    if (!audit_checkpoint_open(f.note, f.length, &f.verifier, &c, message, sizeof message))
        fail_msg("%s", message);
    assert_checkpoint_equal(&c, &f.checkpoint);
    assert_true(audit_checkpoint_parse(f.note, f.length, &c, message, sizeof message));
    assert_checkpoint_equal(&c, &f.checkpoint);
    /* Sizes at the edges; an origin that is not a key name. */
    const uint64_t sizes[] = {0, 1, 9, 10, AUDIT_TREE_SIZE_MAX};
    snprintf(f.checkpoint.origin, sizeof f.checkpoint.origin, "Mission log \xe2\x80\x94 caf\xc3\xa9");
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        f.checkpoint.size = sizes[i];
        size_t length = audit_checkpoint_sign(&f.signer, &f.checkpoint, f.note, sizeof f.note);
        assert_true(length > 0);
        assert_true(audit_checkpoint_open(f.note, length, &f.verifier, &c, message, sizeof message));
        assert_checkpoint_equal(&c, &f.checkpoint);
        /* Short of room at every capacity: 0, and an empty string when there is room for one. */
        for (size_t capacity = 0; capacity <= length; capacity++) {
            char out[AUDIT_NOTE_BYTES_MAX];
            memset(out, 'x', sizeof out);
            assert_int_equal(audit_checkpoint_sign(&f.signer, &f.checkpoint, out, capacity), 0);
            if (capacity > 0) assert_int_equal(out[0], '\0');
        }
    }
    /* What cannot be signed. */
    f.checkpoint.size = AUDIT_TREE_SIZE_MAX + 1;
    assert_int_equal(audit_checkpoint_sign(&f.signer, &f.checkpoint, f.note, sizeof f.note), 0);
    f.checkpoint.size = 1;
    const char *origins[] = {"", "two\nlines", "tab\t", "bad \xff utf-8"};
    for (size_t i = 0; i < sizeof origins / sizeof origins[0]; i++) {
        snprintf(f.checkpoint.origin, sizeof f.checkpoint.origin, "%s", origins[i]);
        assert_int_equal(audit_checkpoint_sign(&f.signer, &f.checkpoint, f.note, sizeof f.note), 0);
    }
    memset(f.checkpoint.origin, 'o', sizeof f.checkpoint.origin); /* no NUL: 129 bytes */
    assert_int_equal(audit_checkpoint_sign(&f.signer, &f.checkpoint, f.note, sizeof f.note), 0);
    f.checkpoint.origin[AUDIT_NAME_BYTES_MAX] = '\0';
    assert_true(audit_checkpoint_sign(&f.signer, &f.checkpoint, f.note, sizeof f.note) > 0);
}

static void checkpoints_other_keys(void **state)
{
    (void)state;
    static struct fixture f;
    fixture_make(&f);
    /* Another key under the same name (another id), another name. */
    struct audit_signer other;
    struct audit_verifier other_v;
    assert_true(audit_signer_generate(f.signer.name, &other));
    audit_verifier_of(&other, &other_v);
    const char *m = expect_open_fails(f.note, f.length, &other_v);
    assert_non_null(strstr(m, "no signature by"));
    assert_true(audit_signer_generate("witness.example", &other));
    audit_verifier_of(&other, &other_v);
    expect_open_fails(f.note, f.length, &other_v);
    /* The right name and id with another public key: the signature does not verify. */
    struct audit_verifier forged = f.verifier;
    memcpy(forged.public_key, other.public_key, AUDIT_PUBLIC_KEY_BYTES);
    m = expect_open_fails(f.note, f.length, &forged);
    expect_message_names_line(m, 5);
    /* Cosigned: the witness's line, before or after, and unknown lines, are skipped. */
    char body[256], extra[1024], note[AUDIT_NOTE_BYTES_MAX + 1], line[512];
    snprintf(body, sizeof body, "%.*s", (int)(strstr(f.note, "\n\n") + 1 - f.note), f.note);
    unknown_line("witness.example", 0x5a, 72, extra, sizeof extra);
    size_t length = note_make(&f.signer, body, extra, note, sizeof note);
    struct audit_checkpoint c;
    char message[MESSAGE_BYTES];
    assert_true(audit_checkpoint_open(note, length, &f.verifier, &c, message, sizeof message));
    assert_checkpoint_equal(&c, &f.checkpoint);
    assert_true(audit_checkpoint_open(note, length, &other_v, &c, message, sizeof message) == false);
    length = note_make(&other, body, strstr(f.note, "\n\n") + 2, note, sizeof note);
    assert_true(audit_checkpoint_open(note, length, &f.verifier, &c, message, sizeof message));
    assert_true(audit_checkpoint_open(note, length, &other_v, &c, message, sizeof message));
    /* Unknown keys: the same name with another id, odd names, short and long signatures. */
    extra[0] = '\0';
    unknown_line(f.signer.name, 0x00, 68, line, sizeof line);
    strcat(extra, line);
    unknown_line("caf\xc3\xa9", 0x11, 5, line, sizeof line);
    strcat(extra, line);
    unknown_line("x", 0x22, 200, line, sizeof line);
    strcat(extra, line);
    length = note_make(&f.signer, body, extra, note, sizeof note);
    assert_true(audit_checkpoint_open(note, length, &f.verifier, &c, message, sizeof message));
    /* A second line by the expected key that does not verify refuses the note. */
    char bad[512];
    snprintf(bad, sizeof bad, "%s", strstr(f.note, "\n\n") + 2);
    char *last = bad + strlen(bad) - 5; /* a whole sextet of the signature's last group */
    *last = *last == 'A' ? 'B' : 'A';
    length = note_make(&f.signer, body, bad, note, sizeof note);
    m = expect_open_fails(note, length, &f.verifier);
    expect_message_names_line(m, 6);
    assert_non_null(strstr(m, "does not verify"));
    /* A line by the expected key whose signature is not 64 bytes. */
    unknown_line("concord.example/log", 0, 60, line, sizeof line);
    char *base64 = strrchr(line, ' ') + 1;
    uint8_t blob[60] = {0};
    memcpy(blob, f.signer.key_id, AUDIT_KEY_ID_BYTES);
    assert_true(audit_base64_encode(blob, sizeof blob, base64, 100));
    strcat(line, "\n");
    length = note_make(&f.signer, body, line, note, sizeof note);
    m = expect_open_fails(note, length, &f.verifier);
    expect_message_names_line(m, 6);
    /* Parsing alone does not care who signed. */
    assert_true(audit_checkpoint_parse(note, length, &c, message, sizeof message));
    assert_checkpoint_equal(&c, &f.checkpoint);
}

static void checkpoints_tampered(void **state)
{
    (void)state;
    static struct fixture f;
    fixture_make(&f);
    char note[AUDIT_NOTE_BYTES_MAX + 1];
    /* Any one byte changed, anywhere. */
    for (size_t i = 0; i < f.length; i++)
        for (unsigned flip = 1; flip < 0x100; flip <<= 1) {
            memcpy(note, f.note, f.length);
            note[i] = (char)(note[i] ^ (char)flip);
            expect_open_fails(note, f.length, &f.verifier);
        }
    /* Cut at every byte; one byte more. */
    for (size_t size = 0; size < f.length; size++) expect_open_fails(f.note, size, &f.verifier);
    memcpy(note, f.note, f.length);
    note[f.length] = '\n';
    expect_open_fails(note, f.length + 1, &f.verifier);
    note[f.length] = 'x';
    expect_open_fails(note, f.length + 1, &f.verifier);
    /* Without the signature line; without the blank line. */
    size_t body_length = (size_t)(strstr(f.note, "\n\n") + 1 - f.note);
    expect_open_fails(f.note, body_length + 1, &f.verifier);
    expect_parse_fails(f.note, body_length + 1);
    memcpy(note, f.note, body_length);
    memcpy(note + body_length, f.note + body_length + 1, f.length - body_length - 1);
    expect_open_fails(note, f.length - 1, &f.verifier);
    expect_parse_fails(note, f.length - 1);
    /* Another blank line before the signatures, or between them. */
    memcpy(note, f.note, body_length);
    note[body_length] = '\n';
    memcpy(note + body_length + 1, f.note + body_length, f.length - body_length);
    expect_parse_fails(note, f.length + 1);
    memcpy(note, f.note, f.length);
    memcpy(note + f.length, "\n", 1);
    memcpy(note + f.length + 1, f.note + body_length + 1, f.length - body_length - 1);
    expect_parse_fails(note, f.length + 1 + f.length - body_length - 1);
}

/* Bodies that are signed correctly but are not checkpoints, and the line each error names. */
static void checkpoints_malformed(void **state)
{
    (void)state;
    static struct fixture f;
    fixture_make(&f);
    const char *root = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    char origin_129[AUDIT_NAME_BYTES_MAX + 2];
    memset(origin_129, 'o', sizeof origin_129 - 1);
    origin_129[sizeof origin_129 - 1] = '\0';
    struct {
        const char *origin, *size, *root, *more;
        int line; /* the line the message names, 0 when none */
    } cases[] = {
        {"log", "01", root, "", 2},
        {"log", "00", root, "", 2},
        {"log", "-1", root, "", 2},
        {"log", "+1", root, "", 2},
        {"log", " 1", root, "", 2},
        {"log", "1 ", root, "", 2},
        {"log", "0x10", root, "", 2},
        {"log", "18446744073709551616", root, "", 2},
        {"log", "18446744073709551615", root, "", 2},
        {"log", "9223372036854775808", root, "", 2},
        {"log", "99999999999999999999", root, "", 2},
        {"log", "1e3", root, "", 2},
        {"log", "", root, "", 2},
        {"log", "5", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==", "", 3},
        {"log", "5", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gIQ==", "", 3},
        {"log", "5", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "", 3},
        {"log", "5", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= ", "", 3},
        {"log", "5", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=", "", 3},
        {"log", "5", "", "", 3},
        {"", "5", root, "", 1},
        {origin_129, "5", root, "", 1},
        {"log", "5", root, "\n", 4},
        {"log", "5", root, "ext\n\nmore\n", 5},
        {"log", "5", root, "\r\n", 4},
        {"log", "5", root, "tab\there\n", 4},
        {"log", "5", root, "nul\x01\n", 4},
        {"log", "5", root, "c1 \xc2\x85\n", 4},
        {"log", "5", root, "overlong \xc0\xaf\n", 4},
        {"log", "5", root, "surrogate \xed\xa0\x80\n", 4},
        {"log", "5", root, "cut \xe2\x80\n", 4},
    };
    char body[512], note[AUDIT_NOTE_BYTES_MAX + 1];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(body, sizeof body, "%s\n%s\n%s\n%s", cases[i].origin, cases[i].size,
                 cases[i].root, cases[i].more);
        size_t length = note_make(&f.signer, body, "", note, sizeof note);
        const char *m = expect_open_fails(note, length, &f.verifier);
        if (cases[i].line > 0) expect_message_names_line(m, cases[i].line);
        m = expect_parse_fails(note, length);
        if (cases[i].line > 0) expect_message_names_line(m, cases[i].line);
    }
    /* Too few lines. */
    const char *short_bodies[] = {"log\n", "log\n5\n"};
    for (size_t i = 0; i < 2; i++) {
        size_t length = note_make(&f.signer, short_bodies[i], "", note, sizeof note);
        expect_open_fails(note, length, &f.verifier);
    }
    /* Extension lines are allowed; the largest size; a size of 0. */
    struct audit_checkpoint c;
    char message[MESSAGE_BYTES];
    const char *good[] = {"9223372036854775807", "0"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(body, sizeof body, "log\n%s\n%s\nextension one\n\xe2\x80\x94 two\n", good[i], root);
        size_t length = note_make(&f.signer, body, "", note, sizeof note);
        if (!audit_checkpoint_open(note, length, &f.verifier, &c, message, sizeof message))
            fail_msg("%s", message);
        assert_string_equal(c.origin, "log");
        assert_int_equal(c.size, i == 0 ? AUDIT_TREE_SIZE_MAX : 0);
    }
    /* Malformed signature lines, even by unknown keys, refuse the note. */
    const char *lines[] = {
        "- witness AAAAAAAA\n",         "\xe2\x80\x94witness AAAAAAAA\n",
        "\xe2\x80\x94  AAAAAAAA\n",     "\xe2\x80\x94 witness\n",
        "\xe2\x80\x94 witness \n",      "\xe2\x80\x94 witness AAAA\n",
        "\xe2\x80\x94 wit+ness AAAAAAAA\n", "\xe2\x80\x94 witness AAAAAAA\n",
        "\xe2\x80\x94 witness AAAAAAAA \n", "\xe2\x80\x94 witness  AAAAAAAA\n",
        "\xe2\x80\x94 witness AAAAAAAA",
    };
    snprintf(body, sizeof body, "log\n5\n%s\n", root);
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        size_t length = note_make(&f.signer, body, lines[i], note, sizeof note);
        const char *m = expect_open_fails(note, length, &f.verifier);
        if (strchr(lines[i], '\n') != NULL) expect_message_names_line(m, 6);
        expect_parse_fails(note, length);
    }
}

static void checkpoints_limits(void **state)
{
    (void)state;
    static struct fixture f;
    fixture_make(&f);
    const char *root = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    char body[AUDIT_NOTE_BYTES_MAX + 1];
    static char extra[AUDIT_NOTE_BYTES_MAX * 2], note[AUDIT_NOTE_BYTES_MAX * 3];
    struct audit_checkpoint c;
    char message[MESSAGE_BYTES];
    /* 100 signature lines in all are fine; 101 are not. */
    snprintf(body, sizeof body, "l\n5\n%s\n", root);
    extra[0] = '\0';
    for (int i = 0; i < 99; i++) strcat(extra, "\xe2\x80\x94 w AAAAAAA=\n");
    size_t length = note_make(&f.signer, body, extra, note, sizeof note);
    assert_true(length <= AUDIT_NOTE_BYTES_MAX);
    if (!audit_checkpoint_open(note, length, &f.verifier, &c, message, sizeof message))
        fail_msg("%s", message);
    strcat(extra, "\xe2\x80\x94 w AAAAAAA=\n");
    length = note_make(&f.signer, body, extra, note, sizeof note);
    assert_true(length <= AUDIT_NOTE_BYTES_MAX);
    expect_message_names_line(expect_open_fails(note, length, &f.verifier), 105);
    /* A note of exactly AUDIT_NOTE_BYTES_MAX bytes opens; one byte more does not. */
    snprintf(body, sizeof body, "l\n5\n%s\n", root);
    size_t signed_length = note_make(&f.signer, body, "", note, sizeof note);
    size_t room = AUDIT_NOTE_BYTES_MAX - signed_length; /* for "x…x\n" extension lines */
    size_t at = strlen(body);
    assert_true(room >= 2);
    while (room > 0) { /* lines of 100 bytes, and a last one of 2 … 101 */
        size_t n = room >= 102 ? 100 : room;
        memset(body + at, 'x', n - 1);
        body[at + n - 1] = '\n';
        at += n;
        room -= n;
    }
    body[at] = '\0';
    length = note_make(&f.signer, body, "", note, sizeof note);
    assert_int_equal(length, AUDIT_NOTE_BYTES_MAX);
    if (!audit_checkpoint_open(note, length, &f.verifier, &c, message, sizeof message))
        fail_msg("%s", message);
    body[at - 1] = 'x';
    body[at] = '\n';
    body[at + 1] = '\0';
    length = note_make(&f.signer, body, "", note, sizeof note);
    assert_int_equal(length, AUDIT_NOTE_BYTES_MAX + 1);
    expect_open_fails(note, length, &f.verifier);
    expect_parse_fails(note, length);
    /* No message buffer. */
    assert_false(audit_checkpoint_open("x", 1, &f.verifier, &c, NULL, 0));
    assert_false(audit_checkpoint_parse(NULL, 0, &c, NULL, 0));
    /* A one-byte message buffer still ends in a NUL. */
    message[0] = 'z';
    assert_false(audit_checkpoint_parse("x", 1, &c, message, 1));
    assert_int_equal(message[0], '\0');
}

static int setup(void **state)
{
    (void)state;
    return audit_init() && audit_init() ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_roots),
        cmocka_unit_test(known_proofs),
        cmocka_unit_test(inclusion_every_leaf),
        cmocka_unit_test(inclusion_largest_tree),
        cmocka_unit_test(consistency_every_pair),
        cmocka_unit_test(frontier_matches_tree),
        cmocka_unit_test(frontier_decode_refuses),
        cmocka_unit_test(base64_strict),
        cmocka_unit_test(key_names),
        cmocka_unit_test(keys_known_answers),
        cmocka_unit_test(keys_round_trip),
        cmocka_unit_test(keys_refused),
        cmocka_unit_test(checkpoints_known_answers),
        cmocka_unit_test(checkpoints_round_trip),
        cmocka_unit_test(checkpoints_other_keys),
        cmocka_unit_test(checkpoints_tampered),
        cmocka_unit_test(checkpoints_malformed),
        cmocka_unit_test(checkpoints_limits),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
