/*
 * app.c — running a batch from end to end, and the read use cases.
 *
 * See app.h for the steps of a batch. Keys are deduplicated while loading: a
 * key found is in the view, a key missed is remembered in a per-batch set,
 * so each is asked of the store at most once per batch.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "app/app.h"
#include "app/domain.h"
#include "app/log.h"
#include "util/timefmt.h"
#include "util/utf8.h"

struct concord_expanded;
static void expanded_free(struct concord_expanded *e);

static int64_t clock_real(void *ctx)
{
    (void)ctx;
    return time_now_ns();
}

/* The key's path: as configured, or the database's path and CONCORD_KEY_SUFFIX. */
static char *key_path_of(const struct concord_options *o)
{
    if (o->key_path != NULL) return strdup(o->key_path);
    size_t n = strlen(o->path) + sizeof CONCORD_KEY_SUFFIX;
    char *path = malloc(n);
    if (path != NULL) snprintf(path, n, "%s%s", o->path, CONCORD_KEY_SUFFIX);
    return path;
}

/*
 * A ledger opened with no key and an empty log (made before the log existed)
 * gets its key now, so that it can be written again. Without one, a log that
 * has events keeps refusing writes: its key must be restored, not replaced.
 * Failing to make it (a read-only directory) is left to the first write.
 */
static void key_for_empty_log(struct concord *cc)
{
    struct cc_error ignored = {0};
    int64_t events = 0;
    if (access(cc->key_path, F_OK) == 0) return;
    if (cc->store->driver->events_last(cc->store, &events, &ignored) != CC_OK || events != 0)
        return;
    concord_key_ensure(cc->key_path, &ignored);
}

enum cc_err concord_open_options(struct concord **out, const struct concord_options *o,
                                 struct cc_error *err)
{
    *out = NULL;
    if (!audit_init()) return cc_error_set(err, CC_ERR_SYSTEM, "cannot initialise libsodium");
    struct concord *cc = calloc(1, sizeof *cc);
    if (cc == NULL) return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    cc->audit = !o->audit_off;
    if (cc->audit && (cc->key_path = key_path_of(o)) == NULL) {
        free(cc);
        return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    }
    enum cc_err rc = store_sqlite_open(&cc->store, o->path, o->mode, err);
    /* A ledger created here gets its key here, so every embedding program can write. */
    if (rc == CC_OK && cc->audit && o->mode == STORE_CREATE)
        rc = concord_key_ensure(cc->key_path, err);
    if (rc == CC_OK && cc->audit && o->mode != STORE_CREATE) key_for_empty_log(cc);
    if (rc != CC_OK) {
        store_close(cc->store);
        free(cc->key_path);
        free(cc);
        return rc;
    }
    ledger_view_init(&cc->view);
    strmap_init(&cc->missing_units);
    strmap_init(&cc->missing_accounts);
    strmap_init(&cc->missing_transfers);
    event_buffer_init(&cc->event);
    cc->clock = clock_real;
    cc->expansion = EVENT_EXPANSION_CURRENT;
    auth_actor_local(&cc->actor);
    *out = cc;
    return CC_OK;
}

enum cc_err concord_open(struct concord **out, const char *path, enum store_mode mode,
                         struct cc_error *err)
{
    struct concord_options o = {.path = path, .mode = mode};
    return concord_open_options(out, &o, err);
}

void concord_close(struct concord *cc)
{
    if (cc == NULL) return;
    store_close(cc->store);
    ledger_view_free(&cc->view);
    strmap_free(&cc->missing_units);
    strmap_free(&cc->missing_accounts);
    strmap_free(&cc->missing_transfers);
    event_buffer_free(&cc->event);
    if (cc->signer != NULL) sodium_memzero(cc->signer, sizeof *cc->signer);
    free(cc->signer);
    free(cc->key_path);
    free(cc->expired);
    free(cc->settled);
    free(cc->keys);
    free(cc->log_pending);
    expanded_free(cc->expanded);
    free(cc);
}

void concord_set_audit(struct concord *cc, bool on) { cc->audit = on; }

void concord_set_clock(struct concord *cc, concord_clock_fn clock, void *ctx)
{
    cc->clock = clock != NULL ? clock : clock_real;
    cc->clock_ctx = ctx;
}

void concord_set_actor(struct concord *cc, const struct auth_actor *actor)
{
    if (actor != NULL)
        cc->actor = *actor;
    else
        auth_actor_local(&cc->actor);
}

/* ---------------------------------------------------------------- loading a batch */

static void load_failed(struct concord *cc, enum cc_err rc, const struct cc_error *detail)
{
    if (cc->load_error != CC_OK) return;
    cc->load_error = rc;
    cc->load_error_detail = *detail;
}

/* Loads a whole table the batch needs (once), or the transfers a condition gates. */
static void load_table(struct concord *cc, char kind, const char *id)
{
    const struct store_driver *d = cc->store->driver;
    struct cc_error detail = {0};
    enum cc_err rc = CC_OK;
    if (kind == 'c' && !cc->conditions_loaded) {
        cc->conditions_loaded = true;
        rc = d->load_conditions(cc->store, &cc->view, &detail);
    } else if (kind == 'q' && !cc->requirements_loaded) {
        cc->requirements_loaded = true;
        rc = d->load_requirements(cc->store, &cc->view, &detail);
    } else if (kind == 'x' && !cc->rates_loaded) {
        cc->rates_loaded = true;
        rc = d->load_rates(cc->store, &cc->view, &detail);
    } else if (kind == 'g') {
        rc = d->load_gated(cc->store, id, &cc->view, &detail);
    }
    if (rc != CC_OK) load_failed(cc, rc, &detail);
}

