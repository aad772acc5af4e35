/*
 * hxl.h — HXL-tagged tables (the Humanitarian Exchange Language) read from
 * CSV, and their funding rows turned into concord's `hxl_flow` operations.
 *
 * An HXL table is a spreadsheet with one extra row: the hashtag row, whose
 * cells name what each column holds (#org+name+funder, #value+funding+total+usd,
 * #date). It may follow up to HXL_HEADER_ROWS_MAX rows of headers for people.
 * hxl_read() finds it as libhxl (the reference implementation) does: the
 * first of the file's first 25 rows whose non-empty cells are at least half
 * valid hashtags (#tag, then +attribute any number of times; a tag or an
 * attribute is a letter, then letters, digits or underscores; case does not
 * matter). Columns without a valid hashtag are kept, untagged. The row just
 * above the hashtags gives each column its header text.
 *
 * Input: UTF-8 (a byte-order mark is skipped); a file that is not valid
 * UTF-8 is read as Windows-1252, the superset of Latin-1 that spreadsheets
 * write, and converted. Cells are separated by commas, or by tabs in a .tsv
 * and semicolons in a .ssv file; for any other name the separator is found
 * much as libhxl finds it: of , TAB ; : |, the one that reads the first
 * 16 KiB into a hashtag row soonest (records, not lines: a quoted cell may
 * span lines), else the most frequent of them there. Quoting
 * is RFC 4180's (libcsv, strict: a stray quote is an error); quoted cells
 * keep their line breaks; cells are kept as written, spaces included.
 *
 * Storage: one arena per table holds every cell (NUL-terminated UTF-8; a NUL
 * byte in the file is refused), so a table is freed at once.
 *
 * Errors are collected, not stopped at: every bad value is named by file,
 * row (the record's number in the file, from 1, header rows and blank lines
 * counted), column (from 1) and the column's hashtag, up to
 * HXL_PROBLEMS_LISTED of them, and counted beyond.
 *
 * No database here: app/interop_hxl.c commits the operations and reads the
 * ledger back for the summary; app/domain_hxl.c maps an operation onto
 * accounts and transfers. docs/INTEROP.md gives the mapping tag by tag.
 */
#ifndef CONCORD_FMT_HXL_H
#define CONCORD_FMT_HXL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fmt/csv_out.h"
#include "util/arena.h"

#define HXL_FILE_BYTES_MAX ((size_t)64 << 20) /* one file, as given */
#define HXL_ROWS_MAX 500000                   /* records of one file, header rows included */
#define HXL_COLUMNS_MAX 1024                  /* cells of one record */
#define HXL_CELL_BYTES_MAX ((size_t)64 << 10) /* one cell, after conversion to UTF-8 */
#define HXL_HEADER_ROWS_MAX 24                /* rows above the hashtag row (libhxl: 25 rows) */
#define HXL_PROBLEMS_LISTED 50                /* problems kept in words; the rest are counted */
#define HXL_PROBLEM_BYTES 400
#define HXL_MEMO_BYTES_MAX 2048               /* a description, kept as a transfer's memo */
#define HXL_SLUG_BYTES_MAX 47                 /* an organisation's part of an account id */

/* What was wrong with a file, in words, each naming its place. */
struct hxl_problems {
    uint32_t count;  /* problems found */
    uint32_t listed; /* of them, the first ones, in text[] */
    char text[HXL_PROBLEMS_LISTED][HXL_PROBLEM_BYTES];
};

