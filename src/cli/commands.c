/*
 * commands.c — every concord command, and the one table that lists them.
 *
 * Read commands print aligned tables for people and, with --json, the exact
 * shapes of the contract. Write commands build operations and commit them
 * through concord_apply, like `apply` does for JSON Lines.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "app/demo.h"
#include "app/interop.h"
#include "app/log.h"
#include "app/report.h"
#include "app/report_domain.h"
#include "app/token.h"
#include "cli/cli.h"
#include "cli/commands_iati.h"
#include "cli/commands_hxl.h"
#include "fmt/fts.h"
#include "fmt/json.h"
#include "fmt/proof.h"
#include "http/http.h"
#include "util/amount.h"
#include "util/readall.h"
#include "util/timefmt.h"

#define APPLY_INPUT_BYTES_MAX ((size_t)1 << 30) /* 1 GiB of JSON Lines */
#define HISTORY_LIMIT_DEFAULT 1000
#define LIST_LIMIT_DEFAULT 1000

/* ---------------------------------------------------------------- option parsing */

static const struct option all_options[] = {
    {"json", no_argument, NULL, OPT_JSON},       {"prefix", required_argument, NULL, OPT_PREFIX},
    {"at", required_argument, NULL, OPT_AT},     {"since", required_argument, NULL, OPT_SINCE},
    {"until", required_argument, NULL, OPT_UNTIL}, {"limit", required_argument, NULL, OPT_LIMIT},
    {"after", required_argument, NULL, OPT_AFTER}, {"unit", required_argument, NULL, OPT_UNIT},
    {"name", required_argument, NULL, OPT_NAME}, {"owner", required_argument, NULL, OPT_OWNER},
    {"flag", required_argument, NULL, OPT_FLAG}, {"scale", required_argument, NULL, OPT_SCALE},
    {"id", required_argument, NULL, OPT_ID},     {"debit", required_argument, NULL, OPT_DEBIT},
    {"credit", required_argument, NULL, OPT_CREDIT},
    {"amount", required_argument, NULL, OPT_AMOUNT},
    {"pending", no_argument, NULL, OPT_PENDING}, {"expires", required_argument, NULL, OPT_EXPIRES},
    {"date", required_argument, NULL, OPT_DATE}, {"kind", required_argument, NULL, OPT_KIND},
    {"memo", required_argument, NULL, OPT_MEMO}, {"title", required_argument, NULL, OPT_TITLE},
    {"probability", required_argument, NULL, OPT_PROBABILITY},
    {"authority", required_argument, NULL, OPT_AUTHORITY},
    {"when", required_argument, NULL, OPT_WHEN}, {"account", required_argument, NULL, OPT_ACCOUNT},
    {"measure", required_argument, NULL, OPT_MEASURE},
    {"target", required_argument, NULL, OPT_TARGET}, {"due", required_argument, NULL, OPT_DUE},
    {"to", required_argument, NULL, OPT_TO}, {"rate", required_argument, NULL, OPT_RATE},
    {"assume", required_argument, NULL, OPT_ASSUME},
    {"samples", required_argument, NULL, OPT_SAMPLES}, {"seed", required_argument, NULL, OPT_SEED},
    {"in", required_argument, NULL, OPT_IN},
    {"user", required_argument, NULL, OPT_USER}, {"role", required_argument, NULL, OPT_ROLE},
    {"party", required_argument, NULL, OPT_PARTY}, {"guarded", no_argument, NULL, OPT_GUARDED},
    {"approver", required_argument, NULL, OPT_APPROVER},
    {"approvals-required", required_argument, NULL, OPT_APPROVALS_REQUIRED},
    {"decision", required_argument, NULL, OPT_DECISION},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"threads", required_argument, NULL, OPT_THREADS}, {"quiet", no_argument, NULL, OPT_QUIET},
    {"from", required_argument, NULL, OPT_FROM}, {"key", required_argument, NULL, OPT_KEY},
    {"seq", required_argument, NULL, OPT_SEQ},
    {"source", required_argument, NULL, OPT_SOURCE},
    {"check", no_argument, NULL, OPT_CHECK}, {"what", required_argument, NULL, OPT_WHAT},
    {"selector", required_argument, NULL, OPT_SELECTOR},
    {"schema", required_argument, NULL, OPT_SCHEMA},
    {"activity-prefix", required_argument, NULL, OPT_ACTIVITY_PREFIX},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {NULL, 0, NULL, 0},
};

/*
 * Parses argv (argv[0] is the command's last word) accepting only the options
 * whose ids appear in `accepted` (terminated by 0). Returns false after
 * reporting a usage error.
 */
bool cli_opts_parse(int argc, char **argv, const int *accepted, struct cli_opts *o,
                       const char *command)
{
    memset(o, 0, sizeof *o);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", all_options, NULL)) != -1) {
        bool ok = false;
        for (const int *a = accepted; *a != 0; a++) ok |= *a == c;
        if (c == '?' || c == ':' || !ok) {
            const char *bad = argv[optind - 1];
            /* An option this command does not take: named as typed, not by its value. */
            for (const struct option *opt = all_options; c > 0 && opt->name != NULL; opt++)
                if (opt->val == c) {
                    cli_fail(CLI_EXIT_USAGE, "%s: no option --%s (see concord %s --help)",
                             command, opt->name, command);
                    return false;
                }
            cli_fail(CLI_EXIT_USAGE, "%s: unknown or incomplete option %s (see concord %s --help)",
                     command, bad, command);
            return false;
        }
        switch (c) {
        case OPT_JSON: o->json = true; break;
        case OPT_PENDING: o->pending = true; break;
        case OPT_PREFIX: o->prefix = optarg; break;
        case OPT_AT: o->at = optarg; break;
        case OPT_SINCE: o->since = optarg; break;
        case OPT_UNTIL: o->until = optarg; break;
        case OPT_LIMIT: o->limit = optarg; break;
        case OPT_AFTER: o->after = optarg; break;
        case OPT_UNIT: o->unit = optarg; break;
        case OPT_NAME: o->name = optarg; break;
        case OPT_OWNER: o->owner = optarg; break;
        case OPT_SCALE: o->scale = optarg; break;
        case OPT_ID: o->id = optarg; break;
        case OPT_DEBIT: o->debit = optarg; break;
        case OPT_CREDIT: o->credit = optarg; break;
        case OPT_AMOUNT: o->amount = optarg; break;
        case OPT_EXPIRES: o->expires = optarg; break;
        case OPT_DATE: o->date = optarg; break;
        case OPT_KIND: o->kind = optarg; break;
        case OPT_MEMO: o->memo = optarg; break;
        case OPT_TITLE: o->title = optarg; break;
        case OPT_PROBABILITY: o->probability = optarg; break;
        case OPT_AUTHORITY: o->authority = optarg; break;
        case OPT_WHEN: o->when = optarg; break;
        case OPT_ACCOUNT: o->account = optarg; break;
        case OPT_MEASURE: o->measure = optarg; break;
        case OPT_TARGET: o->target = optarg; break;
        case OPT_DUE: o->due = optarg; break;
        case OPT_TO: o->to = optarg; break;
        case OPT_RATE: o->rate = optarg; break;
        case OPT_SAMPLES: o->samples = optarg; break;
        case OPT_SEED: o->seed = optarg; break;
        case OPT_IN: o->in = optarg; break;
        case OPT_LISTEN: o->listen = optarg; break;
        case OPT_THREADS: o->threads = optarg; break;
        case OPT_QUIET: o->quiet = true; break;
        case OPT_USER: o->user = optarg; break;
        case OPT_ROLE: o->role = optarg; break;
        case OPT_PARTY: o->party = optarg; break;
        case OPT_GUARDED: o->guarded = true; break;
        case OPT_APPROVALS_REQUIRED: o->approvals_required = optarg; break;
        case OPT_DECISION: o->decision = optarg; break;
        case OPT_SOURCE: o->source = optarg; break;
        case OPT_CHECK: o->check = true; break;
        case OPT_DRY_RUN: o->dry_run = true; break;
        case OPT_WHAT: o->what = optarg; break;
        case OPT_SELECTOR: o->selector = optarg; break;
        case OPT_SCHEMA: o->schema = optarg; break;
        case OPT_ACTIVITY_PREFIX: o->activity_prefix = optarg; break;
        case OPT_APPROVER:
            if (o->approvers_count == LEDGER_APPROVERS_MAX) {
                cli_fail(CLI_EXIT_USAGE, "%s: at most %d --approver options", command,
                         LEDGER_APPROVERS_MAX);
                return false;
            }
            o->approvers[o->approvers_count++] = optarg;
            break;
        case OPT_FROM: o->from = optarg; break;
        case OPT_KEY: o->key = optarg; break;
        case OPT_SEQ: o->seq = optarg; break;
        case OPT_ASSUME:
            if (o->assume_count == REPORT_ASSUMPTIONS_MAX) {
                cli_fail(CLI_EXIT_USAGE, "%s: at most %d --assume options", command,
                         REPORT_ASSUMPTIONS_MAX);
                return false;
            }
            o->assume[o->assume_count++] = optarg;
            break;
        case OPT_FLAG:
            if (o->flags_count == CLI_FLAGS_MAX) {
                cli_fail(CLI_EXIT_USAGE, "%s: at most %d --flag options", command, CLI_FLAGS_MAX);
                return false;
            }
            o->flags[o->flags_count++] = optarg;
            break;
        default: return false;
        }
    }
    o->positional = argv + optind;
    o->positional_count = argc - optind;
    return true;
}

/* Exactly `n` positional arguments, or a usage error. */
static bool positional_exactly(const struct cli_opts *o, int n, const char *command)
{
    if (o->positional_count == n) return true;
    cli_fail(CLI_EXIT_USAGE, "%s: expected %d argument%s, got %d (see concord %s --help)", command,
             n, n == 1 ? "" : "s", o->positional_count, command);
    return false;
}

static bool parse_limit(const char *text, uint32_t fallback, uint32_t *out, const char *command)
{
    if (text == NULL) {
        *out = fallback;
        return true;
    }
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < 1 || v > STORE_LIST_LIMIT_MAX) {
        cli_fail(CLI_EXIT_USAGE, "%s: --limit must be an integer in 1 … %d, not \"%s\"", command,
                 STORE_LIST_LIMIT_MAX, text);
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

/* Parses a date option "through the end of that day"; INT64_MAX when absent. */
static bool parse_through(const char *text, int64_t *out, const char *option, const char *command)
{
    if (text == NULL) {
        *out = INT64_MAX;
        return true;
    }
    if (time_parse_through(text, out)) return true;
    cli_fail(CLI_EXIT_USAGE, "%s: %s must be a date (YYYY-MM-DD) or an RFC 3339 date-time, not \"%s\"",
             command, option, text);
    return false;
}

/* ---------------------------------------------------------------- output helpers */

static int print_json(json_t *value)
{
    bool ok = value != NULL && json_dumpf(value, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) == 0;
    json_decref(value);
    if (ok) fputc('\n', stdout);
    if (!cli_flush_output()) return CLI_EXIT_STORE;
    if (!ok) return cli_fail(CLI_EXIT_STORE, "cannot write the output: it could not be encoded");
    return CLI_EXIT_OK;
}

/* Prints a table for people and says whether it reached the output. */
static int print_table(const struct table *t)
{
    table_print(t, stdout);
    return cli_flush_output() ? CLI_EXIT_OK : CLI_EXIT_STORE;
}

static void format_amount(int64_t minor, int32_t scale, char out[AMOUNT_TEXT_BYTES])
{
    amount_format(minor, scale, true, out);
}


/* ---------------------------------------------------------------- init */

static int cmd_init(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "init") || !positional_exactly(&o, 0, "init"))
        return CLI_EXIT_USAGE;
    struct concord *cc;
    struct cc_error err = {0};
    struct concord_options options = {.path = cli->db_path, .key_path = cli->key_path,
                                      .mode = STORE_CREATE};
    if (concord_open_options(&cc, &options, &err) != CC_OK) return cli_fail_error(&err);
    fprintf(stderr, "concord: database ready at %s, its audit key at %s\n", cli->db_path,
            cc->key_path);
    concord_close(cc);
    return CLI_EXIT_OK;
}

/* ---------------------------------------------------------------- apply */

/* Reads all of f, refusing more than max bytes; NULL after reporting. */
char *cli_read_input(FILE *f, size_t max, size_t *length, const char *name, int *status)
{
    char *text;
    switch (read_all(f, max, &text, length)) {
    case READ_ALL_OK: return text;
    case READ_ALL_TOO_LARGE:
        *status = cli_fail(CLI_EXIT_USAGE, "%s: input is larger than %zu bytes", name, max);
        return NULL;
    case READ_ALL_IO_ERROR:
        *status = cli_fail(CLI_EXIT_STORE, "%s: cannot read: %s", name, strerror(errno));
        return NULL;
    case READ_ALL_NO_MEMORY: break;
    }
    *status = cli_fail(CLI_EXIT_STORE, "%s: out of memory reading the input", name);
    return NULL;
}

static bool blank_line(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return false;
    return true;
}

struct batch {
    struct ledger_op *ops;
    size_t count, capacity;
    struct arena arena;
};

static void batch_free(struct batch *b)
{
    free(b->ops);
    arena_free(&b->arena);
}

/*
 * Splits text into JSON Lines and decodes each into b. Any line that is not
 * JSON makes the whole input malformed: reported with its line and column.
 */
static int batch_decode(char *text, size_t length, const char *name, struct batch *b)
{
    size_t line_no = 0;
    char *p = text, *end = text + length;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        line_no++;
        if (!blank_line(p, n)) {
            if (b->count == LEDGER_BATCH_OPS_MAX)
                return cli_fail(CLI_EXIT_USAGE, "%s:%zu: more than %d operations in one batch",
                                name, line_no, LEDGER_BATCH_OPS_MAX);
            if (b->count == b->capacity) {
                size_t capacity = b->capacity == 0 ? 1024 : b->capacity * 2;
                struct ledger_op *grown = realloc(b->ops, capacity * sizeof *grown);
                if (grown == NULL) return cli_fail(CLI_EXIT_STORE, "out of memory");
                b->ops = grown;
                b->capacity = capacity;
            }
            json_error_t error;
            struct json_place too_big;
            json_t *stand_in = NULL;
            json_t *value = json_parse_text(p, n, &error, &too_big, &stand_in);
            if (value == NULL && too_big.line == 0)
                return cli_fail(CLI_EXIT_USAGE, "%s:%zu:%d: not JSON: %s", name, line_no,
                                error.column, error.text);
            /* JSON whose numbers do not fit is an invalid operation, not malformed input. */
            bool ok = value != NULL
                          ? json_decode_op(value, &b->ops[b->count], &b->arena)
                          : json_decode_op_too_big(stand_in, too_big.column, &b->ops[b->count],
                                                   &b->arena);
            json_decref(value);
            json_decref(stand_in);
            if (!ok) return cli_fail(CLI_EXIT_STORE, "out of memory");
            b->count++;
        }
        p += n + 1;
    }
    return CLI_EXIT_OK;
}

