/*
 * fts.h — OCHA Financial Tracking Service flow search answers, read into
 * concord's `fts_flow` operations.
 *
 * The FTS API answers `fts/flow/custom-search` in pages: each page an object
 * {"status","data":{"flows":[…],"incoming":{…},…},"meta":{"count","nextLink"}}.
 * fts_read() checks one page strictly and appends, per flow, one operation
 * that keeps what concord records of it, in concord's words (snake_case,
 * amounts in cents, organisations by FTS id); docs/INTEROP.md gives the
 * mapping field by field. The page's own totals are kept apart: they are
 * what the import is checked against, never what it reports.
 *
 * No database here: app/interop.c commits the operations and computes the
 * summary from what the ledger recorded.
 */
#ifndef CONCORD_FMT_FTS_H
#define CONCORD_FMT_FTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define FTS_FILE_BYTES_MAX (512u << 20) /* one page of an answer */
#define FTS_FLOWS_MAX 1000000           /* flow versions of one import */
#define FTS_REREAD_BYTES_MAX (16u << 20) /* a page refused, read whole to word why (~15x) */
#define FTS_TEXT_BYTES_MAX 2048         /* a description, kept as the transfer's memo */
#define FTS_MESSAGE_BYTES 512
#define FTS_VERSION_MAX 1000000        /* a flow's versionId */

/* One page's own figures, as FTS gave them (checks, never reported as ours). */
struct fts_page {
    int64_t count;       /* meta.count: flows of the whole answer, -1 when absent */
    bool first;          /* carries data.incoming (FTS repeats it on every page) */
    int64_t incoming_flows, incoming_funding, incoming_pledges;
};

/*
 * Reads one page (root: the parsed file) and appends an `fts_flow` operation
 * per flow to ops. false with message ("flows[12] (id 158080): amountUSD:
 * must be a number of dollars ≥ 0") when the page is not an FTS answer.
 */
bool fts_read(const json_t *root, json_t *ops, struct fts_page *page, char *message,
              size_t message_size);

/*
 * Why a page's text was not read a flow at a time: where in the text (line
 * and column, 1-based, a column counting characters) when the text is not
 * JSON, else line 0 and the page's or a flow's fault as fts_read words it;
 * no message at all when memory ran out. The place is where jansson stopped
 * inside a value, else where the walk met what it did not expect (the start
 * of a key given twice, the byte after the text's end).
 */
struct fts_stop {
    int line, column;
    char message[FTS_MESSAGE_BYTES];
};

/*
 * Reads one page from its text a flow at a time: each flow's operation goes
 * to flow() (which takes the reference) as soon as it is read, so memory
 * holds the text and one flow, never the tree of the page's flows (some
 * fifteen times their text). FTS_STREAM_WHOLE: the text was not read so
 * (not JSON, a key given twice, a number beyond 64 bits, nesting jansson
 * refuses, not an FTS answer, a flow that fts_read refuses), and *stop says
 * at what it stopped. The caller drops what flow() was given, and reads a
 * page of moderate size whole (json_parse_text, then fts_read), which says
 * what is wrong in the order it always has; a larger one is refused with
 * *stop, since its tree would take some fifteen times its text only to word
 * the refusal.
 */
enum fts_stream { FTS_STREAM_READ, FTS_STREAM_WHOLE };
enum fts_stream fts_read_stream(const char *text, size_t length, struct fts_page *page,
                                void (*flow)(void *ctx, json_t *op), void *ctx,
                                struct fts_stop *stop);

/* Where one page lies in a text that holds several (fts_pages_split). */
struct fts_span {
    size_t start, length;
};

/*
 * The pages of a JSON array of them ("[page, page, …]", as POST
 * /v1/import/fts takes the pages of one search), found without parsing
 * them, so that each can be read a flow at a time: spans[0..*count) within
 * text. false when the text is not such an array of 1 to max values as far
 * as its brackets, strings and commas show (or holds a NUL byte, or nests
 * deeper than jansson reads): the caller reads it whole, which says why.
 * Each page found must still be read as JSON: only then is the text JSON.
 */
bool fts_pages_split(const char *text, size_t length, struct fts_span *spans, size_t max,
                     size_t *count);

/* FTS's order of flow versions: by flow id (decimal: shorter is smaller), then version. */
int fts_flow_compare(const char *flow_a, int64_t version_a, const char *flow_b,
                     int64_t version_b);

/* The transfer id of a flow's version: "fts.<flow>.v<version>". */
int fts_transfer_id(char *out, size_t size, const char *flow, int64_t version);

/*
 * The records of a flow's version k in the ledger, by id suffix:
 *   fts.<flow>.v<k>                 FTS's own record of the version (its transfer)
 *   fts.<flow>.v<k>.supersedes      what version k undid of the version before it
 *   fts.<flow>.v<k>.hxl             the version as a table reported it (HDX's flat
 *                                   rows: names, no organisation ids, no reports)
 *   fts.<flow>.v<k>.hxl.superseded  that table record undone by FTS's own, which
 *                                   then holds the version
 * Whoever reported a flow first, it is counted once: by its newest version's
 * one record that holds money (fts_held_money).
 */
#define FTS_SUPERSEDES ".supersedes"
#define FTS_TABLE ".hxl"
#define FTS_TABLE_SUPERSEDED ".hxl.superseded"

enum fts_record {
    FTS_RECORD_FLOW,
    FTS_RECORD_SUPERSEDES,
    FTS_RECORD_TABLE,
    FTS_RECORD_TABLE_SUPERSEDED,
};

/* Reads an id made for a flow (prefix "fts.<flow>.v"); false for any other id. */
bool fts_record_of(const char *id, const char *prefix, int64_t *version, enum fts_record *kind);

/* What the ledger (and a batch so far) holds of one flow's newest version. */
struct fts_held {
    int64_t latest;    /* the newest version with any record; 0: none */
    bool flow;         /* its FTS record */
    bool table;        /* its table record */
    bool table_undone; /* that table record superseded by the FTS record */
};

void fts_held_add(struct fts_held *held, int64_t version, enum fts_record kind);
/* Merges what another reading found (the newer version wins; the same one adds up). */
void fts_held_merge(struct fts_held *held, const struct fts_held *other);
/* The id of the record that holds the newest version's money into out; false: none. */
bool fts_held_money(const struct fts_held *held, const char *flow, char *out, size_t size);
/* A held as 32 bits, for a batch's notes (versions ≤ FTS_VERSION_MAX), and back. */
uint32_t fts_held_pack(const struct fts_held *held);
struct fts_held fts_held_unpack(uint32_t packed);

#endif
