/*
 * hxl.c — reading HXL tables from CSV, and their funding rows into
 * `hxl_flow` operations (see hxl.h; the mapping is docs/INTEROP.md's).
 *
 * Reading goes in four passes over bytes already in memory, each bounded:
 *
 *   1. the text: refuse NUL bytes and files over HXL_FILE_BYTES_MAX, skip a
 *      UTF-8 byte-order mark, convert from Windows-1252 when not UTF-8;
 *   2. the separator: the file's extension, else libhxl's guess;
 *   3. the records: libcsv in strict mode, fed 64 KiB at a time, the
 *      callbacks copying each cell into the table's arena and enforcing the
 *      row, column and cell limits as the data arrives;
 *   4. the hashtag row among the first HXL_HEADER_ROWS_MAX + 1 records.
 *
 * Funding rows then become operations, each value checked where it is read.
 * Money is parsed from its decimal text into integer cents (util/amount.c),
 * never through floating point.
 */
#include "fmt/hxl.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>
#include <jansson.h>
#include <sodium.h>

#include "fmt/csv_out.h"
#include "fmt/fts.h"
#include "ledger/ledger.h"
#include "util/amount.h"
#include "util/strmap.h"
#include "util/timefmt.h"
#include "util/utf8.h"

#define HXL_ROWS_SEARCHED (HXL_HEADER_ROWS_MAX + 1) /* where the hashtag row may be */
#define HXL_CHUNK_BYTES ((size_t)64 << 10)          /* fed to libcsv at a time */
#define HXL_SNIFF_BYTES ((size_t)16 << 10)          /* sampled to guess the separator */
#define HXL_VALUE_SHOWN_BYTES 60                    /* of a bad value, quoted in its message */
#define HXL_FTS_ID_DIGITS_MAX 18                    /* an FTS flow id fits in int64 */
#define HXL_VERSION_MAX 1000000                     /* a flow's version, as fmt/fts.c */
#define HXL_DECIMAL_BYTES_MAX 40                    /* an original amount or a rate */
#define HXL_REF_CODE_BYTES_MAX 128                  /* a reference code, cut as fmt/fts.c cuts it */

/* ---------------------------------------------------------------- problems */

void hxl_problem(struct hxl_problems *problems, const char *fmt, ...)
{
    problems->count++;
    if (problems->listed == HXL_PROBLEMS_LISTED) return;
    char *text = problems->text[problems->listed++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, HXL_PROBLEM_BYTES, fmt, ap);
    va_end(ap);
    utf8_truncate(text); /* a cut may split a character of a quoted value */
}

/*
 * A value as a message quotes it: at most HXL_VALUE_SHOWN_BYTES, cut on a
 * character, control characters shown as '?' so that a file cannot drive
 * the terminal that reads the message.
 */
static void value_shown(const char *value, char out[HXL_VALUE_SHOWN_BYTES + 8])
{
    size_t n = 0, length = strlen(value);
    while (n < length && n < HXL_VALUE_SHOWN_BYTES) {
        size_t k = utf8_char_length(value + n, length - n);
        if (k == 0 || n + k > HXL_VALUE_SHOWN_BYTES) break;
        n += k;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)value[i];
        out[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (n < length) {
        memcpy(out + o, "…", strlen("…"));
        o += strlen("…");
    }
    out[o] = '\0';
}

/* ---------------------------------------------------------------- 1. the text */

/* Windows-1252's characters at 0x80 … 0x9F; the five it leaves undefined stay Latin-1's. */
static const uint16_t cp1252_high[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

/* bytes (not UTF-8) as Windows-1252, into a malloc'd UTF-8 copy; NULL when out of memory. */
static char *from_cp1252(const char *bytes, size_t length, size_t *out_length)
{
    char *out = malloc(length * 3 + 1); /* no character takes more than 3 bytes */
    if (out == NULL) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)bytes[i];
        uint32_t cp = c >= 0x80 && c <= 0x9f ? cp1252_high[c - 0x80] : c;
        if (cp < 0x80) {
            out[o++] = (char)cp;
        } else if (cp < 0x800) {
            out[o++] = (char)(0xc0 | (cp >> 6));
            out[o++] = (char)(0x80 | (cp & 0x3f));
        } else {
            out[o++] = (char)(0xe0 | (cp >> 12));
            out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
            out[o++] = (char)(0x80 | (cp & 0x3f));
        }
    }
    out[o] = '\0';
    *out_length = o;
    return out;
}

/* The line (from 1) of byte offset in text. */
static uint32_t line_of(const char *text, size_t offset)
{
    uint32_t line = 1;
    for (size_t i = 0; i < offset; i++) line += text[i] == '\n';
    return line;
}

/* ---------------------------------------------------------------- 3. the records */

struct parse {
    struct hxl_table *table;
    const char *name;
    struct hxl_problems *problems;
    const char **cells; /* the record being read: HXL_COLUMNS_MAX slots */
    uint32_t count;     /* cells read of it */
    int last_end;       /* the character that ended the last record (libcsv's cb2) */
    bool failed;        /* a limit was passed: the rest is ignored */
    bool keep;          /* store the records (false: only count, for a guess) */
};

static void parse_fail(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void parse_fail(struct parse *p, const char *fmt, ...)
{
    if (p->failed) return;
    p->failed = true;
    char text[HXL_PROBLEM_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (p->problems != NULL) hxl_problem(p->problems, "%s: %s", p->name, text);
}

static void on_cell(void *data, size_t n, void *ctx)
{
    struct parse *p = ctx;
    if (p->failed) return;
    uint32_t row = p->table->rows_count + 1;
    if (p->count == HXL_COLUMNS_MAX) {
        parse_fail(p, "row %u: more than %d columns", row, HXL_COLUMNS_MAX);
        return;
    }
    if (n > HXL_CELL_BYTES_MAX) {
        parse_fail(p, "row %u, column %u: a cell of more than %zu bytes", row, p->count + 1,
                   HXL_CELL_BYTES_MAX);
        return;
    }
    const char *cell = "";
    if (p->keep) {
        cell = arena_strndup(&p->table->arena, data != NULL ? data : "", data != NULL ? n : 0);
        if (cell == NULL) {
            parse_fail(p, "out of memory");
            return;
        }
    }
    p->cells[p->count++] = cell;
}

static void on_row(int end, void *ctx)
{
    struct parse *p = ctx;
    if (p->failed) return;
    /* With CSV_REPALL_NL every CR and LF outside a record ends one: the LF of
       a CRLF is the same line ending, not a blank line. */
    if (p->count == 0 && end == '\n' && p->last_end == '\r') {
        p->last_end = end;
        return;
    }
    p->last_end = end;
    struct hxl_table *t = p->table;
    if (t->rows_count == HXL_ROWS_MAX) {
        parse_fail(p, "more than %d rows", HXL_ROWS_MAX);
        return;
    }
    if (t->rows_count == t->rows_capacity) {
        uint32_t capacity = t->rows_capacity ? t->rows_capacity * 2 : 64;
        if (capacity > HXL_ROWS_MAX) capacity = HXL_ROWS_MAX;
        struct hxl_row *rows = realloc(t->rows, capacity * sizeof *rows);
        if (rows == NULL) {
            parse_fail(p, "out of memory");
            return;
        }
        t->rows = rows;
        t->rows_capacity = capacity;
    }
    struct hxl_row *r = &t->rows[t->rows_count];
    r->number = t->rows_count + 1;
    r->count = p->count;
    r->cells = NULL;
    if (p->keep && p->count > 0) {
        r->cells = arena_alloc(&t->arena, p->count * sizeof *r->cells);
        if (r->cells == NULL) {
            parse_fail(p, "out of memory");
            return;
        }
        memcpy(r->cells, p->cells, p->count * sizeof *r->cells);
    }
    t->rows_count++;
    p->count = 0;
}

/* Cells are kept as written: libcsv's default trims spaces and tabs from unquoted cells. */
static int never_space(unsigned char c)
{
    (void)c;
    return 0;
}

/*
 * Reads text (length bytes) into p->table's rows with delimiter. false when
 * a limit was passed or the quoting is malformed (with a problem when
 * p->problems is set). stop_after > 0 stops after that many records.
 */
static bool records_read(struct parse *p, const char *text, size_t length, char delimiter,
                         uint32_t stop_after)
{
    struct csv_parser parser;
    if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL) != 0) {
        parse_fail(p, "out of memory");
        return false;
    }
    csv_set_delim(&parser, (unsigned char)delimiter);
    csv_set_space_func(&parser, never_space);
    bool ok = true;
    for (size_t at = 0; at < length && !p->failed;) {
        size_t n = length - at < HXL_CHUNK_BYTES ? length - at : HXL_CHUNK_BYTES;
        size_t done = csv_parse(&parser, text + at, n, on_cell, on_row, p);
        if (done != n) {
            int e = csv_error(&parser);
            if (e == CSV_EPARSE)
                parse_fail(p, "line %u: malformed CSV: a quote inside an unquoted cell, or "
                              "text after a closing quote",
                           line_of(text, at + done));
            else
                parse_fail(p, "line %u: %s", line_of(text, at + done), csv_strerror(e));
            ok = false;
            break;
        }
        at += n;
        if (stop_after > 0 && p->table->rows_count >= stop_after) break;
    }
    if (ok && !p->failed && (stop_after == 0 || p->table->rows_count < stop_after) &&
        csv_fini(&parser, on_cell, on_row, p) != 0) {
        parse_fail(p, "line %u: malformed CSV: a quoted cell is not closed",
                   line_of(text, length));
        ok = false;
    }
    csv_free(&parser);
    return ok && !p->failed;
}