/* Prints one result per line and returns 0, or 1 when any was rejected. */
static int print_results(const struct batch *b, const struct ledger_result *results)
{
    int status = CLI_EXIT_OK;
    bool ok = true;
    for (size_t i = 0; i < b->count && ok; i++) {
        json_t *r = json_encode_result(i, &b->ops[i], &results[i]);
        ok = r != NULL && json_print_line(r, stdout);
        json_decref(r);
        if (!ledger_status_ok(results[i].status)) status = CLI_EXIT_REJECTED;
    }
    /* The batch is committed either way; the message says its results were not all shown. */
    if (!cli_flush_output()) return CLI_EXIT_STORE;
    if (!ok) return cli_fail(CLI_EXIT_STORE, "cannot write the output: a result could not be encoded");
    return status;
}

/* Commits b and prints its results. */
static int batch_commit(struct cli *cli, struct batch *b, int (*print)(const struct batch *,
                                                                        const struct ledger_result *))
{
    int status;
    struct concord *cc = cli_open(cli, &status);
    if (cc == NULL) return status;
    struct ledger_result *results = calloc(b->count ? b->count : 1, sizeof *results);
    if (results == NULL) {
        concord_close(cc);
        return cli_fail(CLI_EXIT_STORE, "out of memory");
    }
    struct cc_error err = {0};
    if (concord_apply(cc, b->ops, b->count, results, &err) != CC_OK)
        status = cli_fail_error(&err);
    else
        status = print(b, results);
    free(results);
    concord_close(cc);
    return status;
}

static int cmd_apply(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_JSON, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "apply")) return CLI_EXIT_USAGE;
    if (o.positional_count > 1) return cli_fail(CLI_EXIT_USAGE, "apply: at most one FILE");
    const char *name = o.positional_count == 1 ? o.positional[0] : "-";
    FILE *f = strcmp(name, "-") == 0 ? stdin : fopen(name, "rb");
    if (f == NULL) return cli_fail(CLI_EXIT_USAGE, "%s: cannot open: %s", name, strerror(errno));
    int status = CLI_EXIT_OK;
    size_t length = 0;
    char *text = cli_read_input(f, APPLY_INPUT_BYTES_MAX, &length, strcmp(name, "-") ? name : "stdin",
                            &status);
    if (f != stdin) fclose(f);
    if (text == NULL) return status;
    struct batch b = {0};
    arena_init(&b.arena);
    status = batch_decode(text, length, strcmp(name, "-") ? name : "stdin", &b);
    if (status == CLI_EXIT_OK) status = batch_commit(cli, &b, print_results);
    batch_free(&b);
    free(text);
    return status;
}

/* ---------------------------------------------------------------- friendly writes */

/* Prints the single result of a friendly verb for people (or as JSON). */
static bool friendly_json;

static int print_friendly(const struct batch *b, const struct ledger_result *results)
{
    if (friendly_json) return print_results(b, results);
    const struct ledger_result *r = &results[0];
    const struct ledger_op *op = &b->ops[0];
    if (!ledger_status_ok(r->status)) {
        /* The id came from the command line, as typed: escape it like any text shown. */
        char *id = cli_text_escaped(op->id);
        int status = cli_fail(CLI_EXIT_REJECTED, "%s %s: %s%s%s", ledger_op_label(op),
                              id != NULL ? id : "?", ledger_status_name(r->status),
                              r->message ? ": " : "", r->message ? r->message : "");
        free(id);
        return status;
    }
    char ts[TIME_TEXT_BYTES];
    time_format(r->timestamp, ts);
    printf("%s %s %s at %s", ledger_op_label(op), op->id, ledger_status_name(r->status), ts);
    if (r->status == LEDGER_RESOLVED)
        printf(": %d pending transfer%s posted, %d voided", r->posted, r->posted == 1 ? "" : "s",
               r->voided);
    putchar('\n');
    return CLI_EXIT_OK;
}

static int commit_one(struct cli *cli, struct ledger_op *op, bool json)
{
    struct batch b = {.ops = op, .count = 1, .capacity = 1};
    friendly_json = json;
    return batch_commit(cli, &b, print_friendly);
}

/*
 * A domain operation typed as a command: `concord pledge p-1 --donor us
 * --amount 500000 --if ceasefire`. The first word after the verb is the id;
 * each --name value becomes a field (dashes read as underscores), the value
 * taken as JSON when it is a number, true, false, null, an array or an
 * object, else as text. The operation then goes through the same decoder and
 * batch as `apply`.
 */
int cli_domain_run(struct cli *cli, const char *verb, int argc, char **argv)
{
    bool json = false;
    json_t *op = json_pack("{s:s}", "op", verb);
    int status = CLI_EXIT_OK;
    for (int i = 1; i < argc && status == CLI_EXIT_OK; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--json") == 0) {
            json = true;
        } else if (strncmp(arg, "--", 2) == 0 && arg[2] != '\0') {
            if (i + 1 == argc) {
                status = cli_fail(CLI_EXIT_USAGE, "%s: %s needs a value", verb, arg);
                break;
            }
            char name[LEDGER_KIND_BYTES_MAX + 1];
            snprintf(name, sizeof name, "%s", arg + 2);
            for (char *p = name; *p; p++)
                if (*p == '-') *p = '_';
            if (strcmp(name, "op") == 0) {
                status = cli_fail(CLI_EXIT_USAGE, "%s: --op: the verb is the operation", verb);
                break;
            }
            const char *text = argv[++i];
            json_error_t jerr;
            /* Integers, true, false, null, arrays and objects are JSON; decimals ("1.0869")
               stay text, exactly as typed. */
            json_t *value = json_loads(text, JSON_DECODE_ANY, &jerr);
            if (value == NULL || json_is_real(value)) { /* a quoted "2" stays the text 2 */
                json_decref(value);
                value = json_string(text);
            }
            if (value == NULL) {
                status = cli_fail(CLI_EXIT_USAGE, "%s: --%s: not UTF-8 text", verb, arg + 2);
                break;
            }
            json_object_set_new(op, name, value);
        } else if (json_object_get(op, "id") == NULL) {
            json_object_set_new(op, "id", json_string(arg));
        } else {
            status = cli_fail(CLI_EXIT_USAGE, "%s: unexpected argument %s", verb, arg);
        }
    }
    if (status == CLI_EXIT_OK && json_object_get(op, "id") == NULL)
        status = cli_fail(CLI_EXIT_USAGE, "%s: the first argument is the operation's id", verb);
    struct arena arena;
    arena_init(&arena);
    struct ledger_op decoded;
    if (status == CLI_EXIT_OK && !json_decode_op(op, &decoded, &arena))
        status = cli_fail(CLI_EXIT_STORE, "out of memory");
    if (status == CLI_EXIT_OK) status = commit_one(cli, &decoded, json);
    arena_free(&arena);
    json_decref(op);
    return status;
}

/* A fresh id when a person gives none (or the default would be too long): prefix and 16 random hex digits. */
static void random_id(char out[32], const char *prefix)
{
    unsigned char bytes[8];
    randombytes_buf(bytes, sizeof bytes);
    int n = snprintf(out, 32, "%s", prefix);
    for (size_t i = 0; i < sizeof bytes; i++) n += snprintf(out + n, (size_t)(32 - n), "%02x", bytes[i]);
}

struct unit_of {
    char code[LEDGER_UNIT_CODE_BYTES_MAX + 1];
    int32_t scale;
};

static int unit_of_fn(void *ctx, const struct store_balance *balance)
{
    struct unit_of *u = ctx;
    snprintf(u->code, sizeof u->code, "%s", balance->unit);
    u->scale = balance->scale;
    return 0;
}

/*
 * Parses a person's amount ("12.50" or "12.50 USD") in the unit of account
 * `account`. Excess precision, another unit or a non-number are usage errors.
 */
static int parse_person_amount(struct cli *cli, const char *text, const char *account,
                               int64_t *out, const char *command)
{
    int status;
    struct concord *cc = cli_open(cli, &status);
    if (cc == NULL) return status;
    struct cc_error err = {0};
    struct unit_of unit = {0};
    enum cc_err rc = concord_balance(cc, account, INT64_MAX, unit_of_fn, &unit, &err);
    concord_close(cc);
    if (rc != CC_OK) return cli_fail_error(&err);
    char number[AMOUNT_TEXT_BYTES];
    const char *space = strchr(text, ' ');
    size_t n = space != NULL ? (size_t)(space - text) : strlen(text);
    if (n >= sizeof number)
        return cli_fail(CLI_EXIT_USAGE, "%s: --amount \"%s\" is too long", command, text);
    memcpy(number, text, n);
    number[n] = '\0';
    if (space != NULL && strcmp(space + 1, unit.code) != 0)
        return cli_fail(CLI_EXIT_USAGE, "%s: --amount is in %s but %s counts in %s", command,
                        space + 1, account, unit.code);
    switch (amount_parse(number, unit.scale, out)) {
    case AMOUNT_OK: return CLI_EXIT_OK;
    case AMOUNT_TOO_PRECISE:
        return cli_fail(CLI_EXIT_USAGE, "%s: --amount %s has more than %d decimal places for %s",
                        command, text, unit.scale, unit.code);
    case AMOUNT_OUT_OF_RANGE:
        return cli_fail(CLI_EXIT_USAGE, "%s: --amount %s is out of range", command, text);
    case AMOUNT_MALFORMED: break;
    }
    return cli_fail(CLI_EXIT_USAGE, "%s: --amount \"%s\" is not a decimal number", command, text);
}

static bool time_option(const char *text, int64_t *out, const char *option, const char *command)
{
    bool date_only;
    if (time_parse(text, out, &date_only)) return true;
    cli_fail(CLI_EXIT_USAGE, "%s: %s must be a date or an RFC 3339 date-time, not \"%s\"", command,
             option, text);
    return false;
}

static int cmd_unit_add(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_SCALE, OPT_NAME, OPT_JSON, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "unit add") ||
        !positional_exactly(&o, 1, "unit add"))
        return CLI_EXIT_USAGE;
    if (o.scale == NULL) return cli_fail(CLI_EXIT_USAGE, "unit add: --scale is required");
    char *end;
    errno = 0;
    long scale = strtol(o.scale, &end, 10);
    /* No digits at all (--scale '') is no scale, not 0. */
    if (end == o.scale || *end != '\0' || errno != 0 || scale < 0 || scale > LEDGER_SCALE_MAX)
        return cli_fail(CLI_EXIT_USAGE, "unit add: --scale must be 0 … %d", LEDGER_SCALE_MAX);
    struct ledger_op op = {.type = LEDGER_OP_UNIT, .id = o.positional[0], .name = o.name,
                           .scale = (int32_t)scale, .flags = LEDGER_OP_HAS_SCALE};
    return commit_one(cli, &op, o.json);
}

/* Bytes of the approvers of one guarded account, space-separated. */
#define APPROVERS_TEXT_BYTES (LEDGER_APPROVERS_MAX * (LEDGER_USER_BYTES_MAX + 1) + 1)

/* --guarded --approver NAME ... --approvals-required K into op; false after reporting. */
static bool guarded_options(const struct cli_opts *o, struct ledger_op *op,
                            char approvers[APPROVERS_TEXT_BYTES])
{
    if (!o->guarded) {
        if (o->approvers_count == 0 && o->approvals_required == NULL) return true;
        cli_fail(CLI_EXIT_USAGE, "account add: --approver and --approvals-required need --guarded");
        return false;
    }
    size_t n = 0;
    for (int i = 0; i < o->approvers_count; i++) {
        if (!ledger_valid_user(o->approvers[i])) {
            cli_fail(CLI_EXIT_USAGE, "account add: --approver %s is not a user name", o->approvers[i]);
            return false;
        }
        n += (size_t)snprintf(approvers + n, APPROVERS_TEXT_BYTES - n, "%s%s", i ? " " : "",
                              o->approvers[i]);
    }
    char *end;
    long k = o->approvals_required ? strtol(o->approvals_required, &end, 10) : 0;
    if (o->approvers_count == 0 || o->approvals_required == NULL || *end != '\0' || k < 1 ||
        k > o->approvers_count) {
        cli_fail(CLI_EXIT_USAGE, "account add: --guarded needs --approver NAME (repeated) and "
                                 "--approvals-required K, 1 <= K <= the approvers");
        return false;
    }
    op->account_flags |= LEDGER_ACCOUNT_GUARDED;
    op->approvers = approvers;
    op->approvals_required = (int32_t)k;
    return true;
}

static int cmd_account_add(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_UNIT, OPT_NAME, OPT_OWNER, OPT_FLAG, OPT_GUARDED,
                                   OPT_APPROVER, OPT_APPROVALS_REQUIRED, OPT_JSON, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "account add") ||
        !positional_exactly(&o, 1, "account add"))
        return CLI_EXIT_USAGE;
    if (o.unit == NULL) return cli_fail(CLI_EXIT_USAGE, "account add: --unit is required");
    uint32_t flags = 0;
    for (int i = 0; i < o.flags_count; i++) {
        if (strcmp(o.flags[i], "debits_must_not_exceed_credits") == 0)
            flags |= LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS;
        else if (strcmp(o.flags[i], "credits_must_not_exceed_debits") == 0)
            flags |= LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS;
        else
            return cli_fail(CLI_EXIT_USAGE, "account add: unknown --flag %s", o.flags[i]);
    }
    struct ledger_op op = {.type = LEDGER_OP_ACCOUNT, .id = o.positional[0], .unit = o.unit,
                           .name = o.name, .owner = o.owner, .account_flags = flags};
    char approvers[APPROVERS_TEXT_BYTES];
    if (!guarded_options(&o, &op, approvers)) return CLI_EXIT_USAGE;
    return commit_one(cli, &op, o.json);
}

static int cmd_transfer(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_ID,      OPT_DEBIT, OPT_CREDIT, OPT_AMOUNT, OPT_UNIT,
                                   OPT_PENDING, OPT_EXPIRES, OPT_DATE, OPT_KIND, OPT_MEMO,
                                   OPT_JSON,    0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "transfer") ||
        !positional_exactly(&o, 0, "transfer"))
        return CLI_EXIT_USAGE;
    if (o.debit == NULL || o.credit == NULL || o.amount == NULL)
        return cli_fail(CLI_EXIT_USAGE, "transfer: --debit, --credit and --amount are required");
    char id[32];
    if (o.id == NULL) random_id(id, "t-");
    struct ledger_op op = {.type = LEDGER_OP_TRANSFER, .id = o.id ? o.id : id, .debit = o.debit,
                           .credit = o.credit, .unit = o.unit, .kind = o.kind, .memo = o.memo,
                           .flags = LEDGER_OP_HAS_AMOUNT | (o.pending ? LEDGER_OP_PENDING : 0u)};
    int status = parse_person_amount(cli, o.amount, o.debit, &op.amount, "transfer");
    if (status != CLI_EXIT_OK) return status;
    if (o.expires != NULL) {
        if (!time_option(o.expires, &op.expires, "--expires", "transfer")) return CLI_EXIT_USAGE;
        op.flags |= LEDGER_OP_HAS_EXPIRES;
    }
    if (o.date != NULL) {
        if (!time_option(o.date, &op.date, "--date", "transfer")) return CLI_EXIT_USAGE;
        op.flags |= LEDGER_OP_HAS_DATE;
    }
    return commit_one(cli, &op, o.json);
}

