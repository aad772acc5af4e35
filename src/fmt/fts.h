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
#define FTS_FLOWS_MAX 1000000           /* flows of one import (the batch's limit) */
#define FTS_TEXT_BYTES_MAX 2048         /* a description, kept as the transfer's memo */
#define FTS_MESSAGE_BYTES 512

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

/* The transfer id of a flow's version: "fts.<flow>.v<version>". */
int fts_transfer_id(char *out, size_t size, const char *flow, int64_t version);

/* What version k of a flow corrects the version before it with (a reversal or a void). */
#define FTS_SUPERSEDES ".supersedes"

/*
 * Reads an id made for a flow: prefix is "fts.<flow>.v". true with *version
 * for "…v<k>" (*money: the version's own transfer) and "…v<k>.supersedes"
 * (*money false); false for any other id.
 */
bool fts_version_of(const char *id, const char *prefix, int64_t *version, bool *money);

#endif
