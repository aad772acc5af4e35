/*
 * test_model.c — a model-based test of the ledger: the engine and the SQLite
 * store together, against a small reference model written independently here.
 *
 * Why: unit tests pin single rules; this test throws long random sequences of
 * operations at the whole write path (concord_apply: load, expire, execute,
 * write, commit) and checks after every batch that what the store holds is
 * what a second, much simpler reading of the contract (DESIGN.md, "The
 * contract" and "Operations") says it must hold.
 *
 * What it runs: a seeded generator builds at least 100,000 operations in
 * batches of 1…600: units (scales 0…4), accounts (some with
 * debits_must_not_exceed_credits, some with credits_must_not_exceed_debits),
 * single-phase and pending transfers (with and without expiry), full and
 * partial posts, voids, duplicates of earlier operations (exact and altered),
 * references to missing accounts, units and pending transfers, zero amounts,
 * equal and mismatched accounts, malformed operations (free text that is not
 * UTF-8 among them), linked chains of 2…5 (some failing part-way, some left
 * open at the end of a batch), and amounts near 2^63 to provoke overflows.
 * Conditions too: base conditions
 * (with and without title, authority, probability), derived ones whose
 * `when` names earlier conditions, malformed ones (a name naming itself, an
 * unknown name, syntax errors, 1,024/1,025-byte and 32/33-level
 * expressions), pending transfers gated by `if` (some already decided when
 * they arrive, some not pending at all), and resolutions (met, failed, of a
 * decided condition, of a derived one, of an unknown name), all of them
 * also inside chains, so that a resolution and the settlements it causes are
 * rolled back with a failing chain. A fake clock
 * (concord_set_clock) moves between batches so that pending transfers expire
 * deterministically: at the start of each batch every pending transfer whose
 * expires ≤ now expires, recorded as "<id>/expiry", before the operations run.
 *
 * What it checks, after every batch:
 *   - every result: the model's status; a timestamp exactly for created
 *     and exists (strictly increasing over created results; the row found
 *     for exists, as ledger.h says); none for every rejection, including
 *     exists_with_different_fields; a message for invalid;
 *   - every account the run ever named, through concord_account_get: present
 *     exactly when the model has it, with the model's fields and balances;
 *   - every unit code, through concord_unit_get;
 *   - every transfer the batch named, expired or settled by a condition, and
 *     every gated transfer ever created, through concord_transfer_get:
 *     state, reason, amounts, effects, flags, accounts and fields;
 *   - every condition, read into a fresh view by concord_conditions: in
 *     creation order, its fields, its state (derived ones evaluated) and,
 *     for a base condition, resolved_at = the timestamp of its `resolved`;
 *   - for `resolve`, the posted and voided counts; for every expression
 *     error, the column the model's parser blames named in the message;
 *   - concord_check (the store's own invariants), and the model's invariants:
 *     balances in 0 … 2^63−1, flag limits, per unit Σ debits = Σ credits
 *     (posted and pending), and balances recomputed from the model's rows.
 * At the end each status the test is built to provoke must have occurred at
 * least once (for runs of at least MODEL_COVERAGE_OPS_MIN operations), and
 * so must gated transfers posted and voided by a resolution, posted and
 * voided on arrival, and a resolution rolled back by its chain.
 *
 * The model: plain arrays with chained hash indexes, rules written from the
 * contract in the check order the engine documents (malformed, then the
 * idempotency key, amount, accounts, units, conditions, expiry, overflow,
 * limits). Linked chains work by copying the model's whole mutable state
 * before the chain and copying it back when the chain fails: rows are
 * append-only, and the one field that changes after creation (a transfer's
 * state) lives in its own array, copied with the rest. The engine instead
 * keeps an undo log. The model calls no ledger_* or cond_* function; it
 * shares only the headers' types and constants.
 *
 * Conditions in the model: a table of rows (name, fields, the root of the
 * `when` expression for a derived one) with a state per row that the
 * snapshot copies. Expressions are parsed by the model's own recursive
 * descent parser, written from the contract (names, `!` tightest, then `&`,
 * then `|`, parentheses, spaces; at most 1,024 bytes and 32 levels of `(`
 * and `!`; the first error from the left is the one reported) into a tree of
 * nodes, evaluated by Kleene's tables. After a resolution every derived
 * state is recomputed in creation order, then every gated transfer still
 * pending whose `if` is now decided is settled: posted in full (met) or
 * voided (failed), with the record "<id>/condition", reason condition. A
 * transfer whose `if` is decided on arrival is settled the same way at once.
 *
 * Replay: the seed comes from argv[1], else $CONCORD_MODEL_SEED, else the
 * clock. It is printed first ("seed=N") and again, with a command that
 * replays it, on any failure. $CONCORD_MODEL_OPS sets the number of
 * operations (default 100,000); a replay needs the same value. The database
 * lives in a new directory under $TMPDIR (or /tmp), removed when the run
 * passes and kept for inspection when it fails.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include "ledger/ledger.h"
#include "store/store.h"
#include "util/error.h"

#define MODEL_OPS_DEFAULT 100000
#define MODEL_BATCH_OPS_MAX 600      /* operations the generator puts in one batch, at most */
#define MODEL_BATCH_SLACK 64         /* room for the first batch's setup operations */
#define MODEL_COVERAGE_OPS_MIN 20000 /* shorter runs report missing statuses without failing */
#define MODEL_CHAIN_PERCENT 4        /* chance that an operation slot starts a linked chain */

#define AMOUNT_MAX INT64_MAX
#define SECOND INT64_C(1000000000)
#define CLOCK_START (INT64_C(1767225600) * SECOND) /* 2026-01-01T00:00:00Z */
#define DATE_MIN (INT64_C(1577836800) * SECOND)    /* 2020-01-01T00:00:00Z */
#define DATE_SPAN (INT64_C(315532800) * SECOND)    /* ten years */
#define EXPIRY_SUFFIX "/expiry"
#define CONDITION_SUFFIX "/condition"

/* ---------------------------------------------------------------- random numbers */

/* splitmix64: tiny, fast, and the same sequence on every platform. */
struct rng {
    uint64_t state;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* 0 … n−1 (the modulo bias is irrelevant here). */
static uint64_t rng_below(struct rng *r, uint64_t n)
{
    assert(n > 0);
    return rng_next(r) % n;
}

static uint32_t rng_index(struct rng *r, uint32_t n) { return (uint32_t)rng_below(r, n); }

static bool rng_percent(struct rng *r, uint32_t percent) { return rng_below(r, 100) < percent; }

/* lo … hi, inclusive. */
static int64_t rng_between(struct rng *r, int64_t lo, int64_t hi)
{
    assert(lo <= hi);
    uint64_t span = (uint64_t)hi - (uint64_t)lo;
    uint64_t offset = span == UINT64_MAX ? rng_next(r) : rng_below(r, span + 1);
    return (int64_t)((uint64_t)lo + offset);
}

/* ---------------------------------------------------------------- memory */

static void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size);
    if (q == NULL && size > 0) {
        fputs("test_model: out of memory\n", stderr);
        exit(3);
    }
    return q;
}

/* Grows *array (elem bytes per slot) so that it holds at least need slots. */
static void grow(void **array, uint32_t *capacity, uint32_t need, size_t elem)
{
    if (need <= *capacity) return;
    uint32_t cap = *capacity == 0 ? 64 : *capacity;
    while (cap < need) cap *= 2;
    *array = xrealloc(*array, (size_t)cap * elem);
    *capacity = cap;
}

/*
 * The run's string pool: every string an operation or a model row points to
 * is placed here and lives until the end of the run, so operations outlive
 * concord_apply and can be replayed as duplicates batches later.
 */
#define POOL_CHUNK_BYTES (1u << 20)

struct pool_chunk {
    struct pool_chunk *next; /* older chunk */
    size_t used, size;       /* bytes of data handed out, and available */
    char data[];
};

struct pool {
    struct pool_chunk *head; /* chunk being filled */
};

static char *pool_alloc(struct pool *p, size_t n)
{
    if (p->head == NULL || p->head->size - p->head->used < n) {
        size_t size = n > POOL_CHUNK_BYTES ? n : POOL_CHUNK_BYTES;
        struct pool_chunk *c = xrealloc(NULL, sizeof *c + size);
        c->next = p->head;
        c->used = 0;
        c->size = size;
        p->head = c;
    }
    char *s = p->head->data + p->head->used;
    p->head->used += n;
    return s;
}

