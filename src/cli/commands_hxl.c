/*
 * commands_hxl.c — `concord import hxl` and `concord export hxl|csv`
 * (see commands_hxl.h): arguments, the file, and text for people around
 * app/interop_hxl.c, which does the work.
 *
 * `import hxl --check` needs no database: it reads the table (fmt/hxl.c)
 * and writes it back as libhxl would, so that what concord makes of a file
 * can be compared with the reference implementation.
 */
#include "cli/commands_hxl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "app/interop_hxl.h"
#include "fmt/csv_out.h"
#include "fmt/hxl.h"
#include "util/amount.h"
#include "util/timefmt.h"

/* Reads the file named (or standard input for "-"); NULL after reporting. */
static char *file_read(const char *name, size_t *length, int *status)
{
    FILE *f = strcmp(name, "-") == 0 ? stdin : fopen(name, "rb");
    if (f == NULL) {
        *status = cli_fail(CLI_EXIT_USAGE, "%s: cannot open: %s", name, strerror(errno));
        return NULL;
    }
    char *text = cli_read_input(f, HXL_FILE_BYTES_MAX, length, name, status);
    if (f != stdin) fclose(f);
    return text;
}

/* Every problem on its own line, then how many were left out. */
static void problems_print(const struct hxl_problems *problems)
{
    for (uint32_t i = 0; i < problems->listed; i++)
        fprintf(stderr, "concord: %s\n", problems->text[i]);
    if (problems->count > problems->listed)
        fprintf(stderr, "concord: … and %u more problems\n", problems->count - problems->listed);
}

/* ---------------------------------------------------------------- import hxl --check */

static int check_run(const char *name, const char *text, size_t length, const char *selector,
                     bool json)
{
    struct hxl_problems *problems = calloc(1, sizeof *problems);
    if (problems == NULL) return cli_fail(CLI_EXIT_STORE, "out of memory");
    struct hxl_table table;
    int status = CLI_EXIT_OK;
    if (!hxl_read_selected(name, text, length, selector, &table, problems)) {
        problems_print(problems);
        status = cli_fail(CLI_EXIT_USAGE, "%s: not read as an HXL table", name);
    } else if (json) {
        json_t *rows = hxl_table_json(&table);
        bool ok = rows != NULL && json_dumpf(rows, stdout, JSON_COMPACT) == 0;
        json_decref(rows);
        if (ok) fputc('\n', stdout);
        if (!cli_flush_output()) status = CLI_EXIT_STORE;
        else if (!ok) status = cli_fail(CLI_EXIT_STORE, "cannot write the output");
    } else {
        struct csv_out out;
        csv_out_init(&out, stdout);
        hxl_table_csv(&table, &out);
        if (!cli_flush_output() || csv_out_failed(&out)) status = CLI_EXIT_STORE;
    }
    hxl_table_free(&table);
    free(problems);
    return status;
}

/* ---------------------------------------------------------------- import hxl */

/* Dollars as the summary gives them ("1234.50"), grouped for people. */
static void usd_print(const json_t *value)
{
    int64_t cents;
    char text[AMOUNT_TEXT_BYTES];
    const char *s = json_string_value(value);
    bool negative = s != NULL && s[0] == '-';
    if (s != NULL && amount_parse(s + negative, 2, &cents) == AMOUNT_OK) {
        amount_format(negative ? -cents : cents, 2, true, text);
        printf("USD %s", text);
    } else {
        printf("USD ?");
    }
}

static long long count_of(const json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static void summary_print(const json_t *s)
{
    printf("%s: %lld rows: %lld recorded, %lld recorded already, %lld of 0 USD",
           json_string_value(json_object_get(s, "file")), count_of(s, "rows"),
           count_of(s, "recorded"), count_of(s, "exists"), count_of(s, "zero_usd"));
    if (count_of(s, "corrections") > 0) /* only concord's own exports have them */
        printf("; %lld correcting entr%s passed over", count_of(s, "corrections"),
               count_of(s, "corrections") == 1 ? "y" : "ies");
    putchar('\n');
    const json_t *resolutions = json_object_get(s, "resolutions"); /* concord's exports only */
    long long applied = count_of(resolutions, "applied"), before = count_of(resolutions, "exists"),
              passed = count_of(resolutions, "passed_over");
    if (applied + before + passed > 0)
        printf("pledges posted or voided: %lld now, %lld already; %lld decided by the exporting "
               "ledger's rules (expiry, condition, approvals) passed over, pending here\n",
               applied, before, passed);
    const json_t *by = json_object_get(s, "by_status");
    static const char *const statuses[] = {"pledge", "commitment", "paid"};
    for (size_t i = 0; i < 3; i++) {
        const json_t *t = json_object_get(by, statuses[i]);
        printf("%-10s %6lld rows  ", statuses[i], count_of(t, "rows"));
        usd_print(json_object_get(t, "usd"));
        putchar('\n');
    }
    fputs("funding    ", stdout);
    usd_print(json_object_get(s, "funding_usd"));
    fputs(" (commitments and payments)\n", stdout);
    const json_t *shared = json_object_get(s, "shared");
    if (count_of(shared, "rows") > 0) {
        printf("shared     %6lld rows  ", count_of(shared, "rows"));
        usd_print(json_object_get(shared, "usd"));
        fputs(" (FTS flows shared across the boundary: in no total)\n", stdout);
    }
    const json_t *boundaries = json_object_get(s, "by_boundary");
    const char *key;
    const json_t *b;
    json_object_foreach((json_t *)boundaries, key, b) {
        if (count_of(b, "rows") == 0) continue;
        printf("%-10s %6lld FTS rows  funding ", key, count_of(b, "rows"));
        usd_print(json_object_get(b, "funding_usd"));
        fputs("  pledges ", stdout);
        usd_print(json_object_get(b, "pledges_usd"));
        putchar('\n');
    }
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(s, "rejected"), i, r) {
        const char *message = json_string_value(json_object_get(r, "message"));
        fprintf(stderr, "concord: row %lld: %s: %s%s%s\n", count_of(r, "row"),
                json_string_value(json_object_get(r, "id")),
                json_string_value(json_object_get(r, "status")), message ? ": " : "",
                message ? message : "");
    }
}

