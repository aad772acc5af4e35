/*
 * fuzz_hxl.c — the HXL reader: hxl_read, hxl_table_json, hxl_table_csv,
 * hxl_funding_ops, hxl_column_find, hxl_slug (src/fmt/hxl.c).
 *
 * The first byte of the input chooses the file's name, and with it the
 * separator (x.csv: guessed, x.tsv: tab, x.ssv: semicolon); the rest is
 * the file. Checks besides the sanitizers:
 *
 *   - a refusal carries at least one problem; every problem names the file
 *     and is valid UTF-8 without control characters (they go to terminals);
 *   - a table keeps the limits (rows, columns, cell bytes), finds its
 *     hashtag row among the first 25 records, numbers its records 1, 2, …,
 *     holds only UTF-8 cells, and has one column per cell of the hashtag
 *     row, each untagged ("") or a hashtag that parses back to itself and
 *     starts with its tag;
 *   - written as CSV (hxl_table_csv) and read again with commas, the table
 *     is the same: headers, hashtags and every data row (unless the header
 *     row, cut to the columns, reads as hashtags itself);
 *   - hxl_table_json gives the header row, the hashtag row and one array
 *     per data row;
 *   - funding rows: either operations, one per row at most, each with an
 *     id and a row of the table, and no problem; or problems and none;
 *   - every slug of a cell is 1 … 47 bytes of [a-z0-9-], with no '-' at
 *     either end and none doubled.
 */
#include <stdint.h>
#include <string.h>

#include "fmt/hxl.h"
#include "fuzz.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_message(const char *text, const char *name)
{
    size_t n = strlen(text);
    FUZZ_CHECK(n > 0 && utf8_valid(text, n), "a problem that is not UTF-8 text");
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK((unsigned char)text[i] >= 0x20 && text[i] != 0x7f,
                   "control character 0x%02x in a problem: %s", (unsigned char)text[i], text);
    FUZZ_CHECK(strncmp(text, name, strlen(name)) == 0, "a problem without its file: %s", text);
}

static void check_problems(const struct hxl_problems *p, const char *name)
{
    FUZZ_CHECK(p->count >= 1 && p->listed >= 1, "refused without a problem");
    FUZZ_CHECK(p->listed <= p->count && p->listed <= HXL_PROBLEMS_LISTED, "listed %u of %u",
               p->listed, p->count);
    for (uint32_t i = 0; i < p->listed; i++) check_message(p->text[i], name);
}

static void check_slug(const char *cell)
{
    char slug[HXL_SLUG_BYTES_MAX + 1];
    hxl_slug(cell, slug);
    size_t n = strlen(slug);
    FUZZ_CHECK(n >= 1 && n <= HXL_SLUG_BYTES_MAX, "slug of %zu bytes", n);
    FUZZ_CHECK(slug[0] != '-' && slug[n - 1] != '-' && strstr(slug, "--") == NULL,
               "slug %s", slug);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK((slug[i] >= 'a' && slug[i] <= 'z') || (slug[i] >= '0' && slug[i] <= '9') ||
                       slug[i] == '-',
                   "slug %s", slug);
}

