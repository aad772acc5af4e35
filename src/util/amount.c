/* amount.c — exact decimal parsing and formatting of amounts (see amount.h). */
#include "util/amount.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

enum amount_parse amount_parse(const char *text, int scale, int64_t *minor)
{
    assert(scale >= 0 && scale <= AMOUNT_SCALE_MAX);
    const char *p = text;
    int64_t value = 0;
    int int_digits = 0, frac_digits = 0;
    int group_digits = 0, commas = 0; /* integer digits since the last comma */
    bool seen_point = false;
    if (*p == '\0') return AMOUNT_MALFORMED;
    for (; *p; p++) {
        /* Commas only separate thousands, so "1,50" is refused, not read as 150. */
        if (*p == ',' && !seen_point) {
            bool group_ok = commas == 0 ? group_digits >= 1 && group_digits <= 3
                                        : group_digits == 3;
            if (!group_ok) return AMOUNT_MALFORMED;
            commas++;
            group_digits = 0;
            continue;
        }
        if (*p == '.' && !seen_point) {
            if (commas > 0 && group_digits != 3) return AMOUNT_MALFORMED;
            seen_point = true;
            continue;
        }
        if (*p < '0' || *p > '9') return AMOUNT_MALFORMED;
        if (seen_point) {
            if (++frac_digits > scale) {
                if (*p != '0') return AMOUNT_TOO_PRECISE;
                continue; /* trailing zeros beyond the scale change nothing */
            }
        } else {
            int_digits++;
            group_digits++;
        }
        if (__builtin_mul_overflow(value, 10, &value) ||
            __builtin_add_overflow(value, *p - '0', &value))
            return AMOUNT_OUT_OF_RANGE;
    }
    if (!seen_point && commas > 0 && group_digits != 3) return AMOUNT_MALFORMED;
    if (int_digits == 0 && frac_digits == 0) return AMOUNT_MALFORMED;
    if (seen_point && frac_digits == 0) return AMOUNT_MALFORMED;
    for (int i = frac_digits < scale ? frac_digits : scale; i < scale; i++)
        if (__builtin_mul_overflow(value, 10, &value)) return AMOUNT_OUT_OF_RANGE;
    *minor = value;
    return AMOUNT_OK;
}

void amount_format(int64_t minor, int scale, bool grouped, char out[AMOUNT_TEXT_BYTES])
{
    assert(scale >= 0 && scale <= AMOUNT_SCALE_MAX);
    char digits[24];
    /* Work with the magnitude as unsigned so INT64_MIN is representable. */
    uint64_t mag = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
    int n = snprintf(digits, sizeof digits, "%0*llu", scale + 1, (unsigned long long)mag);
    int int_len = n - scale;
    char *o = out;
    if (minor < 0) *o++ = '-';
    for (int i = 0; i < int_len; i++) {
        if (grouped && i > 0 && (int_len - i) % 3 == 0) *o++ = ',';
        *o++ = digits[i];
    }
    if (scale > 0) {
        *o++ = '.';
        memcpy(o, digits + int_len, (size_t)scale);
        o += scale;
    }
    *o = '\0';
}
