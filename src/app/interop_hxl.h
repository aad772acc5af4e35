/*
 * interop_hxl.h — HXL and CSV in and out of the ledger (docs/INTEROP.md).
 *
 * In: concord_import_hxl() reads one HXL-tagged table of funding (HDX's FTS
 * tables among them) whole first — a bad value anywhere refuses the whole
 * import, naming file, row, column and hashtag, and records nothing — then
 * commits its rows as batches of `hxl_flow` operations (app/domain_hxl.c)
 * that make one group, all or nothing, reading back from the ledger after
 * each batch what each row recorded to write the summary. A row carrying
 * an FTS flow id that the ledger already records (from `import fts` or an
 * earlier file) is the same flow reported twice: it records nothing and is
 * counted once.
 *
 * Out: concord_export() writes transfers, balances or gaps as RFC 4180 CSV
 * (CRLF, quoting by libcsv) with a header row, and for HXL a hashtag row
 * under it. Amounts are exact decimals in their unit's scale. Reads run as
 * the actor: an editor exports what it may read.
 */
#ifndef CONCORD_APP_INTEROP_HXL_H
#define CONCORD_APP_INTEROP_HXL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "app/interop.h"
#include "fmt/hxl.h"
#include "util/error.h"

struct concord;

/*
 * Imports one HXL table of funding. On CC_OK, *summary (the caller releases
 * it), with USD figures as exact decimal strings of dollars ("725591299.00"):
 *   {"file","delimiter","encoding","rows","recorded","exists","zero_usd",
 *    "corrections","funding_usd","pledges_usd","shared":{"rows","usd"},
 *    "by_status":{"pledge"|"commitment"|"paid":{"rows","usd"}},
 *    "by_boundary":{"incoming"|"internal"|"outgoing":{"rows","funding_usd","pledges_usd"}},
 *    "rejected":[{"row","id","status","message"}]}
 * funding_usd counts the commitments and payments the ledger holds posted
 * for the rows, pledges_usd the pledges it holds pending: once per row, and
 * once per FTS flow (its newest version recorded, whoever reported it). FTS
 * rows shared across the boundary count in neither (as in FTS's totals)
 * but in "shared". Each row is one of: rejected, zero_usd (the ledger holds
 * no money for it), recorded (by this import) or exists (recorded before).
 * "corrections": rows passed over, not in "rows": the correcting entries of
 * superseded versions that concord's export writes (fmt/hxl.c).
 * CC_ERR_INPUT with problems filled when the file is refused. With dry_run,
 * everything is done and summarized, then the group is rolled back: nothing
 * is recorded, and the summary (with "dry_run":true) says what would be.
 */
enum cc_err concord_import_hxl(struct concord *cc, const struct interop_input *input,
                               bool dry_run, json_t **summary, struct hxl_problems *problems,
                               struct cc_error *err);

enum export_what {
    EXPORT_TRANSFERS = 1, /* one row per transfer (resolution records included) */
    EXPORT_BALANCES,      /* one row per account */
    EXPORT_GAPS,          /* one row per requirement */
};

struct export_request {
    bool hxl;              /* a hashtag row under the header row */
    enum export_what what;
    const char *prefix;    /* accounts under it (and transfers that move one); NULL: all */
    int64_t at;            /* balances and gaps as of this effective date; INT64_MAX: now */
};

/* Writes the export to out; CC_ERR_SYSTEM when out could not be written. */
enum cc_err concord_export(struct concord *cc, const struct export_request *request, FILE *out,
                           struct cc_error *err);

#endif
