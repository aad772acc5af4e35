/*
 * amount.h — amounts as people type and read them, in a unit's scale.
 *
 * The ledger counts integers of minor units (scale 2: cents). People type
 * "12.50" or "1,000" and read "50,000,000.00". Parsing is exact decimal
 * arithmetic with overflow checks and refuses more fractional digits than the
 * unit has; never floating point.
 */
#ifndef CONCORD_UTIL_AMOUNT_H
#define CONCORD_UTIL_AMOUNT_H

#include <stdbool.h>
#include <stdint.h>

#define AMOUNT_SCALE_MAX 18
/* Sign, 19 digits, 6 separators, point, 18 decimals, NUL — with room. */
#define AMOUNT_TEXT_BYTES 64

enum amount_parse {
    AMOUNT_OK = 0,
    AMOUNT_MALFORMED,       /* not a decimal number */
    AMOUNT_TOO_PRECISE,     /* more fractional digits than the scale */
    AMOUNT_OUT_OF_RANGE,    /* more than 2^63−1 minor units (zero parses: the ledger refuses it) */
};

/* Parses "1234.5", "1,234.50" (commas between groups allowed) in scale. */
enum amount_parse amount_parse(const char *text, int scale, int64_t *minor);
/* Formats minor units with thousands separators (when grouped) in scale. */
void amount_format(int64_t minor, int scale, bool grouped, char out[AMOUNT_TEXT_BYTES]);

/* Checked arithmetic: return false on overflow and leave *out untouched. */
static inline bool amount_add(int64_t a, int64_t b, int64_t *out)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) return false;
    *out = r;
    return true;
}

static inline bool amount_sub(int64_t a, int64_t b, int64_t *out)
{
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r)) return false;
    *out = r;
    return true;
}

#endif