/* Loads one key into the view unless it is there or known to be missing. */
static void load_key(void *ctx, char kind, const char *id)
{
    struct concord *cc = ctx;
    if (cc->load_error != CC_OK) return;
    if (kind == 'c' || kind == 'q' || kind == 'x' || kind == 'g') {
        load_table(cc, kind, id);
        return;
    }
    const struct store_driver *d = cc->store->driver;
    struct cc_error detail = {0};
    enum cc_err rc = CC_OK;
    if (kind == 'v') { /* a pending transfer's approvals; approve ops are few */
        rc = d->load_approvals(cc->store, id, &cc->view, &detail);
        if (rc != CC_OK) load_failed(cc, rc, &detail);
        return;
    }
    if (kind == 'w' || kind == 'p') {
        bool have = kind == 'w' ? ledger_view_approval(&cc->view, id) != NULL
                                : ledger_view_party(&cc->view, id) != NULL;
        if (have) return;
        rc = kind == 'w' ? d->load_approval(cc->store, id, &cc->view, &detail)
                         : d->load_party(cc->store, id, &cc->view, &detail);
        if (rc != CC_OK && rc != CC_ERR_NOT_FOUND) load_failed(cc, rc, &detail);
        return;
    }
    struct strmap *missing;
    enum cc_err (*load)(struct store *, const char *, struct ledger_view *, struct cc_error *);
    switch (kind) {
    case 'u':
        if (ledger_view_unit(&cc->view, id) != NULL) return;
        missing = &cc->missing_units;
        load = d->load_unit;
        break;
    case 'a':
        if (ledger_view_account(&cc->view, id) != NULL) return;
        missing = &cc->missing_accounts;
        load = d->load_account;
        break;
    default:
        assert(kind == 't');
        if (ledger_view_transfer(&cc->view, id) != NULL) return;
        missing = &cc->missing_transfers;
        load = d->load_transfer;
        break;
    }
    uint32_t unused;
    if (strmap_get(missing, id, &unused)) return;
    rc = load(cc->store, id, &cc->view, &detail);
    if (rc == CC_ERR_NOT_FOUND) {
        if (!strmap_put(missing, id, 0)) {
            cc_error_set(&detail, CC_ERR_NOMEM, "out of memory");
            load_failed(cc, CC_ERR_NOMEM, &detail);
        }
    } else if (rc != CC_OK) {
        load_failed(cc, rc, &detail);
    }
}

static int load_due(void *ctx, const struct ledger_transfer *transfer)
{
    struct concord *cc = ctx;
    if (ledger_view_transfer(&cc->view, transfer->id) != NULL) return 0;
    if (!ledger_view_add_transfer(&cc->view, transfer)) {
        struct cc_error detail;
        cc_error_set(&detail, CC_ERR_NOMEM, "out of memory");
        load_failed(cc, CC_ERR_NOMEM, &detail);
        return 1;
    }
    return 0;
}

/* The keys of one kind ('a' or 't') the batch names and the view lacks, into cc->keys. */
struct key_collect {
    struct concord *cc;
    char kind;
};

static void collect_key(void *ctx, char kind, const char *id)
{
    struct key_collect *k = ctx;
    struct concord *cc = k->cc;
    /* An id too long for any row is in no store: its operation is refused on its own. */
    if (kind != k->kind || id == NULL || cc->load_error != CC_OK ||
        strnlen(id, LEDGER_ID_BYTES_MAX + 1) > LEDGER_ID_BYTES_MAX)
        return;
    if (kind == 'a' ? ledger_view_account(&cc->view, id) != NULL
                    : ledger_view_transfer(&cc->view, id) != NULL)
        return;
    if (cc->keys_count == cc->keys_capacity) {
        size_t capacity = cc->keys_capacity ? 2 * cc->keys_capacity : 1024;
        const char **keys = realloc(cc->keys, capacity * sizeof *keys);
        if (keys == NULL) {
            struct cc_error detail;
            cc_error_set(&detail, CC_ERR_NOMEM, "out of memory");
            load_failed(cc, CC_ERR_NOMEM, &detail);
            return;
        }
        cc->keys = keys;
        cc->keys_capacity = capacity;
    }
    cc->keys[cc->keys_count++] = id;
}

/*
 * Loads every account, then every transfer, the operations name with one
 * statement each (store load_many), and records the ids the store lacks as
 * missing: the per-key loading that follows then finds them all in the view
 * or the missing maps, and asks the store nothing more for them.
 */
static void batch_prefetch(struct concord *cc, const struct ledger_op *ops, size_t count)
{
    const struct store_driver *d = cc->store->driver;
    for (int pass = 0; pass < 2 && cc->load_error == CC_OK; pass++) {
        struct key_collect k = {.cc = cc, .kind = pass == 0 ? 'a' : 't'};
        cc->keys_count = 0;
        for (size_t i = 0; i < count && cc->load_error == CC_OK; i++)
            ledger_op_refs(&ops[i], collect_key, &k);
        if (cc->load_error != CC_OK || cc->keys_count == 0) continue;
        struct cc_error detail = {0};
        enum cc_err rc = d->load_many(cc->store, k.kind, cc->keys, cc->keys_count, &cc->view,
                                      &detail);
        if (rc != CC_OK) {
            load_failed(cc, rc, &detail);
            return;
        }
        struct strmap *missing = pass == 0 ? &cc->missing_accounts : &cc->missing_transfers;
        for (size_t i = 0; i < cc->keys_count; i++) {
            const char *id = cc->keys[i];
            bool found = pass == 0 ? ledger_view_account(&cc->view, id) != NULL
                                   : ledger_view_transfer(&cc->view, id) != NULL;
            if (!found && !strmap_put(missing, id, 0)) {
                cc_error_set(&detail, CC_ERR_NOMEM, "out of memory");
                load_failed(cc, CC_ERR_NOMEM, &detail);
                return;
            }
        }
    }
}