/* ---------------------------------------------------------------- 4. hashtags */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static bool is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_token_char(char c)
{
    return is_letter(c) || (c >= '0' && c <= '9') || c == '_';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool blank(const char *s)
{
    for (; *s; s++)
        if (!is_space(*s)) return false;
    return true;
}

/*
 * A hashtag cell into its display form (lower-case, no spaces); the length
 * written, or -1 when the cell is not one or does not fit in size bytes.
 * out may be NULL (size 0): then only whether it is one.
 */
static long hashtag_parse(const char *cell, char *out, size_t size)
{
    const char *p = cell;
    size_t n = 0;
    while (is_space(*p)) p++;
    if (*p != '#') return -1;
    for (bool first = true;; first = false) {
        /* "#" and the tag, then each "+" (spaces may come before it) and an attribute */
        if (!first) {
            const char *q = p;
            while (is_space(*q)) q++;
            if (*q != '+') break;
            p = q;
        }
        if (out != NULL) {
            if (n + 1 >= size) return -1;
            out[n] = *p;
        }
        n++;
        p++;
        if (!is_letter(*p)) return -1;
        for (; is_token_char(*p); p++, n++) {
            if (out == NULL) continue;
            if (n + 1 >= size) return -1;
            out[n] = lower(*p);
        }
    }
    while (is_space(*p)) p++;
    if (*p != '\0') return -1;
    if (out != NULL) out[n] = '\0';
    return (long)n;
}

bool hxl_hashtag(const char *cell, char *display, size_t size)
{
    return hashtag_parse(cell, display, size) >= 0;
}

/* libhxl's rule: of the row's non-empty cells, at least half are hashtags. */
static bool tags_row(const struct hxl_row *row)
{
    uint32_t filled = 0, tags = 0;
    for (uint32_t i = 0; i < row->count; i++) {
        if (blank(row->cells[i])) continue;
        filled++;
        tags += hashtag_parse(row->cells[i], NULL, 0) >= 0;
    }
    return filled > 0 && 2 * tags >= filled;
}

/* A row that would be hashtags with a '#' before each cell: a common slip, worth naming. */
static bool tags_without_hash(const struct hxl_row *row)
{
    uint32_t filled = 0, near = 0;
    char cell[128];
    for (uint32_t i = 0; i < row->count; i++) {
        const char *c = row->cells[i];
        if (blank(c)) continue;
        filled++;
        while (is_space(*c)) c++;
        if (strchr(c, '+') == NULL || strlen(c) + 2 > sizeof cell) continue;
        snprintf(cell, sizeof cell, "#%s", c);
        near += hashtag_parse(cell, NULL, 0) >= 0;
    }
    return filled > 0 && 2 * near >= filled;
}

/* ---------------------------------------------------------------- 2. the separator */

static const char separators[] = {',', '\t', ';', ':', '|'};

/*
 * Where the hashtag row is when the sample is read with delimiter: its index
 * among the first HXL_ROWS_SEARCHED records, or HXL_ROWS_SEARCHED when none
 * is (a wrong separator usually breaks the quoting early, which ends the
 * records read).
 */
static uint32_t tags_row_with(const char *sample, size_t n, char delimiter)
{
    struct hxl_table scratch = {0};
    arena_init(&scratch.arena);
    const char **cells = malloc(HXL_COLUMNS_MAX * sizeof *cells);
    uint32_t found = HXL_ROWS_SEARCHED;
    if (cells != NULL) {
        struct parse p = {.table = &scratch, .name = "", .cells = cells, .keep = true};
        records_read(&p, sample, n, delimiter, HXL_ROWS_SEARCHED);
        for (uint32_t i = 0; i < scratch.rows_count && found == HXL_ROWS_SEARCHED; i++)
            if (tags_row(&scratch.rows[i])) found = i;
    }
    free(cells);
    free(scratch.rows);
    arena_free(&scratch.arena);
    return found;
}

/*
 * libhxl's guess, reading records rather than lines (a quoted cell may hold
 * line breaks): the separator that makes a hashtag row soonest, the first
 * of , TAB ; : | on a tie; else the most frequent of them in the sample.
 */
static char separator_guess(const char *text, size_t length)
{
    size_t sample = length < HXL_SNIFF_BYTES ? length : HXL_SNIFF_BYTES;
    uint32_t best_row = HXL_ROWS_SEARCHED;
    char best = ',';
    if (memchr(text, '#', sample) != NULL)
        for (size_t s = 0; s < sizeof separators; s++) {
            uint32_t row = tags_row_with(text, sample, separators[s]);
            if (row < best_row) {
                best_row = row;
                best = separators[s];
            }
        }
    if (best_row < HXL_ROWS_SEARCHED) return best;
    size_t best_count = 0;
    for (size_t s = 0; s < sizeof separators; s++) {
        size_t count = 0;
        for (size_t i = 0; i < sample; i++) count += text[i] == separators[s];
        if (count > best_count) {
            best_count = count;
            best = separators[s];
        }
    }
    return best;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    if (n < k) return false;
    for (size_t i = 0; i < k; i++)
        if (lower(s[n - k + i]) != suffix[i]) return false;
    return true;
}

/* ---------------------------------------------------------------- HXL as JSON */

/*
 * A real as the shortest decimal text, without an exponent, that reads back
 * as the same double: 1234.56 in the file is 1234.56 here, and 100.0 is 100,
 * where "%.17g" (jansson's own way) writes 1234.5599999999999, which no
 * amount is. A value that needs an exponent keeps it (and is no amount).
 * Returns its length.
 */
static size_t real_text(double value, char *out, size_t size)
{
    for (int decimals = 0; decimals <= 17; decimals++) {
        int n = snprintf(out, size, "%.*f", decimals, value);
        if (n > 0 && (size_t)n < size && strtod(out, NULL) == value) return (size_t)n;
    }
    int n = snprintf(out, size, "%.17g", value);
    return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

/*
 * libhxl's JSON forms of a table: an array of rows (each an array of cells,
 * header rows and the hashtag row among them), or an array of objects keyed
 * by hashtag (the keys make the hashtag row), either of them alone or as the
 * one array inside an object ({"results": […]}). The rows then go where a
 * CSV file's records go. A cell is text; a number or true/false is written as
 * JSON writes it, and null is empty.
 */
static bool json_cell(struct parse *p, const json_t *v)
{
    char number[64];
    const char *text;
    size_t n;
    if (json_is_string(v)) {
        text = json_string_value(v);
        n = json_string_length(v);
    } else if (v == NULL || json_is_null(v)) {
        text = "";
        n = 0;
    } else if (json_is_integer(v)) {
        n = (size_t)snprintf(number, sizeof number, "%lld", (long long)json_integer_value(v));
        text = number;
    } else if (json_is_real(v)) {
        n = real_text(json_real_value(v), number, sizeof number);
        text = number;
    } else if (json_is_boolean(v)) {
        text = json_is_true(v) ? "true" : "false";
        n = strlen(text);
    } else {
        parse_fail(p, "row %u, column %u: a cell must be text, a number, true, false or null",
                   p->table->rows_count + 1, p->count + 1);
        return false;
    }
    if (memchr(text, '\0', n) != NULL) {
        parse_fail(p, "row %u, column %u: a NUL character in a cell", p->table->rows_count + 1,
                   p->count + 1);
        return false;
    }
    on_cell((void *)text, n, p);
    return !p->failed;
}

static bool json_rows_read(struct parse *p, const char *bytes, size_t length,
                           const char *selector)
{
    json_error_t jerr;
    json_t *root = json_loadb(bytes, length, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        /* jansson quotes the input near the error: shown only as printable ASCII. */
        for (char *c = jerr.text; *c; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) *c = '?';
        parse_fail(p, "line %d, column %d: not JSON: %s", jerr.line, jerr.column, jerr.text);
        return false;
    }
    const json_t *rows = root;
    if (selector != NULL) {
        rows = json_is_object(root) ? json_object_get(root, selector) : NULL;
        if (!json_is_array(rows)) {
            parse_fail(p, "no array of rows under the selector %s", selector);
            json_decref(root);
            return false;
        }
    } else if (json_is_object(root)) { /* the one array inside: {"results": […]} */
        const char *key, *found = NULL;
        const json_t *value;
        size_t arrays = 0;
        char names[256] = "";
        json_object_foreach(root, key, value) {
            if (!json_is_array(value)) continue;
            arrays++;
            found = key;
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                     arrays > 1 ? ", " : "", key);
        }
        if (arrays != 1) {
            parse_fail(p, arrays == 0 ? "a JSON object without an array of rows"
                                      : "a JSON object with several arrays of rows (%s): "
                                        "choose one with a selector",
                       names);
            json_decref(root);
            return false;
        }
        rows = json_object_get(root, found);
    }
    if (!json_is_array(rows)) {
        parse_fail(p, "JSON that is not an array of rows");
        json_decref(root);
        return false;
    }
    const json_t *first = json_array_get(rows, 0);
    bool objects = json_is_object(first);
    if (objects) { /* the keys of the first object: the hashtag row */
        const char *key;
        const json_t *value;
        json_object_foreach((json_t *)first, key, value) {
            json_t *k = json_string(key);
            bool ok = k != NULL && json_cell(p, k);
            json_decref(k);
            if (!ok) break;
        }
        if (!p->failed) on_row('\n', p);
    }
    size_t i;
    const json_t *row;
    json_array_foreach(rows, i, row) {
        if (p->failed) break;
        if (objects != json_is_object(row) || (!objects && !json_is_array(row))) {
            parse_fail(p, "row %zu of the JSON: every row must be %s", i + 1,
                       objects ? "an object, as the first is" : "an array of cells");
            break;
        }
        if (objects) {
            const char *key;
            const json_t *value;
            json_object_foreach((json_t *)first, key, value) {
                (void)value;
                if (!json_cell(p, json_object_get(row, key))) break;
            }
        } else {
            size_t k;
            const json_t *cell;
            json_array_foreach(row, k, cell) if (!json_cell(p, cell)) break;
        }
        if (!p->failed) on_row('\n', p);
    }
    json_decref(root);
    return !p->failed;
}

static bool json_text(const char *name, const char *bytes, size_t length)
{
    if (ends_with(name, ".json")) return true;
    size_t i = 0;
    while (i < length && (bytes[i] == ' ' || bytes[i] == '\t' || bytes[i] == '\r' ||
                          bytes[i] == '\n'))
        i++;
    return i < length && (bytes[i] == '[' || bytes[i] == '{');
}

/* ---------------------------------------------------------------- reading a table */

/* The columns, from the hashtag row and the row above it. */
static bool columns_make(struct hxl_table *t, struct hxl_problems *problems, const char *name)
{
    const struct hxl_row *tags = &t->rows[t->tags_row];
    const struct hxl_row *above = t->tags_row > 0 ? &t->rows[t->tags_row - 1] : NULL;
    t->columns_count = tags->count;
    t->columns = arena_alloc(&t->arena, (tags->count ? tags->count : 1) * sizeof *t->columns);
    if (t->columns == NULL) {
        hxl_problem(problems, "%s: out of memory", name);
        return false;
    }
    for (uint32_t i = 0; i < tags->count; i++) {
        struct hxl_column *c = &t->columns[i];
        size_t size = strlen(tags->cells[i]) + 1;
        char *display = arena_alloc(&t->arena, size);
        if (display == NULL) {
            hxl_problem(problems, "%s: out of memory", name);
            return false;
        }
        c->header = above != NULL && i < above->count ? above->cells[i] : NULL;
        if (hashtag_parse(tags->cells[i], display, size) < 0) {
            c->tag = NULL;
            c->display = "";
            continue;
        }
        c->display = display;
        size_t k = strcspn(display, "+");
        c->tag = arena_strndup(&t->arena, display, k);
        if (c->tag == NULL) {
            hxl_problem(problems, "%s: out of memory", name);
            return false;
        }
    }
    return true;
}

static bool hxl_read_with(const char *name, const char *bytes, size_t length, char delimiter,
                          const char *selector, struct hxl_table *table,
                          struct hxl_problems *problems);

bool hxl_read(const char *name, const char *bytes, size_t length, struct hxl_table *table,
              struct hxl_problems *problems)
{
    return hxl_read_as(name, bytes, length, 0, table, problems);
}

bool hxl_read_as(const char *name, const char *bytes, size_t length, char delimiter,
                 struct hxl_table *table, struct hxl_problems *problems)
{
    return hxl_read_with(name, bytes, length, delimiter, NULL, table, problems);
}

bool hxl_read_selected(const char *name, const char *bytes, size_t length, const char *selector,
                       struct hxl_table *table, struct hxl_problems *problems)
{
    return hxl_read_with(name, bytes, length, 0, selector, table, problems);
}

static bool hxl_read_with(const char *name, const char *bytes, size_t length, char delimiter,
                          const char *selector, struct hxl_table *table,
                          struct hxl_problems *problems)
{
    memset(table, 0, sizeof *table);
    arena_init(&table->arena);
    if (length > HXL_FILE_BYTES_MAX) {
        hxl_problem(problems, "%s: larger than %zu bytes", name, HXL_FILE_BYTES_MAX);
        return false;
    }
    const char *nul = memchr(bytes, '\0', length);
    if (nul != NULL) {
        hxl_problem(problems, "%s: line %u: a NUL byte: not a text file", name,
                    line_of(bytes, (size_t)(nul - bytes)));
        return false;
    }
    if (length >= 3 && memcmp(bytes, "\xEF\xBB\xBF", 3) == 0) { /* a UTF-8 byte-order mark */
        bytes += 3;
        length -= 3;
    }
    char *converted = NULL;
    if (!utf8_valid(bytes, length)) {
        converted = from_cp1252(bytes, length, &length);
        if (converted == NULL) {
            hxl_problem(problems, "%s: out of memory", name);
            return false;
        }
        bytes = converted;
        table->converted = true;
    }
    bool json = delimiter == 0 && (selector != NULL || json_text(name, bytes, length));
    if (delimiter != 0) table->delimiter = delimiter;
    else if (json) table->delimiter = ','; /* what the table is written back with */
    else if (ends_with(name, ".tsv")) table->delimiter = '\t';
    else if (ends_with(name, ".ssv")) table->delimiter = ';';
    else table->delimiter = separator_guess(bytes, length);
    const char **cells = malloc(HXL_COLUMNS_MAX * sizeof *cells);
    bool ok = cells != NULL;
    if (!ok) hxl_problem(problems, "%s: out of memory", name);
    struct parse p = {.table = table, .name = name, .problems = problems, .cells = cells,
                      .keep = true};
    ok = ok && (json ? json_rows_read(&p, bytes, length, selector)
                     : records_read(&p, bytes, length, table->delimiter, 0));
    free(cells);
    free(converted);
    if (!ok) return false;
    uint32_t searched = table->rows_count < HXL_ROWS_SEARCHED ? table->rows_count
                                                               : HXL_ROWS_SEARCHED;
    for (uint32_t i = 0; i < searched; i++) {
        if (!tags_row(&table->rows[i])) continue;
        table->tags_row = i;
        return columns_make(table, problems, name);
    }
    for (uint32_t i = 0; i < searched; i++) {
        if (!tags_without_hash(&table->rows[i])) continue;
        hxl_problem(problems,
                    "%s: no HXL hashtag row in the first %d rows: row %u looks like hashtags "
                    "without their '#' (write #sector+es, not sector+es)",
                    name, HXL_ROWS_SEARCHED, table->rows[i].number);
        return false;
    }
    hxl_problem(problems,
                "%s: no HXL hashtag row in the first %d rows: not an HXL table (under at most %d "
                "header rows, a row of hashtags such as #org+name,#adm1,#affected must name the "
                "columns)",
                name, HXL_ROWS_SEARCHED, HXL_HEADER_ROWS_MAX);
    return false;
}

void hxl_table_free(struct hxl_table *table)
{
    free(table->rows);
    arena_free(&table->arena);
    memset(table, 0, sizeof *table);
}

/* ---------------------------------------------------------------- columns by pattern */

/* Does display ("#tag+a+b") carry attribute (n bytes)? */
static bool has_attribute(const char *display, const char *attribute, size_t n)
{
    for (const char *p = strchr(display, '+'); p != NULL; p = strchr(p + 1, '+'))
        if (strncmp(p + 1, attribute, n) == 0 && (p[1 + n] == '+' || p[1 + n] == '\0'))
            return true;
    return false;
}

static bool pattern_matches(const char *pattern, const struct hxl_column *c)
{
    size_t k = strcspn(pattern, "+-");
    if (c->tag == NULL || strlen(c->tag) != k || strncmp(c->tag, pattern, k) != 0) return false;
    for (const char *p = pattern + k; *p;) {
        bool wanted = *p == '+';
        size_t n = strcspn(p + 1, "+-");
        if (has_attribute(c->display, p + 1, n) != wanted) return false;
        p += 1 + n;
    }
    return true;
}

int32_t hxl_column_find(const struct hxl_table *table, const char *pattern)
{
    assert(pattern[0] == '#');
    int32_t best = -1;
    size_t best_attributes = 0;
    for (uint32_t i = 0; i < table->columns_count; i++) {
        const struct hxl_column *c = &table->columns[i];
        if (!pattern_matches(pattern, c)) continue;
        size_t attributes = 0;
        for (const char *p = c->display; *p; p++) attributes += *p == '+';
        if (best < 0 || attributes < best_attributes) {
            best = (int32_t)i;
            best_attributes = attributes;
        }
    }
    return best;
}

/* ---------------------------------------------------------------- the table, written */

json_t *hxl_table_json(const struct hxl_table *table)
{
    json_t *out = json_array(), *headers = json_array(), *tags = json_array();
    for (uint32_t i = 0; i < table->columns_count; i++) {
        const struct hxl_column *c = &table->columns[i];
        json_array_append_new(headers, c->header != NULL ? json_string(c->header) : json_null());
        json_array_append_new(tags, json_string(c->display));
    }
    json_array_append_new(out, headers);
    json_array_append_new(out, tags);
    for (uint32_t r = table->tags_row + 1; r < table->rows_count; r++) {
        const struct hxl_row *row = &table->rows[r];
        json_t *values = json_array();
        for (uint32_t i = 0; i < row->count; i++)
            json_array_append_new(values, json_string(row->cells[i]));
        json_array_append_new(out, values);
    }
    return out;
}

void hxl_table_csv(const struct hxl_table *table, struct csv_out *out)
{
    for (uint32_t i = 0; i < table->columns_count; i++)
        csv_out_text(out, table->columns[i].header);
    csv_out_end(out);
    for (uint32_t i = 0; i < table->columns_count; i++)
        csv_out_text(out, table->columns[i].display);
    csv_out_end(out);
    for (uint32_t r = table->tags_row + 1; r < table->rows_count; r++) {
        const struct hxl_row *row = &table->rows[r];
        for (uint32_t i = 0; i < row->count; i++) csv_out_text(out, row->cells[i]);
        csv_out_end(out);
    }
}

/* ---------------------------------------------------------------- slugs */

/* U+00C0 … U+00FF as plain letters; "" where there is no letter (× ÷). */
static const char *const latin1_letters[64] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "th", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "th", "y",
};

