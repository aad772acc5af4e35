/*
 * csv_out.h — writing RFC 4180 CSV, a cell at a time.
 *
 * The exports (`concord export csv|hxl`) and `concord import hxl --check`
 * write tables for spreadsheets and for HXL tools. RFC 4180 is what both
 * read: cells separated by commas, records ended by CRLF, and a cell that
 * holds a comma, a quote, a CR or an LF enclosed in quotes, its quotes
 * doubled. libcsv does the quoting (csv_fwrite), so the one rule lives in
 * one library. A cell that begins or ends with a space or a tab is quoted
 * too: libcsv, like many readers, trims such spaces from unquoted cells, and
 * an exported value must read back as it was written.
 *
 * Cells are written as given, byte for byte (the callers pass UTF-8). A
 * write that fails marks the writer failed and the rest is skipped; the
 * caller checks csv_out_failed() once at the end, so a full disk or a
 * closed pipe cannot pass for a complete export.
 */
#ifndef CONCORD_FMT_CSV_OUT_H
#define CONCORD_FMT_CSV_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct csv_out {
    FILE *file;        /* where the records go */
    size_t column;     /* cells written in the current record */
    bool failed;       /* a write failed: nothing more is written */
};

void csv_out_init(struct csv_out *out, FILE *file);
/* One cell of n bytes (text need not be NUL-terminated). */
void csv_out_cell(struct csv_out *out, const char *text, size_t n);
/* One cell from a NUL-terminated string; NULL writes an empty cell. */
void csv_out_text(struct csv_out *out, const char *text);
/*
 * A cell of free text (a memo, a name, a title: what people and other
 * systems wrote). One that begins with =, +, -, @, a tab or a CR is written
 * after a ' so that a spreadsheet shows it instead of running it as a
 * formula; so is one that begins with ' before such a character, since an
 * import takes that ' off (fmt/hxl.c).
 */
void csv_out_prose(struct csv_out *out, const char *text);
/*
 * A value of an export: an id, a code, a date, an amount. Written as it is,
 * unless a spreadsheet would run it: one that begins with =, @, a tab or a
 * CR, or with + or - and is not a number ("-1234.50" stays a number), is
 * written after a '. Ids are people's choice, and so are an import's codes.
 * csv_out_text writes a cell byte for byte (import hxl --check must).
 */
void csv_out_value(struct csv_out *out, const char *text);
/*
 * Does text begin as a cell these guard: ' (one or more) before =, +, -,
 * @, a tab or a CR? Its first ' is then the guard, which a reader takes off
 * (fmt/hxl.c) to get the text back; text that itself begins so is written
 * with one ' more.
 */
bool csv_guarded(const char *text);
/* Ends the record: CRLF. */
void csv_out_end(struct csv_out *out);
/* A whole record of count cells (NULL cells are empty). */
void csv_out_row(struct csv_out *out, const char *const *cells, size_t count);
/* Did any write fail? */
bool csv_out_failed(const struct csv_out *out);

#endif