static int copy_debit(void *ctx, const struct ledger_transfer *t)
{
    snprintf(ctx, LEDGER_ID_BYTES_MAX + 1, "%s", t->debit);
    return 0;
}

/* post and void: resolve a pending transfer by hand. */
static int resolve_pending(struct cli *cli, int argc, char **argv, enum ledger_op_type type)
{
    static const int accepted_post[] = {OPT_ID, OPT_AMOUNT, OPT_DATE, OPT_MEMO, OPT_JSON, 0};
    static const int accepted_void[] = {OPT_ID, OPT_DATE, OPT_MEMO, OPT_JSON, 0};
    const char *command = ledger_op_name(type);
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, type == LEDGER_OP_POST ? accepted_post : accepted_void, &o,
                    command) ||
        !positional_exactly(&o, 1, command))
        return CLI_EXIT_USAGE;
    const char *pending_id = o.positional[0];
    char id[LEDGER_ID_BYTES_MAX + 16];
    if (o.id == NULL) {
        /* PENDING_ID.post, unless that is longer than an id may be: then a fresh one. */
        size_t n = strlen(pending_id), m = strlen(command);
        if (n + 1 + m <= LEDGER_ID_BYTES_MAX) {
            memcpy(id, pending_id, n);
            id[n] = '.';
            memcpy(id + n + 1, command, m + 1);
        } else {
            char prefix[8];
            snprintf(prefix, sizeof prefix, "%s-", command);
            random_id(id, prefix);
        }
    }
    struct ledger_op op = {.type = type, .id = o.id ? o.id : id, .pending_id = pending_id,
                           .memo = o.memo};
    if (o.amount != NULL) {
        /* The scale comes from the pending transfer's debit account. */
        int status;
        struct concord *cc = cli_open(cli, &status);
        if (cc == NULL) return status;
        struct cc_error err = {0};
        char debit[LEDGER_ID_BYTES_MAX + 1] = "";
        enum cc_err rc = concord_transfer_get(cc, pending_id, copy_debit, debit, &err);
        concord_close(cc);
        if (rc != CC_OK) return cli_fail_error(&err);
        status = parse_person_amount(cli, o.amount, debit, &op.amount, command);
        if (status != CLI_EXIT_OK) return status;
        op.flags |= LEDGER_OP_HAS_AMOUNT;
    }
    if (o.date != NULL) {
        if (!time_option(o.date, &op.date, "--date", command)) return CLI_EXIT_USAGE;
        op.flags |= LEDGER_OP_HAS_DATE;
    }
    return commit_one(cli, &op, o.json);
}

static int cmd_post(struct cli *cli, int argc, char **argv)
{
    return resolve_pending(cli, argc, argv, LEDGER_OP_POST);
}

static int cmd_void(struct cli *cli, int argc, char **argv)
{
    return resolve_pending(cli, argc, argv, LEDGER_OP_VOID);
}

/* ---------------------------------------------------------------- reads */

static const char *flags_text(uint32_t flags)
{
    if (flags & LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS) return "debits_must_not_exceed_credits";
    if (flags & LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS) return "credits_must_not_exceed_debits";
    return "-";
}

struct show_ctx {
    struct concord *cc;
    bool json;
    json_t *array; /* when collecting JSON rows */
    struct table table;
    int status;
    bool failed;           /* a read inside a row callback failed: show nothing */
    struct cc_error error; /* the first such failure */
};

/*
 * The scale of a unit, for showing amounts of it. A failure to read it is
 * recorded in s (amounts in a wrong scale would misstate them) and the
 * listing ends with that error instead of the rows.
 */
static int32_t unit_scale(struct show_ctx *s, const char *code)
{
    struct ledger_unit u;
    struct cc_error err = {0};
    enum cc_err rc = concord_unit_get(s->cc, code, &u, NULL, 0, &err);
    if (rc == CC_OK) return u.scale;
    if (rc == CC_ERR_NOT_FOUND) /* rows name only units that exist */
        cc_error_set(&err, CC_ERR_STORE, "the database is damaged: unit %s is missing", code);
    if (!s->failed) {
        s->failed = true;
        s->error = err;
    }
    return 0;
}

/* Ends a listing: prints its JSON array or table (or the error), frees, closes. */
static int listing_finish(struct show_ctx *s, enum cc_err rc, const struct cc_error *err)
{
    if (rc != CC_OK)
        s->status = cli_fail_error(err);
    else if (s->failed)
        s->status = cli_fail_error(&s->error);
    else if (s->json)
        s->status = print_json(json_incref(s->array));
    else
        s->status = print_table(&s->table);
    json_decref(s->array);
    table_free(&s->table);
    concord_close(s->cc);
    return s->status;
}

static int account_print(void *ctx, const struct ledger_account *a)
{
    struct show_ctx *s = ctx;
    if (s->json) {
        s->status = print_json(json_encode_account(a));
        return 0;
    }
    int32_t scale = unit_scale(s, a->unit);
    if (s->failed) return 1;
    char ts[TIME_TEXT_BYTES], dp[AMOUNT_TEXT_BYTES], dpo[AMOUNT_TEXT_BYTES],
        cp[AMOUNT_TEXT_BYTES], cpo[AMOUNT_TEXT_BYTES];
    time_format(a->timestamp, ts);
    format_amount(a->debits_pending, scale, dp);
    format_amount(a->debits_posted, scale, dpo);
    format_amount(a->credits_pending, scale, cp);
    format_amount(a->credits_posted, scale, cpo);
    printf("account  %s\n", a->id);
    cli_put_line(stdout, "name     ", a->name ? a->name : "-"); /* free text: escaped */
    printf("unit     %s\nowner    %s\nflags    %s\ncreated  %s\n\n", a->unit,
           a->owner ? a->owner : "-", flags_text(a->flags), ts);
    static const char *const header[] = {"", "pending", "posted"};
    static const bool right[] = {false, true, true};
    struct table t;
    table_init(&t, 3, header, right);
    table_add(&t, (const char *const[]){"debits", dp, dpo});
    table_add(&t, (const char *const[]){"credits", cp, cpo});
    table_print(&t, stdout);
    table_free(&t);
    return 0;
}

static int account_row(void *ctx, const struct ledger_account *a)
{
    struct show_ctx *s = ctx;
    if (s->json) {
        json_array_append_new(s->array, json_encode_account(a));
        return 0;
    }
    int32_t scale = unit_scale(s, a->unit);
    char dpo[AMOUNT_TEXT_BYTES], cpo[AMOUNT_TEXT_BYTES], dp[AMOUNT_TEXT_BYTES],
        cp[AMOUNT_TEXT_BYTES];
    format_amount(a->debits_posted, scale, dpo);
    format_amount(a->credits_posted, scale, cpo);
    format_amount(a->debits_pending, scale, dp);
    format_amount(a->credits_pending, scale, cp);
    table_add(&s->table, (const char *const[]){a->id, a->unit, a->name ? a->name : "",
                                               a->owner ? a->owner : "", dp, dpo, cp, cpo});
    return 0;
}

static int cmd_account_list(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_PREFIX, OPT_AFTER, OPT_LIMIT, OPT_JSON, 0};
    struct cli_opts o;
    uint32_t limit;
    if (!cli_opts_parse(argc, argv, accepted, &o, "account list") ||
        !positional_exactly(&o, 0, "account list") ||
        !parse_limit(o.limit, LIST_LIMIT_DEFAULT, &limit, "account list"))
        return CLI_EXIT_USAGE;
    int status;
    struct concord *cc = cli_open_for_read(cli, &status);
    if (cc == NULL) return status;
    static const char *const header[] = {"ID",           "UNIT",          "NAME",
                                         "OWNER",        "DEBITS PENDING", "DEBITS POSTED",
                                         "CREDITS PENDING", "CREDITS POSTED"};
    static const bool right[] = {false, false, false, false, true, true, true, true};
    struct show_ctx s = {.cc = cc, .json = o.json, .array = o.json ? json_array() : NULL};
    table_init(&s.table, 8, header, right);
    struct cc_error err = {0};
    return listing_finish(&s, concord_accounts_list(cc, o.prefix, o.after, limit, account_row, &s, &err), &err);
}

static int unit_row(void *ctx, const struct ledger_unit *u)
{
    struct show_ctx *s = ctx;
    if (s->json) {
        json_array_append_new(s->array, json_encode_unit(u));
        return 0;
    }
    char scale[16];
    snprintf(scale, sizeof scale, "%d", u->scale);
    table_add(&s->table, (const char *const[]){u->code, scale, u->name ? u->name : ""});
    return 0;
}

static int cmd_unit_list(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_JSON, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "unit list") ||
        !positional_exactly(&o, 0, "unit list"))
        return CLI_EXIT_USAGE;
    int status;
    struct concord *cc = cli_open(cli, &status);
    if (cc == NULL) return status;
    static const char *const header[] = {"CODE", "SCALE", "NAME"};
    static const bool right[] = {false, true, false};
    struct show_ctx s = {.cc = cc, .json = o.json, .array = o.json ? json_array() : NULL};
    table_init(&s.table, 3, header, right);
    struct cc_error err = {0};
    return listing_finish(&s, concord_units_list(cc, unit_row, &s, &err), &err);
}

/* balance: rows for ids, or sums over a prefix. */
struct balance_ctx {
    struct show_ctx show;
    int64_t at;
    bool with_accounts;   /* this row is a prefix sum: its JSON has "accounts" */
    bool accounts_column; /* the table has an ACCOUNTS column (--prefix given) */
};

static int balance_row(void *ctx, const struct store_balance *b)
{
    struct balance_ctx *bc = ctx;
    struct show_ctx *s = &bc->show;
    if (s->json) {
        json_array_append_new(s->array, json_encode_balance(b, bc->with_accounts));
        return 0;
    }
    char n[24] = "", dp[AMOUNT_TEXT_BYTES], dpo[AMOUNT_TEXT_BYTES], cp[AMOUNT_TEXT_BYTES],
        cpo[AMOUNT_TEXT_BYTES], net[AMOUNT_TEXT_BYTES];
    if (bc->with_accounts) snprintf(n, sizeof n, "%lld", (long long)b->accounts);
    /* Both sides are in 0 … 2^63−1, so their difference cannot overflow. */
    format_amount(b->credits_posted - b->debits_posted, b->scale, net);
    format_amount(b->debits_pending, b->scale, dp);
    format_amount(b->debits_posted, b->scale, dpo);
    format_amount(b->credits_pending, b->scale, cp);
    format_amount(b->credits_posted, b->scale, cpo);
    const char *id = b->id[0] ? b->id : "(all)";
    if (bc->accounts_column)
        table_add(&s->table, (const char *const[]){id, b->unit, n, dp, dpo, cp, cpo, net});
    else
        table_add(&s->table, (const char *const[]){id, b->unit, dp, dpo, cp, cpo, net});
    return 0;
}

static enum cc_err balance_of_account(void *ctx, const char *id, const char *unit,
                                      struct cc_error *err)
{
    (void)unit;
    struct balance_ctx *bc = ctx;
    return concord_balance(bc->show.cc, id, bc->at, balance_row, bc, err);
}

static int cmd_balance(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_PREFIX, OPT_AT, OPT_JSON, 0};
    struct cli_opts o;
    int64_t at;
    if (!cli_opts_parse(argc, argv, accepted, &o, "balance") ||
        !parse_through(o.at, &at, "--at", "balance"))
        return CLI_EXIT_USAGE;
    int status = CLI_EXIT_OK;
    struct concord *cc = cli_open_for_read(cli, &status);
    if (cc == NULL) return status;
    /* ACCOUNTS counts what a prefix sums: without --prefix it would be 1 (or blank) on every row. */
    static const char *const header[] = {"ACCOUNT",        "UNIT",          "ACCOUNTS",
                                         "DEBITS PENDING", "DEBITS POSTED", "CREDITS PENDING",
                                         "CREDITS POSTED", "NET POSTED"};
    static const char *const header_no_accounts[] = {
        "ACCOUNT",         "UNIT",           "DEBITS PENDING", "DEBITS POSTED",
        "CREDITS PENDING", "CREDITS POSTED", "NET POSTED"};
    static const bool right[] = {false, false, true, true, true, true, true, true};
    struct balance_ctx bc = {.show = {.cc = cc, .json = o.json,
                                      .array = o.json ? json_array() : NULL},
                             .accounts_column = o.prefix != NULL};
    if (bc.accounts_column)
        table_init(&bc.show.table, 8, header, right);
    else
        table_init(&bc.show.table, 7, header_no_accounts, right + 1);
    struct cc_error err = {0};
    enum cc_err rc = CC_OK;
    for (int i = 0; i < o.positional_count && rc == CC_OK; i++)
        rc = concord_balance(cc, o.positional[i], at, balance_row, &bc, &err);
    if (rc == CC_OK && o.prefix != NULL) {
        bc.with_accounts = true;
        rc = concord_balance_prefix(cc, o.prefix, at, balance_row, &bc, &err);
    }
    if (rc == CC_OK && o.prefix == NULL && o.positional_count == 0) {
        /* Every account, one row each (as of `at` when given). */
        bc.at = at;
        rc = concord_accounts_each(cc, "", balance_of_account, &bc, &err);
    }
    if (rc != CC_OK)
        status = cli_fail_error(&err);
    else if (o.json)
        status = print_json(json_incref(bc.show.array));
    else
        status = print_table(&bc.show.table);
    json_decref(bc.show.array);
    table_free(&bc.show.table);
    concord_close(cc);
    return status;
}

static int transfer_print(void *ctx, const struct ledger_transfer *t)
{
    struct show_ctx *s = ctx;
    if (s->json) {
        s->status = print_json(json_encode_transfer(t));
        return 0;
    }
    int32_t scale = unit_scale(s, t->unit);
    if (s->failed) return 1;
    char amount[AMOUNT_TEXT_BYTES], ts[TIME_TEXT_BYTES], date[TIME_TEXT_BYTES],
        expires[TIME_TEXT_BYTES];
    format_amount(t->amount, scale, amount);
    time_format(t->timestamp, ts);
    time_format_date(t->date, date);
    printf("transfer  %s\ndebit     %s\ncredit    %s\namount    %s %s\nstate     %s\n", t->id,
           t->debit, t->credit, amount, t->unit, ledger_state_name((enum ledger_state)t->state));
    /* Free text goes out escaped: a memo must not drive the terminal. */
    if (t->kind) cli_put_line(stdout, "kind      ", t->kind);
    if (t->flags & LEDGER_TRANSFER_PENDING) printf("pending   yes\n");
    if (t->cond) cli_put_line(stdout, "if        ", t->cond);
    if (t->flags & LEDGER_TRANSFER_EXPIRES) {
        time_format(t->expires, expires);
        printf("expires   %s\n", expires);
    }
    if (t->pending_id)
        printf("resolves  %s (%s)\n", t->pending_id,
               ledger_reason_name((enum ledger_reason)t->reason));
    printf("date      %s\nrecorded  %s\n", date, ts);
    if (t->memo) cli_put_line(stdout, "memo      ", t->memo);
    if (t->meta) cli_put_line(stdout, "meta      ", t->meta);
    return 0;
}

