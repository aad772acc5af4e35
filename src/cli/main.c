/*
 * main.c — the concord binary: global options, dispatch through the command
 * table, and the helpers every command shares.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/token.h"
#include "app/domain.h"
#include "cli/cli.h"

#define CONCORD_DB_DEFAULT "concord.db"
#define CLI_WORDS_MAX 2

int cli_fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("concord: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return status;
}

bool cli_flush_output(void)
{
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout)) return true;
    /* An earlier write may have failed with the buffer since emptied: errno then says nothing. */
    cli_fail(CLI_EXIT_STORE, "cannot write the output: %s", strerror(errno != 0 ? errno : EIO));
    return false;
}

int cli_fail_error(const struct cc_error *err)
{
    return cli_fail(cc_err_exit_status(err->code), "%s", err->message);
}

struct concord *cli_open(struct cli *cli, int *status)
{
    struct concord *cc;
    struct cc_error err = {0};
    struct concord_options o = {.path = cli->db_path, .key_path = cli->key_path,
                                .mode = STORE_OPEN_EXISTING};
    if (concord_open_options(&cc, &o, &err) != CC_OK) {
        *status = cli_fail_error(&err);
        return NULL;
    }
    if (cli->token == NULL) return cc; /* the local administrator */
    struct auth_actor actor;
    if (concord_token_verify(cc, cli->token, &actor, NULL, &err) != CC_OK) {
        concord_close(cc);
        *status = cli_fail(CLI_EXIT_USAGE, "--token: %s", err.message);
        return NULL;
    }
    concord_set_actor(cc, &actor);
    return cc;
}

struct concord *cli_open_for_read(struct cli *cli, int *status)
{
    struct concord *cc = cli_open(cli, status);
    if (cc == NULL) return NULL;
    struct cc_error err = {0};
    enum cc_err rc = concord_expire_due(cc, &err);
    if (rc == CC_ERR_BUSY) /* its message is a writer's ("nothing was recorded; try again") */
        fprintf(stderr, "concord: another writer holds the database: the expiries due are not "
                        "recorded yet; states shown may be stale\n");
    else if (rc != CC_OK)
        fprintf(stderr, "concord: could not record due expiries: %s; states shown may be stale\n",
                err.message);
    return cc;
}

void cli_print_help(const struct cli_command *cmd, FILE *out)
{
    fprintf(out, "usage: concord [--db PATH] [--key PATH] [--token TOKEN] %s%s%s\n\n%s\n",
            cmd->words, cmd->usage[0] ? " " : "",
            cmd->usage, cmd->summary);
    if (cmd->help[0]) fprintf(out, "\n%s", cmd->help);
}

void cli_print_overview(FILE *out)
{
    fputs("usage: concord [--db PATH] [--key PATH] [--token TOKEN] COMMAND [ARGS]\n\n"
          "concord keeps the books of a stabilization mission: money, personnel and\n"
          "supplies on one double-entry ledger.\n\n"
          "The database is PATH, else $CONCORD_DB, else ./concord.db. Its audit log's\n"
          "signing key is --key PATH, else $CONCORD_KEY, else the database's path + .key.\n"
          "Commands act as the local administrator, or with --token TOKEN (else\n"
          "$CONCORD_TOKEN) as that token's user, role and party.\n"
          "Exit status: 0 ok; 1 an operation was rejected or a thing not found;\n"
          "2 bad usage or malformed input; 3 storage or system error.\n\ncommands:\n",
          out);
    for (const struct cli_command *c = cli_commands; c->words != NULL; c++)
        fprintf(out, "  %-16s %s\n", c->words, c->summary);
    fputs("\nthe mission's operations (concord OP ID --FIELD VALUE ..., or in apply):\n", out);
    for (const struct domain_verb *v = domain_verbs; v->name != NULL; v++)
        fprintf(out, "  %-16s %s: %s\n", v->name, v->domain, v->summary);
    fputs("\n`concord COMMAND --help` tells more.\n", out);
}

/* How many of argv's leading words spell cmd->words (0 if they do not). */
static int words_match(const struct cli_command *cmd, int argc, char **argv)
{
    char words[64];
    snprintf(words, sizeof words, "%s", cmd->words);
    int n = 0;
    for (char *save, *w = strtok_r(words, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save)) {
        if (n >= argc || strcmp(argv[n], w) != 0) return 0;
        n++;
    }
    return n;
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) return false;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return true;
    }
    return false;
}

