/*
 * test_util.c — unit tests of the small utilities under src/util/.
 *
 * strmap: put, get, replace and remove, and above all that deletion by
 * backward shift keeps every remaining key findable: thousands of random
 * inserts and removes are checked against a plain array model, and the
 * linear-probing invariant (no empty slot between a key's home and its slot)
 * is verified on the raw table after every step.
 * timefmt: dates and RFC 3339 date-times (fractions, offsets) in and out, and
 * the inputs it must refuse (impossible months and days, Feb 29 of common
 * years, garbage).
 * amount: exact decimal parsing in a unit's scale (grouping commas, too many
 * decimals, overflow, malformed text) and formatting with grouping at the
 * extremes of int64.
 * readall: the size limit holds to the byte, whatever the buffer's growth.
 * utf8: what counts as valid (shortest forms, no surrogates, nothing past
 * U+10FFFF) and trimming a character that truncation cut short.
 * spill: strings read back as they were put, in any order, between puts and
 * across stdio's buffer, from memory, the file or both, and a reference past
 * the end refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "util/amount.h"
#include "util/error.h"
#include "util/readall.h"
#include "util/spill.h"
#include "util/strmap.h"
#include "util/timefmt.h"
#include "util/utf8.h"

/* ---------------------------------------------------------------- strmap */

static void strmap_put_get_replace_remove(void **state)
{
    (void)state;
    struct strmap map;
    strmap_init(&map);
    uint32_t v = 12345;
    assert_false(strmap_get(&map, "absent", &v));
    assert_int_equal(v, 12345); /* untouched when absent */
    assert_false(strmap_remove(&map, "absent"));

    assert_true(strmap_put(&map, "fund.pool", 7));
    assert_true(strmap_put(&map, "us.dod", 8));
    assert_int_equal(map.count, 2);
    assert_true(strmap_get(&map, "fund.pool", &v));
    assert_int_equal(v, 7);
    assert_true(strmap_get(&map, "us.dod", &v));
    assert_int_equal(v, 8);

    /* Keys are compared by content, not by pointer. */
    char copy[] = "fund.pool";
    assert_true(strmap_get(&map, copy, &v));
    assert_int_equal(v, 7);

    assert_true(strmap_put(&map, "fund.pool", 70)); /* replace */
    assert_int_equal(map.count, 2);
    assert_true(strmap_get(&map, "fund.pool", &v));
    assert_int_equal(v, 70);

    assert_true(strmap_remove(&map, "fund.pool"));
    assert_false(strmap_remove(&map, "fund.pool"));
    assert_false(strmap_get(&map, "fund.pool", &v));
    assert_true(strmap_get(&map, "us.dod", &v));
    assert_int_equal(v, 8);
    assert_int_equal(map.count, 1);

    strmap_clear(&map);
    assert_int_equal(map.count, 0);
    assert_false(strmap_get(&map, "us.dod", &v));
    assert_true(strmap_put(&map, "us.dod", 9)); /* usable after clear */
    assert_true(strmap_get(&map, "us.dod", &v));
    assert_int_equal(v, 9);
    strmap_free(&map);
    assert_null(map.slots);
    assert_int_equal(map.count, 0);
}

static void strmap_empty_key_and_hash(void **state)
{
    (void)state;
    struct strmap map;
    strmap_init(&map);
    uint32_t v = 0;
    assert_true(strmap_put(&map, "", 3));
    assert_true(strmap_get(&map, "", &v));
    assert_int_equal(v, 3);
    assert_int_equal(strmap_hash("abc"), strmap_hash("abc"));
    assert_int_not_equal(strmap_hash("abc"), strmap_hash("abd"));
    strmap_free(&map);
}

/*
 * Every occupied slot must be reachable from its home slot without crossing
 * an empty one; the count must match the occupied slots. Returns false and
 * says where on the first violation.
 */
