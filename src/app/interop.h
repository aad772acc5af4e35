/*
 * interop.h — the formats other humanitarian systems speak, in and out of
 * the ledger: OCHA FTS flow searches in (docs/INTEROP.md).
 *
 * An import reads every file first (a malformed one refuses the whole
 * import, naming file, place and field, and records nothing), then commits
 * what they hold (FTS: in batches that make one group, all or nothing), then
 * reads back from the ledger what it recorded to write its summary: the
 * figures are the ledger's, never the file's own totals, which the summary
 * shows apart for comparison.
 */
#ifndef CONCORD_APP_INTEROP_H
#define CONCORD_APP_INTEROP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "ledger/ledger.h"
#include "util/arena.h"
#include "util/error.h"

struct concord;

#define INTEROP_FILES_MAX 256 /* files of one import: the pages of one answer */

/* One input: its name (for messages) and its bytes. */
struct interop_input {
    const char *name;
    const char *text;
    size_t length;
    const char *selector; /* HXL as JSON: the member holding the rows (libhxl's selector) */
    const json_t *value;  /* FTS: the page already parsed (text and length then unused) */
    FILE *file;           /* FTS: the page to read, when neither text nor value is given:
                             read, parsed and let go one page at a time */
    const char *path;     /* FTS: the page's file, opened only when its turn comes (so that
                             no more than one is open), when neither file, text nor value */
    bool reread;          /* FTS: a page refused is read whole to word the refusal whatever
                             its size (else up to FTS_REREAD_BYTES_MAX): the caller's own
                             limit bounds it */
};

/* A batch an import committed, for its summary. */
struct interop_batch {
    struct ledger_op *ops;
    struct ledger_result *results;
    size_t count;       /* ops[0, count) */
    size_t offset;      /* where the import's own operations start (1: USD was made first) */
    struct arena arena; /* the operations' strings */
};

/*
 * Commits the operations ops[start, end) (a JSON array; with key, each
 * element's member key) as one batch, the unit USD in cents first when the
 * ledger has none: imported funding is recorded in cents. Free b with
 * interop_batch_free, also on error.
 */
enum cc_err interop_commit_usd(struct concord *cc, const json_t *ops, const char *key,
                               size_t start, size_t end, struct interop_batch *b,
                               struct cc_error *err);
void interop_batch_free(struct interop_batch *b);

/*
 * Imports the pages of one FTS flow search (any order), in batches of one
 * group; with dry_run, everything is done and summarized, then the group is
 * rolled back: nothing is recorded, and the summary says what would be. On
 * CC_OK, *summary is (the caller releases it):
 *   {"flows":N,"incoming":{"flows":N,"funding_usd":…,"pledges_usd":…},
 *    "internal":{"flows":N},"outgoing":{"flows":N,"funding_usd":…},
 *    "transfers":{"created":N,"superseded":N},"stale":N,"zero_usd":N,
 *    "rejected":[{"id","status","message"}],"reported_by_fts":{…}}
 * and "dry_run":true when it was one. CC_OK with a non-empty "rejected"
 * means some flows were refused by the ledger (the rest is committed). An
 * error means nothing was recorded.
 */
enum cc_err concord_import_fts(struct concord *cc, const struct interop_input *inputs,
                               size_t count, bool dry_run, json_t **summary,
                               struct cc_error *err);

#endif
