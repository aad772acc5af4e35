/* arena.c — chained bump-allocation blocks (see arena.h). */
#include "util/arena.h"

#include <assert.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct arena_block {
    struct arena_block *next; /* older block */
    size_t size;              /* usable bytes in data */
    size_t used;              /* bytes handed out from data */
    alignas(max_align_t) unsigned char data[];
};

void arena_init(struct arena *arena)
{
    arena->head = NULL;
    arena->bytes_total = 0;
}

void arena_free(struct arena *arena)
{
    struct arena_block *b = arena->head;
    while (b != NULL) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    arena_init(arena);
}

void arena_reset(struct arena *arena)
{
    if (arena->head == NULL) return;
    /* Keep the largest-ever block only if it is the newest; simpler: keep head. */
    struct arena_block *keep = arena->head;
    struct arena_block *b = keep->next;
    while (b != NULL) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    keep->next = NULL;
    keep->used = 0;
    arena->bytes_total = 0;
}

void *arena_alloc(struct arena *arena, size_t size)
{
    const size_t align = alignof(max_align_t);
    if (size > SIZE_MAX / 2) return NULL;
    size_t rounded = (size + align - 1) & ~(align - 1);
    struct arena_block *b = arena->head;
    if (b == NULL || b->size - b->used < rounded) {
        size_t block = ARENA_BLOCK_BYTES_MIN;
        while (block < rounded) block *= 2;
        /* Grow blocks with the arena so huge batches use few blocks. */
        if (b != NULL && block < b->size * 2 && b->size < (64u << 20)) block = b->size * 2;
        struct arena_block *nb = malloc(sizeof *nb + block);
        if (nb == NULL) return NULL;
        nb->next = b;
        nb->size = block;
        nb->used = 0;
        arena->head = nb;
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += rounded;
    arena->bytes_total += rounded;
    assert(b->used <= b->size);
    return p;
}

char *arena_strndup(struct arena *arena, const char *s, size_t n)
{
    char *p = arena_alloc(arena, n + 1);
    if (p == NULL) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(struct arena *arena, const char *s)
{
    return arena_strndup(arena, s, strlen(s));
}
