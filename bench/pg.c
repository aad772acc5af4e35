/*
 * pg.c — concord-bench's PostgreSQL side (see pg.h): the private server, and
 * the two ledger designs of bench/pg/ledger.sql fed the bench's batches.
 *
 * func    one call of ledger_apply() per batch, its arguments arrays in
 *         PostgreSQL's text form: one round trip, one commit;
 * update  BEGIN, one prepared statement per operation (s_transfer or
 *         s_resolve: the conditional UPDATEs of the debit and the credit
 *         account and the row's INSERT in one statement), COMMIT, sent in
 *         libpq's pipeline mode so that the round trips do not dominate.
 *         A linked chain that fails part-way is undone before the COMMIT
 *         (s_undo for each member that held), so the batch stays atomic.
 */
#define _XOPEN_SOURCE 700 /* nftw, to remove the cluster's directory */
#include "pg.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#define PG_BIN_DIR "/usr/lib/postgresql/15/bin"  /* Debian's postgresql-15 */
#define PG_USER "bench"                           /* the cluster's superuser */
#define PG_START_SECONDS_MAX 60
#define PG_PIPELINE_CHUNK 512                     /* statements between two syncs */
#define PG_NUMBER_BYTES 24                        /* an int64 in decimal, and its NUL */

const char *const pg_design_names[PG_DESIGN_COUNT] = {"pg-func", "pg-update"};

/* Status numbers the SQL returns: concord's enum, which the SQL must follow. */
_Static_assert(LEDGER_CREATED == 0 && LEDGER_EXISTS == 1 && LEDGER_DEBIT_ACCOUNT_NOT_FOUND == 6 &&
                   LEDGER_CREDIT_ACCOUNT_NOT_FOUND == 7 && LEDGER_EXCEEDS_CREDITS == 11 &&
                   LEDGER_PENDING_TRANSFER_NOT_FOUND == 14 &&
                   LEDGER_PENDING_TRANSFER_NOT_PENDING == 15 &&
                   LEDGER_EXCEEDS_PENDING_TRANSFER_AMOUNT == 19 &&
                   LEDGER_LINKED_EVENT_FAILED == 23,
               "bench/pg/ledger.sql returns concord's status numbers");

/* Operation types and flags as the SQL takes them. */
enum { PG_OP_TRANSFER = 1, PG_OP_POST = 2, PG_OP_VOID = 3 };
enum { PG_FLAG_PENDING = 1, PG_FLAG_LINKED = 2, PG_FLAG_AMOUNT = 4 };

static const char s_transfer[] =
    "WITH known AS (SELECT 1 FROM transfers WHERE id = $1),"
    " d AS (UPDATE accounts"
    "        SET debits_pending = debits_pending + CASE WHEN $5 & 1 <> 0 THEN $4 ELSE 0 END,"
    "            debits_posted = debits_posted + CASE WHEN $5 & 1 = 0 THEN $4 ELSE 0 END"
    "      WHERE id = $2 AND NOT EXISTS (SELECT 1 FROM known)"
    "        AND EXISTS (SELECT 1 FROM accounts WHERE id = $3)"
    "        AND (flags & 1 = 0 OR debits_pending + debits_posted + $4 <= credits_posted)"
    "      RETURNING 1),"
    " c AS (UPDATE accounts"
    "        SET credits_pending = credits_pending + CASE WHEN $5 & 1 <> 0 THEN $4 ELSE 0 END,"
    "            credits_posted = credits_posted + CASE WHEN $5 & 1 = 0 THEN $4 ELSE 0 END"
    "      WHERE id = $3 AND EXISTS (SELECT 1 FROM d) RETURNING 1),"
    " ins AS (INSERT INTO transfers (id, debit, credit, amount, flags, state, expires)"
    "         SELECT $1, $2, $3, $4, $5 & 1, CASE WHEN $5 & 1 <> 0 THEN 2 ELSE 1 END, $6"
    "          WHERE EXISTS (SELECT 1 FROM c) RETURNING 1)"
    " SELECT CASE WHEN EXISTS (SELECT 1 FROM ins) THEN 0"
    "             WHEN EXISTS (SELECT 1 FROM known) THEN 1"
    "             WHEN NOT EXISTS (SELECT 1 FROM accounts WHERE id = $2) THEN 6"
    "             WHEN NOT EXISTS (SELECT 1 FROM accounts WHERE id = $3) THEN 7"
    "             ELSE 11 END";

