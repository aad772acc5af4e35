/*
 * csv_out.c — RFC 4180 CSV records, quoted by libcsv (see csv_out.h).
 *
 * A cell is quoted only when it must be (or when a reader would otherwise
 * trim it): the hashtag row of an HXL export then reads "#org+name", not
 * "\"#org+name\"", in a text editor, and a file of plain values stays plain.
 */
#include "fmt/csv_out.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

void csv_out_init(struct csv_out *out, FILE *file)
{
    assert(file != NULL);
    out->file = file;
    out->column = 0;
    out->failed = false;
}

/* Must the cell be enclosed in quotes for a reader to get it back as it was? */
static bool needs_quotes(const char *text, size_t n)
{
    if (n == 0) return false;
    if (text[0] == ' ' || text[0] == '\t' || text[n - 1] == ' ' || text[n - 1] == '\t')
        return true; /* libcsv (and others) trim unquoted spaces */
    for (size_t i = 0; i < n; i++)
        if (text[i] == ',' || text[i] == '"' || text[i] == '\r' || text[i] == '\n') return true;
    return false;
}

void csv_out_cell(struct csv_out *out, const char *text, size_t n)
{
    if (out->failed) return;
    if (out->column > 0 && fputc(',', out->file) == EOF) {
        out->failed = true;
        return;
    }
    out->column++;
    if (n == 0) return;
    if (needs_quotes(text, n)) {
        if (csv_fwrite(out->file, text, n) != 0) out->failed = true;
    } else if (fwrite(text, 1, n, out->file) != n) {
        out->failed = true;
    }
}

void csv_out_text(struct csv_out *out, const char *text)
{
    csv_out_cell(out, text != NULL ? text : "", text != NULL ? strlen(text) : 0);
}

/* Writes text after a ' (a spreadsheet then shows it as text). */
static void guarded(struct csv_out *out, const char *text)
{
    size_t n = strlen(text);
    char *quoted = malloc(n + 2);
    if (quoted == NULL) {
        out->failed = true;
        return;
    }
    quoted[0] = '\'';
    memcpy(quoted + 1, text, n + 1);
    csv_out_cell(out, quoted, n + 1);
    free(quoted);
}

#define FORMULA_STARTS "=+-@\t\r" /* what a spreadsheet runs a cell beginning with */

bool csv_guarded(const char *text)
{
    size_t quotes = strspn(text, "'");
    return quotes > 0 && text[quotes] != '\0' && strchr(FORMULA_STARTS, text[quotes]) != NULL;
}

void csv_out_prose(struct csv_out *out, const char *text)
{
    /* Text that is already guarded-looking ("'=x") is guarded too ("''=x"): see csv_guarded. */
    bool runs = text != NULL && text[0] != '\0' &&
                (strchr(FORMULA_STARTS, text[0]) != NULL || csv_guarded(text));
    if (runs)
        guarded(out, text);
    else
        csv_out_text(out, text);
}

/* Digits with at most one '.' among them: what amount_format writes after a sign. */
static bool number(const char *s)
{
    bool digit = false, point = false;
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9') digit = true;
        else if (*s == '.' && !point) point = true;
        else return false;
    }
    return digit;
}

void csv_out_value(struct csv_out *out, const char *text)
{
    bool runs = text != NULL && text[0] != '\0' &&
                (strchr("=@\t\r", text[0]) != NULL ||
                 ((text[0] == '+' || text[0] == '-') && !number(text + 1)) ||
                 csv_guarded(text));
    if (runs)
        guarded(out, text);
    else
        csv_out_text(out, text);
}

void csv_out_end(struct csv_out *out)
{
    if (out->failed) return;
    if (fputs("\r\n", out->file) == EOF) out->failed = true;
    out->column = 0;
}

void csv_out_row(struct csv_out *out, const char *const *cells, size_t count)
{
    for (size_t i = 0; i < count; i++) csv_out_text(out, cells[i]);
    csv_out_end(out);
}

bool csv_out_failed(const struct csv_out *out)
{
    return out->failed || ferror(out->file);
}