static const char *pool_printf(struct pool *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static const char *pool_printf(struct pool *p, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    assert(n >= 0 && (size_t)n < sizeof buf);
    char *s = pool_alloc(p, (size_t)n + 1);
    memcpy(s, buf, (size_t)n + 1);
    return s;
}

static const char *pool_strdup(struct pool *p, const char *text)
{
    size_t n = strlen(text) + 1;
    char *s = pool_alloc(p, n);
    memcpy(s, text, n);
    return s;
}

static void pool_free(struct pool *p)
{
    while (p->head != NULL) {
        struct pool_chunk *next = p->head->next;
        free(p->head);
        p->head = next;
    }
}

/* A growable list of strings (ids). */
struct text_list {
    const char **items;
    uint32_t count, capacity;
};

static void text_list_push(struct text_list *l, const char *s)
{
    grow((void **)&l->items, &l->capacity, l->count + 1, sizeof *l->items);
    l->items[l->count++] = s;
}

/* ---------------------------------------------------------------- failing */

struct run {
    uint64_t seed;
    long ops_target;      /* operations to generate in all */
    const char *program;  /* argv[0], for the replay command */
    char dir[4096];       /* the temporary directory holding the database */
    char path[4200];      /* the database file */
    uint32_t batch;       /* the batch being run, from 1 */
};

static _Noreturn void run_fail(const struct run *run, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static _Noreturn void run_fail(const struct run *run, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "FAIL seed=%" PRIu64 " batch=%" PRIu32 ": ", run->seed, run->batch);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nseed=%" PRIu64 "\n", run->seed);
    if (run->path[0] != '\0') fprintf(stderr, "database kept at %s\n", run->path);
    fprintf(stderr, "replay: CONCORD_MODEL_OPS=%ld %s %" PRIu64 "\n", run->ops_target,
            run->program, run->seed);
    exit(1);
}

static const char *text_or_null(const char *s) { return s != NULL ? s : "(null)"; }

static const char *op_type_name(enum ledger_op_type type)
{
    switch (type) {
    case LEDGER_OP_UNIT: return "unit";
    case LEDGER_OP_ACCOUNT: return "account";
    case LEDGER_OP_TRANSFER: return "transfer";
    case LEDGER_OP_POST: return "post";
    case LEDGER_OP_VOID: return "void";
    case LEDGER_OP_CONDITION: return "condition";
    case LEDGER_OP_RESOLVE: return "resolve";
    case LEDGER_OP_REQUIREMENT: return "requirement";
    case LEDGER_OP_RATE: return "rate";
    case LEDGER_OP_PARTY: return "party";
    case LEDGER_OP_APPROVE: return "approve";
    case LEDGER_OP_DOMAIN: return "domain";
    case LEDGER_OP_TYPE_COUNT: break;
    }
    return "?";
}

/* One line that shows every field of an operation, for failure messages. */
static void op_describe(const struct ledger_op *op, char *out, size_t size)
{
    uint32_t f = op->flags;
    snprintf(out, size,
             "{op=%s id=%s debit=%s credit=%s unit=%s pending_id=%s amount=%" PRId64
             " has_amount=%d pending=%d linked=%d expires=%" PRId64 " has_expires=%d"
             " date=%" PRId64 " has_date=%d scale=%" PRId32 " has_scale=%d kind=%s memo=%s"
             " meta=%s if/when=%s name=%s owner=%s account_flags=%" PRIu32 " state=%u"
             " probability=%g has_probability=%d}",
             op_type_name(op->type), text_or_null(op->id), text_or_null(op->debit),
             text_or_null(op->credit), text_or_null(op->unit), text_or_null(op->pending_id),
             op->amount, (f & LEDGER_OP_HAS_AMOUNT) != 0, (f & LEDGER_OP_PENDING) != 0,
             (f & LEDGER_OP_LINKED) != 0, op->expires, (f & LEDGER_OP_HAS_EXPIRES) != 0, op->date,
             (f & LEDGER_OP_HAS_DATE) != 0, op->scale, (f & LEDGER_OP_HAS_SCALE) != 0,
             text_or_null(op->kind), text_or_null(op->memo), text_or_null(op->meta),
             text_or_null(op->cond), text_or_null(op->name), text_or_null(op->owner),
             op->account_flags, op->state, op->probability,
             (f & LEDGER_OP_HAS_PROBABILITY) != 0);
}

/* ================================================================ the model */

#define M_NONE UINT32_MAX
#define M_UNITS_MAX 16
#define M_ACCOUNT_BUCKETS (1u << 10)
#define M_TRANSFER_BUCKETS (1u << 15)
#define M_CONDITION_BUCKETS (1u << 10)
#define M_EXPR_BYTES_MAX 1024 /* DESIGN.md: an expression is at most 1,024 bytes */
#define M_EXPR_DEPTH_MAX 32   /* … and 32 levels of nesting ('(' and '!') */
#define M_CONDITION_NAME_BYTES_MAX 64

struct m_unit {
    const char *code;
    const char *name;  /* may be NULL */
    int32_t scale;
    int64_t timestamp; /* from the engine's created result; 0 until known */
};

struct m_account {
    const char *id;
    uint32_t unit; /* index into model.units */
    const char *name, *owner;
    uint32_t flags; /* LEDGER_ACCOUNT_* */
    int64_t debits_pending, debits_posted, credits_pending, credits_posted;
    int64_t timestamp; /* from the engine's created result; 0 until known */
    uint32_t next;     /* the next account in the same hash bucket */
};

/* A transfer row: an original transfer, or a post, void or expiry record. */
struct m_transfer {
    const char *id;
    uint32_t debit, credit; /* account indexes */
    uint32_t pending;       /* resolution records: the pending transfer's index; else M_NONE */
    uint8_t reason;         /* enum ledger_reason */
    bool two_phase;         /* created pending */
    bool has_date, has_amount, has_expires;
    const char *kind, *cond, *memo, *meta;
    int64_t amount;         /* as given; void and expiry records: the amount released */
    int64_t effect_posted, effect_pending;
    int64_t expires, date;  /* when has_expires, has_date */
    int64_t timestamp;      /* from the engine's created result; 0 until known */
    uint32_t gate;          /* a transfer with `if`: the root node of its expression; else M_NONE */
    uint32_t next;          /* the next row in the same hash bucket */
};

/* A node of a parsed expression; nodes live in model.nodes and are never freed. */
enum m_node_kind { M_NODE_NAME, M_NODE_NOT, M_NODE_AND, M_NODE_OR };

struct m_node {
    uint8_t kind;          /* enum m_node_kind */
    uint32_t left, right;  /* NAME: left is the condition's index; NOT: left; AND, OR: both */
};

/* A condition row: base (when == NULL) or derived. Its state lives in model.condition_states. */
struct m_condition {
    const char *name, *title, *authority, *when;
    uint32_t when_root;    /* derived: the root node of `when`; base: M_NONE */
    bool has_probability;
    double probability;
    int64_t timestamp;     /* from the engine's created result; 0 until known */
    uint32_t next;         /* the next row in the same hash bucket */
};

struct model {
    struct m_unit units[M_UNITS_MAX];
    uint32_t units_count;
    struct m_account *accounts;
    uint32_t accounts_count, accounts_capacity;
    uint32_t account_heads[M_ACCOUNT_BUCKETS];
    struct m_transfer *transfers; /* append-only */
    uint32_t transfers_count, transfers_capacity;
    uint8_t *states; /* enum ledger_state per transfer: the one thing that changes later */
    uint32_t states_capacity;
    uint32_t *transfer_heads; /* M_TRANSFER_BUCKETS */
    struct m_condition *conditions; /* append-only, in creation order */
    uint32_t conditions_count, conditions_capacity;
    uint32_t condition_heads[M_CONDITION_BUCKETS];
    uint8_t *condition_states;    /* per condition: base as decided, derived computed */
    int64_t *condition_resolved_at; /* per condition: its `resolved` result's timestamp, else 0 */
    uint32_t condition_states_capacity;
    struct m_node *nodes;         /* every parsed expression (append-only) */
    uint32_t nodes_count, nodes_capacity;
    uint32_t *gated;              /* transfers whose `if` was open on arrival (some settled since) */
    uint32_t gated_count, gated_capacity;
    uint32_t *gated_all;          /* every transfer created with an `if`, to read back */
    uint32_t gated_all_count, gated_all_capacity;
    /* Not part of the ledger: where settlements put the ids they make and touch. */
    struct pool *pool;
    struct text_list *touched;
    uint64_t resolves_rolled_back; /* resolutions a failing chain took back */
};

/* Everything in a model that a linked chain can change, copied whole. */
struct model_snapshot {
    struct m_unit units[M_UNITS_MAX];
    uint32_t units_count;
    struct m_account *accounts;
    uint32_t accounts_count, accounts_capacity;
    uint32_t account_heads[M_ACCOUNT_BUCKETS];
    uint32_t transfers_count;
    uint8_t *states;
    uint32_t states_capacity;
    uint32_t *transfer_heads;
    uint32_t conditions_count;
    uint32_t condition_heads[M_CONDITION_BUCKETS];
    uint8_t *condition_states;
    uint32_t condition_states_capacity;
    uint32_t gated_count, gated_all_count;
};

/* What the model says an operation gives, and which row it names. */
struct expect {
    enum ledger_status status;
    char table;      /* 'u', 'a', 't', 'c' when record names a row; 'r': the condition resolved */
    uint32_t record; /* the row created (created) or found (exists, …different_fields) */
    int32_t posted, voided; /* resolved: gated transfers it settles */
    uint8_t arrival; /* a created gated transfer: 0 open, else the cond_state it was settled by */
    uint32_t column; /* an expression error: the 1-based column the message must name; else 0 */
};

static uint32_t hash_text(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

static bool text_same(const char *a, const char *b)
{
    if (a == NULL || b == NULL) return a == b;
    return strcmp(a, b) == 0;
}

static void model_init(struct model *m, struct pool *pool, struct text_list *touched)
{
    memset(m, 0, sizeof *m);
    m->pool = pool;
    m->touched = touched;
    for (uint32_t i = 0; i < M_ACCOUNT_BUCKETS; i++) m->account_heads[i] = M_NONE;
    for (uint32_t i = 0; i < M_CONDITION_BUCKETS; i++) m->condition_heads[i] = M_NONE;
    m->transfer_heads = xrealloc(NULL, M_TRANSFER_BUCKETS * sizeof *m->transfer_heads);
    for (uint32_t i = 0; i < M_TRANSFER_BUCKETS; i++) m->transfer_heads[i] = M_NONE;
}

static void model_free(struct model *m)
{
    free(m->accounts);
    free(m->transfers);
    free(m->states);
    free(m->transfer_heads);
    free(m->conditions);
    free(m->condition_states);
    free(m->condition_resolved_at);
    free(m->nodes);
    free(m->gated);
    free(m->gated_all);
    memset(m, 0, sizeof *m);
}

static uint32_t model_unit_find(const struct model *m, const char *code)
{
    for (uint32_t i = 0; i < m->units_count; i++)
        if (strcmp(m->units[i].code, code) == 0) return i;
    return M_NONE;
}

static uint32_t model_account_find(const struct model *m, const char *id)
{
    uint32_t i = m->account_heads[hash_text(id) % M_ACCOUNT_BUCKETS];
    while (i != M_NONE && strcmp(m->accounts[i].id, id) != 0) i = m->accounts[i].next;
    return i;
}

static uint32_t model_transfer_find(const struct model *m, const char *id)
{
    uint32_t i = m->transfer_heads[hash_text(id) % M_TRANSFER_BUCKETS];
    while (i != M_NONE && strcmp(m->transfers[i].id, id) != 0) i = m->transfers[i].next;
    return i;
}

static uint32_t model_condition_find(const struct model *m, const char *name)
{
    uint32_t i = m->condition_heads[hash_text(name) % M_CONDITION_BUCKETS];
    while (i != M_NONE && strcmp(m->conditions[i].name, name) != 0) i = m->conditions[i].next;
    return i;
}

static uint32_t model_condition_append(struct model *m, struct m_condition c, uint8_t state)
{
    assert(model_condition_find(m, c.name) == M_NONE);
    uint32_t need = m->conditions_count + 1;
    grow((void **)&m->conditions, &m->conditions_capacity, need, sizeof c);
    if (need > m->condition_states_capacity) {
        uint32_t cap = m->conditions_capacity;
        m->condition_states = xrealloc(m->condition_states, cap * sizeof *m->condition_states);
        m->condition_resolved_at =
            xrealloc(m->condition_resolved_at, cap * sizeof *m->condition_resolved_at);
        m->condition_states_capacity = cap;
    }
    uint32_t index = m->conditions_count++;
    uint32_t *head = &m->condition_heads[hash_text(c.name) % M_CONDITION_BUCKETS];
    c.next = *head;
    *head = index;
    m->conditions[index] = c;
    m->condition_states[index] = state;
    m->condition_resolved_at[index] = 0;
    return index;
}

static void index_list_push(uint32_t **items, uint32_t *count, uint32_t *capacity, uint32_t v)
{
    grow((void **)items, capacity, *count + 1, sizeof **items);
    (*items)[(*count)++] = v;
}

static uint32_t model_account_append(struct model *m, struct m_account a)
{
    assert(model_account_find(m, a.id) == M_NONE);
    grow((void **)&m->accounts, &m->accounts_capacity, m->accounts_count + 1, sizeof a);
    uint32_t index = m->accounts_count++;
    uint32_t *head = &m->account_heads[hash_text(a.id) % M_ACCOUNT_BUCKETS];
    a.next = *head;
    *head = index;
    m->accounts[index] = a;
    return index;
}

static uint32_t model_transfer_append(struct model *m, struct m_transfer t, uint8_t state)
{
    assert(model_transfer_find(m, t.id) == M_NONE);
    uint32_t need = m->transfers_count + 1;
    grow((void **)&m->transfers, &m->transfers_capacity, need, sizeof t);
    grow((void **)&m->states, &m->states_capacity, need, sizeof *m->states);
    uint32_t index = m->transfers_count++;
    uint32_t *head = &m->transfer_heads[hash_text(t.id) % M_TRANSFER_BUCKETS];
    t.next = *head;
    *head = index;
    m->transfers[index] = t;
    m->states[index] = state;
    return index;
}

static void snapshot_take(struct model_snapshot *s, const struct model *m)
{
    memcpy(s->units, m->units, sizeof s->units);
    s->units_count = m->units_count;
    grow((void **)&s->accounts, &s->accounts_capacity, m->accounts_count, sizeof *s->accounts);
    if (m->accounts_count > 0)
        memcpy(s->accounts, m->accounts, m->accounts_count * sizeof *s->accounts);
    s->accounts_count = m->accounts_count;
    memcpy(s->account_heads, m->account_heads, sizeof s->account_heads);
    grow((void **)&s->states, &s->states_capacity, m->transfers_count, sizeof *s->states);
    if (m->transfers_count > 0) memcpy(s->states, m->states, m->transfers_count);
    s->transfers_count = m->transfers_count;
    if (s->transfer_heads == NULL)
        s->transfer_heads = xrealloc(NULL, M_TRANSFER_BUCKETS * sizeof *s->transfer_heads);
    memcpy(s->transfer_heads, m->transfer_heads, M_TRANSFER_BUCKETS * sizeof *s->transfer_heads);
    s->conditions_count = m->conditions_count;
    memcpy(s->condition_heads, m->condition_heads, sizeof s->condition_heads);
    grow((void **)&s->condition_states, &s->condition_states_capacity, m->conditions_count,
         sizeof *s->condition_states);
    if (m->conditions_count > 0)
        memcpy(s->condition_states, m->condition_states, m->conditions_count);
    s->gated_count = m->gated_count;
    s->gated_all_count = m->gated_all_count;
}

/* Puts back what snapshot_take copied; rows appended since are forgotten. */
static void snapshot_restore(struct model *m, const struct model_snapshot *s)
{
    assert(s->accounts_count <= m->accounts_count && s->transfers_count <= m->transfers_count);
    memcpy(m->units, s->units, sizeof m->units);
    m->units_count = s->units_count;
    if (s->accounts_count > 0)
        memcpy(m->accounts, s->accounts, s->accounts_count * sizeof *m->accounts);
    m->accounts_count = s->accounts_count;
    memcpy(m->account_heads, s->account_heads, sizeof m->account_heads);
    if (s->transfers_count > 0) memcpy(m->states, s->states, s->transfers_count);
    m->transfers_count = s->transfers_count;
    memcpy(m->transfer_heads, s->transfer_heads, M_TRANSFER_BUCKETS * sizeof *m->transfer_heads);
    assert(s->conditions_count <= m->conditions_count && s->gated_count <= m->gated_count);
    m->conditions_count = s->conditions_count;
    memcpy(m->condition_heads, s->condition_heads, sizeof m->condition_heads);
    if (s->conditions_count > 0)
        memcpy(m->condition_states, s->condition_states, s->conditions_count);
    m->gated_count = s->gated_count;
    m->gated_all_count = s->gated_all_count;
}

static void snapshot_free(struct model_snapshot *s)
{
    free(s->accounts);
    free(s->states);
    free(s->transfer_heads);
    free(s->condition_states);
}

/* ---------------------------------------------------------------- model: identifiers */

static bool char_upper(char c) { return c >= 'A' && c <= 'Z'; }
static bool char_lower(char c) { return c >= 'a' && c <= 'z'; }
static bool char_digit(char c) { return c >= '0' && c <= '9'; }

/* [A-Z][A-Z0-9_]{0,15} */
static bool text_is_unit_code(const char *s)
{
    if (s == NULL || !char_upper(s[0])) return false;
    size_t n = strlen(s);
    if (n > LEDGER_UNIT_CODE_BYTES_MAX) return false;
    for (size_t i = 1; i < n; i++)
        if (!char_upper(s[i]) && !char_digit(s[i]) && s[i] != '_') return false;
    return true;
}

/* [a-z0-9][a-z0-9._-]{0,127} */
static bool text_is_account_id(const char *s)
{
    if (s == NULL || !(char_lower(s[0]) || char_digit(s[0]))) return false;
    size_t n = strlen(s);
    if (n > LEDGER_ID_BYTES_MAX) return false;
    for (size_t i = 1; i < n; i++)
        if (!char_lower(s[i]) && !char_digit(s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
            return false;
    return true;
}

/* 1 … 128 printable ASCII characters without spaces. */
static bool text_is_transfer_id(const char *s)
{
    if (s == NULL) return false;
    size_t n = strlen(s);
    if (n == 0 || n > LEDGER_ID_BYTES_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] > '~') return false;
    return true;
}

/* [a-z][a-z0-9_]{0,63} */
static bool text_is_condition_name(const char *s)
{
    if (s == NULL || !char_lower(s[0])) return false;
    size_t n = strlen(s);
    if (n > M_CONDITION_NAME_BYTES_MAX) return false;
    for (size_t i = 1; i < n; i++)
        if (!char_lower(s[i]) && !char_digit(s[i]) && s[i] != '_') return false;
    return true;
}

/*
 * UTF-8 as RFC 3629 tabulates it (section 4): each well-formed sequence by
 * the ranges its bytes may take, so no overlong forms, no surrogates, nothing
 * above U+10FFFF.
 */
static bool text_is_utf8(const char *s)
{
    if (s == NULL) return true;
    const unsigned char *p = (const unsigned char *)s;
    while (*p != 0) {
        unsigned char b = *p;
        unsigned char lo = 0x80, hi = 0xbf; /* the second byte's range */
        int more;
        if (b <= 0x7f) { p++; continue; }
        else if (b >= 0xc2 && b <= 0xdf) more = 1;
        else if (b == 0xe0) { more = 2; lo = 0xa0; }
        else if (b == 0xed) { more = 2; hi = 0x9f; }
        else if (b >= 0xe1 && b <= 0xef) more = 2;
        else if (b == 0xf0) { more = 3; lo = 0x90; }
        else if (b == 0xf4) { more = 3; hi = 0x8f; }
        else if (b >= 0xf1 && b <= 0xf3) more = 3;
        else return false;
        if (p[1] < lo || p[1] > hi) return false;
        for (int k = 2; k <= more; k++)
            if (p[k] < 0x80 || p[k] > 0xbf) return false;
        p += more + 1;
    }
    return true;
}

static bool text_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static struct expect expect_only(enum ledger_status status)
{
    return (struct expect){.status = status, .table = 0, .record = M_NONE};
}

static struct expect expect_row(enum ledger_status status, char table, uint32_t record)
{
    return (struct expect){.status = status, .table = table, .record = record};
}

/* ---------------------------------------------------------------- model: expressions */

/*
 * The model's reading of an expression, from the contract alone:
 *
 *   or      := and ( '|' and )*
 *   and     := unary ( '&' unary )*
 *   unary   := '!' unary | primary
 *   primary := name | '(' or ')'
 *
 * with spaces between tokens. A name is a run of letters, digits and '_'
 * that must read [a-z][a-z0-9_]{0,63}; it must name an existing condition
 * and not the one being defined. Each '(' and each '!' opens a level while
 * its operand is read, and no more than 32 may be open. The first error from
 * the left wins, and its column (1-based) is where the offending token
 * starts, or the end of the text.
 */
enum m_parse_error {
    M_PARSE_OK = 0,
    M_PARSE_SYNTAX,   /* invalid */
    M_PARSE_UNKNOWN,  /* no such condition: condition_not_found for `if`, invalid for `when` */
    M_PARSE_SELF,     /* a `when` naming its own condition: invalid */
    M_PARSE_TOO_LONG, /* more than 1,024 bytes: invalid (no column) */
    M_PARSE_TOO_DEEP, /* more than 32 levels: invalid */
};

struct m_parser {
    struct model *model;
    const char *text;
    size_t at;          /* the next byte */
    const char *self;   /* the condition being defined, or NULL */
    uint32_t depth;     /* '(' and '!' open around the operand being read */
    enum m_parse_error error;
    size_t error_at;    /* 0-based byte of the first error */
};

static bool m_parse_fail(struct m_parser *p, enum m_parse_error error, size_t at)
{
    p->error = error;
    p->error_at = at;
    return false;
}

static void m_parse_space(struct m_parser *p)
{
    while (p->text[p->at] == ' ') p->at++;
}

static uint32_t m_node_add(struct model *m, uint8_t kind, uint32_t left, uint32_t right)
{
    grow((void **)&m->nodes, &m->nodes_capacity, m->nodes_count + 1, sizeof *m->nodes);
    m->nodes[m->nodes_count] = (struct m_node){.kind = kind, .left = left, .right = right};
    return m->nodes_count++;
}

static bool char_word(char c)
{
    return char_lower(c) || char_upper(c) || char_digit(c) || c == '_';
}

static bool m_parse_or(struct m_parser *p, uint32_t *out);

static bool m_parse_name(struct m_parser *p, uint32_t *out)
{
    size_t start = p->at;
    while (char_word(p->text[p->at])) p->at++;
    size_t n = p->at - start;
    char name[M_EXPR_BYTES_MAX + 1];
    memcpy(name, p->text + start, n);
    name[n] = '\0';
    if (!text_is_condition_name(name)) return m_parse_fail(p, M_PARSE_SYNTAX, start);
    if (p->self != NULL && strcmp(name, p->self) == 0) return m_parse_fail(p, M_PARSE_SELF, start);
    uint32_t c = model_condition_find(p->model, name);
    if (c == M_NONE) return m_parse_fail(p, M_PARSE_UNKNOWN, start);
    *out = m_node_add(p->model, M_NODE_NAME, c, M_NONE);
    return true;
}

static bool m_parse_primary(struct m_parser *p, uint32_t *out)
{
    m_parse_space(p);
    char c = p->text[p->at];
    if (char_word(c)) return m_parse_name(p, out);
    if (c != '(') return m_parse_fail(p, M_PARSE_SYNTAX, p->at);
    if (p->depth >= M_EXPR_DEPTH_MAX) return m_parse_fail(p, M_PARSE_TOO_DEEP, p->at);
    p->depth++;
    p->at++;
    if (!m_parse_or(p, out)) return false;
    m_parse_space(p);
    if (p->text[p->at] != ')') return m_parse_fail(p, M_PARSE_SYNTAX, p->at);
    p->at++;
    p->depth--;
    return true;
}

static bool m_parse_unary(struct m_parser *p, uint32_t *out)
{
    m_parse_space(p);
    if (p->text[p->at] != '!') return m_parse_primary(p, out);
    if (p->depth >= M_EXPR_DEPTH_MAX) return m_parse_fail(p, M_PARSE_TOO_DEEP, p->at);
    p->depth++;
    p->at++;
    uint32_t operand;
    if (!m_parse_unary(p, &operand)) return false;
    p->depth--;
    *out = m_node_add(p->model, M_NODE_NOT, operand, M_NONE);
    return true;
}

/* One level of left-associative binary operators: `next` operands joined by `op`. */
static bool m_parse_binary(struct m_parser *p, uint32_t *out, char op, uint8_t kind,
                           bool (*next)(struct m_parser *, uint32_t *))
{
    if (!next(p, out)) return false;
    for (;;) {
        m_parse_space(p);
        if (p->text[p->at] != op) return true;
        p->at++;
        uint32_t right;
        if (!next(p, &right)) return false;
        *out = m_node_add(p->model, kind, *out, right);
    }
}

static bool m_parse_and(struct m_parser *p, uint32_t *out)
{
    return m_parse_binary(p, out, '&', M_NODE_AND, m_parse_unary);
}

static bool m_parse_or(struct m_parser *p, uint32_t *out)
{
    return m_parse_binary(p, out, '|', M_NODE_OR, m_parse_and);
}

/* What parsing an expression gave: a root node, or an error and its column. */
struct m_parsed {
    enum m_parse_error error;
    uint32_t root;   /* when error is M_PARSE_OK */
    uint32_t column; /* 1-based; 0 when the error has none (too long) */
};

static struct m_parsed model_parse(struct model *m, const char *text, const char *self)
{
    if (strlen(text) > M_EXPR_BYTES_MAX) return (struct m_parsed){.error = M_PARSE_TOO_LONG};
    struct m_parser p = {.model = m, .text = text, .self = self};
    uint32_t root = M_NONE;
    m_parse_space(&p);
    if (text[p.at] == '\0') m_parse_fail(&p, M_PARSE_SYNTAX, 0); /* empty: column 1 */
    else if (m_parse_or(&p, &root)) {
        m_parse_space(&p);
        if (text[p.at] != '\0') m_parse_fail(&p, M_PARSE_SYNTAX, p.at);
    }
    if (p.error != M_PARSE_OK)
        return (struct m_parsed){.error = p.error, .column = (uint32_t)p.error_at + 1};
    assert(p.depth == 0);
    return (struct m_parsed){.error = M_PARSE_OK, .root = root};
}

/* Kleene's three-valued logic over the model's condition states. */
static uint8_t model_eval(const struct model *m, uint32_t node)
{
    const struct m_node *n = &m->nodes[node];
    switch ((enum m_node_kind)n->kind) {
    case M_NODE_NAME: return m->condition_states[n->left];
    case M_NODE_NOT: {
        uint8_t v = model_eval(m, n->left);
        return v == COND_MET ? COND_FAILED : v == COND_FAILED ? COND_MET : COND_OPEN;
    }
    case M_NODE_AND: {
        uint8_t a = model_eval(m, n->left), b = model_eval(m, n->right);
        if (a == COND_FAILED || b == COND_FAILED) return COND_FAILED;
        return a == COND_MET && b == COND_MET ? COND_MET : COND_OPEN;
    }
    case M_NODE_OR: {
        uint8_t a = model_eval(m, n->left), b = model_eval(m, n->right);
        if (a == COND_MET || b == COND_MET) return COND_MET;
        return a == COND_FAILED && b == COND_FAILED ? COND_FAILED : COND_OPEN;
    }
    }
    assert(false);
    return COND_OPEN;
}

/* Every derived state again, in creation order: each names only earlier ones. */
static void model_conditions_recompute(struct model *m)
{
    for (uint32_t i = 0; i < m->conditions_count; i++)
        if (m->conditions[i].when_root != M_NONE)
            m->condition_states[i] = model_eval(m, m->conditions[i].when_root);
}

/* ---------------------------------------------------------------- model: units, accounts */

static struct expect model_unit_op(struct model *m, const struct ledger_op *op)
{
    if (!text_is_unit_code(op->id) || !(op->flags & LEDGER_OP_HAS_SCALE) || op->scale < 0 ||
        op->scale > LEDGER_SCALE_MAX)
        return expect_only(LEDGER_INVALID);
    if (op->name != NULL && strlen(op->name) > LEDGER_NAME_BYTES_MAX)
        return expect_only(LEDGER_INVALID);
    if (!text_is_utf8(op->name)) return expect_only(LEDGER_INVALID);
    uint32_t u = model_unit_find(m, op->id);
    if (u != M_NONE) {
        bool same = m->units[u].scale == op->scale && text_same(m->units[u].name, op->name);
        return expect_row(same ? LEDGER_EXISTS : LEDGER_EXISTS_WITH_DIFFERENT_FIELDS, 'u', u);
    }
    assert(m->units_count < M_UNITS_MAX);
    m->units[m->units_count] = (struct m_unit){.code = op->id, .name = op->name,
                                               .scale = op->scale};
    return expect_row(LEDGER_CREATED, 'u', m->units_count++);
}

static struct expect model_account_op(struct model *m, const struct ledger_op *op)
{
    const uint32_t both = LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS |
                          LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS;
    if (!text_is_account_id(op->id) || !text_is_unit_code(op->unit))
        return expect_only(LEDGER_INVALID);
    if (op->name != NULL && strlen(op->name) > LEDGER_NAME_BYTES_MAX)
        return expect_only(LEDGER_INVALID);
    if (!text_is_utf8(op->name)) return expect_only(LEDGER_INVALID);
    if (op->owner != NULL && !text_is_account_id(op->owner)) return expect_only(LEDGER_INVALID);
    if ((op->account_flags & ~both) != 0 || (op->account_flags & both) == both)
        return expect_only(LEDGER_INVALID);
    uint32_t a = model_account_find(m, op->id);
    if (a != M_NONE) {
        const struct m_account *found = &m->accounts[a];
        bool same = strcmp(m->units[found->unit].code, op->unit) == 0 &&
                    text_same(found->name, op->name) && text_same(found->owner, op->owner) &&
                    found->flags == op->account_flags;
        return expect_row(same ? LEDGER_EXISTS : LEDGER_EXISTS_WITH_DIFFERENT_FIELDS, 'a', a);
    }
    uint32_t u = model_unit_find(m, op->unit);
    if (u == M_NONE) return expect_only(LEDGER_UNIT_NOT_FOUND);
    struct m_account row = {.id = op->id, .unit = u, .name = op->name, .owner = op->owner,
                            .flags = op->account_flags};
    return expect_row(LEDGER_CREATED, 'a', model_account_append(m, row));
}

/* ---------------------------------------------------------------- model: transfers */

/* What every transfer-like operation must satisfy before anything else is looked at. */
static bool model_common_valid(const struct ledger_op *op)
{
    if (!text_is_transfer_id(op->id) || text_ends_with(op->id, EXPIRY_SUFFIX) ||
        text_ends_with(op->id, CONDITION_SUFFIX))
        return false;
    if (op->memo != NULL && strlen(op->memo) > LEDGER_MEMO_BYTES_MAX) return false;
    if (op->meta != NULL && strlen(op->meta) > LEDGER_META_BYTES_MAX) return false;
    if ((op->flags & LEDGER_OP_HAS_AMOUNT) && op->amount < 0) return false;
    if (!text_is_utf8(op->memo) || !text_is_utf8(op->meta) || !text_is_utf8(op->kind))
        return false;
    return op->kind == NULL || (op->kind[0] != '\0' && strlen(op->kind) <= LEDGER_KIND_BYTES_MAX);
}

static bool model_transfer_valid(const struct ledger_op *op)
{
    bool two_phase = op->flags & LEDGER_OP_PENDING;
    if (!model_common_valid(op)) return false;
    if (!text_is_account_id(op->debit) || !text_is_account_id(op->credit)) return false;
    if (!(op->flags & LEDGER_OP_HAS_AMOUNT)) return false;
    if (op->unit != NULL && !text_is_unit_code(op->unit)) return false;
    if ((op->flags & LEDGER_OP_HAS_EXPIRES) && !two_phase) return false;
    /* It would lapse before it takes effect. */
    if ((op->flags & LEDGER_OP_HAS_EXPIRES) && (op->flags & LEDGER_OP_HAS_DATE) &&
        op->expires < op->date)
        return false;
    return op->cond == NULL || (strlen(op->cond) <= LEDGER_EXPR_BYTES_MAX && text_is_utf8(op->cond));
}

static bool model_date_same(const struct m_transfer *t, const struct ledger_op *op)
{
    bool has_date = op->flags & LEDGER_OP_HAS_DATE;
    return t->has_date == has_date && (!has_date || t->date == op->date);
}

/* Is op the very transfer t (the same id again)? */
static bool model_transfer_same(const struct model *m, const struct m_transfer *t,
                                const struct ledger_op *op)
{
    bool has_expires = op->flags & LEDGER_OP_HAS_EXPIRES;
    if (t->reason != LEDGER_REASON_NONE) return false;
    if (strcmp(m->accounts[t->debit].id, op->debit) != 0) return false;
    if (strcmp(m->accounts[t->credit].id, op->credit) != 0) return false;
    if (t->amount != op->amount || t->two_phase != ((op->flags & LEDGER_OP_PENDING) != 0))
        return false;
    const char *unit = m->units[m->accounts[t->debit].unit].code;
    if (op->unit != NULL && strcmp(op->unit, unit) != 0) return false;
    if (!text_same(t->kind, op->kind) || !text_same(t->cond, op->cond)) return false;
    if (!text_same(t->memo, op->memo) || !text_same(t->meta, op->meta)) return false;
    if (t->has_expires != has_expires || (has_expires && t->expires != op->expires)) return false;
    return model_date_same(t, op);
}

static enum ledger_status model_settle(struct model *m, uint32_t p, bool met);

/*
 * The transfer passed every check but the arithmetic: overflow, limits, then
 * it holds; gated by an `if` already decided (gate: its root node), it is
 * settled at once.
 */
static struct expect model_transfer_commit(struct model *m, const struct ledger_op *op,
                                           uint32_t dr, uint32_t cr, uint32_t gate)
{
    bool two_phase = op->flags & LEDGER_OP_PENDING;
    struct m_account *d = &m->accounts[dr], *c = &m->accounts[cr];
    __int128 add_pending = two_phase ? op->amount : 0, add_posted = two_phase ? 0 : op->amount;
    __int128 d_pending = d->debits_pending + add_pending;
    __int128 d_posted = d->debits_posted + add_posted;
    __int128 c_pending = c->credits_pending + add_pending;
    __int128 c_posted = c->credits_posted + add_posted;
    if (d_pending > AMOUNT_MAX || d_posted > AMOUNT_MAX || c_pending > AMOUNT_MAX ||
        c_posted > AMOUNT_MAX || d_pending + d_posted > AMOUNT_MAX ||
        c_pending + c_posted > AMOUNT_MAX)
        return expect_only(LEDGER_OVERFLOWS);
    if ((d->flags & LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS) &&
        d_pending + d_posted > d->credits_posted)
        return expect_only(LEDGER_EXCEEDS_CREDITS);
    if ((c->flags & LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS) &&
        c_pending + c_posted > c->debits_posted)
        return expect_only(LEDGER_EXCEEDS_DEBITS);
    d->debits_pending = (int64_t)d_pending;
    d->debits_posted = (int64_t)d_posted;
    c->credits_pending = (int64_t)c_pending;
    c->credits_posted = (int64_t)c_posted;
    struct m_transfer t = {
        .id = op->id, .debit = dr, .credit = cr, .pending = M_NONE,
        .reason = LEDGER_REASON_NONE, .two_phase = two_phase,
        .has_date = (op->flags & LEDGER_OP_HAS_DATE) != 0, .has_amount = true,
        .has_expires = (op->flags & LEDGER_OP_HAS_EXPIRES) != 0, .kind = op->kind,
        .cond = op->cond, .memo = op->memo, .meta = op->meta, .amount = op->amount,
        .effect_posted = (int64_t)add_posted, .effect_pending = (int64_t)add_pending,
        .expires = op->expires, .date = op->date, .gate = gate,
    };
    uint8_t state = two_phase ? LEDGER_STATE_PENDING : LEDGER_STATE_POSTED;
    uint32_t index = model_transfer_append(m, t, state);
    struct expect e = expect_row(LEDGER_CREATED, 't', index);
    if (gate == M_NONE) return e;
    assert(two_phase);
    index_list_push(&m->gated_all, &m->gated_all_count, &m->gated_all_capacity, index);
    uint8_t value = model_eval(m, gate);
    if (value == COND_OPEN) {
        index_list_push(&m->gated, &m->gated_count, &m->gated_capacity, index);
        return e;
    }
    enum ledger_status settled = model_settle(m, index, value == COND_MET);
    if (settled != LEDGER_CREATED) return expect_only(settled);
    e.arrival = value;
    return e;
}

static struct expect model_transfer_op(struct model *m, const struct ledger_op *op, int64_t now)
{
    bool two_phase = op->flags & LEDGER_OP_PENDING;
    if (!model_transfer_valid(op)) return expect_only(LEDGER_INVALID);
    uint32_t found = model_transfer_find(m, op->id);
    if (found != M_NONE)
        return expect_row(model_transfer_same(m, &m->transfers[found], op)
                              ? LEDGER_EXISTS
                              : LEDGER_EXISTS_WITH_DIFFERENT_FIELDS,
                          't', found);
    if (op->amount == 0) return expect_only(LEDGER_AMOUNT_MUST_NOT_BE_ZERO);
    if (strcmp(op->debit, op->credit) == 0) return expect_only(LEDGER_ACCOUNTS_MUST_BE_DIFFERENT);
    uint32_t dr = model_account_find(m, op->debit);
    if (dr == M_NONE) return expect_only(LEDGER_DEBIT_ACCOUNT_NOT_FOUND);
    uint32_t cr = model_account_find(m, op->credit);
    if (cr == M_NONE) return expect_only(LEDGER_CREDIT_ACCOUNT_NOT_FOUND);
    uint32_t unit = M_NONE;
    if (op->unit != NULL) {
        unit = model_unit_find(m, op->unit);
        if (unit == M_NONE) return expect_only(LEDGER_UNIT_NOT_FOUND);
    }
    if (m->accounts[dr].unit != m->accounts[cr].unit ||
        (unit != M_NONE && unit != m->accounts[dr].unit))
        return expect_only(LEDGER_ACCOUNTS_MUST_HAVE_THE_SAME_UNIT);
    uint32_t gate = M_NONE;
    if (op->cond != NULL) {
        if (!two_phase) return expect_only(LEDGER_CONDITION_REQUIRES_PENDING);
        struct m_parsed parsed = model_parse(m, op->cond, NULL);
        if (parsed.error != M_PARSE_OK) {
            struct expect e = expect_only(parsed.error == M_PARSE_UNKNOWN
                                              ? LEDGER_CONDITION_NOT_FOUND
                                              : LEDGER_INVALID);
            e.column = parsed.column;
            return e;
        }
        gate = parsed.root;
    }
    if ((op->flags & LEDGER_OP_HAS_EXPIRES) && op->expires <= now)
        return expect_only(LEDGER_INVALID);
    return model_transfer_commit(m, op, dr, cr, gate);
}

/* ---------------------------------------------------------------- model: post, void, expiry */

/* When a row takes effect: its date as given, else its timestamp (0 while still unknown). */
static int64_t model_effective_date(const struct m_transfer *t)
{
    return t->has_date ? t->date : t->timestamp;
}

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

static bool model_resolution_same(const struct model *m, const struct m_transfer *t,
                                  const struct ledger_op *op)
{
    uint8_t reason = op->type == LEDGER_OP_POST ? LEDGER_REASON_POST : LEDGER_REASON_VOID;
    bool has_amount = op->flags & LEDGER_OP_HAS_AMOUNT;
    if (t->reason != reason || t->pending == M_NONE) return false;
    if (strcmp(m->transfers[t->pending].id, op->pending_id) != 0) return false;
    if (t->has_amount != has_amount || (has_amount && t->amount != op->amount)) return false;
    if (!text_same(t->kind, op->kind) || !text_same(t->memo, op->memo)) return false;
    return text_same(t->meta, op->meta) && model_date_same(t, op);
}

/*
 * Resolves pending transfer p: posts amount of it (post, or a condition
 * met) or releases it (void, expiry, a condition failed), appending the
 * record id. op is NULL for expiry and conditions.
 */
static struct expect model_resolve(struct model *m, uint32_t p, const char *id, uint8_t reason,
                                   bool post, int64_t amount, const struct ledger_op *op)
{
    const struct m_transfer pt = m->transfers[p]; /* a copy: the array may move */
    struct m_account *d = &m->accounts[pt.debit], *c = &m->accounts[pt.credit];
    assert(post == (reason == LEDGER_REASON_POST) || reason == LEDGER_REASON_CONDITION);
    int64_t posted = post ? amount : 0;
    __int128 d_posted = (__int128)d->debits_posted + posted;
    __int128 c_posted = (__int128)c->credits_posted + posted;
    if (d_posted > AMOUNT_MAX || c_posted > AMOUNT_MAX) return expect_only(LEDGER_OVERFLOWS);
    assert(d->debits_pending >= pt.amount && c->credits_pending >= pt.amount);
    d->debits_pending -= pt.amount;
    d->debits_posted = (int64_t)d_posted;
    c->credits_pending -= pt.amount;
    c->credits_posted = (int64_t)c_posted;
    uint8_t state = post                             ? LEDGER_STATE_POSTED
                    : reason == LEDGER_REASON_EXPIRY ? LEDGER_STATE_EXPIRED
                                                     : LEDGER_STATE_VOIDED;
    m->states[p] = state;
    /*
     * An expiry is dated when the transfer lapsed, a post or void as given (or
     * at its commit: see expected_default_date) — never before the pending
     * transfer itself. An expiry comes batches after its transfer was
     * created, so that transfer's timestamp is known.
     */
    bool expiry = reason == LEDGER_REASON_EXPIRY;
    assert(!expiry || model_effective_date(&pt) != 0);
    struct m_transfer r = {
        .id = id, .debit = pt.debit, .credit = pt.credit, .pending = p, .reason = reason,
        .two_phase = false,
        .has_date = expiry || (op != NULL && (op->flags & LEDGER_OP_HAS_DATE)),
        .has_amount = op != NULL && (op->flags & LEDGER_OP_HAS_AMOUNT),
        .has_expires = false, .kind = op ? op->kind : NULL, .cond = NULL,
        .memo = op ? op->memo : NULL, .meta = op ? op->meta : NULL,
        .amount = post ? amount : pt.amount,
        .effect_posted = posted, .effect_pending = -pt.amount,
        .date = expiry ? max64(pt.expires, model_effective_date(&pt))
                       : op != NULL ? op->date : 0,
        .gate = M_NONE,
    };
    return expect_row(LEDGER_CREATED, 't', model_transfer_append(m, r, state));
}

static struct expect model_pending_op(struct model *m, const struct ledger_op *op, int64_t now)
{
    bool post = op->type == LEDGER_OP_POST;
    bool has_amount = op->flags & LEDGER_OP_HAS_AMOUNT;
    if (!model_common_valid(op) || !text_is_transfer_id(op->pending_id))
        return expect_only(LEDGER_INVALID);
    if (!post && has_amount) return expect_only(LEDGER_INVALID);
    uint32_t found = model_transfer_find(m, op->id);
    if (found != M_NONE)
        return expect_row(model_resolution_same(m, &m->transfers[found], op)
                              ? LEDGER_EXISTS
                              : LEDGER_EXISTS_WITH_DIFFERENT_FIELDS,
                          't', found);
    if (has_amount && op->amount == 0) return expect_only(LEDGER_AMOUNT_MUST_NOT_BE_ZERO);
    uint32_t p = model_transfer_find(m, op->pending_id);
    if (p == M_NONE) return expect_only(LEDGER_PENDING_TRANSFER_NOT_FOUND);
    const struct m_transfer *pt = &m->transfers[p];
    if (!pt->two_phase) return expect_only(LEDGER_PENDING_TRANSFER_NOT_PENDING);
    switch (m->states[p]) {
    case LEDGER_STATE_POSTED: return expect_only(LEDGER_PENDING_TRANSFER_ALREADY_POSTED);
    case LEDGER_STATE_VOIDED: return expect_only(LEDGER_PENDING_TRANSFER_ALREADY_VOIDED);
    case LEDGER_STATE_EXPIRED: return expect_only(LEDGER_PENDING_TRANSFER_EXPIRED);
    default: assert(m->states[p] == LEDGER_STATE_PENDING); break;
    }
    if (pt->has_expires && pt->expires <= now) return expect_only(LEDGER_PENDING_TRANSFER_EXPIRED);
    /*
     * A resolution may not be dated before its pending transfer. One created
     * earlier in this batch without a date has no timestamp yet: it lies in
     * [now, now + 1 s), and gen_batch keeps given dates out of that window,
     * so comparing with now decides exactly as the timestamp would.
     */
    int64_t pending_date = model_effective_date(pt) != 0 ? model_effective_date(pt) : now;
    if ((op->flags & LEDGER_OP_HAS_DATE) && op->date < pending_date) return expect_only(LEDGER_INVALID);
    int64_t amount = has_amount ? op->amount : pt->amount;
    if (post && amount > pt->amount) return expect_only(LEDGER_EXCEEDS_PENDING_TRANSFER_AMOUNT);
    return model_resolve(m, p, op->id, post ? LEDGER_REASON_POST : LEDGER_REASON_VOID, post,
                         amount, op);
}

/*
 * Expires every pending transfer due at now, as the ledger does at the start
 * of a batch; names the pending transfers and their records in touched.
 */
static void model_expire(struct model *m, int64_t now, struct pool *pool,
                         struct text_list *touched)
{
    uint32_t count = m->transfers_count;
    for (uint32_t i = 0; i < count; i++) {
        const struct m_transfer *t = &m->transfers[i];
        if (m->states[i] != LEDGER_STATE_PENDING || !t->has_expires || t->expires > now) continue;
        const char *id = pool_printf(pool, "%s%s", t->id, EXPIRY_SUFFIX);
        text_list_push(touched, t->id);
        text_list_push(touched, id);
        struct expect e = model_resolve(m, i, id, LEDGER_REASON_EXPIRY, false, 0, NULL);
        assert(e.status == LEDGER_CREATED);
        (void)e;
    }
}

/* ---------------------------------------------------------------- model: conditions */

/* Posts in full (met) or voids (failed) pending transfer p because its `if` is decided. */
static enum ledger_status model_settle(struct model *m, uint32_t p, bool met)
{
    assert(m->states[p] == LEDGER_STATE_PENDING && m->transfers[p].gate != M_NONE);
    const char *pending_id = m->transfers[p].id;
    const char *id = pool_printf(m->pool, "%s%s", pending_id, CONDITION_SUFFIX);
    text_list_push(m->touched, pending_id);
    text_list_push(m->touched, id);
    int64_t amount = m->transfers[p].amount;
    return model_resolve(m, p, id, LEDGER_REASON_CONDITION, met, amount, NULL).status;
}

static struct expect model_condition_op(struct model *m, const struct ledger_op *op)
{
    bool has_probability = op->flags & LEDGER_OP_HAS_PROBABILITY;
    if (!text_is_condition_name(op->id)) return expect_only(LEDGER_INVALID);
    if (op->name != NULL && strlen(op->name) > LEDGER_NAME_BYTES_MAX)
        return expect_only(LEDGER_INVALID);
    if (op->owner != NULL && !text_is_account_id(op->owner)) return expect_only(LEDGER_INVALID);
    if (has_probability && !(op->probability >= 0.0 && op->probability <= 1.0))
        return expect_only(LEDGER_INVALID);
    uint32_t found = model_condition_find(m, op->id);
    if (found != M_NONE) {
        const struct m_condition *c = &m->conditions[found];
        bool same = text_same(c->title, op->name) && text_same(c->authority, op->owner) &&
                    text_same(c->when, op->cond) && c->has_probability == has_probability &&
                    (!has_probability || c->probability == op->probability);
        return expect_row(same ? LEDGER_EXISTS : LEDGER_EXISTS_WITH_DIFFERENT_FIELDS, 'c', found);
    }
    struct m_condition c = {.name = op->id, .title = op->name, .authority = op->owner,
                            .when = op->cond, .when_root = M_NONE,
                            .has_probability = has_probability,
                            .probability = has_probability ? op->probability : 0.0};
    uint8_t state = COND_OPEN;
    if (op->cond != NULL) {
        struct m_parsed parsed = model_parse(m, op->cond, op->id);
        if (parsed.error != M_PARSE_OK) {
            struct expect e = expect_only(LEDGER_INVALID);
            e.column = parsed.column;
            return e;
        }
        c.when_root = parsed.root;
        state = model_eval(m, parsed.root); /* over decided conditions it is decided at once */
    }
    return expect_row(LEDGER_CREATED, 'c', model_condition_append(m, c, state));
}

static struct expect model_resolve_op(struct model *m, const struct ledger_op *op)
{
    if (!text_is_condition_name(op->id)) return expect_only(LEDGER_INVALID);
    if (op->state != COND_MET && op->state != COND_FAILED) return expect_only(LEDGER_INVALID);
    uint32_t c = model_condition_find(m, op->id);
    if (c == M_NONE) return expect_only(LEDGER_CONDITION_NOT_FOUND);
    if (m->conditions[c].when != NULL) return expect_only(LEDGER_INVALID); /* derived: it follows */
    if (m->condition_states[c] != COND_OPEN) return expect_only(LEDGER_CONDITION_ALREADY_RESOLVED);
    m->condition_states[c] = op->state;
    model_conditions_recompute(m);
    struct expect e = expect_row(LEDGER_RESOLVED, 'r', c);
    for (uint32_t i = 0; i < m->gated_count; i++) {
        uint32_t t = m->gated[i];
        if (m->states[t] != LEDGER_STATE_PENDING) continue;
        uint8_t value = model_eval(m, m->transfers[t].gate);
        if (value == COND_OPEN) continue;
        enum ledger_status settled = model_settle(m, t, value == COND_MET);
        if (settled != LEDGER_CREATED) return expect_only(settled);
        if (value == COND_MET)
            e.posted++;
        else
            e.voided++;
    }
    return e;
}

/* Forgets gated transfers no longer pending (outside chains only: snapshots keep a count). */
static void model_gated_compact(struct model *m)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < m->gated_count; i++)
        if (m->states[m->gated[i]] == LEDGER_STATE_PENDING) m->gated[kept++] = m->gated[i];
    m->gated_count = kept;
}

static struct expect model_op(struct model *m, const struct ledger_op *op, int64_t now)
{
    if (op->invalid != NULL) return expect_only(LEDGER_INVALID);
    switch (op->type) {
    case LEDGER_OP_UNIT: return model_unit_op(m, op);
    case LEDGER_OP_ACCOUNT: return model_account_op(m, op);
    case LEDGER_OP_TRANSFER: return model_transfer_op(m, op, now);
    case LEDGER_OP_POST:
    case LEDGER_OP_VOID: return model_pending_op(m, op, now);
    case LEDGER_OP_CONDITION: return model_condition_op(m, op);
    case LEDGER_OP_RESOLVE: return model_resolve_op(m, op);
    case LEDGER_OP_REQUIREMENT:
    case LEDGER_OP_RATE:
    case LEDGER_OP_PARTY:
    case LEDGER_OP_APPROVE:
    case LEDGER_OP_DOMAIN:
    case LEDGER_OP_TYPE_COUNT: break; /* the generator makes none of these */
    }
    return expect_only(LEDGER_INVALID);
}

static bool status_holds(enum ledger_status s)
{
    return s == LEDGER_CREATED || s == LEDGER_EXISTS || s == LEDGER_RESOLVED;
}

/*
 * Runs a batch's operations. A chain is a run of linked operations and the
 * one after it; it holds whole or not at all. A chain that reaches the end
 * of the batch fails without running.
 */
static void model_batch(struct model *m, struct model_snapshot *snapshot,
                        const struct ledger_op *ops, size_t count, int64_t now, struct expect *out)
{
    model_gated_compact(m);
    size_t i = 0;
    while (i < count) {
        if (!(ops[i].flags & LEDGER_OP_LINKED)) {
            out[i] = model_op(m, &ops[i], now);
            i++;
            continue;
        }
        size_t last = i;
        while (last < count && (ops[last].flags & LEDGER_OP_LINKED)) last++;
        if (last == count) {
            for (size_t k = i; k < count; k++) out[k] = expect_only(LEDGER_LINKED_EVENT_FAILED);
            out[count - 1] = expect_only(LEDGER_LINKED_EVENT_CHAIN_OPEN);
            return;
        }
        snapshot_take(snapshot, m);
        size_t failed = SIZE_MAX;
        for (size_t k = i; k <= last && failed == SIZE_MAX; k++) {
            out[k] = model_op(m, &ops[k], now);
            if (!status_holds(out[k].status)) failed = k;
        }
        if (failed != SIZE_MAX) {
            snapshot_restore(m, snapshot);
            for (size_t k = i; k <= last; k++) {
                if (k == failed) continue;
                m->resolves_rolled_back += k < failed && out[k].status == LEDGER_RESOLVED;
                out[k] = expect_only(LEDGER_LINKED_EVENT_FAILED);
            }
        }
        i = last + 1;
    }
}

/* ---------------------------------------------------------------- model: invariants */

/*
 * The model's own invariants. Balances are recomputed from the rows by a
 * different rule than the one that maintains them: pending = the amounts of
 * transfers still pending; posted = single-phase amounts plus post amounts
 * plus the condition records of the transfers their condition posted.
 */
static bool model_check(const struct model *m, char *message, size_t size)
{
    uint32_t n = m->accounts_count;
    __int128 *sums = xrealloc(NULL, (size_t)(n + 1) * 4 * sizeof *sums);
    memset(sums, 0, (size_t)(n + 1) * 4 * sizeof *sums);
    for (uint32_t i = 0; i < m->transfers_count; i++) {
        const struct m_transfer *t = &m->transfers[i];
        __int128 *d = &sums[t->debit * 4], *c = &sums[t->credit * 4];
        if (t->two_phase && m->states[i] == LEDGER_STATE_PENDING) {
            d[0] += t->amount;
            c[2] += t->amount;
        } else if ((!t->two_phase && t->reason == LEDGER_REASON_NONE) ||
                   t->reason == LEDGER_REASON_POST ||
                   (t->reason == LEDGER_REASON_CONDITION &&
                    m->states[t->pending] == LEDGER_STATE_POSTED)) {
            d[1] += t->amount;
            c[3] += t->amount;
        }
    }
    __int128 units[M_UNITS_MAX][4];
    memset(units, 0, sizeof units);
    bool ok = true;
    for (uint32_t i = 0; i < n && ok; i++) {
        const struct m_account *a = &m->accounts[i];
        const int64_t b[4] = {a->debits_pending, a->debits_posted, a->credits_pending,
                              a->credits_posted};
        for (int k = 0; k < 4; k++) {
            units[a->unit][k] += b[k];
            if (b[k] < 0 || sums[i * 4 + (uint32_t)k] != b[k]) {
                snprintf(message, size, "model account %s: balance %d is %" PRId64
                         ", its rows say otherwise", a->id, k, b[k]);
                ok = false;
            }
        }
        if (ok && (a->flags & LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS) &&
            (__int128)b[0] + b[1] > b[3]) {
            snprintf(message, size, "model account %s: debits exceed credits", a->id);
            ok = false;
        }
        if (ok && (a->flags & LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS) &&
            (__int128)b[2] + b[3] > b[1]) {
            snprintf(message, size, "model account %s: credits exceed debits", a->id);
            ok = false;
        }
    }
    for (uint32_t u = 0; u < m->units_count && ok; u++) {
        if (units[u][0] != units[u][2] || units[u][1] != units[u][3]) {
            snprintf(message, size, "model unit %s: debits and credits differ", m->units[u].code);
            ok = false;
        }
    }
    free(sums);
    return ok;
}

/* ================================================================ the generator */

#define GEN_UNITS 5
#define GEN_UNIT_NEVER "GBP" /* a valid code that is never created */
#define GEN_WINDOW 40        /* the recent accounts most transfers use */
#define GEN_HISTORY 4096     /* earlier operations kept for duplicates */
#define GEN_GHOSTS 6         /* account ids never created */
#define GEN_CONDITION_WINDOW 16 /* the recent conditions most expressions name */
#define GEN_UNKNOWN_CONDITIONS 8 /* condition names never created: "zz0" … */
#define GEN_ANY UINT32_MAX

static const struct gen_unit {
    const char *code;
    const char *name;
    int32_t scale;
} gen_units[GEN_UNITS] = {
    {"PERSON", "Personnel", 0}, {"TONNE", "Tonnes", 1}, {"USD", "US dollar", 2},
    {"KG", "Kilogram", 3},      {"EUR", "Euro", 4}, /* EUR: created by chance, later */
};

/* An account id the generator has handed out, with the fields it meant. */
struct gen_account {
    const char *id;
    uint32_t unit; /* index into gen_units */
    uint32_t flags;
    const char *name, *owner;
    bool big; /* amounts near 2^63 go mostly between big accounts */
};

struct gen {
    struct rng rng;
    struct pool *pool;
    const struct model *model; /* consulted to aim operations, never changed */
    int64_t now;               /* the commit time of the batch being built */
    struct gen_account *accounts;
    uint32_t accounts_count, accounts_capacity;
    struct text_list pendings;    /* ids of pending transfers generated */
    struct text_list plains;      /* ids of single-phase transfers generated */
    struct text_list resolutions; /* ids of posts and voids generated */
    struct text_list conditions;  /* names of the conditions meant to be created */
    struct text_list bases;       /* … of them, the base ones */
    struct text_list deriveds;    /* … and the derived ones */
    struct ledger_op history[GEN_HISTORY];
    uint32_t history_count; /* operations ever put in history (a ring) */
    uint64_t serial;        /* for fresh ids */
};

static void gen_remember(struct gen *g, const struct ledger_op *op)
{
    struct ledger_op copy = *op;
    copy.flags &= ~LEDGER_OP_LINKED;
    g->history[g->history_count % GEN_HISTORY] = copy;
    g->history_count++;
}

static const char *gen_fresh_id(struct gen *g, const char *prefix)
{
    return pool_printf(g->pool, "%s%" PRIu64, prefix, g->serial++);
}

static const char *gen_ghost(struct gen *g)
{
    return pool_printf(g->pool, "ghost.%" PRIu32, rng_index(&g->rng, GEN_GHOSTS));
}

/* A string from the list, mostly among the last `recent` ones. */
static const char *gen_pick_text(struct gen *g, const struct text_list *l, uint32_t recent)
{
    assert(l->count > 0);
    uint32_t window = l->count < recent || rng_percent(&g->rng, 15) ? l->count : recent;
    return l->items[l->count - 1 - rng_index(&g->rng, window)];
}

/*
 * A recent account, preferably of unit (GEN_ANY: any), big when want_big,
 * existing in the model when must_exist, other than avoid; a few tries, then
 * whatever came last.
 */
static const struct gen_account *gen_pick_account(struct gen *g, uint32_t unit, bool want_big,
                                                  bool must_exist, const char *avoid)
{
    assert(g->accounts_count > 0);
    uint32_t n = g->accounts_count;
    uint32_t window = n < GEN_WINDOW || rng_percent(&g->rng, 5) ? n : GEN_WINDOW;
    const struct gen_account *pick = NULL;
    for (int tries = 0; tries < 24; tries++) {
        pick = &g->accounts[n - 1 - rng_index(&g->rng, window)];
        if (unit != GEN_ANY && pick->unit != unit) continue;
        if (want_big && !pick->big) continue;
        if (avoid != NULL && strcmp(pick->id, avoid) == 0) continue;
        if (must_exist && model_account_find(g->model, pick->id) == M_NONE) continue;
        return pick;
    }
    return pick;
}

static int64_t gen_big_amount(struct rng *r)
{
    switch (rng_below(r, 4)) {
    case 0: return AMOUNT_MAX;
    case 1: return AMOUNT_MAX - rng_between(r, 1, 1000);
    case 2: return AMOUNT_MAX / 2 + rng_between(r, -1000, 1000);
    default: return rng_between(r, AMOUNT_MAX / 4, AMOUNT_MAX);
    }
}

/*
 * An amount aimed at a boundary of the rules, as the model sees the two
 * accounts: the room left under a flag limit, or under 2^63−1, give or take
 * one. Returns 0 (leave the amount alone) when the accounts are unknown.
 */
static int64_t gen_boundary_amount(struct gen *g, const char *debit, const char *credit)
{
    const struct model *m = g->model;
    uint32_t dr = model_account_find(m, debit), cr = model_account_find(m, credit);
    if (dr == M_NONE || cr == M_NONE) return 0;
    const struct m_account *d = &m->accounts[dr], *c = &m->accounts[cr];
    __int128 room;
    switch (rng_below(&g->rng, 3)) {
    case 0: /* what a debits_must_not_exceed_credits debit account can still give */
        room = (__int128)d->credits_posted - d->debits_pending - d->debits_posted;
        break;
    case 1: /* what a credits_must_not_exceed_debits credit account can still take */
        room = (__int128)c->debits_posted - c->credits_pending - c->credits_posted;
        break;
    default: { /* the room under 2^63−1 on the fuller side */
        __int128 used_d = (__int128)d->debits_pending + d->debits_posted;
        __int128 used_c = (__int128)c->credits_pending + c->credits_posted;
        room = AMOUNT_MAX - (used_d > used_c ? used_d : used_c);
        break;
    }
    }
    room += rng_between(&g->rng, -1, 1);
    return room < 1 ? 1 : room > AMOUNT_MAX ? AMOUNT_MAX : (int64_t)room;
}

/* kind, memo, meta and date, each now and then. */
static void gen_extras(struct gen *g, struct ledger_op *op, uint32_t percent)
{
    struct rng *r = &g->rng;
    if (rng_percent(r, percent)) op->kind = rng_percent(r, 50) ? "pledge" : "disbursement";
    if (rng_percent(r, percent)) op->memo = pool_printf(g->pool, "memo %" PRIu32, rng_index(r, 50));
    if (rng_percent(r, percent / 2))
        op->meta = pool_printf(g->pool, "{\"n\":%" PRIu32 "}", rng_index(r, 10));
    if (rng_percent(r, percent)) {
        op->flags |= LEDGER_OP_HAS_DATE;
        op->date = DATE_MIN + rng_between(r, 0, DATE_SPAN);
    }
}

/* ---------------------------------------------------------------- generator: units, accounts */

static struct ledger_op gen_unit_canonical(uint32_t i)
{
    return (struct ledger_op){.type = LEDGER_OP_UNIT, .flags = LEDGER_OP_HAS_SCALE,
                              .id = gen_units[i].code, .name = gen_units[i].name,
                              .scale = gen_units[i].scale};
}

static struct ledger_op gen_unit_op(struct gen *g)
{
    struct rng *r = &g->rng;
    uint32_t i = rng_index(r, GEN_UNITS);
    struct ledger_op op = gen_unit_canonical(i);
    uint32_t choice = rng_index(r, 100);
    if (choice < 80) {
        /* as meant: created the first time, exists after */
    } else if (choice < 90) {
        if (rng_percent(r, 50))
            op.scale = (op.scale + 1) % GEN_UNITS;
        else
            op.name = "Other name";
    } else if (choice < 95) {
        uint32_t how = rng_index(r, 3);
        if (how == 0)
            op.flags &= ~LEDGER_OP_HAS_SCALE;
        else if (how == 1)
            op.scale = rng_percent(r, 50) ? LEDGER_SCALE_MAX + 1 : -1;
        else
            op.name = "Dollar \xa4"; /* Latin-9 text, not UTF-8 */
    } else {
        op.id = rng_percent(r, 50) ? "usd" : "U-1";
    }
    gen_remember(g, &op);
    return op;
}

static struct ledger_op gen_account_fresh(struct gen *g, uint32_t unit, uint32_t flags, bool big)
{
    struct rng *r = &g->rng;
    grow((void **)&g->accounts, &g->accounts_capacity, g->accounts_count + 1,
         sizeof *g->accounts);
    struct gen_account *a = &g->accounts[g->accounts_count++];
    *a = (struct gen_account){.id = gen_fresh_id(g, "a."), .unit = unit, .flags = flags,
                              .big = big};
    if (rng_percent(r, 50)) a->name = pool_printf(g->pool, "Account %" PRIu64, g->serial);
    if (rng_percent(r, 30)) a->owner = pool_printf(g->pool, "party.%" PRIu32, rng_index(r, 5));
    struct ledger_op op = {.type = LEDGER_OP_ACCOUNT, .id = a->id, .unit = gen_units[unit].code,
                           .name = a->name, .owner = a->owner, .account_flags = flags};
    gen_remember(g, &op);
    return op;
}

static uint32_t gen_account_flags(struct rng *r)
{
    switch (rng_below(r, 4)) {
    case 1: return LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS;
    case 2: return LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS;
    default: return 0;
    }
}

/* Alters an account operation so that it is no longer the one it repeats. */
static void gen_account_alter(struct gen *g, struct ledger_op *op)
{
    struct rng *r = &g->rng;
    switch (rng_below(r, 4)) {
    case 0:
        op->account_flags = op->account_flags == 0
                                ? LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS
                                : (op->account_flags ==
                                           LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS
                                       ? LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS
                                       : 0);
        break;
    case 1: op->name = "Renamed"; break;
    case 2: op->owner = op->owner != NULL ? NULL : "party.x"; break;
    default: {
        uint32_t u = 0;
        while (u < GEN_UNITS && strcmp(gen_units[u].code, op->unit) != 0) u++;
        op->unit = gen_units[(u + 1) % GEN_UNITS].code;
        break;
    }
    }
}

static struct ledger_op gen_account_op(struct gen *g)
{
    struct rng *r = &g->rng;
    uint32_t choice = rng_index(r, 100);
    if (choice < 70 || g->accounts_count == 0) {
        bool big = g->accounts_count % 5 == 0;
        return gen_account_fresh(g, rng_index(r, GEN_UNITS), gen_account_flags(r), big);
    }
    const struct gen_account *a = &g->accounts[rng_index(r, g->accounts_count)];
    struct ledger_op op = {.type = LEDGER_OP_ACCOUNT, .id = a->id, .unit = gen_units[a->unit].code,
                           .name = a->name, .owner = a->owner, .account_flags = a->flags};
    if (choice < 85) return op; /* the same again */
    if (choice < 95) {
        gen_account_alter(g, &op);
        return op;
    }
    switch (rng_below(r, 7)) {
    case 6: op.name = "Caf\xe9"; break; /* Latin-1, not UTF-8 */
    case 0:
        op.account_flags = LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS |
                           LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS;
        break;
    case 5: op.account_flags |= 1u << 7; break; /* a flag that does not exist */
    case 1: op.id = "Upper.Case"; break;
    case 2: op.unit = NULL; break;
    case 3: op.unit = "usd"; break;
    default: op.owner = "Not Valid"; break;
    }
    return op;
}

/* ---------------------------------------------------------------- generator: transfers */

/* Makes a transfer malformed in one of several ways. */
static void gen_transfer_break(struct gen *g, struct ledger_op *op)
{
    switch (rng_below(&g->rng, 9)) {
    case 7: op->memo = "half a character: \xc3"; break;
    case 8: op->kind = rng_percent(&g->rng, 50) ? "\xed\xa0\x80" /* a surrogate */ : "\xff"; break;
    case 0: op->id = pool_printf(g->pool, "bad id %" PRIu64, g->serial++); break;
    case 1:
        op->id = pool_printf(g->pool, "%s%s", op->id,
                             rng_percent(&g->rng, 50) ? EXPIRY_SUFFIX : CONDITION_SUFFIX);
        break;
    case 2: op->debit = "Not.An.Account"; break;
    case 3: op->flags &= ~LEDGER_OP_HAS_AMOUNT; break;
    case 4: op->amount = -rng_between(&g->rng, 1, 1000); break;
    case 5:
        op->flags = (op->flags & ~LEDGER_OP_PENDING) | LEDGER_OP_HAS_EXPIRES;
        op->expires = g->now + SECOND;
        break;
    default: op->kind = ""; break;
    }
}

static int64_t gen_expires(struct gen *g, bool sane)
{
    struct rng *r = &g->rng;
    if (!sane && rng_percent(r, 4)) return g->now - rng_between(r, 0, 1000) * SECOND; /* past */
    int64_t at = g->now + rng_between(r, 1, 6000) * SECOND;
    return rng_percent(r, 50) ? at : at + rng_between(r, 0, SECOND - 1);
}

/* ---------------------------------------------------------------- generator: expressions */

/* An expression being written (generated ones stay far below this size). */
struct expr_text {
    char text[M_EXPR_BYTES_MAX + 64];
    size_t length;
};

static void expr_add(struct expr_text *e, const char *s)
{
    size_t n = strlen(s);
    assert(e->length + n < sizeof e->text);
    memcpy(e->text + e->length, s, n + 1);
    e->length += n;
}

static const char *gen_unknown_condition(struct gen *g)
{
    return pool_printf(g->pool, "zz%" PRIu32, rng_index(&g->rng, GEN_UNKNOWN_CONDITIONS));
}

/*
 * A name for an expression: mostly a recent condition that the model holds
 * (a name generated may have been rolled back with its chain), now and then
 * one that does not exist.
 */
static const char *gen_expr_name(struct gen *g, uint32_t unknown_percent)
{
    if (g->conditions.count == 0 || rng_percent(&g->rng, unknown_percent))
        return gen_unknown_condition(g);
    const char *name = NULL;
    for (int tries = 0; tries < 4; tries++) {
        name = gen_pick_text(g, &g->conditions, GEN_CONDITION_WINDOW);
        if (model_condition_find(g->model, name) != M_NONE) break;
    }
    return name;
}

/* A well-formed expression of at most three levels of operators, parenthesized or not. */
static void gen_expr_build(struct gen *g, struct expr_text *e, uint32_t depth,
                           uint32_t unknown_percent)
{
    struct rng *r = &g->rng;
    uint32_t choice = depth >= 3 ? 0 : rng_index(r, 100);
    if (choice < 40) {
        expr_add(e, gen_expr_name(g, unknown_percent));
        return;
    }
    if (choice < 55) {
        expr_add(e, rng_percent(r, 25) ? "! " : "!");
        gen_expr_build(g, e, depth + 1, unknown_percent);
        return;
    }
    bool parens = rng_percent(r, 50), and = choice < 78;
    if (parens) expr_add(e, rng_percent(r, 20) ? "( " : "(");
    gen_expr_build(g, e, depth + 1, unknown_percent);
    expr_add(e, rng_percent(r, 60) ? (and ? " & " : " | ") : (and ? "&" : "|"));
    gen_expr_build(g, e, depth + 1, unknown_percent);
    if (parens) expr_add(e, rng_percent(r, 20) ? " )" : ")");
}

/* Breaks an expression in one of the ways the contract calls invalid. */
static void gen_expr_break(struct gen *g, struct expr_text *e, const char *self)
{
    struct rng *r = &g->rng;
    struct expr_text broken = {.length = 0};
    broken.text[0] = '\0';
    switch (rng_below(r, self != NULL ? 12 : 11)) {
    case 0: expr_add(e, " &"); return;                    /* an operator short of an operand */
    case 10: /* a name that does not exist */
        expr_add(e, rng_percent(r, 50) ? " & " : " | ");
        expr_add(e, gen_unknown_condition(g));
        return;
    case 1: expr_add(&broken, "("); break;                /* '(' never closed */
    case 2: expr_add(e, ")"); return;                     /* ')' never opened */
    case 3: e->length = 0; e->text[0] = '\0'; return;     /* empty */
    case 4: e->length = 0; expr_add(e, "  "); return;     /* nothing but spaces */
    case 5: /* two operands and no operator between them */
        expr_add(e, " ");
        expr_add(e, gen_expr_name(g, 0));
        return;
    case 6: /* a character that starts no token */
        expr_add(e, " # ");
        expr_add(e, gen_expr_name(g, 0));
        return;
    case 7: expr_add(&broken, "() | "); break;            /* empty parentheses */
    case 8: expr_add(&broken, "Two_state & "); break;     /* not a condition name */
    case 9: expr_add(&broken, "| "); break;               /* an operator first */
    default: /* a derived condition naming itself */
        if (rng_percent(r, 50)) {
            expr_add(e, " | ");
            expr_add(e, self);
            return;
        }
        expr_add(&broken, self);
        expr_add(&broken, " & ");
        break;
    }
    expr_add(&broken, e->text);
    *e = broken;
}

/* 1,023 … 1,025 bytes: a name among spaces, around the length limit. */
static const char *gen_expr_long(struct gen *g)
{
    size_t n = M_EXPR_BYTES_MAX - 1 + rng_index(&g->rng, 3);
    const char *name = gen_expr_name(g, 0);
    size_t k = strlen(name);
    char *s = pool_alloc(g->pool, n + 1);
    memset(s, ' ', n);
    s[n] = '\0';
    memcpy(s + rng_index(&g->rng, (uint32_t)(n - k)), name, k);
    return s;
}

/* 31 … 33 levels of '(' and '!' around a name, around the nesting limit. */
static void gen_expr_deep(struct gen *g, struct expr_text *e)
{
    uint32_t levels = M_EXPR_DEPTH_MAX - 1 + rng_index(&g->rng, 3), parens = 0;
    for (uint32_t i = 0; i < levels; i++) {
        bool paren = rng_percent(&g->rng, 50);
        expr_add(e, paren ? "(" : "!");
        parens += paren;
    }
    expr_add(e, gen_expr_name(g, 0));
    for (uint32_t i = 0; i < parens; i++) expr_add(e, ")");
}

/*
 * An expression for an `if` (self NULL) or for the `when` of condition
 * self: broken on purpose in broken_percent of cases (and then sometimes
 * around the length or nesting limit; *broken tells), naming a condition
 * that does not exist at unknown_percent of its names.
 */
static const char *gen_expression(struct gen *g, const char *self, uint32_t broken_percent,
                                  uint32_t unknown_percent, bool *broken)
{
    struct rng *r = &g->rng;
    struct expr_text e = {.length = 0};
    e.text[0] = '\0';
    bool unused;
    if (broken == NULL) broken = &unused;
    *broken = rng_percent(r, broken_percent);
    if (*broken) {
        uint32_t choice = rng_index(r, 100);
        if (choice < 6) return gen_expr_long(g);
        if (choice < 12) {
            gen_expr_deep(g, &e);
            return pool_strdup(g->pool, e.text);
        }
        gen_expr_build(g, &e, 0, unknown_percent);
        gen_expr_break(g, &e, self);
        return pool_strdup(g->pool, e.text);
    }
    gen_expr_build(g, &e, 0, unknown_percent);
    return pool_strdup(g->pool, e.text);
}

/*
 * A transfer: sane ones (for chains) use existing accounts of one unit and
 * small amounts; the others roam over every way a transfer can go wrong.
 */
static struct ledger_op gen_transfer(struct gen *g, bool sane, const char *id)
{
    struct rng *r = &g->rng;
    struct ledger_op op = {.type = LEDGER_OP_TRANSFER, .flags = LEDGER_OP_HAS_AMOUNT};
    op.id = id != NULL ? id : gen_fresh_id(g, "t");
    uint32_t size = sane ? 99 : rng_index(r, 100);
    bool big = size < 9;
    if (big) op.amount = gen_big_amount(r);
    else if (size < 12) op.amount = 0;
    else if (size < 30) op.amount = rng_between(r, 1, 1000000000);
    else op.amount = rng_between(r, 1, 1000);
    bool want_big = big && rng_percent(r, 90);
    const struct gen_account *dr = gen_pick_account(g, GEN_ANY, want_big, sane, NULL);
    uint32_t route = sane ? 99 : rng_index(r, 100);
    const struct gen_account *cr =
        route < 12 ? gen_pick_account(g, GEN_ANY, false, false, dr->id)
                   : gen_pick_account(g, dr->unit, want_big, sane, dr->id);
    op.debit = dr->id;
    op.credit = cr->id;
    if (route < 3) op.debit = gen_ghost(g);
    else if (route < 6) op.credit = gen_ghost(g);
    else if (route < 8) op.credit = op.debit;
    if (!sane && size >= 12 && rng_percent(r, 12)) {
        int64_t edge = gen_boundary_amount(g, op.debit, op.credit);
        if (edge > 0) op.amount = edge;
    }
    if (rng_percent(r, 35)) {
        op.flags |= LEDGER_OP_PENDING;
        if (rng_percent(r, 45)) {
            op.flags |= LEDGER_OP_HAS_EXPIRES;
            op.expires = gen_expires(g, sane);
        }
    }
    if (rng_percent(r, 8)) op.unit = gen_units[dr->unit].code;
    if (!sane && rng_percent(r, 2))
        op.unit = rng_percent(r, 50) ? GEN_UNIT_NEVER : gen_units[rng_index(r, GEN_UNITS)].code;
    if (op.flags & LEDGER_OP_PENDING) {
        if (rng_percent(r, sane ? 35 : 30))
            op.cond = gen_expression(g, NULL, sane ? 0 : 8, sane ? 0 : 1, NULL);
    } else if (!sane && rng_percent(r, 2)) {
        op.cond = gen_expression(g, NULL, 8, 1, NULL); /* condition_requires_pending */
    }
    if (!sane && rng_percent(r, 1)) op.cond = "two_state"; /* never created */
    gen_extras(g, &op, sane ? 5 : 15);
    if ((op.flags & LEDGER_OP_HAS_EXPIRES) && rng_percent(r, 5)) {
        /* Lapsing the instant it takes effect, or a nanosecond before (invalid). */
        op.flags |= LEDGER_OP_HAS_DATE;
        op.date = op.expires + rng_between(r, 0, 1);
    }
    if (!sane && rng_percent(r, 2)) gen_transfer_break(g, &op);
    text_list_push((op.flags & LEDGER_OP_PENDING) ? &g->pendings : &g->plains, op.id);
    gen_remember(g, &op);
    return op;
}

/* A pending id that the model holds as still pending, if a few tries find one. */
static const char *gen_pick_pending_open(struct gen *g)
{
    const char *id = NULL;
    for (int tries = 0; tries < 24; tries++) {
        id = gen_pick_text(g, &g->pendings, 400);
        uint32_t t = model_transfer_find(g->model, id);
        if (t != M_NONE && g->model->states[t] == LEDGER_STATE_PENDING) return id;
    }
    return id;
}

static const char *gen_pick_pending(struct gen *g, bool sane)
{
    struct rng *r = &g->rng;
    if (g->pendings.count == 0) return "nope.0";
    if (sane)
        return rng_percent(r, 50) ? g->pendings.items[g->pendings.count - 1]
                                  : gen_pick_pending_open(g);
    uint32_t choice = rng_index(r, 100);
    if (choice < 8) return pool_printf(g->pool, "nope.%" PRIu32, rng_index(r, 50));
    if (choice < 14 && g->plains.count > 0) return gen_pick_text(g, &g->plains, 400);
    if (choice < 16 && g->resolutions.count > 0) return gen_pick_text(g, &g->resolutions, 400);
    if (choice < 18)
        return pool_printf(g->pool, "%s%s", gen_pick_text(g, &g->pendings, 400),
                           rng_percent(r, 50) ? EXPIRY_SUFFIX : CONDITION_SUFFIX);
    if (choice < 65) return gen_pick_pending_open(g);
    return gen_pick_text(g, &g->pendings, 400);
}

/* How much a post names: nothing (all), part, all, too much, or zero. */
static void gen_post_amount(struct gen *g, struct ledger_op *op, bool sane)
{
    struct rng *r = &g->rng;
    uint32_t t = model_transfer_find(g->model, op->pending_id);
    int64_t full = t != M_NONE && g->model->transfers[t].amount > 0
                       ? g->model->transfers[t].amount
                       : rng_between(r, 1, 1000);
    uint32_t choice = rng_index(r, 100);
    if (choice < 45) return;
    op->flags |= LEDGER_OP_HAS_AMOUNT;
    if (choice < 75) op->amount = rng_between(r, 1, full);
    else if (choice < 83 || sane) op->amount = full;
    else if (choice < 93)
        op->amount = full == AMOUNT_MAX ? AMOUNT_MAX
                     : rng_percent(r, 50) ? full + 1
                     : full + rng_between(r, 1, AMOUNT_MAX - full < 1000 ? AMOUNT_MAX - full
                                                                           : 1000);
    else if (choice < 97) op->amount = 0;
    else op->flags &= ~LEDGER_OP_HAS_AMOUNT;
}

static struct ledger_op gen_resolution(struct gen *g, bool post, bool sane, const char *id)
{
    struct rng *r = &g->rng;
    struct ledger_op op = {.type = post ? LEDGER_OP_POST : LEDGER_OP_VOID};
    op.id = id != NULL ? id : gen_fresh_id(g, post ? "p" : "v");
    op.pending_id = gen_pick_pending(g, sane);
    if (post) {
        gen_post_amount(g, &op, sane);
    } else if (!sane && rng_percent(r, 2)) {
        op.flags |= LEDGER_OP_HAS_AMOUNT; /* a void takes no amount: invalid */
        op.amount = 1;
    }
    gen_extras(g, &op, sane ? 3 : 10);
    uint32_t pending = model_transfer_find(g->model, op.pending_id);
    if (pending != M_NONE && rng_percent(r, sane ? 3 : 8)) {
        /* Dated at the pending transfer's own date, or a nanosecond before (invalid). */
        int64_t at = model_effective_date(&g->model->transfers[pending]);
        if (at != 0) {
            op.flags |= LEDGER_OP_HAS_DATE;
            op.date = at - (sane ? 0 : rng_between(r, 0, 1));
        }
    }
    if (!sane && rng_percent(r, 1)) op.id = pool_printf(g->pool, "%s%s", op.id, EXPIRY_SUFFIX);
    if (!sane && rng_percent(r, 1)) op.kind = ""; /* malformed for every operation */
    if (!sane && rng_percent(r, 1)) op.memo = "\xc0\xaf"; /* an overlong '/': not UTF-8 */
    text_list_push(&g->resolutions, op.id);
    gen_remember(g, &op);
    return op;
}

/* ---------------------------------------------------------------- generator: conditions */

static const double gen_probabilities[] = {0.0, 0.25, 0.35, 0.5, 0.7, 1.0};

/* Makes a condition operation malformed in one of several ways. */
static void gen_condition_break(struct gen *g, struct ledger_op *op)
{
    struct rng *r = &g->rng;
    switch (rng_below(r, 7)) {
    case 0: op->id = "Two_state"; break;
    case 1: op->id = rng_percent(r, 50) ? "9lives" : ""; break;
    case 2: /* 65 bytes */
        op->id = pool_printf(g->pool, "c%064" PRIu32, rng_index(r, 1000));
        break;
    case 3: op->owner = "Not Valid"; break;
    case 4: {
        char *title = pool_alloc(g->pool, LEDGER_NAME_BYTES_MAX + 2);
        memset(title, 't', LEDGER_NAME_BYTES_MAX + 1);
        title[LEDGER_NAME_BYTES_MAX + 1] = '\0';
        op->name = title;
        break;
    }
    case 5:
        op->flags |= LEDGER_OP_HAS_PROBABILITY;
        op->probability = rng_percent(r, 50) ? 1.5 : -0.25;
        break;
    default:
        op->flags |= LEDGER_OP_HAS_PROBABILITY;
        op->probability = (double)NAN;
        break;
    }
}

/* A new condition: base, or derived from recent ones; sometimes malformed. */
static struct ledger_op gen_condition_op(struct gen *g, bool sane)
{
    struct rng *r = &g->rng;
    struct ledger_op op = {.type = LEDGER_OP_CONDITION};
    bool derived = g->conditions.count > 0 && rng_percent(r, 45);
    op.id = gen_fresh_id(g, derived ? "d" : "c");
    if (rng_percent(r, 40)) op.name = pool_printf(g->pool, "Condition %s", op.id);
    if (rng_percent(r, 25)) op.owner = pool_printf(g->pool, "party.%" PRIu32, rng_index(r, 5));
    if (rng_percent(r, 50)) {
        op.flags |= LEDGER_OP_HAS_PROBABILITY;
        op.probability = gen_probabilities[rng_index(r, 6)];
    }
    bool broken = false;
    if (derived) op.cond = gen_expression(g, op.id, sane ? 0 : 12, 0, &broken);
    if (!sane && rng_percent(r, 6)) {
        gen_condition_break(g, &op);
    } else if (!broken) { /* later expressions name only what should exist */
        text_list_push(&g->conditions, op.id);
        text_list_push(derived ? &g->deriveds : &g->bases, op.id);
    }
    gen_remember(g, &op);
    return op;
}

/* A base condition the model holds open, if a few tries find one. */
static const char *gen_pick_base_open(struct gen *g)
{
    const char *name = NULL;
    for (int tries = 0; tries < 16; tries++) {
        name = gen_pick_text(g, &g->bases, 40);
        uint32_t c = model_condition_find(g->model, name);
        if (c != M_NONE && g->model->condition_states[c] == COND_OPEN) return name;
    }
    return name;
}

/* A resolution: mostly of an open base condition; else of every kind that is refused. */
static struct ledger_op gen_resolve_op(struct gen *g, bool sane)
{
    struct rng *r = &g->rng;
    struct ledger_op op = {.type = LEDGER_OP_RESOLVE,
                           .state = rng_percent(r, 50) ? COND_MET : COND_FAILED};
    uint32_t choice = sane ? 0 : rng_index(r, 100);
    if (g->bases.count == 0) op.id = gen_unknown_condition(g);
    else if (choice < 62) op.id = gen_pick_base_open(g);
    else if (choice < 78) op.id = gen_pick_text(g, &g->bases, 200); /* often decided */
    else if (choice < 86 && g->deriveds.count > 0) op.id = gen_pick_text(g, &g->deriveds, 40);
    else if (choice < 93) op.id = gen_unknown_condition(g);
    else if (choice < 96) op.id = rng_percent(r, 50) ? "Two_state" : "";
    else {
        op.id = gen_pick_base_open(g);
        op.state = rng_percent(r, 50) ? COND_OPEN : 7; /* neither met nor failed */
    }
    gen_remember(g, &op);
    return op;
}

/* Alters a condition operation so that it is no longer the one it repeats. */
static void gen_condition_alter(struct gen *g, struct ledger_op *op)
{
    struct rng *r = &g->rng;
    switch (rng_below(r, 4)) {
    case 0: op->name = op->name != NULL ? NULL : "Renamed"; break;
    case 1: op->owner = op->owner != NULL ? NULL : "party.x"; break;
    case 2:
        if (op->flags & LEDGER_OP_HAS_PROBABILITY) {
            op->probability = op->probability == 0.5 ? 0.25 : 0.5;
        } else {
            op->flags |= LEDGER_OP_HAS_PROBABILITY;
            op->probability = 0.35;
        }
        break;
    default: op->cond = gen_expression(g, op->id, 0, 0, NULL); break;
    }
}

/* ---------------------------------------------------------------- generator: duplicates */

static void gen_transfer_alter(struct gen *g, struct ledger_op *op)
{
    struct rng *r = &g->rng;
    switch (rng_below(r, 8)) {
    case 7: op->cond = op->cond != NULL ? NULL : gen_expression(g, NULL, 0, 0, NULL); break;
    case 0: op->amount = op->amount <= 0 ? 1 : op->amount == AMOUNT_MAX ? 1 : op->amount + 1; break;
    case 1: op->memo = "altered"; break;
    case 2:
        op->flags ^= LEDGER_OP_PENDING;
        if (!(op->flags & LEDGER_OP_PENDING)) op->flags &= ~LEDGER_OP_HAS_EXPIRES;
        break;
    case 3:
        op->flags |= LEDGER_OP_HAS_DATE;
        op->date = DATE_MIN + rng_between(r, 0, DATE_SPAN);
        break;
    case 4: op->kind = op->kind != NULL ? NULL : "pledge"; break;
    case 5: op->credit = gen_pick_account(g, GEN_ANY, false, false, op->debit)->id; break;
    default: op->unit = gen_units[rng_index(r, GEN_UNITS)].code; break;
    }
}

static void gen_resolution_alter(struct gen *g, struct ledger_op *op)
{
    struct rng *r = &g->rng;
    switch (rng_below(r, 5)) {
    case 0:
        if (op->type == LEDGER_OP_POST) {
            op->flags ^= LEDGER_OP_HAS_AMOUNT;
            if (op->amount <= 0) op->amount = 1;
        } else {
            op->memo = "altered";
        }
        break;
    case 1: op->pending_id = gen_pick_pending(g, false); break;
    case 2: op->memo = op->memo != NULL ? NULL : "altered"; break;
    case 3:
        op->flags ^= LEDGER_OP_HAS_DATE;
        op->date = DATE_MIN + rng_between(r, 0, DATE_SPAN);
        break;
    default:
        op->type = op->type == LEDGER_OP_POST ? LEDGER_OP_VOID : LEDGER_OP_POST;
        op->flags &= ~LEDGER_OP_HAS_AMOUNT;
        break;
    }
}

/* An earlier operation again: as it was (exists) or altered (…different_fields). */
static struct ledger_op gen_duplicate(struct gen *g)
{
    struct rng *r = &g->rng;
    uint32_t kept = g->history_count < GEN_HISTORY ? g->history_count : GEN_HISTORY;
    uint32_t back = rng_percent(r, 50) && kept > 64 ? rng_index(r, 64) : rng_index(r, kept);
    struct ledger_op op = g->history[(g->history_count - 1 - back) % GEN_HISTORY];
    if (rng_percent(r, 55)) return op;
    switch (op.type) {
    case LEDGER_OP_UNIT:
        if (rng_percent(r, 50))
            op.scale = (op.scale + 1) % GEN_UNITS;
        else
            op.name = "Renamed";
        break;
    case LEDGER_OP_ACCOUNT: gen_account_alter(g, &op); break;
    case LEDGER_OP_TRANSFER: gen_transfer_alter(g, &op); break;
    case LEDGER_OP_CONDITION: gen_condition_alter(g, &op); break;
    case LEDGER_OP_RESOLVE: op.state = op.state == COND_MET ? COND_FAILED : COND_MET; break;
    default: gen_resolution_alter(g, &op); break;
    }
    return op;
}

/* An operation whose id is already taken by a row of another kind. */
static struct ledger_op gen_collision(struct gen *g)
{
    struct rng *r = &g->rng;
    if (rng_percent(r, 50) && g->plains.count > 0)
        return gen_resolution(g, rng_percent(r, 50), false, gen_pick_text(g, &g->plains, 400));
    if (g->resolutions.count > 0)
        return gen_transfer(g, false, gen_pick_text(g, &g->resolutions, 400));
    return gen_transfer(g, false, NULL);
}

/* ---------------------------------------------------------------- generator: batches */

static struct ledger_op gen_op(struct gen *g, bool sane)
{
    struct rng *r = &g->rng;
    if (g->history_count == 0) return gen_transfer(g, sane, NULL);
    if (sane) {
        uint32_t choice = rng_index(r, 100);
        if (choice < 55) return gen_transfer(g, true, NULL);
        if (choice < 72) return gen_resolution(g, true, true, NULL);
        if (choice < 83) return gen_resolution(g, false, true, NULL);
        if (choice < 90) return gen_resolve_op(g, true);
        if (choice < 94) return gen_condition_op(g, true);
        if (choice < 97) return gen_account_op(g);
        return gen_unit_op(g);
    }
    uint32_t choice = rng_index(r, 1000);
    if (choice < 15) return gen_unit_op(g);
    if (choice < 35) return gen_account_op(g);
    if (choice < 510) return gen_transfer(g, false, NULL);
    if (choice < 645) return gen_resolution(g, true, false, NULL);
    if (choice < 730) return gen_resolution(g, false, false, NULL);
    if (choice < 860) return gen_duplicate(g);
    if (choice < 890) return gen_collision(g);
    if (choice < 925) return gen_condition_op(g, false);
    if (choice < 965) return gen_resolve_op(g, false);
    return gen_transfer(g, false, NULL);
}

/* The first batch's setup: four of the five units, twenty accounts, four base conditions. */
static size_t gen_setup(struct gen *g, struct ledger_op *ops)
{
    size_t n = 0;
    for (uint32_t u = 0; u < GEN_UNITS - 1; u++) {
        ops[n] = gen_unit_canonical(u);
        gen_remember(g, &ops[n]);
        n++;
    }
    static const uint32_t flags[4] = {0, LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS,
                                      LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS, 0};
    for (uint32_t i = 0; i < 20; i++)
        ops[n++] = gen_account_fresh(g, i % 4, flags[i % 4], i % 5 == 0);
    for (uint32_t i = 0; i < 4; i++) ops[n++] = gen_condition_op(g, true);
    return n;
}

/* Fills ops with about target operations (more in the first batch); returns how many. */
static size_t gen_batch(struct gen *g, struct ledger_op *ops, size_t target)
{
    struct rng *r = &g->rng;
    size_t n = g->accounts_count == 0 ? gen_setup(g, ops) : 0;
    target += n;
    while (n < target) {
        if (!rng_percent(r, MODEL_CHAIN_PERCENT)) {
            ops[n++] = gen_op(g, false);
            continue;
        }
        /* A chain of 2…5; cut by the end of the batch, it stays open. */
        size_t length = 2 + rng_below(r, 4);
        bool sane = rng_percent(r, 60);
        for (size_t k = 0; k < length && n < target; k++) {
            ops[n] = gen_op(g, sane || rng_percent(r, 50));
            if (k + 1 < length) ops[n].flags |= LEDGER_OP_LINKED;
            n++;
        }
    }
    if (rng_percent(r, 6)) ops[n - 1].flags |= LEDGER_OP_LINKED; /* leave the last chain open */
    /*
     * A pending transfer created in this batch without a date is dated at its
     * timestamp, which the model learns only after the batch: somewhere in
     * [now, now + 1 s). Dates given to posts and voids stay out of that
     * window so that the model can decide "before the pending's date" exactly.
     */
    for (size_t i = 0; i < n; i++) {
        bool resolution = ops[i].type == LEDGER_OP_POST || ops[i].type == LEDGER_OP_VOID;
        if (resolution && (ops[i].flags & LEDGER_OP_HAS_DATE) && ops[i].date >= g->now &&
            ops[i].date < g->now + SECOND)
            ops[i].date = g->now - 1;
    }
    return n;
}

/* ================================================================ comparing with the store */

struct account_probe {
    const struct model *model;
    uint32_t index; /* the model's account */
    bool found;
    char mismatch[512];
};

static int account_probe_fn(void *ctx, const struct ledger_account *a)
{
    struct account_probe *p = ctx;
    const struct m_account *e = &p->model->accounts[p->index];
    char *out = p->mismatch;
    size_t size = sizeof p->mismatch;
    p->found = true;
    if (strcmp(a->id, e->id) != 0) snprintf(out, size, "id %s", a->id);
    else if (strcmp(a->unit, p->model->units[e->unit].code) != 0)
        snprintf(out, size, "unit %s", a->unit);
    else if (!text_same(a->name, e->name))
        snprintf(out, size, "name %s", text_or_null(a->name));
    else if (!text_same(a->owner, e->owner))
        snprintf(out, size, "owner %s", text_or_null(a->owner));
    else if (a->flags != e->flags) snprintf(out, size, "flags %" PRIu32, a->flags);
    else if (a->debits_pending != e->debits_pending || a->debits_posted != e->debits_posted ||
             a->credits_pending != e->credits_pending || a->credits_posted != e->credits_posted)
        snprintf(out, size,
                 "balances (debits_pending, debits_posted, credits_pending, credits_posted)"
                 " store %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 ", model %" PRId64
                 " %" PRId64 " %" PRId64 " %" PRId64,
                 a->debits_pending, a->debits_posted, a->credits_pending, a->credits_posted,
                 e->debits_pending, e->debits_posted, e->credits_pending, e->credits_posted);
    else if (e->timestamp != 0 && a->timestamp != e->timestamp)
        snprintf(out, size, "timestamp %" PRId64 ", created with %" PRId64, a->timestamp,
                 e->timestamp);
    return 0;
}

/* The account id, read through the app: absent exactly when the model has no such account. */
static void check_account(const struct run *run, struct concord *cc, const struct model *m,
                          const char *id)
{
    struct account_probe probe = {.model = m, .index = model_account_find(m, id)};
    struct cc_error err = {0};
    enum cc_err rc = concord_account_get(cc, id, account_probe_fn, &probe, &err);
    if (probe.index == M_NONE) {
        if (rc != CC_ERR_NOT_FOUND)
            run_fail(run, "account %s: the model has none, the store answers %d (%s)", id, rc,
                     err.message);
        return;
    }
    if (rc != CC_OK || !probe.found)
        run_fail(run, "account %s: the model has it, the store answers %d (%s)", id, rc,
                 err.message);
    if (probe.mismatch[0] != '\0')
        run_fail(run, "account %s: store differs: %s", id, probe.mismatch);
}

struct transfer_probe {
    const struct model *model;
    uint32_t index; /* the model's row */
    bool found;
    char mismatch[512];
};

static uint32_t expected_transfer_flags(const struct m_transfer *t)
{
    return (t->two_phase ? LEDGER_TRANSFER_PENDING : 0u) |
           (t->has_date ? LEDGER_TRANSFER_HAS_DATE : 0u) |
           (t->has_amount && t->reason != LEDGER_REASON_NONE ? LEDGER_TRANSFER_HAS_AMOUNT : 0u) |
           (t->has_expires ? LEDGER_TRANSFER_EXPIRES : 0u);
}

/*
 * The date of a row created without one: its timestamp, moved up for a
 * resolution to its pending transfer's date. 0 while a timestamp is unknown.
 */
static int64_t expected_default_date(const struct model *m, const struct m_transfer *e)
{
    if (e->timestamp == 0) return 0;
    if (e->pending == M_NONE) return e->timestamp;
    int64_t pending_date = model_effective_date(&m->transfers[e->pending]);
    return pending_date == 0 ? 0 : max64(e->timestamp, pending_date);
}

/* The fields of a stored transfer row that the model knows. */
static int transfer_probe_fn(void *ctx, const struct ledger_transfer *t)
{
    struct transfer_probe *p = ctx;
    const struct model *m = p->model;
    const struct m_transfer *e = &m->transfers[p->index];
    const char *pending_id = e->pending != M_NONE ? m->transfers[e->pending].id : NULL;
    char *out = p->mismatch;
    size_t size = sizeof p->mismatch;
    p->found = true;
    if (t->state != m->states[p->index])
        snprintf(out, size, "state %d, model %d", t->state, m->states[p->index]);
    else if (t->reason != e->reason)
        snprintf(out, size, "reason %d, model %d", t->reason, e->reason);
    else if (t->amount != e->amount)
        snprintf(out, size, "amount %" PRId64 ", model %" PRId64, t->amount, e->amount);
    else if (t->effect_posted != e->effect_posted || t->effect_pending != e->effect_pending)
        snprintf(out, size, "effects %" PRId64 "/%" PRId64 ", model %" PRId64 "/%" PRId64,
                 t->effect_posted, t->effect_pending, e->effect_posted, e->effect_pending);
    else if (t->flags != expected_transfer_flags(e))
        snprintf(out, size, "flags %" PRIu32 ", model %" PRIu32, t->flags,
                 expected_transfer_flags(e));
    else if (strcmp(t->debit, m->accounts[e->debit].id) != 0 ||
             strcmp(t->credit, m->accounts[e->credit].id) != 0)
        snprintf(out, size, "accounts %s → %s", t->debit, t->credit);
    else if (strcmp(t->unit, m->units[m->accounts[e->debit].unit].code) != 0)
        snprintf(out, size, "unit %s", t->unit);
    else if (!text_same(t->pending_id, pending_id))
        snprintf(out, size, "pending_id %s, model %s", text_or_null(t->pending_id),
                 text_or_null(pending_id));
    else if (!text_same(t->kind, e->kind) || !text_same(t->memo, e->memo) ||
             !text_same(t->meta, e->meta) || !text_same(t->cond, e->cond))
        snprintf(out, size, "kind/memo/meta/if %s/%s/%s/%s", text_or_null(t->kind),
                 text_or_null(t->memo), text_or_null(t->meta), text_or_null(t->cond));
    else if (e->has_expires && t->expires != e->expires)
        snprintf(out, size, "expires %" PRId64 ", model %" PRId64, t->expires, e->expires);
    else if (e->has_date && t->date != e->date)
        snprintf(out, size, "date %" PRId64 ", model %" PRId64, t->date, e->date);
    else if (!e->has_date && expected_default_date(m, e) != 0 &&
             t->date != expected_default_date(m, e))
        snprintf(out, size, "default date %" PRId64 ", model %" PRId64, t->date,
                 expected_default_date(m, e));
    else if (e->timestamp != 0 && t->timestamp != e->timestamp)
        snprintf(out, size, "timestamp %" PRId64 ", created with %" PRId64, t->timestamp,
                 e->timestamp);
    return 0;
}

static void check_transfer(const struct run *run, struct concord *cc, const struct model *m,
                           const char *id)
{
    struct transfer_probe probe = {.model = m, .index = model_transfer_find(m, id)};
    struct cc_error err = {0};
    enum cc_err rc = concord_transfer_get(cc, id, transfer_probe_fn, &probe, &err);
    if (probe.index == M_NONE) {
        if (rc != CC_ERR_NOT_FOUND)
            run_fail(run, "transfer %s: the model has none, the store answers %d (%s)", id, rc,
                     err.message);
        return;
    }
    if (rc != CC_OK || !probe.found)
        run_fail(run, "transfer %s: the model has it, the store answers %d (%s)", id, rc,
                 err.message);
    if (probe.mismatch[0] != '\0')
        run_fail(run, "transfer %s: store differs: %s", id, probe.mismatch);
}

static void check_unit(const struct run *run, struct concord *cc, const struct model *m,
                       const char *code)
{
    uint32_t u = model_unit_find(m, code);
    struct ledger_unit row;
    char name[LEDGER_NAME_BYTES_MAX + 1];
    struct cc_error err = {0};
    enum cc_err rc = concord_unit_get(cc, code, &row, name, sizeof name, &err);
    if (u == M_NONE) {
        if (rc != CC_ERR_NOT_FOUND)
            run_fail(run, "unit %s: the model has none, the store answers %d (%s)", code, rc,
                     err.message);
        return;
    }
    const struct m_unit *e = &m->units[u];
    if (rc != CC_OK)
        run_fail(run, "unit %s: the model has it, the store answers %d (%s)", code, rc,
                 err.message);
    if (row.scale != e->scale || strcmp(name, e->name != NULL ? e->name : "") != 0 ||
        (e->timestamp != 0 && row.timestamp != e->timestamp))
        run_fail(run, "unit %s: store has scale %" PRId32 " name %s, model scale %" PRId32
                 " name %s", code, row.scale, name, e->scale, text_or_null(e->name));
}

/*
 * Every condition, read back into a fresh view: the model's rows in the
 * same (creation) order, with their fields, states and resolution times.
 */
static void check_conditions(const struct run *run, struct concord *cc, const struct model *m)
{
    struct ledger_view view;
    ledger_view_init(&view);
    struct cc_error err = {0};
    enum cc_err rc = concord_conditions(cc, &view, &err);
    if (rc != CC_OK) run_fail(run, "concord_conditions: %d: %s", rc, err.message);
    if (view.conditions_count != m->conditions_count)
        run_fail(run, "the store has %" PRIu32 " conditions, the model %" PRIu32,
                 view.conditions_count, m->conditions_count);
    for (uint32_t i = 0; i < m->conditions_count; i++) {
        const struct ledger_condition *got = &view.conditions[i];
        const struct m_condition *want = &m->conditions[i];
        const char *what = NULL;
        if (strcmp(got->name, want->name) != 0) what = "name (order)";
        else if (!text_same(got->title, want->title)) what = "title";
        else if (!text_same(got->authority, want->authority)) what = "authority";
        else if (!text_same(got->when, want->when)) what = "when";
        else if (got->has_probability != want->has_probability ||
                 (want->has_probability && got->probability != want->probability))
            what = "probability";
        else if (got->state != m->condition_states[i]) what = "state";
        else if (got->resolved_at != m->condition_resolved_at[i]) what = "resolved_at";
        else if (want->timestamp != 0 && got->timestamp != want->timestamp) what = "timestamp";
        if (what != NULL)
            run_fail(run,
                     "condition %s (#%" PRIu32 "): %s differs: store state %s resolved_at %" PRId64
                     " when %s; model state %s resolved_at %" PRId64 " when %s",
                     want->name, i, what, cond_state_name(got->state), got->resolved_at,
                     text_or_null(got->when), cond_state_name(m->condition_states[i]),
                     m->condition_resolved_at[i], text_or_null(want->when));
    }
    ledger_view_free(&view);
}

/* ================================================================ the run */

struct fake_clock {
    int64_t now; /* what the ledger reads as the commit time */
};

static int64_t fake_clock_now(void *ctx) { return ((const struct fake_clock *)ctx)->now; }

struct batch_state {
    struct ledger_op *ops;
    struct ledger_result *results;
    struct expect *expects;
    struct text_list touched; /* transfer ids to read back after the batch */
    uint64_t counts[LEDGER_STATUS_COUNT];
    int64_t timestamp_last; /* the latest timestamp of a created or resolved result */
    uint64_t resolve_posted, resolve_voided;   /* gated transfers settled by `resolve` */
    uint64_t arrival_posted, arrival_voided;   /* … and on arrival */
};

static int64_t model_row_timestamp(const struct model *m, const struct expect *e)
{
    switch (e->table) {
    case 'u': return m->units[e->record].timestamp;
    case 'a': return m->accounts[e->record].timestamp;
    case 't': return m->transfers[e->record].timestamp;
    case 'c': return m->conditions[e->record].timestamp;
    default: return 0;
    }
}

static void model_row_set_timestamp(struct model *m, const struct expect *e, int64_t timestamp)
{
    switch (e->table) {
    case 'u': m->units[e->record].timestamp = timestamp; break;
    case 'a': m->accounts[e->record].timestamp = timestamp; break;
    case 't': m->transfers[e->record].timestamp = timestamp; break;
    case 'c': m->conditions[e->record].timestamp = timestamp; break;
    case 'r': m->condition_resolved_at[e->record] = timestamp; break;
    default: assert(false);
    }
}

static _Noreturn void fail_result(const struct run *run, const struct ledger_op *op, size_t index,
                                  const char *what, const struct ledger_result *got,
                                  const struct expect *want)
{
    char text[2048];
    op_describe(op, text, sizeof text);
    run_fail(run,
             "op %zu %s: %s: engine %s (timestamp %" PRId64 ", posted %" PRId32 ", voided %" PRId32
             ", message %s), model %s (posted %" PRId32 ", voided %" PRId32 ", column %" PRIu32 ")",
             index, text, what, ledger_status_name(got->status), got->timestamp, got->posted,
             got->voided, text_or_null(got->message), ledger_status_name(want->status),
             want->posted, want->voided, want->column);
}

/* Does message say "column N" for exactly this N? */
static bool message_names_column(const char *message, uint32_t column)
{
    char needle[32];
    int n = snprintf(needle, sizeof needle, "column %" PRIu32, column);
    for (const char *at = message; (at = strstr(at, needle)) != NULL; at++)
        if (!char_digit(at[n])) return true;
    return false;
}

/* Compares each result with the model's, in order, and records created timestamps. */
static void compare_results(const struct run *run, struct model *m, struct batch_state *b,
                            size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const struct ledger_result *got = &b->results[i];
        const struct expect *want = &b->expects[i];
        if (got->status >= LEDGER_STATUS_COUNT)
            fail_result(run, &b->ops[i], i, "status out of range", got, want);
        b->counts[got->status]++;
        if (got->status != want->status)
            fail_result(run, &b->ops[i], i, "status differs", got, want);
        if (got->status == LEDGER_RESOLVED) {
            if (got->posted != want->posted || got->voided != want->voided)
                fail_result(run, &b->ops[i], i, "posted/voided counts differ", got, want);
            b->resolve_posted += (uint64_t)got->posted;
            b->resolve_voided += (uint64_t)got->voided;
        } else if (got->posted != 0 || got->voided != 0) {
            fail_result(run, &b->ops[i], i, "posted/voided counts on a result not resolved", got,
                        want);
        }
        if (want->column != 0 &&
            (got->message == NULL || !message_names_column(got->message, want->column)))
            fail_result(run, &b->ops[i], i, "the message does not name the column", got, want);
        if (got->status == LEDGER_CREATED && want->arrival != COND_OPEN) {
            b->arrival_posted += want->arrival == COND_MET;
            b->arrival_voided += want->arrival == COND_FAILED;
        }
        if (got->status == LEDGER_CREATED || got->status == LEDGER_RESOLVED) {
            if (got->timestamp <= b->timestamp_last)
                fail_result(run, &b->ops[i], i, "timestamp not after the last one", got, want);
            b->timestamp_last = got->timestamp;
            model_row_set_timestamp(m, want, got->timestamp);
        } else if (got->status == LEDGER_EXISTS) {
            /* The row found: ledger.h gives its timestamp (see the header). */
            int64_t created = model_row_timestamp(m, want);
            if (got->timestamp == 0 || (created != 0 && got->timestamp != created))
                fail_result(run, &b->ops[i], i, "timestamp is not the original row's", got, want);
        } else if (got->timestamp != 0) {
            fail_result(run, &b->ops[i], i, "a rejection has a timestamp", got, want);
        }
        if (got->status == LEDGER_INVALID && got->message == NULL)
            fail_result(run, &b->ops[i], i, "invalid without a message", got, want);
    }
}

