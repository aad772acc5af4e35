/*
 * verify.c — concord_log_verify(): an auditor's check of a whole ledger
 * against its audit log (see log.h for what is checked, in which order).
 *
 * The replay runs in a second, in-memory ledger opened without a log,
 * stepping its clock to each event's time and acting as each event's actor,
 * so the engine takes exactly the decisions it took the first time. An
 * event of a token's creation or revocation (app/token.h) is replayed by
 * concord_token_replay into the replay's tokens table instead of as a
 * batch. The tables (tokens included) are then compared with the ledger's
 * by the store (compare_tables), which attaches the ledger's file read-only.
 *
 * concord_consistency_check() is the offline half of an auditor's work: a
 * consistency proof checked with the verifier key alone, no database.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "app/log.h"
#include "app/token.h"
#include "fmt/event.h"

#define REPLAY_DATABASE ":memory:"
#define VERIFY_CONTEXT_BYTES 48 /* text shown around the byte where two bodies differ */

struct verify {
    struct concord *cc;
    struct concord_verify_report *report;
    const struct audit_verifier *verifier;
    uint8_t (*leaves)[AUDIT_HASH_BYTES]; /* of events 1 … events */
    int64_t *times;
    int64_t capacity;
    /* checkpoints */
    struct audit_frontier frontier;       /* over the leaves up to the last checkpoint seen */
    int64_t previous_size;
    uint8_t previous_root[AUDIT_HASH_BYTES];
    /* replay */
    struct concord *replay;
    int64_t replay_time;
    struct arena arena;
    struct event_buffer body;
    struct ledger_result *results;
    size_t results_capacity;
    enum cc_err error;                    /* the check itself failed */
    struct cc_error *err;
};

/* Records the first problem found; later ones are not reported. */
static int problem(struct verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int problem(struct verify *v, const char *fmt, ...)
{
    if (v->report->problem[0] != '\0') return 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->report->problem, sizeof v->report->problem, fmt, ap);
    va_end(ap);
    return 1;
}

static int fatal(struct verify *v, enum cc_err rc)
{
    v->error = rc;
    return 1;
}

static bool stopped(const struct verify *v)
{
    return v->error != CC_OK || v->report->problem[0] != '\0';
}

/* ---------------------------------------------------------------- (a) the events */

/* The seq a body states in its first field, or -1. */
static int64_t body_seq(const char *body, size_t n)
{
    static const char prefix[] = "{\"seq\":";
    size_t p = sizeof prefix - 1;
    if (n < p || memcmp(body, prefix, p) != 0 || p == n || body[p] < '1' || body[p] > '9')
        return -1;
    int64_t seq = 0;
    for (; p < n && body[p] >= '0' && body[p] <= '9'; p++) {
        if (seq > (INT64_MAX - 9) / 10) return -1;
        seq = seq * 10 + (body[p] - '0');
    }
    return p < n && body[p] == ',' ? seq : -1;
}

static bool leaves_grow(struct verify *v)
{
    if (v->report->events < v->capacity) return true;
    int64_t capacity = v->capacity ? v->capacity * 2 : 1024;
    void *h = realloc(v->leaves, (size_t)capacity * AUDIT_HASH_BYTES);
    if (h != NULL) v->leaves = h;
    void *t = realloc(v->times, (size_t)capacity * sizeof *v->times);
    if (t != NULL) v->times = t;
    if (h == NULL || t == NULL) return false;
    v->capacity = capacity;
    return true;
}

static int event_scan(void *ctx, const struct store_event *e)
{
    struct verify *v = ctx;
    int64_t expected = v->report->events + 1;
    if (e->seq != expected)
        return problem(v, "event %lld: missing (the log goes from event %lld to %lld)",
                       (long long)expected, (long long)expected - 1, (long long)e->seq);
    uint8_t leaf[AUDIT_HASH_BYTES];
    audit_leaf_hash(e->body, e->body_size, leaf);
    if (e->leaf_size != AUDIT_HASH_BYTES || sodium_memcmp(leaf, e->leaf, sizeof leaf) != 0)
        return problem(v, "event %lld: leaf hash does not match its body", (long long)e->seq);
    if (body_seq(e->body, e->body_size) != e->seq)
        return problem(v, "event %lld: its body records another seq (%lld)", (long long)e->seq,
                       (long long)body_seq(e->body, e->body_size));
    if (!leaves_grow(v))
        return fatal(v, cc_error_set(v->err, CC_ERR_NOMEM, "out of memory"));
    memcpy(v->leaves[e->seq - 1], leaf, sizeof leaf);
    v->times[e->seq - 1] = e->time;
    v->report->events = e->seq;
    return 0;
}