static void check_table(const struct hxl_table *t)
{
    FUZZ_CHECK(t->rows_count >= 1 && t->rows_count <= HXL_ROWS_MAX, "%u rows", t->rows_count);
    FUZZ_CHECK(t->tags_row < t->rows_count && t->tags_row <= HXL_HEADER_ROWS_MAX,
               "hashtag row %u", t->tags_row);
    FUZZ_CHECK(t->columns_count == t->rows[t->tags_row].count, "%u columns, %u hashtag cells",
               t->columns_count, t->rows[t->tags_row].count);
    for (uint32_t r = 0; r < t->rows_count; r++) {
        const struct hxl_row *row = &t->rows[r];
        FUZZ_CHECK(row->number == r + 1, "row %u numbered %u", r + 1, row->number);
        FUZZ_CHECK(row->count <= HXL_COLUMNS_MAX, "%u cells", row->count);
        for (uint32_t i = 0; i < row->count; i++) {
            size_t n = strlen(row->cells[i]);
            FUZZ_CHECK(n <= HXL_CELL_BYTES_MAX && utf8_valid(row->cells[i], n),
                       "row %u cell %u: %zu bytes, or not UTF-8", r + 1, i + 1, n);
            if (i < 4) check_slug(row->cells[i]);
        }
    }
    for (uint32_t i = 0; i < t->columns_count; i++) {
        const struct hxl_column *c = &t->columns[i];
        if (c->tag == NULL) {
            FUZZ_CHECK(c->display[0] == '\0', "untagged column %u shows %s", i + 1, c->display);
            continue;
        }
        static char again[HXL_CELL_BYTES_MAX + 1];
        FUZZ_CHECK(hxl_hashtag(c->display, again, sizeof again) &&
                       strcmp(again, c->display) == 0,
                   "column %u: %s does not parse back to itself", i + 1, c->display);
        FUZZ_CHECK(c->tag[0] == '#' && strncmp(c->display, c->tag, strlen(c->tag)) == 0 &&
                       (c->display[strlen(c->tag)] == '\0' || c->display[strlen(c->tag)] == '+'),
                   "column %u: tag %s of %s", i + 1, c->tag, c->display);
    }
    static const char *const patterns[] = {"#org", "#value+usd", "#date-year",
                                           "#financial+direction-type", "#x+y-z"};
    for (size_t p = 0; p < sizeof patterns / sizeof patterns[0]; p++) {
        int32_t c = hxl_column_find(t, patterns[p]);
        FUZZ_CHECK(c >= -1 && c < (int32_t)t->columns_count, "column %d", c);
        if (c >= 0) {
            size_t k = strcspn(patterns[p], "+-");
            FUZZ_CHECK(strlen(t->columns[c].tag) == k &&
                           strncmp(t->columns[c].tag, patterns[p], k) == 0,
                       "%s selected %s", patterns[p], t->columns[c].display);
        }
    }
}

/* A data row as written to CSV reads back: a row of one empty cell is a blank line. */
static uint32_t cells_written(const struct hxl_row *row)
{
    return row->count == 1 && row->cells[0][0] == '\0' ? 0 : row->count;
}

static void check_round_trip(const struct hxl_table *t)
{
    char *text = NULL;
    size_t length = 0;
    FILE *f = open_memstream(&text, &length);
    if (f == NULL) return;
    struct csv_out out;
    csv_out_init(&out, f);
    hxl_table_csv(t, &out);
    bool written = !csv_out_failed(&out);
    fclose(f);
    static struct hxl_problems problems;
    memset(&problems, 0, sizeof problems);
    struct hxl_table copy;
    /* A byte-order mark at the start of the first cell would be taken for the file's own. */
    bool bom = length >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0;
    if (written && !bom && length <= HXL_FILE_BYTES_MAX) {
        bool read = hxl_read_as("copy.csv", text, length, ',', &copy, &problems);
        FUZZ_CHECK(read, "the table written as CSV is refused: %s",
                   problems.listed ? problems.text[0] : "");
        /* The copy is the header row, then the hashtag row. Cut to the columns, the header
           row can become hashtags itself (libhxl's format has the same ambiguity): then only
           that is checked. */
        FUZZ_CHECK(copy.tags_row <= 1, "the copy's hashtag row is %u", copy.tags_row);
        if (copy.tags_row == 1) {
            FUZZ_CHECK(copy.columns_count == t->columns_count, "%u columns, then %u",
                       t->columns_count, copy.columns_count);
            for (uint32_t i = 0; i < t->columns_count; i++) {
                const char *h0 = t->columns[i].header ? t->columns[i].header : "";
                const char *h1 = copy.columns[i].header ? copy.columns[i].header : "";
                FUZZ_CHECK(strcmp(h0, h1) == 0, "header %u: %s, then %s", i + 1, h0, h1);
                FUZZ_CHECK(strcmp(t->columns[i].display, copy.columns[i].display) == 0,
                           "hashtag %u: %s, then %s", i + 1, t->columns[i].display,
                           copy.columns[i].display);
            }
            uint32_t data = t->rows_count - t->tags_row - 1;
            FUZZ_CHECK(copy.rows_count - copy.tags_row - 1 == data, "%u data rows, then %u",
                       data, copy.rows_count - copy.tags_row - 1);
            for (uint32_t r = 0; r < data; r++) {
                const struct hxl_row *a = &t->rows[t->tags_row + 1 + r];
                const struct hxl_row *b = &copy.rows[copy.tags_row + 1 + r];
                FUZZ_CHECK(cells_written(a) == cells_written(b), "data row %u: %u cells, then %u",
                           r + 1, a->count, b->count);
                for (uint32_t i = 0; i < cells_written(a); i++)
                    FUZZ_CHECK(strcmp(a->cells[i], b->cells[i]) == 0,
                               "data row %u cell %u: %s, then %s", r + 1, i + 1, a->cells[i],
                               b->cells[i]);
            }
        }
        hxl_table_free(&copy);
    }
    free(text);
}