/* Reads back everything the batch may have changed, and checks every invariant. */
static void check_batch(const struct run *run, struct concord *cc, const struct model *m,
                        const struct gen *g, const struct batch_state *b)
{
    uint32_t seen = 0;
    for (uint32_t i = 0; i < g->accounts_count; i++) {
        check_account(run, cc, m, g->accounts[i].id);
        seen += model_account_find(m, g->accounts[i].id) != M_NONE;
    }
    if (seen != m->accounts_count)
        run_fail(run, "the model has %" PRIu32 " accounts, %" PRIu32 " of them generated",
                 m->accounts_count, seen);
    for (uint32_t i = 0; i < GEN_GHOSTS; i++) {
        char ghost[32];
        snprintf(ghost, sizeof ghost, "ghost.%" PRIu32, i);
        check_account(run, cc, m, ghost);
    }
    for (uint32_t u = 0; u < GEN_UNITS; u++) check_unit(run, cc, m, gen_units[u].code);
    check_unit(run, cc, m, GEN_UNIT_NEVER);
    for (uint32_t i = 0; i < b->touched.count; i++) check_transfer(run, cc, m, b->touched.items[i]);
    for (uint32_t i = 0; i < m->gated_all_count; i++)
        check_transfer(run, cc, m, m->transfers[m->gated_all[i]].id);
    check_conditions(run, cc, m);
    struct cc_error err = {0};
    enum cc_err rc = concord_check(cc, &err);
    if (rc != CC_OK) run_fail(run, "concord_check: %d: %s", rc, err.message);
    char message[512];
    if (!model_check(m, message, sizeof message)) run_fail(run, "%s", message);
}

