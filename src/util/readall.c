/* readall.c — reading a whole input with a size limit (see readall.h). */
#include "util/readall.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>

#define READ_ALL_BYTES_FIRST ((size_t)1 << 16)

enum read_all_status read_all(FILE *f, size_t max, char **out, size_t *length)
{
    assert(max < SIZE_MAX / 2);
    *out = NULL;
    *length = 0;
    /* Room for max bytes, one more to see that there are more, and the NUL. */
    size_t room_max = max + 2;
    size_t capacity = READ_ALL_BYTES_FIRST < room_max ? READ_ALL_BYTES_FIRST : room_max;
    size_t n = 0;
    char *buf = malloc(capacity);
    if (buf == NULL) return READ_ALL_NO_MEMORY;
    for (;;) {
        if (n + 1 == capacity) {
            size_t grown_capacity = capacity > room_max / 2 ? room_max : capacity * 2;
            char *grown = realloc(buf, grown_capacity);
            if (grown == NULL) {
                free(buf);
                return READ_ALL_NO_MEMORY;
            }
            buf = grown;
            capacity = grown_capacity;
        }
        size_t got = fread(buf + n, 1, capacity - n - 1, f);
        n += got;
        if (n > max) {
            free(buf);
            return READ_ALL_TOO_LARGE;
        }
        if (got == 0) {
            if (ferror(f)) {
                free(buf);
                return READ_ALL_IO_ERROR;
            }
            buf[n] = '\0';
            *out = buf;
            *length = n;
            return READ_ALL_OK;
        }
    }
}
