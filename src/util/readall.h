/*
 * readall.h — reading a whole input into memory, with a hard size limit.
 *
 * `concord apply` commits its input as one batch, so it reads all of it
 * before decoding. The limit protects memory: an input one byte over it is
 * refused, whatever the growth of the buffer happened to allow.
 */
#ifndef CONCORD_UTIL_READALL_H
#define CONCORD_UTIL_READALL_H

#include <stddef.h>
#include <stdio.h>

enum read_all_status {
    READ_ALL_OK = 0,
    READ_ALL_TOO_LARGE, /* more than max bytes */
    READ_ALL_IO_ERROR,  /* the stream failed; errno says why */
    READ_ALL_NO_MEMORY,
};

/*
 * Reads f to its end into a malloc'd, NUL-terminated buffer (*out, *length
 * bytes before the NUL). Refuses more than max bytes. On any failure *out is
 * NULL and nothing is left to free.
 */
enum read_all_status read_all(FILE *f, size_t max, char **out, size_t *length);

#endif