/* The transfer ids an operation names, to read back after the batch. */
static void touch_op(struct text_list *touched, const struct ledger_op *op)
{
    if (op->type != LEDGER_OP_TRANSFER && op->type != LEDGER_OP_POST && op->type != LEDGER_OP_VOID)
        return;
    if (op->id != NULL) text_list_push(touched, op->id);
    if (op->pending_id != NULL) text_list_push(touched, op->pending_id);
}

/* The statuses every long run must provoke. */
static const enum ledger_status required_statuses[] = {
    LEDGER_CREATED, LEDGER_EXISTS, LEDGER_EXISTS_WITH_DIFFERENT_FIELDS, LEDGER_EXCEEDS_CREDITS,
    LEDGER_EXCEEDS_DEBITS, LEDGER_OVERFLOWS, LEDGER_PENDING_TRANSFER_ALREADY_POSTED,
    LEDGER_PENDING_TRANSFER_ALREADY_VOIDED, LEDGER_PENDING_TRANSFER_EXPIRED,
    LEDGER_EXCEEDS_PENDING_TRANSFER_AMOUNT, LEDGER_LINKED_EVENT_FAILED,
    LEDGER_LINKED_EVENT_CHAIN_OPEN, LEDGER_DEBIT_ACCOUNT_NOT_FOUND,
    LEDGER_AMOUNT_MUST_NOT_BE_ZERO, LEDGER_ACCOUNTS_MUST_HAVE_THE_SAME_UNIT,
    /* the rest the generator aims at */
    LEDGER_INVALID, LEDGER_UNIT_NOT_FOUND, LEDGER_CREDIT_ACCOUNT_NOT_FOUND,
    LEDGER_ACCOUNTS_MUST_BE_DIFFERENT, LEDGER_PENDING_TRANSFER_NOT_FOUND,
    LEDGER_PENDING_TRANSFER_NOT_PENDING, LEDGER_CONDITION_NOT_FOUND,
    LEDGER_CONDITION_REQUIRES_PENDING, LEDGER_RESOLVED, LEDGER_CONDITION_ALREADY_RESOLVED,
};