static bool strmap_table_sound(const struct strmap *map)
{
    size_t occupied = 0;
    for (size_t i = 0; i < map->capacity; i++) {
        const struct strmap_slot *s = &map->slots[i];
        if (s->key == NULL) continue;
        occupied++;
        if (s->hash != strmap_hash(s->key)) {
            print_error("slot %zu: stale hash\n", i);
            return false;
        }
        size_t mask = map->capacity - 1;
        for (size_t j = (size_t)s->hash & mask; j != i; j = (j + 1) & mask) {
            if (map->slots[j].key == NULL) {
                print_error("slot %zu (%s): empty slot %zu in its probe run\n", i, s->key, j);
                return false;
            }
        }
    }
    if (occupied != map->count) {
        print_error("count %zu but %zu occupied slots\n", map->count, occupied);
        return false;
    }
    return map->capacity == 0 || map->count * 4 <= map->capacity * 3;
}

/* A tiny deterministic generator, so failures reproduce. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void strmap_random_against_model(void **state)
{
    (void)state;
    enum { KEYS = 600, STEPS = 20000 };
    static char keys[KEYS][16];
    uint32_t model[KEYS]; /* value + 1, or 0 when absent */
    for (int k = 0; k < KEYS; k++) {
        snprintf(keys[k], sizeof keys[k], "k%d", k);
        model[k] = 0;
    }
    struct strmap map;
    strmap_init(&map);
    uint64_t seed = 0x9e3779b97f4a7c15u;
    size_t present = 0;
    for (uint32_t step = 0; step < STEPS; step++) {
        uint32_t k = (uint32_t)(rng_next(&seed) % KEYS);
        /* Bias towards inserts early and removes late, so the table both
         * grows through several capacities and empties out again. */
        uint32_t insert_percent = step < STEPS / 2 ? 65 : 35;
        if (rng_next(&seed) % 100 < insert_percent) {
            assert_true(strmap_put(&map, keys[k], step));
            if (model[k] == 0) present++;
            model[k] = step + 1;
        } else {
            bool was = model[k] != 0;
            assert_int_equal(strmap_remove(&map, keys[k]), was);
            if (was) present--;
            model[k] = 0;
        }
        assert_int_equal(map.count, present);
        if (step % 97 == 0 || step > STEPS - 200) {
            assert_true(strmap_table_sound(&map));
            for (int j = 0; j < KEYS; j++) {
                uint32_t v = UINT32_MAX;
                bool found = strmap_get(&map, keys[j], &v);
                assert_int_equal(found, model[j] != 0);
                if (found) assert_int_equal(v, model[j] - 1);
            }
        }
    }
    /* Remove everything that is left; the map must end empty and sound. */
    for (int k = 0; k < KEYS; k++) {
        assert_int_equal(strmap_remove(&map, keys[k]), model[k] != 0);
        assert_true(strmap_table_sound(&map));
    }
    assert_int_equal(map.count, 0);
    strmap_free(&map);
}

/* Removal from the middle of a long probe run that wraps the table's end. */
static void strmap_remove_in_wrapping_run(void **state)
{
    (void)state;
    enum { KEYS = 40 };
    static char keys[KEYS][16];
    struct strmap map;
    strmap_init(&map);
    assert_true(strmap_put(&map, "seed", 0)); /* the table now has its first capacity */
    size_t mask = map.capacity - 1;
    /* Pick keys whose home is one of the last three slots: their run wraps. */
    int n = 0;
    for (int i = 0; n < KEYS && i < 1000000; i++) {
        snprintf(keys[n], sizeof keys[n], "w%d", i);
        size_t home = (size_t)strmap_hash(keys[n]) & mask;
        if (home >= mask - 2) n++;
    }
    int fill = (int)(map.capacity * 3 / 4) - 2; /* stay below the growth threshold */
    if (fill > KEYS) fill = KEYS;
    size_t capacity = map.capacity;
    for (int i = 0; i < fill; i++) assert_true(strmap_put(&map, keys[i], (uint32_t)i));
    assert_int_equal(map.capacity, capacity);
    assert_true(strmap_table_sound(&map));
    for (int i = 0; i < fill; i += 2) {
        assert_true(strmap_remove(&map, keys[i]));
        assert_true(strmap_table_sound(&map));
    }
    for (int i = 0; i < fill; i++) {
        uint32_t v;
        assert_int_equal(strmap_get(&map, keys[i], &v), i % 2 == 1);
        if (i % 2 == 1) assert_int_equal(v, i);
    }
    strmap_free(&map);
}

