/*
 * audit_internal.h — what the audit engine's files share and do not export.
 */
#ifndef CONCORD_AUDIT_INTERNAL_H
#define CONCORD_AUDIT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

/* Writes a parser's reason into message (when there is room) and returns false. */
bool audit_fail(char *message, size_t message_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