static void coverage_require(const struct run *run, long ops_done, uint64_t count,
                             const char *what)
{
    if (count > 0) return;
    if (ops_done >= MODEL_COVERAGE_OPS_MIN) run_fail(run, "%s never occurred", what);
    printf("note: %s never occurred (a short run)\n", what);
}

static void report_and_check_coverage(const struct run *run, const struct batch_state *b,
                                      const struct model *m, long ops_done)
{
    printf("statuses:");
    for (int s = 0; s < LEDGER_STATUS_COUNT; s++)
        if (b->counts[s] > 0)
            printf(" %s=%" PRIu64, ledger_status_name((enum ledger_status)s), b->counts[s]);
    printf("\n");
    printf("conditions: %" PRIu32 " created; gated transfers settled by resolve: %" PRIu64
           " posted, %" PRIu64 " voided; on arrival: %" PRIu64 " posted, %" PRIu64
           " voided; resolutions rolled back by their chain: %" PRIu64 "\n",
           m->conditions_count, b->resolve_posted, b->resolve_voided, b->arrival_posted,
           b->arrival_voided, m->resolves_rolled_back);
    size_t n = sizeof required_statuses / sizeof required_statuses[0];
    for (size_t i = 0; i < n; i++) {
        char what[96];
        snprintf(what, sizeof what, "status %s", ledger_status_name(required_statuses[i]));
        coverage_require(run, ops_done, b->counts[required_statuses[i]], what);
    }
    coverage_require(run, ops_done, b->resolve_posted, "a gated transfer posted by resolve");
    coverage_require(run, ops_done, b->resolve_voided, "a gated transfer voided by resolve");
    coverage_require(run, ops_done, b->arrival_posted, "a gated transfer posted on arrival");
    coverage_require(run, ops_done, b->arrival_voided, "a gated transfer voided on arrival");
    coverage_require(run, ops_done, m->resolves_rolled_back, "a resolution rolled back");
}