static const char s_resolve[] =
    "WITH known AS (SELECT 1 FROM transfers WHERE id = $1),"
    " p AS (UPDATE transfers SET state = CASE WHEN $3 = 2 THEN 1 ELSE 3 END"
    "      WHERE id = $2 AND state = 2 AND NOT EXISTS (SELECT 1 FROM known)"
    "        AND ($4::bigint IS NULL OR $4 <= amount)"
    "      RETURNING debit, credit, amount,"
    "                CASE WHEN $3 = 2 THEN coalesce($4, amount) ELSE 0 END AS posted),"
    " d AS (UPDATE accounts a SET debits_pending = a.debits_pending - p.amount,"
    "                             debits_posted = a.debits_posted + p.posted"
    "         FROM p WHERE a.id = p.debit RETURNING 1),"
    " c AS (UPDATE accounts a SET credits_pending = a.credits_pending - p.amount,"
    "                             credits_posted = a.credits_posted + p.posted"
    "         FROM p WHERE a.id = p.credit RETURNING 1),"
    " ins AS (INSERT INTO transfers (id, debit, credit, amount, pending_id, flags, state)"
    "         SELECT $1, p.debit, p.credit, CASE WHEN $3 = 2 THEN p.posted ELSE p.amount END,"
    "                $2, 0, CASE WHEN $3 = 2 THEN 1 ELSE 3 END FROM p RETURNING 1)"
    " SELECT CASE WHEN EXISTS (SELECT 1 FROM ins) THEN 0"
    "             WHEN EXISTS (SELECT 1 FROM known) THEN 1"
    "             WHEN NOT EXISTS (SELECT 1 FROM transfers WHERE id = $2) THEN 14"
    "             WHEN EXISTS (SELECT 1 FROM transfers WHERE id = $2 AND state = 2) THEN 19"
    "             ELSE 15 END";

/* Undoes a transfer created earlier in the batch: its chain failed. */
static const char s_undo[] =
    "WITH t AS (DELETE FROM transfers WHERE id = $1 RETURNING debit, credit, amount, flags),"
    " d AS (UPDATE accounts a"
    "        SET debits_pending = a.debits_pending - CASE WHEN t.flags & 1 <> 0 THEN t.amount ELSE 0 END,"
    "            debits_posted = a.debits_posted - CASE WHEN t.flags & 1 = 0 THEN t.amount ELSE 0 END"
    "       FROM t WHERE a.id = t.debit RETURNING 1),"
    " c AS (UPDATE accounts a"
    "        SET credits_pending = a.credits_pending - CASE WHEN t.flags & 1 <> 0 THEN t.amount ELSE 0 END,"
    "            credits_posted = a.credits_posted - CASE WHEN t.flags & 1 = 0 THEN t.amount ELSE 0 END"
    "       FROM t WHERE a.id = t.credit RETURNING 1)"
    " SELECT (SELECT count(*) FROM t) + 0 * ((SELECT count(*) FROM d) + (SELECT count(*) FROM c))";

struct pg_ledger {
    PGconn *conn;
    enum pg_design design;
    pg_account_fn account;
    char *text;          /* func: the arguments' text, grown as needed */
    size_t text_capacity;
};

static bool say(char *message, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool say(char *message, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, size, fmt, ap);
    va_end(ap);
    return false;
}

/* ---------------------------------------------------------------- the server */

/* Runs argv (as `postgres` when root) and waits; true when it exits 0. */
static pid_t spawn(char *const argv[], const char *log, bool wait_for_it, int *status)
{
    struct passwd *pw = geteuid() == 0 ? getpwnam("postgres") : NULL;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        setsid(); /* a Ctrl-C at the terminal is the bench's to handle */
        if (pw != NULL && (setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)) _exit(126);
        execv(argv[0], argv);
        _exit(127);
    }
    if (wait_for_it) {
        while (waitpid(pid, status, 0) < 0 && errno == EINTR) {}
    }
    return pid;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &length) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void conninfo(const struct pg_server *s, const char *database, char *out, size_t size)
{
    snprintf(out, size,
             "host=127.0.0.1 port=%d user=" PG_USER " password=%s dbname=%s connect_timeout=10 "
             "options='-c client_min_messages=warning'",
             s->port, s->password, database);
}

