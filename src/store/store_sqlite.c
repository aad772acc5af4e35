/*
 * store_sqlite.c — the embedded store: one SQLite file in WAL mode.
 *
 * Durability: journal_mode=WAL with synchronous=FULL, so a commit returns
 * only after the WAL is on disk; BEGIN IMMEDIATE takes the write lock at the
 * start of a batch; a busy timeout lets a CLI and a server share the file.
 * Every statement is prepared once, when the connection opens, and kept.
 *
 * Schema (migration 1; PRAGMA user_version holds the version and
 * PRAGMA application_id marks the file as concord's):
 *
 *   meta(key, value)                 the ledger's last timestamp
 *   units(code, scale, name, timestamp)
 *   accounts(seq, id, unit, name, owner, flags,
 *            debits_pending, debits_posted, credits_pending, credits_posted,
 *            timestamp, history_seq)
 *   transfers(seq, id, debit, credit, amount, effect_posted, effect_pending,
 *             flags, state, reason, pending_id, kind, cond, memo, meta,
 *             expires, date, timestamp, debit_prev, credit_prev)
 *
 * Transfers are appended in timestamp order with seq = the previous seq + 1,
 * so seq orders them in time and new rows fill the table's last pages only.
 *
 * An account's transfers form a chain, newest first: the account's
 * history_seq names its latest transfer row, and each row names, for its
 * debit and for its credit account, the row before it on that account
 * (debit_prev, credit_prev; 0 ends the chain). This is the index by account
 * and time. A B-tree index keyed by account would be rewritten at one leaf
 * page per account a batch touches — thousands of scattered pages per
 * commit, each written to the WAL — where the chain costs two integers in a
 * row that is appended anyway. History and balances as of a date walk the
 * chain: a lookup by row number per transfer of that account.
 *
 * The audit log (migration 3): events(seq, time, actor, body, leaf, ts_last),
 * one row per committed batch, seq from 1 with no gap; body is the event's
 * canonical JSON, or that deflated (zlib) when the writer gave it so (it
 * does from CONCORD_LOG_DEFLATE_BYTES_MIN on), inflated as it is read; ts_last is the
 * ledger's last timestamp after the batch, indexed, so the event that
 * stamped a transfer is the first whose ts_last is ≥ its timestamp; and
 * checkpoints(size, time, root, frontier, note), one per event, the latest
 * holding the tree's frontier for the next append. Also tokens(id, hash,
 * user, role, party, created, expires, revoked): access tokens, the digest
 * of each secret only. compare_tables() attaches another database (the
 * ledger, from a replay) and compares every ledger table and the tokens
 * table with it in key order.
 *
 * Indexes: transfers by id (the idempotency key), by effective date, and a
 * partial index of the pending transfers that can expire. Account balances
 * are kept on the account rows; a balance as of a date is the sum of the
 * effects of the account's rows dated up to it.
 */
#include <assert.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "store/store.h"

#define STORE_APPLICATION_ID 0x436f6e63 /* "Conc" */
#define STORE_CACHE_KIB 65536

static const char *const migrations[] = {
    /* 1: the ledger */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT, WITHOUT ROWID;"
    "INSERT INTO meta VALUES ('timestamp_last', 0);"
    "CREATE TABLE units (code TEXT PRIMARY KEY, scale INTEGER NOT NULL, name TEXT,"
    " timestamp INTEGER NOT NULL) STRICT, WITHOUT ROWID;"
    "CREATE TABLE accounts (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " unit TEXT NOT NULL, name TEXT, owner TEXT, flags INTEGER NOT NULL,"
    " debits_pending INTEGER NOT NULL, debits_posted INTEGER NOT NULL,"
    " credits_pending INTEGER NOT NULL, credits_posted INTEGER NOT NULL,"
    " timestamp INTEGER NOT NULL, history_seq INTEGER NOT NULL) STRICT;"
    "CREATE TABLE transfers (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " debit INTEGER NOT NULL, credit INTEGER NOT NULL, amount INTEGER NOT NULL,"
    " effect_posted INTEGER NOT NULL, effect_pending INTEGER NOT NULL,"
    " flags INTEGER NOT NULL, state INTEGER NOT NULL, reason INTEGER NOT NULL,"
    " pending_id TEXT, kind TEXT, cond TEXT, memo TEXT, meta TEXT, expires INTEGER,"
    " date INTEGER NOT NULL, timestamp INTEGER NOT NULL,"
    " debit_prev INTEGER NOT NULL, credit_prev INTEGER NOT NULL) STRICT;"
    "CREATE INDEX transfers_date ON transfers (date);"
    "CREATE INDEX transfers_expiring ON transfers (expires) WHERE state = 2 AND expires IS NOT NULL;",
    /* 2: conditions, the pending transfers they gate, requirements, rates */
    "CREATE TABLE conditions (seq INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, title TEXT,"
    " authority TEXT, when_expr TEXT, probability REAL, state INTEGER NOT NULL,"
    " resolved_at INTEGER NOT NULL, timestamp INTEGER NOT NULL) STRICT;"
    "CREATE TABLE gates (condition TEXT NOT NULL, transfer INTEGER NOT NULL,"
    " PRIMARY KEY (condition, transfer)) STRICT, WITHOUT ROWID;"
    "CREATE TABLE requirements (id TEXT PRIMARY KEY, title TEXT, account TEXT NOT NULL,"
    " unit TEXT NOT NULL, measure INTEGER NOT NULL, target INTEGER NOT NULL, due INTEGER,"
    " timestamp INTEGER NOT NULL) STRICT, WITHOUT ROWID;"
    "CREATE TABLE rates (unit TEXT NOT NULL, to_unit TEXT NOT NULL, date INTEGER NOT NULL,"
    " rate TEXT NOT NULL, timestamp INTEGER NOT NULL, PRIMARY KEY (unit, to_unit, date))"
    " STRICT, WITHOUT ROWID;"
    "CREATE INDEX transfers_pending ON transfers (seq) WHERE state = 2;",
    /* 3: parties, guarded accounts and their approvals, the audit log, access tokens */
    "CREATE TABLE parties (id TEXT PRIMARY KEY, name TEXT, kind TEXT NOT NULL,"
    " timestamp INTEGER NOT NULL) STRICT, WITHOUT ROWID;"
    "ALTER TABLE accounts ADD COLUMN approvers TEXT;"
    "ALTER TABLE accounts ADD COLUMN approvals_required INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE approvals (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " pending_id TEXT NOT NULL, user TEXT NOT NULL, decision INTEGER NOT NULL,"
    " timestamp INTEGER NOT NULL) STRICT;"
    "CREATE INDEX approvals_pending ON approvals (pending_id);"
    "CREATE TABLE events (seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, actor TEXT NOT NULL,"
    " body BLOB NOT NULL, leaf BLOB NOT NULL, ts_last INTEGER NOT NULL) STRICT;"
    "CREATE INDEX events_ts_last ON events (ts_last);"
    "CREATE TABLE checkpoints (size INTEGER PRIMARY KEY, time INTEGER NOT NULL,"
    " root BLOB NOT NULL, frontier BLOB NOT NULL, note TEXT NOT NULL) STRICT;"
    "CREATE TABLE tokens (id TEXT PRIMARY KEY, hash BLOB NOT NULL, user TEXT NOT NULL,"
    " role TEXT NOT NULL, party TEXT, created INTEGER NOT NULL, expires INTEGER,"
    " revoked INTEGER) STRICT, WITHOUT ROWID;",
    /* 4: no index by effective date: histories and balances as of a date walk the
       accounts' chains, and reports scan; the index cost every insert a B-tree
       entry (W1: 6-7% of the throughput, 19 bytes per transfer) */
    "DROP INDEX transfers_date;",
};
#define MIGRATIONS_COUNT ((int)(sizeof migrations / sizeof migrations[0]))

#define TRANSFER_COLUMNS                                                                      \
    "t.seq, t.id, d.id, c.id, d.unit, t.amount, t.effect_posted, t.effect_pending, t.flags, " \
    "t.state, t.reason, t.pending_id, t.kind, t.cond, t.memo, t.meta, t.expires, t.date, "     \
    "t.timestamp FROM transfers t JOIN accounts d ON d.seq = t.debit "                         \
    "JOIN accounts c ON c.seq = t.credit "

#define ACCOUNT_COLUMNS                                                                   \
    "seq, id, unit, name, owner, flags, debits_pending, debits_posted, credits_pending, " \
    "credits_posted, timestamp, history_seq, approvers, approvals_required FROM accounts "

enum stmt {
    S_BEGIN, S_COMMIT, S_ROLLBACK, S_SAVEPOINT, S_RELEASE, S_ROLLBACK_TO,
    S_TOKEN_GET, S_TOKENS_LIST, S_TOKEN_INSERT, S_TOKEN_REVOKE,
    S_UNIT_GET, S_UNITS_LIST, S_ACCOUNT_GET, S_ACCOUNTS_LIST, S_ACCOUNTS_ALL, S_TRANSFER_GET,
    S_TRANSFERS_ID_RANGE,
    S_DUE_PENDING, S_TIMESTAMP_GET, S_TIMESTAMP_SET,
    S_UNIT_INSERT, S_ACCOUNT_INSERT, S_ACCOUNT_UPDATE, S_TRANSFER_INSERT, S_TRANSFER_STATE,
    S_TRANSFER_BY_SEQ, S_CHAIN_STEP, S_PREFIX_NOW, S_PREFIX_AT, S_CHECK_SCAN,
    S_MAX_TRANSFER_SEQ, S_MAX_ACCOUNT_SEQ,
    S_CONDITIONS_ALL, S_CONDITION_INSERT, S_CONDITION_UPDATE, S_GATE_INSERT, S_GATED_PENDING,
    S_REQUIREMENTS_ALL, S_REQUIREMENT_INSERT, S_RATES_ALL, S_RATE_INSERT, S_PENDING_ALL,
    S_PENDING_DATE, S_ACCOUNTS_IN, S_TRANSFERS_IN, S_DATA_VERSION,
    S_PARTY_GET, S_PARTIES_LIST, S_PARTY_INSERT, S_APPROVALS_OF, S_APPROVAL_GET,
    S_APPROVAL_INSERT,
    S_EVENT_INSERT, S_CHECKPOINT_INSERT, S_EVENTS_LAST, S_EVENTS_AFTER, S_LEAVES, S_EVENT_AT,
    S_CHECKPOINT_LATEST, S_CHECKPOINT_GET, S_CHECKPOINTS_ALL,
    S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_DATA_VERSION] = "PRAGMA data_version",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_SAVEPOINT] = "SAVEPOINT nested",
    [S_RELEASE] = "RELEASE nested",
    [S_ROLLBACK_TO] = "ROLLBACK TO nested",
    [S_UNIT_GET] = "SELECT code, scale, name, timestamp FROM units WHERE code = ?1",
    [S_UNITS_LIST] = "SELECT code, scale, name, timestamp FROM units ORDER BY code",
    [S_ACCOUNT_GET] = "SELECT " ACCOUNT_COLUMNS "WHERE id = ?1",
    [S_ACCOUNTS_IN] = "SELECT " ACCOUNT_COLUMNS "WHERE id IN (SELECT value FROM json_each(?1))",
    /* A prefix covers ?3 and [?4, ?2): one index range from ?1 (the lower of the two). */
    [S_ACCOUNTS_LIST] = "SELECT " ACCOUNT_COLUMNS
                        "WHERE id >= ?1 AND id < ?2 AND (id = ?3 OR id >= ?4) AND id > ?5"
                        " ORDER BY id LIMIT ?6",
    [S_ACCOUNTS_ALL] = "SELECT " ACCOUNT_COLUMNS "ORDER BY seq",
    [S_TRANSFER_GET] = "SELECT " TRANSFER_COLUMNS "WHERE t.id = ?1",
    [S_TRANSFERS_ID_RANGE] = "SELECT " TRANSFER_COLUMNS "WHERE t.id >= ?1 AND t.id < ?2 ORDER BY t.id",
    [S_TRANSFERS_IN] = "SELECT " TRANSFER_COLUMNS "WHERE t.id IN (SELECT value FROM json_each(?1))",
    [S_DUE_PENDING] = "SELECT " TRANSFER_COLUMNS
                      "WHERE t.state = 2 AND t.expires IS NOT NULL AND t.expires <= ?1",
    [S_TIMESTAMP_GET] = "SELECT value FROM meta WHERE key = 'timestamp_last'",
    [S_TIMESTAMP_SET] = "UPDATE meta SET value = ?1 WHERE key = 'timestamp_last'",
    [S_UNIT_INSERT] = "INSERT INTO units (code, scale, name, timestamp) VALUES (?1, ?2, ?3, ?4)",
    [S_ACCOUNT_INSERT] = "INSERT INTO accounts (seq, id, unit, name, owner, flags, debits_pending,"
                         " debits_posted, credits_pending, credits_posted, timestamp, history_seq,"
                         " approvers, approvals_required)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    [S_ACCOUNT_UPDATE] = "UPDATE accounts SET debits_pending = ?2, debits_posted = ?3,"
                         " credits_pending = ?4, credits_posted = ?5, history_seq = ?6"
                         " WHERE seq = ?1",
    [S_TRANSFER_INSERT] = "INSERT INTO transfers (seq, id, debit, credit, amount, effect_posted,"
                          " effect_pending, flags, state, reason, pending_id, kind, cond, memo,"
                          " meta, expires, date, timestamp, debit_prev, credit_prev) VALUES (?1,"
                          " ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
                          " ?17, ?18, ?19, ?20)",
    [S_TRANSFER_STATE] = "UPDATE transfers SET state = ?2 WHERE seq = ?1",
    [S_TRANSFER_BY_SEQ] = "SELECT " TRANSFER_COLUMNS "WHERE t.seq = ?1",
    [S_CHAIN_STEP] = "SELECT debit, credit, debit_prev, credit_prev, date, effect_posted,"
                     " effect_pending, pending_id FROM transfers WHERE seq = ?1",
    [S_PREFIX_NOW] = "SELECT a.unit, u.scale, debits_pending, debits_posted, credits_pending,"
                     " credits_posted FROM accounts a JOIN units u ON u.code = a.unit"
                     " WHERE a.id >= ?1 AND a.id < ?2 AND (a.id = ?3 OR a.id >= ?4)"
                     " ORDER BY a.unit",
    [S_PREFIX_AT] = "SELECT a.unit, u.scale, a.seq, a.history_seq FROM accounts a"
                    " JOIN units u ON u.code = a.unit"
                    " WHERE a.id >= ?1 AND a.id < ?2 AND (a.id = ?3 OR a.id >= ?4)"
                    " ORDER BY a.unit",
    [S_CHECK_SCAN] = "SELECT seq, debit, credit, debit_prev, credit_prev, effect_posted,"
                     " effect_pending FROM transfers ORDER BY seq",
    [S_MAX_TRANSFER_SEQ] = "SELECT COALESCE(MAX(seq), 0) FROM transfers",
    [S_MAX_ACCOUNT_SEQ] = "SELECT COALESCE(MAX(seq), 0) FROM accounts",
    [S_CONDITIONS_ALL] = "SELECT name, title, authority, when_expr, probability, state,"
                         " resolved_at, timestamp FROM conditions ORDER BY seq",
    [S_CONDITION_INSERT] = "INSERT INTO conditions (name, title, authority, when_expr,"
                           " probability, state, resolved_at, timestamp)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_CONDITION_UPDATE] = "UPDATE conditions SET state = ?2, resolved_at = ?3 WHERE name = ?1",
    [S_GATE_INSERT] = "INSERT INTO gates (condition, transfer) VALUES (?1, ?2)",
    [S_GATED_PENDING] = "SELECT " TRANSFER_COLUMNS "JOIN gates g ON g.transfer = t.seq"
                        " WHERE g.condition = ?1 AND t.state = 2",
    [S_REQUIREMENTS_ALL] = "SELECT id, title, account, unit, measure, target, due, timestamp"
                           " FROM requirements ORDER BY timestamp",
    [S_REQUIREMENT_INSERT] = "INSERT INTO requirements (id, title, account, unit, measure,"
                             " target, due, timestamp) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_RATES_ALL] = "SELECT unit, to_unit, date, rate, timestamp FROM rates"
                    " ORDER BY unit, to_unit, date",
    [S_RATE_INSERT] = "INSERT INTO rates (unit, to_unit, date, rate, timestamp)"
                      " VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_TOKEN_GET] = "SELECT id, hash, user, role, party, created, expires, revoked FROM tokens"
                    " WHERE id = ?1",
    [S_TOKENS_LIST] = "SELECT id, hash, user, role, party, created, expires, revoked FROM tokens"
                      " ORDER BY created, id",
    [S_TOKEN_INSERT] = "INSERT INTO tokens (id, hash, user, role, party, created, expires, revoked)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL)",
    [S_TOKEN_REVOKE] = "UPDATE tokens SET revoked = ?2 WHERE id = ?1 AND revoked IS NULL",
    [S_PENDING_ALL] = "SELECT " TRANSFER_COLUMNS "WHERE t.state = 2 ORDER BY t.seq",
    [S_PENDING_DATE] = "SELECT p.date FROM transfers r JOIN transfers p ON p.id = r.pending_id"
                       " WHERE r.seq = ?1",
    [S_PARTY_GET] = "SELECT id, name, kind, timestamp FROM parties WHERE id = ?1",
    [S_PARTIES_LIST] = "SELECT id, name, kind, timestamp FROM parties ORDER BY id",
    [S_PARTY_INSERT] = "INSERT INTO parties (id, name, kind, timestamp) VALUES (?1, ?2, ?3, ?4)",
    [S_APPROVALS_OF] = "SELECT seq, id, pending_id, user, decision, timestamp FROM approvals"
                       " WHERE pending_id = ?1 ORDER BY seq",
    [S_APPROVAL_GET] = "SELECT seq, id, pending_id, user, decision, timestamp FROM approvals"
                       " WHERE id = ?1",
    [S_APPROVAL_INSERT] = "INSERT INTO approvals (id, pending_id, user, decision, timestamp)"
                          " VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_EVENT_INSERT] = "INSERT INTO events (seq, time, actor, body, leaf, ts_last)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_CHECKPOINT_INSERT] = "INSERT INTO checkpoints (size, time, root, frontier, note)"
                            " VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_EVENTS_LAST] = "SELECT COALESCE(MAX(seq), 0) FROM events",
    [S_EVENTS_AFTER] = "SELECT seq, time, ts_last, actor, body, leaf FROM events WHERE seq > ?1"
                       " ORDER BY seq LIMIT ?2",
    [S_LEAVES] = "SELECT seq, time, ts_last, actor, NULL, leaf FROM events WHERE seq <= ?1"
                 " ORDER BY seq",
    [S_EVENT_AT] = "SELECT seq, time, ts_last, actor, body, leaf FROM events WHERE ts_last >= ?1"
                   " ORDER BY ts_last, seq LIMIT 1",
    [S_CHECKPOINT_LATEST] = "SELECT size, time, root, frontier, note FROM checkpoints"
                            " ORDER BY size DESC LIMIT 1",
    [S_CHECKPOINT_GET] = "SELECT size, time, root, frontier, note FROM checkpoints WHERE size = ?1",
    [S_CHECKPOINTS_ALL] = "SELECT size, time, root, frontier, note FROM checkpoints ORDER BY size",
};

