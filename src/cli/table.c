/* table.c — text for people: escaped control characters and aligned tables (see cli.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

char *cli_text_escaped(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(4 * n + 1); /* each byte at worst \xNN */
    if (out == NULL) return NULL;
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (!is_control(*p)) {
            out[k++] = (char)*p;
            continue;
        }
        out[k++] = '\\';
        switch (*p) {
        case '\n': out[k++] = 'n'; break;
        case '\t': out[k++] = 't'; break;
        case '\r': out[k++] = 'r'; break;
        default:
            k += (size_t)snprintf(out + k, 4, "x%02x", *p);
            break;
        }
    }
    out[k] = '\0';
    return out;
}

void cli_put_line(FILE *out, const char *label, const char *text)
{
    char *shown = cli_text_escaped(text);
    fprintf(out, "%s%s\n", label, shown != NULL ? shown : "(out of memory)");
    free(shown);
}

void table_init(struct table *t, int columns, const char *const *header, const bool *right)
{
    memset(t, 0, sizeof *t);
    t->columns = columns;
    for (int c = 0; c < columns; c++) {
        t->header[c] = header[c];
        t->right[c] = right != NULL && right[c];
    }
}

void table_add(struct table *t, const char *const *cells)
{
    if (t->rows == t->capacity) {
        int capacity = t->capacity == 0 ? 16 : t->capacity * 2;
        char **grown = realloc(t->cells, (size_t)capacity * (size_t)t->columns * sizeof *grown);
        if (grown == NULL) return; /* a table for people: drop the row rather than abort */
        t->cells = grown;
        t->capacity = capacity;
    }
    for (int c = 0; c < t->columns; c++)
        t->cells[t->rows * t->columns + c] = cli_text_escaped(cells[c] ? cells[c] : "");
    t->rows++;
}

/* Display width: count UTF-8 lead bytes, not continuation bytes. */
static int text_width(const char *s)
{
    int w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xc0) != 0x80) w++;
    return w;
}

void table_print(const struct table *t, FILE *out)
{
    int width[TABLE_COLUMNS_MAX] = {0};
    for (int c = 0; c < t->columns; c++) width[c] = text_width(t->header[c]);
    for (int r = 0; r < t->rows; r++)
        for (int c = 0; c < t->columns; c++) {
            const char *cell = t->cells[r * t->columns + c];
            int w = text_width(cell ? cell : "");
            if (w > width[c]) width[c] = w;
        }
    for (int r = -1; r < t->rows; r++) {
        for (int c = 0; c < t->columns; c++) {
            const char *cell = r < 0 ? t->header[c] : t->cells[r * t->columns + c];
            if (cell == NULL) cell = "";
            int pad = width[c] - text_width(cell);
            bool last = c == t->columns - 1;
            if (t->right[c]) fprintf(out, "%*s", pad, "");
            fputs(cell, out);
            if (!t->right[c] && !last) fprintf(out, "%*s", pad, "");
            if (!last) fputs("  ", out);
        }
        fputc('\n', out);
    }
}

void table_free(struct table *t)
{
    for (int i = 0; i < t->rows * t->columns; i++) free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}