bool pg_server_start(struct pg_server *s, const char *parent, char *message, size_t size)
{
    memset(s, 0, sizeof *s);
    char initdb[] = PG_BIN_DIR "/initdb", postgres[] = PG_BIN_DIR "/postgres";
    if (access(initdb, X_OK) != 0 || access(postgres, X_OK) != 0)
        return say(message, size, "%s: PostgreSQL 15 is not installed (Debian's postgresql-15)",
                   PG_BIN_DIR);
    struct passwd *pw = geteuid() == 0 ? getpwnam("postgres") : NULL;
    if (geteuid() == 0 && pw == NULL)
        return say(message, size, "as root, PostgreSQL runs as the user postgres, which is missing");
    char log[PG_PATH_BYTES];
    snprintf(s->dir, sizeof s->dir, "%s/pg", parent);
    snprintf(log, sizeof log, "%s/pg.log", parent);
    if (mkdir(s->dir, 0700) != 0) return say(message, size, "%s: %s", s->dir, strerror(errno));
    if (pw != NULL && (chown(s->dir, pw->pw_uid, pw->pw_gid) != 0 ||
                       chown(parent, pw->pw_uid, pw->pw_gid) != 0))
        return say(message, size, "%s: chown: %s", s->dir, strerror(errno));
    /* A random password, not `trust`: the port is on loopback, but other local users are near. */
    uint8_t random[32];
    if (getrandom(random, sizeof random, 0) != (ssize_t)sizeof random)
        return say(message, size, "getrandom: %s", strerror(errno));
    for (size_t i = 0; i < sizeof random; i++)
        snprintf(s->password + 2 * i, 3, "%02x", random[i]);
    char pwfile[PG_PATH_BYTES + 16], pwopt[PG_PATH_BYTES + 32];
    snprintf(pwfile, sizeof pwfile, "%s/pg.password", parent);
    snprintf(pwopt, sizeof pwopt, "--pwfile=%s", pwfile);
    int fd = open(pwfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    bool written = fd >= 0 && write(fd, s->password, 64) == 64 && write(fd, "\n", 1) == 1;
    if (fd >= 0) close(fd);
    if (written && pw != NULL && chown(pwfile, pw->pw_uid, pw->pw_gid) != 0) written = false;
    if (!written) {
        unlink(pwfile);
        return say(message, size, "%s: %s", pwfile, strerror(errno));
    }
    int status = 0;
    char *init_argv[] = {initdb, "-D", s->dir, "-U", PG_USER, "-A", "scram-sha-256", pwopt,
                         "-E", "UTF8", "--locale=C", "--no-sync", NULL};
    pid_t init_pid = spawn(init_argv, log, true, &status);
    unlink(pwfile);
    if (init_pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return say(message, size, "initdb failed (see %s)", log);
    s->port = free_port();
    if (s->port <= 0) return say(message, size, "no free loopback port");
    char port[16];
    snprintf(port, sizeof port, "%d", s->port);
    /* Durable as PostgreSQL ships (fsync, synchronous_commit and full_page_writes
       on); memory and checkpoints sized for a write-heavy run. */
    char *run_argv[] = {postgres, "-D", s->dir, "-p", port,
                        "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
                        "-c", "fsync=on", "-c", "synchronous_commit=on",
                        "-c", "full_page_writes=on", "-c", "shared_buffers=512MB",
                        "-c", "wal_buffers=64MB", "-c", "max_wal_size=16GB",
                        "-c", "checkpoint_timeout=1h", "-c", "max_connections=20", NULL};
    s->pid = spawn(run_argv, log, false, NULL);
    if (s->pid < 0) {
        s->pid = 0;
        return say(message, size, "cannot start postgres: %s", strerror(errno));
    }
    char info[256];
    conninfo(s, "postgres", info, sizeof info);
    for (int tries = 0; tries < PG_START_SECONDS_MAX * 10; tries++) {
        if (PQping(info) == PQPING_OK) {
            PGconn *c = PQconnectdb(info);
            if (PQstatus(c) == CONNECTION_OK)
                snprintf(s->version, sizeof s->version, "%d.%d", PQserverVersion(c) / 10000,
                         PQserverVersion(c) % 10000);
            PQfinish(c);
            return true;
        }
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            return say(message, size, "postgres exited at start (see %s)", log);
        }
        nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL);
    }
    pg_server_stop(s);
    return say(message, size, "postgres did not answer within %d s (see %s)",
               PG_START_SECONDS_MAX, log);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void pg_server_stop(struct pg_server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGINT); /* fast shutdown */
        int status;
        while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR) {}
        s->pid = 0;
    }
    if (s->dir[0] != '\0') {
        nftw(s->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        char log[PG_PATH_BYTES + 8];
        snprintf(log, sizeof log, "%.*s/pg.log", (int)(strlen(s->dir) - 3), s->dir);
        unlink(log);
        s->dir[0] = '\0';
    }
}

