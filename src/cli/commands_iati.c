/*
 * commands_iati.c — `concord import iati FILE... [--schema PATH] [--json]`
 * and `concord export iati [--activity-prefix P]` (app/interop_iati.h does
 * the work; docs/INTEROP.md gives the mapping).
 *
 * The import validates against the official IATI 2.03 schema, which concord
 * does not ship: the schema is the IATI Standard's to publish and version,
 * and a copy compiled in would silently go stale. Its path comes from
 * --schema, else from $CONCORD_IATI_SCHEMA; without either the import is
 * refused, saying how to give it. Files are opened here and streamed by the
 * reader, never read whole.
 */
#include "cli/commands_iati.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "app/interop_iati.h"
#include "util/amount.h"

static int print_summary_json(json_t *summary)
{
    bool ok = json_dumpf(summary, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) == 0;
    if (ok) fputc('\n', stdout);
    if (!cli_flush_output()) return CLI_EXIT_STORE;
    if (!ok) return cli_fail(CLI_EXIT_STORE, "cannot write the output: it could not be encoded");
    return CLI_EXIT_OK;
}

/* The summary for people: counts, amounts in their units' scales, what was not recorded. */
static void print_summary(struct concord *cc, const json_t *s)
{
    const json_t *pairs = json_object_get(s, "double_reported");
    printf("%lld activities, %lld transactions, %lld second reports of flows counted once\n",
           (long long)json_integer_value(json_object_get(s, "activities")),
           (long long)json_integer_value(json_object_get(s, "transactions")),
           (long long)json_integer_value(json_object_get(s, "second_reports")));
    const json_t *by_type = json_object_get(s, "by_type");
    for (int k = 1; k <= 13; k++) {
        char code[4];
        snprintf(code, sizeof code, "%d", k);
        json_int_t n = json_integer_value(json_object_get(by_type, code));
        if (n > 0)
            printf("  type %2d %-20s %lld\n", k, iati_type_of(k)->name, (long long)n);
    }
    const char *unit;
    const json_t *per;
    json_object_foreach(json_object_get(s, "amounts"), unit, per) {
        struct ledger_unit u;
        char name[LEDGER_NAME_BYTES_MAX + 1];
        struct cc_error err = {0};
        /* A dry run made no unit: the scale is the one the import would have made it with. */
        int scale = concord_unit_get(cc, unit, &u, name, sizeof name, &err) == CC_OK
                        ? u.scale
                        : interop_iati_unit_scale(unit);
        const char *code;
        const json_t *v;
        json_object_foreach((json_t *)per, code, v) {
            char text[AMOUNT_TEXT_BYTES];
            if (json_is_integer(v)) amount_format(json_integer_value(v), scale, true, text);
            else snprintf(text, sizeof text, "%s (minor units)", json_string_value(v));
            printf("  %s type %2s %-20s %s\n", unit, code, iati_type_of(atoi(code))->name, text);
        }
    }
    size_t i;
    const json_t *p;
    json_array_foreach(json_object_get(pairs, "listed"), i, p)
        printf("reported by both sides, counted once: %s (also %s)\n",
               json_string_value(json_object_get(p, "counted")),
               json_string_value(json_object_get(p, "second_report")));
    const json_t *doubtful = json_object_get(s, "doubtful");
    if (json_integer_value(json_object_get(doubtful, "count")) > 0)
        printf("%lld transactions known only by their place are like ones recorded before at "
               "another place of their activity: if the publisher moved them, their money now "
               "counts twice:\n",
               (long long)json_integer_value(json_object_get(doubtful, "count")));
    json_array_foreach(json_object_get(doubtful, "listed"), i, p)
        printf("  %s like %s\n", json_string_value(json_object_get(p, "id")),
               json_string_value(json_object_get(p, "like")));
    const json_t *skipped = json_object_get(s, "skipped");
    if (json_integer_value(json_object_get(skipped, "count")) > 0)
        printf("%lld not recorded:\n",
               (long long)json_integer_value(json_object_get(skipped, "count")));
    json_array_foreach(json_object_get(skipped, "listed"), i, p) {
        char line[IATI_MESSAGE_BYTES + 64];
        snprintf(line, sizeof line, "%s:%lld: element %s: %s",
                 json_string_value(json_object_get(p, "file")),
                 (long long)json_integer_value(json_object_get(p, "line")),
                 json_string_value(json_object_get(p, "element")),
                 json_string_value(json_object_get(p, "reason")));
        cli_put_line(stdout, "  ", line);
    }
}

