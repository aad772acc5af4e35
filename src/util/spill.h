/*
 * spill.h — an append-only store of byte strings, in memory up to a budget
 * and past it in an unlinked temporary file.
 *
 * An FTS import must hold every flow version of its pages before it records
 * the first: versions are recorded oldest first across all the pages. Each
 * is about 1.5 KB of canonical JSON; a million would be gigabytes in memory.
 * A spill keeps the first `budget` bytes in memory, which is every import of
 * an ordinary size, and writes the rest to a file in $TMPDIR (else /tmp) for
 * the operating system to cache or write out. The file is unlinked as soon
 * as it is made, so nothing is left behind, whatever ends the process.
 */
#ifndef CONCORD_UTIL_SPILL_H
#define CONCORD_UTIL_SPILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct spill {
    size_t budget;   /* bytes kept in memory; the rest go to the file */
    char *memory;    /* [0, held): the first strings */
    size_t held, capacity;
    FILE *file;      /* NULL until the budget is spent; then every later string */
    int64_t size;    /* bytes put in all */
    bool unflushed;  /* puts not yet handed to the kernel: a get flushes first */
    bool failed;     /* a write to the file failed: every later put fails too */
};

/* Where a string was put. */
struct spill_ref {
    int64_t offset;
    size_t length;
};

void spill_init(struct spill *s, size_t budget);
/* Lets go of the memory, and closes (so removes) the file. */
void spill_free(struct spill *s);
/* Appends n bytes; false (errno says why) when memory runs out or the file fails. */
bool spill_put(struct spill *s, const void *data, size_t n, struct spill_ref *ref);
/* Copies what ref names into out (ref->length bytes); false (errno) when it cannot. */
bool spill_get(struct spill *s, struct spill_ref ref, void *out);

#endif
