/*
 * merkle.c — RFC 6962 / RFC 9162 Merkle trees: hashes, roots, proofs, frontiers.
 *
 * Hashes. A leaf hash is SHA-256(0x00 || data), a node hash
 * SHA-256(0x01 || left || right); both are computed with libsodium's
 * streaming SHA-256, so the prefix is never copied in front of the data.
 *
 * Roots. MTH(D[n]) splits n at k, the largest power of two below n: the
 * left subtree is perfect, the right one holds the rest. Unrolled, a tree of
 * n leaves is a run of perfect subtrees, one per bit set in n, largest
 * first, and its root is the fold of their roots from the right:
 * node(s0, node(s1, … node(s_{c−2}, s_{c−1}))). That run is the frontier, and
 * every root here is computed through one: append the leaves, then fold.
 * Appending works like binary addition. A leaf is a perfect subtree of
 * height 0; while the size's lowest bits are ones, the newest subtree and
 * the last frontier entry have the same height, so they merge into one of
 * the next height, exactly as a carry propagates. A frontier never holds
 * more than AUDIT_LEVELS_MAX entries, so a root of any range of leaves costs
 * one pass over them and 2 KiB of stack.
 *
 * Proofs. PATH(m, D[n]) and SUBPROOF(m, D[n], b) of RFC 6962 recurse down
 * one side of the split at each level and emit the root of the other side
 * after the deeper part of the proof. Here the descent is a loop that
 * records each other side as a range of leaves (first, count) and the proof
 * is written afterwards, deepest first. A range is at most half of the one
 * above it, and sizes stay below 2^63, so the descent has at most 63 steps;
 * the ranges it records are disjoint, so a proof costs one pass over the
 * leaves at most.
 *
 * Verification follows RFC 9162 2.1.3.2 (inclusion) and 2.1.4.2
 * (consistency) step for step, with fn and sn the indices of the last node
 * of the old and new tree at the current level. Those algorithms bound the
 * proof's length themselves (sn must reach 0 exactly when the proof ends);
 * the cases the RFC leaves to the caller are settled here: an index outside
 * the tree, sizes of 2^63 or more, an old size of 0 or above the new size,
 * and equal sizes, which are consistent only through an empty proof and
 * equal roots. Hashes are compared with sodium_memcmp.
 */
#include <assert.h>
#include <string.h>

#include <sodium.h>

#include "audit/audit.h"

_Static_assert(AUDIT_HASH_BYTES == crypto_hash_sha256_BYTES, "SHA-256 hashes");
_Static_assert(AUDIT_PROOF_HASHES_MAX >= AUDIT_LEVELS_MAX, "a proof has a hash per level");

#define LEAF_PREFIX 0x00
#define NODE_PREFIX 0x01

/* A range of leaves whose subtree root goes into a proof. */
struct range {
    uint64_t first; /* index of its first leaf */
    uint64_t count; /* leaves in it, ≥ 1 */
};

/* ---------------------------------------------------------------- hashes */

void audit_leaf_hash(const void *data, size_t size, uint8_t out[AUDIT_HASH_BYTES])
{
    assert(data != NULL || size == 0);
    assert(out != NULL);
    static const uint8_t prefix = LEAF_PREFIX;
    crypto_hash_sha256_state state;
    crypto_hash_sha256_init(&state);
    crypto_hash_sha256_update(&state, &prefix, 1);
    if (size > 0) crypto_hash_sha256_update(&state, data, size);
    crypto_hash_sha256_final(&state, out);
}

void audit_node_hash(const uint8_t left[AUDIT_HASH_BYTES], const uint8_t right[AUDIT_HASH_BYTES],
                     uint8_t out[AUDIT_HASH_BYTES])
{
    assert(left != NULL && right != NULL);
    assert(out != NULL);
    static const uint8_t prefix = NODE_PREFIX;
    crypto_hash_sha256_state state;
    crypto_hash_sha256_init(&state);
    crypto_hash_sha256_update(&state, &prefix, 1);
    crypto_hash_sha256_update(&state, left, AUDIT_HASH_BYTES);
    crypto_hash_sha256_update(&state, right, AUDIT_HASH_BYTES);
    crypto_hash_sha256_final(&state, out); /* out may be left or right: both are read by now */
}