static void sha256_hex(const char *text, size_t n, char *hex, size_t digits)
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, (const unsigned char *)text, n);
    static const char xd[] = "0123456789abcdef";
    assert(digits <= 2 * sizeof digest);
    for (size_t i = 0; i < digits; i++)
        hex[i] = xd[(digest[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
    hex[digits] = '\0';
}

void hxl_slug(const char *name, char out[HXL_SLUG_BYTES_MAX + 1])
{
    char slug[HXL_SLUG_BYTES_MAX + 16];
    size_t n = 0;
    bool cut = false, dash = false;
    for (const unsigned char *p = (const unsigned char *)name; *p && !cut;) {
        const char *letters = NULL;
        char one[2] = {0};
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) {
            one[0] = (char)*p;
            letters = one;
            p++;
        } else if (*p >= 'A' && *p <= 'Z') {
            one[0] = (char)(*p - 'A' + 'a');
            letters = one;
            p++;
        } else if (*p == 0xc3 && p[1] >= 0x80 && p[1] <= 0xbf) { /* U+00C0 … U+00FF */
            letters = latin1_letters[p[1] - 0x80];
            p += 2;
        } else {
            p++;
        }
        if (letters == NULL || letters[0] == '\0') {
            dash = n > 0;
            continue;
        }
        size_t k = strlen(letters);
        if (n + (dash ? 1 : 0) + k > HXL_SLUG_BYTES_MAX) {
            cut = true;
            break;
        }
        if (dash) slug[n++] = '-';
        dash = false;
        memcpy(slug + n, letters, k);
        n += k;
    }
    slug[n] = '\0';
    char hex[9];
    sha256_hex(name, strlen(name), hex, 8);
    if (n == 0) {
        snprintf(out, HXL_SLUG_BYTES_MAX + 1, "org-%s", hex);
        return;
    }
    if (cut) {
        n = n < HXL_SLUG_BYTES_MAX - 9 ? n : HXL_SLUG_BYTES_MAX - 9; /* room for -xxxxxxxx */
        while (n > 0 && slug[n - 1] == '-') n--;
        snprintf(out, HXL_SLUG_BYTES_MAX + 1, "%.*s-%s", (int)n, slug, hex);
        return;
    }
    memcpy(out, slug, n + 1);
}

/* ---------------------------------------------------------------- funding rows: columns */

/* The columns a funding row is read from; -1 where the file has none. */
struct funding_columns {
    int32_t amount, funder, recipient, funder_type, recipient_type, status, date, flow,
        version, boundary, on_boundary, original, currency, rate, description, ref_code;
    int32_t funder_fts, recipient_fts; /* FTS organisation ids, as concord's export gives them */
    int32_t record; /* the record's id (#meta+id), as concord's export gives it */
    int32_t pending, state; /* a resolution's pending transfer and its state, as it gives them */
};

/* The first pattern of the list that selects a column. */
static int32_t column_any(const struct hxl_table *t, const char *const *patterns)
{
    for (const char *const *p = patterns; *p != NULL; p++) {
        int32_t c = hxl_column_find(t, *p);
        if (c >= 0) return c;
    }
    return -1;
}

/*
 * The patterns, tag by tag (docs/INTEROP.md). HDX's FTS tables put several
 * columns under one tag (#org+name+funder and #org+type+funder+list;
 * #value+funding+total+usd and #value+funding+total): the unwanted
 * attributes keep each pattern on its own column.
 */
static const char *const amount_patterns[] = {"#value+usd-currency-pct", NULL};
static const char *const funder_patterns[] = {"#org+funder-type-code-id-acronym-list",
                                              "#org+donor-type-code-id-acronym-list",
                                              "#org+source-type-code-id-acronym-list", NULL};
static const char *const recipient_patterns[] = {"#org+impl-type-code-id-acronym-list",
                                                 "#org+recipient-type-code-id-acronym-list",
                                                 "#org+destination-type-code-id-acronym-list",
                                                 NULL};
static const char *const funder_type_patterns[] = {"#org+type+funder", "#org+type+donor",
                                                   "#org+type+source", NULL};
static const char *const recipient_type_patterns[] = {"#org+type+impl", "#org+type+recipient",
                                                      "#org+type+destination", NULL};
static const char *const status_patterns[] = {"#status-code", NULL};
static const char *const date_patterns[] = {"#date-year", NULL};
static const char *const flow_patterns[] = {"#activity+id+fts_internal-appeal-project-plan",
                                            NULL};
static const char *const version_patterns[] = {"#meta+version", "#activity+version", NULL};
static const char *const boundary_patterns[] = {"#financial+direction-type", NULL};
static const char *const on_boundary_patterns[] = {"#financial+direction+type", NULL};
static const char *const original_patterns[] = {"#value+funding-usd-currency-pct",
                                                "#value+original-usd-currency-pct", NULL};
static const char *const currency_patterns[] = {"#value+currency", "#currency", NULL};
static const char *const rate_patterns[] = {"#financial+fx", NULL};
static const char *const description_patterns[] = {"#description-keywords", NULL};
static const char *const ref_code_patterns[] = {"#activity+code-appeal-project-plan", NULL};
static const char *const funder_fts_patterns[] = {"#org+id+funder+fts_internal", NULL};
static const char *const recipient_fts_patterns[] = {"#org+id+impl+fts_internal", NULL};
static const char *const record_patterns[] = {"#meta+id-pending", NULL};
static const char *const pending_patterns[] = {"#meta+id+pending", NULL};
static const char *const state_patterns[] = {"#status+code", NULL};

static void columns_find(const struct hxl_table *t, struct funding_columns *c)
{
    c->amount = column_any(t, amount_patterns);
    c->funder = column_any(t, funder_patterns);
    c->recipient = column_any(t, recipient_patterns);
    c->funder_type = column_any(t, funder_type_patterns);
    c->recipient_type = column_any(t, recipient_type_patterns);
    c->status = column_any(t, status_patterns);
    c->date = column_any(t, date_patterns);
    c->flow = column_any(t, flow_patterns);
    c->version = column_any(t, version_patterns);
    c->boundary = column_any(t, boundary_patterns);
    c->on_boundary = column_any(t, on_boundary_patterns);
    c->original = column_any(t, original_patterns);
    c->currency = column_any(t, currency_patterns);
    c->rate = column_any(t, rate_patterns);
    c->description = column_any(t, description_patterns);
    c->ref_code = column_any(t, ref_code_patterns);
    c->funder_fts = column_any(t, funder_fts_patterns);
    c->recipient_fts = column_any(t, recipient_fts_patterns);
    c->record = column_any(t, record_patterns);
    c->pending = column_any(t, pending_patterns);
    c->state = column_any(t, state_patterns);
    /* A column is read for one thing: #value alone could select the USD column again. */
    if (c->original == c->amount) c->original = -1;
}

/* ---------------------------------------------------------------- funding rows: values */

/* Reads one data row; `ok` turns false at its first bad value (every one is reported). */
struct row_reader {
    const struct hxl_table *table;
    const struct hxl_row *row;
    const char *name;
    struct hxl_problems *problems;
    struct arena *scratch;
    bool ok;
};

static bool bad(struct row_reader *r, int32_t column, const char *value, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Reports a bad value with its place: file, row, column and the column's hashtag. */
static bool bad(struct row_reader *r, int32_t column, const char *value, const char *fmt, ...)
{
    assert(column >= 0 && (uint32_t)column < r->table->columns_count); /* a cell, to name */
    char text[HXL_PROBLEM_BYTES], shown[HXL_VALUE_SHOWN_BYTES + 8];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    value_shown(value != NULL ? value : "", shown);
    if (value != NULL && value[0] != '\0')
        hxl_problem(r->problems, "%s: row %u, column %d (%s): \"%s\": %s", r->name,
                    r->row->number, column + 1, r->table->columns[column].display, shown, text);
    else
        hxl_problem(r->problems, "%s: row %u, column %d (%s): %s", r->name, r->row->number,
                    column + 1, r->table->columns[column].display, text);
    r->ok = false;
    return false;
}

/*
 * The cell of a column, its surrounding spaces trimmed; "" where the row has
 * none. A ' before a character a spreadsheet would run as a formula (= + - @
 * tab CR) is the formula guard of concord's export (fmt/csv_out.c), and of
 * the spreadsheets that show such text: it is not the value, and is left
 * out, so that a row exported and imported again says what it said.
 */
static const char *cell(struct row_reader *r, int32_t column)
{
    if (column < 0 || (uint32_t)column >= r->row->count) return "";
    const char *s = r->row->cells[column];
    while (is_space(*s)) s++;
    if (csv_guarded(s)) s++; /* the export's guard (fmt/csv_out.c) */
    while (is_space(*s)) s++;
    size_t n = strlen(s);
    while (n > 0 && is_space(s[n - 1])) n--;
    const char *copy = arena_strndup(r->scratch, s, n);
    if (copy == NULL) {
        hxl_problem(r->problems, "%s: row %u: out of memory", r->name, r->row->number);
        r->ok = false;
        return "";
    }
    return copy;
}

static bool has_control(const char *s, bool lines_allowed)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (lines_allowed && (c == '\n' || c == '\r' || c == '\t')) continue;
        if (c < 0x20 || c == 0x7f) return true;
    }
    return false;
}