/* An account row with its strings in one block of its own. */
struct account_copy {
    struct ledger_account a;
    char *block;
};

struct store_sqlite {
    struct store base;
    sqlite3 *db;
    const char *path;
    sqlite3_stmt *stmt[S_COUNT];
    char *keys;            /* load_many: the ids as a JSON array, kept between batches */
    size_t keys_capacity;
    sqlite3_stmt *transfers_insert; /* STORE_INSERT_ROWS new transfers in one statement */
    char *inflated;                 /* an event body as read back, when stored deflated */
    size_t inflated_capacity;
    /*
     * Account rows as committed, kept between batches so that a batch reads
     * from SQLite only the accounts it has not seen (see "the account
     * cache"). pending: what the open transaction wrote, for the commit.
     */
    struct account_copy *cache;
    uint32_t cache_count, cache_capacity;
    struct strmap cache_by_id;
    int64_t cache_version;          /* PRAGMA data_version when the cache was last known good */
    struct account_copy *pending;
    uint32_t pending_count, pending_capacity;
    int depth;                      /* transactions open: 1 the outermost, more its parts */
    bool nested_applied;            /* a part's commit put rows in the cache before the whole's */
    const char **misses;            /* load_many: the ids the cache lacks */
    size_t misses_capacity;
};

static struct store_sqlite *sq(struct store *s) { return (struct store_sqlite *)s; }

/* A damaged file is named as such: it needs a restore, not a retry. */
static bool is_corrupt(int rc) { return (rc & 0xff) == SQLITE_CORRUPT; }

static enum cc_err db_error(struct store_sqlite *s, struct cc_error *err, const char *what)
{
    int code = sqlite3_errcode(s->db);
    /* What "database is locked" means here, and what to do about it (extended codes too). */
    if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
        return cc_error_set(err, CC_ERR_BUSY,
                            "%s: %s: another writer (an import, a batch, the server) has held the "
                            "database for more than %d s: nothing was recorded; try again when "
                            "it is done",
                            s->path, what, STORE_BUSY_TIMEOUT_MS / 1000);
    if (is_corrupt(code))
        return cc_error_set(err, CC_ERR_STORE, "%s: database is damaged: %s: %s", s->path, what,
                            sqlite3_errmsg(s->db));
    return cc_error_set(err, CC_ERR_STORE, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

/* Resets a statement for reuse and returns it. */
static sqlite3_stmt *stmt_get(struct store_sqlite *s, enum stmt which)
{
    sqlite3_stmt *st = s->stmt[which];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *text)
{
    if (text == NULL)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC);
}

/* Binds the ids prefix covers to ?1 … ?4 of S_ACCOUNTS_LIST, S_PREFIX_NOW, S_PREFIX_AT. */
static void bind_prefix(sqlite3_stmt *st, const struct store_prefix_range *range)
{
    sqlite3_bind_text(st, 1, range->exact[0] ? range->exact : range->lo, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, range->hi, -1, SQLITE_STATIC);
    bind_text(st, 3, range->exact[0] ? range->exact : NULL);
    sqlite3_bind_text(st, 4, range->lo, -1, SQLITE_STATIC);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* Runs a statement that returns no rows. */
static enum cc_err step_done(struct store_sqlite *s, sqlite3_stmt *st, struct cc_error *err,
                             const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? CC_OK : db_error(s, err, what);
}

/* ---------------------------------------------------------------- the account cache */

/*
 * A batch names thousands of accounts, and reading them was about 30% of a
 * batch's time. The rows are kept as committed, between batches: the copies
 * this connection loaded, and those its own commits wrote (applied once the
 * COMMIT holds; a rollback drops them). Another connection's commit changes
 * PRAGMA data_version, read at each BEGIN: the cache is then dropped whole.
 * Only balances and history_seq of an account ever change after its insert.
 */
#define STORE_ACCOUNT_CACHE_MAX 1000000 /* rows; past it the cache starts again */

static bool account_copy_make(struct account_copy *out, const struct ledger_account *a)
{
    const char *const fields[5] = {a->id, a->unit, a->name, a->owner, a->approvers};
    size_t n = 0;
    for (int i = 0; i < 5; i++) n += fields[i] != NULL ? strlen(fields[i]) + 1 : 0;
    char *block = malloc(n > 0 ? n : 1), *p = block;
    if (block == NULL) return false;
    out->a = *a;
    out->a.row = 0;
    const char **const to[5] = {&out->a.id, &out->a.unit, &out->a.name, &out->a.owner,
                                &out->a.approvers};
    for (int i = 0; i < 5; i++) {
        *to[i] = NULL;
        if (fields[i] == NULL) continue;
        size_t m = strlen(fields[i]) + 1;
        memcpy(p, fields[i], m);
        *to[i] = p;
        p += m;
    }
    out->block = block;
    return true;
}

static void cache_clear(struct store_sqlite *s)
{
    for (uint32_t i = 0; i < s->cache_count; i++) free(s->cache[i].block);
    s->cache_count = 0;
    strmap_clear(&s->cache_by_id);
}

static void pending_clear(struct store_sqlite *s)
{
    for (uint32_t i = 0; i < s->pending_count; i++) free(s->pending[i].block);
    s->pending_count = 0;
}

static const struct ledger_account *cache_get(const struct store_sqlite *s, const char *id)
{
    uint32_t i;
    return strmap_get(&s->cache_by_id, id, &i) ? &s->cache[i].a : NULL;
}

/* Adds a copy of committed row a (one not cached yet); false only when memory runs out. */
static bool cache_add(struct store_sqlite *s, const struct ledger_account *a)
{
    if (s->cache_count >= STORE_ACCOUNT_CACHE_MAX) cache_clear(s);
    if (s->cache_count == s->cache_capacity) {
        uint32_t capacity = s->cache_capacity ? 2 * s->cache_capacity : 1024;
        struct account_copy *p = realloc(s->cache, capacity * sizeof *p);
        if (p == NULL) return false;
        s->cache = p;
        s->cache_capacity = capacity;
    }
    struct account_copy *c = &s->cache[s->cache_count];
    if (!account_copy_make(c, a)) return false;
    if (!strmap_put(&s->cache_by_id, c->a.id, s->cache_count)) {
        free(c->block);
        return false;
    }
    s->cache_count++;
    return true;
}

/* Notes a row the open transaction writes, for the cache once the COMMIT holds. */
static bool pending_add(struct store_sqlite *s, const struct ledger_account *a)
{
    if (s->pending_count == s->pending_capacity) {
        uint32_t capacity = s->pending_capacity ? 2 * s->pending_capacity : 1024;
        struct account_copy *p = realloc(s->pending, capacity * sizeof *p);
        if (p == NULL) return false;
        s->pending = p;
        s->pending_capacity = capacity;
    }
    if (!account_copy_make(&s->pending[s->pending_count], a)) return false;
    s->pending_count++;
    return true;
}

/* After a COMMIT that held: the rows it wrote become the cache's. */
static void pending_apply(struct store_sqlite *s)
{
    for (uint32_t i = 0; i < s->pending_count; i++) {
        struct account_copy *p = &s->pending[i];
        uint32_t k;
        if (strmap_get(&s->cache_by_id, p->a.id, &k)) {
            struct ledger_account *c = &s->cache[k].a;
            c->debits_pending = p->a.debits_pending;
            c->debits_posted = p->a.debits_posted;
            c->credits_pending = p->a.credits_pending;
            c->credits_posted = p->a.credits_posted;
            c->history_seq = p->a.history_seq;
        } else if (!cache_add(s, &p->a)) {
            cache_clear(s); /* out of memory: the cache is only a saving */
            break;
        }
    }
    pending_clear(s);
}

/* At BEGIN: was anything committed by another connection since? Then the cache is stale. */
static enum cc_err cache_check(struct store_sqlite *s, struct cc_error *err)
{
    sqlite3_stmt *st = stmt_get(s, S_DATA_VERSION);
    int rc = sqlite3_step(st);
    int64_t version = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW) return db_error(s, err, "reading the data version");
    if (version != s->cache_version) cache_clear(s);
    s->cache_version = version;
    pending_clear(s);
    return CC_OK;
}

/* ---------------------------------------------------------------- many rows at once */

/*
 * New transfers go in STORE_INSERT_ROWS to a statement: a batch of thousands
 * then costs a few hundred statement executions instead of one each, which
 * is most of what inserting a row costs beyond its B-tree work.
 */
#define STORE_INSERT_ROWS 32
#define TRANSFER_INSERT_COLUMNS 20
_Static_assert(STORE_INSERT_ROWS * TRANSFER_INSERT_COLUMNS <= 32766,
               "SQLite's default limit of parameters per statement");

static enum cc_err transfers_insert_prepare(struct store_sqlite *s, struct cc_error *err)
{
    static const char head[] =
        "INSERT INTO transfers (seq, id, debit, credit, amount, effect_posted, effect_pending,"
        " flags, state, reason, pending_id, kind, cond, memo, meta, expires, date, timestamp,"
        " debit_prev, credit_prev) VALUES ";
    static const char row[] = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    char sql[sizeof head + STORE_INSERT_ROWS * sizeof row];
    size_t n = sizeof head - 1;
    memcpy(sql, head, n);
    for (int i = 0; i < STORE_INSERT_ROWS; i++) {
        if (i > 0) sql[n++] = ',';
        memcpy(sql + n, row, sizeof row - 1);
        n += sizeof row - 1;
    }
    sql[n] = '\0';
    if (sqlite3_prepare_v3(s->db, sql, (int)n + 1, SQLITE_PREPARE_PERSISTENT, &s->transfers_insert,
                           NULL) != SQLITE_OK)
        return db_error(s, err, "preparing statements");
    return CC_OK;
}

/* Binds a new transfer's columns at parameters base + 1 … base + 20. */
static void bind_transfer(sqlite3_stmt *st, int base, const struct ledger_transfer *t,
                          int64_t debit, int64_t credit, int64_t debit_prev, int64_t credit_prev)
{
    sqlite3_bind_int64(st, base + 1, t->seq);
    bind_text(st, base + 2, t->id);
    sqlite3_bind_int64(st, base + 3, debit);
    sqlite3_bind_int64(st, base + 4, credit);
    sqlite3_bind_int64(st, base + 5, t->amount);
    sqlite3_bind_int64(st, base + 6, t->effect_posted);
    sqlite3_bind_int64(st, base + 7, t->effect_pending);
    sqlite3_bind_int64(st, base + 8, t->flags);
    sqlite3_bind_int(st, base + 9, t->state);
    sqlite3_bind_int(st, base + 10, t->reason);
    bind_text(st, base + 11, t->pending_id);
    bind_text(st, base + 12, t->kind);
    bind_text(st, base + 13, t->cond);
    bind_text(st, base + 14, t->memo);
    bind_text(st, base + 15, t->meta);
    if (t->flags & LEDGER_TRANSFER_EXPIRES)
        sqlite3_bind_int64(st, base + 16, t->expires);
    else
        sqlite3_bind_null(st, base + 16);
    sqlite3_bind_int64(st, base + 17, t->date);
    sqlite3_bind_int64(st, base + 18, t->timestamp);
    sqlite3_bind_int64(st, base + 19, debit_prev);
    sqlite3_bind_int64(st, base + 20, credit_prev);
}

/* ---------------------------------------------------------------- opening */

static enum cc_err exec_sql(struct store_sqlite *s, const char *sql, struct cc_error *err)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK) return CC_OK;
    /* A statement of its own is named; a migration's or the pragmas' script is not quoted whole. */
    return db_error(s, err, strlen(sql) <= 32 ? sql : "preparing the database");
}