/* ---------------------------------------------------------------- bits */

static uint32_t popcount64(uint64_t x)
{
    uint32_t count = 0;
    for (uint32_t bit = 0; bit < 64; bit++) count += (uint32_t)((x >> bit) & 1u);
    return count;
}

/* The largest power of two strictly below n (n ≥ 2): RFC 6962's k. */
static uint64_t split_point(uint64_t n)
{
    assert(n >= 2);
    uint64_t k = 1;
    while (k < n - k) k <<= 1; /* k < n/2 rounded up: doubling stays below n */
    assert(k < n && n <= 2 * k);
    return k;
}

/* ---------------------------------------------------------------- frontiers */

static bool frontier_valid(const struct audit_frontier *f)
{
    return f->size <= AUDIT_TREE_SIZE_MAX && f->count == popcount64(f->size);
}

void audit_frontier_init(struct audit_frontier *f)
{
    assert(f != NULL);
    memset(f, 0, sizeof *f);
}

void audit_frontier_append(struct audit_frontier *f, const uint8_t leaf[AUDIT_HASH_BYTES])
{
    assert(f != NULL && leaf != NULL);
    assert(frontier_valid(f));
    assert(f->size < AUDIT_TREE_SIZE_MAX);
    uint8_t carry[AUDIT_HASH_BYTES];
    memcpy(carry, leaf, AUDIT_HASH_BYTES);
    /* Each low one bit of size is a subtree as tall as the carry: merge it. */
    for (uint64_t rest = f->size; rest & 1u; rest >>= 1) {
        assert(f->count > 0);
        f->count--;
        audit_node_hash(f->hashes[f->count], carry, carry);
    }
    assert(f->count < AUDIT_LEVELS_MAX);
    memcpy(f->hashes[f->count], carry, AUDIT_HASH_BYTES);
    f->count++;
    f->size++;
    assert(frontier_valid(f));
}

void audit_frontier_root(const struct audit_frontier *f, uint8_t out[AUDIT_HASH_BYTES])
{
    assert(f != NULL && out != NULL);
    assert(frontier_valid(f));
    if (f->count == 0) {
        crypto_hash_sha256(out, NULL, 0);
        return;
    }
    uint8_t root[AUDIT_HASH_BYTES];
    memcpy(root, f->hashes[f->count - 1], AUDIT_HASH_BYTES);
    for (uint32_t i = f->count - 1; i > 0; i--) audit_node_hash(f->hashes[i - 1], root, root);
    memcpy(out, root, AUDIT_HASH_BYTES);
}

static void store_be64(uint8_t out[8], uint64_t value)
{
    for (int i = 7; i >= 0; i--, value >>= 8) out[i] = (uint8_t)(value & 0xffu);
}

static uint64_t load_be64(const uint8_t in[8])
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++) value = value << 8 | in[i];
    return value;
}

size_t audit_frontier_encode(const struct audit_frontier *f, uint8_t *out, size_t capacity)
{
    assert(f != NULL && (out != NULL || capacity == 0));
    assert(frontier_valid(f));
    size_t length = 8 + (size_t)f->count * AUDIT_HASH_BYTES;
    assert(length <= AUDIT_FRONTIER_BYTES_MAX);
    if (capacity < length) return 0;
    store_be64(out, f->size);
    if (f->count > 0) memcpy(out + 8, f->hashes, (size_t)f->count * AUDIT_HASH_BYTES);
    return length;
}

