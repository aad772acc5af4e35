/*
 * bench.c — concord-bench: how many transfers per second libconcord commits,
 * durably, on this machine (`make bench`).
 *
 * Not a timed test: a program that measures. Each workload runs in a forked
 * child on a fresh database file in a temporary directory (removed after),
 * opened with the store's own durable settings (WAL, synchronous=FULL, one
 * storage transaction and one fsync'd commit per batch). A setup batch
 * creates one unit and 10,000 accounts; then the workload's operations go
 * through concord_apply() in batches of BENCH_BATCH_OPS (8,189, the API's
 * batch limit). Operations are built directly in C as `struct ledger_op`:
 * no JSON is encoded or decoded, so the figures are the engine and the store
 * alone, not the CLI's or the HTTP server's parsing.
 *
 *   W1  single-phase transfers between accounts drawn uniformly
 *   W2  as W1, accounts drawn from a Zipf law (s = 1) and half the transfers
 *       debiting one of 10 hot accounts
 *   W3  30% pending transfers, resolved in the next batch by a post (full or
 *       partial) or a void, or left to expire two batches later; a fake clock
 *       (concord_set_clock) advances one second per batch
 *   W4  linked chains of 2–5 transfers; 1% of chains hold a transfer that
 *       breaks a limit (exceeds_credits) so the whole chain fails
 *   W5  5% of the operations repeat an earlier transfer (same id and
 *       fields): they must come back `exists`
 *   W1U W1 with the audit log turned off (concord_set_audit): W1 against it
 *       is what the log costs, printed as a ratio after the table
 *
 * Two more time one call each, after untimed setup batches that create
 * --transfers / 10 (100,000) pending transfers gated by `if`:
 *
 *   R   one concord_apply() of a single resolve (ceasefire met) that settles
 *       every one of them, gated directly, through derived conditions, or by
 *       an expression; target < 1 s. Checked: status resolved, posted = all,
 *       a sample read back posted, Σ posted over every account = Σ gated.
 *   F   report_forecast() from end to end (read the pendings, group them by
 *       `if`, enumerate exactly the 2^20 assignments of 20 open conditions)
 *       over 300 distinct expressions and 10 requirements; target < 2 s.
 *       Checked: exact, 20 conditions, and the expected total over every
 *       account equal to an independent Σ amount × P(`if` met).
 *
 * Figures per workload: transfers committed (results with status created,
 * including posts and voids), wall-clock seconds over the timed batches
 * (CLOCK_MONOTONIC), transfers/s, the p50 and p99 latency of one
 * concord_apply() call, and the child's peak RSS (wait4's ru_maxrss), plus
 * counts of outcomes showing that each workload did what it claims (R and F:
 * the seconds of their one call, in a second table). Every
 * choice is a pure function of (workload, index) through a 64-bit mixer, so
 * runs are repeatable and a duplicate can be rebuilt from its index alone.
 */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "app/app.h"
#include "app/report.h"
#include "cond/cond.h"
#include "util/timefmt.h"
#ifdef CONCORD_BENCH_PG
#include "pg.h"
#endif

/* ---------------------------------------------------------------- limits and shapes */

#define BENCH_BATCH_OPS 8189                 /* operations per concord_apply() call */
#define BENCH_ACCOUNTS 10000                 /* accounts every workload spreads over */
#define BENCH_TRANSFERS_DEFAULT 1000000
#define BENCH_TRANSFERS_MAX 100000000
#define BENCH_ID_BYTES 32                    /* "w1-000000001.post" and its NUL */
#define BENCH_ACCOUNT_ID_BYTES 16            /* "acc.00042" */
#define BENCH_AMOUNT_MAX 1000                /* amounts are 1 … this, minor units */
#define BENCH_HOT_ACCOUNTS 10                /* W2: hot debit accounts */
#define BENCH_ZIPF_S 1.0                     /* W2: the Zipf exponent */
#define BENCH_ZIPF_STRIDE 7919               /* W2: scatters Zipf ranks over ids */
#define BENCH_CHAIN_MIN 2                    /* W4 */
#define BENCH_CHAIN_MAX 5
#define BENCH_CHAIN_FAIL_PER_10000 100       /* W4: 1% of chains fail */
#define BENCH_DUP_PER_10000 500              /* W5: 5% duplicates */
#define BENCH_DUP_WINDOW 50000               /* W5: duplicates repeat one of the last N */
#define BENCH_CLOCK_START_NS (INT64_C(1798761600) * TIME_NS_PER_SECOND) /* 2027-01-01 */
#define BENCH_CLOCK_TICK_NS TIME_NS_PER_SECOND /* W3: the fake clock's step per batch */
#define BENCH_EXPIRE_TICKS 2                 /* W3: expiring pendings live 2 batches */
#define BENCH_RESOLVE_TICKS 10               /* W3: the others would expire after 10 */
#define BENCH_NOTES_BYTES 512
#define BENCH_DIR_BYTES 3072                 /* the temporary directory's path */
#define BENCH_PATH_BYTES 3584                /* a database file's path */
#define BENCH_MESSAGE_BYTES (CC_ERROR_MESSAGE_BYTES_MAX + 128)
#define BENCH_GATED_PER_TRANSFERS 10         /* R, F: pending transfers = --transfers / 10 */
#define BENCH_R_TARGET_SECONDS 1.0           /* R: one resolution settling 100,000 */
#define BENCH_F_TARGET_SECONDS 2.0           /* F: exact forecast, 20 conditions, 100,000 */
#define BENCH_R_SAMPLE 1000                  /* R: gated transfers read back afterwards */
#define BENCH_F_CONDITIONS 20                /* F: open base conditions (exact up to 20) */
#define BENCH_F_DERIVED 3                    /* F: derived conditions over them */
#define BENCH_F_EXPRESSIONS 300              /* F: distinct `if` expressions */
#define BENCH_F_EXPR_BYTES 96                /* F: one expression's text and its NUL */
#define BENCH_F_REQUIREMENTS 10              /* F: requirements forecast */
#define BENCH_F_GROUPS 10                    /* R, F: accounts acc.G.NNN, G = 0 … 9 */
_Static_assert(BENCH_ACCOUNTS / BENCH_F_GROUPS == 1000, "acc.G.NNN: three digits per group");

static const char *const bench_limited_account = "acc.limited"; /* W4: fails chains */

/* W1 … W5 measure throughput; R and F time one call over many gated pendings. */
enum workload { W1 = 0, W2, W3, W4, W5, W1U, WR, WF, WORKLOAD_COUNT };

static const char *const workload_names[WORKLOAD_COUNT] = {"W1", "W2", "W3", "W4", "W5", "W1U",
                                                           "R", "F"};
static const char *const workload_titles[WORKLOAD_COUNT] = {
    "uniform single-phase transfers",
    "Zipf accounts, 10 hot debit accounts take half",
    "30% pending: posted (some partially), voided or expired",
    "linked chains of 2-5, 1% of chains failing",
    "5% duplicate ids (idempotent retries)",
    "W1 without the audit log",
    "one resolve settling every pending transfer it gates (direct and derived)",
    "exact forecast: 20 open conditions, 300 distinct `if`, 10 requirements",
};

static bool workload_is_call(enum workload w) { return w == WR || w == WF; }

/*
 * Who keeps the books: concord, or one of the PostgreSQL designs of
 * bench/pg/ledger.sql fed the same batches (W1 … W5 only).
 */
enum system { SYS_CONCORD = 0, SYS_PG_FUNC, SYS_PG_UPDATE, SYSTEM_COUNT };
static const char *const system_names[SYSTEM_COUNT] = {"concord", "pg-func", "pg-update"};

static bool workload_on_pg(enum workload w) { return w <= W5; }

/* W3: what becomes of a transfer, decided from its index (per 1000). */
enum w3_role { W3_PLAIN, W3_POST, W3_POST_PARTIAL, W3_VOID, W3_EXPIRE };

/* What a child sends back to the parent through a pipe. */
struct bench_result {
    int ok;                   /* 1 when the workload ran to its end */
    char message[BENCH_MESSAGE_BYTES]; /* why not, when ok is 0 */
    uint64_t ops;             /* operations applied in timed batches */
    uint64_t created;         /* of them, status created */
    uint64_t batches;         /* timed concord_apply() calls */
    double seconds;           /* wall clock over the timed batches */
    double p50_ms, p99_ms;    /* concord_apply() latency */
    uint64_t status[LEDGER_OP_TYPE_COUNT][LEDGER_STATUS_COUNT]; /* outcomes by op type */
    uint64_t pending_created; /* W3 */
    uint64_t posts_partial;   /* W3 */
    uint64_t expired;         /* W3: expiry-role pendings found expired afterwards */
    uint64_t expire_planned;  /* W3: pendings left to expire */
    uint64_t chains, chains_failing; /* W4 */
    uint64_t hot_debits;      /* transfers debiting one of the first BENCH_HOT_ACCOUNTS */
    uint64_t accounts_touched; /* distinct accounts per batch, summed over batches */
    int check_ok;             /* concord_check() after the run: 1 ok, 0 failed, -1 skipped */
    int64_t bytes;            /* the database on disk after the run (a checkpoint or close) */
    int balances;             /* PostgreSQL: 1 every balance equals concord's, 0 not, -1 unknown */
    char balances_problem[128];
    double check_seconds;
    /* R and F: the one timed call, and what the untimed setup built for it */
    uint64_t gated;           /* pending transfers created with `if` */
    double setup_seconds;     /* the untimed setup batches */
    uint64_t gate_kinds[4];   /* R: `if` by kind (see r_gates); F: unused */
    int32_t posted, voided;   /* R: the resolve's counts */
    uint64_t read_posted, read_total; /* R: sampled transfers read back posted */
    int64_t gated_amount;     /* R, F: Σ amounts of the gated pendings */
    struct store_balance all; /* R: every account summed (prefix acc.) after the resolve */
    bool exact;               /* F: report.summary */
    uint32_t conditions;
    uint64_t assignments;
    uint32_t requirements, expressions; /* F: forecast, distinct `if` texts */
    double expected_all, p_met_all;     /* F: the requirement over every account */
    int64_t target_all, p10_all, p50_all, p90_all;
};