/* Runs a PRAGMA that answers one integer: SQLITE_OK and *value, or SQLite's error code. */
static int pragma_int(struct store_sqlite *s, const char *sql, int *value)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *value = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_ERROR; /* a pragma that answers nothing: this is no database we know */
    }
    sqlite3_finalize(st);
    return rc;
}

static enum cc_err migrate(struct store_sqlite *s, struct cc_error *err)
{
    int version = 0;
    if (pragma_int(s, "PRAGMA user_version", &version) != SQLITE_OK)
        return db_error(s, err, "reading the schema version");
    if (version > MIGRATIONS_COUNT)
        return cc_error_set(err, CC_ERR_STORE,
                            "%s: schema version %d is newer than this concord (%d)", s->path,
                            version, MIGRATIONS_COUNT);
    for (int v = version; v < MIGRATIONS_COUNT; v++) {
        char set_version[96];
        snprintf(set_version, sizeof set_version,
                 "PRAGMA user_version = %d; PRAGMA application_id = %d;", v + 1,
                 STORE_APPLICATION_ID);
        enum cc_err rc = exec_sql(s, "BEGIN IMMEDIATE", err);
        if (rc == CC_OK) rc = exec_sql(s, migrations[v], err);
        if (rc == CC_OK) rc = exec_sql(s, set_version, err);
        if (rc == CC_OK) rc = exec_sql(s, "COMMIT", err);
        if (rc != CC_OK) {
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
    }
    return CC_OK;
}

static void sqlite_close(struct store *base)
{
    struct store_sqlite *s = sq(base);
    for (int i = 0; i < S_COUNT; i++) sqlite3_finalize(s->stmt[i]);
    sqlite3_finalize(s->transfers_insert);
    sqlite3_close(s->db);
    free((void *)s->path);
    free(s->keys);
    free(s->inflated);
    cache_clear(s);
    free(s->cache);
    strmap_free(&s->cache_by_id);
    pending_clear(s);
    free(s->pending);
    free(s->misses);
    free(s);
}

static const struct store_driver sqlite_driver;

/* Is the file at path absent or empty (so that creating it touches nothing)? */
static bool file_is_blank(const char *path, bool *exists)
{
    struct stat st;
    *exists = stat(path, &st) == 0;
    return !*exists || st.st_size == 0;
}

/*
 * SQLite's memory statistics take a global mutex on every allocation; concord
 * never reads them, and turning them off is worth 7% on W1. The setting is
 * process-wide and must precede SQLite's initialization, hence once.
 */
static void sqlite_configure(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

enum cc_err store_sqlite_open(struct store **out, const char *path, enum store_mode mode,
                              struct cc_error *err)
{
    static pthread_once_t configured = PTHREAD_ONCE_INIT;
    pthread_once(&configured, sqlite_configure);
    *out = NULL;
    bool exists;
    bool blank = file_is_blank(path, &exists);
    if (!exists && mode != STORE_CREATE)
        return cc_error_set(err, CC_ERR_STORE, "%s: no such database (create it with concord init)",
                            path);
    struct store_sqlite *s = calloc(1, sizeof *s);
    if (s == NULL || (s->path = strdup(path)) == NULL) {
        free(s);
        return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    }
    s->base.driver = &sqlite_driver;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                (mode == STORE_CREATE ? SQLITE_OPEN_CREATE : 0);
    enum cc_err rc = CC_OK;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        rc = db_error(s, err, "opening");
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
    /*
     * A file that is not ours is refused before anything is written to it.
     * Only SQLite's "not a database" (or another application's id) means
     * that: a read-only directory that prevents the WAL, a lock held too
     * long, an I/O error or a damaged file are said as what they are.
     */
    int app_id = 0;
    int sql_rc = pragma_int(s, "PRAGMA application_id", &app_id);
    if (sql_rc != SQLITE_OK) {
        if ((sql_rc & 0xff) == SQLITE_NOTADB)
            rc = cc_error_set(err, CC_ERR_STORE, "%s: not a concord database (%s)", path,
                              sqlite3_errmsg(s->db));
        else if (is_corrupt(sql_rc))
            rc = cc_error_set(err, CC_ERR_STORE, "%s: database is damaged: %s", path,
                              sqlite3_errmsg(s->db));
        else
            rc = cc_error_set(err, CC_ERR_STORE, "cannot open %s: %s", path,
                              sqlite3_errmsg(s->db));
        goto fail;
    }
    if (app_id != STORE_APPLICATION_ID && !(blank && mode == STORE_CREATE)) {
        rc = cc_error_set(err, CC_ERR_STORE, "%s: not a concord database", path);
        goto fail;
    }
    char pragmas[160];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -%d;"
             " PRAGMA temp_store = MEMORY;",
             STORE_CACHE_KIB);
    if ((rc = exec_sql(s, pragmas, err)) != CC_OK) goto fail;
    if ((rc = migrate(s, err)) != CC_OK) goto fail;
    for (int i = 0; i < S_COUNT; i++) {
        if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
                               NULL) != SQLITE_OK) {
            rc = db_error(s, err, "preparing statements");
            goto fail;
        }
    }
    if ((rc = transfers_insert_prepare(s, err)) != CC_OK) goto fail;
    *out = &s->base;
    return CC_OK;
fail:
    sqlite_close(&s->base);
    return rc;
}

/* ---------------------------------------------------------------- transactions */

/*
 * A part of an open transaction (a savepoint named "nested": SQLite's names
 * stack, so one name serves every depth). The rows a part commits go into
 * the cache at once, since this connection's reads see them from then on;
 * the outermost rollback drops the cache whole, as it cannot tell which
 * copies came from which part.
 */
static void sqlite_rollback(struct store *base);

static enum cc_err sqlite_begin(struct store *base, struct cc_error *err)
{
    struct store_sqlite *s = sq(base);
    if (s->depth > 0) {
        enum cc_err rc = step_done(s, stmt_get(s, S_SAVEPOINT), err, "beginning a savepoint");
        if (rc != CC_OK) return rc;
        if (s->pending_count > 0) { /* the enclosing level's rows: seen from now on */
            pending_apply(s);
            s->nested_applied = true;
        }
        s->depth++;
        return CC_OK;
    }
    enum cc_err rc = step_done(s, stmt_get(s, S_BEGIN), err, "beginning a transaction");
    if (rc != CC_OK) return rc;
    s->depth = 1;
    s->nested_applied = false;
    rc = cache_check(s, err);
    if (rc != CC_OK) sqlite_rollback(base);
    return rc;
}

static void sqlite_rollback(struct store *base)
{
    struct store_sqlite *s = sq(base);
    pending_clear(s);
    if (sqlite3_get_autocommit(s->db)) {
        /* SQLite ended it already (an I/O error, a full disk): parts committed inside are gone. */
        if (s->depth > 1 || s->nested_applied) cache_clear(s);
        s->nested_applied = false;
        s->depth = 0;
        return;
    }
    if (s->depth > 1) {
        sqlite3_step(stmt_get(s, S_ROLLBACK_TO));
        sqlite3_reset(s->stmt[S_ROLLBACK_TO]);
        sqlite3_step(stmt_get(s, S_RELEASE)); /* the savepoint itself, once undone */
        sqlite3_reset(s->stmt[S_RELEASE]);
        s->depth--;
        return;
    }
    sqlite3_step(stmt_get(s, S_ROLLBACK));
    sqlite3_reset(s->stmt[S_ROLLBACK]);
    if (s->nested_applied) cache_clear(s);
    s->depth = 0;
}

static enum cc_err sqlite_commit(struct store *base, struct cc_error *err)
{
    struct store_sqlite *s = sq(base);
    bool nested = s->depth > 1;
    enum cc_err rc = nested ? step_done(s, stmt_get(s, S_RELEASE), err, "releasing a savepoint")
                            : step_done(s, stmt_get(s, S_COMMIT), err, "committing");
    if (rc == CC_OK) {
        pending_apply(s);
        s->nested_applied |= nested;
        s->depth = nested ? s->depth - 1 : 0;
    } else if (nested) { /* the part is still open: the caller's store_rollback() undoes it */
        pending_clear(s);
    } else { /* what the file holds now is not known for sure: start again */
        cache_clear(s);
        sqlite_rollback(base);
    }
    return rc;
}

/* ---------------------------------------------------------------- row decoding */

static struct ledger_unit row_unit(sqlite3_stmt *st)
{
    return (struct ledger_unit){
        .code = col_text(st, 0), .scale = sqlite3_column_int(st, 1), .name = col_text(st, 2),
        .timestamp = sqlite3_column_int64(st, 3),
    };
}

static struct ledger_account row_account(sqlite3_stmt *st)
{
    return (struct ledger_account){
        .seq = sqlite3_column_int64(st, 0), .id = col_text(st, 1), .unit = col_text(st, 2),
        .name = col_text(st, 3), .owner = col_text(st, 4),
        .flags = (uint32_t)sqlite3_column_int64(st, 5),
        .debits_pending = sqlite3_column_int64(st, 6), .debits_posted = sqlite3_column_int64(st, 7),
        .credits_pending = sqlite3_column_int64(st, 8),
        .credits_posted = sqlite3_column_int64(st, 9), .timestamp = sqlite3_column_int64(st, 10),
        .history_seq = sqlite3_column_int64(st, 11), .approvers = col_text(st, 12),
        .approvals_required = sqlite3_column_int(st, 13),
    };
}

static struct ledger_party row_party(sqlite3_stmt *st)
{
    return (struct ledger_party){
        .id = col_text(st, 0), .name = col_text(st, 1), .kind = col_text(st, 2),
        .timestamp = sqlite3_column_int64(st, 3),
    };
}

static struct ledger_approval row_approval(sqlite3_stmt *st)
{
    return (struct ledger_approval){
        .seq = sqlite3_column_int64(st, 0), .id = col_text(st, 1),
        .pending_id = col_text(st, 2), .user = col_text(st, 3),
        .decision = (uint8_t)sqlite3_column_int(st, 4), .timestamp = sqlite3_column_int64(st, 5),
    };
}

static struct ledger_transfer row_transfer(sqlite3_stmt *st)
{
    return (struct ledger_transfer){
        .seq = sqlite3_column_int64(st, 0), .id = col_text(st, 1), .debit = col_text(st, 2),
        .credit = col_text(st, 3), .unit = col_text(st, 4), .amount = sqlite3_column_int64(st, 5),
        .effect_posted = sqlite3_column_int64(st, 6),
        .effect_pending = sqlite3_column_int64(st, 7),
        .flags = (uint32_t)sqlite3_column_int64(st, 8),
        .state = (uint8_t)sqlite3_column_int(st, 9), .reason = (uint8_t)sqlite3_column_int(st, 10),
        .pending_id = col_text(st, 11), .kind = col_text(st, 12), .cond = col_text(st, 13),
        .memo = col_text(st, 14), .meta = col_text(st, 15),
        .expires = sqlite3_column_int64(st, 16), .date = sqlite3_column_int64(st, 17),
        .timestamp = sqlite3_column_int64(st, 18),
    };
}

