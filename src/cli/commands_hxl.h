/*
 * commands_hxl.h — the commands that move HXL and CSV in and out of the
 * ledger: `import hxl`, `export hxl`, `export csv` (commands_hxl.c).
 *
 * Their rows in the one table of commands (commands.c) take the handlers,
 * usage and help texts from here, so the texts live beside the code they
 * describe.
 */
#ifndef CONCORD_CLI_COMMANDS_HXL_H
#define CONCORD_CLI_COMMANDS_HXL_H

#include "cli/cli.h"

int cmd_import_hxl(struct cli *cli, int argc, char **argv);
int cmd_export_hxl(struct cli *cli, int argc, char **argv);
int cmd_export_csv(struct cli *cli, int argc, char **argv);

#define CLI_IMPORT_HXL_USAGE "FILE [--check | --dry-run] [--selector KEY] [--json]"
#define CLI_IMPORT_HXL_SUMMARY "import an HXL-tagged table of funding (HDX's FTS tables among them)"
#define CLI_IMPORT_HXL_HELP                                                                      \
    "Reads an HXL table (CSV; TSV as .tsv, semicolons as .ssv, or as detected; UTF-8,\n"         \
    "else Windows-1252/Latin-1; - reads standard input): the hashtag row under at most\n"        \
    "24 header rows, columns found by hashtag and attributes in any order. Each row\n"           \
    "with an amount (#value+usd) is a flow from its funder (#org+funder) to its\n"              \
    "recipient (#org+impl or +recipient), of its #status (pledge, commitment or paid,\n"        \
    "default paid) on its #date. A row with an FTS flow id (#activity+id+fts_internal)\n"       \
    "is that FTS flow: when the ledger has it already (import fts) it records nothing\n"        \
    "and is counted once. Others get an id from their content: importing again is\n"            \
    "idempotent. All rows or none; a bad value anywhere refuses the file, naming row,\n"      \
    "column and hashtag. concord's own export reads back: its formula guard ('=x) is\n"         \
    "taken off and its correcting entries are passed over. Prints what the ledger\n"            \
    "recorded. --check: record nothing, print the table as read (CSV; --json:\n"                \
    "libhxl's arrays). --dry-run: do all of the import and record nothing: the\n"               \
    "summary says what it would record. libhxl's JSON forms are read too; --selector\n"         \
    "KEY takes the rows of an object's member KEY. Exit 1 when a row was refused\n"             \
    "(docs/INTEROP.md).\n"

#define CLI_EXPORT_USAGE "--what transfers|balances|gaps [--prefix P] [--at DATE]"
#define CLI_EXPORT_HXL_SUMMARY "write transfers, balances or gaps as HXL-tagged CSV"
#define CLI_EXPORT_CSV_SUMMARY "write transfers, balances or gaps as CSV"
#define CLI_EXPORT_HELP                                                                          \
    "RFC 4180 CSV on standard output: CRLF, a header row, then one row per transfer\n"          \
    "(in the order recorded), per account, or per requirement (the figures of\n"                \
    "`concord gaps`). export hxl adds a row of HXL hashtags under the header row:\n"            \
    "HDX's FTS tags for funding (#org+name+funder, #value+funding+total+usd, …).\n"             \
    "Amounts are exact decimals in their unit's scale. --prefix P: accounts under P,\n"         \
    "and the transfers that move one of them; --at DATE: balances and gaps as of\n"             \
    "that day (docs/INTEROP.md).\n"

#endif