/* ---------------------------------------------------------------- (b) the checkpoints */

static int checkpoint_scan(void *ctx, const struct store_checkpoint *c)
{
    struct verify *v = ctx;
    long long size = (long long)c->size;
    if (c->size != v->previous_size + 1)
        return problem(v, "checkpoint %lld: missing (the checkpoints go from %lld to %lld)",
                       (long long)v->previous_size + 1, (long long)v->previous_size, size);
    if (c->size > v->report->events)
        return problem(v, "checkpoint %lld: covers more events than the log holds (%lld)", size,
                       (long long)v->report->events);
    struct audit_checkpoint note;
    char why[256] = "";
    if (!audit_checkpoint_open(c->note, strlen(c->note), v->verifier, &note, why, sizeof why))
        return problem(v, "checkpoint %lld: signature does not verify (%s)", size, why);
    if (note.size != (uint64_t)c->size)
        return problem(v, "checkpoint %lld: its signed note is of size %llu", size,
                       (unsigned long long)note.size);
    if (c->root_size != AUDIT_HASH_BYTES || memcmp(c->root, note.root, AUDIT_HASH_BYTES) != 0)
        return problem(v, "checkpoint %lld: root does not match its signed note", size);
    audit_frontier_append(&v->frontier, v->leaves[c->size - 1]);
    uint8_t root[AUDIT_HASH_BYTES], frontier[AUDIT_FRONTIER_BYTES_MAX];
    audit_frontier_root(&v->frontier, root);
    if (memcmp(root, note.root, sizeof root) != 0)
        return problem(v, "checkpoint %lld: root is not that of the first %lld events", size,
                       size);
    size_t n = audit_frontier_encode(&v->frontier, frontier, sizeof frontier);
    if (n != c->frontier_size || memcmp(frontier, c->frontier, n) != 0)
        return problem(v, "checkpoint %lld: frontier does not match the tree", size);
    if (c->time != v->times[c->size - 1])
        return problem(v, "checkpoint %lld: time is not that of event %lld", size, size);
    if (v->previous_size > 0) {
        uint8_t proof[AUDIT_PROOF_HASHES_MAX][AUDIT_HASH_BYTES];
        const uint8_t(*leaves)[AUDIT_HASH_BYTES] = (const uint8_t(*)[AUDIT_HASH_BYTES])v->leaves;
        size_t count = audit_consistency_proof(leaves, (uint64_t)c->size,
                                               (uint64_t)v->previous_size, proof);
        if (!audit_consistency_verify((uint64_t)v->previous_size, (uint64_t)c->size,
                                      v->previous_root, root,
                                      (const uint8_t(*)[AUDIT_HASH_BYTES])proof, count))
            return problem(v, "checkpoint %lld: not consistent with checkpoint %lld", size,
                           (long long)v->previous_size);
    }
    memcpy(v->previous_root, root, sizeof root);
    v->previous_size = c->size;
    v->report->checkpoints++;
    return 0;
}

/* ---------------------------------------------------------------- (c) the replay */

static int64_t replay_clock(void *ctx) { return ((struct verify *)ctx)->replay_time; }

static bool results_room(struct verify *v, size_t count)
{
    if (count <= v->results_capacity) return true;
    struct ledger_result *grown = realloc(v->results, count * sizeof *grown);
    if (grown == NULL) return false;
    v->results = grown;
    v->results_capacity = count;
    return true;
}

/* Where two bodies first differ, shown as text around that byte. */
static int body_differs(struct verify *v, int64_t seq, const char *recorded, size_t n,
                        const char *replayed, size_t m)
{
    size_t at = 0;
    while (at < n && at < m && recorded[at] == replayed[at]) at++;
    size_t from = at > VERIFY_CONTEXT_BYTES / 2 ? at - VERIFY_CONTEXT_BYTES / 2 : 0;
    int a = (int)((n - from) < VERIFY_CONTEXT_BYTES ? n - from : VERIFY_CONTEXT_BYTES);
    int b = (int)((m - from) < VERIFY_CONTEXT_BYTES ? m - from : VERIFY_CONTEXT_BYTES);
    return problem(v, "event %lld: replaying it does not give what it records (at byte %zu: "
                      "recorded …%.*s…, replayed …%.*s…)",
                   (long long)seq, at, a, recorded + from, b, replayed + from);
}