/* Steps st to its end, calling fn on each row decoded by decode. */
#define FOR_EACH_ROW(s, st, err, what, decl, fn, ctx)                  \
    do {                                                               \
        int rc_;                                                       \
        while ((rc_ = sqlite3_step(st)) == SQLITE_ROW) {               \
            decl;                                                      \
            if ((fn)((ctx), &row_) != 0) break;                        \
        }                                                              \
        if (rc_ != SQLITE_ROW && rc_ != SQLITE_DONE) {                 \
            enum cc_err e_ = db_error((s), (err), (what));             \
            sqlite3_reset(st);                                         \
            return e_;                                                 \
        }                                                              \
        sqlite3_reset(st);                                             \
    } while (0)

/* ---------------------------------------------------------------- loading */

static enum cc_err load_one(struct store_sqlite *s, enum stmt which, const char *key,
                            struct ledger_view *view, struct cc_error *err)
{
    sqlite3_stmt *st = stmt_get(s, which);
    bind_text(st, 1, key);
    int rc = sqlite3_step(st);
    enum cc_err result = CC_OK;
    if (rc == SQLITE_ROW) {
        bool ok;
        if (which == S_UNIT_GET) {
            struct ledger_unit u = row_unit(st);
            ok = ledger_view_add_unit(view, &u);
        } else if (which == S_ACCOUNT_GET) {
            struct ledger_account a = row_account(st);
            ok = ledger_view_add_account(view, &a);
        } else if (which == S_PARTY_GET) {
            struct ledger_party p = row_party(st);
            ok = ledger_view_add_party(view, &p);
        } else if (which == S_APPROVAL_GET) {
            struct ledger_approval a = row_approval(st);
            ok = ledger_view_approval(view, a.id) != NULL || ledger_view_add_approval(view, &a);
        } else {
            struct ledger_transfer t = row_transfer(st);
            ok = ledger_view_add_transfer(view, &t);
        }
        if (!ok) result = cc_error_set(err, CC_ERR_NOMEM, "out of memory loading %s", key);
    } else if (rc == SQLITE_DONE) {
        result = CC_ERR_NOT_FOUND;
    } else {
        result = db_error(s, err, "loading");
    }
    sqlite3_reset(st);
    return result;
}

static enum cc_err sqlite_load_unit(struct store *b, const char *code, struct ledger_view *v,
                                    struct cc_error *err)
{
    return load_one(sq(b), S_UNIT_GET, code, v, err);
}

static enum cc_err sqlite_load_account(struct store *b, const char *id, struct ledger_view *v,
                                       struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    const struct ledger_account *cached = cache_get(s, id);
    if (cached != NULL)
        return ledger_view_add_account(v, cached)
                   ? CC_OK
                   : cc_error_set(err, CC_ERR_NOMEM, "out of memory loading %s", id);
    enum cc_err rc = load_one(s, S_ACCOUNT_GET, id, v, err);
    const struct ledger_account *loaded = rc == CC_OK ? ledger_view_account(v, id) : NULL;
    if (loaded != NULL && !cache_add(s, loaded)) cache_clear(s);
    return rc;
}

static enum cc_err sqlite_load_transfer(struct store *b, const char *id, struct ledger_view *v,
                                        struct cc_error *err)
{
    return load_one(sq(b), S_TRANSFER_GET, id, v, err);
}

/* Appends n bytes to s->keys at *used, growing it; false when memory runs out. */
static bool keys_append(struct store_sqlite *s, size_t *used, const char *text, size_t n)
{
    if (*used + n + 1 > s->keys_capacity) {
        size_t capacity = s->keys_capacity ? s->keys_capacity : 1 << 16;
        while (*used + n + 1 > capacity) capacity *= 2;
        char *p = realloc(s->keys, capacity);
        if (p == NULL) return false;
        s->keys = p;
        s->keys_capacity = capacity;
    }
    memcpy(s->keys + *used, text, n);
    *used += n;
    s->keys[*used] = '\0';
    return true;
}

/* ids as a JSON array of strings into s->keys (quotes, backslashes and controls escaped). */
static bool keys_json(struct store_sqlite *s, const char *const *ids, size_t count)
{
    size_t used = 0;
    bool ok = keys_append(s, &used, "[", 1);
    for (size_t i = 0; ok && i < count; i++) {
        ok = keys_append(s, &used, i ? ",\"" : "\"", i ? 2 : 1);
        const char *id = ids[i], *run = id;
        for (const char *p = id; ok && *p != '\0'; p++) {
            unsigned char c = (unsigned char)*p;
            if (c != '"' && c != '\\' && c >= 0x20) continue;
            char escaped[8];
            int n = snprintf(escaped, sizeof escaped, "\\u%04x", c);
            ok = keys_append(s, &used, run, (size_t)(p - run)) &&
                 keys_append(s, &used, escaped, (size_t)n);
            run = p + 1;
        }
        ok = ok && keys_append(s, &used, run, strlen(run)) && keys_append(s, &used, "\"", 1);
    }
    return ok && keys_append(s, &used, "]", 1);
}

static enum cc_err sqlite_load_many(struct store *b, char kind, const char *const *ids,
                                    size_t count, struct ledger_view *v, struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    assert(kind == 'a' || kind == 't');
    if (kind == 'a') { /* what the cache holds; the store is asked for the rest */
        if (count > s->misses_capacity) {
            const char **p = realloc(s->misses, count * sizeof *p);
            if (p == NULL) return cc_error_set(err, CC_ERR_NOMEM, "out of memory loading a batch");
            s->misses = p;
            s->misses_capacity = count;
        }
        size_t misses = 0;
        for (size_t i = 0; i < count; i++) {
            const struct ledger_account *cached = cache_get(s, ids[i]);
            if (cached == NULL) {
                s->misses[misses++] = ids[i];
            } else if (ledger_view_account(v, ids[i]) == NULL &&
                       !ledger_view_add_account(v, cached)) {
                return cc_error_set(err, CC_ERR_NOMEM, "out of memory loading a batch");
            }
        }
        ids = s->misses;
        count = misses;
    }
    if (count == 0) return CC_OK;
    if (!keys_json(s, ids, count))
        return cc_error_set(err, CC_ERR_NOMEM, "out of memory loading a batch's keys");
    sqlite3_stmt *st = stmt_get(s, kind == 'a' ? S_ACCOUNTS_IN : S_TRANSFERS_IN);
    if (sqlite3_bind_text(st, 1, s->keys, -1, SQLITE_STATIC) != SQLITE_OK)
        return db_error(s, err, "loading a batch");
    int rc;
    enum cc_err result = CC_OK;
    while (result == CC_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        bool ok;
        if (kind == 'a') {
            struct ledger_account a = row_account(st);
            ok = ledger_view_account(v, a.id) != NULL || ledger_view_add_account(v, &a);
            if (ok && cache_get(s, a.id) == NULL && !cache_add(s, &a)) cache_clear(s);
        } else {
            struct ledger_transfer t = row_transfer(st);
            ok = ledger_view_transfer(v, t.id) != NULL || ledger_view_add_transfer(v, &t);
        }
        if (!ok) result = cc_error_set(err, CC_ERR_NOMEM, "out of memory loading a batch");
    }
    if (result == CC_OK && rc != SQLITE_DONE) result = db_error(s, err, "loading a batch");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return result;
}

static enum cc_err sqlite_due_pending(struct store *b, int64_t now, store_transfer_fn fn,
                                      void *ctx, struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    sqlite3_stmt *st = stmt_get(s, S_DUE_PENDING);
    sqlite3_bind_int64(st, 1, now);
    FOR_EACH_ROW(s, st, err, "finding expired transfers",
                 struct ledger_transfer row_ = row_transfer(st), fn, ctx);
    return CC_OK;
}

static enum cc_err sqlite_timestamp_last(struct store *b, int64_t *timestamp,
                                         struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    sqlite3_stmt *st = stmt_get(s, S_TIMESTAMP_GET);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *timestamp = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? CC_OK : db_error(s, err, "reading the last timestamp");
}

static enum cc_err sqlite_load_conditions(struct store *b, struct ledger_view *v,
                                          struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    sqlite3_stmt *st = stmt_get(s, S_CONDITIONS_ALL);
    int rc;
    enum cc_err result = CC_OK;
    while (result == CC_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct ledger_condition c = {
            .name = col_text(st, 0), .title = col_text(st, 1), .authority = col_text(st, 2),
            .when = col_text(st, 3), .has_probability = sqlite3_column_type(st, 4) != SQLITE_NULL,
            .probability = sqlite3_column_double(st, 4),
            .state = (uint8_t)sqlite3_column_int(st, 5),
            .resolved_at = sqlite3_column_int64(st, 6), .timestamp = sqlite3_column_int64(st, 7),
        };
        char message[256];
        if (!ledger_view_add_condition(v, &c, message, sizeof message))
            result = cc_error_set(err, CC_ERR_STORE, "%s: %s", s->path, message);
    }
    if (result == CC_OK && rc != SQLITE_DONE) result = db_error(s, err, "loading conditions");
    sqlite3_reset(st);
    return result;
}

static enum cc_err sqlite_load_requirements(struct store *b, struct ledger_view *v,
                                            struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    sqlite3_stmt *st = stmt_get(s, S_REQUIREMENTS_ALL);
    int rc;
    enum cc_err result = CC_OK;
    while (result == CC_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct ledger_requirement r = {
            .id = col_text(st, 0), .title = col_text(st, 1), .account = col_text(st, 2),
            .unit = col_text(st, 3), .measure = (uint8_t)sqlite3_column_int(st, 4),
            .target = sqlite3_column_int64(st, 5),
            .has_due = sqlite3_column_type(st, 6) != SQLITE_NULL,
            .due = sqlite3_column_int64(st, 6), .timestamp = sqlite3_column_int64(st, 7),
        };
        if (!ledger_view_add_requirement(v, &r))
            result = cc_error_set(err, CC_ERR_NOMEM, "out of memory loading requirements");
    }
    if (result == CC_OK && rc != SQLITE_DONE) result = db_error(s, err, "loading requirements");
    sqlite3_reset(st);
    return result;
}

static enum cc_err sqlite_load_rates(struct store *b, struct ledger_view *v, struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    sqlite3_stmt *st = stmt_get(s, S_RATES_ALL);
    int rc;
    enum cc_err result = CC_OK;
    while (result == CC_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct ledger_rate r = {
            .unit = col_text(st, 0), .to = col_text(st, 1), .date = sqlite3_column_int64(st, 2),
            .rate = col_text(st, 3), .timestamp = sqlite3_column_int64(st, 4),
        };
        if (!ledger_view_add_rate(v, &r))
            result = cc_error_set(err, CC_ERR_NOMEM, "out of memory loading rates");
    }
    if (result == CC_OK && rc != SQLITE_DONE) result = db_error(s, err, "loading rates");
    sqlite3_reset(st);
    return result;
}

/* Loads every pending transfer gated on base condition `name` that the view lacks. */
static enum cc_err sqlite_load_gated(struct store *b, const char *name, struct ledger_view *v,
                                     struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    sqlite3_stmt *st = stmt_get(s, S_GATED_PENDING);
    bind_text(st, 1, name);
    int rc;
    enum cc_err result = CC_OK;
    while (result == CC_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct ledger_transfer t = row_transfer(st);
        if (ledger_view_transfer(v, t.id) == NULL && !ledger_view_add_transfer(v, &t))
            result = cc_error_set(err, CC_ERR_NOMEM, "out of memory loading gated transfers");
    }
    if (result == CC_OK && rc != SQLITE_DONE)
        result = db_error(s, err, "loading gated transfers");
    sqlite3_reset(st);
    return result;
}

static enum cc_err sqlite_load_party(struct store *b, const char *id, struct ledger_view *v,
                                     struct cc_error *err)
{
    return load_one(sq(b), S_PARTY_GET, id, v, err);
}

static enum cc_err sqlite_load_approval(struct store *b, const char *id, struct ledger_view *v,
                                        struct cc_error *err)
{
    return load_one(sq(b), S_APPROVAL_GET, id, v, err);
}

static enum cc_err sqlite_load_approvals(struct store *b, const char *pending_id,
                                         struct ledger_view *v, struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    sqlite3_stmt *st = stmt_get(s, S_APPROVALS_OF);
    bind_text(st, 1, pending_id);
    int rc;
    enum cc_err result = CC_OK;
    while (result == CC_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct ledger_approval a = row_approval(st);
        if (ledger_view_approval(v, a.id) == NULL && !ledger_view_add_approval(v, &a))
            result = cc_error_set(err, CC_ERR_NOMEM, "out of memory loading approvals");
    }
    if (result == CC_OK && rc != SQLITE_DONE) result = db_error(s, err, "loading approvals");
    sqlite3_reset(st);
    return result;
}

static enum cc_err sqlite_parties_list(struct store *b, store_party_fn fn, void *ctx,
                                       struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    sqlite3_stmt *st = stmt_get(s, S_PARTIES_LIST);
    FOR_EACH_ROW(s, st, err, "reading parties", struct ledger_party row_ = row_party(st), fn,
                 ctx);
    return CC_OK;
}

static enum cc_err sqlite_pending_all(struct store *b, store_transfer_fn fn, void *ctx,
                                      struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    sqlite3_stmt *st = stmt_get(s, S_PENDING_ALL);
    FOR_EACH_ROW(s, st, err, "reading pending transfers",
                 struct ledger_transfer row_ = row_transfer(st), fn, ctx);
    return CC_OK;
}

/*
 * The statement is written for the filter's number of prefixes: each prefix
 * p is the index range p <= id < p' (p with its last byte raised by one), so
 * the accounts it names are found in the id index, and the transfers are
 * judged on their own columns before the two joins that name their accounts.
 */