static bool same_word(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (lower(*a) != *b) return false;
    return *a == '\0' && *b == '\0';
}

/* One of words (lower-case), case aside; NULL and a problem otherwise. */
static const char *word(struct row_reader *r, int32_t column, const char *value,
                        const char *const *words)
{
    for (const char *const *w = words; *w != NULL; w++)
        if (same_word(value, *w)) return *w;
    char list[160] = "";
    for (const char *const *w = words; *w != NULL; w++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", w == words ? "" : ", ",
                 *w);
    bad(r, column, value, "must be one of %s", list);
    return NULL;
}

/* US dollars as written ("1234.50", "1,234.50") into cents, exactly. */
static bool usd_read(struct row_reader *r, int32_t column, const char *value, bool zero_ok,
                     int64_t *cents)
{
    if (value[0] == '\0') return bad(r, column, value, "empty: the amount in US dollars is required");
    if (value[0] == '-') return bad(r, column, value, "must not be negative");
    const char *point = strchr(value, '.');
    if (point != NULL && strchr(point, ',') != NULL) /* 1.234,50: a decimal comma */
        return bad(r, column, value, "not a decimal number of US dollars: write 1234.50, a "
                                     "point before the cents (commas only between thousands)");
    switch (amount_parse(value, 2, cents)) {
    case AMOUNT_OK: break;
    case AMOUNT_MALFORMED:
        return bad(r, column, value,
                   "not a decimal number of US dollars (such as 1234.50 or 1,234.50)");
    case AMOUNT_TOO_PRECISE:
        return bad(r, column, value, "more than 2 decimal places: US dollars are counted in cents");
    case AMOUNT_OUT_OF_RANGE: return bad(r, column, value, "too large");
    }
    if (*cents == 0 && !zero_ok)
        return bad(r, column, value, "must be more than 0 (only a row with an FTS flow id may "
                                     "be of 0 USD)");
    return true;
}