/* account show and transfer show: one row, for people or as the contract's object. */
static int show_one(struct cli *cli, int argc, char **argv, bool account)
{
    const char *command = account ? "account show" : "transfer show";
    static const int accepted[] = {OPT_JSON, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, command) || !positional_exactly(&o, 1, command))
        return CLI_EXIT_USAGE;
    int status;
    struct concord *cc = cli_open_for_read(cli, &status);
    if (cc == NULL) return status;
    struct show_ctx s = {.cc = cc, .json = o.json};
    struct cc_error err = {0};
    enum cc_err rc = account
                         ? concord_account_get(cc, o.positional[0], account_print, &s, &err)
                         : concord_transfer_get(cc, o.positional[0], transfer_print, &s, &err);
    if (rc != CC_OK)
        s.status = cli_fail_error(&err);
    else if (s.failed)
        s.status = cli_fail_error(&s.error);
    concord_close(cc);
    return s.status;
}

static int cmd_account_show(struct cli *cli, int argc, char **argv)
{
    return show_one(cli, argc, argv, true);
}

static int cmd_transfer_show(struct cli *cli, int argc, char **argv)
{
    return show_one(cli, argc, argv, false);
}

/* history for people: rows up to `shown_max`; one more fetched tells that there are more. */
struct history_ctx {
    struct show_ctx show; /* first: listing_finish takes it */
    uint32_t shown_max;
    uint32_t seen;
};

static int history_row(void *ctx, const struct ledger_transfer *t)
{
    struct history_ctx *h = ctx;
    struct show_ctx *s = &h->show;
    if (s->json) {
        json_array_append_new(s->array, json_encode_transfer(t));
        return 0;
    }
    if (h->seen++ >= h->shown_max) return 1; /* the extra row: not shown */
    int32_t scale = unit_scale(s, t->unit);
    char amount[AMOUNT_TEXT_BYTES], date[TIME_TEXT_BYTES];
    format_amount(t->amount, scale, amount);
    /* The day only, so that the column lines up (the JSON keeps the instant). */
    time_format(t->date, date);
    date[10] = '\0';
    const char *what = t->reason ? ledger_reason_name((enum ledger_reason)t->reason)
                                 : (t->kind ? t->kind : "");
    table_add(&s->table,
              (const char *const[]){date, t->id, t->debit, t->credit, amount, t->unit,
                                    ledger_state_name((enum ledger_state)t->state), what});
    return 0;
}

static int cmd_history(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_SINCE, OPT_UNTIL, OPT_LIMIT, OPT_JSON, 0};
    struct cli_opts o;
    struct store_history_query q = {.since = INT64_MIN};
    bool date_only;
    if (!cli_opts_parse(argc, argv, accepted, &o, "history") ||
        !positional_exactly(&o, 1, "history") ||
        !parse_limit(o.limit, HISTORY_LIMIT_DEFAULT, &q.limit, "history") ||
        !parse_through(o.until, &q.until, "--until", "history"))
        return CLI_EXIT_USAGE;
    if (o.since != NULL && !time_parse(o.since, &q.since, &date_only))
        return cli_fail(CLI_EXIT_USAGE, "history: --since must be a date or an RFC 3339 "
                                        "date-time, not \"%s\"", o.since);
    q.account = o.positional[0];
    int status;
    struct concord *cc = cli_open_for_read(cli, &status);
    if (cc == NULL) return status;
    static const char *const header[] = {"DATE",   "TRANSFER", "DEBIT", "CREDIT",
                                         "AMOUNT", "UNIT",     "STATE", "WHAT"};
    static const bool right[] = {false, false, false, false, true, false, false, false};
    struct history_ctx h = {
        .show = {.cc = cc, .json = o.json, .array = o.json ? json_array() : NULL},
        .shown_max = q.limit,
    };
    /* People are told when the table is cut: fetch one row more than is shown. */
    if (!o.json) q.limit++;
    table_init(&h.show.table, 8, header, right);
    struct cc_error err = {0};
    enum cc_err rc = concord_history(cc, &q, history_row, &h, &err);
    if (rc == CC_OK && !h.show.failed && h.seen > h.shown_max)
        fprintf(stderr, "concord: showing the first %u of more; narrow with --since/--until or "
                        "raise --limit\n", (unsigned)h.shown_max);
    return listing_finish(&h.show, rc, &err);
}

static int cmd_check(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_JSON, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "check") || !positional_exactly(&o, 0, "check"))
        return CLI_EXIT_USAGE;
    int status;
    struct concord *cc = cli_open(cli, &status);
    if (cc == NULL) return status;
    struct cc_error err = {0};
    enum cc_err rc = concord_check(cc, &err);
    concord_close(cc);
    int printed = CLI_EXIT_OK;
    if (o.json) {
        json_t *r = json_pack("{s:b}", "ok", rc == CC_OK);
        if (rc != CC_OK) json_object_set_new(r, "message", json_text(err.message));
        printed = print_json(r);
    } else if (rc == CC_OK) {
        puts("ok: every invariant holds");
    }
    if (rc != CC_OK) return cli_fail(CLI_EXIT_STORE, "%s", err.message);
    return printed;
}

/* ---------------------------------------------------------------- conditions */

static int cmd_condition_add(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_TITLE, OPT_PROBABILITY, OPT_AUTHORITY, OPT_WHEN,
                                   OPT_JSON, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "condition add") ||
        !positional_exactly(&o, 1, "condition add"))
        return CLI_EXIT_USAGE;
    struct ledger_op op = {.type = LEDGER_OP_CONDITION, .id = o.positional[0], .name = o.title,
                           .owner = o.authority, .cond = o.when};
    if (o.probability != NULL) {
        char *end;
        op.probability = strtod(o.probability, &end);
        if (end == o.probability || *end != '\0' || !(op.probability >= 0 && op.probability <= 1))
            return cli_fail(CLI_EXIT_USAGE, "condition add: --probability must be in [0, 1]");
        op.flags |= LEDGER_OP_HAS_PROBABILITY;
    }
    return commit_one(cli, &op, o.json);
}

static int cmd_resolve(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_JSON, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "resolve") || !positional_exactly(&o, 2, "resolve"))
        return CLI_EXIT_USAGE;
    enum cond_state state;
    if (!cond_state_parse(o.positional[1], &state) || state == COND_OPEN)
        return cli_fail(CLI_EXIT_USAGE, "resolve: the state is met or failed, not \"%s\"",
                        o.positional[1]);
    struct ledger_op op = {.type = LEDGER_OP_RESOLVE, .id = o.positional[0],
                           .state = (uint8_t)state};
    return commit_one(cli, &op, o.json);
}

/*
 * condition list and requirement list: load a whole table into a view, then
 * print it as the contract's JSON or as a table for people.
 */
static int view_listing(struct cli *cli, int argc, char **argv, const char *command,
                        enum cc_err (*load)(struct concord *, struct ledger_view *,
                                            struct cc_error *),
                        json_t *(*encode)(const struct ledger_view *),
                        int (*tabulate)(struct concord *, const struct ledger_view *))
{
    static const int accepted[] = {OPT_JSON, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, command) || !positional_exactly(&o, 0, command))
        return CLI_EXIT_USAGE;
    int status = CLI_EXIT_OK;
    struct concord *cc = cli_open(cli, &status);
    if (cc == NULL) return status;
    struct ledger_view view;
    ledger_view_init(&view);
    struct cc_error err = {0};
    if (load(cc, &view, &err) != CC_OK)
        status = cli_fail_error(&err);
    else if (o.json)
        status = print_json(encode(&view));
    else
        status = tabulate(cc, &view);
    ledger_view_free(&view);
    concord_close(cc);
    return status;
}

static int conditions_table(struct concord *cc, const struct ledger_view *view)
{
    (void)cc;
    static const char *const header[] = {"CONDITION", "STATE", "PROBABILITY", "AUTHORITY",
                                         "WHEN", "TITLE"};
    static const bool right[] = {false, false, true, false, false, false};
    struct table t;
    table_init(&t, 6, header, right);
    for (uint32_t i = 0; i < view->conditions_count; i++) {
        const struct ledger_condition *c = &view->conditions[i];
        char p[16] = "";
        if (c->has_probability) snprintf(p, sizeof p, "%.2f", c->probability);
        table_add(&t, (const char *const[]){c->name, cond_state_name(c->state), p,
                                            c->authority ? c->authority : "",
                                            c->when ? c->when : "", c->title ? c->title : ""});
    }
    table_print(&t, stdout);
    table_free(&t);
    return CLI_EXIT_OK;
}

static int cmd_condition_list(struct cli *cli, int argc, char **argv)
{
    return view_listing(cli, argc, argv, "condition list", concord_conditions,
                        json_encode_conditions, conditions_table);
}

/* ---------------------------------------------------------------- requirements, rates */

static int cmd_requirement_add(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_TITLE, OPT_ACCOUNT, OPT_MEASURE, OPT_TARGET, OPT_DUE,
                                   OPT_UNIT,  OPT_JSON,    0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "requirement add") ||
        !positional_exactly(&o, 1, "requirement add"))
        return CLI_EXIT_USAGE;
    if (o.account == NULL || o.target == NULL)
        return cli_fail(CLI_EXIT_USAGE, "requirement add: --account and --target are required");
    struct ledger_op op = {.type = LEDGER_OP_REQUIREMENT, .id = o.positional[0], .name = o.title,
                           .account = o.account, .kind = o.measure ? o.measure : "credits",
                           .unit = o.unit, .flags = LEDGER_OP_HAS_AMOUNT};
    /* The target is typed in the unit's scale: the unit named, or the account's. */
    int status = CLI_EXIT_OK;
    struct concord *cc = cli_open(cli, &status);
    if (cc == NULL) return status;
    struct cc_error err = {0};
    struct unit_of unit = {0};
    if (o.unit != NULL) {
        struct ledger_unit u;
        if (concord_unit_get(cc, o.unit, &u, NULL, 0, &err) == CC_OK) {
            snprintf(unit.code, sizeof unit.code, "%s", o.unit);
            unit.scale = u.scale;
        }
    } else if (concord_balance(cc, o.account, INT64_MAX, unit_of_fn, &unit, &err) != CC_OK) {
        unit.code[0] = '\0';
    }
    concord_close(cc);
    if (unit.code[0] == '\0')
        return cli_fail(CLI_EXIT_USAGE, "requirement add: name --unit (no unit %s, or no account "
                                        "%s to take it from)", o.unit ? o.unit : "given",
                        o.account);
    switch (amount_parse(o.target, unit.scale, &op.amount)) {
    case AMOUNT_OK: break;
    default:
        return cli_fail(CLI_EXIT_USAGE, "requirement add: --target \"%s\" is not an amount in "
                                        "%s (%d decimal places)", o.target, unit.code,
                        unit.scale);
    }
    if (o.due != NULL) {
        if (!time_option(o.due, &op.date, "--due", "requirement add")) return CLI_EXIT_USAGE;
        op.flags |= LEDGER_OP_HAS_DATE;
    }
    return commit_one(cli, &op, o.json);
}

static int requirements_table(struct concord *cc, const struct ledger_view *view)
{
    struct show_ctx units = {.cc = cc};
    static const char *const header[] = {"REQUIREMENT", "ACCOUNT", "MEASURE", "TARGET",
                                         "UNIT", "DUE", "TITLE"};
    static const bool right[] = {false, false, false, true, false, false, false};
    struct table t;
    table_init(&t, 7, header, right);
    for (uint32_t i = 0; i < view->requirements_count; i++) {
        const struct ledger_requirement *r = &view->requirements[i];
        char target[AMOUNT_TEXT_BYTES], due[TIME_TEXT_BYTES] = "";
        format_amount(r->target, unit_scale(&units, r->unit), target);
        if (r->has_due) time_format_date(r->due, due);
        table_add(&t, (const char *const[]){
                          r->id, r->account,
                          r->measure == LEDGER_MEASURE_BALANCE ? "balance" : "credits", target,
                          r->unit, due, r->title ? r->title : ""});
    }
    table_print(&t, stdout);
    table_free(&t);
    return units.failed ? cli_fail_error(&units.error) : CLI_EXIT_OK;
}

static int cmd_requirement_list(struct cli *cli, int argc, char **argv)
{
    return view_listing(cli, argc, argv, "requirement list", concord_requirements,
                        json_encode_requirements, requirements_table);
}

static int cmd_rate_add(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_DATE, OPT_JSON, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "rate add") ||
        !positional_exactly(&o, 3, "rate add"))
        return CLI_EXIT_USAGE;
    if (o.date == NULL) return cli_fail(CLI_EXIT_USAGE, "rate add: --date is required");
    struct ledger_op op = {.type = LEDGER_OP_RATE, .unit = o.positional[0],
                           .to = o.positional[1], .rate = o.positional[2],
                           .flags = LEDGER_OP_HAS_DATE};
    if (!time_option(o.date, &op.date, "--date", "rate add")) return CLI_EXIT_USAGE;
    char id[64];
    snprintf(id, sizeof id, "%s/%s %s", op.unit, op.to, o.date);
    op.id = id;
    return commit_one(cli, &op, o.json);
}

/* ---------------------------------------------------------------- gaps, scenario, forecast */

/* A figure in the requirement's unit, for people. */
static void report_amount(const struct report_requirement *r, int64_t v, char *out)
{
    format_amount(v, r->scale, out);
}