static enum cc_err sqlite_transfers_each(struct store *b, const struct store_transfer_filter *filter,
                                         store_transfer_fn fn, void *ctx, struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    if (filter->prefixes_count > STORE_FILTER_PREFIXES_MAX)
        return cc_error_set(err, CC_ERR_INPUT, "a transfer filter names more than %d prefixes",
                            STORE_FILTER_PREFIXES_MAX);
    char uppers[STORE_FILTER_PREFIXES_MAX][LEDGER_ID_BYTES_MAX + 1];
    char sql[2048];
    size_t n = (size_t)snprintf(sql, sizeof sql, "WITH rel(seq) AS (SELECT seq FROM accounts WHERE 0");
    for (size_t i = 0; i < filter->prefixes_count; i++) {
        size_t len = strlen(filter->prefixes[i]);
        if (len == 0 || len > LEDGER_ID_BYTES_MAX || (unsigned char)filter->prefixes[i][len - 1] == 0xFF)
            return cc_error_set(err, CC_ERR_INPUT, "transfer filter: bad prefix \"%s\"",
                                filter->prefixes[i]);
        memcpy(uppers[i], filter->prefixes[i], len + 1);
        uppers[i][len - 1] = (char)((unsigned char)uppers[i][len - 1] + 1);
        int w = snprintf(sql + n, sizeof sql - n, " OR (id >= ?%zu AND id < ?%zu)", 2 * i + 2,
                         2 * i + 3);
        if (w < 0 || (size_t)w >= sizeof sql - n)
            return cc_error_set(err, CC_ERR_INPUT, "a transfer filter's statement is too long");
        n += (size_t)w;
    }
    int w = snprintf(sql + n, sizeof sql - n,
                     ") SELECT " TRANSFER_COLUMNS "WHERE t.date <= ?1 AND (t.kind IS NOT NULL OR "
                     "t.pending_id IS NOT NULL OR t.debit IN rel OR t.credit IN rel) ORDER BY t.seq");
    if (w < 0 || (size_t)w >= sizeof sql - n)
        return cc_error_set(err, CC_ERR_INPUT, "a transfer filter's statement is too long");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_error(s, err, "reading transfers");
    sqlite3_bind_int64(st, 1, filter->at);
    for (size_t i = 0; i < filter->prefixes_count; i++) {
        sqlite3_bind_text(st, (int)(2 * i + 2), filter->prefixes[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, (int)(2 * i + 3), uppers[i], -1, SQLITE_STATIC);
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct ledger_transfer row = row_transfer(st);
        if (fn(ctx, &row) != 0) break;
    }
    enum cc_err result = CC_OK;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) result = db_error(s, err, "reading transfers");
    sqlite3_finalize(st);
    return result;
}

/* ---------------------------------------------------------------- writing */

static enum cc_err write_units(struct store_sqlite *s, struct ledger_view *v, struct cc_error *err)
{
    for (uint32_t i = 0; i < v->units_count; i++) {
        const struct ledger_unit *u = &v->units[i];
        if (!(u->row & LEDGER_ROW_NEW)) continue;
        sqlite3_stmt *st = stmt_get(s, S_UNIT_INSERT);
        bind_text(st, 1, u->code);
        sqlite3_bind_int(st, 2, u->scale);
        bind_text(st, 3, u->name);
        sqlite3_bind_int64(st, 4, u->timestamp);
        enum cc_err rc = step_done(s, st, err, "inserting a unit");
        if (rc != CC_OK) return rc;
    }
    return CC_OK;
}

static enum cc_err max_seq(struct store_sqlite *s, enum stmt which, int64_t *out,
                           struct cc_error *err)
{
    sqlite3_stmt *st = stmt_get(s, which);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? CC_OK : db_error(s, err, "reading row numbers");
}

/*
 * Each touched account's row, one statement each: tried as one UPDATE … FROM
 * a VALUES list of 32 accounts, it measured 2-3% slower than this.
 */
static enum cc_err write_accounts(struct store_sqlite *s, struct ledger_view *v,
                                  struct cc_error *err)
{
    for (uint32_t i = 0; i < v->accounts_count; i++) {
        const struct ledger_account *a = &v->accounts[i];
        sqlite3_stmt *st;
        if (a->row & LEDGER_ROW_NEW) {
            st = stmt_get(s, S_ACCOUNT_INSERT);
            sqlite3_bind_int64(st, 1, a->seq);
            bind_text(st, 2, a->id);
            bind_text(st, 3, a->unit);
            bind_text(st, 4, a->name);
            bind_text(st, 5, a->owner);
            sqlite3_bind_int64(st, 6, a->flags);
            sqlite3_bind_int64(st, 7, a->debits_pending);
            sqlite3_bind_int64(st, 8, a->debits_posted);
            sqlite3_bind_int64(st, 9, a->credits_pending);
            sqlite3_bind_int64(st, 10, a->credits_posted);
            sqlite3_bind_int64(st, 11, a->timestamp);
            sqlite3_bind_int64(st, 12, a->history_seq);
            bind_text(st, 13, a->approvers);
            sqlite3_bind_int(st, 14, a->approvals_required);
        } else if (a->row & LEDGER_ROW_DIRTY) {
            st = stmt_get(s, S_ACCOUNT_UPDATE);
            sqlite3_bind_int64(st, 1, a->seq);
            sqlite3_bind_int64(st, 2, a->debits_pending);
            sqlite3_bind_int64(st, 3, a->debits_posted);
            sqlite3_bind_int64(st, 4, a->credits_pending);
            sqlite3_bind_int64(st, 5, a->credits_posted);
            sqlite3_bind_int64(st, 6, a->history_seq);
        } else {
            continue;
        }
        enum cc_err rc = step_done(s, st, err, "writing an account");
        if (rc != CC_OK) return rc;
        if (!pending_add(s, a))
            return cc_error_set(err, CC_ERR_NOMEM, "out of memory writing an account");
    }
    return CC_OK;
}

/* One gates row per base condition a new gated pending transfer depends on. */
static enum cc_err write_gates(struct store_sqlite *s, const struct ledger_transfer *t,
                               struct cc_error *err)
{
    const char *p = t->gates;
    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, ' ');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        sqlite3_stmt *st = stmt_get(s, S_GATE_INSERT);
        sqlite3_bind_text(st, 1, p, (int)n, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, t->seq);
        enum cc_err rc = step_done(s, st, err, "indexing a gated transfer");
        if (rc != CC_OK) return rc;
        p = end != NULL ? end + 1 : NULL;
    }
    return CC_OK;
}

/* Inserts transfers chunk[0 … count) with one statement (count is STORE_INSERT_ROWS) or one each. */
static enum cc_err transfers_flush(struct store_sqlite *s, struct ledger_transfer *const *chunk,
                                   const int64_t (*links)[4], size_t count, struct cc_error *err)
{
    if (count == STORE_INSERT_ROWS) {
        sqlite3_stmt *st = s->transfers_insert;
        sqlite3_reset(st);
        for (size_t k = 0; k < count; k++)
            bind_transfer(st, (int)k * TRANSFER_INSERT_COLUMNS, chunk[k], links[k][0], links[k][1],
                          links[k][2], links[k][3]);
        enum cc_err rc = step_done(s, st, err, "writing transfers");
        if (rc != CC_OK) return rc;
    } else {
        for (size_t k = 0; k < count; k++) {
            sqlite3_stmt *st = stmt_get(s, S_TRANSFER_INSERT);
            bind_transfer(st, 0, chunk[k], links[k][0], links[k][1], links[k][2], links[k][3]);
            enum cc_err rc = step_done(s, st, err, "writing a transfer");
            if (rc != CC_OK) return rc;
        }
    }
    for (size_t k = 0; k < count; k++) {
        if (chunk[k]->gates == NULL) continue;
        enum cc_err rc = write_gates(s, chunk[k], err);
        if (rc != CC_OK) return rc;
    }
    return CC_OK;
}

/*
 * Inserts the new transfers with the next row numbers, threading each onto
 * its accounts' chains (which moves their history_seq: write accounts after),
 * STORE_INSERT_ROWS to a statement; then the new states of loaded ones.
 */
static enum cc_err write_transfers(struct store_sqlite *s, struct ledger_view *v,
                                   struct cc_error *err)
{
    int64_t next_seq = 0;
    enum cc_err rc = max_seq(s, S_MAX_TRANSFER_SEQ, &next_seq, err);
    if (rc != CC_OK) return rc;
    struct ledger_transfer *chunk[STORE_INSERT_ROWS];
    int64_t links[STORE_INSERT_ROWS][4]; /* debit, credit, and their previous rows */
    size_t count = 0;
    for (uint32_t i = 0; i < v->transfers_count; i++) {
        struct ledger_transfer *t = &v->transfers[i];
        if (!(t->row & LEDGER_ROW_NEW)) continue;
        struct ledger_account *dr = ledger_view_account(v, t->debit);
        struct ledger_account *cr = ledger_view_account(v, t->credit);
        assert(dr != NULL && cr != NULL && dr != cr && dr->seq > 0 && cr->seq > 0);
        t->seq = ++next_seq;
        chunk[count] = t;
        links[count][0] = dr->seq;
        links[count][1] = cr->seq;
        links[count][2] = dr->history_seq;
        links[count][3] = cr->history_seq;
        dr->history_seq = t->seq;
        cr->history_seq = t->seq;
        if (++count == STORE_INSERT_ROWS) {
            rc = transfers_flush(s, chunk, (const int64_t(*)[4])links, count, err);
            if (rc != CC_OK) return rc;
            count = 0;
        }
    }
    rc = transfers_flush(s, chunk, (const int64_t(*)[4])links, count, err);
    for (uint32_t i = 0; rc == CC_OK && i < v->transfers_count; i++) {
        const struct ledger_transfer *t = &v->transfers[i];
        if ((t->row & LEDGER_ROW_NEW) || !(t->row & LEDGER_ROW_DIRTY)) continue;
        sqlite3_stmt *st = stmt_get(s, S_TRANSFER_STATE);
        sqlite3_bind_int64(st, 1, t->seq);
        sqlite3_bind_int(st, 2, t->state);
        rc = step_done(s, st, err, "writing a transfer");
    }
    return rc;
}

static enum cc_err write_conditions(struct store_sqlite *s, const struct ledger_view *v,
                                   struct cc_error *err)
{
    for (uint32_t i = 0; i < v->conditions_count; i++) {
        const struct ledger_condition *c = &v->conditions[i];
        sqlite3_stmt *st;
        if (c->row & LEDGER_ROW_NEW) {
            st = stmt_get(s, S_CONDITION_INSERT);
            bind_text(st, 1, c->name);
            bind_text(st, 2, c->title);
            bind_text(st, 3, c->authority);
            bind_text(st, 4, c->when);
            if (c->has_probability) sqlite3_bind_double(st, 5, c->probability);
            sqlite3_bind_int(st, 6, c->state);
            sqlite3_bind_int64(st, 7, c->resolved_at);
            sqlite3_bind_int64(st, 8, c->timestamp);
        } else if (c->row & LEDGER_ROW_DIRTY) {
            st = stmt_get(s, S_CONDITION_UPDATE);
            bind_text(st, 1, c->name);
            sqlite3_bind_int(st, 2, c->state);
            sqlite3_bind_int64(st, 3, c->resolved_at);
        } else {
            continue;
        }
        enum cc_err rc = step_done(s, st, err, "writing a condition");
        if (rc != CC_OK) return rc;
    }
    return CC_OK;
}

static enum cc_err write_requirements_rates(struct store_sqlite *s, const struct ledger_view *v,
                                           struct cc_error *err)
{
    for (uint32_t i = 0; i < v->requirements_count; i++) {
        const struct ledger_requirement *r = &v->requirements[i];
        if (!(r->row & LEDGER_ROW_NEW)) continue;
        sqlite3_stmt *st = stmt_get(s, S_REQUIREMENT_INSERT);
        bind_text(st, 1, r->id);
        bind_text(st, 2, r->title);
        bind_text(st, 3, r->account);
        bind_text(st, 4, r->unit);
        sqlite3_bind_int(st, 5, r->measure);
        sqlite3_bind_int64(st, 6, r->target);
        if (r->has_due) sqlite3_bind_int64(st, 7, r->due);
        sqlite3_bind_int64(st, 8, r->timestamp);
        enum cc_err rc = step_done(s, st, err, "writing a requirement");
        if (rc != CC_OK) return rc;
    }
    for (uint32_t i = 0; i < v->rates_count; i++) {
        const struct ledger_rate *r = &v->rates[i];
        if (!(r->row & LEDGER_ROW_NEW)) continue;
        sqlite3_stmt *st = stmt_get(s, S_RATE_INSERT);
        bind_text(st, 1, r->unit);
        bind_text(st, 2, r->to);
        sqlite3_bind_int64(st, 3, r->date);
        bind_text(st, 4, r->rate);
        sqlite3_bind_int64(st, 5, r->timestamp);
        enum cc_err rc = step_done(s, st, err, "writing a rate");
        if (rc != CC_OK) return rc;
    }
    return CC_OK;
}

static enum cc_err write_parties_approvals(struct store_sqlite *s, const struct ledger_view *v,
                                           struct cc_error *err)
{
    for (uint32_t i = 0; i < v->parties_count; i++) {
        const struct ledger_party *p = &v->parties[i];
        if (!(p->row & LEDGER_ROW_NEW)) continue;
        sqlite3_stmt *st = stmt_get(s, S_PARTY_INSERT);
        bind_text(st, 1, p->id);
        bind_text(st, 2, p->name);
        bind_text(st, 3, p->kind);
        sqlite3_bind_int64(st, 4, p->timestamp);
        enum cc_err rc = step_done(s, st, err, "writing a party");
        if (rc != CC_OK) return rc;
    }
    for (uint32_t i = 0; i < v->approvals_count; i++) {
        const struct ledger_approval *a = &v->approvals[i];
        if (!(a->row & LEDGER_ROW_NEW)) continue;
        sqlite3_stmt *st = stmt_get(s, S_APPROVAL_INSERT);
        bind_text(st, 1, a->id);
        bind_text(st, 2, a->pending_id);
        bind_text(st, 3, a->user);
        sqlite3_bind_int(st, 4, a->decision);
        sqlite3_bind_int64(st, 5, a->timestamp);
        enum cc_err rc = step_done(s, st, err, "writing an approval");
        if (rc != CC_OK) return rc;
    }
    return CC_OK;
}