/* ---------------------------------------------------------------- a database */

static bool exec_ok(PGconn *c, const char *sql, char *message, size_t size)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) say(message, size, "%.60s…: %s", sql, PQerrorMessage(c));
    PQclear(r);
    return ok;
}

static char *file_read(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    char *text = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)n + 1)) != NULL) {
            if (fread(text, 1, (size_t)n, f) != (size_t)n) {
                free(text);
                text = NULL;
            } else {
                text[n] = '\0';
            }
        }
    }
    fclose(f);
    return text;
}

struct pg_ledger *pg_ledger_open(const struct pg_server *s, const char *name,
                                 enum pg_design design, const char *sql_path, uint32_t count,
                                 int32_t limited, pg_account_fn account, char *message,
                                 size_t size)
{
    char info[256], sql[256];
    conninfo(s, "postgres", info, sizeof info);
    PGconn *admin = PQconnectdb(info);
    if (PQstatus(admin) != CONNECTION_OK) {
        say(message, size, "connecting: %s", PQerrorMessage(admin));
        PQfinish(admin);
        return NULL;
    }
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", name);
    bool ok = exec_ok(admin, sql, message, size);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    ok = ok && exec_ok(admin, sql, message, size);
    PQfinish(admin);
    if (!ok) return NULL;
    struct pg_ledger *l = calloc(1, sizeof *l);
    char *schema = file_read(sql_path);
    if (l == NULL || schema == NULL) {
        say(message, size, "%s: %s", sql_path, strerror(errno));
        free(l);
        free(schema);
        return NULL;
    }
    l->design = design;
    l->account = account;
    conninfo(s, name, info, sizeof info);
    l->conn = PQconnectdb(info);
    ok = PQstatus(l->conn) == CONNECTION_OK ||
         say(message, size, "connecting: %s", PQerrorMessage(l->conn));
    ok = ok && exec_ok(l->conn, schema, message, size);
    free(schema);
    snprintf(sql, sizeof sql, "INSERT INTO accounts (id) SELECT generate_series(0, %u)",
             count - 1);
    ok = ok && exec_ok(l->conn, sql, message, size);
    if (ok && limited >= 0) {
        snprintf(sql, sizeof sql, "INSERT INTO accounts (id, flags) VALUES (%d, 1)", limited);
        ok = exec_ok(l->conn, sql, message, size);
    }
    ok = ok && exec_ok(l->conn, "VACUUM ANALYZE accounts", message, size);
    if (ok && design == PG_UPDATE) {
        static const struct {
            const char *name, *sql;
            int params;
        } statements[] = {{"s_transfer", s_transfer, 6}, {"s_resolve", s_resolve, 4},
                          {"s_undo", s_undo, 1}};
        for (size_t i = 0; ok && i < sizeof statements / sizeof statements[0]; i++) {
            PGresult *r = PQprepare(l->conn, statements[i].name, statements[i].sql,
                                    statements[i].params, NULL);
            ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
                 say(message, size, "preparing %s: %s", statements[i].name,
                     PQerrorMessage(l->conn));
            PQclear(r);
        }
    }
    if (!ok) {
        pg_ledger_close(l);
        return NULL;
    }
    return l;
}