static int64_t clock_step(struct rng *r)
{
    uint32_t choice = rng_index(r, 100);
    if (choice < 5) return 0; /* the clock stands still: timestamps still increase */
    int64_t step = rng_between(r, 1, 900) * SECOND;
    return choice < 65 ? step : step + rng_between(r, 0, SECOND - 1);
}

static void parse_arguments(struct run *run, int argc, char **argv)
{
    const char *seed_text = argc > 1 ? argv[1] : getenv("CONCORD_MODEL_SEED");
    if (seed_text != NULL && seed_text[0] != '\0') {
        char *end;
        errno = 0;
        run->seed = strtoull(seed_text, &end, 0);
        if (errno != 0 || *end != '\0') {
            fprintf(stderr, "usage: %s [SEED]  (or CONCORD_MODEL_SEED=SEED)\n", argv[0]);
            exit(2);
        }
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        run->seed = ((uint64_t)ts.tv_sec * 1000000007u) ^ (uint64_t)ts.tv_nsec ^
                    ((uint64_t)getpid() << 32);
    }
    run->ops_target = MODEL_OPS_DEFAULT;
    const char *ops_text = getenv("CONCORD_MODEL_OPS");
    if (ops_text != NULL && ops_text[0] != '\0') {
        char *end;
        run->ops_target = strtol(ops_text, &end, 10);
        if (*end != '\0' || run->ops_target < 1) {
            fprintf(stderr, "CONCORD_MODEL_OPS must be a positive number\n");
            exit(2);
        }
    }
}

