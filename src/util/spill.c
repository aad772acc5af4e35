/*
 * spill.c — byte strings in memory, then in an unlinked temporary file (see
 * spill.h).
 *
 * Once the file exists every put goes to it, so memory holds the offsets
 * [0, held) and the file the rest, in order. Puts to the file go through
 * stdio's buffer, gets through pread at their offset, so a get never moves
 * the position the next put appends at.
 */
#include "util/spill.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SPILL_PATH_BYTES_MAX 4096

void spill_init(struct spill *s, size_t budget)
{
    memset(s, 0, sizeof *s);
    s->budget = budget;
}

void spill_free(struct spill *s)
{
    free(s->memory);
    if (s->file != NULL) fclose(s->file);
    spill_init(s, s->budget);
}

/* The file, made in $TMPDIR (else /tmp) and unlinked at once. */
static FILE *spill_file(void)
{
    const char *dir = getenv("TMPDIR");
    if (dir == NULL || dir[0] == '\0') dir = "/tmp";
    char path[SPILL_PATH_BYTES_MAX];
    if (snprintf(path, sizeof path, "%s/concord-spill-XXXXXX", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    unlink(path);
    FILE *file = fdopen(fd, "w+b");
    if (file == NULL) {
        int saved = errno;
        close(fd);
        errno = saved;
    }
    return file;
}

/* Room for n more bytes in memory, within the budget; false when not to be had there. */
static bool memory_room(struct spill *s, size_t n)
{
    if (s->file != NULL || n > s->budget - s->held) return false;
    if (s->held + n <= s->capacity) return true;
    size_t capacity = s->capacity ? s->capacity : 4096;
    while (capacity < s->held + n) capacity = capacity > s->budget / 2 ? s->budget : 2 * capacity;
    char *memory = realloc(s->memory, capacity);
    if (memory == NULL) return false; /* the file takes it, and every string after */
    s->memory = memory;
    s->capacity = capacity;
    return true;
}

bool spill_put(struct spill *s, const void *data, size_t n, struct spill_ref *ref)
{
    if (n > (size_t)(INT64_MAX - s->size)) {
        errno = EFBIG;
        return false;
    }
    if (n == 0) {
        ref->offset = s->size;
        ref->length = 0;
        return true;
    }
    if (memory_room(s, n)) {
        memcpy(s->memory + s->held, data, n);
        s->held += n;
    } else {
        if (s->failed) { /* a short write left bytes no offset accounts for */
            errno = EIO;
            return false;
        }
        if (s->file == NULL && (s->file = spill_file()) == NULL) return false;
        s->unflushed = true;
        if (fwrite(data, 1, n, s->file) != n) {
            s->failed = true;
            return false;
        }
    }
    ref->offset = s->size;
    ref->length = n;
    s->size += (int64_t)n;
    return true;
}

bool spill_get(struct spill *s, struct spill_ref ref, void *out)
{
    if (ref.length == 0) return true;
    if (ref.offset < 0 || ref.offset > s->size ||
        ref.length > (uint64_t)(s->size - ref.offset)) {
        errno = EINVAL;
        return false;
    }
    if ((uint64_t)ref.offset < s->held) { /* a string lies wholly in memory or in the file */
        if (ref.length > s->held - (size_t)ref.offset) {
            errno = EINVAL;
            return false;
        }
        memcpy(out, s->memory + ref.offset, ref.length);
        return true;
    }
    if (s->unflushed) {
        if (fflush(s->file) != 0) return false;
        s->unflushed = false;
    }
    int fd = fileno(s->file);
    int64_t at = ref.offset - (int64_t)s->held;
    char *p = out;
    size_t done = 0;
    while (done < ref.length) {
        ssize_t got = pread(fd, p + done, ref.length - done, (off_t)(at + (int64_t)done));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            if (got == 0) errno = EIO; /* the file is shorter than what was put in it */
            return false;
        }
        done += (size_t)got;
    }
    return true;
}