void pg_ledger_close(struct pg_ledger *l)
{
    if (l == NULL) return;
    PQfinish(l->conn);
    free(l->text);
    free(l);
}

/* ---------------------------------------------------------------- func: one call a batch */

/* Appends to l->text, growing it; false when memory runs out. */
static bool text_append(struct pg_ledger *l, size_t *used, const char *s, size_t n)
{
    if (*used + n + 1 > l->text_capacity) {
        size_t capacity = l->text_capacity ? l->text_capacity : 1 << 16;
        while (*used + n + 1 > capacity) capacity *= 2;
        char *p = realloc(l->text, capacity);
        if (p == NULL) return false;
        l->text = p;
        l->text_capacity = capacity;
    }
    memcpy(l->text + *used, s, n);
    *used += n;
    l->text[*used] = '\0';
    return true;
}

/* An element of an array literal: a number, NULL, or a quoted text. */
static bool element(struct pg_ledger *l, size_t *used, bool first, const char *text, bool quote)
{
    if (!first && !text_append(l, used, ",", 1)) return false;
    if (text == NULL) return text_append(l, used, "NULL", 4);
    if (!quote) return text_append(l, used, text, strlen(text));
    if (!text_append(l, used, "\"", 1)) return false;
    for (const char *p = text; *p != '\0'; p++) {
        if ((*p == '"' || *p == '\\') && !text_append(l, used, "\\", 1)) return false;
        if (!text_append(l, used, p, 1)) return false;
    }
    return text_append(l, used, "\"", 1);
}

static int op_type(const struct ledger_op *op)
{
    return op->type == LEDGER_OP_POST ? PG_OP_POST
           : op->type == LEDGER_OP_VOID ? PG_OP_VOID
                                        : PG_OP_TRANSFER;
}

static int op_flags(const struct ledger_op *op)
{
    return ((op->flags & LEDGER_OP_PENDING) ? PG_FLAG_PENDING : 0) |
           ((op->flags & LEDGER_OP_LINKED) ? PG_FLAG_LINKED : 0) |
           (op->type == LEDGER_OP_POST && (op->flags & LEDGER_OP_HAS_AMOUNT) ? PG_FLAG_AMOUNT
                                                                               : 0);
}

/* The number of column `column` of op as text into buf, or NULL for SQL NULL. */
static const char *op_field(struct pg_ledger *l, const struct ledger_op *op, int column,
                            char buf[PG_NUMBER_BYTES])
{
    bool transfer = op->type == LEDGER_OP_TRANSFER;
    int64_t v;
    switch (column) {
    case 0: v = op_type(op); break;
    case 2:
        if (!transfer) return NULL;
        v = l->account(op->debit);
        break;
    case 3:
        if (!transfer) return NULL;
        v = l->account(op->credit);
        break;
    case 4:
        if (!(op->flags & LEDGER_OP_HAS_AMOUNT)) return NULL;
        v = op->amount;
        break;
    case 5: v = op_flags(op); break;
    case 7:
        if (!transfer || !(op->flags & LEDGER_OP_HAS_EXPIRES)) return NULL;
        v = op->expires;
        break;
    default: return NULL;
    }
    snprintf(buf, PG_NUMBER_BYTES, "%lld", (long long)v);
    return buf;
}