static struct concord *open_database(struct run *run)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(run->dir, sizeof run->dir, "%s/concord-model-XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(run->dir) == NULL) run_fail(run, "mkdtemp %s: %s", run->dir, strerror(errno));
    snprintf(run->path, sizeof run->path, "%s/model.db", run->dir);
    struct concord *cc;
    struct cc_error err = {0};
    enum cc_err rc = concord_open(&cc, run->path, STORE_CREATE, &err);
    if (rc != CC_OK) run_fail(run, "concord_open: %d: %s", rc, err.message);
    return cc;
}

static void remove_database(const struct run *run)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char file[4300];
        snprintf(file, sizeof file, "%s%s", run->path, suffixes[i]);
        unlink(file);
    }
    rmdir(run->dir);
}

/* One batch: generate, run through the model and the app, compare, check. */
static size_t run_batch(const struct run *run, struct concord *cc, struct model *m,
                        struct model_snapshot *snapshot, struct gen *g, struct batch_state *b,
                        size_t target)
{
    size_t count = gen_batch(g, b->ops, target);
    assert(count <= MODEL_BATCH_OPS_MAX + MODEL_BATCH_SLACK);
    b->touched.count = 0;
    model_expire(m, g->now, g->pool, &b->touched);
    model_batch(m, snapshot, b->ops, count, g->now, b->expects);
    struct cc_error err = {0};
    enum cc_err rc = concord_apply(cc, b->ops, count, b->results, &err);
    if (rc != CC_OK) run_fail(run, "concord_apply: %d: %s", rc, err.message);
    compare_results(run, m, b, count);
    for (size_t i = 0; i < count; i++) touch_op(&b->touched, &b->ops[i]);
    check_batch(run, cc, m, g, b);
    return count;
}