/* Checks the row's columns against its body, then sets the replay's actor and clock. */
static bool replay_prepare(struct verify *v, const struct store_event *e,
                           const struct event_decoded *d)
{
    long long seq = (long long)e->seq;
    if (d->time != e->time) return problem(v, "event %lld: time does not match its body", seq), false;
    struct event_buffer actor;
    event_buffer_init(&actor);
    event_encode_actor(&actor, d->user, d->role, d->party);
    bool same = !actor.failed && strcmp(actor.data, e->actor) == 0;
    event_buffer_free(&actor);
    if (!same) return problem(v, "event %lld: actor does not match its body", seq), false;
    struct auth_actor who = {0};
    snprintf(who.user, sizeof who.user, "%s", d->user);
    snprintf(who.party, sizeof who.party, "%s", d->party);
    if (!auth_role_parse(d->role, &who.role))
        return problem(v, "event %lld: unknown role %s", seq, d->role), false;
    concord_set_actor(v->replay, &who);
    v->replay->expansion = d->expansion; /* its domain operations taken apart as they were */
    v->replay_time = d->time;
    return true;
}

/* Does the event record a token's creation or revocation rather than a batch? */
static bool token_event(const struct event_decoded *d)
{
    if (d->count != 1 || !concord_token_op(&d->ops[0])) return false;
    /* A batch may carry an operation of that name too, but only ever refused. */
    const json_t *status = json_object_get(json_array_get(d->results, 0), "status");
    return json_is_string(status) && strcmp(json_string_value(status), "created") == 0;
}

static int replay_one(struct verify *v, const struct store_event *e, struct event_decoded *d)
{
    long long seq = (long long)e->seq;
    if (!replay_prepare(v, e, d)) return 1;
    if (!results_room(v, d->count ? d->count : 1))
        return fatal(v, cc_error_set(v->err, CC_ERR_NOMEM, "out of memory"));
    struct cc_error detail = {0};
    bool token = token_event(d);
    enum cc_err rc = token ? concord_token_replay(v->replay, &d->ops[0], v->results, &detail)
                           : concord_apply(v->replay, d->ops, d->count, v->results, &detail);
    if (rc != CC_OK) return problem(v, "event %lld: replaying it fails: %s", seq, detail.message);
    struct event again = {.seq = e->seq, .time = d->time, .user = d->user, .role = d->role,
                          .party = d->party, .ops = d->ops, .results = v->results,
                          .count = d->count};
    /* Written for a batch of domain operations only, as concord_apply writes it. */
    for (size_t i = 0; i < d->count && !token; i++)
        if (d->ops[i].type == LEDGER_OP_DOMAIN) again.expansion = d->expansion;
    if (!token) {
        again.expired = v->replay->expired;
        again.expired_count = v->replay->expired_count;
        again.settled = v->replay->settled;
        again.settled_count = v->replay->settled_count;
    }
    if (!event_encode(&v->body, &again))
        return fatal(v, cc_error_set(v->err, CC_ERR_NOMEM, "out of memory"));
    if (v->body.length != e->body_size || memcmp(v->body.data, e->body, e->body_size) != 0)
        return body_differs(v, e->seq, e->body, e->body_size, v->body.data, v->body.length);
    if (v->replay->view.timestamp_last != e->ts_last)
        return problem(v, "event %lld: ts_last is %lld in the log, %lld by the replay", seq,
                       (long long)e->ts_last, (long long)v->replay->view.timestamp_last);
    return 0;
}

static int event_replay(void *ctx, const struct store_event *e)
{
    struct verify *v = ctx;
    struct event_decoded d;
    char why[256] = "";
    arena_reset(&v->arena);
    int stop;
    if (!event_decode(e->body, e->body_size, &d, &v->arena, why, sizeof why))
        stop = problem(v, "event %lld: body is not an event: %s", (long long)e->seq, why);
    else if (d.seq != e->seq)
        stop = problem(v, "event %lld: its body records another seq", (long long)e->seq);
    else
        stop = replay_one(v, e, &d);
    event_decoded_free(&d);
    return stop;
}

/* ---------------------------------------------------------------- the whole check */

static enum cc_err verify_log(struct verify *v)
{
    const struct store_driver *d = v->cc->store->driver;
    struct cc_error *err = v->err;
    enum cc_err rc = d->events_each(v->cc->store, 0, 0, event_scan, v, err);
    if (rc != CC_OK || stopped(v)) return rc != CC_OK ? rc : v->error;
    audit_frontier_init(&v->frontier);
    rc = d->checkpoints_each(v->cc->store, checkpoint_scan, v, err);
    if (rc != CC_OK || stopped(v)) return rc != CC_OK ? rc : v->error;
    if (v->previous_size != v->report->events)
        problem(v, "checkpoint %lld: missing: the latest checkpoint covers %lld of %lld events",
                (long long)v->previous_size + 1, (long long)v->previous_size,
                (long long)v->report->events);
    return CC_OK;
}