static bool apply_func(struct pg_ledger *l, const struct ledger_op *ops, size_t count,
                       int64_t now, enum ledger_status *statuses, char *message, size_t size)
{
    /* Eight arrays, one after the other in l->text, NUL-separated. */
    size_t used = 0, starts[8];
    for (int column = 0; column < 8; column++) {
        starts[column] = used;
        if (!text_append(l, &used, "{", 1)) return say(message, size, "out of memory");
        for (size_t i = 0; i < count; i++) {
            char buf[PG_NUMBER_BYTES];
            const struct ledger_op *op = &ops[i];
            const char *text = column == 1   ? op->id
                               : column == 6 ? (op->type == LEDGER_OP_TRANSFER ? NULL : op->pending_id)
                                             : op_field(l, op, column, buf);
            if (!element(l, &used, i == 0, text, column == 1 || column == 6))
                return say(message, size, "out of memory");
        }
        if (!text_append(l, &used, "}", 1)) return say(message, size, "out of memory");
        used++; /* past the NUL text_append keeps after the text: the array's end */
    }
    const char *values[9];
    for (int column = 0; column < 8; column++) values[column] = l->text + starts[column];
    char now_text[PG_NUMBER_BYTES];
    snprintf(now_text, sizeof now_text, "%lld", (long long)now);
    values[8] = now_text;
    PGresult *r = PQexecParams(l->conn,
                               "SELECT ledger_apply($1::smallint[], $2::text[], $3::integer[], "
                               "$4::integer[], $5::bigint[], $6::integer[], $7::text[], "
                               "$8::bigint[], $9::bigint)",
                               9, NULL, values, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (!ok) say(message, size, "ledger_apply: %s", PQerrorMessage(l->conn));
    const char *p = ok ? PQgetvalue(r, 0, 0) : "";
    if (ok && *p == '{') p++;
    for (size_t i = 0; ok && i < count; i++) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v >= LEDGER_STATUS_COUNT) {
            ok = say(message, size, "ledger_apply: unreadable statuses");
            break;
        }
        statuses[i] = (enum ledger_status)v;
        p = end + 1;
    }
    PQclear(r);
    return ok;
}

/* ---------------------------------------------------------------- update: a pipeline */

/*
 * A pipeline in flight: the syncs sent and not yet read back, and the first
 * error's text (in pipeline mode PQerrorMessage says nothing of it).
 */
struct pipeline {
    PGconn *c;
    int syncs;
    char why[PG_MESSAGE_BYTES];
};

/* Reads one statement's result: its status (a one-cell SELECT, or 0 for a command), or -1. */
static int pipeline_status(struct pipeline *p, bool command)
{
    PGresult *r = PQgetResult(p->c);
    int status = -1;
    if (r != NULL) {
        ExecStatusType st = PQresultStatus(r);
        if (command && st == PGRES_COMMAND_OK) status = 0;
        if (!command && st == PGRES_TUPLES_OK && PQntuples(r) == 1)
            status = atoi(PQgetvalue(r, 0, 0));
        if (status < 0 && p->why[0] == '\0')
            snprintf(p->why, sizeof p->why, "%s", st == PGRES_PIPELINE_ABORTED
                                                      ? "an earlier statement failed"
                                                      : PQresultErrorMessage(r));
        if (st == PGRES_PIPELINE_SYNC) p->syncs--; /* a sync where a result was due */
        PQclear(r);
        if (st != PGRES_PIPELINE_SYNC) {
            PGresult *end = PQgetResult(p->c); /* NULL: the end of this statement's results */
            if (end != NULL) {
                PQclear(end);
                status = -1;
            }
        }
    } else if (p->why[0] == '\0') {
        snprintf(p->why, sizeof p->why, "%s", PQerrorMessage(p->c));
    }
    return status;
}

static bool pipeline_sync(struct pipeline *p)
{
    if (PQpipelineSync(p->c) != 1) return false;
    p->syncs++;
    return true;
}

static bool pipeline_synced(struct pipeline *p)
{
    PGresult *r = PQgetResult(p->c);
    bool ok = r != NULL && PQresultStatus(r) == PGRES_PIPELINE_SYNC;
    if (ok) p->syncs--;
    PQclear(r);
    return ok;
}

/* After an error: reads what is left up to the last sync sent, leaves the mode, rolls back. */
static void pipeline_abandon(struct pipeline *p)
{
    while (p->syncs > 0) {
        PGresult *r = PQgetResult(p->c);
        if (r == NULL) {
            if (PQstatus(p->c) != CONNECTION_OK) break;
            continue;
        }
        if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) p->syncs--;
        PQclear(r);
    }
    PQexitPipelineMode(p->c);
    PQclear(PQexec(p->c, "ROLLBACK"));
}