int cmd_import_hxl(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_JSON, OPT_CHECK, OPT_SELECTOR, OPT_DRY_RUN, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "import hxl")) return CLI_EXIT_USAGE;
    if (o.positional_count != 1)
        return cli_fail(CLI_EXIT_USAGE, "import hxl: give one file (see concord import hxl --help)");
    const char *name = o.positional[0];
    const char *shown = strcmp(name, "-") == 0 ? "stdin" : name;
    int status = CLI_EXIT_OK;
    size_t length = 0;
    char *text = file_read(name, &length, &status);
    if (text == NULL) return status;
    if (o.check && o.dry_run) {
        free(text);
        return cli_fail(CLI_EXIT_USAGE, "import hxl: give --check or --dry-run, not both");
    }
    if (o.check) {
        status = check_run(shown, text, length, o.selector, o.json);
        free(text);
        return status;
    }
    struct hxl_problems *problems = calloc(1, sizeof *problems);
    json_t *summary = NULL;
    struct concord *cc = problems != NULL ? cli_open(cli, &status) : NULL;
    if (problems == NULL) status = cli_fail(CLI_EXIT_STORE, "out of memory");
    if (cc != NULL) {
        struct interop_input input = {.name = shown, .text = text, .length = length,
                                      .selector = o.selector};
        struct cc_error err = {0};
        if (concord_import_hxl(cc, &input, o.dry_run, &summary, problems, &err) != CC_OK) {
            problems_print(problems);
            status = cli_fail_error(&err);
        }
        concord_close(cc);
    }
    free(problems);
    free(text);
    if (summary == NULL) return status;
    int result = json_array_size(json_object_get(summary, "rejected")) > 0 ? CLI_EXIT_REJECTED
                                                                           : CLI_EXIT_OK;
    if (o.json) {
        bool ok = json_dumpf(summary, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) == 0;
        if (ok) fputc('\n', stdout);
        json_decref(summary);
        if (!cli_flush_output()) return CLI_EXIT_STORE;
        return ok ? result : cli_fail(CLI_EXIT_STORE, "cannot write the output");
    }
    if (o.dry_run) puts("dry run: nothing was recorded; the import would record:");
    summary_print(summary);
    json_decref(summary);
    return cli_flush_output() ? result : CLI_EXIT_STORE;
}

/* ---------------------------------------------------------------- export hxl|csv */

static int export_run(struct cli *cli, int argc, char **argv, bool hxl)
{
    const char *command = hxl ? "export hxl" : "export csv";
    static const int accepted[] = {OPT_WHAT, OPT_PREFIX, OPT_AT, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, command)) return CLI_EXIT_USAGE;
    if (o.positional_count != 0)
        return cli_fail(CLI_EXIT_USAGE, "%s: unexpected argument %s (see concord %s --help)",
                        command, o.positional[0], command);
    struct export_request request = {.hxl = hxl, .prefix = o.prefix, .at = INT64_MAX};
    if (o.what == NULL)
        return cli_fail(CLI_EXIT_USAGE, "%s: --what transfers, balances or gaps is required",
                        command);
    if (strcmp(o.what, "transfers") == 0) request.what = EXPORT_TRANSFERS;
    else if (strcmp(o.what, "balances") == 0) request.what = EXPORT_BALANCES;
    else if (strcmp(o.what, "gaps") == 0) request.what = EXPORT_GAPS;
    else
        return cli_fail(CLI_EXIT_USAGE, "%s: --what must be transfers, balances or gaps, not "
                                        "\"%s\"",
                        command, o.what);
    if (o.at != NULL && request.what == EXPORT_TRANSFERS)
        return cli_fail(CLI_EXIT_USAGE, "%s: --at applies to balances and gaps", command);
    if (o.at != NULL && !time_parse_through(o.at, &request.at))
        return cli_fail(CLI_EXIT_USAGE,
                        "%s: --at must be a date (YYYY-MM-DD) or an RFC 3339 date-time, not "
                        "\"%s\"",
                        command, o.at);
    int status = CLI_EXIT_OK;
    /* What is due expires first, so that the states exported are current (as every read). */
    struct concord *cc = cli_open_for_read(cli, &status);
    if (cc == NULL) return status;
    struct cc_error err = {0};
    if (concord_export(cc, &request, stdout, &err) != CC_OK) status = cli_fail_error(&err);
    concord_close(cc);
    if (!cli_flush_output()) return CLI_EXIT_STORE;
    return status;
}

int cmd_export_hxl(struct cli *cli, int argc, char **argv)
{
    return export_run(cli, argc, argv, true);
}

int cmd_export_csv(struct cli *cli, int argc, char **argv)
{
    return export_run(cli, argc, argv, false);
}