/*
 * Loads what a batch refers to: due pending transfers, every key the
 * operations name, and the accounts of every pending transfer loaded (a post,
 * void or expiry changes their balances).
 */
static enum cc_err batch_load(struct concord *cc, const struct ledger_op *ops, size_t count,
                              int64_t now, struct cc_error *err)
{
    cc->load_error = CC_OK;
    enum cc_err rc = cc->store->driver->due_pending(cc->store, now, load_due, cc, err);
    if (rc != CC_OK) return rc;
    batch_prefetch(cc, ops, count);
    for (size_t i = 0; i < count && cc->load_error == CC_OK; i++)
        ledger_op_refs(&ops[i], load_key, cc);
    /* Loaded transfers sit at the front of the view; new ones are not there yet. */
    for (uint32_t i = 0; i < cc->view.transfers_count && cc->load_error == CC_OK; i++) {
        const struct ledger_transfer *t = &cc->view.transfers[i];
        /* The authorization rule judges a post, void or approve by the debit account's owner,
           whatever the state: a rejection must not tell an outsider the state first. */
        if (t->state != LEDGER_STATE_PENDING && cc->view.authorize == NULL) continue;
        const char *debit = t->debit, *credit = t->credit;
        load_key(cc, 'a', debit);
        load_key(cc, 'a', credit);
    }
    if (cc->load_error != CC_OK) {
        if (err != NULL) *err = cc->load_error_detail;
        return cc->load_error;
    }
    return CC_OK;
}

static void batch_reset(struct concord *cc)
{
    ledger_view_reset(&cc->view);
    cc->conditions_loaded = false;
    cc->requirements_loaded = false;
    cc->rates_loaded = false;
    strmap_clear(&cc->missing_units);
    strmap_clear(&cc->missing_accounts);
    strmap_clear(&cc->missing_transfers);
}

/* Did the batch change anything that must be written? */
static bool view_changed(const struct ledger_view *v)
{
    for (uint32_t i = 0; i < v->units_count; i++)
        if (v->units[i].row) return true;
    for (uint32_t i = 0; i < v->accounts_count; i++)
        if (v->accounts[i].row) return true;
    for (uint32_t i = 0; i < v->transfers_count; i++)
        if (v->transfers[i].row) return true;
    for (uint32_t i = 0; i < v->conditions_count; i++)
        if (v->conditions[i].row) return true;
    for (uint32_t i = 0; i < v->requirements_count; i++)
        if (v->requirements[i].row) return true;
    for (uint32_t i = 0; i < v->rates_count; i++)
        if (v->rates[i].row) return true;
    for (uint32_t i = 0; i < v->parties_count; i++)
        if (v->parties[i].row) return true;
    for (uint32_t i = 0; i < v->approvals_count; i++)
        if (v->approvals[i].row) return true;
    return false;
}

/* Notes the pending transfers that ledger_expire expired (its records from index `from` on). */
static enum cc_err expired_collect(struct concord *cc, uint32_t from, struct cc_error *err)
{
    cc->expired_count = 0;
    for (uint32_t i = from; i < cc->view.transfers_count; i++) {
        const struct ledger_transfer *t = &cc->view.transfers[i];
        if (t->reason != LEDGER_REASON_EXPIRY || t->pending_id == NULL) continue;
        if (cc->expired_count == cc->expired_capacity) {
            size_t capacity = cc->expired_capacity ? cc->expired_capacity * 2 : 64;
            const char **grown = realloc(cc->expired, capacity * sizeof *grown);
            if (grown == NULL) return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
            cc->expired = grown;
            cc->expired_capacity = capacity;
        }
        cc->expired[cc->expired_count++] = t->pending_id;
    }
    return CC_OK;
}

/*
 * Notes the resolution records the rules made by themselves (reason
 * condition or approval) among the rows the batch created, in view order.
 * A failed chain has already taken its rows back.
 */
static enum cc_err settled_collect(struct concord *cc, struct cc_error *err)
{
    cc->settled_count = 0;
    for (uint32_t i = 0; i < cc->view.transfers_count; i++) {
        const struct ledger_transfer *t = &cc->view.transfers[i];
        if (!(t->row & LEDGER_ROW_NEW) ||
            (t->reason != LEDGER_REASON_CONDITION && t->reason != LEDGER_REASON_APPROVAL))
            continue;
        if (cc->settled_count == cc->settled_capacity) {
            size_t capacity = cc->settled_capacity ? cc->settled_capacity * 2 : 64;
            const char **grown = realloc(cc->settled, capacity * sizeof *grown);
            if (grown == NULL) return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
            cc->settled = grown;
            cc->settled_capacity = capacity;
        }
        cc->settled[cc->settled_count++] = t->id;
    }
    return CC_OK;
}

/* ---------------------------------------------------------------- domain operations */

/*
 * A batch as the engine runs it when it holds domain operations: the
 * caller's operations, each domain one replaced by its steps (domain.h).
 * first[i] and steps[i] say where operation i's steps are.
 */
struct concord_expanded {
    struct ledger_op *ops;
    struct ledger_result *results;
    size_t count, capacity;
    size_t *first, *steps;
    size_t map_capacity;
    /* The batch's steps so far by id (the latest wins), so that an expansion
       finds what earlier operations made without scanning them all. */
    struct strmap accounts, transfers;
    struct strmap keys; /* what domain verbs note for later ones (domain.h) */
};