int main(int argc, char **argv)
{
    struct run run = {.program = argv[0]};
    parse_arguments(&run, argc, argv);
    printf("seed=%" PRIu64 "\n", run.seed);
    fflush(stdout);
    struct timespec started;
    clock_gettime(CLOCK_MONOTONIC, &started);

    struct concord *cc = open_database(&run);
    struct fake_clock fake = {.now = CLOCK_START};
    concord_set_clock(cc, fake_clock_now, &fake);
    struct pool pool = {0};
    struct batch_state batch = {0};
    struct model model;
    model_init(&model, &pool, &batch.touched);
    struct model_snapshot snapshot = {0};
    struct gen gen = {.rng = {run.seed}, .pool = &pool, .model = &model};
    size_t capacity = MODEL_BATCH_OPS_MAX + MODEL_BATCH_SLACK;
    batch.ops = xrealloc(NULL, capacity * sizeof *batch.ops);
    batch.results = xrealloc(NULL, capacity * sizeof *batch.results);
    batch.expects = xrealloc(NULL, capacity * sizeof *batch.expects);

    long ops_done = 0;
    while (ops_done < run.ops_target) {
        run.batch++;
        if (run.batch > 1) fake.now += clock_step(&gen.rng);
        gen.now = fake.now;
        long left = run.ops_target - ops_done;
        size_t target = 1 + rng_below(&gen.rng, MODEL_BATCH_OPS_MAX);
        if ((long)target > left) target = (size_t)left;
        ops_done += (long)run_batch(&run, cc, &model, &snapshot, &gen, &batch, target);
    }

    struct timespec finished;
    clock_gettime(CLOCK_MONOTONIC, &finished);
    double seconds = (double)(finished.tv_sec - started.tv_sec) +
                     (double)(finished.tv_nsec - started.tv_nsec) / 1e9;
    uint64_t total = 0;
    for (int s = 0; s < LEDGER_STATUS_COUNT; s++) total += batch.counts[s];
    printf("model: %" PRIu64 " operations in %" PRIu32 " batches, %" PRIu32 " accounts, %" PRIu32
           " transfer rows, %" PRIu32 " gated, %.1f s\n",
           total, run.batch, model.accounts_count, model.transfers_count, model.gated_all_count,
           seconds);
    report_and_check_coverage(&run, &batch, &model, ops_done);

    concord_close(cc);
    remove_database(&run);
    free(batch.ops);
    free(batch.results);
    free(batch.expects);
    free(batch.touched.items);
    free(gen.accounts);
    free(gen.pendings.items);
    free(gen.plains.items);
    free(gen.resolutions.items);
    free(gen.conditions.items);
    free(gen.bases.items);
    free(gen.deriveds.items);
    snapshot_free(&snapshot);
    model_free(&model);
    pool_free(&pool);
    printf("ok seed=%" PRIu64 "\n", run.seed);
    return 0;
}