struct options {
    uint64_t transfers;               /* per workload (R, F: a tenth, as gated pendings) */
    bool run[WORKLOAD_COUNT];
    bool systems[SYSTEM_COUNT];
    const char *dir;                  /* parent of the temporary directory */
    bool check;                       /* run concord_check() after each workload */
};

/* Everything one workload's child works with. */
struct bench {
    enum workload workload;
    uint64_t transfers;         /* transfer operations to issue (W3: plus resolutions) */
    struct concord *cc;
#ifdef CONCORD_BENCH_PG
    struct pg_ledger *pg;       /* instead of cc, for the PostgreSQL designs */
    enum ledger_status *statuses;
#endif
    struct ledger_op *ops;      /* BENCH_BATCH_OPS */
    struct ledger_result *results;
    char (*ids)[BENCH_ID_BYTES]; /* 2 per op: its id and a pending_id */
    uint32_t ids_used;
    char (*accounts)[BENCH_ACCOUNT_ID_BYTES]; /* BENCH_ACCOUNTS ids */
    double *zipf_cdf;           /* W2: BENCH_ACCOUNTS cumulative probabilities */
    uint8_t *touched;           /* BENCH_ACCOUNTS flags: named by this batch */
    double *latency_ms;         /* one per timed batch */
    size_t latency_count, latency_capacity;
    uint64_t next;              /* next transfer index to issue */
    uint64_t unique;            /* W5: distinct transfers issued so far */
    uint64_t batch_first, batch_end; /* W3: transfer indexes issued by the last batch */
    uint64_t chain_next;        /* W4: next chain index */
    int64_t clock_ns;           /* W3: the fake clock */
    struct bench_result *out;
    /* F: the `if` texts, what each gates, and what each account group receives */
    char (*exprs)[BENCH_F_EXPR_BYTES]; /* BENCH_F_EXPRESSIONS distinct texts */
    int64_t *expr_amount;       /* BENCH_F_EXPRESSIONS: pending amount gated by each */
    int64_t group_credits[BENCH_F_GROUPS]; /* pending amount credited to acc.G. */
};

/* ---------------------------------------------------------------- deterministic draws */