static int cmd_gaps(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_AT, OPT_IN, OPT_JSON, 0};
    struct cli_opts o;
    int64_t at;
    if (!cli_opts_parse(argc, argv, accepted, &o, "gaps") || !positional_exactly(&o, 0, "gaps") ||
        !parse_through(o.at, &at, "--at", "gaps"))
        return CLI_EXIT_USAGE;
    int status = CLI_EXIT_OK;
    struct concord *cc = cli_open_for_read(cli, &status);
    if (cc == NULL) return status;
    struct report report;
    struct cc_error err = {0};
    if (report_gaps(cc, at, o.in, &report, &err) != CC_OK) {
        status = cli_fail_error(&err);
    } else if (o.json) {
        status = print_json(report_gaps_json(&report));
    } else {
        static const char *const header[] = {"REQUIREMENT", "UNIT", "TARGET", "POSTED",
                                             "PENDING", "GAP", "GAP IF PENDING POSTS"};
        static const bool right[] = {false, false, true, true, true, true, true};
        struct table t;
        table_init(&t, 7, header, right);
        for (uint32_t i = 0; i < report.requirements_count; i++) {
            const struct report_requirement *r = &report.requirements[i];
            char target[AMOUNT_TEXT_BYTES], posted[AMOUNT_TEXT_BYTES], pending[AMOUNT_TEXT_BYTES],
                gap[AMOUNT_TEXT_BYTES], gap2[AMOUNT_TEXT_BYTES];
            report_amount(r, r->target, target);
            report_amount(r, r->posted, posted);
            report_amount(r, r->pending, pending);
            report_amount(r, r->gap, gap);
            report_amount(r, r->gap_if_pending_post, gap2);
            table_add(&t, (const char *const[]){r->requirement->id, r->unit, target,
                                                posted, pending, gap, gap2});
        }
        table_print(&t, stdout);
        table_free(&t);
    }
    report_free(&report);
    concord_close(cc);
    return status;
}

/* ---------------------------------------------------------------- report funding|force|aid */

/* Figures that count things (persons, trucks, days) rather than amounts of a unit. */
static bool report_key_counts(const char *key)
{
    static const char *const counts[] = {
        "days", "p50_days", "p90_days", "p50_hours", "p90_hours", "days_to_deployment",
        "consignments", "contingents", "moves", "count", "trucks", "overrides", "capacity",
        "population", "duration_days", "deployed", "personnel", NULL,
    };
    for (const char *const *c = counts; *c != NULL; c++)
        if (strcmp(*c, key) == 0) return true;
    return false;
}

/* One figure for people: an amount in its unit's scale (KG as tonnes), or a count. */
static void report_cell(struct concord *cc, const char *key, const json_t *value,
                        const char *unit, char *out, size_t size)
{
    if (json_is_string(value)) {
        snprintf(out, size, "%s", json_string_value(value));
        return;
    }
    if (!json_is_integer(value)) {
        snprintf(out, size, "%s", json_is_null(value) ? "-" : json_is_true(value) ? "yes" : "no");
        return;
    }
    int64_t v = (int64_t)json_integer_value(value);
    char text[AMOUNT_TEXT_BYTES];
    bool kg = strcmp(key, "kg") == 0 || (unit != NULL && strcmp(unit, "KG") == 0 &&
                                         !report_key_counts(key));
    int32_t scale = 0;
    struct ledger_unit u;
    struct cc_error err = {0};
    if (kg && strcmp(key, "kg") != 0 && concord_unit_get(cc, "KG", &u, NULL, 0, &err) == CC_OK)
        scale = u.scale;
    else if (!kg && unit != NULL && !report_key_counts(key) &&
             concord_unit_get(cc, unit, &u, NULL, 0, &err) == CC_OK)
        scale = u.scale;
    format_amount(v, kg ? scale + 3 : scale, text);
    snprintf(out, size, "%s%s", text, kg ? " t" : "");
}

static void report_header(const char *key, char *out, size_t size)
{
    size_t i = 0;
    for (; key[i] != '\0' && i + 1 < size; i++)
        out[i] = key[i] == '_' ? ' ' : (char)(key[i] >= 'a' && key[i] <= 'z' ? key[i] - 32 : key[i]);
    out[i] = '\0';
}

#define REPORT_CELL_BYTES 160

/* An array of flat objects as one table, its columns the first object's keys. */
static void report_print_rows(struct concord *cc, const char *title, const json_t *rows,
                              const char *unit)
{
    printf("\n%s\n", title);
    const json_t *first = json_array_get(rows, 0);
    if (first == NULL) {
        printf("  (none)\n");
        return;
    }
    const char *keys[TABLE_COLUMNS_MAX];
    char headers[TABLE_COLUMNS_MAX][48];
    const char *header[TABLE_COLUMNS_MAX];
    bool right[TABLE_COLUMNS_MAX];
    int n = 0;
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)first, key, value) {
        if (n == TABLE_COLUMNS_MAX) break;
        keys[n] = key;
        report_header(key, headers[n], sizeof headers[n]);
        header[n] = headers[n];
        right[n] = json_is_integer(value) || json_is_null(value);
        n++;
    }
    struct table t;
    table_init(&t, n, header, right);
    size_t i;
    const json_t *row;
    json_array_foreach(rows, i, row) {
        char cells[TABLE_COLUMNS_MAX][REPORT_CELL_BYTES];
        const char *cell[TABLE_COLUMNS_MAX];
        const char *row_unit = json_string_value(json_object_get(row, "unit"));
        for (int k = 0; k < n; k++) {
            report_cell(cc, keys[k], json_object_get(row, keys[k]),
                        row_unit != NULL ? row_unit : unit, cells[k], sizeof cells[k]);
            cell[k] = cells[k];
        }
        table_add(&t, cell);
    }
    table_print(&t, stdout);
    table_free(&t);
}

/*
 * A report's JSON for people: its figures as aligned "name  value" lines
 * under the section's title, its arrays as tables. The report's own unit and
 * date open it as a title line instead.
 */
static void report_print(struct concord *cc, const char *title, const json_t *o,
                         const char *unit, bool top)
{
    const char *own = json_string_value(json_object_get(o, "unit"));
    if (own != NULL) unit = own;
    if (top) {
        const char *at = json_string_value(json_object_get(o, "at"));
        printf("%s report%s%s%s, %s%s\n", title, unit ? " (" : "", unit ? unit : "",
               unit ? ")" : "", at ? "through " : "as of now", at ? at : "");
    }
    int width = 0, value_width = 0, cells = 0;
    char cell[64][REPORT_CELL_BYTES];
    const char *keys[64];
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)o, key, value) {
        if (json_is_object(value) || json_is_array(value) || cells == 64) continue;
        if (top && (strcmp(key, "unit") == 0 || strcmp(key, "at") == 0)) continue;
        report_cell(cc, key, value, unit, cell[cells], sizeof cell[cells]);
        if ((int)strlen(cell[cells]) > value_width) value_width = (int)strlen(cell[cells]);
        keys[cells++] = key;
        if ((int)strlen(key) > width) width = (int)strlen(key);
    }
    if (cells > 0) {
        if (!top) printf("\n%s\n", title);
        for (int i = 0; i < cells; i++) /* values right-aligned, as in the tables */
            printf("  %-*s  %*s%s\n", width, keys[i],
                   value_width - (int)strlen(cell[i]), "", cell[i]);
    }
    json_object_foreach((json_t *)o, key, value) {
        char name[128];
        snprintf(name, sizeof name, "%s%s%s", top ? "" : title, top ? "" : " / ", key);
        if (json_is_object(value)) report_print(cc, name, value, unit, false);
        else if (json_is_array(value)) report_print_rows(cc, name, value, unit);
    }
}

static int cmd_report(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_AT, OPT_SOURCE, OPT_JSON, 0};
    struct cli_opts o;
    int64_t at;
    if (!cli_opts_parse(argc, argv, accepted, &o, "report") || !positional_exactly(&o, 1, "report") ||
        !parse_through(o.at, &at, "--at", "report"))
        return CLI_EXIT_USAGE;
    if (report_domain_find(o.positional[0]) == NULL)
        return cli_fail(CLI_EXIT_USAGE, "report: no report %s (funding, force, aid or overview)",
                        o.positional[0]);
    int status = CLI_EXIT_OK;
    struct concord *cc = cli_open_for_read(cli, &status);
    if (cc == NULL) return status;
    json_t *report;
    struct cc_error err = {0};
    if (report_domain_source(cc, o.positional[0], at, o.source, &report, &err) != CC_OK) {
        status = cli_fail_error(&err);
    } else if (o.json) {
        status = print_json(report);
    } else {
        report_print(cc, o.positional[0], report, NULL, true);
        json_decref(report);
        status = cli_flush_output() ? CLI_EXIT_OK : CLI_EXIT_STORE;
    }
    concord_close(cc);
    return status;
}

static int cmd_scenario(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_ASSUME, OPT_IN, OPT_JSON, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "scenario") ||
        !positional_exactly(&o, 0, "scenario"))
        return CLI_EXIT_USAGE;
    struct report_assumption assume[REPORT_ASSUMPTIONS_MAX];
    char names[REPORT_ASSUMPTIONS_MAX][COND_NAME_BYTES_MAX + 1];
    for (int i = 0; i < o.assume_count; i++) {
        const char *eq = strchr(o.assume[i], '=');
        size_t n = eq ? (size_t)(eq - o.assume[i]) : 0;
        enum cond_state state;
        if (eq == NULL || n == 0 || n > COND_NAME_BYTES_MAX || !cond_state_parse(eq + 1, &state) ||
            state == COND_OPEN)
            return cli_fail(CLI_EXIT_USAGE, "scenario: --assume takes NAME=met or NAME=failed, "
                                            "not \"%s\"", o.assume[i]);
        memcpy(names[i], o.assume[i], n);
        names[i][n] = '\0';
        assume[i] = (struct report_assumption){.name = names[i], .state = state};
    }
    int status = CLI_EXIT_OK;
    struct concord *cc = cli_open_for_read(cli, &status);
    if (cc == NULL) return status;
    struct report report;
    struct cc_error err = {0};
    if (report_scenario(cc, assume, (uint32_t)o.assume_count, o.in, &report, &err) != CC_OK) {
        status = cli_fail_error(&err);
    } else if (o.json) {
        status = print_json(report_scenario_json(&report, assume, (uint32_t)o.assume_count));
    } else {
        static const char *const header[] = {"REQUIREMENT", "UNIT", "TARGET", "POSTED", "LOW",
                                             "HIGH"};
        static const bool right[] = {false, false, true, true, true, true};
        struct table t;
        table_init(&t, 6, header, right);
        for (uint32_t i = 0; i < report.requirements_count; i++) {
            const struct report_requirement *r = &report.requirements[i];
            char target[AMOUNT_TEXT_BYTES], posted[AMOUNT_TEXT_BYTES], low[AMOUNT_TEXT_BYTES],
                high[AMOUNT_TEXT_BYTES];
            report_amount(r, r->target, target);
            report_amount(r, r->posted, posted);
            report_amount(r, r->low, low);
            report_amount(r, r->high, high);
            table_add(&t, (const char *const[]){r->requirement->id, r->unit, target,
                                                posted, low, high});
        }
        table_print(&t, stdout);
        table_free(&t);
        if (report.exposure_count > 0) {
            struct show_ctx units = {.cc = cc};
            static const char *const eh[] = {"OPEN CONDITION", "UNIT", "PENDING IT DECIDES"};
            static const bool er[] = {false, false, true};
            table_init(&t, 3, eh, er);
            for (uint32_t i = 0; i < report.exposure_count; i++) {
                const struct report_exposure *e = &report.exposure[i];
                char amount[AMOUNT_TEXT_BYTES];
                format_amount(e->pending, unit_scale(&units, e->unit), amount);
                table_add(&t, (const char *const[]){e->condition, e->unit, amount});
            }
            fputc('\n', stdout);
            table_print(&t, stdout);
            table_free(&t);
            if (units.failed) status = cli_fail_error(&units.error);
        }
    }
    report_free(&report);
    concord_close(cc);
    return status;
}

static int cmd_forecast(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_SAMPLES, OPT_SEED, OPT_IN, OPT_JSON, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "forecast") ||
        !positional_exactly(&o, 0, "forecast"))
        return CLI_EXIT_USAGE;
    struct cond_forecast_options options = {.samples = COND_SAMPLES_DEFAULT, .seed = 1};
    if (o.samples != NULL) {
        char *end;
        unsigned long long v = strtoull(o.samples, &end, 10);
        if (end == o.samples || *end != '\0' || v < 1 || v > COND_SAMPLES_MAX)
            return cli_fail(CLI_EXIT_USAGE, "forecast: --samples must be 1 … %d",
                            COND_SAMPLES_MAX);
        options.samples = (uint32_t)v;
    }
    if (o.seed != NULL) {
        char *end;
        options.seed = strtoull(o.seed, &end, 10);
        if (end == o.seed || *end != '\0')
            return cli_fail(CLI_EXIT_USAGE, "forecast: --seed must be an integer");
    }
    int status = CLI_EXIT_OK;
    struct concord *cc = cli_open_for_read(cli, &status);
    if (cc == NULL) return status;
    struct report report;
    struct cc_error err = {0};
    if (report_forecast(cc, &options, o.in, &report, &err) != CC_OK) {
        status = cli_fail_error(&err);
    } else if (o.json) {
        status = print_json(report_forecast_json(&report));
    } else {
        printf("%s over %u open condition%s (%llu %s)\n\n",
               report.summary.exact ? "exact" : "Monte Carlo", report.summary.conditions,
               report.summary.conditions == 1 ? "" : "s",
               (unsigned long long)report.summary.samples,
               report.summary.exact ? "assignments" : "samples");
        static const char *const header[] = {"REQUIREMENT", "UNIT", "TARGET", "EXPECTED",
                                             "P(MET)", "P10", "P50", "P90"};
        static const bool right[] = {false, false, true, true, true, true, true, true};
        struct table t;
        table_init(&t, 8, header, right);
        for (uint32_t i = 0; i < report.requirements_count; i++) {
            const struct report_requirement *r = &report.requirements[i];
            char target[AMOUNT_TEXT_BYTES], expected[AMOUNT_TEXT_BYTES], p[16],
                p10[AMOUNT_TEXT_BYTES], p50[AMOUNT_TEXT_BYTES], p90[AMOUNT_TEXT_BYTES];
            report_amount(r, r->target, target);
            /* Expected is a mean: shown rounded to the unit's scale for people. */
            double e = r->forecast.expected;
            int64_t rounded = e >= (double)INT64_MAX ? INT64_MAX
                              : e <= (double)INT64_MIN ? INT64_MIN
                                                       : (int64_t)(e + (e >= 0 ? 0.5 : -0.5));
            report_amount(r, rounded, expected);
            snprintf(p, sizeof p, "%.1f%%", 100.0 * r->forecast.p_met);
            report_amount(r, r->forecast.p10, p10);
            report_amount(r, r->forecast.p50, p50);
            report_amount(r, r->forecast.p90, p90);
            table_add(&t, (const char *const[]){r->requirement->id, r->unit, target,
                                                expected, p, p10, p50, p90});
        }
        table_print(&t, stdout);
        table_free(&t);
    }
    report_free(&report);
    concord_close(cc);
    return status;
}

/* ---------------------------------------------------------------- the audit log */

static int cmd_key(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "key") || !positional_exactly(&o, 0, "key"))
        return CLI_EXIT_USAGE;
    int status;
    struct concord *cc = cli_open(cli, &status);
    if (cc == NULL) return status;
    struct audit_verifier verifier;
    struct cc_error err = {0};
    enum cc_err rc = concord_key_verifier(cc, &verifier, &err);
    concord_close(cc);
    if (rc != CC_OK) return cli_fail_error(&err);
    char text[AUDIT_KEY_TEXT_BYTES_MAX];
    if (!audit_verifier_format(&verifier, text, sizeof text))
        return cli_fail(CLI_EXIT_STORE, "key: cannot format the verifier key");
    puts(text);
    return CLI_EXIT_OK;
}