/* Indexes ops[from, to) of e by id (accounts and transfers not refused). */
static bool expanded_index(struct concord_expanded *e, size_t from, size_t to)
{
    for (size_t k = from; k < to; k++) {
        const struct ledger_op *op = &e->ops[k];
        if (op->invalid != NULL || op->id == NULL) continue;
        if (op->type == LEDGER_OP_ACCOUNT && !strmap_put(&e->accounts, op->id, (uint32_t)k))
            return false;
        if (op->type == LEDGER_OP_TRANSFER && !strmap_put(&e->transfers, op->id, (uint32_t)k))
            return false;
    }
    return true;
}

static bool expanded_reserve(struct concord_expanded *e, size_t more)
{
    if (e->count + more <= e->capacity) return true;
    size_t capacity = e->capacity ? e->capacity : 256;
    while (capacity < e->count + more) capacity *= 2;
    struct ledger_op *ops = realloc(e->ops, capacity * sizeof *ops);
    if (ops == NULL) return false;
    e->ops = ops;
    struct ledger_result *results = realloc(e->results, capacity * sizeof *results);
    if (results == NULL) return false;
    e->results = results;
    e->capacity = capacity;
    return true;
}

static void expanded_free(struct concord_expanded *e)
{
    if (e == NULL) return;
    free(e->ops);
    free(e->results);
    free(e->first);
    free(e->steps);
    strmap_free(&e->accounts);
    strmap_free(&e->transfers);
    strmap_free(&e->keys);
    free(e);
}

/*
 * EVENT_EXPANSION_MAKERS_APART: the units, parties and accounts an operation
 * makes go first, as a chain of their own, then its whole chain as before,
 * those makers again at its head. Operations later in the batch find what
 * it made (domain_lookup_account reads the batch's steps), so it must be
 * there even when the rest is refused: a refused transfer must not take
 * with it the account the next operation's transfer needs. The makers are
 * one chain, so that they are made all or none: one refused (a party there
 * with another name) leaves nothing that a later operation would take for
 * made. The makers again in the chain keep the operation whole: each answers
 * `exists` when made apart, and fails as it did apart otherwise (forbidden
 * to this actor, or there with other fields), so that nothing else of the
 * operation is written. Not for an operation linked to another by its
 * caller, whose chain is the caller's to say.
 */
static bool is_maker(const struct ledger_op *op)
{
    return op->type == LEDGER_OP_UNIT || op->type == LEDGER_OP_PARTY ||
           op->type == LEDGER_OP_ACCOUNT;
}

/* How many of the steps are makers: 0 when they are all (the operation only makes). */
static size_t makers_of(const struct ledger_op *steps, size_t n)
{
    size_t makers = 0;
    for (size_t k = 0; k < n; k++) makers += is_maker(&steps[k]);
    return makers < n ? makers : 0;
}

/* Appends to out at *k the steps that are makers (or those that are not). */
static void steps_copy(struct ledger_op *out, size_t *k, const struct ledger_op *steps, size_t n,
                       bool makers)
{
    for (size_t s = 0; s < n; s++)
        if (is_maker(&steps[s]) == makers) out[(*k)++] = steps[s];
}

/* steps[0, n) into out[0, n + makers): the makers apart, then the chain headed by them. */
static void makers_apart(struct ledger_op *out, const struct ledger_op *steps, size_t n,
                         size_t makers)
{
    size_t k = 0;
    steps_copy(out, &k, steps, n, true);  /* the makers' own chain */
    steps_copy(out, &k, steps, n, true);  /* the operation's: its makers again, */
    steps_copy(out, &k, steps, n, false); /* then the rest */
    for (size_t i = 0; i < k; i++) out[i].flags |= LEDGER_OP_LINKED;
    out[makers - 1].flags &= ~LEDGER_OP_LINKED; /* the makers' chain ends */
    out[k - 1].flags &= ~LEDGER_OP_LINKED;      /* the operation is linked to nothing */
}

static enum cc_err expand_batch(struct concord *cc, const struct ledger_op *ops, size_t count,
                                int64_t now, struct cc_error *err)
{
    if (cc->expanded == NULL && (cc->expanded = calloc(1, sizeof *cc->expanded)) == NULL)
        return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    struct concord_expanded *e = cc->expanded;
    e->count = 0;
    strmap_clear(&e->accounts);
    strmap_clear(&e->transfers);
    strmap_clear(&e->keys);
    if (count > e->map_capacity) {
        size_t *first = realloc(e->first, count * sizeof *first);
        if (first != NULL) e->first = first;
        size_t *steps = realloc(e->steps, count * sizeof *steps);
        if (steps != NULL) e->steps = steps;
        if (first == NULL || steps == NULL) return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
        e->map_capacity = count;
    }
    struct domain_expansion *x = malloc(sizeof *x);
    if (x == NULL) return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    enum cc_err rc = CC_OK;
    for (size_t i = 0; i < count && rc == CC_OK; i++) {
        e->first[i] = e->count;
        if (ops[i].type != LEDGER_OP_DOMAIN || ops[i].invalid != NULL) {
            if (!expanded_reserve(e, 1)) rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
            else e->ops[e->count++] = ops[i];
            e->steps[i] = 1;
            if (rc == CC_OK && !expanded_index(e, e->count - 1, e->count))
                rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
            continue;
        }
        *x = (struct domain_expansion){.cc = cc, .arena = &cc->view.arena, .now = now,
                                       .earlier = e->ops, .earlier_count = e->count,
                                       .earlier_accounts = &e->accounts,
                                       .earlier_transfers = &e->transfers,
                                       .batch_keys = &e->keys};
        bool ok = domain_expand(x, &ops[i]);
        size_t n = ok ? x->count : 1;
        bool chained = (ops[i].flags & LEDGER_OP_LINKED) != 0 ||
                       (i > 0 && (ops[i - 1].flags & LEDGER_OP_LINKED) != 0);
        size_t makers = ok && !chained && cc->expansion >= EVENT_EXPANSION_MAKERS_APART
                            ? makers_of(x->steps, n)
                            : 0;
        if (!expanded_reserve(e, n + makers)) {
            rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
        } else if (ok && makers > 0) {
            makers_apart(&e->ops[e->count], x->steps, n, makers);
            n += makers;
        } else if (ok) {
            memcpy(&e->ops[e->count], x->steps, n * sizeof *x->steps);
        } else { /* refused before any step: the engine reports it, chain and all */
            e->ops[e->count] = ops[i];
            e->ops[e->count].invalid = arena_strdup(&cc->view.arena, x->message);
            if (e->ops[e->count].invalid == NULL) rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
        }
        e->count += n;
        e->steps[i] = n;
        if (rc == CC_OK && !expanded_index(e, e->count - n, e->count))
            rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
        if (e->count > LEDGER_BATCH_OPS_MAX)
            rc = cc_error_set(err, CC_ERR_INPUT, "the batch's domain operations expand to more "
                              "than %d operations", LEDGER_BATCH_OPS_MAX);
    }
    free(x);
    return rc;
}

