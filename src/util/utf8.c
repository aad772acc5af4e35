/* utf8.c — UTF-8 validation and trimming (see utf8.h). */
#include "util/utf8.h"

#include <stdint.h>
#include <string.h>

size_t utf8_char_length(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    if (n == 0) return 0;
    unsigned char c = p[0];
    if (c < 0x80) return 1;
    size_t length;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) { /* 0xc0, 0xc1 would only start overlong forms */
        length = 2;
        cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        length = 3;
        cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        length = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if (n < length) return 0;
    for (size_t i = 1; i < length; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3fu);
    }
    static const uint32_t shortest[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < shortest[length]) return 0;        /* overlong */
    if (cp >= 0xd800 && cp <= 0xdfff) return 0; /* a surrogate */
    if (cp > 0x10ffff) return 0;
    return length;
}

bool utf8_valid(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t length = utf8_char_length(s + i, n - i);
        if (length == 0) return false;
        i += length;
    }
    return true;
}

char *utf8_truncate(char *buf)
{
    size_t n = strlen(buf);
    /* The last character starts at most 3 continuation bytes before the end. */
    size_t start = n;
    while (start > 0 && n - start < 4) {
        start--;
        if (((unsigned char)buf[start] & 0xc0) != 0x80) break;
    }
    if (start == n) return buf; /* empty */
    unsigned char lead = (unsigned char)buf[start];
    size_t want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    /* Only a character cut short is removed: other invalid bytes were there before. */
    if (n - start < want) buf[start] = '\0';
    return buf;
}