static json_t *checkpoint_json(const struct concord_checkpoint *c)
{
    char time[TIME_TEXT_BYTES];
    time_format(c->time, time);
    return json_pack("{s:I, s:o, s:s, s:s}", "size", (json_int_t)c->size, "root",
                     proof_hash_encode(c->root), "time", time, "checkpoint", c->note);
}

/*
 * Opens the ledger for an audit command that reads what the API route `path`
 * serves: with --token, the route's roles apply (a viewer reads no event log).
 */
static struct concord *cli_open_audit(struct cli *cli, const char *path, int *status)
{
    struct concord *cc = cli_open(cli, status);
    if (cc == NULL) return NULL;
    struct cc_error err = {0};
    if (concord_audit_authorize(cc, path, &err) != CC_OK) {
        concord_close(cc);
        *status = cli_fail_error(&err);
        return NULL;
    }
    return cc;
}

static int cmd_checkpoint(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_JSON, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "checkpoint") ||
        !positional_exactly(&o, 0, "checkpoint"))
        return CLI_EXIT_USAGE;
    int status;
    struct concord *cc = cli_open(cli, &status);
    if (cc == NULL) return status;
    struct concord_checkpoint c;
    struct cc_error err = {0};
    enum cc_err rc = concord_log_checkpoint(cc, 0, &c, &err);
    concord_close(cc);
    if (rc != CC_OK) return cli_fail_error(&err);
    if (o.json) return print_json(checkpoint_json(&c));
    fputs(c.note, stdout);
    return cli_flush_output() ? CLI_EXIT_OK : CLI_EXIT_STORE;
}

static bool parse_size(const char *text, int64_t *out, const char *option, const char *command);

/* `proof TRANSFER_ID`, or `proof --seq N` for event N itself. */
static int cmd_proof(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_SEQ, OPT_JSON, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "proof") ||
        !positional_exactly(&o, o.seq != NULL ? 0 : 1, "proof"))
        return CLI_EXIT_USAGE;
    int64_t seq = 0;
    if (o.seq != NULL && !parse_size(o.seq, &seq, "--seq", "proof")) return CLI_EXIT_USAGE;
    int status;
    char path[64];
    snprintf(path, sizeof path, "/v1/audit/events/%lld/proof", (long long)seq);
    struct concord *cc = o.seq != NULL ? cli_open_audit(cli, path, &status) : cli_open(cli, &status);
    if (cc == NULL) return status;
    struct proof *proof = malloc(sizeof *proof);
    if (proof == NULL) {
        concord_close(cc);
        return cli_fail(CLI_EXIT_STORE, "out of memory");
    }
    struct cc_error err = {0};
    enum cc_err rc = o.seq != NULL ? concord_log_event_proof(cc, seq, proof, &err)
                                   : concord_log_proof(cc, o.positional[0], proof, &err);
    concord_close(cc);
    if (rc == CC_OK) {
        status = print_json(proof_encode(proof)); /* a proof is a file format: always JSON */
        proof_free(proof);
    } else {
        status = cli_fail_error(&err);
    }
    free(proof);
    return status;
}

/* Reads a whole file named on the command line; NULL after reporting (exit 2 or 3). */
static char *read_named(const char *name, size_t max, size_t *length, int *status)
{
    FILE *f = strcmp(name, "-") == 0 ? stdin : fopen(name, "rb");
    if (f == NULL) {
        *status = cli_fail(CLI_EXIT_USAGE, "%s: cannot open: %s", name, strerror(errno));
        return NULL;
    }
    char *text = cli_read_input(f, max, length, name, status);
    if (f != stdin) fclose(f);
    return text;
}

static int cmd_verify_proof(struct cli *cli, int argc, char **argv)
{
    (void)cli;
    static const int accepted[] = {OPT_KEY, OPT_ID, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "verify-proof") ||
        !positional_exactly(&o, 1, "verify-proof"))
        return CLI_EXIT_USAGE;
    if (o.key == NULL) return cli_fail(CLI_EXIT_USAGE, "verify-proof: --key VERIFIER_KEY is required");
    struct audit_verifier verifier;
    struct cc_error err = {0};
    if (concord_verifier_read(o.key, &verifier, &err) != CC_OK) return cli_fail_error(&err);
    int status = CLI_EXIT_OK;
    size_t length = 0;
    char *text = read_named(o.positional[0], PROOF_BYTES_MAX, &length, &status);
    if (text == NULL) return status;
    struct proof *proof = malloc(sizeof *proof);
    char message[CC_ERROR_MESSAGE_BYTES_MAX] = "";
    if (proof == NULL) {
        status = cli_fail(CLI_EXIT_STORE, "out of memory");
    } else if (!proof_decode(text, length, proof, message, sizeof message)) {
        status = cli_fail(CLI_EXIT_USAGE, "%s: malformed proof: %s", o.positional[0], message);
    } else {
        /* --id: the proof must be that transfer's, and carry the event that records it. */
        if (o.id != NULL && (strcmp(proof->transfer_id, o.id) != 0 || proof->event == NULL))
            status = cli_fail(CLI_EXIT_REJECTED, "%s: invalid proof: %s", o.positional[0],
                              strcmp(proof->transfer_id, o.id) != 0
                                  ? "it is not the proof of the transfer named by --id"
                                  : "it carries no event, so it cannot show the transfer");
        else if (!concord_proof_check(proof, &verifier, message, sizeof message))
            status = cli_fail(CLI_EXIT_REJECTED, "%s: invalid proof: %s", o.positional[0],
                              message);
        else if (proof->transfer_id[0] == '\0')
            printf("valid: event %llu%s is in the log of %llu event%s signed by %s\n",
                   (unsigned long long)proof->leaf_index + 1,
                   proof->event != NULL ? ", as the proof gives it," : "",
                   (unsigned long long)proof->tree_size, proof->tree_size == 1 ? "" : "s",
                   verifier.name);
        else if (proof->event != NULL)
            printf("valid: transfer %s is in event %llu of the log of %llu event%s signed by "
                   "%s\n",
                   proof->transfer_id, (unsigned long long)proof->leaf_index + 1,
                   (unsigned long long)proof->tree_size, proof->tree_size == 1 ? "" : "s",
                   verifier.name);
        else /* without its event, a proof binds a leaf, not a transfer */
            printf("valid: event %llu is in the log of %llu event%s signed by %s; the proof "
                   "carries no event, so it does not show that the event made transfer %s\n",
                   (unsigned long long)proof->leaf_index + 1,
                   (unsigned long long)proof->tree_size, proof->tree_size == 1 ? "" : "s",
                   verifier.name, proof->transfer_id);
        proof_free(proof);
    }
    free(proof);
    free(text);
    return status;
}

/* A checkpoint size or an event seq typed by a person: 1 … 2^63-1. */
static bool parse_size(const char *text, int64_t *out, const char *option, const char *command)
{
    char *end;
    errno = 0;
    long long v = text != NULL ? strtoll(text, &end, 10) : 0;
    if (text == NULL || errno != 0 || end == text || *end != '\0' || v < 1) {
        cli_fail(CLI_EXIT_USAGE, "%s: %s must be an integer ≥ 1", command, option);
        return false;
    }
    *out = v;
    return true;
}

static int cmd_consistency(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_FROM, OPT_TO, OPT_JSON, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "consistency") ||
        !positional_exactly(&o, 0, "consistency"))
        return CLI_EXIT_USAGE;
    int64_t from = 0, to = 0;
    if (!parse_size(o.from, &from, "--from", "consistency") ||
        (o.to != NULL && !parse_size(o.to, &to, "--to", "consistency")))
        return CLI_EXIT_USAGE;
    int status;
    struct concord *cc = cli_open_audit(cli, "/v1/audit/consistency", &status);
    if (cc == NULL) return status;
    struct concord_consistency *c = malloc(sizeof *c);
    struct cc_error err = {0};
    enum cc_err rc = c != NULL ? concord_log_consistency(cc, from, to, c, &err)
                               : cc_error_set(&err, CC_ERR_NOMEM, "out of memory");
    concord_close(cc);
    if (rc == CC_OK)
        status = print_json(proof_consistency_encode(
            (uint64_t)c->from.size, (uint64_t)c->to.size,
            (const uint8_t(*)[AUDIT_HASH_BYTES])c->hashes, c->count, c->from.note, c->to.note));
    else
        status = cli_fail_error(&err);
    free(c);
    return status;
}

static int cmd_verify_consistency(struct cli *cli, int argc, char **argv)
{
    (void)cli;
    static const int accepted[] = {OPT_KEY, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "verify-consistency") ||
        !positional_exactly(&o, 1, "verify-consistency"))
        return CLI_EXIT_USAGE;
    if (o.key == NULL)
        return cli_fail(CLI_EXIT_USAGE, "verify-consistency: --key VERIFIER_KEY is required");
    struct audit_verifier verifier;
    struct cc_error err = {0};
    if (concord_verifier_read(o.key, &verifier, &err) != CC_OK) return cli_fail_error(&err);
    int status = CLI_EXIT_OK;
    size_t length = 0;
    char *text = read_named(o.positional[0], PROOF_CONSISTENCY_BYTES_MAX, &length, &status);
    if (text == NULL) return status;
    struct proof_consistency *proof = malloc(sizeof *proof);
    char message[CC_ERROR_MESSAGE_BYTES_MAX] = "";
    if (proof == NULL)
        status = cli_fail(CLI_EXIT_STORE, "out of memory");
    else if (!proof_consistency_decode(text, length, proof, message, sizeof message))
        status = cli_fail(CLI_EXIT_USAGE, "%s: malformed consistency proof: %s", o.positional[0],
                          message);
    else if (!concord_consistency_check(proof, &verifier, message, sizeof message))
        status = cli_fail(CLI_EXIT_REJECTED, "%s: not consistent: %s", o.positional[0], message);
    else
        printf("consistent: %llu → %llu: the log of %llu event%s signed by %s is a prefix "
               "of the log of %llu\n",
               (unsigned long long)proof->from, (unsigned long long)proof->to,
               (unsigned long long)proof->from, proof->from == 1 ? "" : "s", verifier.name,
               (unsigned long long)proof->to);
    free(proof);
    free(text);
    return status;
}

static int cmd_verify(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_JSON, OPT_KEY, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "verify") || !positional_exactly(&o, 0, "verify"))
        return CLI_EXIT_USAGE;
    struct audit_verifier verifier;
    struct cc_error err = {0};
    if (o.key != NULL && concord_verifier_read(o.key, &verifier, &err) != CC_OK)
        return cli_fail_error(&err);
    int status;
    struct concord *cc = cli_open_audit(cli, "/v1/audit/events", &status);
    if (cc == NULL) return status;
    struct concord_verify_report *report = malloc(sizeof *report);
    enum cc_err rc = report != NULL
                         ? concord_log_verify(cc, cli->db_path, o.key ? &verifier : NULL, report,
                                              &err)
                         : cc_error_set(&err, CC_ERR_NOMEM, "out of memory");
    concord_close(cc);
    if (rc != CC_OK) {
        free(report);
        return cli_fail_error(&err);
    }
    if (o.json) {
        json_t *r = json_pack("{s:b, s:I, s:I}", "intact", report->intact, "events",
                              (json_int_t)report->events, "checkpoints",
                              (json_int_t)report->checkpoints);
        if (!report->intact) json_object_set_new(r, "problem", json_text(report->problem));
        status = print_json(r);
    } else if (report->intact) {
        printf("intact: %lld event%s, %lld checkpoint%s, %lld transfer%s\n",
               (long long)report->events, report->events == 1 ? "" : "s",
               (long long)report->checkpoints, report->checkpoints == 1 ? "" : "s",
               (long long)report->transfers, report->transfers == 1 ? "" : "s");
        status = cli_flush_output() ? CLI_EXIT_OK : CLI_EXIT_STORE;
    } else {
        status = CLI_EXIT_OK;
    }
    if (!report->intact && status == CLI_EXIT_OK)
        status = cli_fail(CLI_EXIT_REJECTED, "not intact: %s", report->problem);
    free(report);
    return status;
}

/* ---------------------------------------------------------------- parties, approvals */

static int cmd_party_add(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_NAME, OPT_KIND, OPT_JSON, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "party add") ||
        !positional_exactly(&o, 1, "party add"))
        return CLI_EXIT_USAGE;
    if (o.kind == NULL)
        return cli_fail(CLI_EXIT_USAGE, "party add: --kind is required (nation, organisation, "
                                        "force, authority or fund)");
    struct ledger_op op = {.type = LEDGER_OP_PARTY, .id = o.positional[0], .name = o.name,
                           .kind = o.kind};
    return commit_one(cli, &op, o.json);
}

static int party_row(void *ctx, const struct ledger_party *p)
{
    struct show_ctx *s = ctx;
    if (s->json)
        json_array_append_new(s->array, json_encode_party(p));
    else
        table_add(&s->table, (const char *const[]){p->id, p->kind, p->name ? p->name : ""});
    return 0;
}

static int cmd_party_list(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_JSON, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "party list") ||
        !positional_exactly(&o, 0, "party list"))
        return CLI_EXIT_USAGE;
    int status;
    struct concord *cc = cli_open(cli, &status);
    if (cc == NULL) return status;
    static const char *const header[] = {"PARTY", "KIND", "NAME"};
    static const bool right[] = {false, false, false};
    struct show_ctx s = {.cc = cc, .json = o.json, .array = o.json ? json_array() : NULL};
    table_init(&s.table, 3, header, right);
    struct cc_error err = {0};
    return listing_finish(&s, concord_parties_list(cc, party_row, &s, &err), &err);
}

static int cmd_approve(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_ID, OPT_DECISION, OPT_JSON, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "approve") || !positional_exactly(&o, 1, "approve"))
        return CLI_EXIT_USAGE;
    const char *d = o.decision ? o.decision : "approve";
    bool approve = strcmp(d, "approve") == 0;
    if (!approve && strcmp(d, "reject") != 0)
        return cli_fail(CLI_EXIT_USAGE, "approve: --decision is approve or reject, not \"%s\"", d);
    char id[32];
    if (o.id == NULL) random_id(id, "a-");
    struct ledger_op op = {.type = LEDGER_OP_APPROVE, .id = o.id ? o.id : id,
                           .pending_id = o.positional[0],
                           .decision = approve ? LEDGER_DECISION_APPROVE : LEDGER_DECISION_REJECT};
    return commit_one(cli, &op, o.json);
}

/* ---------------------------------------------------------------- access tokens */

/* A time as the contract's text, or JSON null for 0 (none). */
static json_t *time_or_null(int64_t ns)
{
    if (ns == 0) return json_null();
    char text[TIME_TEXT_BYTES];
    time_format(ns, text);
    return json_string(text);
}