static enum cc_err sqlite_write(struct store *b, struct ledger_view *v, struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    /* New accounts get their row numbers first: new transfers name them. */
    int64_t next_account = 0;
    enum cc_err rc = max_seq(s, S_MAX_ACCOUNT_SEQ, &next_account, err);
    if (rc != CC_OK) return rc;
    for (uint32_t i = 0; i < v->accounts_count; i++)
        if (v->accounts[i].row & LEDGER_ROW_NEW) v->accounts[i].seq = ++next_account;
    if ((rc = write_units(s, v, err)) != CC_OK) return rc;
    if ((rc = write_transfers(s, v, err)) != CC_OK) return rc;
    if ((rc = write_accounts(s, v, err)) != CC_OK) return rc;
    if ((rc = write_conditions(s, v, err)) != CC_OK) return rc;
    if ((rc = write_requirements_rates(s, v, err)) != CC_OK) return rc;
    if ((rc = write_parties_approvals(s, v, err)) != CC_OK) return rc;
    sqlite3_stmt *st = stmt_get(s, S_TIMESTAMP_SET);
    sqlite3_bind_int64(st, 1, v->timestamp_last);
    return step_done(s, st, err, "recording the last timestamp");
}

/* ---------------------------------------------------------------- reads */

static enum cc_err sqlite_unit_get(struct store *b, const char *code, store_unit_fn fn, void *ctx,
                                   struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    sqlite3_stmt *st = stmt_get(s, S_UNIT_GET);
    bind_text(st, 1, code);
    FOR_EACH_ROW(s, st, err, "reading a unit", struct ledger_unit row_ = row_unit(st), fn, ctx);
    return CC_OK;
}

static enum cc_err sqlite_units_list(struct store *b, store_unit_fn fn, void *ctx,
                                     struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    sqlite3_stmt *st = stmt_get(s, S_UNITS_LIST);
    FOR_EACH_ROW(s, st, err, "listing units", struct ledger_unit row_ = row_unit(st), fn, ctx);
    return CC_OK;
}

static enum cc_err sqlite_account_get(struct store *b, const char *id, store_account_fn fn,
                                      void *ctx, struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    /*
     * Inside a transaction that has written nothing yet, the cache is what
     * this connection reads (checked at BEGIN, kept at each commit): a batch's
     * expansion asks for the same accounts again and again.
     */
    const struct ledger_account *cached =
        s->depth > 0 && s->pending_count == 0 ? cache_get(s, id) : NULL;
    if (cached != NULL) {
        fn(ctx, cached);
        return CC_OK;
    }
    sqlite3_stmt *st = stmt_get(s, S_ACCOUNT_GET);
    bind_text(st, 1, id);
    FOR_EACH_ROW(s, st, err, "reading an account", struct ledger_account row_ = row_account(st),
                 fn, ctx);
    return CC_OK;
}

static enum cc_err sqlite_accounts_list(struct store *b, const char *prefix, const char *after,
                                        uint32_t limit, store_account_fn fn, void *ctx,
                                        struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    assert(limit <= STORE_LIST_LIMIT_MAX);
    struct store_prefix_range range;
    store_prefix_range(prefix ? prefix : "", &range);
    sqlite3_stmt *st = stmt_get(s, S_ACCOUNTS_LIST);
    bind_prefix(st, &range);
    bind_text(st, 5, after ? after : "");
    sqlite3_bind_int64(st, 6, limit);
    FOR_EACH_ROW(s, st, err, "listing accounts", struct ledger_account row_ = row_account(st),
                 fn, ctx);
    return CC_OK;
}

static enum cc_err sqlite_accounts_all(struct store *b, store_account_fn fn, void *ctx,
                                       struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    sqlite3_stmt *st = stmt_get(s, S_ACCOUNTS_ALL);
    FOR_EACH_ROW(s, st, err, "reading accounts", struct ledger_account row_ = row_account(st),
                 fn, ctx);
    return CC_OK;
}

static enum cc_err sqlite_transfer_get(struct store *b, const char *id, store_transfer_fn fn,
                                       void *ctx, struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    sqlite3_stmt *st = stmt_get(s, S_TRANSFER_GET);
    bind_text(st, 1, id);
    FOR_EACH_ROW(s, st, err, "reading a transfer", struct ledger_transfer row_ = row_transfer(st),
                 fn, ctx);
    return CC_OK;
}

static enum cc_err sqlite_transfers_id_prefix(struct store *b, const char *prefix,
                                              store_transfer_fn fn, void *ctx,
                                              struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    /* The ids that start with prefix are one range of the id index: [prefix, prefix+1). */
    char hi[LEDGER_ID_BYTES_MAX + 2];
    size_t n = strlen(prefix);
    if (n == 0 || n > LEDGER_ID_BYTES_MAX)
        return cc_error_set(err, CC_ERR_INPUT, "an id prefix is 1 to %d bytes",
                            LEDGER_ID_BYTES_MAX);
    memcpy(hi, prefix, n + 1);
    hi[n - 1] = (char)(hi[n - 1] + 1); /* ids are printable ASCII: no carry */
    sqlite3_stmt *st = stmt_get(s, S_TRANSFERS_ID_RANGE);
    bind_text(st, 1, prefix);
    bind_text(st, 2, hi);
    FOR_EACH_ROW(s, st, err, "reading transfers by id", struct ledger_transfer row_ = row_transfer(st),
                 fn, ctx);
    return CC_OK;
}

/*
 * The account's row number and its latest transfer row; CC_ERR_NOT_FOUND
 * when there is no such account — and a storage error when SQLite fails, which
 * must never read as "no account".
 */
static enum cc_err account_seq(struct store_sqlite *s, const char *id, int64_t *seq,
                               int64_t *history_seq, struct cc_error *err)
{
    sqlite3_stmt *st = stmt_get(s, S_ACCOUNT_GET);
    bind_text(st, 1, id);
    int rc = sqlite3_step(st);
    enum cc_err result = CC_OK;
    if (rc == SQLITE_ROW) {
        *seq = sqlite3_column_int64(st, 0);
        *history_seq = sqlite3_column_int64(st, 11);
    } else if (rc == SQLITE_DONE) {
        result = cc_error_set(err, CC_ERR_NOT_FOUND, "no account %s", id);
    } else {
        result = db_error(s, err, "reading an account");
    }
    sqlite3_reset(st);
    return result;
}

/* One link of an account's chain: the row `seq` as seen from account `account`. */
struct chain_link {
    int64_t prev;           /* the account's previous row, 0 at the chain's start */
    int64_t date;
    bool debit;             /* the account is the row's debit side */
    int64_t effect_posted;
    int64_t effect_pending;
    bool resolution;        /* the row resolves a pending transfer (pending_id set) */
};

static enum cc_err chain_step(struct store_sqlite *s, int64_t account, int64_t seq,
                              struct chain_link *link, struct cc_error *err)
{
    sqlite3_stmt *st = stmt_get(s, S_CHAIN_STEP);
    sqlite3_bind_int64(st, 1, seq);
    int rc = sqlite3_step(st);
    enum cc_err result = CC_OK;
    if (rc == SQLITE_ROW) {
        link->debit = sqlite3_column_int64(st, 0) == account;
        bool credit = sqlite3_column_int64(st, 1) == account;
        link->prev = sqlite3_column_int64(st, link->debit ? 2 : 3);
        link->date = sqlite3_column_int64(st, 4);
        link->effect_posted = sqlite3_column_int64(st, 5);
        link->effect_pending = sqlite3_column_int64(st, 6);
        link->resolution = sqlite3_column_type(st, 7) != SQLITE_NULL;
        /* Each link goes strictly back in time; anything else is a damaged chain. */
        if ((!link->debit && !credit) || link->prev >= seq || link->prev < 0)
            result = cc_error_set(err, CC_ERR_STORE, "%s: transfer row %lld breaks the chain "
                                  "of account row %lld", s->path, (long long)seq,
                                  (long long)account);
    } else {
        result = rc == SQLITE_DONE
                     ? cc_error_set(err, CC_ERR_STORE, "%s: account row %lld names missing "
                                    "transfer row %lld", s->path, (long long)account,
                                    (long long)seq)
                     : db_error(s, err, "walking an account's transfers");
    }
    sqlite3_reset(st);
    return result;
}

static enum cc_err sqlite_history(struct store *b, const struct store_history_query *q,
                                  store_transfer_fn fn, void *ctx, struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    assert(q->limit >= 1 && q->limit <= STORE_HISTORY_LIMIT_MAX);
    int64_t account = 0, next = 0;
    enum cc_err found = account_seq(s, q->account, &account, &next, err);
    if (found != CC_OK) return found;
    /*
     * The chain runs newest first; the answer is the oldest `limit` rows in
     * the date range. Keep the last `limit` matches seen in a ring: those
     * are the oldest.
     */
    int64_t *ring = malloc(q->limit * sizeof *ring);
    if (ring == NULL) return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    uint64_t matches = 0;
    enum cc_err rc = CC_OK;
    while (next != 0 && rc == CC_OK) {
        struct chain_link link = {0};
        int64_t seq = next;
        rc = chain_step(s, account, seq, &link, err);
        if (rc != CC_OK) break;
        if (seq <= q->after_seq) break; /* newest first: the rest are before the cursor */
        if (link.date >= q->since && link.date <= q->until) ring[matches++ % q->limit] = seq;
        next = link.prev;
    }
    uint64_t kept = matches < q->limit ? matches : q->limit;
    /* Oldest first: the most recently stored match is the oldest. */
    for (uint64_t k = 0; k < kept && rc == CC_OK; k++) {
        int64_t seq = ring[(matches - 1 - k) % q->limit];
        sqlite3_stmt *st = stmt_get(s, S_TRANSFER_BY_SEQ);
        sqlite3_bind_int64(st, 1, seq);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            struct ledger_transfer t = row_transfer(st);
            fn(ctx, &t);
        } else {
            rc = db_error(s, err, "reading history");
        }
        sqlite3_reset(st);
    }
    free(ring);
    return rc;
}

/* Balances of account row `account` as of `at`: the sum of its rows' effects. */
static enum cc_err balance_at(struct store_sqlite *s, int64_t account, int64_t history_seq,
                              int64_t at, struct store_balance *out, struct cc_error *err)
{
    int64_t dp = 0, dpo = 0, cp = 0, cpo = 0;
    bool overflow = false;
    for (int64_t next = history_seq; next != 0;) {
        struct chain_link link = {0};
        enum cc_err rc = chain_step(s, account, next, &link, err);
        if (rc != CC_OK) return rc;
        if (link.date <= at) {
            int64_t *pending = link.debit ? &dp : &cp, *posted = link.debit ? &dpo : &cpo;
            overflow |= __builtin_add_overflow(*pending, link.effect_pending, pending);
            overflow |= __builtin_add_overflow(*posted, link.effect_posted, posted);
        }
        next = link.prev;
    }
    if (overflow) /* backdated pendings can reserve more at a past date than fits now */
        return cc_error_set(err, CC_ERR_REJECTED,
                            "account row %lld: a balance as of that date exceeds 2^63-1",
                            (long long)account);
    out->debits_pending = dp;
    out->debits_posted = dpo;
    out->credits_pending = cp;
    out->credits_posted = cpo;
    return CC_OK;
}

/* The effective date of the pending transfer that row `seq` resolves. */
static enum cc_err pending_date_of(struct store_sqlite *s, int64_t seq, int64_t *date,
                                   struct cc_error *err)
{
    sqlite3_stmt *st = stmt_get(s, S_PENDING_DATE);
    sqlite3_bind_int64(st, 1, seq);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *date = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? CC_OK : db_error(s, err, "reading a pending transfer's date");
}

static enum cc_err sqlite_account_effects(struct store *b, const char *id, int64_t at,
                                          store_effect_fn fn, void *ctx, struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    int64_t next = 0, account = 0;
    enum cc_err found = account_seq(s, id, &account, &next, err);
    if (found != CC_OK) return found;
    while (next != 0) {
        struct chain_link link = {0};
        enum cc_err rc = chain_step(s, account, next, &link, err);
        if (rc != CC_OK) return rc;
        if (link.date <= at) {
            struct store_effect e = {.debit = link.debit, .date = link.date,
                                     .pending_date = link.date, .posted = link.effect_posted,
                                     .pending = link.effect_pending};
            /* A release converts at the date its reservation did, so the two cancel. */
            if (link.resolution) {
                rc = pending_date_of(s, next, &e.pending_date, err);
                if (rc != CC_OK) return rc;
            }
            if (fn(ctx, &e) != 0) break;
        }
        next = link.prev;
    }
    return CC_OK;
}

