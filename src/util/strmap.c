/* strmap.c — linear-probing string map with backward-shift deletion (see strmap.h). */
#include "util/strmap.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void strmap_init(struct strmap *map)
{
    map->slots = NULL;
    map->capacity = 0;
    map->count = 0;
}

void strmap_free(struct strmap *map)
{
    free(map->slots);
    strmap_init(map);
}

void strmap_clear(struct strmap *map)
{
    if (map->slots != NULL) memset(map->slots, 0, map->capacity * sizeof *map->slots);
    map->count = 0;
}

uint64_t strmap_hash(const char *key)
{
    /* FNV-1a over the bytes, then a final avalanche so low bits mix well. */
    uint64_t h = 0xcbf29ce484222325u;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3u;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdu;
    h ^= h >> 33;
    return h;
}

static size_t slot_find(const struct strmap *map, const char *key, uint64_t hash, bool *found)
{
    size_t mask = map->capacity - 1;
    size_t i = (size_t)hash & mask;
    for (size_t probes = 0; probes < map->capacity; probes++) {
        const struct strmap_slot *s = &map->slots[i];
        if (s->key == NULL) {
            *found = false;
            return i;
        }
        if (s->hash == hash && strcmp(s->key, key) == 0) {
            *found = true;
            return i;
        }
        i = (i + 1) & mask;
    }
    assert(!"strmap full"); /* load factor keeps a free slot */
    *found = false;
    return 0;
}

bool strmap_get(const struct strmap *map, const char *key, uint32_t *value)
{
    if (map->count == 0) return false;
    bool found;
    size_t i = slot_find(map, key, strmap_hash(key), &found);
    if (found) *value = map->slots[i].value;
    return found;
}

static bool grow(struct strmap *map)
{
    size_t capacity = map->capacity == 0 ? 64 : map->capacity * 2;
    if (capacity / 4 * 3 > STRMAP_ENTRIES_MAX * 2u) return false;
    struct strmap_slot *slots = calloc(capacity, sizeof *slots);
    if (slots == NULL) return false;
    struct strmap old = *map;
    map->slots = slots;
    map->capacity = capacity;
    map->count = 0;
    for (size_t i = 0; i < old.capacity; i++) {
        if (old.slots[i].key == NULL) continue;
        bool found;
        size_t j = slot_find(map, old.slots[i].key, old.slots[i].hash, &found);
        assert(!found);
        map->slots[j] = old.slots[i];
        map->count++;
    }
    free(old.slots);
    return true;
}

bool strmap_put(struct strmap *map, const char *key, uint32_t value)
{
    if (map->count >= STRMAP_ENTRIES_MAX) return false;
    if ((map->count + 1) * 4 > map->capacity * 3 && !grow(map)) return false;
    uint64_t hash = strmap_hash(key);
    bool found;
    size_t i = slot_find(map, key, hash, &found);
    if (!found) {
        map->slots[i].key = key;
        map->slots[i].hash = hash;
        map->count++;
    }
    map->slots[i].value = value;
    return true;
}

bool strmap_remove(struct strmap *map, const char *key)
{
    if (map->count == 0) return false;
    bool found;
    size_t i = slot_find(map, key, strmap_hash(key), &found);
    if (!found) return false;
    size_t mask = map->capacity - 1;
    /* Backward shift: pull later members of the probe run into the hole. */
    size_t hole = i;
    size_t j = (i + 1) & mask;
    while (map->slots[j].key != NULL) {
        size_t home = (size_t)map->slots[j].hash & mask;
        /* Move j into the hole unless its home lies cyclically in (hole, j]. */
        bool home_between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!home_between) {
            map->slots[hole] = map->slots[j];
            hole = j;
        }
        j = (j + 1) & mask;
    }
    map->slots[hole].key = NULL;
    map->count--;
    return true;
}