static enum cc_err verify_replay(struct verify *v, const char *db_path)
{
    struct concord_options o = {.path = REPLAY_DATABASE, .mode = STORE_CREATE, .audit_off = true};
    enum cc_err rc = concord_open_options(&v->replay, &o, v->err);
    if (rc != CC_OK) return rc;
    concord_set_clock(v->replay, replay_clock, v);
    const struct store_driver *d = v->cc->store->driver;
    rc = d->events_each(v->cc->store, 0, 0, event_replay, v, v->err);
    if (rc != CC_OK || stopped(v)) return rc != CC_OK ? rc : v->error;
    bool same = true;
    struct store *replayed = v->replay->store;
    rc = replayed->driver->compare_tables(replayed, db_path, &same, v->report->problem,
                                          sizeof v->report->problem, v->err);
    if (rc == CC_OK && !same && v->report->events == 0) {
        size_t n = strlen(v->report->problem);
        snprintf(v->report->problem + n, sizeof v->report->problem - n,
                 " (the audit log is empty: these rows were written before the ledger kept "
                 "one, or the log was deleted)");
    }
    if (rc == CC_OK) rc = d->transfers_last(v->cc->store, &v->report->transfers, v->err);
    return rc;
}

enum cc_err concord_log_verify(struct concord *cc, const char *db_path,
                               const struct audit_verifier *verifier,
                               struct concord_verify_report *report, struct cc_error *err)
{
    memset(report, 0, sizeof *report);
    struct audit_verifier own;
    if (verifier == NULL) {
        enum cc_err rc = concord_key_verifier(cc, &own, err);
        if (rc != CC_OK) return rc;
        verifier = &own;
    }
    struct verify v = {.cc = cc, .report = report, .verifier = verifier, .err = err};
    arena_init(&v.arena);
    event_buffer_init(&v.body);
    enum cc_err rc = verify_log(&v);
    if (rc == CC_OK && !stopped(&v)) rc = verify_replay(&v, db_path);
    report->intact = rc == CC_OK && report->problem[0] == '\0';
    concord_close(v.replay);
    arena_free(&v.arena);
    event_buffer_free(&v.body);
    free(v.results);
    free(v.leaves);
    free(v.times);
    return rc;
}

/* ---------------------------------------------------------------- checking a consistency proof */

static bool consistency_fail(char *message, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool consistency_fail(char *message, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (size > 0) vsnprintf(message, size, fmt, ap);
    va_end(ap);
    return false;
}

bool concord_consistency_check(const struct proof_consistency *c,
                               const struct audit_verifier *verifier, char *message,
                               size_t size)
{
    struct audit_checkpoint older, newer;
    char why[256] = "";
    if (!audit_checkpoint_open(c->from_checkpoint, strlen(c->from_checkpoint), verifier, &older,
                               why, sizeof why))
        return consistency_fail(message, size, "from_checkpoint: %s", why);
    if (!audit_checkpoint_open(c->to_checkpoint, strlen(c->to_checkpoint), verifier, &newer, why,
                               sizeof why))
        return consistency_fail(message, size, "to_checkpoint: %s", why);
    if (strcmp(older.origin, newer.origin) != 0)
        return consistency_fail(message, size, "the checkpoints are of two logs: %s and %s",
                                older.origin, newer.origin);
    if (older.size != c->from)
        return consistency_fail(message, size, "from is %llu but from_checkpoint's size is %llu",
                                (unsigned long long)c->from, (unsigned long long)older.size);
    if (newer.size != c->to)
        return consistency_fail(message, size, "to is %llu but to_checkpoint's size is %llu",
                                (unsigned long long)c->to, (unsigned long long)newer.size);
    if (c->from == 0)
        return consistency_fail(message, size, "%s", "from is 0: the empty log proves nothing");
    if (c->from > c->to)
        return consistency_fail(message, size, "from (%llu) is greater than to (%llu)",
                                (unsigned long long)c->from, (unsigned long long)c->to);
    if (!audit_consistency_verify(c->from, c->to, older.root, newer.root,
                                  (const uint8_t(*)[AUDIT_HASH_BYTES])c->hashes, c->hashes_count))
        return consistency_fail(message, size,
                                "the hashes do not prove that the log of %llu events is a prefix "
                                "of the log of %llu",
                                (unsigned long long)c->from, (unsigned long long)c->to);
    return true;
}