static bool send_op(struct pg_ledger *l, const struct ledger_op *op, char numbers[4][PG_NUMBER_BYTES])
{
    if (op->type == LEDGER_OP_TRANSFER) {
        snprintf(numbers[0], PG_NUMBER_BYTES, "%d", l->account(op->debit));
        snprintf(numbers[1], PG_NUMBER_BYTES, "%d", l->account(op->credit));
        snprintf(numbers[2], PG_NUMBER_BYTES, "%lld", (long long)op->amount);
        snprintf(numbers[3], PG_NUMBER_BYTES, "%d", op_flags(op));
        char expires[PG_NUMBER_BYTES];
        snprintf(expires, sizeof expires, "%lld", (long long)op->expires);
        const char *values[6] = {op->id, numbers[0], numbers[1], numbers[2], numbers[3],
                                 (op->flags & LEDGER_OP_HAS_EXPIRES) ? expires : NULL};
        return PQsendQueryPrepared(l->conn, "s_transfer", 6, values, NULL, NULL, 0) == 1;
    }
    snprintf(numbers[0], PG_NUMBER_BYTES, "%d", op_type(op));
    snprintf(numbers[1], PG_NUMBER_BYTES, "%lld", (long long)op->amount);
    const char *values[4] = {op->id, op->pending_id, numbers[0],
                             (op->flags & LEDGER_OP_HAS_AMOUNT) ? numbers[1] : NULL};
    return PQsendQueryPrepared(l->conn, "s_resolve", 4, values, NULL, NULL, 0) == 1;
}

static bool apply_update(struct pg_ledger *l, const struct ledger_op *ops, size_t count,
                         int64_t now, enum ledger_status *statuses, char *message, size_t size)
{
    struct pipeline p = {.c = l->conn};
    bool said = false; /* message names the operation that failed */
    if (count == 0) return true;
    if (PQenterPipelineMode(p.c) != 1) return say(message, size, "pipeline: %s", PQerrorMessage(p.c));
    char now_text[PG_NUMBER_BYTES];
    snprintf(now_text, sizeof now_text, "%lld", (long long)now);
    const char *expire_values[1] = {now_text};
    bool ok = PQsendQueryParams(p.c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) == 1 &&
              PQsendQueryParams(p.c, "SELECT ledger_expire($1::bigint)", 1, NULL, expire_values,
                                NULL, NULL, 0) == 1;
    for (size_t start = 0; ok && start < count; start += PG_PIPELINE_CHUNK) {
        size_t end = start + PG_PIPELINE_CHUNK < count ? start + PG_PIPELINE_CHUNK : count;
        for (size_t i = start; ok && i < end; i++) {
            char numbers[4][PG_NUMBER_BYTES];
            ok = send_op(l, &ops[i], numbers);
        }
        ok = ok && pipeline_sync(&p);
        if (ok && start == 0) ok = pipeline_status(&p, true) == 0 && pipeline_status(&p, false) >= 0;
        for (size_t i = start; ok && i < end; i++) {
            int s = pipeline_status(&p, false);
            if (s < 0 || s >= LEDGER_STATUS_COUNT) {
                if (s >= LEDGER_STATUS_COUNT) snprintf(p.why, sizeof p.why, "status %d", s);
                ok = say(message, size, "%s: %s", ops[i].id, p.why);
                said = true;
            } else {
                statuses[i] = (enum ledger_status)s;
            }
        }
        ok = ok && pipeline_synced(&p);
    }
    /* A chain that failed part-way: undo the members that held, before the COMMIT. */
    size_t undone = 0;
    for (size_t i = 0; ok && i < count;) {
        size_t j = i;
        while (j + 1 < count && (ops[j].flags & LEDGER_OP_LINKED)) j++;
        bool failed = false;
        for (size_t k = i; k <= j; k++)
            failed |= statuses[k] != LEDGER_CREATED && statuses[k] != LEDGER_EXISTS;
        for (size_t k = i; failed && j > i && k <= j; k++) {
            if (statuses[k] == LEDGER_CREATED) {
                const char *values[1] = {ops[k].id};
                ok = ok && PQsendQueryPrepared(p.c, "s_undo", 1, values, NULL, NULL, 0) == 1;
                undone++;
            }
            if (statuses[k] == LEDGER_CREATED || statuses[k] == LEDGER_EXISTS)
                statuses[k] = LEDGER_LINKED_EVENT_FAILED;
        }
        i = j + 1;
    }
    ok = ok && PQsendQueryParams(p.c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) == 1;
    ok = ok && pipeline_sync(&p);
    for (size_t k = 0; ok && k < undone; k++) ok = pipeline_status(&p, false) == 1;
    ok = ok && pipeline_status(&p, true) == 0;
    ok = ok && pipeline_synced(&p);
    if (!ok) {
        if (!said) say(message, size, "batch: %s", p.why[0] ? p.why : PQerrorMessage(p.c));
        pipeline_abandon(&p);
        return false;
    }
    if (PQexitPipelineMode(p.c) != 1) return say(message, size, "pipeline: %s", PQerrorMessage(p.c));
    return true;
}