bool audit_frontier_decode(const uint8_t *data, size_t size, struct audit_frontier *f)
{
    assert(data != NULL || size == 0);
    assert(f != NULL);
    audit_frontier_init(f);
    if (size < 8 || size > AUDIT_FRONTIER_BYTES_MAX) return false;
    uint64_t tree_size = load_be64(data);
    if (tree_size > AUDIT_TREE_SIZE_MAX) return false;
    uint32_t count = popcount64(tree_size);
    if (size != 8 + (size_t)count * AUDIT_HASH_BYTES) return false;
    f->size = tree_size;
    f->count = count;
    if (count > 0) memcpy(f->hashes, data + 8, (size_t)count * AUDIT_HASH_BYTES);
    return frontier_valid(f);
}

/* ---------------------------------------------------------------- roots */

/* MTH(leaves[first .. first+count)). */
static void range_root(const uint8_t (*leaves)[AUDIT_HASH_BYTES], struct range range,
                       uint8_t out[AUDIT_HASH_BYTES])
{
    struct audit_frontier frontier;
    audit_frontier_init(&frontier);
    for (uint64_t i = 0; i < range.count; i++)
        audit_frontier_append(&frontier, leaves[range.first + i]);
    audit_frontier_root(&frontier, out);
}

void audit_tree_root(const uint8_t (*leaves)[AUDIT_HASH_BYTES], uint64_t size,
                     uint8_t out[AUDIT_HASH_BYTES])
{
    assert(leaves != NULL || size == 0);
    assert(size <= AUDIT_TREE_SIZE_MAX);
    assert(out != NULL);
    range_root(leaves, (struct range){.first = 0, .count = size}, out);
}

/* ---------------------------------------------------------------- proofs */

/* Writes the roots of ranges[count−1], …, ranges[0] into out: deepest first. */
static size_t proof_write(const uint8_t (*leaves)[AUDIT_HASH_BYTES], const struct range *ranges,
                          size_t count, uint8_t (*out)[AUDIT_HASH_BYTES])
{
    assert(count <= AUDIT_PROOF_HASHES_MAX);
    for (size_t i = 0; i < count; i++) range_root(leaves, ranges[count - 1 - i], out[i]);
    return count;
}

size_t audit_inclusion_proof(const uint8_t (*leaves)[AUDIT_HASH_BYTES], uint64_t size,
                             uint64_t index, uint8_t (*out)[AUDIT_HASH_BYTES])
{
    assert(leaves != NULL && out != NULL);
    assert(size <= AUDIT_TREE_SIZE_MAX);
    assert(index < size);
    struct range siblings[AUDIT_LEVELS_MAX];
    size_t depth = 0;
    uint64_t first = 0, n = size, m = index; /* PATH(m, D[first .. first+n)) */
    while (n > 1) {
        assert(depth < AUDIT_LEVELS_MAX);
        uint64_t k = split_point(n);
        if (m < k) {
            siblings[depth++] = (struct range){.first = first + k, .count = n - k};
            n = k;
        } else {
            siblings[depth++] = (struct range){.first = first, .count = k};
            first += k;
            m -= k;
            n -= k;
        }
    }
    return proof_write(leaves, siblings, depth, out);
}

size_t audit_consistency_proof(const uint8_t (*leaves)[AUDIT_HASH_BYTES], uint64_t size,
                               uint64_t old_size, uint8_t (*out)[AUDIT_HASH_BYTES])
{
    assert(leaves != NULL && out != NULL);
    assert(size <= AUDIT_TREE_SIZE_MAX);
    assert(0 < old_size && old_size <= size);
    struct range parts[AUDIT_PROOF_HASHES_MAX];
    size_t depth = 0;
    bool whole_old_tree = true;                 /* SUBPROOF's b */
    uint64_t first = 0, n = size, m = old_size; /* SUBPROOF(m, D[first .. first+n), b) */
    while (m != n) {
        assert(depth < AUDIT_LEVELS_MAX);
        uint64_t k = split_point(n);
        if (m <= k) {
            parts[depth++] = (struct range){.first = first + k, .count = n - k};
            n = k;
        } else {
            parts[depth++] = (struct range){.first = first, .count = k};
            first += k;
            m -= k;
            n -= k;
            whole_old_tree = false;
        }
    }
    /* The old tree's own root is known to the verifier; any other subtree is not. */
    if (!whole_old_tree) {
        assert(depth < AUDIT_PROOF_HASHES_MAX);
        parts[depth++] = (struct range){.first = first, .count = n};
    }
    return proof_write(leaves, parts, depth, out);
}