/*
 * A domain operation's result from its steps': the first step that failed
 * by itself (its status, and a message naming it), else linked_event_failed
 * when its chain failed elsewhere; created when a step created something,
 * exists when every step found its row already there.
 */
/* The ids of the transfers a domain operation's steps created, space-separated; NULL: none. */
static const char *fold_records(struct concord *cc, const struct ledger_op *steps,
                                const struct ledger_result *r, size_t n)
{
    size_t length = 0;
    for (size_t k = 0; k < n; k++) {
        bool moves = steps[k].type == LEDGER_OP_TRANSFER || steps[k].type == LEDGER_OP_POST ||
                     steps[k].type == LEDGER_OP_VOID;
        if (moves && r[k].status == LEDGER_CREATED) length += strlen(steps[k].id) + 1;
    }
    if (length == 0) return NULL;
    char *text = arena_alloc(&cc->view.arena, length);
    if (text == NULL) return NULL;
    size_t used = 0;
    for (size_t k = 0; k < n; k++) {
        bool moves = steps[k].type == LEDGER_OP_TRANSFER || steps[k].type == LEDGER_OP_POST ||
                     steps[k].type == LEDGER_OP_VOID;
        if (!moves || r[k].status != LEDGER_CREATED) continue;
        if (used > 0) text[used++] = ' ';
        size_t m = strlen(steps[k].id);
        memcpy(text + used, steps[k].id, m);
        used += m;
    }
    text[used] = '\0';
    return text;
}

static struct ledger_result fold_one(struct concord *cc, const char *op_id,
                                     const struct ledger_op *steps,
                                     const struct ledger_result *r, size_t n)
{
    struct ledger_result out = {.status = LEDGER_EXISTS};
    bool created = false, failed = false;
    for (size_t k = 0; k < n; k++) {
        if (ledger_status_ok(r[k].status)) {
            if (r[k].status == LEDGER_CREATED && !created) {
                created = true;
                out.timestamp = r[k].timestamp;
            } else if (out.timestamp == 0) {
                out.timestamp = r[k].timestamp;
            }
            continue;
        }
        if (r[k].status == LEDGER_LINKED_EVENT_FAILED) {
            failed = true;
            continue;
        }
        char message[CC_ERROR_MESSAGE_BYTES_MAX];
        snprintf(message, sizeof message, "%s %s: %s", ledger_op_label(&steps[k]),
                 steps[k].id != NULL ? steps[k].id : "",
                 r[k].message != NULL ? r[k].message : ledger_status_name(r[k].status));
        bool single = n == 1 && steps[0].invalid != NULL; /* refused before any step */
        return (struct ledger_result){
            .status = r[k].status,
            .message = single ? r[k].message : arena_strdup(&cc->view.arena, utf8_truncate(message)),
        };
    }
    if (failed) return (struct ledger_result){.status = LEDGER_LINKED_EVENT_FAILED};
    if (created) out.status = LEDGER_CREATED;
    /* Its own row's time when a step bears its id (a shared account's would mislead). */
    for (size_t k = 0; k < n; k++)
        if (steps[k].id != NULL && op_id != NULL && strcmp(steps[k].id, op_id) == 0 &&
            r[k].timestamp != 0 && (r[k].status == LEDGER_CREATED || !created))
            out.timestamp = r[k].timestamp;
    out.records = fold_records(cc, steps, r, n);
    return out;
}

static void fold_batch(struct concord *cc, const struct ledger_op *ops, size_t count,
                       struct ledger_result *results)
{
    const struct concord_expanded *e = cc->expanded;
    for (size_t i = 0; i < count; i++) {
        const struct ledger_op *steps = &e->ops[e->first[i]];
        const struct ledger_result *r = &e->results[e->first[i]];
        results[i] = ops[i].type == LEDGER_OP_DOMAIN
                         ? fold_one(cc, ops[i].id, steps, r, e->steps[i])
                         : r[0];
    }
}