static void check_json(const struct hxl_table *t)
{
    json_t *rows = hxl_table_json(t);
    FUZZ_CHECK(json_is_array(rows), "no JSON");
    FUZZ_CHECK(json_array_size(rows) == 2 + (t->rows_count - t->tags_row - 1),
               "%zu JSON rows for %u data rows", json_array_size(rows),
               t->rows_count - t->tags_row - 1);
    FUZZ_CHECK(json_array_size(json_array_get(rows, 0)) == t->columns_count &&
                   json_array_size(json_array_get(rows, 1)) == t->columns_count,
               "header and hashtag rows of the JSON");
    json_decref(rows);
}

static void check_funding(const struct hxl_table *t, const char *name)
{
    static struct hxl_problems problems;
    memset(&problems, 0, sizeof problems);
    json_t *ops = json_array();
    uint32_t corrections;
    struct hxl_resolutions resolutions = {.ops = json_array()};
    bool ok = hxl_funding_ops(t, name, ops, &corrections, &resolutions, &problems);
    size_t given = json_array_size(resolutions.ops);
    if (!ok) {
        check_problems(&problems, name);
        FUZZ_CHECK(json_array_size(ops) == 0 && given == 0,
                   "%zu operations, %zu resolutions beside problems", json_array_size(ops),
                   given);
    } else {
        FUZZ_CHECK(problems.count == 0, "read, with %u problems", problems.count);
        FUZZ_CHECK(json_array_size(ops) + given + corrections + resolutions.passed_over <=
                       t->rows_count - t->tags_row - 1,
                   "%zu operations, %zu resolutions, %u corrections, %u passed over",
                   json_array_size(ops), given, corrections, resolutions.passed_over);
        size_t i;
        const json_t *o;
        json_array_foreach(ops, i, o) {
            json_int_t row = json_integer_value(json_object_get(o, "row"));
            const json_t *op = json_object_get(o, "op");
            FUZZ_CHECK(row > (json_int_t)t->tags_row + 1 && row <= (json_int_t)t->rows_count,
                       "operation of row %lld", (long long)row);
            FUZZ_CHECK(json_is_string(json_object_get(op, "id")) &&
                           json_integer_value(json_object_get(op, "amount_usd")) >= 0,
                       "operation without an id or with a negative amount");
        }
        /* A resolution is a post (of a positive amount) or a void of a pledge. */
        json_array_foreach(resolutions.ops, i, o) {
            const json_t *op = json_object_get(o, "op");
            const char *kind = json_string_value(json_object_get(op, "op"));
            FUZZ_CHECK(kind != NULL && (strcmp(kind, "void") == 0 || strcmp(kind, "post") == 0) &&
                           json_is_string(json_object_get(op, "id")) &&
                           json_is_string(json_object_get(op, "pending_id")) &&
                           (strcmp(kind, "void") == 0 ||
                            json_integer_value(json_object_get(op, "amount")) > 0),
                       "a resolution that is no post or void of a pledge");
        }
    }
    json_decref(ops);
    json_decref(resolutions.ops);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"fuzz.csv", "fuzz.tsv", "fuzz.ssv"};
    const char *name = names[size > 0 ? data[0] % 3 : 0];
    const char *text = size > 0 ? (const char *)data + 1 : "";
    size_t length = size > 0 ? size - 1 : 0;
    static struct hxl_problems problems; /* large: not on the stack */
    memset(&problems, 0, sizeof problems);
    struct hxl_table table;
    if (!hxl_read(name, text, length, &table, &problems)) {
        check_problems(&problems, name);
        hxl_table_free(&table);
        return 0;
    }
    FUZZ_CHECK(problems.count == 0, "a table read with %u problems", problems.count);
    check_table(&table);
    check_json(&table);
    check_round_trip(&table);
    check_funding(&table, name);
    hxl_table_free(&table);
    return 0;
}
