/*
 * pg.h — concord-bench's PostgreSQL side: a private PostgreSQL 15 server
 * started in a temporary directory on a loopback port, and the two SQL
 * ledger designs of bench/pg/ledger.sql driven with the bench's own batches
 * (docs/PERFORMANCE.md, "concord against PostgreSQL").
 *
 * The server runs with PostgreSQL's durable defaults (fsync=on,
 * synchronous_commit=on, full_page_writes=on); one transaction, one
 * durable commit per batch, as concord. Built only when libpq is found
 * (CONCORD_BENCH_PG).
 */
#ifndef CONCORD_BENCH_PG_H
#define CONCORD_BENCH_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ledger/ledger.h"

#define PG_PATH_BYTES 4096
#define PG_MESSAGE_BYTES 512

/* The two designs (bench/pg/ledger.sql). */
enum pg_design { PG_FUNC = 0, PG_UPDATE, PG_DESIGN_COUNT };
extern const char *const pg_design_names[PG_DESIGN_COUNT]; /* "pg-func", "pg-update" */

struct pg_server {
    char dir[PG_PATH_BYTES];  /* the cluster's data directory */
    int port;                 /* on 127.0.0.1 */
    char password[65];        /* the superuser's, random: other local users cannot log in */
    pid_t pid;                /* the postmaster; 0 when not running */
    char version[64];
};

/*
 * Creates a cluster under parent (initdb) and starts its server; as root,
 * both run as the user `postgres` (PostgreSQL refuses root). false with a
 * message when PostgreSQL 15 is missing or does not start.
 */
bool pg_server_start(struct pg_server *s, const char *parent, char *message, size_t size);
void pg_server_stop(struct pg_server *s);

/* The account an op names, as the integer PostgreSQL keys it by; -1 when none. */
typedef int32_t (*pg_account_fn)(const char *id);

struct pg_ledger;

/*
 * A fresh database `name` on the server, with ledger.sql loaded (sql_path)
 * and the design's statements prepared; accounts 0 … count−1 and, when
 * limited ≥ 0, account `limited` flagged debits_must_not_exceed_credits.
 */
struct pg_ledger *pg_ledger_open(const struct pg_server *s, const char *name,
                                 enum pg_design design, const char *sql_path, uint32_t count,
                                 int32_t limited, pg_account_fn account, char *message,
                                 size_t size);
void pg_ledger_close(struct pg_ledger *l);

/*
 * Applies ops[0 … count) (transfers, posts and voids) as one transaction
 * with one durable commit, the status of each into statuses. As concord does
 * at the start of every batch, the pendings due at now (ns) expire first, in
 * the same transaction.
 */
bool pg_ledger_apply(struct pg_ledger *l, const struct ledger_op *ops, size_t count, int64_t now,
                     enum ledger_status *statuses, char *message, size_t size);
/* Expires the pendings due at now (ns); *expired: how many. */
bool pg_ledger_expire(struct pg_ledger *l, int64_t now, uint64_t *expired, char *message,
                      size_t size);

/* One account's balances, for comparing with concord's. */
struct pg_balance {
    int64_t debits_pending, debits_posted, credits_pending, credits_posted;
};
/* Every account's balances, by account number into out[0 … count). */
bool pg_ledger_balances(struct pg_ledger *l, struct pg_balance *out, uint32_t count,
                        char *message, size_t size);
/* The state of transfer id (1 posted, 2 pending, 3 voided, 4 expired), 0 when absent. */
bool pg_ledger_state(struct pg_ledger *l, const char *id, int *state, char *message, size_t size);
/* The database's size on disk after a checkpoint, in bytes. */
bool pg_ledger_bytes(struct pg_ledger *l, int64_t *bytes, char *message, size_t size);

#endif