int cmd_import_iati(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_JSON, OPT_SCHEMA, OPT_DRY_RUN, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "import iati")) return CLI_EXIT_USAGE;
    if (o.positional_count == 0)
        return cli_fail(CLI_EXIT_USAGE, "import iati: give the IATI activity files to import");
    if (o.positional_count > INTEROP_IATI_FILES_MAX)
        return cli_fail(CLI_EXIT_USAGE, "import iati: at most %d files", INTEROP_IATI_FILES_MAX);
    const char *schema = o.schema != NULL ? o.schema : getenv(CLI_IATI_SCHEMA_ENV);
    if (schema == NULL || schema[0] == '\0')
        return cli_fail(CLI_EXIT_USAGE,
                        "import iati: no schema: give the IATI 2.03 activities schema "
                        "(iati-activities-schema.xsd of IATI-Schemas version-2.03, with "
                        "iati-common.xsd and xml.xsd beside it) with --schema PATH or the "
                        "environment variable " CLI_IATI_SCHEMA_ENV);
    struct interop_iati_input inputs[INTEROP_IATI_FILES_MAX];
    int opened = 0, status = CLI_EXIT_OK;
    for (; opened < o.positional_count; opened++) {
        const char *name = o.positional[opened];
        bool in = strcmp(name, "-") == 0;
        FILE *f = in ? stdin : fopen(name, "rb");
        if (f == NULL) {
            status = cli_fail(CLI_EXIT_USAGE, "%s: cannot open: %s", name, strerror(errno));
            break;
        }
        inputs[opened] = (struct interop_iati_input){.name = in ? "stdin" : name, .file = f};
    }
    json_t *summary = NULL;
    struct concord *cc = status == CLI_EXIT_OK ? cli_open(cli, &status) : NULL;
    if (cc != NULL) {
        struct cc_error err = {0};
        if (concord_import_iati(cc, inputs, (size_t)opened, schema, o.dry_run, &summary,
                                &err) != CC_OK)
            status = cli_fail_error(&err);
    }
    for (int i = 0; i < opened; i++)
        if (inputs[i].file != stdin) fclose(inputs[i].file);
    if (summary == NULL) {
        if (cc != NULL) concord_close(cc);
        return status;
    }
    const json_t *rejected = json_object_get(summary, "rejected");
    int result = json_integer_value(json_object_get(rejected, "count")) > 0 ? CLI_EXIT_REJECTED
                                                                             : CLI_EXIT_OK;
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(rejected, "listed"), i, r) {
        const char *message = json_string_value(json_object_get(r, "message"));
        fprintf(stderr, "concord: %s: %s%s%s\n", json_string_value(json_object_get(r, "id")),
                json_string_value(json_object_get(r, "status")), message ? ": " : "",
                message ? message : "");
    }
    if (o.json) {
        int printed = print_summary_json(summary);
        json_decref(summary);
        concord_close(cc);
        return printed != CLI_EXIT_OK ? printed : result;
    }
    if (o.dry_run) puts("dry run: nothing was recorded; the import would record:");
    print_summary(cc, summary);
    json_decref(summary);
    concord_close(cc);
    return cli_flush_output() ? result : CLI_EXIT_STORE;
}

static bool write_stdout(void *ctx, const char *bytes, size_t length)
{
    (void)ctx;
    return fwrite(bytes, 1, length, stdout) == length;
}

int cmd_export_iati(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_ACTIVITY_PREFIX, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "export iati")) return CLI_EXIT_USAGE;
    if (o.positional_count != 0)
        return cli_fail(CLI_EXIT_USAGE, "export iati: takes no arguments (see concord export "
                                        "iati --help)");
    int status = CLI_EXIT_OK;
    struct concord *cc = cli_open(cli, &status);
    if (cc == NULL) return status;
    struct cc_error err = {0};
    if (concord_export_iati(cc, o.activity_prefix, write_stdout, NULL, &err) != CC_OK)
        status = cli_fail_error(&err);
    concord_close(cc);
    if (!cli_flush_output()) return CLI_EXIT_STORE;
    return status;
}