/* splitmix64's finalizer: a bijection that scatters every bit. */
static uint64_t mix64(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* The draw number `salt` for item `index` of workload w. */
static uint64_t draw(enum workload w, uint64_t index, uint64_t salt)
{
    return mix64(mix64(index) ^ (salt * UINT64_C(0x100000001b3)) ^ ((uint64_t)w << 56));
}

static double draw_unit(uint64_t x)
{
    return (double)(x >> 11) * 0x1.0p-53; /* [0, 1) */
}

static uint32_t zipf_account(const struct bench *b, uint64_t x)
{
    double u = draw_unit(x);
    uint32_t lo = 0, hi = BENCH_ACCOUNTS - 1;
    while (lo < hi) { /* first rank whose cumulative probability exceeds u */
        uint32_t mid = lo + (hi - lo) / 2;
        if (b->zipf_cdf[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    /* Rank 0 lands mid-range, away from the hot accounts 0 … BENCH_HOT_ACCOUNTS−1. */
    return (uint32_t)(((uint64_t)lo * BENCH_ZIPF_STRIDE + BENCH_ACCOUNTS / 2) % BENCH_ACCOUNTS);
}

/* The fields of transfer `index` (W3 and W5 rebuild them from the index). */
struct transfer_draw {
    uint32_t debit, credit; /* account numbers */
    int64_t amount;
};

static struct transfer_draw transfer_fields(const struct bench *b, uint64_t index)
{
    struct transfer_draw t;
    if (b->workload == W2) {
        uint64_t h = draw(b->workload, index, 1);
        t.debit = (h & 1) ? (uint32_t)((h >> 1) % BENCH_HOT_ACCOUNTS)
                          : zipf_account(b, draw(b->workload, index, 2));
        t.credit = zipf_account(b, draw(b->workload, index, 3));
    } else {
        t.debit = (uint32_t)(draw(b->workload, index, 1) % BENCH_ACCOUNTS);
        t.credit = (uint32_t)(draw(b->workload, index, 3) % BENCH_ACCOUNTS);
    }
    if (t.credit == t.debit) t.credit = (t.credit + 1) % BENCH_ACCOUNTS;
    t.amount = 1 + (int64_t)(draw(b->workload, index, 4) % BENCH_AMOUNT_MAX);
    assert(t.debit < BENCH_ACCOUNTS && t.credit < BENCH_ACCOUNTS);
    return t;
}

static enum w3_role w3_role(uint64_t index)
{
    uint64_t r = draw(W3, index, 5) % 1000;
    if (r < 700) return W3_PLAIN;
    if (r < 820) return W3_POST;         /* 12% of all: 40% of the pendings */
    if (r < 880) return W3_POST_PARTIAL; /* 6% */
    if (r < 940) return W3_VOID;         /* 6% */
    return W3_EXPIRE;                    /* 6% */
}

/* ---------------------------------------------------------------- building operations */

static char *id_next(struct bench *b)
{
    assert(b->ids_used < 2u * BENCH_BATCH_OPS);
    return b->ids[b->ids_used++];
}

static const char *transfer_id(struct bench *b, uint64_t index)
{
    char *id = id_next(b);
    snprintf(id, BENCH_ID_BYTES, "%s-%09llu", workload_names[b->workload],
             (unsigned long long)index);
    return id;
}

/* A single-phase transfer: the fields of `index`, ready for concord_apply. */
static void op_transfer(struct bench *b, struct ledger_op *op, uint64_t index)
{
    struct transfer_draw t = transfer_fields(b, index);
    uint32_t sides[2] = {t.debit, t.credit};
    for (int i = 0; i < 2; i++) {
        b->out->accounts_touched += !b->touched[sides[i]];
        b->touched[sides[i]] = 1;
    }
    b->out->hot_debits += t.debit < BENCH_HOT_ACCOUNTS;
    *op = (struct ledger_op){
        .type = LEDGER_OP_TRANSFER,
        .flags = LEDGER_OP_HAS_AMOUNT,
        .id = transfer_id(b, index),
        .debit = b->accounts[t.debit],
        .credit = b->accounts[t.credit],
        .amount = t.amount,
    };
}

/* W3: a post (full or partial) or a void of pending transfer `index`. */
static void op_resolution(struct bench *b, struct ledger_op *op, uint64_t index,
                          enum w3_role role)
{
    assert(role == W3_POST || role == W3_POST_PARTIAL || role == W3_VOID);
    const char *pending_id = transfer_id(b, index);
    char *id = id_next(b);
    snprintf(id, BENCH_ID_BYTES, "%s.%s", pending_id, role == W3_VOID ? "void" : "post");
    *op = (struct ledger_op){
        .type = role == W3_VOID ? LEDGER_OP_VOID : LEDGER_OP_POST,
        .id = id,
        .pending_id = pending_id,
    };
    if (role == W3_POST_PARTIAL) {
        struct transfer_draw t = transfer_fields(b, index);
        op->flags |= LEDGER_OP_HAS_AMOUNT;
        op->amount = t.amount / 2 > 0 ? t.amount / 2 : 1;
    }
}

/* ---------------------------------------------------------------- workloads: one batch each */

/* W1, W2: the next transfers, single-phase. */
static size_t fill_plain(struct bench *b)
{
    size_t n = 0;
    while (n < BENCH_BATCH_OPS && b->next < b->transfers) op_transfer(b, &b->ops[n++], b->next++);
    return n;
}

/* W3: resolutions of the last batch's pendings first, then new transfers. */
static size_t fill_w3(struct bench *b)
{
    size_t n = 0;
    for (uint64_t i = b->batch_first; i < b->batch_end; i++) {
        enum w3_role role = w3_role(i);
        if (role == W3_POST || role == W3_POST_PARTIAL || role == W3_VOID)
            op_resolution(b, &b->ops[n++], i, role);
    }
    assert(n < BENCH_BATCH_OPS);
    b->batch_first = b->next;
    while (n < BENCH_BATCH_OPS && b->next < b->transfers) {
        uint64_t index = b->next++;
        struct ledger_op *op = &b->ops[n++];
        op_transfer(b, op, index);
        enum w3_role role = w3_role(index);
        if (role == W3_PLAIN) continue;
        int64_t ticks = role == W3_EXPIRE ? BENCH_EXPIRE_TICKS : BENCH_RESOLVE_TICKS;
        op->flags |= LEDGER_OP_PENDING | LEDGER_OP_HAS_EXPIRES;
        op->expires = b->clock_ns + ticks * BENCH_CLOCK_TICK_NS;
        if (role == W3_EXPIRE) b->out->expire_planned++;
    }
    b->batch_end = b->next;
    return n;
}

/* W4: whole chains (a chain never straddles two batches). */
static size_t fill_w4(struct bench *b)
{
    size_t n = 0;
    while (n < BENCH_BATCH_OPS && b->next < b->transfers) {
        uint64_t chain = b->chain_next++;
        uint64_t h = draw(W4, chain, 6);
        size_t length = BENCH_CHAIN_MIN + (size_t)(h % (BENCH_CHAIN_MAX - BENCH_CHAIN_MIN + 1));
        if (length > BENCH_BATCH_OPS - n) length = BENCH_BATCH_OPS - n;
        if (length > b->transfers - b->next) length = (size_t)(b->transfers - b->next);
        bool fails = length >= BENCH_CHAIN_MIN &&
                     draw(W4, chain, 7) % 10000 < BENCH_CHAIN_FAIL_PER_10000;
        size_t failing = fails ? (size_t)(draw(W4, chain, 8) % length) : SIZE_MAX;
        for (size_t k = 0; k < length; k++) {
            struct ledger_op *op = &b->ops[n++];
            op_transfer(b, op, b->next++);
            if (k + 1 < length) op->flags |= LEDGER_OP_LINKED;
            if (k == failing) op->debit = bench_limited_account; /* has no credits */
        }
        if (length >= BENCH_CHAIN_MIN) b->out->chains++;
        if (fails) b->out->chains_failing++;
    }
    return n;
}

/* W5: new transfers, and 5% repeats of one of the last BENCH_DUP_WINDOW. */
static size_t fill_w5(struct bench *b)
{
    size_t n = 0;
    while (n < BENCH_BATCH_OPS && b->next < b->transfers) {
        uint64_t op_index = b->next++;
        bool dup = b->unique > 0 && draw(W5, op_index, 9) % 10000 < BENCH_DUP_PER_10000;
        uint64_t index;
        if (dup) {
            uint64_t window = b->unique < BENCH_DUP_WINDOW ? b->unique : BENCH_DUP_WINDOW;
            index = b->unique - 1 - draw(W5, op_index, 10) % window;
        } else {
            index = b->unique++;
        }
        op_transfer(b, &b->ops[n++], index);
    }
    return n;
}

/* R: the `if` of each gated pending, by kind; every one is met once ceasefire is. */
static const char *const r_gates[4] = {
    "ceasefire",                  /* direct */
    "holds",                      /* derived: ceasefire | talks */
    "peace",                      /* derived of a derived: holds & !war (war failed) */
    "ceasefire & (talks | !war)", /* an expression over several */
};

static uint32_t r_gate_kind(uint64_t index)
{
    uint64_t r = draw(WR, index, 11) % 10;
    return r < 4 ? 0 : r < 6 ? 1 : r < 8 ? 2 : 3; /* 40%, 20%, 20%, 20% */
}

static uint32_t f_expr_index(uint64_t index)
{
    return (uint32_t)(draw(WF, index, 12) % BENCH_F_EXPRESSIONS);
}

/* R, F: the next pending transfers, each gated by an `if`. */
static size_t fill_gated(struct bench *b)
{
    size_t n = 0;
    while (n < BENCH_BATCH_OPS && b->next < b->transfers) {
        uint64_t index = b->next++;
        struct ledger_op *op = &b->ops[n++];
        op_transfer(b, op, index);
        op->flags |= LEDGER_OP_PENDING;
        op->kind = "pledge";
        b->out->gated_amount += op->amount;
        if (b->workload == WR) {
            uint32_t kind = r_gate_kind(index);
            op->cond = r_gates[kind];
            b->out->gate_kinds[kind]++;
        } else {
            uint32_t e = f_expr_index(index);
            struct transfer_draw t = transfer_fields(b, index);
            op->cond = b->exprs[e];
            b->expr_amount[e] += op->amount;
            b->group_credits[t.credit / (BENCH_ACCOUNTS / BENCH_F_GROUPS)] += op->amount;
        }
    }
    return n;
}

static size_t fill(struct bench *b)
{
    b->ids_used = 0;
    memset(b->touched, 0, BENCH_ACCOUNTS);
    switch (b->workload) {
    case W1:
    case W1U:
    case W2: return fill_plain(b);
    case W3: return fill_w3(b);
    case W4: return fill_w4(b);
    case W5: return fill_w5(b);
    case WR:
    case WF: return fill_gated(b);
    case WORKLOAD_COUNT: break;
    }
    assert(false);
    return 0;
}

/* ---------------------------------------------------------------- running one workload */

static int64_t bench_clock(void *ctx)
{
    return ((const struct bench *)ctx)->clock_ns;
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) * 1e-9;
}

static bool fail(struct bench *b, const char *what, const struct cc_error *err)
{
    snprintf(b->out->message, sizeof b->out->message, "%s: %s", what,
             err != NULL ? err->message : strerror(errno));
    return false;
}

/* One batch creating the unit and the accounts (W4 adds a limited one). */
static bool setup(struct bench *b)
{
    size_t count = 0;
    size_t capacity = BENCH_ACCOUNTS + 2;
    struct ledger_op *ops = calloc(capacity, sizeof *ops);
    struct ledger_result *results = calloc(capacity, sizeof *results);
    if (ops == NULL || results == NULL) {
        free(ops);
        free(results);
        return fail(b, "setup", NULL);
    }
    ops[count++] = (struct ledger_op){.type = LEDGER_OP_UNIT, .id = "USD", .name = "US dollar",
                                      .scale = 2, .flags = LEDGER_OP_HAS_SCALE};
    for (uint32_t i = 0; i < BENCH_ACCOUNTS; i++)
        ops[count++] = (struct ledger_op){.type = LEDGER_OP_ACCOUNT, .id = b->accounts[i],
                                          .unit = "USD"};
    if (b->workload == W4)
        ops[count++] = (struct ledger_op){
            .type = LEDGER_OP_ACCOUNT, .id = bench_limited_account, .unit = "USD",
            .account_flags = LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS};
    struct cc_error err = {0};
    bool ok = concord_apply(b->cc, ops, count, results, &err) == CC_OK;
    for (size_t i = 0; ok && i < count; i++)
        if (results[i].status != LEDGER_CREATED) {
            snprintf(b->out->message, sizeof b->out->message, "setup op %zu: %s", i,
                     ledger_status_name(results[i].status));
            ok = false;
        }
    if (!ok && err.code != CC_OK) fail(b, "setup batch", &err);
    free(ops);
    free(results);
    return ok;
}

static bool latency_push(struct bench *b, double ms)
{
    if (b->latency_count == b->latency_capacity) {
        size_t capacity = b->latency_capacity ? b->latency_capacity * 2 : 256;
        double *p = realloc(b->latency_ms, capacity * sizeof *p);
        if (p == NULL) return false;
        b->latency_ms = p;
        b->latency_capacity = capacity;
    }
    b->latency_ms[b->latency_count++] = ms;
    return true;
}

static void tally(struct bench *b, size_t count)
{
    struct bench_result *r = b->out;
    for (size_t i = 0; i < count; i++) {
        const struct ledger_op *op = &b->ops[i];
        enum ledger_status s = b->results[i].status;
        assert(op->type < LEDGER_OP_TYPE_COUNT && s < LEDGER_STATUS_COUNT);
        r->status[op->type][s]++;
        if (s != LEDGER_CREATED) continue;
        r->created++;
        if (op->type == LEDGER_OP_TRANSFER && (op->flags & LEDGER_OP_PENDING))
            r->pending_created++;
        if (op->type == LEDGER_OP_POST && (op->flags & LEDGER_OP_HAS_AMOUNT)) r->posts_partial++;
    }
    r->ops += count;
}

/* One batch through the system under test, each operation's status into b->results. */
static bool apply_batch(struct bench *b, size_t count)
{
#ifdef CONCORD_BENCH_PG
    if (b->pg != NULL) {
        char message[PG_MESSAGE_BYTES];
        if (!pg_ledger_apply(b->pg, b->ops, count, b->clock_ns, b->statuses, message,
                             sizeof message)) {
            snprintf(b->out->message, sizeof b->out->message, "batch: %s", message);
            return false;
        }
        for (size_t i = 0; i < count; i++) b->results[i].status = b->statuses[i];
        return true;
    }
#endif
    struct cc_error err = {0};
    return concord_apply(b->cc, b->ops, count, b->results, &err) == CC_OK ||
           fail(b, "batch", &err);
}

static bool expire_due(struct bench *b)
{
#ifdef CONCORD_BENCH_PG
    if (b->pg != NULL) {
        char message[PG_MESSAGE_BYTES];
        uint64_t expired = 0;
        if (pg_ledger_expire(b->pg, b->clock_ns, &expired, message, sizeof message)) return true;
        snprintf(b->out->message, sizeof b->out->message, "expiring: %s", message);
        return false;
    }
#endif
    struct cc_error err = {0};
    return concord_expire_due(b->cc, &err) == CC_OK || fail(b, "expiring", &err);
}

/* The timed part: every batch of the workload through the system under test. */
static bool run_batches(struct bench *b)
{
    struct timespec start, t0;
    clock_gettime(CLOCK_MONOTONIC, &start);
    size_t count;
    while ((count = fill(b)) > 0) {
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (!apply_batch(b, count)) return false;
        if (!latency_push(b, seconds_since(&t0) * 1e3)) return fail(b, "latency", NULL);
        tally(b, count);
        b->out->batches++;
        b->clock_ns += BENCH_CLOCK_TICK_NS;
    }
    if (b->workload == W3) { /* let the last pendings' expiry come due */
        b->clock_ns += (BENCH_EXPIRE_TICKS + 1) * BENCH_CLOCK_TICK_NS;
        if (!expire_due(b)) return false;
    }
    b->out->seconds = seconds_since(&start);
    return true;
}

static int state_fn(void *ctx, const struct ledger_transfer *t)
{
    *(uint8_t *)ctx = t->state;
    return 0;
}

/* W3, untimed: every pending left alone must now read `expired`. */
static bool count_expired(struct bench *b)
{
    char id[BENCH_ID_BYTES];
    for (uint64_t i = 0; i < b->transfers; i++) {
        if (w3_role(i) != W3_EXPIRE) continue;
        snprintf(id, sizeof id, "%s-%09llu", workload_names[W3], (unsigned long long)i);
        uint8_t state = 0;
#ifdef CONCORD_BENCH_PG
        if (b->pg != NULL) {
            char message[PG_MESSAGE_BYTES];
            int s = 0;
            if (!pg_ledger_state(b->pg, id, &s, message, sizeof message)) {
                snprintf(b->out->message, sizeof b->out->message, "reading %s: %s", id, message);
                return false;
            }
            if (s == LEDGER_STATE_EXPIRED) b->out->expired++;
            continue;
        }
#endif
        struct cc_error err = {0};
        if (concord_transfer_get(b->cc, id, state_fn, &state, &err) != CC_OK)
            return fail(b, "reading a pending transfer", &err);
        if (state == LEDGER_STATE_EXPIRED) b->out->expired++;
    }
    return true;
}

/* ---------------------------------------------------------------- R and F: one timed call */

/*
 * Applies one untimed setup batch; every operation must hold (created, or
 * resolved for a resolve). *created, when not NULL, counts the created ones.
 */
static bool apply_all(struct bench *b, const struct ledger_op *ops, size_t count,
                      const char *what, uint64_t *created)
{
    struct cc_error err = {0};
    assert(count <= BENCH_BATCH_OPS);
    if (concord_apply(b->cc, ops, count, b->results, &err) != CC_OK) return fail(b, what, &err);
    for (size_t i = 0; i < count; i++) {
        const struct ledger_result *r = &b->results[i];
        if (!ledger_status_ok(r->status)) {
            snprintf(b->out->message, sizeof b->out->message, "%s: op %zu (%s %s): %s%s%s", what,
                     i, ledger_op_name(ops[i].type), ops[i].id, ledger_status_name(r->status),
                     r->message ? ": " : "", r->message ? r->message : "");
            return false;
        }
        if (created != NULL && r->status == LEDGER_CREATED) ++*created;
    }
    return true;
}

/* R, F: every gated pending transfer, in batches of BENCH_BATCH_OPS (untimed). */
static bool setup_gated(struct bench *b)
{
    size_t count;
    while ((count = fill(b)) > 0)
        if (!apply_all(b, b->ops, count, "creating gated pending transfers", &b->out->gated))
            return false;
    if (b->out->gated != b->transfers) {
        snprintf(b->out->message, sizeof b->out->message, "%llu of %llu gated pendings created",
                 (unsigned long long)b->out->gated, (unsigned long long)b->transfers);
        return false;
    }
    return true;
}

static int r_balance_fn(void *ctx, const struct store_balance *balance)
{
    struct bench_result *out = ctx;
    out->all = *balance;
    out->all.id = out->all.unit = NULL; /* live only during the call */
    return 0;
}

static int r_state_fn(void *ctx, const struct ledger_transfer *t)
{
    *(uint8_t *)ctx = t->state;
    return 0;
}

/*
 * R: conditions ceasefire and talks (open), war (resolved failed in setup),
 * holds = ceasefire | talks, peace = holds & !war; every gated pending
 * settles when ceasefire is met. Timed: one concord_apply() of the resolve.
 */
static bool run_resolve(struct bench *b)
{
    static const struct ledger_op conditions[] = {
        {.type = LEDGER_OP_CONDITION, .id = "ceasefire", .name = "Ceasefire holds",
         .probability = 0.7, .flags = LEDGER_OP_HAS_PROBABILITY},
        {.type = LEDGER_OP_CONDITION, .id = "talks", .probability = 0.4,
         .flags = LEDGER_OP_HAS_PROBABILITY},
        {.type = LEDGER_OP_CONDITION, .id = "war", .probability = 0.1,
         .flags = LEDGER_OP_HAS_PROBABILITY},
        {.type = LEDGER_OP_CONDITION, .id = "holds", .cond = "ceasefire | talks"},
        {.type = LEDGER_OP_CONDITION, .id = "peace", .cond = "holds & !war"},
        {.type = LEDGER_OP_RESOLVE, .id = "war", .state = COND_FAILED},
    };
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    if (!setup(b) ||
        !apply_all(b, conditions, sizeof conditions / sizeof conditions[0], "conditions", NULL) ||
        !setup_gated(b))
        return false;
    b->out->setup_seconds = seconds_since(&start);

    struct ledger_op resolve = {.type = LEDGER_OP_RESOLVE, .id = "ceasefire", .state = COND_MET};
    struct ledger_result result = {0};
    struct cc_error err = {0};
    clock_gettime(CLOCK_MONOTONIC, &start);
    enum cc_err rc = concord_apply(b->cc, &resolve, 1, &result, &err);
    b->out->seconds = seconds_since(&start);
    if (rc != CC_OK) return fail(b, "resolving ceasefire", &err);
    b->out->posted = result.posted;
    b->out->voided = result.voided;
    if (result.status != LEDGER_RESOLVED || (uint64_t)result.posted != b->transfers ||
        result.voided != 0) {
        snprintf(b->out->message, sizeof b->out->message,
                 "resolve ceasefire: %s, posted %d, voided %d (expected resolved, %llu, 0)",
                 ledger_status_name(result.status), result.posted, result.voided,
                 (unsigned long long)b->transfers);
        return false;
    }
    /* Untimed: a spread sample of the gated transfers must read back posted. */
    uint64_t step = b->transfers > BENCH_R_SAMPLE ? b->transfers / BENCH_R_SAMPLE : 1;
    char id[BENCH_ID_BYTES];
    for (uint64_t i = 0; i < b->transfers; i += step) {
        snprintf(id, sizeof id, "%s-%09llu", workload_names[WR], (unsigned long long)i);
        uint8_t state = 0;
        if (concord_transfer_get(b->cc, id, r_state_fn, &state, &err) != CC_OK)
            return fail(b, "reading a settled transfer", &err);
        b->out->read_total++;
        b->out->read_posted += state == LEDGER_STATE_POSTED;
    }
    if (b->out->read_posted != b->out->read_total) {
        snprintf(b->out->message, sizeof b->out->message, "%llu of %llu sampled transfers posted",
                 (unsigned long long)b->out->read_posted, (unsigned long long)b->out->read_total);
        return false;
    }
    /* Untimed: summed over every account, everything pending has moved to posted. */
    if (concord_balance_prefix(b->cc, "acc.", INT64_MAX, r_balance_fn, b->out, &err) != CC_OK)
        return fail(b, "summing balances", &err);
    const struct store_balance *all = &b->out->all;
    if (all->credits_posted != b->out->gated_amount || all->debits_posted != b->out->gated_amount ||
        all->credits_pending != 0 || all->debits_pending != 0) {
        snprintf(b->out->message, sizeof b->out->message,
                 "after the resolve, acc.: posted %lld/%lld, pending %lld/%lld (expected %lld, 0)",
                 (long long)all->debits_posted, (long long)all->credits_posted,
                 (long long)all->debits_pending, (long long)all->credits_pending,
                 (long long)b->out->gated_amount);
        return false;
    }
    return true;
}

/* F: base conditions c00 … c19, derived d0 … d2 over them. */
static const char *const f_derived_when[BENCH_F_DERIVED] = {
    "c00 & c01",
    "c02 | c03 & !c04",
    "!c05 | c06",
};

static double f_probability(uint32_t i)
{
    return 0.15 + 0.7 * (double)((i * 7) % BENCH_F_CONDITIONS) / (BENCH_F_CONDITIONS - 1);
}

/* Condition indexes as the bench numbers them: c00 … c19, then d0 … d2. */
static int32_t f_lookup(void *ctx, const char *name, size_t length)
{
    (void)ctx;
    if (length == 3 && name[0] == 'c' && name[1] >= '0' && name[1] <= '9' && name[2] >= '0' &&
        name[2] <= '9') {
        int32_t i = (name[1] - '0') * 10 + (name[2] - '0');
        return i < BENCH_F_CONDITIONS ? i : -1;
    }
    if (length == 2 && name[0] == 'd' && name[1] >= '0' && name[1] < '0' + BENCH_F_DERIVED)
        return BENCH_F_CONDITIONS + (name[1] - '0');
    return -1;
}

/* Up to `count` distinct condition numbers below BENCH_F_CONDITIONS, drawn from seed. */
static void f_pick(uint64_t seed, uint32_t *out, uint32_t count)
{
    for (uint32_t k = 0, salt = 0; k < count; salt++) {
        uint32_t c = (uint32_t)(draw(WF, seed, 40 + salt) % BENCH_F_CONDITIONS);
        bool seen = false;
        for (uint32_t j = 0; j < k; j++) seen |= out[j] == c;
        if (!seen) out[k++] = c;
    }
}

/* F: BENCH_F_EXPRESSIONS distinct `if` texts of 2 to 4 names, some naming derived ones. */
static void f_expressions(struct bench *b)
{
    uint32_t made = 0;
    for (uint64_t seed = 0; made < BENCH_F_EXPRESSIONS; seed++) {
        uint32_t c[4];
        f_pick(seed, c, 4);
        uint32_t d = (uint32_t)(draw(WF, seed, 50) % BENCH_F_DERIVED);
        char *e = b->exprs[made];
        switch (draw(WF, seed, 51) % 7) {
        case 0: snprintf(e, BENCH_F_EXPR_BYTES, "c%02u & c%02u", c[0], c[1]); break;
        case 1: snprintf(e, BENCH_F_EXPR_BYTES, "c%02u | c%02u", c[0], c[1]); break;
        case 2: snprintf(e, BENCH_F_EXPR_BYTES, "c%02u & !c%02u", c[0], c[1]); break;
        case 3: snprintf(e, BENCH_F_EXPR_BYTES, "(c%02u | c%02u) & c%02u", c[0], c[1], c[2]); break;
        case 4:
            snprintf(e, BENCH_F_EXPR_BYTES, "c%02u & c%02u | !c%02u & c%02u", c[0], c[1], c[2],
                     c[3]);
            break;
        case 5: snprintf(e, BENCH_F_EXPR_BYTES, "d%u & c%02u", d, c[0]); break;
        default:
            snprintf(e, BENCH_F_EXPR_BYTES, "!(c%02u & c%02u) & (c%02u | d%u)", c[0], c[1], c[2], d);
            break;
        }
        bool seen = false;
        for (uint32_t j = 0; j < made && !seen; j++) seen = strcmp(b->exprs[j], e) == 0;
        if (!seen) made++;
    }
}

static void mark_name(void *ctx, uint32_t index)
{
    ((uint8_t *)ctx)[index] = 1;
}

/*
 * F, untimed: the expected total over every account, computed independently
 * of report_forecast: Σ over expressions of amount × P(expression met), each
 * probability by enumerating only the (at most 7) base conditions it reaches;
 * and into *involved, how many base conditions the expressions in use reach
 * (all 20 unless --transfers is tiny). NaN when an expression does not compile.
 */
static double f_expected_independent(const struct bench *b, uint32_t *involved)
{
    enum { N = BENCH_F_CONDITIONS + BENCH_F_DERIVED };
    struct cond_expr when[BENCH_F_DERIVED];
    struct cond_error error;
    uint32_t compiled = 0;
    double expected = 0.0;
    uint8_t reached[N] = {0};
    *involved = 0;
    while (compiled < BENCH_F_DERIVED &&
           cond_parse(f_derived_when[compiled], f_lookup, NULL, NULL, &when[compiled], &error))
        compiled++;
    if (compiled < BENCH_F_DERIVED) expected = NAN;
    for (uint32_t e = 0; e < BENCH_F_EXPRESSIONS && !isnan(expected); e++) {
        struct cond_expr expr;
        if (!cond_parse(b->exprs[e], f_lookup, NULL, NULL, &expr, &error)) {
            expected = NAN;
            break;
        }
        uint8_t named[N] = {0};
        cond_expr_names(&expr, mark_name, named);
        for (uint32_t d = 0; d < BENCH_F_DERIVED; d++)
            if (named[BENCH_F_CONDITIONS + d]) cond_expr_names(&when[d], mark_name, named);
        uint32_t vars[BENCH_F_CONDITIONS], k = 0;
        for (uint32_t i = 0; i < BENCH_F_CONDITIONS; i++) {
            if (named[i]) vars[k++] = i;
            if (named[i] && b->expr_amount[e] > 0 && !reached[i]) {
                reached[i] = 1;
                ++*involved;
            }
        }
        double p_met = 0.0;
        for (uint32_t a = 0; a < (1u << k); a++) {
            uint8_t states[N] = {0};
            double w = 1.0;
            for (uint32_t j = 0; j < k; j++) {
                bool met = (a >> j) & 1;
                states[vars[j]] = met ? COND_MET : COND_FAILED;
                w *= met ? f_probability(vars[j]) : 1.0 - f_probability(vars[j]);
            }
            for (uint32_t d = 0; d < BENCH_F_DERIVED; d++)
                states[BENCH_F_CONDITIONS + d] = (uint8_t)cond_eval(&when[d], states);
            if (cond_eval(&expr, states) == COND_MET) p_met += w;
        }
        expected += p_met * (double)b->expr_amount[e];
        cond_expr_free(&expr);
    }
    for (uint32_t d = 0; d < compiled; d++) cond_expr_free(&when[d]);
    return expected;
}

/*
 * F: 20 open base conditions with probabilities and 3 derived ones, the gated
 * pendings, and 10 requirements: acc.0. … acc.7. (credits, target half of
 * what is pending into them), acc. (every account, credits) and acc.9.
 * (balance). Timed: report_forecast() from end to end.
 */
static bool run_forecast(struct bench *b)
{
    struct ledger_op *ops = b->ops;
    char names[BENCH_F_CONDITIONS + BENCH_F_DERIVED][8];
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    if (!setup(b)) return false;
    size_t n = 0;
    for (uint32_t i = 0; i < BENCH_F_CONDITIONS; i++) {
        snprintf(names[n], sizeof names[n], "c%02u", i);
        ops[n] = (struct ledger_op){.type = LEDGER_OP_CONDITION, .id = names[n],
                                    .probability = f_probability(i),
                                    .flags = LEDGER_OP_HAS_PROBABILITY};
        n++;
    }
    for (uint32_t d = 0; d < BENCH_F_DERIVED; d++) {
        snprintf(names[n], sizeof names[n], "d%u", d);
        ops[n] = (struct ledger_op){.type = LEDGER_OP_CONDITION, .id = names[n],
                                    .cond = f_derived_when[d]};
        n++;
    }
    if (!apply_all(b, ops, n, "conditions", NULL)) return false;
    f_expressions(b);
    if (!setup_gated(b)) return false;

    char req_ids[BENCH_F_REQUIREMENTS][16], req_accounts[BENCH_F_REQUIREMENTS][16];
    n = 0;
    int64_t all = 0;
    for (uint32_t g = 0; g < BENCH_F_GROUPS; g++) all += b->group_credits[g];
    for (uint32_t g = 0; g < BENCH_F_REQUIREMENTS - 2; g++) {
        snprintf(req_ids[n], sizeof req_ids[n], "req-%u", g);
        snprintf(req_accounts[n], sizeof req_accounts[n], "acc.%u.", g);
        int64_t target = b->group_credits[g] / 2;
        ops[n] = (struct ledger_op){.type = LEDGER_OP_REQUIREMENT, .id = req_ids[n],
                                    .account = req_accounts[n], .kind = "credits",
                                    .amount = target > 0 ? target : 1, .unit = "USD",
                                    .flags = LEDGER_OP_HAS_AMOUNT};
        n++;
    }
    b->out->target_all = all / 2 > 0 ? all / 2 : 1;
    ops[n++] = (struct ledger_op){.type = LEDGER_OP_REQUIREMENT, .id = "req-all",
                                  .account = "acc.", .kind = "credits",
                                  .amount = b->out->target_all, .unit = "USD",
                                  .flags = LEDGER_OP_HAS_AMOUNT};
    int64_t nine = b->group_credits[BENCH_F_GROUPS - 1] / 10;
    ops[n++] = (struct ledger_op){.type = LEDGER_OP_REQUIREMENT, .id = "req-9-balance",
                                  .account = "acc.9.", .kind = "balance",
                                  .amount = nine > 0 ? nine : 1, .unit = "USD",
                                  .flags = LEDGER_OP_HAS_AMOUNT};
    assert(n == BENCH_F_REQUIREMENTS);
    if (!apply_all(b, ops, n, "requirements", NULL)) return false;
    b->out->setup_seconds = seconds_since(&start);
    for (uint32_t e = 0; e < BENCH_F_EXPRESSIONS; e++) b->out->expressions += b->expr_amount[e] > 0;

    struct cond_forecast_options options = {.samples = 0, .seed = 1};
    struct report report = {0};
    struct cc_error err = {0};
    clock_gettime(CLOCK_MONOTONIC, &start);
    enum cc_err rc = report_forecast(b->cc, &options, NULL, &report, &err);
    b->out->seconds = seconds_since(&start);
    bool ok = rc == CC_OK || fail(b, "report_forecast", &err);
    if (ok) {
        b->out->exact = report.summary.exact;
        b->out->conditions = report.summary.conditions;
        b->out->assignments = report.summary.samples;
        b->out->requirements = report.requirements_count;
        for (uint32_t i = 0; i < report.requirements_count; i++) {
            const struct report_requirement *r = &report.requirements[i];
            if (strcmp(r->requirement->id, "req-all") != 0) continue;
            b->out->expected_all = r->forecast.expected;
            b->out->p_met_all = r->forecast.p_met;
            b->out->p10_all = r->forecast.p10;
            b->out->p50_all = r->forecast.p50;
            b->out->p90_all = r->forecast.p90;
        }
    }
    report_free(&report);
    if (!ok) return false;
    uint32_t involved = 0;
    double independent = f_expected_independent(b, &involved);
    double relative = fabs(b->out->expected_all - independent) / (independent > 0 ? independent : 1);
    if (!b->out->exact || b->out->conditions != involved ||
        b->out->assignments != UINT64_C(1) << involved ||
        b->out->requirements != BENCH_F_REQUIREMENTS || !(relative < 1e-9)) {
        snprintf(b->out->message, sizeof b->out->message,
                 "forecast: exact %d, conditions %u (expected %u), assignments %llu, "
                 "requirements %u, expected(acc.) %.6g vs independent %.6g",
                 b->out->exact, b->out->conditions, involved,
                 (unsigned long long)b->out->assignments, b->out->requirements,
                 b->out->expected_all, independent);
        return false;
    }
    return true;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted values. */
static double percentile(const double *sorted, size_t count, double p)
{
    if (count == 0) return 0;
    size_t rank = (size_t)(p / 100.0 * (double)count + 0.999999);
    if (rank < 1) rank = 1;
    if (rank > count) rank = count;
    return sorted[rank - 1];
}

static bool bench_alloc(struct bench *b)
{
    b->ops = calloc(BENCH_BATCH_OPS, sizeof *b->ops);
    b->results = calloc(BENCH_BATCH_OPS, sizeof *b->results);
    b->ids = calloc(2 * BENCH_BATCH_OPS, sizeof *b->ids);
    b->accounts = calloc(BENCH_ACCOUNTS, sizeof *b->accounts);
    b->zipf_cdf = calloc(BENCH_ACCOUNTS, sizeof *b->zipf_cdf);
    b->touched = calloc(BENCH_ACCOUNTS, 1);
    if (!b->ops || !b->results || !b->ids || !b->accounts || !b->zipf_cdf || !b->touched)
        return false;
    if (b->workload == WF) {
        b->exprs = calloc(BENCH_F_EXPRESSIONS, sizeof *b->exprs);
        b->expr_amount = calloc(BENCH_F_EXPRESSIONS, sizeof *b->expr_amount);
        if (!b->exprs || !b->expr_amount) return false;
    }
    /* R and F group the accounts (acc.G.NNN) so that requirements can name prefixes. */
    for (uint32_t i = 0; i < BENCH_ACCOUNTS; i++)
        if (workload_is_call(b->workload))
            snprintf(b->accounts[i], BENCH_ACCOUNT_ID_BYTES, "acc.%u.%03u",
                     i / (BENCH_ACCOUNTS / BENCH_F_GROUPS), i % (BENCH_ACCOUNTS / BENCH_F_GROUPS));
        else
            snprintf(b->accounts[i], BENCH_ACCOUNT_ID_BYTES, "acc.%05u", i);
    double sum = 0;
    for (uint32_t i = 0; i < BENCH_ACCOUNTS; i++) {
        sum += 1.0 / pow((double)(i + 1), BENCH_ZIPF_S);
        b->zipf_cdf[i] = sum;
    }
    for (uint32_t i = 0; i < BENCH_ACCOUNTS; i++) b->zipf_cdf[i] /= sum;
    return true;
}

static void bench_free(struct bench *b)
{
    free(b->ops);
    free(b->results);
    free(b->ids);
    free(b->accounts);
    free(b->zipf_cdf);
    free(b->touched);
    free(b->latency_ms);
    free(b->exprs);
    free(b->expr_amount);
}

/* ---------------------------------------------------------------- balances, compared */

/* One account's four balances; the last of BENCH_BALANCES is acc.limited. */
struct balance4 {
    int64_t debits_pending, debits_posted, credits_pending, credits_posted;
};
#define BENCH_BALANCES (BENCH_ACCOUNTS + 1)

/* "acc.00042" → 42, "acc.limited" → BENCH_ACCOUNTS; -1 for any other id. */
static int32_t account_number(const char *id)
{
    if (strcmp(id, bench_limited_account) == 0) return BENCH_ACCOUNTS;
    unsigned n;
    char tail;
    if (sscanf(id, "acc.%5u%c", &n, &tail) != 1 || n >= BENCH_ACCOUNTS) return -1;
    return (int32_t)n;
}

static int balance_row(void *ctx, const struct ledger_account *a)
{
    int32_t n = account_number(a->id);
    if (n >= 0)
        ((struct balance4 *)ctx)[n] = (struct balance4){a->debits_pending, a->debits_posted,
                                                        a->credits_pending, a->credits_posted};
    return 0;
}

/* concord's balances after a workload, into a file for the PostgreSQL runs to compare. */
static bool balances_save(struct bench *b, const char *file)
{
    struct balance4 *all = calloc(BENCH_BALANCES, sizeof *all);
    struct cc_error err = {0};
    bool ok = all != NULL &&
              concord_accounts_list(b->cc, "acc.", NULL, BENCH_BALANCES, balance_row, all,
                                    &err) == CC_OK;
    FILE *f = ok ? fopen(file, "wb") : NULL;
    ok = f != NULL && fwrite(all, sizeof *all, BENCH_BALANCES, f) == BENCH_BALANCES;
    if (f != NULL && fclose(f) != 0) ok = false;
    free(all);
    return ok || fail(b, "saving the balances", err.code != CC_OK ? &err : NULL);
}

static int64_t file_bytes(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* p50 and p99 of the timed batches (R and F time one call, not batches: none). */
static void latency_summarize(struct bench *b)
{
    if (b->latency_count > 0)
        qsort(b->latency_ms, b->latency_count, sizeof *b->latency_ms, compare_double);
    b->out->p50_ms = percentile(b->latency_ms, b->latency_count, 50);
    b->out->p99_ms = percentile(b->latency_ms, b->latency_count, 99);
}

/* In the child: the whole life of one workload, its figures into *out. */
static void workload_run(enum workload w, const struct options *o, const char *path,
                         const char *balances_file, struct bench_result *out)
{
    uint64_t gated = o->transfers / BENCH_GATED_PER_TRANSFERS;
    struct bench b = {.workload = w, .out = out, .clock_ns = BENCH_CLOCK_START_NS,
                      .transfers = workload_is_call(w) ? (gated > 0 ? gated : 1) : o->transfers};
    struct cc_error err = {0};
    out->check_ok = -1;
    if (!bench_alloc(&b)) {
        fail(&b, "allocating", NULL);
    } else if (concord_open(&b.cc, path, STORE_CREATE, &err) != CC_OK) {
        fail(&b, "opening the database", &err);
    } else {
        if (w == W3) concord_set_clock(b.cc, bench_clock, &b);
        if (w == W1U) concord_set_audit(b.cc, false);
        bool ok = w == WR   ? run_resolve(&b)
                  : w == WF ? run_forecast(&b)
                            : setup(&b) && run_batches(&b) && (w != W3 || count_expired(&b));
        if (ok && o->check) {
            struct timespec start;
            clock_gettime(CLOCK_MONOTONIC, &start);
            out->check_ok = concord_check(b.cc, &err) == CC_OK;
            out->check_seconds = seconds_since(&start);
            if (!out->check_ok) fail(&b, "concord_check", &err);
        }
        if (ok && balances_file != NULL) ok = balances_save(&b, balances_file);
        latency_summarize(&b);
        out->ok = ok;
    }
    concord_close(b.cc);
    /* On disk once closed: the file, and a WAL if one is left. */
    char wal[BENCH_PATH_BYTES + 8];
    snprintf(wal, sizeof wal, "%s-wal", path);
    out->bytes = file_bytes(path) + file_bytes(wal);
    bench_free(&b);
}

#ifdef CONCORD_BENCH_PG
/* Compares the PostgreSQL design's balances with concord's, account by account. */
static void balances_compare(struct bench *b, const char *file)
{
    struct bench_result *out = b->out;
    out->balances = -1;
    struct balance4 *mine = calloc(BENCH_BALANCES, sizeof *mine);
    struct pg_balance *theirs = calloc(BENCH_BALANCES, sizeof *theirs);
    FILE *f = fopen(file, "rb");
    char message[PG_MESSAGE_BYTES];
    if (mine != NULL && theirs != NULL && f != NULL &&
        fread(mine, sizeof *mine, BENCH_BALANCES, f) == BENCH_BALANCES &&
        pg_ledger_balances(b->pg, theirs, BENCH_BALANCES, message, sizeof message)) {
        out->balances = 1;
        for (uint32_t i = 0; i < BENCH_BALANCES && out->balances == 1; i++) {
            const struct balance4 *m = &mine[i];
            const struct pg_balance *t = &theirs[i];
            if (m->debits_pending != t->debits_pending || m->debits_posted != t->debits_posted ||
                m->credits_pending != t->credits_pending || m->credits_posted != t->credits_posted) {
                out->balances = 0;
                snprintf(out->balances_problem, sizeof out->balances_problem,
                         "account %u: concord %lld/%lld/%lld/%lld, PostgreSQL %lld/%lld/%lld/%lld", i,
                         (long long)m->debits_pending, (long long)m->debits_posted,
                         (long long)m->credits_pending, (long long)m->credits_posted,
                         (long long)t->debits_pending, (long long)t->debits_posted,
                         (long long)t->credits_pending, (long long)t->credits_posted);
            }
        }
    }
    if (f != NULL) fclose(f);
    free(mine);
    free(theirs);
}

/* In the child: one workload against one PostgreSQL design. */
static void pg_workload_run(enum workload w, enum pg_design design, const struct options *o,
                            const struct pg_server *server, const char *balances_file,
                            struct bench_result *out)
{
    struct bench b = {.workload = w, .out = out, .clock_ns = BENCH_CLOCK_START_NS,
                      .transfers = o->transfers};
    out->check_ok = -1;
    out->balances = -1;
    char name[32], message[PG_MESSAGE_BYTES];
    snprintf(name, sizeof name, "%s_%s", workload_names[w], design == PG_FUNC ? "func" : "update");
    for (char *p = name; *p != '\0'; p++) *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    if (!bench_alloc(&b) || (b.statuses = calloc(BENCH_BATCH_OPS, sizeof *b.statuses)) == NULL) {
        fail(&b, "allocating", NULL);
    } else if ((b.pg = pg_ledger_open(server, name, design, BENCH_PG_SQL, BENCH_ACCOUNTS,
                                      w == W4 ? BENCH_ACCOUNTS : -1, account_number, message,
                                      sizeof message)) == NULL) {
        snprintf(out->message, sizeof out->message, "%s: %s", name, message);
    } else {
        bool ok = run_batches(&b) && (w != W3 || count_expired(&b));
        if (ok && balances_file != NULL) balances_compare(&b, balances_file);
        if (ok && !pg_ledger_bytes(b.pg, &out->bytes, message, sizeof message)) {
            snprintf(out->message, sizeof out->message, "size: %s", message);
            ok = false;
        }
        latency_summarize(&b);
        out->ok = ok;
    }
    pg_ledger_close(b.pg);
    free(b.statuses);
    bench_free(&b);
}
#endif

/* ---------------------------------------------------------------- one child per workload */

static bool write_all(int fd, const void *buf, size_t size)
{
    const char *p = buf;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        size -= (size_t)n;
    }
    return true;
}

static bool read_all(int fd, void *buf, size_t size)
{
    char *p = buf;
    while (size > 0) {
        ssize_t n = read(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        size -= (size_t)n;
    }
    return true;
}

static void remove_database(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal", ".key"};
    char file[BENCH_PATH_BYTES + 16];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(file, sizeof file, "%s%s", path, suffixes[i]);
        unlink(file);
    }
}

#ifdef CONCORD_BENCH_PG
typedef struct pg_server bench_pg_server;

/* The private PostgreSQL server, stopped by Ctrl-C or a kill as well as at the end. */
static volatile pid_t bench_pg_pid;

static void bench_interrupted(int sig)
{
    if (bench_pg_pid > 0) kill(bench_pg_pid, SIGINT); /* fast shutdown */
    signal(sig, SIG_DFL);
    raise(sig);
}
#else
typedef void bench_pg_server;
#endif

/* Whether any PostgreSQL design runs with this workload: concord then saves its balances. */
static bool pg_follows(enum workload w, const struct options *o)
{
    return workload_on_pg(w) && (o->systems[SYS_PG_FUNC] || o->systems[SYS_PG_UPDATE]);
}

/*
 * Runs workload w against system sys in a forked child so that its peak RSS
 * is its own (the child's getrusage(RUSAGE_SELF) high-water mark, taken as
 * it ends; for PostgreSQL, the client's alone).
 */
static bool workload_fork(enum workload w, enum system sys, const struct options *o,
                          const char *dir, const bench_pg_server *server,
                          struct bench_result *out, double *rss_mib)
{
    char path[BENCH_PATH_BYTES], balances[BENCH_PATH_BYTES + 16];
    snprintf(path, sizeof path, "%s/%s.db", dir, workload_names[w]);
    snprintf(balances, sizeof balances, "%s.balances", path);
    (void)server;
    int fds[2];
    if (pipe(fds) != 0) return false;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
        close(fds[0]);
        static struct bench_result result; /* static: large, and the child's alone */
#ifdef CONCORD_BENCH_PG
        if (sys != SYS_CONCORD)
            pg_workload_run(w, sys == SYS_PG_FUNC ? PG_FUNC : PG_UPDATE, o, server,
                            access(balances, R_OK) == 0 ? balances : NULL, &result);
        else
#endif
            workload_run(w, o, path, pg_follows(w, o) ? balances : NULL, &result);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        double rss = (double)ru.ru_maxrss / 1024.0; /* KiB on Linux */
        bool sent = write_all(fds[1], &result, sizeof result) &&
                    write_all(fds[1], &rss, sizeof rss);
        _exit(sent ? 0 : 1);
    }
    close(fds[1]);
    bool got = read_all(fds[0], out, sizeof *out) && read_all(fds[0], rss_mib, sizeof *rss_mib);
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    remove_database(path);
    if (!got) snprintf(out->message, sizeof out->message, "the child died (status %d)", status);
    return got && out->ok;
}

/* ---------------------------------------------------------------- reporting */

static void notes_add(char *notes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void notes_add(char *notes, const char *fmt, ...)
{
    size_t used = strlen(notes);
    if (used + 1 >= BENCH_NOTES_BYTES) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(notes + used, BENCH_NOTES_BYTES - used, fmt, ap);
    va_end(ap);
}

/* Outcomes the workload does not expect, e.g. "transfer:exceeds_credits 3". */
static void notes_unexpected(char *notes, const struct bench_result *r, enum workload w)
{
    for (int t = 0; t < LEDGER_OP_TYPE_COUNT; t++)
        for (int s = 0; s < LEDGER_STATUS_COUNT; s++) {
            if (r->status[t][s] == 0 || s == LEDGER_CREATED) continue;
            if (w == W4 && t == LEDGER_OP_TRANSFER &&
                (s == LEDGER_EXCEEDS_CREDITS || s == LEDGER_LINKED_EVENT_FAILED))
                continue;
            if (w == W5 && t == LEDGER_OP_TRANSFER && s == LEDGER_EXISTS) continue;
            notes_add(notes, "; UNEXPECTED %s:%s %llu", ledger_op_name((enum ledger_op_type)t),
                      ledger_status_name((enum ledger_status)s),
                      (unsigned long long)r->status[t][s]);
        }
}

static void notes_make(char *notes, const struct bench_result *r, enum workload w)
{
    const uint64_t(*st)[LEDGER_STATUS_COUNT] = r->status;
    notes[0] = '\0';
    notes_add(notes, "ops %llu, accounts/batch %.0f", (unsigned long long)r->ops,
              r->batches ? (double)r->accounts_touched / (double)r->batches : 0.0);
    switch (w) {
    case W1:
    case W1U: break;
    case W2:
        notes_add(notes, ", hot debits %.1f%%",
                  r->ops ? 100.0 * (double)r->hot_debits / (double)r->ops : 0.0);
        break;
    case W3:
        notes_add(notes, ", pending %llu, posted %llu (partial %llu), voided %llu, expired %llu/%llu",
                  (unsigned long long)r->pending_created,
                  (unsigned long long)st[LEDGER_OP_POST][LEDGER_CREATED],
                  (unsigned long long)r->posts_partial,
                  (unsigned long long)st[LEDGER_OP_VOID][LEDGER_CREATED],
                  (unsigned long long)r->expired, (unsigned long long)r->expire_planned);
        break;
    case W4:
        notes_add(notes, ", chains %llu (%llu failing): exceeds_credits %llu, linked_event_failed %llu",
                  (unsigned long long)r->chains, (unsigned long long)r->chains_failing,
                  (unsigned long long)st[LEDGER_OP_TRANSFER][LEDGER_EXCEEDS_CREDITS],
                  (unsigned long long)st[LEDGER_OP_TRANSFER][LEDGER_LINKED_EVENT_FAILED]);
        break;
    case W5:
        notes_add(notes, ", exists %llu", (unsigned long long)st[LEDGER_OP_TRANSFER][LEDGER_EXISTS]);
        break;
    case WR:
    case WF:
    case WORKLOAD_COUNT: break;
    }
    notes_unexpected(notes, r, w);
    if (r->check_ok == 1) notes_add(notes, "; check ok (%.1f s, untimed)", r->check_seconds);
}

/* R, F: what the timed call did and what proves it. */
static void notes_call(char *notes, const struct bench_result *r, enum workload w)
{
    notes[0] = '\0';
    if (w == WR) {
        notes_add(notes, "posted %d, voided %d; `if`:", r->posted, r->voided);
        for (int k = 0; k < 4; k++)
            notes_add(notes, "%s %s %llu", k ? "," : "", r_gates[k],
                      (unsigned long long)r->gate_kinds[k]);
        notes_add(notes, "; read back posted %llu/%llu; acc. posted %lld = Σ gated, pending 0",
                  (unsigned long long)r->read_posted, (unsigned long long)r->read_total,
                  (long long)r->all.credits_posted);
    } else {
        notes_add(notes, "%s over %u conditions (%llu assignments), %u requirements, "
                  "%u distinct `if`; acc.: expected %.0f (= independent sum), P(met) %.3f, "
                  "p10/p50/p90 %lld/%lld/%lld, target %lld",
                  r->exact ? "exact" : "MONTE CARLO", r->conditions,
                  (unsigned long long)r->assignments, r->requirements, r->expressions,
                  r->expected_all, r->p_met_all, (long long)r->p10_all, (long long)r->p50_all,
                  (long long)r->p90_all, (long long)r->target_all);
    }
    notes_add(notes, "; setup %.1f s untimed (%.0f gated pendings/s)", r->setup_seconds,
              r->setup_seconds > 0 ? (double)r->gated / r->setup_seconds : 0.0);
    if (r->check_ok == 1) notes_add(notes, "; check ok (%.1f s, untimed)", r->check_seconds);
}

static void cpu_model(char *out, size_t size)
{
    snprintf(out, size, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL) return;
    char line[512];
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "model name", 10) != 0) continue;
        const char *colon = strchr(line, ':');
        if (colon == NULL) break;
        snprintf(out, size, "%s", colon + 2);
        out[strcspn(out, "\n")] = '\0';
        break;
    }
    fclose(f);
}

static void print_machine(const struct options *o, const char *dir)
{
    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    uint64_t gated = o->transfers / BENCH_GATED_PER_TRANSFERS;
    printf("concord-bench: %llu transfers per workload (R, F: %llu gated pending transfers), "
           "batches of %d operations, %d accounts\n",
           (unsigned long long)o->transfers, (unsigned long long)(gated > 0 ? gated : 1),
           BENCH_BATCH_OPS, BENCH_ACCOUNTS);
    printf("machine: %ld CPUs (nproc), %s; SQLite %s\n", sysconf(_SC_NPROCESSORS_ONLN), cpu,
           sqlite3_libversion());
    printf("store: fresh SQLite file per workload in %s, WAL + synchronous=FULL "
           "(the store's own settings), one fsync'd commit per batch\n", dir);
    printf("operations are built in C as struct ledger_op and given to concord_apply(): "
           "no JSON encoding or decoding is measured\n\n");
}

static void print_call_header(void)
{
    printf("%-4s %-50s %8s %8s %-6s %9s  %s\n", "name", "what (one timed call)", "seconds",
           "target", "", "RSS MiB", "notes");
    fflush(stdout);
}

static void print_call_row(enum workload w, const struct bench_result *r, double rss_mib)
{
    char notes[BENCH_NOTES_BYTES], what[64], target[16];
    notes_call(notes, r, w);
    double limit = w == WR ? BENCH_R_TARGET_SECONDS : BENCH_F_TARGET_SECONDS;
    if (w == WR)
        snprintf(what, sizeof what, "concord_apply: 1 resolve settling %llu gated",
                 (unsigned long long)r->gated);
    else
        snprintf(what, sizeof what, "report_forecast: %u conditions, %llu gated", r->conditions,
                 (unsigned long long)r->gated);
    snprintf(target, sizeof target, "< %.2f", limit);
    /* The targets are set for 100,000 gated pendings (the default --transfers). */
    const char *verdict = r->gated != BENCH_TRANSFERS_DEFAULT / BENCH_GATED_PER_TRANSFERS ? "-"
                          : r->seconds < limit                                       ? "met"
                                                                                     : "MISSED";
    printf("%-4s %-50s %8.3f %8s %-6s %9.1f  %s\n", workload_names[w], what, r->seconds, target,
           verdict, rss_mib, notes);
    fflush(stdout);
}

static void print_header(void)
{
    printf("%-8s %-9s %10s %8s %11s %8s %8s %8s %9s %8s  %s\n", "workload", "system",
           "transfers", "seconds", "transfers/s", "p50 ms", "p99 ms", "B/transfer", "RSS MiB",
           "vs PG", "notes");
    fflush(stdout);
}

/* One row; best_pg: the best PostgreSQL design's transfers/s (0: none ran). */
static void print_row(enum workload w, enum system sys, const struct bench_result *r,
                      double rss_mib, double best_pg)
{
    char notes[BENCH_NOTES_BYTES], ratio[16] = "";
    notes_make(notes, r, w);
    if (sys != SYS_CONCORD && r->balances == 1) notes_add(notes, "; balances = concord's");
    if (sys != SYS_CONCORD && r->balances == 0)
        notes_add(notes, "; BALANCES DIFFER: %s", r->balances_problem);
    if (sys != SYS_CONCORD && r->balances == -1) notes_add(notes, "; balances not compared");
    double rate = r->seconds > 0 ? (double)r->created / r->seconds : 0;
    if (sys == SYS_CONCORD && best_pg > 0) snprintf(ratio, sizeof ratio, "%.1fx", rate / best_pg);
    printf("%-8s %-9s %10llu %8.2f %11.0f %8.1f %8.1f %10.0f %9.1f %8s  %s\n", workload_names[w],
           system_names[sys], (unsigned long long)r->created, r->seconds, rate, r->p50_ms,
           r->p99_ms, r->created ? (double)r->bytes / (double)r->created : 0.0, rss_mib, ratio,
           notes);
    fflush(stdout);
}

/* ---------------------------------------------------------------- command line */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: concord-bench [--transfers N] [--workload W1,W2,...] [--dir DIR] [--no-check]\n"
            "  --transfers N   transfer operations per workload (default %d); R and F\n"
            "                  create N/%d gated pending transfers (100,000 by default)\n"
            "  --workload L    comma-separated subset of W1..W5, W1U, R, F (default all)\n"
            "  --dir DIR       where the temporary databases go (default $TMPDIR or /tmp)\n"
            "  --no-check      skip the untimed concord_check() after each workload\n"
            "  --system L      comma-separated subset of concord, pg-func, pg-update (default\n"
            "                  all that this build has; the PostgreSQL designs run W1..W5)\n",
            BENCH_TRANSFERS_DEFAULT, BENCH_GATED_PER_TRANSFERS);
    for (int w = 0; w < WORKLOAD_COUNT; w++)
        fprintf(f, "  %s  %s\n", workload_names[w], workload_titles[w]);
}