enum cc_err concord_apply(struct concord *cc, const struct ledger_op *ops, size_t count,
                          struct ledger_result *results, struct cc_error *err)
{
    if (count > LEDGER_BATCH_OPS_MAX)
        return cc_error_set(err, CC_ERR_INPUT, "a batch holds at most %d operations, not %zu",
                            LEDGER_BATCH_OPS_MAX, count);
    batch_reset(cc);
    cc->view.actor = cc->actor.user;
    /* Administrators and coordinators may try anything: no hook to call per operation. */
    bool checked = cc->actor.role != AUTH_ROLE_ADMIN && cc->actor.role != AUTH_ROLE_COORDINATOR;
    cc->view.authorize = checked ? auth_authorize : NULL;
    cc->view.authorize_ctx = &cc->actor;
    enum cc_err rc = store_begin(cc->store, err);
    if (rc != CC_OK) return rc;
    int64_t now = cc->clock(cc->clock_ctx);
    rc = cc->store->driver->timestamp_last(cc->store, &cc->view.timestamp_last, err);
    /* Domain operations run as their steps; their results are folded back below. */
    const struct ledger_op *run_ops = ops;
    size_t run_count = count;
    struct ledger_result *run_results = results;
    bool domain = false;
    for (size_t i = 0; i < count && !domain; i++) domain = ops[i].type == LEDGER_OP_DOMAIN;
    if (rc == CC_OK && domain) {
        rc = expand_batch(cc, ops, count, now, err);
        run_ops = cc->expanded->ops;
        run_count = cc->expanded->count;
        run_results = cc->expanded->results;
    }
    if (rc == CC_OK) rc = batch_load(cc, run_ops, run_count, now, err);
    uint32_t before_expiry = cc->view.transfers_count;
    if (rc == CC_OK && ledger_expire(&cc->view, now) < 0)
        rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory expiring transfers");
    if (rc == CC_OK) rc = expired_collect(cc, before_expiry, err);
    if (rc == CC_OK && !ledger_execute(&cc->view, run_ops, run_count, now, run_results))
        rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory executing the batch");
    if (rc == CC_OK && domain) fold_batch(cc, ops, count, results);
    if (rc == CC_OK) rc = settled_collect(cc, err);
#ifndef NDEBUG
    char broken[CC_ERROR_MESSAGE_BYTES_MAX];
    if (rc == CC_OK && !ledger_check_view(&cc->view, broken, sizeof broken)) {
        fprintf(stderr, "concord: ledger invariant broken: %s\n", broken);
        abort(); /* a debug build stops at the first broken batch, before writing it */
    }
#endif
    if (rc == CC_OK && !view_changed(&cc->view)) {
        store_rollback(cc->store); /* nothing to write: release the lock, skip the fsync */
        return CC_OK;
    }
    /* The event is computed beside the write of the rows, appended after it. */
    if (rc == CC_OK && cc->audit && cc->log_pending == NULL) {
        cc->log_pending = calloc(1, sizeof *cc->log_pending);
        if (cc->log_pending == NULL) rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    }
    struct concord_log_pending *log = cc->log_pending;
    if (rc == CC_OK && cc->audit) {
        struct concord_batch batch = {.ops = ops, .results = results, .count = count,
                                      .expired = (const char *const *)cc->expired,
                                      .expired_count = cc->expired_count,
                                      .settled = (const char *const *)cc->settled,
                                      .settled_count = cc->settled_count, .now = now,
                                      .expansion = domain ? cc->expansion : 0};
        rc = concord_log_start(cc, &batch, log, err);
    }
    if (rc == CC_OK) rc = cc->store->driver->write(cc->store, &cc->view, err);
    if (cc->audit && log != NULL) {
        enum cc_err logged = concord_log_finish(cc, log, rc == CC_OK, rc == CC_OK ? err : NULL);
        if (rc == CC_OK) rc = logged;
    }
    if (rc == CC_OK) rc = store_commit(cc->store, err);
    if (rc != CC_OK) store_rollback(cc->store);
    return rc;
}

enum cc_err concord_group_begin(struct concord *cc, struct cc_error *err)
{
    return store_begin(cc->store, err);
}

enum cc_err concord_group_commit(struct concord *cc, struct cc_error *err)
{
    return store_commit(cc->store, err);
}

void concord_group_rollback(struct concord *cc) { store_rollback(cc->store); }

static int count_due(void *ctx, const struct ledger_transfer *transfer)
{
    (void)transfer;
    ++*(int64_t *)ctx;
    return 1; /* one is enough to know a batch is needed */
}

enum cc_err concord_expire_due(struct concord *cc, struct cc_error *err)
{
    /* Look first without the writer's lock: most reads find nothing due. */
    int64_t due = 0;
    enum cc_err rc = cc->store->driver->due_pending(cc->store, cc->clock(cc->clock_ctx),
                                                    count_due, &due, err);
    if (rc != CC_OK || due == 0) return rc;
    /* No one asked for these expiries: the log records them as the ledger's own. */
    struct auth_actor asked = cc->actor;
    auth_actor_system(&cc->actor);
    rc = concord_apply(cc, NULL, 0, NULL, err);
    cc->actor = asked;
    return rc;
}

enum cc_err concord_check(struct concord *cc, struct cc_error *err)
{
    return store_check(cc->store, err);
}

/* ---------------------------------------------------------------- reads */

struct unit_copy {
    struct ledger_unit *out;
    char *name;
    size_t name_size;
    bool found;
};

static int unit_copy_fn(void *ctx, const struct ledger_unit *unit)
{
    struct unit_copy *c = ctx;
    *c->out = *unit;
    c->out->code = NULL;
    c->out->name = NULL;
    if (c->name != NULL && c->name_size > 0) {
        strncpy(c->name, unit->name ? unit->name : "", c->name_size - 1);
        c->name[c->name_size - 1] = '\0';
        c->out->name = c->name;
    }
    c->found = true;
    return 0;
}

enum cc_err concord_unit_get(struct concord *cc, const char *code, struct ledger_unit *out,
                             char *name, size_t name_size, struct cc_error *err)
{
    struct unit_copy c = {.out = out, .name = name, .name_size = name_size};
    enum cc_err rc = cc->store->driver->unit_get(cc->store, code, unit_copy_fn, &c, err);
    if (rc == CC_OK && !c.found) return cc_error_set(err, CC_ERR_NOT_FOUND, "no unit %s", code);
    return rc;
}