static json_t *token_json(const struct token_info *t)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "id", t->id, "user", t->user, "role",
                     auth_role_name(t->role), "party",
                     t->party[0] ? json_string(t->party) : json_null(), "created",
                     time_or_null(t->created), "expires", time_or_null(t->expires), "revoked",
                     time_or_null(t->revoked));
}

static int cmd_token_create(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_USER, OPT_ROLE, OPT_PARTY, OPT_EXPIRES, OPT_JSON, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "token create") ||
        !positional_exactly(&o, 0, "token create"))
        return CLI_EXIT_USAGE;
    if (o.user == NULL || o.role == NULL)
        return cli_fail(CLI_EXIT_USAGE, "token create: --user and --role are required");
    struct token_spec spec = {.user = o.user, .role = o.role, .party = o.party};
    if (o.expires != NULL && !time_option(o.expires, &spec.expires, "--expires", "token create"))
        return CLI_EXIT_USAGE;
    int status;
    struct concord *cc = cli_open(cli, &status);
    if (cc == NULL) return status;
    char token[TOKEN_TEXT_BYTES + 1];
    struct token_info info;
    struct cc_error err = {0};
    enum cc_err rc = concord_token_create(cc, &spec, token, &info, &err);
    concord_close(cc);
    if (rc != CC_OK) return cli_fail(cc_err_exit_status(rc), "token create: %s", err.message);
    if (o.json) {
        json_t *j = token_json(&info);
        json_object_del(j, "created");
        json_object_del(j, "revoked");
        json_t *out = json_pack("{s:s}", "token", token);
        json_object_update(out, j);
        json_decref(j);
        status = print_json(out);
    } else {
        printf("%s\n", token);
        status = cli_flush_output() ? CLI_EXIT_OK : CLI_EXIT_STORE;
        fprintf(stderr, "concord: token %s for %s (%s%s%s); it is shown only now: keep it.\n"
                        "concord: use it with --token TOKEN, CONCORD_TOKEN=TOKEN, or over HTTP "
                        "as Authorization: Bearer TOKEN\n",
                info.id, info.user, auth_role_name(info.role), info.party[0] ? " of " : "",
                info.party);
    }
    sodium_memzero(token, sizeof token);
    return status;
}

static int token_row(void *ctx, const struct token_info *t)
{
    struct show_ctx *s = ctx;
    if (s->json) {
        json_array_append_new(s->array, token_json(t));
        return 0;
    }
    char created[TIME_TEXT_BYTES], expires[TIME_TEXT_BYTES] = "-", revoked[TIME_TEXT_BYTES] = "-";
    time_format(t->created, created);
    if (t->expires != 0) time_format(t->expires, expires);
    if (t->revoked != 0) time_format(t->revoked, revoked);
    table_add(&s->table, (const char *const[]){t->id, t->user, auth_role_name(t->role),
                                               t->party[0] ? t->party : "-", created, expires,
                                               revoked});
    return 0;
}

static int cmd_token_list(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_JSON, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "token list") ||
        !positional_exactly(&o, 0, "token list"))
        return CLI_EXIT_USAGE;
    int status;
    struct concord *cc = cli_open(cli, &status);
    if (cc == NULL) return status;
    static const char *const header[] = {"ID", "USER", "ROLE", "PARTY", "CREATED", "EXPIRES",
                                         "REVOKED"};
    static const bool right[] = {false, false, false, false, false, false, false};
    struct show_ctx s = {.cc = cc, .json = o.json, .array = o.json ? json_array() : NULL};
    table_init(&s.table, 7, header, right);
    struct cc_error err = {0};
    return listing_finish(&s, concord_tokens_list(cc, token_row, &s, &err), &err);
}

/* Who the command runs as: the --token's user, role and party, or the local administrator. */
static int cmd_whoami(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_JSON, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "whoami") || !positional_exactly(&o, 0, "whoami"))
        return CLI_EXIT_USAGE;
    int status;
    struct concord *cc = cli_open(cli, &status);
    if (cc == NULL) return status;
    const struct auth_actor *a = &cc->actor;
    json_t *caller = json_encode_caller(a->user, auth_role_name(a->role), a->party,
                                        auth_may_write(a), auth_reads_everything(a));
    concord_close(cc);
    if (o.json) return print_json(caller);
    if (caller == NULL) return cli_fail(CLI_EXIT_STORE, "out of memory");
    const char *party = json_string_value(json_object_get(caller, "party"));
    const json_t *may = json_object_get(caller, "may");
    printf("%s, %s%s%s; %s, %s\n", json_string_value(json_object_get(caller, "user")),
           json_string_value(json_object_get(caller, "role")), party ? " of party " : "",
           party ? party : "",
           json_is_true(json_object_get(may, "write")) ? "may send batches"
                                                                 : "reads only",
           json_is_true(json_object_get(may, "read_all")) ? "reads every party's rows"
                                                                    : "reads its party's rows");
    json_decref(caller);
    return CLI_EXIT_OK;
}

/* ---------------------------------------------------------------- interop */

/* "725,591,299" or "1,234.50": a summary's dollars for people. */
static void print_usd(const json_t *v)
{
    char digits[48];
    if (json_is_integer(v)) {
        snprintf(digits, sizeof digits, "%lld", (long long)json_integer_value(v));
    } else {
        snprintf(digits, sizeof digits, "%.2f", json_real_value(v));
    }
    const char *point = strchr(digits, '.');
    size_t whole = point ? (size_t)(point - digits) : strlen(digits);
    for (size_t i = 0; i < whole; i++) {
        if (i > 0 && (whole - i) % 3 == 0) putchar(',');
        putchar(digits[i]);
    }
    if (point) fputs(point, stdout);
    fputs(" USD", stdout);
}

static int cmd_import_fts(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_JSON, OPT_DRY_RUN, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "import fts")) return CLI_EXIT_USAGE;
    if (o.positional_count == 0)
        return cli_fail(CLI_EXIT_USAGE, "import fts: give the pages of one FTS flow search");
    if (o.positional_count > INTEROP_FILES_MAX)
        return cli_fail(CLI_EXIT_USAGE, "import fts: at most %d files", INTEROP_FILES_MAX);
    /* Each opened, read whole, parsed and let go in its turn by the import. */
    struct interop_input inputs[INTEROP_FILES_MAX];
    int status = CLI_EXIT_OK;
    for (int i = 0; i < o.positional_count; i++) {
        const char *name = o.positional[i];
        bool in = strcmp(name, "-") == 0;
        inputs[i] = (struct interop_input){.name = in ? "stdin" : name,
                                           .file = in ? stdin : NULL, .path = in ? NULL : name};
    }
    json_t *summary = NULL;
    struct concord *cc = cli_open(cli, &status);
    if (cc != NULL) {
        struct cc_error err = {0};
        if (concord_import_fts(cc, inputs, (size_t)o.positional_count, o.dry_run, &summary,
                               &err) != CC_OK)
            status = cli_fail_error(&err);
        concord_close(cc);
    }
    if (summary == NULL) return status;
    const json_t *rejected = json_object_get(summary, "rejected");
    int result = json_array_size(rejected) > 0 ? CLI_EXIT_REJECTED : CLI_EXIT_OK;
    if (o.json) {
        int printed = print_json(summary);
        return printed != CLI_EXIT_OK ? printed : result;
    }
    const json_t *in = json_object_get(summary, "incoming"),
                 *out = json_object_get(summary, "outgoing"),
                 *internal = json_object_get(summary, "internal"),
                 *transfers = json_object_get(summary, "transfers");
    if (o.dry_run) puts("dry run: nothing was recorded; the import would record:");
    printf("%lld flows: %lld transfers created, %lld superseded versions corrected, "
           "%lld stale versions, %lld flows of 0 USD\n",
           (long long)json_integer_value(json_object_get(summary, "flows")),
           (long long)json_integer_value(json_object_get(transfers, "created")),
           (long long)json_integer_value(json_object_get(transfers, "superseded")),
           (long long)json_integer_value(json_object_get(summary, "stale")),
           (long long)json_integer_value(json_object_get(summary, "zero_usd")));
    printf("incoming  %6lld flows  funding ",
           (long long)json_integer_value(json_object_get(in, "flows")));
    print_usd(json_object_get(in, "funding_usd"));
    fputs("  pledges ", stdout);
    print_usd(json_object_get(in, "pledges_usd"));
    printf("\ninternal  %6lld flows\noutgoing  %6lld flows  funding ",
           (long long)json_integer_value(json_object_get(internal, "flows")),
           (long long)json_integer_value(json_object_get(out, "flows")));
    print_usd(json_object_get(out, "funding_usd"));
    putchar('\n');
    const json_t *fts = json_object_get(json_object_get(summary, "reported_by_fts"), "incoming");
    if (fts != NULL) {
        bool same = json_equal(json_object_get(fts, "flows"), json_object_get(in, "flows")) &&
                    json_equal(json_object_get(fts, "funding_usd"),
                               json_object_get(in, "funding_usd")) &&
                    json_equal(json_object_get(fts, "pledges_usd"),
                               json_object_get(in, "pledges_usd"));
        printf("FTS's own incoming totals: %lld flows, funding ",
               (long long)json_integer_value(json_object_get(fts, "flows")));
        print_usd(json_object_get(fts, "funding_usd"));
        fputs(", pledges ", stdout);
        print_usd(json_object_get(fts, "pledges_usd"));
        printf(": %s\n", same ? "the same" : "DIFFERENT");
    }
    size_t i;
    const json_t *r;
    json_array_foreach(rejected, i, r) {
        const char *message = json_string_value(json_object_get(r, "message"));
        fprintf(stderr, "concord: %s: %s%s%s\n", json_string_value(json_object_get(r, "id")),
                json_string_value(json_object_get(r, "status")), message ? ": " : "",
                message ? message : "");
    }
    json_decref(summary);
    return cli_flush_output() ? result : CLI_EXIT_STORE;
}

static int cmd_token_revoke(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "token revoke") ||
        !positional_exactly(&o, 1, "token revoke"))
        return CLI_EXIT_USAGE;
    int status;
    struct concord *cc = cli_open(cli, &status);
    if (cc == NULL) return status;
    struct cc_error err = {0};
    enum cc_err rc = concord_token_revoke(cc, o.positional[0], &err);
    concord_close(cc);
    if (rc != CC_OK) return cli_fail_error(&err);
    fprintf(stderr, "concord: token %s revoked\n", o.positional[0]);
    return CLI_EXIT_OK;
}

/* ---------------------------------------------------------------- serve */

static int cmd_serve(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {OPT_LISTEN, OPT_THREADS, OPT_QUIET, 0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "serve") || !positional_exactly(&o, 0, "serve"))
        return CLI_EXIT_USAGE;
    struct http_options options = {.db_path = cli->db_path, .key_path = cli->key_path,
                                   .listen = o.listen,
                                   .quiet = o.quiet};
    if (o.threads != NULL) {
        char *end;
        long n = strtol(o.threads, &end, 10);
        if (end == o.threads || *end != '\0' || n < 1 || n > HTTP_THREADS_MAX)
            return cli_fail(CLI_EXIT_USAGE, "serve: --threads must be 1 … %d", HTTP_THREADS_MAX);
        options.threads = (uint32_t)n;
    }
    struct cc_error err = {0};
    if (http_serve(&options, &err) != CC_OK) return cli_fail_error(&err);
    return CLI_EXIT_OK;
}

static int cmd_help(struct cli *cli, int argc, char **argv)
{
    (void)cli;
    if (argc < 2) {
        cli_print_overview(stdout);
        return CLI_EXIT_OK;
    }
    char words[64];
    snprintf(words, sizeof words, "%s%s%s", argv[1], argc > 2 ? " " : "", argc > 2 ? argv[2] : "");
    for (const struct cli_command *c = cli_commands; c->words != NULL; c++)
        if (strcmp(c->words, words) == 0 || strcmp(c->words, argv[1]) == 0) {
            cli_print_help(c, stdout);
            return CLI_EXIT_OK;
        }
    return cli_fail(CLI_EXIT_USAGE, "help: no command %s", words);
}

/* ---------------------------------------------------------------- demo */

static int cmd_demo(struct cli *cli, int argc, char **argv)
{
    static const int accepted[] = {0};
    struct cli_opts o;
    if (!cli_opts_parse(argc, argv, accepted, &o, "demo") || !positional_exactly(&o, 0, "demo"))
        return CLI_EXIT_USAGE;
    fputs("concord: the demo mission is illustrative: its amounts and pledges are invented\n",
          stderr);
    struct concord *cc;
    struct cc_error err = {0};
    struct concord_options options = {.path = cli->db_path, .key_path = cli->key_path,
                                      .mode = STORE_CREATE};
    if (concord_open_options(&cc, &options, &err) != CC_OK) return cli_fail_error(&err);
    struct demo_summary summary;
    enum cc_err rc = concord_demo_load(cc, &summary, &err);
    concord_close(cc);
    if (rc != CC_OK) return cli_fail(cc_err_exit_status(rc), "demo: %s: %s", cli->db_path,
                                     err.message);
    demo_summary_print(&summary, cli->db_path, stdout);
    return cli_flush_output() ? CLI_EXIT_OK : CLI_EXIT_STORE;
}

/* ---------------------------------------------------------------- the table */