/* A comma-separated list of names into chosen[0 … count): false, said, on an unknown one. */
static bool parse_names(const char *list, const char *const *names, int count, bool *chosen,
                        const char *option)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    memset(chosen, 0, (size_t)count * sizeof *chosen);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        int i = 0;
        while (i < count && strcmp(tok, names[i]) != 0) i++;
        if (i == count) {
            fprintf(stderr, "concord-bench: %s: unknown name \"%s\"\n", option, tok);
            return false;
        }
        chosen[i] = true;
    }
    return true;
}

static bool parse_systems(const char *list, struct options *o)
{
    if (!parse_names(list, system_names, SYSTEM_COUNT, o->systems, "--system")) return false;
#ifndef CONCORD_BENCH_PG
    if (o->systems[SYS_PG_FUNC] || o->systems[SYS_PG_UPDATE]) {
        fprintf(stderr, "concord-bench: --system: this build has no libpq\n");
        return false;
    }
#endif
    return true;
}

static bool parse_options(int argc, char **argv, struct options *o)
{
    const char *tmp = getenv("TMPDIR");
    *o = (struct options){.transfers = BENCH_TRANSFERS_DEFAULT, .dir = tmp && *tmp ? tmp : "/tmp",
                          .check = true};
    for (int w = 0; w < WORKLOAD_COUNT; w++) o->run[w] = true;
    o->systems[SYS_CONCORD] = true;
#ifdef CONCORD_BENCH_PG
    o->systems[SYS_PG_FUNC] = o->systems[SYS_PG_UPDATE] = true;
#endif
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(a, "--no-check") == 0) {
            o->check = false;
        } else if (strcmp(a, "--transfers") == 0 && has_value) {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(argv[++i], &end, 10);
            if (errno || *end || n == 0 || n > BENCH_TRANSFERS_MAX) {
                fprintf(stderr, "concord-bench: --transfers must be 1 … %d\n", BENCH_TRANSFERS_MAX);
                return false;
            }
            o->transfers = n;
        } else if (strcmp(a, "--workload") == 0 && has_value) {
            if (!parse_names(argv[++i], workload_names, WORKLOAD_COUNT, o->run, "--workload"))
                return false;
        } else if (strcmp(a, "--dir") == 0 && has_value) {
            o->dir = argv[++i];
        } else if (strcmp(a, "--system") == 0 && has_value) {
            if (!parse_systems(argv[++i], o)) return false;
        } else {
            fprintf(stderr, "concord-bench: unknown or incomplete option \"%s\"\n", a);
            usage(stderr);
            return false;
        }
    }
    return true;
}

