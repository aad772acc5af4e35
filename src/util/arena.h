/*
 * arena.h — bump allocation for memory that lives exactly as long as a batch.
 *
 * A batch decodes thousands of operations, each with a few short strings, and
 * frees them all at once when it is done. An arena turns those thousands of
 * malloc/free pairs into a handful of block allocations: cheaper, and nothing
 * can leak or be freed twice. Blocks are chained; nothing moves once placed,
 * so pointers into the arena stay valid until arena_free or arena_reset.
 */
#ifndef CONCORD_UTIL_ARENA_H
#define CONCORD_UTIL_ARENA_H

#include <stddef.h>

#define ARENA_BLOCK_BYTES_MIN (64u * 1024u)

struct arena_block;

struct arena {
    struct arena_block *head; /* block being filled; older blocks follow */
    size_t bytes_total;       /* bytes handed out since the last reset */
};

void arena_init(struct arena *arena);
void arena_free(struct arena *arena);
/* Forgets every allocation but keeps the first block for reuse. */
void arena_reset(struct arena *arena);
/* Returns size bytes aligned for any type, or NULL when memory is exhausted. */
void *arena_alloc(struct arena *arena, size_t size);
/* Copies n bytes of s and a terminating NUL; NULL when memory is exhausted. */
char *arena_strndup(struct arena *arena, const char *s, size_t n);
char *arena_strdup(struct arena *arena, const char *s);

#endif
