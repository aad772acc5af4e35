/*
 * strmap.h — a hash map from strings to 32-bit indexes.
 *
 * The ledger's in-memory view finds units, accounts and transfers by their
 * textual ids thousands of times per batch; entries live in arrays and this
 * map gives the index of each. Open addressing with linear probing, a stored
 * hash per slot to skip most string compares, capacity a power of two kept at
 * most 3/4 full, and deletion by backward shift (no tombstones), which the
 * ledger needs to undo a failed linked chain. Keys are not copied: the caller
 * keeps them alive as long as the map.
 */
#ifndef CONCORD_UTIL_STRMAP_H
#define CONCORD_UTIL_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STRMAP_ENTRIES_MAX (1u << 30)

struct strmap_slot {
    const char *key; /* NULL when empty */
    uint64_t hash;   /* full hash of key */
    uint32_t value;  /* index the caller stored */
};

struct strmap {
    struct strmap_slot *slots; /* capacity slots */
    size_t capacity;           /* 0 or a power of two */
    size_t count;              /* occupied slots */
};

void strmap_init(struct strmap *map);
void strmap_free(struct strmap *map);
void strmap_clear(struct strmap *map);
uint64_t strmap_hash(const char *key);
/* Finds key; stores its value in *value and returns true when present. */
bool strmap_get(const struct strmap *map, const char *key, uint32_t *value);
/* Inserts or replaces; returns false only when memory is exhausted or full. */
bool strmap_put(struct strmap *map, const char *key, uint32_t value);
/* Removes key if present; returns whether it was. */
bool strmap_remove(struct strmap *map, const char *key);

#endif