enum cc_err concord_units_list(struct concord *cc, store_unit_fn fn, void *ctx,
                               struct cc_error *err)
{
    return cc->store->driver->units_list(cc->store, fn, ctx, err);
}

struct found {
    void *ctx;
    int (*fn)(void *, const void *);
    bool found;
};

static int account_found(void *ctx, const struct ledger_account *account)
{
    struct found *f = ctx;
    f->found = true;
    return ((store_account_fn)(void *)f->fn)(f->ctx, account);
}

static int transfer_found(void *ctx, const struct ledger_transfer *transfer)
{
    struct found *f = ctx;
    f->found = true;
    if (f->fn == NULL) return 0; /* only whether it exists */
    return ((store_transfer_fn)(void *)f->fn)(f->ctx, transfer);
}

/* ---------------------------------------------------------------- who may read what */

static int owner_copy(void *ctx, const struct ledger_account *account)
{
    struct found *f = ctx;
    f->found = true;
    snprintf(f->ctx, LEDGER_ID_BYTES_MAX + 1, "%s", account->owner ? account->owner : "");
    return 0;
}

/*
 * May the actor read account id? CC_OK when it may (or when there is no such
 * account: the read itself then says so), CC_ERR_FORBIDDEN when the account
 * belongs to another party.
 */
static enum cc_err account_readable(struct concord *cc, const char *id, struct cc_error *err)
{
    if (auth_reads_everything(&cc->actor)) return CC_OK;
    char owner[LEDGER_ID_BYTES_MAX + 1] = "";
    struct found f = {.ctx = owner};
    enum cc_err rc = cc->store->driver->account_get(cc->store, id, owner_copy, &f, err);
    if (rc != CC_OK || !f.found) return rc;
    if (auth_may_read_owned(&cc->actor, owner[0] ? owner : NULL)) return CC_OK;
    return cc_error_set(err, CC_ERR_FORBIDDEN, "account %s is not %s's: a%s %s of %s reads only "
                        "its party's accounts", id, cc->actor.party,
                        cc->actor.role == AUTH_ROLE_EDITOR ? "n" : "",
                        auth_role_name(cc->actor.role), cc->actor.party);
}

enum cc_err concord_account_get(struct concord *cc, const char *id, store_account_fn fn,
                                void *ctx, struct cc_error *err)
{
    enum cc_err rc = account_readable(cc, id, err);
    if (rc != CC_OK) return rc;
    struct found f = {.ctx = ctx, .fn = (int (*)(void *, const void *))(void *)fn};
    rc = cc->store->driver->account_get(cc->store, id, account_found, &f, err);
    if (rc == CC_OK && !f.found) return cc_error_set(err, CC_ERR_NOT_FOUND, "no account %s", id);
    return rc;
}

/* A listing as the actor sees it: rows of other parties skipped, but counted as scanned. */
struct account_filter {
    const struct auth_actor *actor;
    store_account_fn fn;
    void *ctx;
    struct concord_scan *scan;
};

static int account_filtered(void *ctx, const struct ledger_account *a)
{
    struct account_filter *f = ctx;
    if (f->scan != NULL) {
        f->scan->read++;
        snprintf(f->scan->last, sizeof f->scan->last, "%s", a->id);
    }
    if (!auth_may_read_owned(f->actor, a->owner)) return 0;
    return f->fn(f->ctx, a);
}

enum cc_err concord_accounts_page(struct concord *cc, const char *prefix, const char *after,
                                  uint32_t limit, store_account_fn fn, void *ctx,
                                  struct concord_scan *scan, struct cc_error *err)
{
    if (scan != NULL) {
        scan->read = 0;
        snprintf(scan->last, sizeof scan->last, "%s", after ? after : "");
    }
    if (limit == 0 || limit > STORE_LIST_LIMIT_MAX)
        return cc_error_set(err, CC_ERR_USAGE, "limit must be 1 … %d", STORE_LIST_LIMIT_MAX);
    struct account_filter f = {.actor = &cc->actor, .fn = fn, .ctx = ctx, .scan = scan};
    return cc->store->driver->accounts_list(cc->store, prefix, after, limit, account_filtered, &f,
                                            err);
}

enum cc_err concord_accounts_list(struct concord *cc, const char *prefix, const char *after,
                                  uint32_t limit, store_account_fn fn, void *ctx,
                                  struct cc_error *err)
{
    return concord_accounts_page(cc, prefix, after, limit, fn, ctx, NULL, err);
}

enum cc_err concord_accounts_list_any(struct concord *cc, const char *prefix, const char *after,
                                      uint32_t limit, store_account_fn fn, void *ctx,
                                      struct cc_error *err)
{
    if (limit == 0 || limit > STORE_LIST_LIMIT_MAX)
        return cc_error_set(err, CC_ERR_USAGE, "limit must be 1 … %d", STORE_LIST_LIMIT_MAX);
    return cc->store->driver->accounts_list(cc->store, prefix, after, limit, fn, ctx, err);
}

/* A transfer is readable when the actor may read its debit or its credit account. */
struct transfer_check {
    struct concord *cc;
    struct found found;
    enum cc_err rc;
    struct cc_error *err;
};

static int transfer_checked(void *ctx, const struct ledger_transfer *t)
{
    struct transfer_check *c = ctx;
    if (!auth_reads_everything(&c->cc->actor)) {
        struct cc_error ignored = {0};
        c->rc = account_readable(c->cc, t->debit, &ignored);
        if (c->rc == CC_ERR_FORBIDDEN) c->rc = account_readable(c->cc, t->credit, c->err);
        if (c->rc == CC_ERR_FORBIDDEN)
            cc_error_set(c->err, CC_ERR_FORBIDDEN, "transfer %s moves nothing of %s's", t->id,
                         c->cc->actor.party);
        if (c->rc != CC_OK) {
            c->found.found = true;
            return 1;
        }
    }
    return transfer_found(&c->found, t);
}