/* A non-negative decimal as written, kept as text without its thousands separators. */
static const char *decimal_read(struct row_reader *r, int32_t column, const char *value,
                                bool positive)
{
    char text[HXL_DECIMAL_BYTES_MAX + 1];
    size_t n = 0;
    bool point = false, digit = false, nonzero = false;
    for (const char *p = value; *p; p++) {
        if (*p == ',' && !point) continue;
        bool ok = (*p >= '0' && *p <= '9') || (*p == '.' && !point);
        if (!ok || n == HXL_DECIMAL_BYTES_MAX) {
            bad(r, column, value, "not a decimal number of at most %d digits (such as 1234.5)",
                HXL_DECIMAL_BYTES_MAX);
            return NULL;
        }
        point |= *p == '.';
        digit |= *p != '.';
        nonzero |= *p >= '1' && *p <= '9';
        text[n++] = *p;
    }
    text[n] = '\0';
    if (!digit || text[0] == '.' || text[n - 1] == '.') {
        bad(r, column, value, "not a decimal number (such as 1234.5)");
        return NULL;
    }
    if (positive && !nonzero) {
        bad(r, column, value, "must be more than 0");
        return NULL;
    }
    return arena_strdup(r->scratch, text);
}

static const char *const month_names[12] = {"january", "february", "march",     "april",
                                            "may",     "june",     "july",      "august",
                                            "september", "october", "november", "december"};