static int run(int argc, char **argv);

int main(int argc, char **argv)
{
    int status = run(argc, argv);
    /* A command that failed on storage has said so; any other status needs its output out. */
    if (status != CLI_EXIT_STORE && !cli_flush_output()) status = CLI_EXIT_STORE;
    return status;
}

/* Global options, then the command. */
static int run(int argc, char **argv)
{
    struct cli cli = {.argv0 = argv[0]};
    cli.token = getenv("CONCORD_TOKEN");
    if (cli.token != NULL && cli.token[0] == '\0') cli.token = NULL;
    cli.db_path = getenv("CONCORD_DB");
    if (cli.db_path == NULL || cli.db_path[0] == '\0') cli.db_path = CONCORD_DB_DEFAULT;
    cli.key_path = getenv("CONCORD_KEY");
    if (cli.key_path != NULL && cli.key_path[0] == '\0') cli.key_path = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--db") == 0) {
            if (i + 1 == argc) {
                cli_print_overview(stderr);
                return cli_fail(CLI_EXIT_USAGE, "--db needs a PATH");
            }
            cli.db_path = argv[++i];
        } else if (strncmp(argv[i], "--db=", 5) == 0) {
            cli.db_path = argv[i] + 5;
        } else if (strcmp(argv[i], "--key") == 0) {
            if (i + 1 == argc) {
                cli_print_overview(stderr);
                return cli_fail(CLI_EXIT_USAGE, "--key needs a PATH");
            }
            cli.key_path = argv[++i];
        } else if (strncmp(argv[i], "--key=", 6) == 0) {
            cli.key_path = argv[i] + 6;
        } else if (strcmp(argv[i], "--token") == 0 || strncmp(argv[i], "--token=", 8) == 0) {
            const char *token = argv[i][7] == '=' ? argv[i] + 8 : i + 1 < argc ? argv[++i] : NULL;
            if (token == NULL) return cli_fail(CLI_EXIT_USAGE, "--token needs a TOKEN");
            if (strnlen(token, TOKEN_TEXT_BYTES_MAX + 1) > TOKEN_TEXT_BYTES_MAX)
                return cli_fail(CLI_EXIT_USAGE, "--token: %s", TOKEN_INVALID_MESSAGE);
            cli.token = token;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_print_overview(stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            puts("concord 0.1.0");
            return CLI_EXIT_OK;
        } else {
            cli_print_overview(stderr);
            return cli_fail(CLI_EXIT_USAGE, "unknown option %s", argv[i]);
        }
    }
    if (i == argc) {
        cli_print_overview(stderr);
        return CLI_EXIT_USAGE;
    }
    /* The longest row whose words match wins ("transfer show" before "transfer"). */
    const struct cli_command *best = NULL;
    int best_words = 0;
    for (const struct cli_command *c = cli_commands; c->words != NULL; c++) {
        int n = words_match(c, argc - i, argv + i);
        if (n > best_words) {
            best = c;
            best_words = n;
        }
    }
    if (best == NULL) {
        /* The mission's operations are commands too, from their own table. */
        const struct domain_verb *verb = domain_verb_find(argv[i]);
        if (verb != NULL) {
            if (wants_help(argc - i - 1, argv + i + 1)) {
                printf("usage: concord %s ID [--FIELD VALUE]... [--json]\n\n%s (%s); its fields "
                       "are in docs/DOMAIN.md.\n",
                       verb->name, verb->summary, verb->domain);
                return CLI_EXIT_OK;
            }
            return cli_domain_run(&cli, verb->name, argc - i, argv + i);
        }
        cli_print_overview(stderr);
        return cli_fail(CLI_EXIT_USAGE, "unknown command %s", argv[i]);
    }
    int first = i + best_words - 1; /* the handler's argv[0] is the last word */
    if (wants_help(argc - first - 1, argv + first + 1)) {
        cli_print_help(best, stdout);
        return CLI_EXIT_OK;
    }
    return best->run(&cli, argc - first, argv + first);
}
