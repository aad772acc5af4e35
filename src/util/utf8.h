/*
 * utf8.h — checking and trimming UTF-8 text.
 *
 * Every string concord shows or stores for people (names, memos, messages)
 * must be valid UTF-8: JSON output cannot carry anything else, and jansson
 * refuses to build a string from invalid bytes. Text typed on a command line
 * can be anything, and messages built with snprintf can be cut in the middle
 * of a character, so the engine checks free text where it enters and message
 * builders trim what truncation broke.
 *
 * Valid means RFC 3629: shortest form only, no UTF-16 surrogates
 * (U+D800…U+DFFF), nothing above U+10FFFF — the same rule jansson applies.
 */
#ifndef CONCORD_UTIL_UTF8_H
#define CONCORD_UTIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when the n bytes at s are valid UTF-8 (NUL bytes count as characters). */
bool utf8_valid(const char *s, size_t n);

/*
 * Length in bytes of the valid character at s (at most n bytes available),
 * or 0 when the bytes there do not start one.
 */
size_t utf8_char_length(const char *s, size_t n);

/*
 * Cuts off an incomplete character at the end of the NUL-terminated buf, as
 * snprintf leaves when it truncates in the middle of one. Text before it is
 * left alone. Returns buf.
 */
char *utf8_truncate(char *buf);

#endif