enum cc_err concord_transfer_get(struct concord *cc, const char *id, store_transfer_fn fn,
                                 void *ctx, struct cc_error *err)
{
    struct transfer_check c = {.cc = cc, .err = err,
                               .found = {.ctx = ctx,
                                         .fn = (int (*)(void *, const void *))(void *)fn}};
    enum cc_err rc = cc->store->driver->transfer_get(cc->store, id, transfer_checked, &c, err);
    if (rc == CC_OK) rc = c.rc;
    if (rc == CC_OK && !c.found.found)
        return cc_error_set(err, CC_ERR_NOT_FOUND, "no transfer %s", id);
    return rc;
}

enum cc_err concord_history(struct concord *cc, const struct store_history_query *query,
                            store_transfer_fn fn, void *ctx, struct cc_error *err)
{
    if (query->limit == 0 || query->limit > STORE_HISTORY_LIMIT_MAX)
        return cc_error_set(err, CC_ERR_USAGE, "limit must be 1 … %d", STORE_LIST_LIMIT_MAX);
    enum cc_err rc = account_readable(cc, query->account, err);
    if (rc != CC_OK) return rc;
    return cc->store->driver->history(cc->store, query, fn, ctx, err);
}

enum cc_err concord_balance(struct concord *cc, const char *id, int64_t at, store_balance_fn fn,
                            void *ctx, struct cc_error *err)
{
    enum cc_err rc = account_readable(cc, id, err);
    if (rc != CC_OK) return rc;
    return cc->store->driver->balance(cc->store, id, at, fn, ctx, err);
}

enum cc_err concord_balance_any(struct concord *cc, const char *id, int64_t at,
                                store_balance_fn fn, void *ctx, struct cc_error *err)
{
    return cc->store->driver->balance(cc->store, id, at, fn, ctx, err);
}

enum cc_err concord_parties_list(struct concord *cc, store_party_fn fn, void *ctx,
                                 struct cc_error *err)
{
    return cc->store->driver->parties_list(cc->store, fn, ctx, err);
}

enum cc_err concord_audit_authorize(struct concord *cc, const char *path, struct cc_error *err)
{
    const char *proof_id;
    if (!auth_audit_path_allowed(&cc->actor, path, &proof_id))
        return cc_error_set(err, CC_ERR_FORBIDDEN, "a%s %s may not read %s",
                            cc->actor.role == AUTH_ROLE_EDITOR ? "n" : "",
                            auth_role_name(cc->actor.role), path);
    if (proof_id == NULL) return CC_OK;
    struct transfer_check c = {.cc = cc, .err = err}; /* found.fn NULL: only whether */
    enum cc_err rc = cc->store->driver->transfer_get(cc->store, proof_id, transfer_checked, &c,
                                                     err);
    if (rc == CC_OK) rc = c.rc;
    if (rc == CC_OK && !c.found.found)
        return cc_error_set(err, CC_ERR_NOT_FOUND, "no transfer %s", proof_id);
    return rc;
}

enum cc_err concord_balance_prefix(struct concord *cc, const char *prefix, int64_t at,
                                   store_balance_fn fn, void *ctx, struct cc_error *err)
{
    return cc->store->driver->balance_prefix(cc->store, prefix, at, fn, ctx, err);
}

static int scale_fn(void *ctx, const struct store_balance *balance)
{
    *(int32_t *)ctx = balance->scale;
    return 0;
}

enum cc_err concord_account_scale(struct concord *cc, const char *id, int32_t *scale,
                                  struct cc_error *err)
{
    return concord_balance(cc, id, INT64_MAX, scale_fn, scale, err);
}

enum cc_err concord_conditions(struct concord *cc, struct ledger_view *view,
                               struct cc_error *err)
{
    return cc->store->driver->load_conditions(cc->store, view, err);
}

enum cc_err concord_requirements(struct concord *cc, struct ledger_view *view,
                                 struct cc_error *err)
{
    return cc->store->driver->load_requirements(cc->store, view, err);
}

/* One page of account ids and units, copied out of the store's rows. */
#define ACCOUNTS_PAGE 1000

struct account_page {
    char ids[ACCOUNTS_PAGE][LEDGER_ID_BYTES_MAX + 1];
    char units[ACCOUNTS_PAGE][LEDGER_UNIT_CODE_BYTES_MAX + 1];
    uint32_t count;
};

static int account_page_add(void *ctx, const struct ledger_account *a)
{
    struct account_page *p = ctx;
    snprintf(p->ids[p->count], sizeof p->ids[0], "%s", a->id);
    snprintf(p->units[p->count], sizeof p->units[0], "%s", a->unit);
    p->count++;
    return 0;
}

enum cc_err concord_accounts_each(struct concord *cc, const char *prefix,
                                  concord_account_visit_fn fn, void *ctx, struct cc_error *err)
{
    struct account_page *page = malloc(sizeof *page);
    if (page == NULL) return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    char after[LEDGER_ID_BYTES_MAX + 1] = "";
    enum cc_err rc;
    do {
        page->count = 0;
        struct concord_scan scan;
        rc = concord_accounts_page(cc, prefix, after, ACCOUNTS_PAGE, account_page_add, page, &scan,
                                   err);
        for (uint32_t i = 0; rc == CC_OK && i < page->count; i++)
            rc = fn(ctx, page->ids[i], page->units[i], err);
        snprintf(after, sizeof after, "%s", scan.last);
        /* Rows of other parties are skipped: a full page scanned means there may be more. */
        if (rc == CC_OK && scan.read < ACCOUNTS_PAGE) break;
    } while (rc == CC_OK);
    free(page);
    return rc;
}