/* A month's English name, or its first three letters or more: 1 … 12, else 0. */
static int month_of(const char *word_text, size_t n)
{
    if (n < 3) return 0;
    for (int m = 0; m < 12; m++) {
        if (n > strlen(month_names[m])) continue;
        size_t i = 0;
        while (i < n && lower(word_text[i]) == month_names[m][i]) i++;
        if (i == n) return m + 1;
    }
    return 0;
}

/*
 * A date as spreadsheets write it: 2021-02-25, 2021/02/25, an RFC 3339
 * date-time (a time without a zone is UTC), "25 February 2021", "25 Feb
 * 2021", "February 25, 2021". Into out: YYYY-MM-DD, or the canonical
 * date-time when it is not midnight UTC. Day-first and month-first numbers
 * (01/03/2021) are refused: the same text means two dates.
 */
static bool date_text(const char *value, char out[TIME_TEXT_BYTES])
{
    char text[64];
    size_t n = strlen(value);
    if (n == 0 || n >= sizeof text - 1) return false;
    memcpy(text, value, n + 1);
    if (n == 10 && text[4] == '/' && text[7] == '/') text[4] = text[7] = '-';
    if (n == 19 && text[10] == 'T') { /* a local date-time without a zone: read as UTC */
        text[19] = 'Z';
        text[20] = '\0';
    }
    int64_t ns;
    bool date_only;
    if (time_parse(text, &ns, &date_only)) {
        time_format_date(ns, out);
        return true;
    }
    /* Three words: a day, a month's name and a year, in either order of day and month. */
    const char *words[3];
    size_t lengths[3], count = 0;
    for (const char *p = value; *p && count <= 3;) {
        while (*p == ' ' || *p == ',' || *p == '-' || *p == '.') p++;
        if (*p == '\0') break;
        const char *start = p;
        while (*p && *p != ' ' && *p != ',' && *p != '-' && *p != '.') p++;
        if (count == 3) return false;
        words[count] = start;
        lengths[count++] = (size_t)(p - start);
    }
    if (count != 3) return false;
    int day = 0, month = 0, year = 0;
    for (size_t i = 0; i < 3; i++) {
        bool digits = true;
        for (size_t k = 0; k < lengths[i]; k++) digits &= words[i][k] >= '0' && words[i][k] <= '9';
        if (!digits) {
            if (month != 0 || (month = month_of(words[i], lengths[i])) == 0) return false;
        } else if (lengths[i] == 4 && i == 2) {
            year = atoi(words[i]);
        } else if (lengths[i] <= 2 && day == 0) {
            day = atoi(words[i]);
        } else {
            return false;
        }
    }
    if (day == 0 || month == 0 || year == 0) return false;
    snprintf(text, sizeof text, "%04d-%02d-%02d", year, month, day);
    if (!time_parse(text, &ns, &date_only)) return false;
    time_format_date(ns, out);
    return true;
}

/* An organisation's name: required but for FTS rows, which may leave a side unspecified. */
static const char *org_name(struct row_reader *r, int32_t column, const char *what,
                            bool required)
{
    if (column < 0) {
        if (required) {
            hxl_problem(r->problems, "%s: row %u: no column for the %s", r->name, r->row->number,
                        what);
            r->ok = false;
        }
        return NULL;
    }
    const char *name = cell(r, column);
    if (name[0] == '\0') {
        if (required) bad(r, column, name, "empty: the %s is required", what);
        return NULL;
    }
    if (strlen(name) > LEDGER_NAME_BYTES_MAX) {
        bad(r, column, name, "longer than %d bytes", LEDGER_NAME_BYTES_MAX);
        return NULL;
    }
    if (has_control(name, false)) {
        bad(r, column, name, "holds a control character (a line break or a tab)");
        return NULL;
    }
    return name;
}

/* An organisation's type (#org+type+funder+list): its first item, when it holds one. */
static const char *org_type(struct row_reader *r, int32_t column)
{
    const char *types = cell(r, column);
    size_t n = strcspn(types, ",;|");
    while (n > 0 && is_space(types[n - 1])) n--;
    if (n == 0 || n > 64 || has_control(types, false)) return NULL;
    return arena_strndup(r->scratch, types, n);
}

/*
 * s cut to limit bytes on a character boundary (a description, as FTS's are
 * kept), copied into the arena (s itself when it fits).
 */
static const char *text_cut(struct arena *arena, const char *s, size_t limit)
{
    size_t n = strlen(s);
    if (n <= limit) return s;
    n = limit;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
    return arena_strndup(arena, s, n);
}

/* ---------------------------------------------------------------- funding rows: operations */

/* Appends "key=value" and a separator to the row's content, which its id is a digest of. */
static void content_add(char **content, size_t *length, bool *failed, const char *key,
                        const char *value)
{
    if (*failed) return;
    size_t k = strlen(key), v = value != NULL ? strlen(value) : 0;
    char *grown = realloc(*content, *length + k + v + 3);
    if (grown == NULL) {
        *failed = true;
        return;
    }
    *content = grown;
    memcpy(grown + *length, key, k);
    grown[*length + k] = '=';
    if (v > 0) memcpy(grown + *length + k + 1, value, v);
    grown[*length + k + 1 + v] = '\x1e'; /* a record separator: no value holds one */
    *length += k + v + 2;
}

/* The values of one row, as read. */
struct funding_row {
    const char *funder, *recipient, *funder_type, *recipient_type, *status, *date, *flow;
    const char *boundary, *on_boundary, *original, *currency, *rate, *description, *ref_code;
    const char *funder_fts, *recipient_fts; /* FTS organisation ids, or NULL */
    int64_t cents, version;
};

/*
 * The id of a row without an FTS flow id: "hxl." and 16 hex digits of the
 * SHA-256 of what the row says (not where it is: the same row from another
 * file, or moved, is the same funding) and of its occurrence among rows
 * saying the same (two equal rows are two flows). NULL when out of memory.
 */