int main(int argc, char **argv)
{
    struct options o;
    if (!parse_options(argc, argv, &o)) return 2;
    char dir[BENCH_DIR_BYTES];
    if (strlen(o.dir) + sizeof "/concord-bench-XXXXXX" > sizeof dir) {
        fprintf(stderr, "concord-bench: --dir: path too long\n");
        return 2;
    }
    snprintf(dir, sizeof dir, "%s/concord-bench-XXXXXX", o.dir);
    if (mkdtemp(dir) == NULL) {
        fprintf(stderr, "concord-bench: %s: %s\n", dir, strerror(errno));
        return 3;
    }
    print_machine(&o, dir);
    bench_pg_server *server = NULL;
#ifdef CONCORD_BENCH_PG
    static struct pg_server pg;
    bool pg_wanted = false;
    for (int w = 0; w < WORKLOAD_COUNT; w++) pg_wanted |= o.run[w] && pg_follows((enum workload)w, &o);
    if (pg_wanted) {
        char message[PG_MESSAGE_BYTES];
        if (pg_server_start(&pg, dir, message, sizeof message)) {
            server = &pg;
            bench_pg_pid = pg.pid;
            signal(SIGINT, bench_interrupted);
            signal(SIGTERM, bench_interrupted);
            printf("PostgreSQL %s: a private server in %s on 127.0.0.1:%d, fsync=on, "
                   "synchronous_commit=on, full_page_writes=on; one transaction and one commit "
                   "per batch; designs in bench/pg/ledger.sql\n\n", pg.version, pg.dir, pg.port);
        } else { /* concord is measured alone */
            fprintf(stderr, "concord-bench: PostgreSQL: %s; measuring concord alone\n", message);
            pg_server_stop(&pg);
            o.systems[SYS_PG_FUNC] = o.systems[SYS_PG_UPDATE] = false;
        }
    }
#endif
    int status = 0;
    bool headed[2] = {false, false}; /* the throughput table, the one-call table */
    double rate[WORKLOAD_COUNT] = {0}; /* transfers/s of each throughput workload run */
    for (int w = 0; w < WORKLOAD_COUNT; w++) {
        if (!o.run[w]) continue;
        bool call = workload_is_call((enum workload)w);
        if (!headed[call]) {
            if (headed[!call]) printf("\n");
            if (call) print_call_header();
            else print_header();
            headed[call] = true;
        }
        /* Every system on the same batches; the rows once all have run, for the ratio. */
        struct bench_result r[SYSTEM_COUNT] = {0};
        double rss_mib[SYSTEM_COUNT] = {0}, best_pg = 0;
        bool ran[SYSTEM_COUNT] = {false};
        for (int sys = 0; sys < SYSTEM_COUNT; sys++) {
            if (!o.systems[sys] || (sys != SYS_CONCORD && !workload_on_pg((enum workload)w)))
                continue;
            if (workload_fork((enum workload)w, (enum system)sys, &o, dir, server, &r[sys],
                              &rss_mib[sys])) {
                ran[sys] = true;
                double rs = r[sys].seconds > 0 ? (double)r[sys].created / r[sys].seconds : 0;
                if (sys == SYS_CONCORD && !call) rate[w] = rs;
                if (sys != SYS_CONCORD && rs > best_pg) best_pg = rs;
            } else {
                fprintf(stderr, "concord-bench: %s %s: %s\n", workload_names[w], system_names[sys],
                        r[sys].message);
                status = 3;
            }
        }
        char balances[BENCH_PATH_BYTES + 32];
        snprintf(balances, sizeof balances, "%s/%s.db.balances", dir, workload_names[w]);
        unlink(balances);
        for (int sys = 0; sys < SYSTEM_COUNT; sys++) {
            if (!ran[sys]) continue;
            if (call) print_call_row((enum workload)w, &r[sys], rss_mib[sys]);
            else print_row((enum workload)w, (enum system)sys, &r[sys], rss_mib[sys], best_pg);
        }
    }
#ifdef CONCORD_BENCH_PG
    if (server != NULL) {
        bench_pg_pid = 0;
        pg_server_stop(&pg);
    }
#endif
    rmdir(dir);
    if (rate[W1] > 0 && rate[W1U] > 0)
        printf("\naudit log: W1 %.0f transfers/s with it, %.0f without (W1U): %.1f%% of the "
               "throughput without it, a cost of %.1f%%\n",
               rate[W1], rate[W1U], 100.0 * rate[W1] / rate[W1U],
               100.0 * (1.0 - rate[W1] / rate[W1U]));
    if (headed[0])
        printf("\ntransfers: results with status created (W3 counts posts and voids too; expiry\n"
               "records are extra); seconds: wall clock over the timed batches; p50/p99: latency of\n"
               "one concord_apply() batch; RSS: the child's peak resident set (ru_maxrss).\n");
    if (headed[1])
        printf("\nR, F: seconds is the wall clock of the one timed call (setup batches and the\n"
               "checks after it are untimed); RSS: the child's peak resident set, setup included.\n");
    return status;
}