static enum cc_err sqlite_balance(struct store *b, const char *id, int64_t at,
                                  store_balance_fn fn, void *ctx, struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    sqlite3_stmt *st = stmt_get(s, S_ACCOUNT_GET);
    bind_text(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? cc_error_set(err, CC_ERR_NOT_FOUND, "no account %s", id)
                                 : db_error(s, err, "reading an account");
    }
    struct ledger_account a = row_account(st);
    char unit[LEDGER_UNIT_CODE_BYTES_MAX + 1];
    snprintf(unit, sizeof unit, "%s", a.unit);
    struct store_balance bal = {
        .id = id, .unit = unit, .accounts = 1, .debits_pending = a.debits_pending,
        .debits_posted = a.debits_posted, .credits_pending = a.credits_pending,
        .credits_posted = a.credits_posted,
    };
    int64_t seq = a.seq;
    sqlite3_reset(st);
    /* Amounts are shown in the unit's scale: a guess would misstate them a hundredfold. */
    sqlite3_stmt *us = stmt_get(s, S_UNIT_GET);
    bind_text(us, 1, unit);
    int unit_rc = sqlite3_step(us);
    enum cc_err unit_error = CC_OK;
    if (unit_rc == SQLITE_ROW)
        bal.scale = sqlite3_column_int(us, 1);
    else if (unit_rc == SQLITE_DONE)
        unit_error = cc_error_set(err, CC_ERR_STORE,
                                  "%s: database is damaged: account %s names unit %s, which is "
                                  "missing", s->path, id, unit);
    else
        unit_error = db_error(s, err, "reading a unit");
    sqlite3_reset(us);
    if (unit_error != CC_OK) return unit_error;
    if (at != INT64_MAX) {
        enum cc_err e = balance_at(s, seq, a.history_seq, at, &bal, err);
        if (e != CC_OK) return e;
    }
    fn(ctx, &bal);
    return CC_OK;
}

/* Adds b's balances into sum with overflow checks. */
static bool balance_add(struct store_balance *sum, int64_t dp, int64_t dpo, int64_t cp,
                        int64_t cpo)
{
    return !__builtin_add_overflow(sum->debits_pending, dp, &sum->debits_pending) &&
           !__builtin_add_overflow(sum->debits_posted, dpo, &sum->debits_posted) &&
           !__builtin_add_overflow(sum->credits_pending, cp, &sum->credits_pending) &&
           !__builtin_add_overflow(sum->credits_posted, cpo, &sum->credits_posted);
}

static enum cc_err sqlite_balance_prefix(struct store *b, const char *prefix, int64_t at,
                                         store_balance_fn fn, void *ctx, struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    bool as_of = at != INT64_MAX;
    /* Rows come ordered by unit; emit a sum each time the unit changes. */
    struct store_prefix_range range;
    store_prefix_range(prefix, &range);
    sqlite3_stmt *st = stmt_get(s, as_of ? S_PREFIX_AT : S_PREFIX_NOW);
    bind_prefix(st, &range);
    char unit[LEDGER_UNIT_CODE_BYTES_MAX + 1] = "";
    struct store_balance sum = {.id = prefix, .unit = unit};
    int rc;
    bool overflow = false;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *row_unit_code = col_text(st, 0);
        if (strcmp(row_unit_code, unit) != 0) {
            if (sum.accounts > 0) fn(ctx, &sum);
            snprintf(unit, sizeof unit, "%s", row_unit_code);
            sum = (struct store_balance){.id = prefix, .unit = unit,
                                         .scale = sqlite3_column_int(st, 1)};
        }
        sum.accounts++;
        if (as_of) {
            struct store_balance one = {0};
            /* balance_at uses another statement; this one stays positioned. */
            enum cc_err e = balance_at(s, sqlite3_column_int64(st, 2),
                                       sqlite3_column_int64(st, 3), at, &one, err);
            if (e != CC_OK) {
                sqlite3_reset(st);
                return e;
            }
            overflow |= !balance_add(&sum, one.debits_pending, one.debits_posted,
                                     one.credits_pending, one.credits_posted);
        } else {
            overflow |= !balance_add(&sum, sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3),
                                     sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5));
        }
        if (overflow) break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        enum cc_err e = db_error(s, err, "summing balances");
        sqlite3_reset(st);
        return e;
    }
    sqlite3_reset(st);
    if (overflow)
        return cc_error_set(err, CC_ERR_REJECTED,
                            "the sum over prefix \"%s\" in %s exceeds 2^63-1", prefix, unit);
    if (sum.accounts > 0) fn(ctx, &sum);
    return CC_OK;
}

/* Per account row number, what its transfers add up to while scanning them. */
struct account_sums {
    int64_t balances[4]; /* debits_pending, debits_posted, credits_pending, credits_posted */
    int64_t last_seq;    /* the latest row seen naming the account */
};

/* Adds one side of a transfer row into its account's sums; false on a broken chain. */
static bool sums_add(struct account_sums *sums, int64_t account, int64_t accounts_max,
                     int64_t seq, int64_t prev, bool debit, int64_t posted, int64_t pending)
{
    if (account < 1 || account > accounts_max) return false;
    struct account_sums *a = &sums[account];
    if (prev != a->last_seq) return false;
    a->last_seq = seq;
    int64_t *b = a->balances + (debit ? 0 : 2);
    return !__builtin_add_overflow(b[0], pending, &b[0]) &&
           !__builtin_add_overflow(b[1], posted, &b[1]);
}

/*
 * One pass over every transfer in row order: each row must continue both of
 * its accounts' chains, and each account's balances and latest row must be
 * what its transfers add up to.
 */
static enum cc_err sqlite_check_transfers(struct store *b, struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    int64_t accounts_max = 0;
    enum cc_err rc = max_seq(s, S_MAX_ACCOUNT_SEQ, &accounts_max, err);
    if (rc != CC_OK) return rc;
    struct account_sums *sums = calloc((size_t)accounts_max + 1, sizeof *sums);
    if (sums == NULL) return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    sqlite3_stmt *st = stmt_get(s, S_CHECK_SCAN);
    int step;
    while (rc == CC_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0);
        int64_t posted = sqlite3_column_int64(st, 5), pending = sqlite3_column_int64(st, 6);
        if (!sums_add(sums, sqlite3_column_int64(st, 1), accounts_max, seq,
                      sqlite3_column_int64(st, 3), true, posted, pending) ||
            !sums_add(sums, sqlite3_column_int64(st, 2), accounts_max, seq,
                      sqlite3_column_int64(st, 4), false, posted, pending))
            rc = cc_error_set(err, CC_ERR_STORE,
                              "%s: transfer row %lld does not continue its accounts' chains",
                              s->path, (long long)seq);
    }
    if (rc == CC_OK && step != SQLITE_DONE) rc = db_error(s, err, "scanning transfers");
    sqlite3_reset(st);
    st = stmt_get(s, S_ACCOUNTS_ALL);
    while (rc == CC_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct ledger_account a = row_account(st);
        const struct account_sums *sum = &sums[a.seq >= 1 && a.seq <= accounts_max ? a.seq : 0];
        if (a.debits_pending != sum->balances[0] || a.debits_posted != sum->balances[1] ||
            a.credits_pending != sum->balances[2] || a.credits_posted != sum->balances[3])
            rc = cc_error_set(err, CC_ERR_STORE,
                              "account %s: balances differ from the sum of its transfers", a.id);
        else if (a.history_seq != sum->last_seq)
            rc = cc_error_set(err, CC_ERR_STORE,
                              "account %s: its latest transfer is row %lld, not row %lld", a.id,
                              (long long)sum->last_seq, (long long)a.history_seq);
    }
    if (rc == CC_OK && step != SQLITE_DONE) rc = db_error(s, err, "reading accounts");
    sqlite3_reset(st);
    free(sums);
    return rc;
}

/* ---------------------------------------------------------------- the audit log */

static enum cc_err sqlite_event_append(struct store *b, const struct store_event *e,
                                       const struct store_checkpoint *c, struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    assert(e->body != NULL && e->seq == c->size);
    sqlite3_stmt *st = stmt_get(s, S_EVENT_INSERT);
    sqlite3_bind_int64(st, 1, e->seq);
    sqlite3_bind_int64(st, 2, e->time);
    sqlite3_bind_text(st, 3, e->actor, -1, SQLITE_STATIC);
    sqlite3_bind_blob64(st, 4, e->body, e->body_size, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, e->leaf, (int)e->leaf_size, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, e->ts_last);
    enum cc_err rc = step_done(s, st, err, "recording the audit event");
    if (rc != CC_OK) return rc;
    st = stmt_get(s, S_CHECKPOINT_INSERT);
    sqlite3_bind_int64(st, 1, c->size);
    sqlite3_bind_int64(st, 2, c->time);
    sqlite3_bind_blob(st, 3, c->root, (int)c->root_size, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, c->frontier, (int)c->frontier_size, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, c->note, -1, SQLITE_STATIC);
    return step_done(s, st, err, "recording the audit checkpoint");
}

static enum cc_err sqlite_events_last(struct store *b, int64_t *seq, struct cc_error *err)
{
    return max_seq(sq(b), S_EVENTS_LAST, seq, err);
}

static enum cc_err sqlite_transfers_last(struct store *b, int64_t *seq, struct cc_error *err)
{
    return max_seq(sq(b), S_MAX_TRANSFER_SEQ, seq, err);
}

static struct store_event row_event(sqlite3_stmt *st)
{
    return (struct store_event){
        .seq = sqlite3_column_int64(st, 0), .time = sqlite3_column_int64(st, 1),
        .ts_last = sqlite3_column_int64(st, 2), .actor = col_text(st, 3),
        .body = (const char *)sqlite3_column_blob(st, 4),
        .body_size = (size_t)sqlite3_column_bytes(st, 4),
        .leaf = sqlite3_column_blob(st, 5), .leaf_size = (size_t)sqlite3_column_bytes(st, 5),
    };
}

static struct store_checkpoint row_checkpoint(sqlite3_stmt *st)
{
    return (struct store_checkpoint){
        .size = sqlite3_column_int64(st, 0), .time = sqlite3_column_int64(st, 1),
        .root = sqlite3_column_blob(st, 2), .root_size = (size_t)sqlite3_column_bytes(st, 2),
        .frontier = sqlite3_column_blob(st, 3),
        .frontier_size = (size_t)sqlite3_column_bytes(st, 3), .note = col_text(st, 4),
    };
}

/*
 * A body stored deflated (its first byte is not canonical JSON's '{') is
 * inflated into s->inflated, which e then points at until the next event.
 * One that does not inflate whole (or past STORE_EVENT_BYTES_MAX) is a
 * damaged or altered log: it is handed back as stored, and does not hash
 * to its leaf.
 */
static enum cc_err event_inflate(struct store_sqlite *s, struct store_event *e,
                                 struct cc_error *err)
{
    if (e->body == NULL || e->body_size == 0 || e->body[0] == '{') return CC_OK;
    z_stream z = {.next_in = (Bytef *)e->body, .avail_in = (uInt)e->body_size};
    if (e->body_size > UINT_MAX || inflateInit(&z) != Z_OK)
        return cc_error_set(err, CC_ERR_NOMEM, "out of memory reading the audit log");
    size_t used = 0;
    int zrc = Z_OK;
    while (zrc == Z_OK) {
        if (used == s->inflated_capacity) {
            size_t capacity = s->inflated_capacity ? 2 * s->inflated_capacity : 1 << 20;
            if (capacity > STORE_EVENT_BYTES_MAX) break; /* larger than any event */
            char *p = realloc(s->inflated, capacity);
            if (p == NULL) {
                zrc = Z_MEM_ERROR;
                break;
            }
            s->inflated = p;
            s->inflated_capacity = capacity;
        }
        z.next_out = (Bytef *)s->inflated + used;
        z.avail_out = (uInt)(s->inflated_capacity - used);
        zrc = inflate(&z, Z_NO_FLUSH);
        used = s->inflated_capacity - z.avail_out;
    }
    bool whole = zrc == Z_STREAM_END && z.avail_in == 0;
    inflateEnd(&z);
    if (!whole && zrc == Z_MEM_ERROR)
        return cc_error_set(err, CC_ERR_NOMEM, "out of memory reading the audit log");
    if (!whole) return CC_OK; /* handed back as stored: it hashes to no leaf, verify says so */
    e->body = s->inflated;
    e->body_size = used;
    return CC_OK;
}

/* Steps st, calling fn for each event row until fn returns non-zero. */
static enum cc_err each_event(struct store_sqlite *s, sqlite3_stmt *st, store_event_fn fn,
                              void *ctx, struct cc_error *err)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_event e = row_event(st);
        if (e.actor == NULL) e.actor = "";
        enum cc_err inflated = event_inflate(s, &e, err);
        if (inflated != CC_OK) {
            sqlite3_reset(st);
            return inflated;
        }
        if (fn(ctx, &e) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? CC_OK : db_error(s, err, "reading the audit log");
}

static enum cc_err sqlite_events_each(struct store *b, int64_t after, uint32_t limit,
                                      store_event_fn fn, void *ctx, struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    sqlite3_stmt *st = stmt_get(s, S_EVENTS_AFTER);
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, limit == 0 ? -1 : (int64_t)limit);
    return each_event(s, st, fn, ctx, err);
}

static enum cc_err sqlite_leaves_each(struct store *b, int64_t size, store_event_fn fn,
                                      void *ctx, struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    sqlite3_stmt *st = stmt_get(s, S_LEAVES);
    sqlite3_bind_int64(st, 1, size);
    return each_event(s, st, fn, ctx, err);
}

static enum cc_err sqlite_event_at(struct store *b, int64_t timestamp, store_event_fn fn,
                                   void *ctx, struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    sqlite3_stmt *st = stmt_get(s, S_EVENT_AT);
    sqlite3_bind_int64(st, 1, timestamp);
    return each_event(s, st, fn, ctx, err);
}

static enum cc_err each_checkpoint(struct store_sqlite *s, sqlite3_stmt *st,
                                   store_checkpoint_fn fn, void *ctx, struct cc_error *err)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_checkpoint c = row_checkpoint(st);
        if (c.note == NULL) c.note = "";
        if (fn(ctx, &c) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? CC_OK : db_error(s, err, "reading the audit checkpoints");
}

static enum cc_err sqlite_checkpoint_get(struct store *b, int64_t size, store_checkpoint_fn fn,
                                         void *ctx, struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    sqlite3_stmt *st = stmt_get(s, size > 0 ? S_CHECKPOINT_GET : S_CHECKPOINT_LATEST);
    if (size > 0) sqlite3_bind_int64(st, 1, size);
    return each_checkpoint(s, st, fn, ctx, err);
}