bool pg_ledger_apply(struct pg_ledger *l, const struct ledger_op *ops, size_t count, int64_t now,
                     enum ledger_status *statuses, char *message, size_t size)
{
    for (size_t i = 0; i < count; i++)
        if (ops[i].type != LEDGER_OP_TRANSFER && ops[i].type != LEDGER_OP_POST &&
            ops[i].type != LEDGER_OP_VOID)
            return say(message, size, "op %zu: only transfers, posts and voids", i);
    return l->design == PG_FUNC ? apply_func(l, ops, count, now, statuses, message, size)
                                : apply_update(l, ops, count, now, statuses, message, size);
}

/* ---------------------------------------------------------------- reading back */

static PGresult *query(struct pg_ledger *l, const char *sql, int n, const char *const *values,
                       char *message, size_t size)
{
    PGresult *r = PQexecParams(l->conn, sql, n, NULL, values, NULL, NULL, 0);
    if (PQresultStatus(r) == PGRES_TUPLES_OK) return r;
    say(message, size, "%.40s…: %s", sql, PQerrorMessage(l->conn));
    PQclear(r);
    return NULL;
}

bool pg_ledger_expire(struct pg_ledger *l, int64_t now, uint64_t *expired, char *message,
                      size_t size)
{
    char text[PG_NUMBER_BYTES];
    snprintf(text, sizeof text, "%lld", (long long)now);
    const char *values[1] = {text};
    PGresult *r = query(l, "SELECT ledger_expire($1)", 1, values, message, size);
    if (r == NULL) return false;
    *expired = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return true;
}

bool pg_ledger_balances(struct pg_ledger *l, struct pg_balance *out, uint32_t count,
                        char *message, size_t size)
{
    PGresult *r = query(l, "SELECT id, debits_pending, debits_posted, credits_pending, "
                           "credits_posted FROM accounts ORDER BY id",
                        0, NULL, message, size);
    if (r == NULL) return false;
    for (int i = 0; i < PQntuples(r); i++) {
        long id = strtol(PQgetvalue(r, i, 0), NULL, 10);
        if (id < 0 || (uint32_t)id >= count) continue;
        out[id] = (struct pg_balance){
            .debits_pending = strtoll(PQgetvalue(r, i, 1), NULL, 10),
            .debits_posted = strtoll(PQgetvalue(r, i, 2), NULL, 10),
            .credits_pending = strtoll(PQgetvalue(r, i, 3), NULL, 10),
            .credits_posted = strtoll(PQgetvalue(r, i, 4), NULL, 10),
        };
    }
    PQclear(r);
    return true;
}

bool pg_ledger_state(struct pg_ledger *l, const char *id, int *state, char *message, size_t size)
{
    const char *values[1] = {id};
    PGresult *r = query(l, "SELECT state FROM transfers WHERE id = $1", 1, values, message, size);
    if (r == NULL) return false;
    *state = PQntuples(r) == 1 ? atoi(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    return true;
}

bool pg_ledger_bytes(struct pg_ledger *l, int64_t *bytes, char *message, size_t size)
{
    if (!exec_ok(l->conn, "CHECKPOINT", message, size)) return false;
    PGresult *r = query(l, "SELECT pg_database_size(current_database())", 0, NULL, message, size);
    if (r == NULL) return false;
    *bytes = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return true;
}
