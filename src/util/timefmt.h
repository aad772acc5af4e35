/*
 * timefmt.h — instants as 64-bit nanoseconds since 1970-01-01T00:00:00Z.
 *
 * Every time concord stores (timestamps, effective dates, expiry) is an
 * int64_t count of nanoseconds in UTC: exact, totally ordered, cheap to index.
 * Input accepts a date ("2026-11-20", meaning its first instant) or an
 * RFC 3339 date-time with optional fraction (up to 9 digits) and a "Z" or
 * ±HH:MM offset. Years are limited to TIME_YEAR_MIN..TIME_YEAR_MAX so that
 * every accepted instant fits the int64 range with room to spare.
 */
#ifndef CONCORD_UTIL_TIMEFMT_H
#define CONCORD_UTIL_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIME_YEAR_MIN 1900
#define TIME_YEAR_MAX 2199
#define TIME_NS_PER_SECOND INT64_C(1000000000)
#define TIME_NS_PER_DAY (INT64_C(86400) * TIME_NS_PER_SECOND)
/* "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" and its NUL. */
#define TIME_TEXT_BYTES 31

/* Parses text; *date_only tells whether it was a bare date. false if malformed. */
bool time_parse(const char *text, int64_t *ns, bool *date_only);
/* As time_parse, but a bare date means its last nanosecond ("through that day"). */
bool time_parse_through(const char *text, int64_t *ns);
/* Writes the canonical form with nine fractional digits. */
void time_format(int64_t ns, char out[TIME_TEXT_BYTES]);
/* Writes "YYYY-MM-DD" for a date that fell on midnight, else the full form. */
void time_format_date(int64_t ns, char out[TIME_TEXT_BYTES]);
/* The current time from the real-time clock. */
int64_t time_now_ns(void);

#endif
