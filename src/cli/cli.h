/*
 * cli.h — the concord command line: one table of commands, shared helpers.
 *
 * Every command is a row of cli_commands (commands.c): its words, its
 * handler, a one-line usage and a help text. main.c reads the global options
 * (--db, --key), finds the row, and hands the remaining arguments to the handler.
 * Handlers return a CLI exit status: 0 success, 1 an operation rejected or a
 * thing not found, 2 bad usage or malformed input, 3 storage or system error.
 */
#ifndef CONCORD_CLI_H
#define CONCORD_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "app/app.h"
#include "app/report.h"
#include "ledger/ledger.h"

enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_REJECTED = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_STORE = 3,
};

struct cli {
    const char *db_path; /* --db, $CONCORD_DB, or ./concord.db */
    const char *token;   /* --token or $CONCORD_TOKEN: act as its actor; NULL: the local admin */
    const char *key_path; /* --key, $CONCORD_KEY, or NULL: the database's path + ".key" */
    const char *argv0;
};

struct cli_command {
    const char *words;   /* "account show" */
    int (*run)(struct cli *cli, int argc, char **argv); /* argv[0] is the last word */
    const char *usage;   /* arguments after the words */
    const char *summary; /* one line for the overview */
    const char *help;    /* the rest of --help */
};

extern const struct cli_command cli_commands[];

/* Runs domain operation `verb` (app/domain.h) typed as a command; argv[0] is the verb. */
int cli_domain_run(struct cli *cli, const char *verb, int argc, char **argv);

/* Prints "concord: message" to stderr and returns status. */
int cli_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Flushes standard output. A full disk, a closed pipe or /dev/full must not
 * pass for success: on failure reports "cannot write the output: …" and
 * returns false (the command then exits 3).
 */
bool cli_flush_output(void);
/* Reports err on stderr and returns the matching exit status. */
int cli_fail_error(const struct cc_error *err);
/*
 * Opens the ledger at cli->db_path (the file must exist), acting as the
 * token's actor when cli->token is set (an invalid token: exit 2) and as the
 * local administrator otherwise. NULL after reporting.
 */
struct concord *cli_open(struct cli *cli, int *status);
/*
 * cli_open for a read: first records the expiries that are due, so states
 * are current. That is a write: on a database this user may only read, or
 * while another writer holds the lock, it fails, and the read goes on with
 * a warning rather than showing nothing.
 */
struct concord *cli_open_for_read(struct cli *cli, int *status);
/* All of f (at most max bytes), NUL-terminated; NULL after reporting, with *status set. */
char *cli_read_input(FILE *f, size_t max, size_t *length, const char *name, int *status);
/* ---- options: one table of every option (commands.c); each command names those it takes */

/* Option ids (getopt_long's values). */
enum {
    OPT_JSON = 1000, OPT_PREFIX, OPT_AT, OPT_SINCE, OPT_UNTIL, OPT_LIMIT, OPT_AFTER, OPT_UNIT,
    OPT_NAME, OPT_OWNER, OPT_FLAG, OPT_SCALE, OPT_ID, OPT_DEBIT, OPT_CREDIT, OPT_AMOUNT,
    OPT_PENDING, OPT_EXPIRES, OPT_DATE, OPT_KIND, OPT_MEMO, OPT_TITLE, OPT_PROBABILITY,
    OPT_AUTHORITY, OPT_WHEN, OPT_ACCOUNT, OPT_MEASURE, OPT_TARGET, OPT_DUE, OPT_TO, OPT_RATE,
    OPT_USER, OPT_ROLE, OPT_PARTY, OPT_GUARDED, OPT_APPROVER, OPT_APPROVALS_REQUIRED,
    OPT_DECISION,
    OPT_ASSUME, OPT_SAMPLES, OPT_SEED, OPT_IN, OPT_LISTEN, OPT_THREADS, OPT_QUIET, OPT_FROM,
    OPT_KEY, OPT_SEQ, OPT_SOURCE, OPT_CHECK, OPT_WHAT, OPT_SELECTOR, OPT_SCHEMA,
    OPT_ACTIVITY_PREFIX, OPT_DRY_RUN,
};

#define CLI_FLAGS_MAX 2

/* Every option any command takes, as parsed. */
struct cli_opts {
    bool json, pending, dry_run;
    const char *prefix, *at, *since, *until, *limit, *after, *unit, *name, *owner, *scale, *id,
        *debit, *credit, *amount, *expires, *date, *kind, *memo;
    const char *flags[CLI_FLAGS_MAX];
    const char *title, *probability, *authority, *when, *account, *measure, *target, *due, *to,
        *rate, *samples, *seed, *in, *listen, *threads, *from, *key, *seq, *source;
    const char *what, *selector, *schema, *activity_prefix;
    bool quiet, guarded, check;
    const char *user, *role, *party, *approvals_required, *decision;
    const char *approvers[LEDGER_APPROVERS_MAX];
    int approvers_count;
    const char *assume[REPORT_ASSUMPTIONS_MAX];
    int assume_count;
    int flags_count;
    int positional_count;
    char **positional;
};

/*
 * Parses argv (argv[0] is the command's last word) accepting only the options
 * whose ids appear in `accepted` (terminated by 0). false after reporting a
 * usage error.
 */
bool cli_opts_parse(int argc, char **argv, const int *accepted, struct cli_opts *o,
                    const char *command);

/* Prints the list of commands to out. */
void cli_print_overview(FILE *out);
/* Prints usage and help of cmd to out. */
void cli_print_help(const struct cli_command *cmd, FILE *out);

/* ---- text for people */

/*
 * A copy of s fit for a terminal: control characters (below 0x20, 0x7f)
 * written as \n, \t, \r or \xNN, so that stored text cannot move the
 * cursor, recolour the screen or forge lines. malloc'd; NULL when out of memory.
 */
char *cli_text_escaped(const char *s);
/* Prints label, then text escaped (see cli_text_escaped), then a newline. */
void cli_put_line(FILE *out, const char *label, const char *text);

/* ---- aligned tables for people */

#define TABLE_COLUMNS_MAX 12

struct table {
    int columns;
    const char *header[TABLE_COLUMNS_MAX];
    bool right[TABLE_COLUMNS_MAX]; /* right-align (numbers) */
    char **cells;                  /* rows × columns, owned */
    int rows, capacity;
};

void table_init(struct table *t, int columns, const char *const *header, const bool *right);
/* Adds a row of `columns` strings (copied, control characters escaped). */
void table_add(struct table *t, const char *const *cells);
void table_print(const struct table *t, FILE *out);
void table_free(struct table *t);

#endif