static enum cc_err sqlite_checkpoints_each(struct store *b, store_checkpoint_fn fn, void *ctx,
                                           struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    return each_checkpoint(s, stmt_get(s, S_CHECKPOINTS_ALL), fn, ctx, err);
}

/* ---------------------------------------------------------------- comparing two ledgers */

/*
 * The tables a ledger's events determine, each with the columns that order
 * it (its primary key) and, where the key is a row number, the column that
 * names a row for people. The audit log is not among them: it is checked on
 * its own. The access tokens are: their creations and revocations are events.
 */
static const struct compared_table {
    const char *name;
    const char *keys[4];  /* NULL-terminated */
    const char *label;    /* or NULL */
} compared_tables[] = {
    {"units", {"code", NULL}, NULL},
    {"accounts", {"seq", NULL}, "id"},
    {"transfers", {"seq", NULL}, "id"},
    {"conditions", {"seq", NULL}, "name"},
    {"gates", {"condition", "transfer", NULL}, NULL},
    {"requirements", {"id", NULL}, NULL},
    {"rates", {"unit", "to_unit", "date", NULL}, NULL},
    {"parties", {"id", NULL}, NULL},
    {"approvals", {"seq", NULL}, "id"},
    {"meta", {"key", NULL}, NULL},
    {"tokens", {"id", NULL}, "user"},
};

#define COMPARE_SQL_BYTES 1024
#define COMPARE_VALUE_BYTES 80

/* A value for a message: text as is (cut), integers, reals, blobs in hex, null. */
static void value_text(sqlite3_stmt *st, int i, char *out, size_t size)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL: snprintf(out, size, "null"); return;
    case SQLITE_BLOB: {
        const unsigned char *p = sqlite3_column_blob(st, i);
        int n = sqlite3_column_bytes(st, i);
        size_t used = (size_t)snprintf(out, size, "x'");
        for (int k = 0; k < n && used + 4 < size; k++)
            used += (size_t)snprintf(out + used, size - used, "%02x", p[k]);
        snprintf(out + used, size - used, "'");
        return;
    }
    default: snprintf(out, size, "%s", col_text(st, i)); return;
    }
}

/* The value of the column named `name` of the row st is on, for a message. */
static void named_value(sqlite3_stmt *st, const char *name, char *out, size_t size)
{
    out[0] = '\0';
    for (int i = 0; i < sqlite3_column_count(st); i++)
        if (strcmp(sqlite3_column_name(st, i), name) == 0) value_text(st, i, out, size);
}

/* "seq 42 (id t-9)" or "condition c transfer 4", from the row st is on. */
static void row_name(const struct compared_table *t, sqlite3_stmt *st, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    char v[COMPARE_VALUE_BYTES];
    for (int k = 0; t->keys[k] != NULL && used < size; k++) {
        named_value(st, t->keys[k], v, sizeof v);
        used += (size_t)snprintf(out + used, size - used, "%s%s %s", k ? " " : "", t->keys[k], v);
    }
    if (t->label == NULL || used >= size) return;
    named_value(st, t->label, v, sizeof v);
    snprintf(out + used, size - used, " (%s %s)", t->label, v);
}

static bool values_equal(sqlite3_stmt *a, sqlite3_stmt *b, int i)
{
    int type = sqlite3_column_type(a, i);
    if (type != sqlite3_column_type(b, i)) return false;
    switch (type) {
    case SQLITE_NULL: return true;
    case SQLITE_INTEGER: return sqlite3_column_int64(a, i) == sqlite3_column_int64(b, i);
    case SQLITE_FLOAT: return sqlite3_column_double(a, i) == sqlite3_column_double(b, i);
    default: {
        int n = sqlite3_column_bytes(a, i);
        return n == sqlite3_column_bytes(b, i) &&
               memcmp(sqlite3_column_blob(a, i), sqlite3_column_blob(b, i), (size_t)n) == 0;
    }
    }
}

/* Describes the difference at the key the `first` statement is on. */
static enum cc_err describe_row(struct store_sqlite *s, const struct compared_table *t,
                                sqlite3_stmt *first, char *problem, size_t size,
                                struct cc_error *err)
{
    sqlite3_stmt *rows[2] = {NULL, NULL}; /* the ledger's, the events' */
    const char *schemas[2] = {"other", "main"};
    bool found[2] = {false, false};
    enum cc_err rc = CC_OK;
    for (int w = 0; w < 2 && rc == CC_OK; w++) {
        char query[COMPARE_SQL_BYTES];
        size_t used = (size_t)snprintf(query, sizeof query, "SELECT * FROM %s.%s WHERE ",
                                       schemas[w], t->name);
        for (int k = 0; t->keys[k] != NULL && used < sizeof query; k++)
            used += (size_t)snprintf(query + used, sizeof query - used, "%s%s IS ?%d",
                                     k ? " AND " : "", t->keys[k], k + 1);
        if (sqlite3_prepare_v2(s->db, query, -1, &rows[w], NULL) != SQLITE_OK) {
            rc = db_error(s, err, "comparing tables");
            break;
        }
        for (int k = 0; t->keys[k] != NULL; k++)
            sqlite3_bind_value(rows[w], k + 1, sqlite3_column_value(first, k));
        int step = sqlite3_step(rows[w]);
        found[w] = step == SQLITE_ROW;
        if (step != SQLITE_ROW && step != SQLITE_DONE) rc = db_error(s, err, "comparing tables");
    }
    if (rc == CC_OK) {
        char name[2 * COMPARE_VALUE_BYTES + 64];
        row_name(t, found[0] ? rows[0] : rows[1], name, sizeof name);
        snprintf(problem, size, "%s row %s differs from what the events produce", t->name, name);
        if (!found[1]) {
            snprintf(problem, size, "%s: row %s is not produced by any event", t->name, name);
        } else if (!found[0]) {
            snprintf(problem, size, "%s: row %s is missing from the ledger", t->name, name);
        } else {
            int columns = sqlite3_column_count(rows[0]);
            for (int i = 0; i < columns; i++) {
                if (values_equal(rows[0], rows[1], i)) continue;
                char mine[COMPARE_VALUE_BYTES], theirs[COMPARE_VALUE_BYTES];
                value_text(rows[0], i, mine, sizeof mine);
                value_text(rows[1], i, theirs, sizeof theirs);
                snprintf(problem, size, "%s row %s: %s is %s in the ledger, %s by the events",
                         t->name, name, sqlite3_column_name(rows[0], i), mine, theirs);
                break;
            }
        }
    }
    sqlite3_finalize(rows[0]);
    sqlite3_finalize(rows[1]);
    return rc;
}

/*
 * The first key, in key order, at which the table differs between the two
 * databases (a row one has and the other lacks, or has otherwise); then what
 * differs there.
 */
static enum cc_err compare_table(struct store_sqlite *s, const struct compared_table *t,
                                 bool *same, char *problem, size_t size, struct cc_error *err)
{
    char keys[128] = "";
    for (int k = 0; t->keys[k] != NULL; k++)
        snprintf(keys + strlen(keys), sizeof keys - strlen(keys), "%s%s", k ? ", " : "",
                 t->keys[k]);
    char sql[COMPARE_SQL_BYTES];
    snprintf(sql, sizeof sql,
             "SELECT %s%s%s FROM (SELECT * FROM other.%s EXCEPT SELECT * FROM main.%s)"
             " UNION SELECT %s%s%s FROM (SELECT * FROM main.%s EXCEPT SELECT * FROM other.%s)"
             " ORDER BY %s LIMIT 1",
             keys, t->label ? ", " : "", t->label ? t->label : "", t->name, t->name, keys,
             t->label ? ", " : "", t->label ? t->label : "", t->name, t->name, keys);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_error(s, err, "comparing tables");
    int step = sqlite3_step(st);
    enum cc_err rc = CC_OK;
    if (step == SQLITE_ROW) {
        *same = false;
        rc = describe_row(s, t, st, problem, size, err);
    } else if (step != SQLITE_DONE) {
        rc = db_error(s, err, "comparing tables");
    }
    sqlite3_finalize(st);
    return rc;
}

static enum cc_err sqlite_compare_tables(struct store *b, const char *other_path, bool *same,
                                         char *problem, size_t size, struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    *same = true;
    problem[0] = '\0';
    /* Nothing this connection does from here on may write: the other file is only read. */
    enum cc_err rc = exec_sql(s, "PRAGMA query_only = 1", err);
    sqlite3_stmt *st = NULL;
    if (rc == CC_OK &&
        sqlite3_prepare_v2(s->db, "ATTACH DATABASE ?1 AS other", -1, &st, NULL) != SQLITE_OK)
        rc = db_error(s, err, "attaching the ledger to compare");
    if (rc == CC_OK) {
        sqlite3_bind_text(st, 1, other_path, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) rc = db_error(s, err, "attaching the ledger");
    }
    sqlite3_finalize(st);
    if (rc != CC_OK) return rc;
    size_t tables = sizeof compared_tables / sizeof compared_tables[0];
    for (size_t i = 0; i < tables && rc == CC_OK && *same; i++)
        rc = compare_table(s, &compared_tables[i], same, problem, size, err);
    sqlite3_exec(s->db, "DETACH DATABASE other", NULL, NULL, NULL);
    return rc;
}

/* ---------------------------------------------------------------- access tokens */

static struct store_token row_token(sqlite3_stmt *st)
{
    struct store_token t = {
        .id = col_text(st, 0), .user = col_text(st, 2), .role = col_text(st, 3),
        .party = col_text(st, 4), .created = sqlite3_column_int64(st, 5),
        .expires = sqlite3_column_int64(st, 6), .revoked = sqlite3_column_int64(st, 7),
    };
    const void *hash = sqlite3_column_blob(st, 1);
    int n = sqlite3_column_bytes(st, 1);
    if (hash != NULL && n == STORE_TOKEN_HASH_BYTES) memcpy(t.hash, hash, STORE_TOKEN_HASH_BYTES);
    return t;
}

static enum cc_err sqlite_token_get(struct store *b, const char *id, store_token_fn fn,
                                    void *ctx, struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    sqlite3_stmt *st = stmt_get(s, S_TOKEN_GET);
    bind_text(st, 1, id);
    bool found = false;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        struct store_token t = row_token(st);
        found = true;
        fn(ctx, &t);
    }
    enum cc_err result = rc == SQLITE_ROW || rc == SQLITE_DONE ? CC_OK
                                                               : db_error(s, err, "reading a token");
    sqlite3_reset(st);
    if (result == CC_OK && !found) return CC_ERR_NOT_FOUND;
    return result;
}

static enum cc_err sqlite_tokens_list(struct store *b, store_token_fn fn, void *ctx,
                                      struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    sqlite3_stmt *st = stmt_get(s, S_TOKENS_LIST);
    FOR_EACH_ROW(s, st, err, "reading tokens", struct store_token row_ = row_token(st), fn, ctx);
    return CC_OK;
}

static enum cc_err sqlite_token_insert(struct store *b, const struct store_token *t,
                                       struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    sqlite3_stmt *st = stmt_get(s, S_TOKEN_INSERT);
    bind_text(st, 1, t->id);
    sqlite3_bind_blob(st, 2, t->hash, STORE_TOKEN_HASH_BYTES, SQLITE_STATIC);
    bind_text(st, 3, t->user);
    bind_text(st, 4, t->role);
    bind_text(st, 5, t->party);
    sqlite3_bind_int64(st, 6, t->created);
    if (t->expires != 0) sqlite3_bind_int64(st, 7, t->expires);
    return step_done(s, st, err, "storing a token");
}

static enum cc_err sqlite_token_revoke(struct store *b, const char *id, int64_t now,
                                       struct cc_error *err)
{
    struct store_sqlite *s = sq(b);
    sqlite3_stmt *st = stmt_get(s, S_TOKEN_REVOKE);
    bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    enum cc_err rc = step_done(s, st, err, "revoking a token");
    if (rc == CC_OK && sqlite3_changes(s->db) == 0) return CC_ERR_NOT_FOUND;
    return rc;
}

static const struct store_driver sqlite_driver = {
    .name = "sqlite",
    .close = sqlite_close,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .load_unit = sqlite_load_unit,
    .load_account = sqlite_load_account,
    .load_transfer = sqlite_load_transfer,
    .load_many = sqlite_load_many,
    .due_pending = sqlite_due_pending,
    .timestamp_last = sqlite_timestamp_last,
    .write = sqlite_write,
    .unit_get = sqlite_unit_get,
    .units_list = sqlite_units_list,
    .account_get = sqlite_account_get,
    .accounts_list = sqlite_accounts_list,
    .transfer_get = sqlite_transfer_get,
    .transfers_id_prefix = sqlite_transfers_id_prefix,
    .history = sqlite_history,
    .balance = sqlite_balance,
    .balance_prefix = sqlite_balance_prefix,
    .accounts_all = sqlite_accounts_all,
    .check_transfers = sqlite_check_transfers,
    .load_conditions = sqlite_load_conditions,
    .load_requirements = sqlite_load_requirements,
    .load_rates = sqlite_load_rates,
    .load_gated = sqlite_load_gated,
    .pending_all = sqlite_pending_all,
    .transfers_each = sqlite_transfers_each,
    .account_effects = sqlite_account_effects,
    .load_party = sqlite_load_party,
    .load_approval = sqlite_load_approval,
    .load_approvals = sqlite_load_approvals,
    .parties_list = sqlite_parties_list,
    .token_get = sqlite_token_get,
    .tokens_list = sqlite_tokens_list,
    .token_insert = sqlite_token_insert,
    .token_revoke = sqlite_token_revoke,
    .event_append = sqlite_event_append,
    .events_last = sqlite_events_last,
    .transfers_last = sqlite_transfers_last,
    .events_each = sqlite_events_each,
    .leaves_each = sqlite_leaves_each,
    .event_at = sqlite_event_at,
    .checkpoint_get = sqlite_checkpoint_get,
    .checkpoints_each = sqlite_checkpoints_each,
    .compare_tables = sqlite_compare_tables,
};