static const char *content_id(const struct funding_row *v, struct strmap *seen,
                              struct arena *scratch)
{
    char cents[24];
    snprintf(cents, sizeof cents, "%lld", (long long)v->cents);
    char *content = NULL;
    size_t length = 0;
    bool failed = false;
    const char *const fields[][2] = {
        {"status", v->status},         {"amount_usd", cents},
        {"date", v->date},             {"funder", v->funder},
        {"recipient", v->recipient},   {"currency", v->currency},
        {"original_amount", v->original}, {"rate", v->rate},
        {"description", v->description}, {"ref_code", v->ref_code},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        content_add(&content, &length, &failed, fields[i][0], fields[i][1]);
    if (failed) {
        free(content);
        return NULL;
    }
    char digest[65];
    sha256_hex(content, length, digest, 64);
    uint32_t occurrence = 0; /* rows before this one saying the same */
    const char *key = arena_strdup(scratch, digest);
    if (key != NULL && !strmap_get(seen, key, &occurrence)) occurrence = 0;
    if (key == NULL || !strmap_put(seen, key, occurrence + 1)) {
        free(content);
        return NULL;
    }
    if (occurrence > 0) { /* the second equal row and after: their occurrence is in the digest */
        char number[16];
        snprintf(number, sizeof number, "%u", occurrence + 1);
        content_add(&content, &length, &failed, "occurrence", number);
        if (failed) {
            free(content);
            return NULL;
        }
    }
    char hex[HXL_ID_HEX_DIGITS + 1];
    sha256_hex(content, length, hex, HXL_ID_HEX_DIGITS);
    free(content);
    char id[sizeof HXL_ID_PREFIX + HXL_ID_HEX_DIGITS];
    snprintf(id, sizeof id, HXL_ID_PREFIX "%s", hex);
    return arena_strdup(scratch, id);
}

/* An FTS id, of a flow or an organisation: 1 to HXL_FTS_ID_DIGITS_MAX decimal digits. */
static bool fts_id_valid(const char *id)
{
    size_t n = strlen(id);
    return n > 0 && n <= HXL_FTS_ID_DIGITS_MAX && strspn(id, "0123456789") == n;
}

/*
 * A valid FTS id without the zeros a spreadsheet may pad it with: 0228238 is
 * flow 228238, which FTS and the FTS import name so, not another flow.
 */
static const char *fts_id_plain(const char *id)
{
    while (id[0] == '0' && id[1] != '\0') id++;
    return id;
}

/* An FTS organisation id, or NULL when the cell is empty or bad. */
static const char *fts_org_id(struct row_reader *r, int32_t column)
{
    const char *id = cell(r, column);
    if (id[0] == '\0') return NULL;
    if (fts_id_valid(id)) return fts_id_plain(id);
    bad(r, column, id, "not an FTS organisation id (1 to %d decimal digits)",
        HXL_FTS_ID_DIGITS_MAX);
    return NULL;
}

/* The FTS side of a row: flow id, version, boundary, organisation ids. */
static void fts_values(struct row_reader *r, const struct funding_columns *c,
                       struct funding_row *v)
{
    static const char *const boundaries[] = {"incoming", "internal", "outgoing", NULL};
    static const char *const on_boundaries[] = {"single", "shared", NULL};
    if (!fts_id_valid(v->flow))
        bad(r, c->flow, v->flow, "not an FTS flow id (1 to %d decimal digits)",
            HXL_FTS_ID_DIGITS_MAX);
    else
        v->flow = fts_id_plain(v->flow);
    v->version = 1;
    const char *version = cell(r, c->version);
    if (version[0] != '\0') {
        char *end;
        long long k = strtoll(version, &end, 10);
        if (*end != '\0' || version[0] < '1' || version[0] > '9' || k > HXL_VERSION_MAX)
            bad(r, c->version, version, "not a version (an integer from 1 to %d)",
                HXL_VERSION_MAX);
        else
            v->version = k;
    }
    const char *boundary = cell(r, c->boundary), *on_boundary = cell(r, c->on_boundary);
    if (c->boundary < 0) {
        hxl_problem(r->problems, "%s: row %u: an FTS flow id without a #financial+direction "
                                 "column (incoming, internal or outgoing)",
                    r->name, r->row->number);
        r->ok = false;
    } else {
        v->boundary = word(r, c->boundary, boundary, boundaries);
    }
    if (c->on_boundary < 0) {
        hxl_problem(r->problems, "%s: row %u: an FTS flow id without a "
                                 "#financial+direction+type column (single or shared)",
                    r->name, r->row->number);
        r->ok = false;
    } else {
        v->on_boundary = word(r, c->on_boundary, on_boundary, on_boundaries);
    }
    v->funder_fts = fts_org_id(r, c->funder_fts);
    v->recipient_fts = fts_org_id(r, c->recipient_fts);
}

/* Every value of the row, checked; false when one is bad (each is reported). */
static bool values_read(struct row_reader *r, const struct funding_columns *c,
                        struct funding_row *v)
{
    static const char *const statuses[] = {"pledge", "commitment", "paid", NULL};
    memset(v, 0, sizeof *v);
    v->flow = cell(r, c->flow);
    bool fts = v->flow[0] != '\0';
    if (fts) fts_values(r, c, v);
    usd_read(r, c->amount, cell(r, c->amount), fts, &v->cents);
    v->funder = org_name(r, c->funder, "funder (#org+name+funder)", !fts);
    v->recipient = org_name(r, c->recipient, "recipient (#org+name+impl)", !fts);
    v->funder_type = v->funder != NULL ? org_type(r, c->funder_type) : NULL;
    v->recipient_type = v->recipient != NULL ? org_type(r, c->recipient_type) : NULL;
    const char *status = cell(r, c->status);
    v->status = status[0] == '\0' ? "paid" : word(r, c->status, status, statuses);
    const char *date = cell(r, c->date);
    char day[TIME_TEXT_BYTES];
    if (c->date < 0) {
        hxl_problem(r->problems, "%s: row %u: no #date column: each flow needs its date",
                    r->name, r->row->number);
        r->ok = false;
    } else if (date[0] == '\0') {
        bad(r, c->date, date, "empty: the date of the flow is required");
    } else if (!date_text(date, day)) {
        bad(r, c->date, date, "not a date: write it as YYYY-MM-DD");
    } else {
        v->date = arena_strdup(r->scratch, day);
    }
    const char *currency = cell(r, c->currency);
    if (currency[0] != '\0') {
        bool code = strlen(currency) == 3;
        for (int i = 0; i < 3 && code; i++) code = is_letter(currency[i]);
        if (!code) {
            bad(r, c->currency, currency, "not a three-letter currency code such as EUR");
        } else {
            char upper[4] = {0};
            for (int i = 0; i < 3; i++) upper[i] = (char)(currency[i] & ~0x20);
            v->currency = arena_strdup(r->scratch, upper);
        }
    }
    const char *original = cell(r, c->original), *rate = cell(r, c->rate);
    if (original[0] != '\0') v->original = decimal_read(r, c->original, original, false);
    if (rate[0] != '\0') v->rate = decimal_read(r, c->rate, rate, true);
    /* Cut here, as recorded, so that a row's id is a digest of what its export gives back. */
    const char *description = cell(r, c->description);
    if (description[0] != '\0') {
        if (has_control(description, true))
            bad(r, c->description, description, "holds a control character");
        else
            v->description = text_cut(r->scratch, description, HXL_MEMO_BYTES_MAX);
    }
    const char *ref_code = cell(r, c->ref_code);
    if (ref_code[0] != '\0') {
        /* FTS's reference codes hold line breaks (several codes in one): kept, as fts.c keeps them. */
        if (has_control(ref_code, true))
            bad(r, c->ref_code, ref_code, "holds a control character");
        else
            v->ref_code = text_cut(r->scratch, ref_code, HXL_REF_CODE_BYTES_MAX);
    }
    if ((description[0] != '\0' && v->description == NULL && r->ok) ||
        (ref_code[0] != '\0' && v->ref_code == NULL && r->ok)) {
        hxl_problem(r->problems, "%s: row %u: out of memory", r->name, r->row->number);
        r->ok = false;
    }
    return r->ok;
}

/*
 * An organisation of a row. One FTS gave no name (concord's export writes its
 * id, its name empty) is still that organisation: named for its id, its
 * money goes to its accounts, not to those of organisations FTS left unsaid.
 */
static json_t *org_json(const char *name, const char *type, const char *fts_id)
{
    char unnamed[HXL_FTS_ID_DIGITS_MAX + 24];
    if (name == NULL) snprintf(unnamed, sizeof unnamed, "FTS organisation %s", fts_id);
    json_t *o = json_pack("{s:s}", "name", name != NULL ? name : unnamed);
    if (type != NULL) json_object_set_new(o, "type", json_string(type));
    if (fts_id != NULL) json_object_set_new(o, "fts_id", json_string(fts_id));
    return o;
}

/* The row's operation (see app/domain_hxl.c for its fields). */
static json_t *row_op(const struct funding_row *v, const char *id)
{
    json_t *op = json_pack("{s:s,s:s,s:s,s:I,s:s}", "op", "hxl_flow", "id", id, "status",
                           v->status, "amount_usd", (json_int_t)v->cents, "date", v->date);
    if (v->funder != NULL || v->funder_fts != NULL)
        json_object_set_new(op, "funder", org_json(v->funder, v->funder_type, v->funder_fts));
    if (v->recipient != NULL || v->recipient_fts != NULL)
        json_object_set_new(op, "recipient",
                            org_json(v->recipient, v->recipient_type, v->recipient_fts));
    if (v->flow[0] != '\0') {
        json_object_set_new(op, "flow", json_string(v->flow));
        json_object_set_new(op, "version", json_integer(v->version));
        json_object_set_new(op, "boundary", json_string(v->boundary));
        json_object_set_new(op, "on_boundary", json_string(v->on_boundary));
    }
    if (v->currency != NULL) json_object_set_new(op, "currency", json_string(v->currency));
    if (v->original != NULL) json_object_set_new(op, "original_amount", json_string(v->original));
    if (v->rate != NULL) json_object_set_new(op, "rate", json_string(v->rate));
    if (v->description != NULL)
        json_object_set_new(op, "description", json_string(v->description)); /* cut */
    if (v->ref_code != NULL)
        json_object_set_new(op, "ref_code", json_string(v->ref_code)); /* cut */
    return op;
}

/*
 * Which of a flow's records the row is, by its id (#meta+id) in concord's
 * export: false for any other id, and for a table without that column.
 */
static bool record_of(struct row_reader *r, const struct funding_columns *c,
                      enum fts_record *kind)
{
    const char *id = cell(r, c->record);
    if (strncmp(id, "fts.", 4) != 0) return false;
    size_t digits = strspn(id + 4, "0123456789");
    if (digits == 0 || digits > HXL_FTS_ID_DIGITS_MAX || strncmp(id + 4 + digits, ".v", 2) != 0)
        return false;
    char prefix[HXL_FTS_ID_DIGITS_MAX + 8]; /* "fts.<flow>.v" */
    snprintf(prefix, sizeof prefix, "%.*s", (int)(digits + 6), id);
    int64_t version;
    return fts_record_of(id, prefix, &version, kind);
}

/* Does the row hold anything in a column the import reads? */
static bool row_holds_funding(const struct hxl_row *row, const struct funding_columns *c)
{
    const int32_t columns[] = {c->amount,  c->funder,   c->recipient,   c->status,
                               c->date,    c->flow,     c->original,    c->currency,
                               c->rate,    c->description, c->ref_code, c->boundary};
    for (size_t i = 0; i < sizeof columns / sizeof columns[0]; i++)
        if (columns[i] >= 0 && (uint32_t)columns[i] < row->count &&
            !blank(row->cells[columns[i]]))
            return true;
    return false;
}

/*
 * A resolution row of concord's export (#meta+id+pending given): the posting
 * or voiding of a pending transfer (a pledge), as a `post` or `void` of it
 * under the record's own id, so that a pledge the exporting ledger resolved
 * comes back resolved. A record the ledger's rules made by themselves (an
 * expiry, a condition's or approvals' decision: ids ending /expiry,
 * /condition, /approval) cannot be made by an operation: it is counted in
 * resolutions->passed_over, and its pledge stays pending here.
 */
static void resolution_read(struct row_reader *r, const struct funding_columns *c,
                            const char *pending, struct hxl_resolutions *resolutions)
{
    if (c->record < 0 || c->state < 0) { /* no cell to name: the row is the place */
        hxl_problem(r->problems, "%s: row %u: a resolution (#meta+id+pending) needs its "
                                 "record's id (#meta+id) and state (#status+code) columns",
                    r->name, r->row->number);
        r->ok = false;
        return;
    }
    const char *id = cell(r, c->record), *state = cell(r, c->state);
    if (ledger_reserved_transfer_id(id)) {
        resolutions->passed_over++;
        return;
    }
    if (!ledger_valid_transfer_id(id))
        bad(r, c->record, id, "not a transfer id: a resolution row names its record");
    if (!ledger_valid_transfer_id(pending))
        bad(r, c->pending, pending, "not a transfer id");
    bool voided = strcmp(state, "voided") == 0, posted = strcmp(state, "posted") == 0;
    if (!voided && !posted)
        bad(r, c->state, state, "a resolution row is posted or voided");
    int64_t cents = 0;
    if (posted) usd_read(r, c->amount, cell(r, c->amount), false, &cents);
    if (!r->ok) return;
    json_t *op = posted ? json_pack("{s:s,s:s,s:s,s:I}", "op", "post", "id", id, "pending_id",
                                    pending, "amount", (json_int_t)cents)
                        : json_pack("{s:s,s:s,s:s}", "op", "void", "id", id, "pending_id",
                                    pending);
    json_array_append_new(resolutions->ops,
                          json_pack("{s:I,s:o}", "row", (json_int_t)r->row->number, "op", op));
}

bool hxl_funding_ops(const struct hxl_table *table, const char *name, json_t *out,
                     uint32_t *corrections, struct hxl_resolutions *resolutions,
                     struct hxl_problems *problems)
{
    resolutions->passed_over = 0;
    struct funding_columns c;
    columns_find(table, &c);
    uint32_t before = problems->count;
    size_t given = json_array_size(out), resolutions_given = json_array_size(resolutions->ops);
    *corrections = 0;
    if (c.amount < 0)
        hxl_problem(problems, "%s: no column tagged #value+usd (the amount in US dollars, as "
                              "HDX's #value+funding+total+usd): not a table of funding",
                    name);
    if (c.amount < 0) return false;
    struct arena scratch;
    arena_init(&scratch);
    struct strmap seen;
    strmap_init(&seen);
    for (uint32_t i = table->tags_row + 1; i < table->rows_count; i++) {
        const struct hxl_row *row = &table->rows[i];
        if (!row_holds_funding(row, &c)) continue; /* a blank line, or notes in other columns */
        struct row_reader r = {.table = table, .row = row, .name = name, .problems = problems,
                               .scratch = &scratch, .ok = true};
        /*
         * A correcting entry of the exporting ledger (the undoing of a superseded
         * version: a reversal or a void) is no flow of its own. The import makes the
         * same entry again from the versions the table gives, so it is passed over:
         * read as a row, it would count the flow twice.
         */
        enum fts_record kind;
        bool record = record_of(&r, &c, &kind);
        if (record && (kind == FTS_RECORD_SUPERSEDES || kind == FTS_RECORD_TABLE_SUPERSEDED)) {
            (*corrections)++;
            continue;
        }
        /* The exporting ledger's posting or voiding of a pledge: made here again, after. */
        const char *pending = cell(&r, c.pending);
        if (pending[0] != '\0') {
            resolution_read(&r, &c, pending, resolutions);
            continue;
        }
        struct funding_row v;
        if (!values_read(&r, &c, &v)) continue;
        const char *id;
        char fts_id[64];
        if (v.flow[0] != '\0') {
            fts_transfer_id(fts_id, sizeof fts_id, v.flow, v.version);
            id = fts_id;
        } else {
            id = content_id(&v, &seen, &scratch);
        }
        if (id == NULL) {
            hxl_problem(problems, "%s: row %u: out of memory", name, row->number);
            continue;
        }
        if (problems->count > before) continue; /* an earlier row failed: only checking */
        json_t *item = json_pack("{s:I,s:o}", "row", (json_int_t)row->number, "op", row_op(&v, id));
        /* The exporting ledger's record of a version as a table gave it (see rows_prepare). */
        if (v.flow[0] != '\0' && record && kind == FTS_RECORD_TABLE)
            json_object_set_new(item, "table_record", json_true());
        json_array_append_new(out, item);
    }
    strmap_free(&seen);
    arena_free(&scratch);
    if (problems->count == before) return true;
    while (json_array_size(out) > given) /* all of the file or nothing */
        json_array_remove(out, json_array_size(out) - 1);
    while (json_array_size(resolutions->ops) > resolutions_given)
        json_array_remove(resolutions->ops, json_array_size(resolutions->ops) - 1);
    return false;
}
