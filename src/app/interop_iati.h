/*
 * interop_iati.h — IATI 2.03 activity files in and out of the ledger
 * (docs/INTEROP.md, "IATI").
 *
 * The import streams every file once, recording what it holds as batches of
 * `iati_activity` and `iati_transaction` operations (app/domain_iati.c),
 * after the units (one per currency) and parties (one per organisation ref)
 * they need, while a thread validates the same files against the official
 * schema (fmt/iati.c). The batches are one group: a file refused (naming
 * file, line and element), or any other failure, and nothing is recorded.
 * The summary is read back from the ledger: what it holds of the files'
 * activities and transactions, never a count of the files' elements.
 *
 * The export writes IATI 2.03 from the ledger: the pooled fund's pledges,
 * commitments and disbursements (app/domain_funding.c), one activity per
 * fund account, and every activity the ledger holds from IATI, each with
 * the transactions recorded of it. Importing an export gives back the same
 * figures: per currency and transaction type, and per organisation account.
 */
#ifndef CONCORD_APP_INTEROP_IATI_H
#define CONCORD_APP_INTEROP_IATI_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "fmt/iati.h"
#include "util/error.h"

struct concord;

#define INTEROP_IATI_FILES_MAX 256     /* files of one import */
#define INTEROP_IATI_LISTED_MAX 100    /* skipped, rejected and double-reported items listed */
#define INTEROP_IATI_PREFIX_BYTES_MAX 64 /* --activity-prefix: an organisation identifier */
#define INTEROP_IATI_PREFIX_DEFAULT "concord"

/* One input: its name for messages, and the stream it is read from (opened by the caller). */
struct interop_iati_input {
    const char *name;
    FILE *file;
};

/*
 * Imports the files with the schema at schema_path; with dry_run, everything
 * is done and summarized, then rolled back: nothing is recorded, and the
 * summary (with "dry_run":true) says what would be. On CC_OK, *summary is
 * (the caller releases it):
 *   {"activities":N,"transactions":N,"by_type":{"1":N,…,"13":N},
 *    "amounts":{"EUR":{"3":minor units,…},…},"second_reports":N,
 *    "double_reported":{"count":N,"listed":[…]},"skipped":{"count":N,"listed":[…]},
 *    "rejected":{"count":N,"listed":[{"id","status","message"}]}}
 * A non-zero rejected count means the ledger refused some operations (the
 * rest is committed). An error means nothing was recorded.
 */
enum cc_err concord_import_iati(struct concord *cc, const struct interop_iati_input *inputs,
                                size_t count, const char *schema_path, bool dry_run,
                                json_t **summary, struct cc_error *err);

/* The scale the import makes a currency's unit with: ISO 4217's minor units, at least 2. */
int interop_iati_unit_scale(const char *code);

/*
 * Writes the ledger as IATI 2.03 to write(ctx, …). activity_prefix (NULL:
 * INTEROP_IATI_PREFIX_DEFAULT) is the reporting organisation's identifier of
 * the fund activities ("<prefix>-fund.pool"); activities imported from IATI
 * keep their own identifiers.
 */
enum cc_err concord_export_iati(struct concord *cc, const char *activity_prefix,
                                iati_write_fn write, void *ctx, struct cc_error *err);

#endif