/* ---------------------------------------------------------------- timefmt */

static int64_t parse_ok(const char *text, bool expect_date_only)
{
    int64_t ns = -1;
    bool date_only = !expect_date_only;
    if (!time_parse(text, &ns, &date_only)) fail_msg("time_parse refused \"%s\"", text);
    assert_int_equal(date_only, expect_date_only);
    return ns;
}

static void timefmt_parse_dates(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("1970-01-01", true), 0);
    assert_int_equal(parse_ok("1970-01-02", true), TIME_NS_PER_DAY);
    assert_int_equal(parse_ok("1969-12-31", true), -TIME_NS_PER_DAY);
    /* 2026-11-20 is day 20,777 since the epoch. */
    assert_int_equal(parse_ok("2026-11-20", true), INT64_C(20777) * TIME_NS_PER_DAY);
    assert_int_equal(parse_ok("2000-03-01", true) - parse_ok("2000-02-28", true),
                     2 * TIME_NS_PER_DAY); /* 2000 is a leap year */
    assert_int_equal(parse_ok("1900-03-01", true) - parse_ok("1900-02-28", true),
                     TIME_NS_PER_DAY); /* 1900 is not */
    parse_ok("2024-02-29", true);
    parse_ok("1900-01-01", true);
    parse_ok("2199-12-31", true);
}

static void timefmt_parse_date_times(void **state)
{
    (void)state;
    int64_t day = parse_ok("2026-11-28", true);
    int64_t noon = day + INT64_C(12) * 3600 * TIME_NS_PER_SECOND;
    assert_int_equal(parse_ok("2026-11-28T12:00:00Z", false), noon);
    assert_int_equal(parse_ok("2026-11-28t12:00:00z", false), noon);
    assert_int_equal(parse_ok("2026-11-28 12:00:00Z", false), noon);
    assert_int_equal(parse_ok("2026-11-28T12:00:00.000000001Z", false), noon + 1);
    assert_int_equal(parse_ok("2026-11-28T12:00:00.5Z", false), noon + 500000000);
    assert_int_equal(parse_ok("2026-11-28T12:00:00.123456789Z", false), noon + 123456789);
    /* Offsets: local time minus the offset is UTC. */
    assert_int_equal(parse_ok("2026-11-28T14:30:00+02:30", false), noon);
    assert_int_equal(parse_ok("2026-11-28T07:00:00-05:00", false), noon);
    assert_int_equal(parse_ok("2026-11-28T12:00:00+00:00", false), noon);
    assert_int_equal(parse_ok("2026-11-29T01:00:00.25+13:00", false), noon + 250000000);
    assert_int_equal(parse_ok("2026-11-28T23:59:59Z", false),
                     day + TIME_NS_PER_DAY - TIME_NS_PER_SECOND);
}

static void timefmt_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "2026",
        "2026-11",
        "2026-1-01",
        "2026-13-01",
        "2026-00-10",
        "2026-11-00",
        "2026-11-31",
        "2026-04-31",
        "2026-02-29",           /* 2026 is a common year */
        "2100-02-29",           /* divisible by 100, not by 400 */
        "2026-02-30",
        "1899-12-31",           /* before TIME_YEAR_MIN */
        "2200-01-01",           /* after TIME_YEAR_MAX */
        "20261120",
        "2026/11/20",
        "2026-11-20x",
        "2026-11-20T",
        "2026-11-20T12:00:00",  /* no offset */
        "2026-11-20T24:00:00Z",
        "2026-11-20T12:60:00Z",
        "2026-11-20T12:00:60Z",
        "2026-11-20T12:00Z",
        "2026-11-20T12:00:00.Z",
        "2026-11-20T12:00:00.1234567891Z", /* more than 9 fractional digits */
        "2026-11-20T12:00:00+0200",
        "2026-11-20T12:00:00+24:00",
        "2026-11-20T12:00:00+02:60",
        "2026-11-20T12:00:00+02",
        "2026-11-20T12:00:00Zjunk",
        "yesterday",
        "abcd-ef-gh",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ns = 42;
        bool date_only;
        if (time_parse(bad[i], &ns, &date_only)) fail_msg("time_parse accepted \"%s\"", bad[i]);
        if (time_parse_through(bad[i], &ns))
            fail_msg("time_parse_through accepted \"%s\"", bad[i]);
    }
}