const struct cli_command cli_commands[] = {
    {"init", cmd_init, "", "create the database",
     "Creates the database file with its schema. Accepts an existing concord database\n"
     "(bringing its schema up to date) and refuses any other file. Creates the audit\n"
     "log's signing key beside it (PATH.key, or --key PATH; mode 0600) unless a file is\n"
     "already there: back it up apart from the database.\n"},
    {"apply", cmd_apply, "[FILE|-]", "commit JSON Lines operations as one batch",
     "Reads one operation per line (unit, account, transfer, post, void) from FILE\n"
     "or standard input, commits them as one atomic batch, and prints one result\n"
     "per line. A line that is not JSON refuses the whole input (exit 2) and names\n"
     "the line; an operation the ledger rejects is reported in its place (exit 1).\n"
     "At most 1,000,000 operations.\n"},
    {"unit add", cmd_unit_add, "CODE --scale N [--name NAME] [--json]", "define a unit",
     "Defines a unit such as USD (--scale 2: amounts in cents), PERSON or KG.\n"},
    {"unit list", cmd_unit_list, "[--json]", "list the units", ""},
    {"account add", cmd_account_add,
     "ID --unit CODE [--name NAME] [--owner PARTY] [--flag FLAG]\n"
     "                 [--guarded --approver NAME... --approvals-required K] [--json]",
     "open an account",
     "FLAG is debits_must_not_exceed_credits or credits_must_not_exceed_debits.\n"
     "Dots in ID make a hierarchy that balance --prefix sums. --guarded: a debit\n"
     "from it must be pending and posts once K of the approvers (--approver, repeated)\n"
     "approve it (concord approve); it voids once K can no longer be reached.\n"},
    {"party add", cmd_party_add, "ID --kind KIND [--name NAME] [--json]", "register a party",
     "KIND is nation, organisation, force, authority or fund. Accounts name their\n"
     "party with --owner; editors and viewers act for one party.\n"},
    {"party list", cmd_party_list, "[--json]", "the parties", ""},
    {"account show", cmd_account_show, "ID [--json]", "one account with its balances", ""},
    {"account list", cmd_account_list, "[--prefix P] [--after ID] [--limit N] [--json]",
     "list accounts",
     "Lists accounts in id order, LIMIT (default 1000) after ID. --prefix P lists\n"
     "account P and the accounts under P. (dots make the hierarchy: fund covers\n"
     "fund and fund.pool, not fundraising); a P ending in '.' lists the ids that\n"
     "start with it.\n"},
    {"balance", cmd_balance, "[ID...] [--prefix P] [--at DATE] [--json]", "balances",
     "Balances of the accounts named, and with --prefix one row per unit summing\n"
     "account P and every account under P. (dots make the hierarchy: fund sums\n"
     "fund and fund.pool, not fundraising; a P ending in '.' sums the ids that\n"
     "start with it; an empty P sums all). With neither, every account. --at DATE\n"
     "counts transfers by effective date through the end of that day (UTC), or\n"
     "through a date-time.\n"},
    {"transfer show", cmd_transfer_show, "ID [--json]", "one transfer with its state", ""},
    {"transfer", cmd_transfer,
     "--debit ID --credit ID --amount AMOUNT [--id ID] [--pending] [--expires TIME]\n"
     "                 [--date DATE] [--kind KIND] [--memo TEXT] [--unit CODE] [--json]",
     "move an amount between two accounts",
     "AMOUNT is a decimal in the unit's scale (\"12.50\" or \"12.50 USD\"); more decimals\n"
     "than the unit has are refused. Without --id a random id is chosen.\n"},
    {"post", cmd_post, "PENDING_ID [--amount AMOUNT] [--id ID] [--date DATE] [--memo TEXT] [--json]",
     "post a pending transfer (all of it, or --amount of it)",
     "The record's id defaults to PENDING_ID.post (a random post-… id when that\n"
     "would be longer than 128 bytes).\n"},
    {"void", cmd_void, "PENDING_ID [--id ID] [--date DATE] [--memo TEXT] [--json]",
     "void a pending transfer",
     "The record's id defaults to PENDING_ID.void (a random void-… id when that\n"
     "would be longer than 128 bytes).\n"},
    {"approve", cmd_approve, "PENDING_ID [--decision approve|reject] [--id ID] [--json]",
     "approve or reject a pending debit of a guarded account",
     "Runs as the token's user (the local administrator is \"local\"), who must be\n"
     "one of the account's approvers. Without --id a random id is chosen.\n"},
    {"history", cmd_history, "ID [--since DATE] [--until DATE] [--limit N] [--json]",
     "an account's transfers, oldest first",
     "Filters by effective date; --until includes the whole day. At most LIMIT\n"
     "(default 1000) rows, the oldest; the table for people says on stderr when\n"
     "there are more.\n"},
    {"condition add", cmd_condition_add,
     "NAME [--title TEXT] [--probability P] [--authority PARTY] [--when EXPR] [--json]",
     "define a condition pledges can hang on",
     "A base condition is open until resolved; --when EXPR makes it derived from\n"
     "others (names with ! & | and parentheses). P in [0, 1] feeds forecasts.\n"},
    {"condition list", cmd_condition_list, "[--json]", "the conditions and their states", ""},
    {"resolve", cmd_resolve, "NAME met|failed [--json]", "decide a base condition",
     "Posts every pending transfer whose `if` becomes true and voids every one\n"
     "that becomes false, in the same transaction. A condition is decided once.\n"},
    {"requirement add", cmd_requirement_add,
     "ID --account ACCOUNT|PREFIX. --target AMOUNT [--measure credits|balance]\n"
     "                 [--due DATE] [--unit CODE] [--title TEXT] [--json]",
     "set a target on an account or a branch of accounts",
     "credits counts cumulative inflow; balance counts credits minus debits.\n"
     "AMOUNT is a decimal in the unit's scale.\n"},
    {"requirement list", cmd_requirement_list, "[--json]", "the requirements", ""},
    {"rate add", cmd_rate_add, "UNIT TO RATE --date DATE [--json]",
     "1 UNIT = RATE TO from DATE on (an exact decimal)", ""},
    {"gaps", cmd_gaps, "[--at DATE] [--in UNIT] [--json]", "what each requirement still lacks",
     "Per requirement: posted (as of DATE), pending (what every pending transfer\n"
     "would add), the gap now and the gap if every pending transfer posts.\n"
     "--in UNIT converts every figure with the rate in force on each transfer's\n"
     "effective date (see rate add), exactly, rounding once at the end.\n"},
    {"scenario", cmd_scenario, "--assume NAME=met|failed ... [--in UNIT] [--json]",
     "what posts for certain and what may, under assumptions",
     "Writes nothing. low: posted plus what posts for certain; high: low plus what\n"
     "may still post while other conditions stay open. Pending transfers without\n"
     "`if` count as posting. Also the pending amount each open condition decides.\n"},
    {"forecast", cmd_forecast, "[--samples N] [--seed S] [--in UNIT] [--json]",
     "how likely each requirement is to be met",
     "Open base conditions are met independently with their probability (0.5 when\n"
     "none is set); exact over up to 20 of them, seeded Monte Carlo beyond.\n"},
    {"report", cmd_report, "funding|force|aid|overview [--at DATE] [--source S] [--json]",
     "the mission's funding, force generation or aid pipeline",
     "Computed from every transfer by the account scheme of docs/DOMAIN.md. funding\n"
     "(USD): required, pledged (conditional or not), committed, disbursed, awaiting\n"
     "approval and spent, by donor, requirement, condition and month. force: persons\n"
     "per stage and contingent, targets, month-end history, training, days from\n"
     "pledge to deployment, reimbursement. aid: stock per stage and place, trucks\n"
     "and tonnes per crossing per day, dwell times, delivered against need, losses\n"
     "and rejections. overview: funding's totals and conditions, force's stages,\n"
     "targets and deployment, aid's delivery, from one reading of the rows. --at DATE\n"
     "counts transfers effective through that day. --source S keeps the funding\n"
     "that came from S: fts, iati or hxl (imported), or mission (recorded here);\n"
     "by_source always shows each.\n"},
    {"serve", cmd_serve, "[--listen ADDR:PORT] [--threads N] [--quiet]",
     "serve the API over HTTP",
     "JSON over HTTP/1.1 under /v1/ (docs/API.md); the OpenAPI document is at\n"
     "/v1/openapi.json. ADDR:PORT defaults to 127.0.0.1:8080 (port 0: any free\n"
     "port, printed when ready); N defaults to one worker per core. One access-log\n"
     "line per request on stderr unless --quiet. SIGTERM or SIGINT stops it after\n"
     "the requests in flight.\n"},
    {"token create", cmd_token_create,
     "--user NAME --role ROLE [--party P] [--expires DATE] [--json]", "make an access token",
     "ROLE is admin, coordinator, editor, viewer or auditor; editors and viewers act\n"
     "for --party P. Prints the token once (only a digest of its secret is kept).\n"
     "Administrators only (the local CLI is one).\n"},
    {"token list", cmd_token_list, "[--json]", "the access tokens (never their secrets)", ""},
    {"token revoke", cmd_token_revoke, "ID", "revoke an access token at once", ""},
    {"import fts", cmd_import_fts, "FILE... [--dry-run] [--json]",
     "import an OCHA FTS flow search",
     "Reads the pages of one FTS flow search answer (fts/flow/custom-search, every\n"
     "page of meta.nextLink; - reads standard input) and records each flow as a\n"
     "transfer between its organisations' accounts (fts.org.<id>.given and\n"
     ".received), pledges pending, commitments and payments posted: in batches,\n"
     "all of them or none. Re-importing is idempotent; a flow's newer version\n"
     "supersedes the recorded one with a correcting entry. Prints what the ledger\n"
     "recorded, by boundary, beside FTS's own totals (docs/INTEROP.md). Exit 1\n"
     "when a flow was refused. --dry-run does all of it and records nothing: the\n"
     "summary says what the import would record.\n"},
    {"import iati", cmd_import_iati, "FILE... [--schema PATH] [--dry-run] [--json]",
     "import IATI 2.03 activity files",
     "Streams IATI 2.03 activity files (- reads standard input), validating each\n"
     "against the official schema, given by --schema PATH or CONCORD_IATI_SCHEMA\n"
     "(iati-activities-schema.xsd of IATI-Schemas version-2.03). A file that is not\n"
     "valid refuses the whole import, naming file, line and element; nothing is\n"
     "recorded. Each transaction becomes a transfer between its organisations'\n"
     "accounts (iati.<stage>.<org>.given|received.<currency>) in a unit per\n"
     "currency, pledges pending; each organisation ref a party. A flow reported by\n"
     "both sides is counted once, both reports kept. Re-importing is idempotent;\n"
     "this ledger's own export coming back is skipped (its funding is here already).\n"
     "Prints what the ledger holds of the files (docs/INTEROP.md). Exit 1 when an\n"
     "operation was refused. --dry-run does all of it and records nothing: the\n"
     "summary says what the import would record.\n"},
    {"export iati", cmd_export_iati, "[--activity-prefix P]", "write the ledger as IATI 2.03",
     "Writes IATI 2.03 XML to standard output: one activity per fund account\n"
     "(identifier P-<account>, P defaulting to concord) with its pledges (13),\n"
     "commitments (11) and disbursements (3), and every activity imported from IATI\n"
     "with its transactions. Each fund's activity names this ledger\n"
     "(other-identifier <account>@<log name>), so an import here knows it again.\n"
     "Importing the output gives back the same figures. Exit 1, writing nothing,\n"
     "when the ledger holds nothing to export; exit 2, writing nothing, when a\n"
     "fund's identifier is another publisher's activity imported here (give P).\n"},
    {"import hxl", cmd_import_hxl, CLI_IMPORT_HXL_USAGE, CLI_IMPORT_HXL_SUMMARY,
     CLI_IMPORT_HXL_HELP},
    {"export hxl", cmd_export_hxl, CLI_EXPORT_USAGE, CLI_EXPORT_HXL_SUMMARY, CLI_EXPORT_HELP},
    {"export csv", cmd_export_csv, CLI_EXPORT_USAGE, CLI_EXPORT_CSV_SUMMARY, CLI_EXPORT_HELP},
    {"whoami", cmd_whoami, "[--json]", "who commands run as",
     "The user, role and party of --token (or CONCORD_TOKEN), or the local\n"
     "administrator without one, and what that role may do. --json: as GET /v1/me.\n"},
    {"check", cmd_check, "[--json]", "verify the ledger's invariants",
     "Checks that, per unit, debits equal credits (posted and pending), that no\n"
     "balance is negative or breaks its account's limit, and that every account's\n"
     "balances equal the sum of its transfers. Exit 3 naming the first fault.\n"},
    {"key", cmd_key, "", "print the audit log's verifier key",
     "Prints the public (verifier) key of the ledger's signing key, in the signed-note\n"
     "format: NAME+KEYID+BASE64. Give it to auditors: with it alone they can check\n"
     "checkpoints and proofs.\n"},
    {"checkpoint", cmd_checkpoint, "[--json]", "the latest signed checkpoint of the audit log",
     "Prints the signed note of the latest checkpoint: the log's name, its size (one\n"
     "event per committed batch) and its Merkle root. --json: {\"size\",\"root\",\"time\",\n"
     "\"checkpoint\"}.\n"},
    {"proof", cmd_proof, "TRANSFER_ID | --seq N [--json]", "prove a transfer is in the audit log",
     "Prints, as JSON, the inclusion proof of the event that created TRANSFER_ID\n"
     "against the latest checkpoint, with that event's text: transfer_id, leaf_index\n"
     "(event seq - 1), tree_size, leaf_hash, hashes, checkpoint, event. --seq N: the\n"
     "proof of event N itself, without transfer_id (roles that read the event log).\n"
     "Check it with verify-proof. Exit 1 when there is no such transfer or event.\n"},
    {"verify-proof", cmd_verify_proof, "FILE --key VERIFIER_KEY [--id TRANSFER_ID]",
     "check an inclusion proof",
     "Needs nothing but the proof and the verifier key (its text, or a file holding\n"
     "it): checks the checkpoint's signature, that the hashes lead from the leaf to\n"
     "the checkpoint's root, that the event hashes to the leaf and records the\n"
     "transfer. --id: the proof must be TRANSFER_ID's and carry its event (a script\n"
     "that trusts the exit status alone should give it). Exit 0 valid, 1 invalid\n"
     "(saying why), 2 malformed.\n"},
    {"consistency", cmd_consistency, "--from N [--to M] [--json]",
     "prove the log of N events is a prefix of the log of M",
     "Prints, as JSON, the consistency proof between the stored checkpoints of sizes\n"
     "N and M (default: the latest), with both signed notes: from, to, hashes,\n"
     "from_checkpoint, to_checkpoint. Check it with verify-consistency.\n"},
    {"verify-consistency", cmd_verify_consistency, "FILE --key VERIFIER_KEY",
     "check that the log only grew between two checkpoints",
     "Needs nothing but the output of consistency --json and the verifier key (its\n"
     "text, or a file holding it): checks that both checkpoints carry a valid\n"
     "signature by that key and name the same log, that their sizes are from and to\n"
     "(from <= to), and that the hashes prove the log of from events a prefix of the\n"
     "log of to events. FILE - reads stdin. Exit 0 consistent, 1 not (saying why),\n"
     "2 malformed.\n"},
    {"verify", cmd_verify, "[--json] [--key VERIFIER_KEY]", "verify the ledger against its audit log",
     "Checks every event's hash, every checkpoint's signature, root and consistency,\n"
     "then replays every event into an empty ledger and compares every table, row by\n"
     "row, with this one. --key checks the signatures with a verifier key given by an\n"
     "outside auditor (default: the ledger's own key file). Exit 0 intact, 1 naming\n"
     "the first event, checkpoint or row that is not what the log says.\n"},
    {"demo", cmd_demo, "", "load an illustrative mission into a new database",
     "Creates the database (refusing one that already holds a ledger: exit 2) and\n"
     "loads an illustrative mission, modelled on public reporting of a possible\n"
     "stabilization force for Gaza, with invented amounts and pledges: donors and\n"
     "conditional pledges, the pooled fund and its board's approvals, contingents\n"
     "through training, and 60 days of aid consignments through the crossings.\n"
     "The same every time: fixed dates (2026-09-01 to 2026-10-30) and a seeded\n"
     "generator. See docs/DOMAIN.md, \"The demo mission\".\n"},
    {"help", cmd_help, "[COMMAND]", "help on a command", ""},
    {NULL, NULL, NULL, NULL, NULL},
};