void hxl_problem(struct hxl_problems *problems, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One record of the file. */
struct hxl_row {
    uint32_t number;    /* its number in the file, from 1 (blank lines are records too) */
    uint32_t count;     /* cells (0: a blank line) */
    const char **cells; /* UTF-8, NUL-terminated, as written */
};

/* One column, from the hashtag row. */
struct hxl_column {
    const char *tag;     /* "#org", lower-case; NULL when the cell is not a valid hashtag */
    const char *display; /* "#org+name+funder": tag and attributes, lower-case, in the file's
                            order, spaces removed; "" when untagged */
    const char *header;  /* the cell above it, in the row before the hashtags; NULL when none */
};

struct hxl_table {
    struct arena arena;         /* every string of the table */
    char delimiter;             /* the cell separator used */
    bool converted;             /* the bytes were not UTF-8: read as Windows-1252 */
    struct hxl_row *rows;       /* every record in order, header rows included */
    uint32_t rows_count, rows_capacity;
    uint32_t tags_row;          /* index in rows of the hashtag row */
    struct hxl_column *columns; /* one per cell of the hashtag row */
    uint32_t columns_count;
};

/*
 * Reads an HXL table from the bytes of file `name` (the name also chooses
 * the separator, see above). false, with problems, when it is not one; the
 * table is then empty but must still be freed.
 */
bool hxl_read(const char *name, const char *bytes, size_t length, struct hxl_table *table,
              struct hxl_problems *problems);
/* The same with the separator given (0: by the name, or guessed, as hxl_read). */
bool hxl_read_as(const char *name, const char *bytes, size_t length, char delimiter,
                 struct hxl_table *table, struct hxl_problems *problems);
/*
 * The same, a JSON file's rows taken from its member `selector` (libhxl's
 * selector: {"sel1": […], "sel2": […]}); NULL: its one array.
 */
bool hxl_read_selected(const char *name, const char *bytes, size_t length, const char *selector,
                       struct hxl_table *table, struct hxl_problems *problems);
void hxl_table_free(struct hxl_table *table);

/*
 * Parses one hashtag cell ("  #Org +Name" is "#org+name"). true and its
 * display form (at most size − 1 bytes, else false) when it is a valid one.
 */
bool hxl_hashtag(const char *cell, char *display, size_t size);

/*
 * The column a tag pattern selects, or -1. A pattern is a hashtag whose
 * attributes are wanted (+name) or unwanted (-name): #value+usd selects
 * #value+funding+total+usd (the wanted attributes are a subset of the
 * column's), #financial+direction-type does not select
 * #financial+direction+type. Of several columns that match, the one with
 * the fewest attributes (the closest), then the first.
 */
int32_t hxl_column_find(const struct hxl_table *table, const char *pattern);

/*
 * The table as libhxl writes it: the header row (null where a column has
 * none), the hashtag row, then the data rows, each an array of strings.
 */
json_t *hxl_table_json(const struct hxl_table *table);
/* The same as CSV records (an absent header is an empty cell). */
void hxl_table_csv(const struct hxl_table *table, struct csv_out *out);

/*
 * The funding rows of the table as operations: appends to out one
 * {"row":N,"op":{"op":"hxl_flow",…}} per data row that holds anything
 * ("table_record": true on an FTS row that concord's export gives as the
 * table's record of the version, fts.<flow>.v<k>.hxl).
 * *corrections: the rows passed over as correcting entries of a flow's
 * superseded version (concord's own export writes them; the import makes
 * them again from the versions). A resolution row of concord's export (a
 * pledge's posting or voiding) is appended to resolutions->ops instead, as
 * {"row","op":{"op":"post"|"void",…}}, to be applied after the flows.
 * false, with problems naming every bad value, when any row cannot be read
 * (and neither out nor resolutions->ops gains anything).
 */
struct hxl_resolutions {
    json_t *ops;          /* the caller's array */
    uint32_t passed_over; /* made by the exporting ledger's rules (expiries, decisions) */
};
bool hxl_funding_ops(const struct hxl_table *table, const char *name, json_t *out,
                     uint32_t *corrections, struct hxl_resolutions *resolutions,
                     struct hxl_problems *problems);

/*
 * An organisation's name as a part of account ids: lower-case [a-z0-9-],
 * accented Latin letters as their base letters, every other run of
 * characters one '-', at most HXL_SLUG_BYTES_MAX bytes. A longer one is cut
 * and ends with '-' and 8 hex digits of the name's SHA-256, so two long
 * names that share a beginning stay apart; a name with no Latin letter or
 * digit is "org-" and those 8 digits.
 */
void hxl_slug(const char *name, char out[HXL_SLUG_BYTES_MAX + 1]);

/* What a transfer id made from a row's content starts with. */
#define HXL_ID_PREFIX "hxl."
#define HXL_ID_HEX_DIGITS 16

#endif