static void timefmt_parse_through(void **state)
{
    (void)state;
    int64_t start = parse_ok("2026-11-20", true), through;
    assert_true(time_parse_through("2026-11-20", &through));
    assert_int_equal(through, start + TIME_NS_PER_DAY - 1);
    assert_int_equal(through + 1, parse_ok("2026-11-21", true));
    /* A date-time means itself. */
    assert_true(time_parse_through("2026-11-20T08:00:00Z", &through));
    assert_int_equal(through, start + INT64_C(8) * 3600 * TIME_NS_PER_SECOND);
}

static void timefmt_format_round_trip(void **state)
{
    (void)state;
    char out[TIME_TEXT_BYTES];
    time_format(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00.000000000Z");
    static const char *const canonical[] = {
        "2026-11-28T12:00:00.000000001Z", "2027-06-30T00:00:00.000000000Z",
        "2024-02-29T23:59:59.999999999Z", "1900-01-01T00:00:00.000000000Z",
        "2199-12-31T23:59:59.999999999Z", "1969-12-31T23:59:59.500000000Z",
    };
    for (size_t i = 0; i < sizeof canonical / sizeof canonical[0]; i++) {
        int64_t ns = parse_ok(canonical[i], false);
        time_format(ns, out);
        assert_string_equal(out, canonical[i]);
        assert_int_equal(strlen(out), TIME_TEXT_BYTES - 1);
    }
    /* Offsets and short fractions come back in canonical UTC form. */
    time_format(parse_ok("2026-11-28T14:30:00.5+02:30", false), out);
    assert_string_equal(out, "2026-11-28T12:00:00.500000000Z");
    /* The canonical form parses back to the same instant, for arbitrary ns. */
    uint64_t seed = 12345;
    int64_t lo = parse_ok("1900-01-01", true), hi = parse_ok("2150-01-01", true);
    for (int i = 0; i < 2000; i++) { /* hi - lo fits int64 up to about 2190 */
        int64_t ns = lo + (int64_t)(rng_next(&seed) % (uint64_t)(hi - lo));
        time_format(ns, out);
        assert_int_equal(parse_ok(out, false), ns);
    }
}

static void timefmt_format_date(void **state)
{
    (void)state;
    char out[TIME_TEXT_BYTES];
    time_format_date(parse_ok("2026-11-20", true), out);
    assert_string_equal(out, "2026-11-20");
    time_format_date(parse_ok("2026-11-20", true) + 1, out);
    assert_string_equal(out, "2026-11-20T00:00:00.000000001Z");
    time_format_date(-TIME_NS_PER_DAY, out);
    assert_string_equal(out, "1969-12-31");
}

/* ---------------------------------------------------------------- amount */

static void expect_amount(const char *text, int scale, enum amount_parse expected,
                          int64_t expected_minor)
{
    int64_t minor = -12345;
    enum amount_parse r = amount_parse(text, scale, &minor);
    if (r != expected)
        fail_msg("amount_parse(\"%s\", %d) = %d, expected %d", text, scale, (int)r,
                 (int)expected);
    if (expected == AMOUNT_OK && minor != expected_minor)
        fail_msg("amount_parse(\"%s\", %d) gave %lld, expected %lld", text, scale,
                 (long long)minor, (long long)expected_minor);
}

static void amount_parse_values(void **state)
{
    (void)state;
    expect_amount("12.50", 2, AMOUNT_OK, 1250);
    expect_amount("12.5", 2, AMOUNT_OK, 1250);
    expect_amount("12", 2, AMOUNT_OK, 1200);
    expect_amount("1,234.5", 2, AMOUNT_OK, 123450);
    expect_amount("1,234,567", 0, AMOUNT_OK, 1234567);
    expect_amount("50,000,000.00", 2, AMOUNT_OK, 5000000000);
    expect_amount("1.230", 2, AMOUNT_OK, 123); /* trailing zeros beyond the scale */
    expect_amount("1.2300000", 2, AMOUNT_OK, 123);
    expect_amount("7.0", 0, AMOUNT_OK, 7);
    expect_amount(".5", 1, AMOUNT_OK, 5);
    expect_amount("0.01", 2, AMOUNT_OK, 1);
    expect_amount("9223372036854775807", 0, AMOUNT_OK, INT64_MAX);
    expect_amount("92233720368547758.07", 2, AMOUNT_OK, INT64_MAX);
    expect_amount("9,223,372,036,854,775,807", 0, AMOUNT_OK, INT64_MAX);
    expect_amount("9.223372036854775807", 18, AMOUNT_OK, INT64_MAX);
}

static void amount_parse_rejects(void **state)
{
    (void)state;
    expect_amount("1.234", 2, AMOUNT_TOO_PRECISE, 0);
    expect_amount("1.2301", 2, AMOUNT_TOO_PRECISE, 0);
    expect_amount("0.5", 0, AMOUNT_TOO_PRECISE, 0);
    expect_amount("9223372036854775808", 0, AMOUNT_OUT_OF_RANGE, 0);
    expect_amount("92233720368547758.08", 2, AMOUNT_OUT_OF_RANGE, 0);
    expect_amount("92233720368547758", 3, AMOUNT_OUT_OF_RANGE, 0); /* scaling overflows */
    expect_amount("100000000000000000000", 0, AMOUNT_OUT_OF_RANGE, 0);
    expect_amount("10", 18, AMOUNT_OUT_OF_RANGE, 0);
    static const char *const malformed[] = {
        "", ".", "1.", "-5", "+5", " 5", "5 ", "1e5", "1.2.3", "abc", "12a",
        ",123", "1,,234", "1,", "0x10", "\xd9\xa1\xd9\xa2", /* Arabic-Indic digits */
        /* Commas separate groups of three, never anything else. */
        "1,23", "1,50", "12,3456", "1234,567", "1,234,56", "1,2345.00", "1,23.4",
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++)
        expect_amount(malformed[i], 2, AMOUNT_MALFORMED, 0);
    expect_amount("1.234,5", 4, AMOUNT_MALFORMED, 0); /* no commas after the point */
}

static void expect_format(int64_t minor, int scale, bool grouped, const char *expected)
{
    char out[AMOUNT_TEXT_BYTES];
    memset(out, 'x', sizeof out);
    amount_format(minor, scale, grouped, out);
    assert_string_equal(out, expected);
}

static void amount_format_values(void **state)
{
    (void)state;
    expect_format(0, 0, true, "0");
    expect_format(0, 2, true, "0.00");
    expect_format(5, 2, true, "0.05");
    expect_format(1250, 2, false, "12.50");
    expect_format(123450, 2, true, "1,234.50");
    expect_format(123450, 2, false, "1234.50");
    expect_format(100, 0, true, "100");
    expect_format(1000, 0, true, "1,000");
    expect_format(5000000000, 2, true, "50,000,000.00");
    expect_format(INT64_MAX, 0, true, "9,223,372,036,854,775,807");
    expect_format(INT64_MAX, 2, true, "92,233,720,368,547,758.07");
    expect_format(INT64_MAX, 18, true, "9.223372036854775807");
    expect_format(INT64_MAX, 0, false, "9223372036854775807");
    expect_format(-1, 2, true, "-0.01");
    expect_format(-123456, 2, true, "-1,234.56");
    expect_format(-999, 0, true, "-999");
    expect_format(INT64_MIN, 0, true, "-9,223,372,036,854,775,808");
    expect_format(INT64_MIN, 18, true, "-9.223372036854775808");
}

static void amount_format_parse_round_trip(void **state)
{
    (void)state;
    uint64_t seed = 777;
    char out[AMOUNT_TEXT_BYTES];
    for (int i = 0; i < 5000; i++) {
        int64_t minor = (int64_t)(rng_next(&seed) >> (rng_next(&seed) % 63 + 1));
        if (minor == 0) minor = 1;
        int scale = (int)(rng_next(&seed) % (AMOUNT_SCALE_MAX + 1));
        bool grouped = i % 2 == 0;
        amount_format(minor, scale, grouped, out);
        expect_amount(out, scale, AMOUNT_OK, minor);
    }
}

static void amount_checked_arithmetic(void **state)
{
    (void)state;
    int64_t r = 99;
    assert_true(amount_add(INT64_MAX - 1, 1, &r));
    assert_int_equal(r, INT64_MAX);
    r = 99;
    assert_false(amount_add(INT64_MAX, 1, &r));
    assert_int_equal(r, 99); /* untouched on overflow */
    assert_true(amount_sub(5, 7, &r));
    assert_int_equal(r, -2);
    r = 99;
    assert_false(amount_sub(INT64_MIN, 1, &r));
    assert_int_equal(r, 99);
}

/* ---------------------------------------------------------------- readall */

/* read_all of n bytes of a pattern with limit max; checks the text when it is read. */
static enum read_all_status read_n(size_t n, size_t max)
{
    char *input = malloc(n + 1);
    assert_non_null(input);
    for (size_t i = 0; i < n; i++) input[i] = (char)('a' + i % 26);
    FILE *f = fmemopen(input, n ? n : 1, "r");
    assert_non_null(f);
    if (n == 0) fgetc(f); /* fmemopen wants a size of at least 1: consume it */
    char *text = NULL;
    size_t length = 12345;
    enum read_all_status status = read_all(f, max, &text, &length);
    fclose(f);
    if (status == READ_ALL_OK) {
        assert_int_equal(length, n);
        assert_memory_equal(text, input, n);
        assert_int_equal(text[n], '\0');
        free(text);
    } else {
        assert_null(text);
    }
    free(input);
    return status;
}

static void read_all_limit_is_exact(void **state)
{
    (void)state;
    assert_int_equal(read_n(0, 10), READ_ALL_OK);
    assert_int_equal(read_n(10, 10), READ_ALL_OK);
    assert_int_equal(read_n(11, 10), READ_ALL_TOO_LARGE);
    /* Past the first buffer (64 KiB), where growth used to overshoot the limit. */
    assert_int_equal(read_n(100000, 100000), READ_ALL_OK);
    assert_int_equal(read_n(100001, 100000), READ_ALL_TOO_LARGE);
    assert_int_equal(read_n(131000, 100000), READ_ALL_TOO_LARGE);
    assert_int_equal(read_n(300000, 1 << 20), READ_ALL_OK);
}

/* ---------------------------------------------------------------- utf8 */

static bool valid(const char *s) { return utf8_valid(s, strlen(s)); }

static void utf8_validity(void **state)
{
    (void)state;
    assert_true(valid(""));
    assert_true(valid("plain ASCII"));
    assert_true(valid("caf\xc3\xa9"));               /* é */
    assert_true(valid("\xe2\x82\xac"));              /* € */
    assert_true(valid("\xf0\x9f\x98\x80"));          /* U+1F600 */
    assert_true(valid("\xf4\x8f\xbf\xbf"));          /* U+10FFFF, the last */
    assert_true(utf8_valid("a\0b", 3));               /* NUL is a character */
    assert_false(valid("\xff"));
    assert_false(valid("\x80"));                      /* a lone continuation */
    assert_false(valid("\xc3"));                      /* cut short */
    assert_false(valid("\xc3("));                     /* not a continuation */
    assert_false(valid("\xc0\xaf"));                  /* overlong '/' */
    assert_false(valid("\xe0\x80\xaf"));              /* overlong, 3 bytes */
    assert_false(valid("\xf0\x80\x80\xaf"));          /* overlong, 4 bytes */
    assert_false(valid("\xed\xa0\x80"));              /* U+D800, a surrogate */
    assert_false(valid("\xf4\x90\x80\x80"));          /* U+110000 */
    assert_int_equal(utf8_char_length("\xe2\x82\xac", 3), 3);
    assert_int_equal(utf8_char_length("\xe2\x82\xac", 2), 0);
    assert_int_equal(utf8_char_length("x", 1), 1);
    assert_int_equal(utf8_char_length("x", 0), 0);
}

/* An error message cut to its buffer inside a character is trimmed back to a whole one. */
static void error_message_stays_utf8(void **state)
{
    (void)state;
    char name[CC_ERROR_MESSAGE_BYTES_MAX * 2];
    for (size_t i = 0; i + 2 < sizeof name; i += 2) memcpy(name + i, "\xc3\xa9", 2);
    name[sizeof name - 2] = '\0';
    struct cc_error err;
    cc_error_set(&err, CC_ERR_NOT_FOUND, "no account x%s", name); /* odd offset: cut mid-character */
    assert_true(utf8_valid(err.message, strlen(err.message)));
    assert_true(strlen(err.message) >= CC_ERROR_MESSAGE_BYTES_MAX - 2);
}

static void utf8_truncate_trims_a_cut_character(void **state)
{
    (void)state;
    char buf[16];
    strcpy(buf, "ab\xe2\x82");                       /* € cut after 2 of 3 bytes */
    assert_string_equal(utf8_truncate(buf), "ab");
    strcpy(buf, "ab\xe2");
    assert_string_equal(utf8_truncate(buf), "ab");
    strcpy(buf, "ab\xf0\x9f\x98");
    assert_string_equal(utf8_truncate(buf), "ab");
    strcpy(buf, "ab\xe2\x82\xac");                   /* complete: kept */
    assert_string_equal(utf8_truncate(buf), "ab\xe2\x82\xac");
    strcpy(buf, "caf\xc3\xa9");
    assert_string_equal(utf8_truncate(buf), "caf\xc3\xa9");
    strcpy(buf, "");
    assert_string_equal(utf8_truncate(buf), "");
    strcpy(buf, "x\x80\x80\x80\x80");                /* not a cut character: left alone */
    assert_string_equal(utf8_truncate(buf), "x\x80\x80\x80\x80");
    /* What snprintf leaves when the buffer ends inside a character. */
    char small[6];
    const char *volatile text = "abc\xe2\x82\xac"; /* volatile: the compiler may not see the cut */
    int wanted = snprintf(small, sizeof small, "%s", text);
    assert_int_equal(wanted, 6); /* it did truncate */
    assert_true(valid(utf8_truncate(small)));
    assert_string_equal(small, "abc");
}

/* ---------------------------------------------------------------- spill */

/* The i-th string of the test: lengths from 9 to 53 bytes. */
static int spill_text(int i, char out[64])
{
    static const char xs[] = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
    return snprintf(out, 64, "string %d %.*s", i, i % 40, xs);
}

static void spill_reads_back_what_was_put(void **state)
{
    (void)state;
    /* All in the file; in memory, then in the file; all in memory. */
    static const size_t budgets[] = {0, 10000, SIZE_MAX};
    for (size_t b = 0; b < sizeof budgets / sizeof budgets[0]; b++) {
        struct spill s;
        spill_init(&s, budgets[b]);
        enum { N = 3000 };
        static struct spill_ref refs[N];
        char text[64], back[64];
        /* Interleaved gets: each must see every put before it, buffered or not. */
        for (int i = 0; i < N; i++) {
            int n = spill_text(i, text);
            assert_true(spill_put(&s, text, (size_t)n, &refs[i]));
            if (i % 97 == 0) {
                int j = i / 2;
                n = spill_text(j, text);
                assert_true(spill_get(&s, refs[j], back));
                assert_int_equal(refs[j].length, (size_t)n);
                assert_memory_equal(back, text, (size_t)n);
            }
        }
        assert_true(s.held <= budgets[b]);
        assert_int_equal(s.file != NULL, budgets[b] != SIZE_MAX); /* spilled past the budget */
        for (int i = N - 1; i >= 0; i -= 7) { /* backwards: no order is assumed */
            int n = spill_text(i, text);
            assert_true(spill_get(&s, refs[i], back));
            assert_memory_equal(back, text, (size_t)n);
        }
        struct spill_ref empty;
        assert_true(spill_put(&s, "", 0, &empty));
        assert_int_equal(empty.length, 0);
        assert_true(spill_get(&s, empty, back));
        /* Past the end, or before the start: refused, never read. */
        struct spill_ref past = {.offset = s.size - 2, .length = 3};
        assert_false(spill_get(&s, past, back));
        struct spill_ref before = {.offset = -1, .length = 1};
        assert_false(spill_get(&s, before, back));
        struct spill_ref endless = {.offset = 0, .length = SIZE_MAX};
        assert_false(spill_get(&s, endless, back));
        if (s.held > 2 && s.file != NULL) { /* across memory and file: no string lies so */
            struct spill_ref across = {.offset = (int64_t)s.held - 2, .length = 5};
            assert_false(spill_get(&s, across, back));
        }
        spill_free(&s);
    }
    struct spill none;
    spill_init(&none, 0);
    struct spill_ref any = {.offset = 0, .length = 1};
    char byte;
    assert_false(spill_get(&none, any, &byte)); /* nothing put: nothing to read */
    /* No file to be made: the put fails, saying why, and nothing is counted as put. */
    const char *tmpdir = getenv("TMPDIR");
    char *saved = tmpdir != NULL ? strdup(tmpdir) : NULL;
    setenv("TMPDIR", "/nonexistent/concord-test", 1);
    errno = 0;
    assert_false(spill_put(&none, "x", 1, &any));
    assert_int_equal(errno, ENOENT);
    assert_int_equal(none.size, 0);
    if (saved != NULL) setenv("TMPDIR", saved, 1);
    else unsetenv("TMPDIR");
    free(saved);
    spill_free(&none);
    /* The file cannot grow (a full disk): that put fails, and so does every later one,
       even one that would fit, since the file may hold part of the failed one. */
    struct rlimit was;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &was), 0);
    void (*handler)(int) = signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = {.rlim_cur = 64 * 1024, .rlim_max = was.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    struct spill full;
    spill_init(&full, 0);
    static char block[40000];
    struct spill_ref ref;
    assert_true(spill_put(&full, block, sizeof block, &ref));
    bool failed = false;
    for (int i = 0; i < 4 && !failed; i++) failed = !spill_put(&full, block, sizeof block, &ref);
    assert_true(failed);
    assert_false(spill_put(&full, "x", 1, &ref));
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &was), 0);
    signal(SIGXFSZ, handler);
    assert_false(spill_put(&full, "x", 1, &ref));
    spill_free(&full);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strmap_put_get_replace_remove),
        cmocka_unit_test(strmap_empty_key_and_hash),
        cmocka_unit_test(strmap_random_against_model),
        cmocka_unit_test(strmap_remove_in_wrapping_run),
        cmocka_unit_test(timefmt_parse_dates),
        cmocka_unit_test(timefmt_parse_date_times),
        cmocka_unit_test(timefmt_rejects),
        cmocka_unit_test(timefmt_parse_through),
        cmocka_unit_test(timefmt_format_round_trip),
        cmocka_unit_test(timefmt_format_date),
        cmocka_unit_test(amount_parse_values),
        cmocka_unit_test(amount_parse_rejects),
        cmocka_unit_test(amount_format_values),
        cmocka_unit_test(amount_format_parse_round_trip),
        cmocka_unit_test(amount_checked_arithmetic),
        cmocka_unit_test(read_all_limit_is_exact),
        cmocka_unit_test(utf8_validity),
        cmocka_unit_test(error_message_stays_utf8),
        cmocka_unit_test(utf8_truncate_trims_a_cut_character),
        cmocka_unit_test(spill_reads_back_what_was_put),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