/* ---------------------------------------------------------------- verification */

bool audit_inclusion_verify(uint64_t index, uint64_t size, const uint8_t leaf[AUDIT_HASH_BYTES],
                            const uint8_t (*proof)[AUDIT_HASH_BYTES], size_t count,
                            const uint8_t root[AUDIT_HASH_BYTES])
{
    assert(leaf != NULL && root != NULL);
    assert(proof != NULL || count == 0);
    if (index >= size || size > AUDIT_TREE_SIZE_MAX || count > AUDIT_PROOF_HASHES_MAX)
        return false;
    uint64_t fn = index, sn = size - 1;
    uint8_t r[AUDIT_HASH_BYTES];
    memcpy(r, leaf, AUDIT_HASH_BYTES);
    for (size_t i = 0; i < count; i++) {
        if (sn == 0) return false; /* the proof is longer than the path */
        if ((fn & 1u) || fn == sn) {
            audit_node_hash(proof[i], r, r);
            if (!(fn & 1u)) /* fn == sn: skip the levels where the last node has no sibling */
                while (!(fn & 1u) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            audit_node_hash(r, proof[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && sodium_memcmp(r, root, AUDIT_HASH_BYTES) == 0;
}

static bool power_of_two(uint64_t n)
{
    return n != 0 && (n & (n - 1)) == 0;
}

bool audit_consistency_verify(uint64_t old_size, uint64_t size,
                              const uint8_t old_root[AUDIT_HASH_BYTES],
                              const uint8_t root[AUDIT_HASH_BYTES],
                              const uint8_t (*proof)[AUDIT_HASH_BYTES], size_t count)
{
    assert(old_root != NULL && root != NULL);
    assert(proof != NULL || count == 0);
    if (old_size == 0 || old_size > size || size > AUDIT_TREE_SIZE_MAX) return false;
    if (count > AUDIT_PROOF_HASHES_MAX) return false;
    if (old_size == size)
        return count == 0 && sodium_memcmp(old_root, root, AUDIT_HASH_BYTES) == 0;
    if (count == 0) return false;
    /* A perfect old tree is a node of the new one: its root starts the proof. */
    size_t next = 0;
    uint8_t fr[AUDIT_HASH_BYTES], sr[AUDIT_HASH_BYTES];
    if (power_of_two(old_size)) {
        memcpy(fr, old_root, AUDIT_HASH_BYTES);
    } else {
        memcpy(fr, proof[0], AUDIT_HASH_BYTES);
        next = 1;
    }
    memcpy(sr, fr, AUDIT_HASH_BYTES);
    uint64_t fn = old_size - 1, sn = size - 1;
    while (fn & 1u) {
        fn >>= 1;
        sn >>= 1;
    }
    for (size_t i = next; i < count; i++) {
        if (sn == 0) return false; /* the proof is longer than the trees are tall */
        if ((fn & 1u) || fn == sn) {
            audit_node_hash(proof[i], fr, fr);
            audit_node_hash(proof[i], sr, sr);
            if (!(fn & 1u))
                while (!(fn & 1u) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            audit_node_hash(sr, proof[i], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && sodium_memcmp(fr, old_root, AUDIT_HASH_BYTES) == 0 &&
           sodium_memcmp(sr, root, AUDIT_HASH_BYTES) == 0;
}
