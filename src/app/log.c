/*
 * log.c — the audit log: the key file, recording each batch (and each
 * token change, app/token.c), proofs, and the auditor's verification by
 * replay (see log.h).
 *
 * Recording reads only the latest checkpoint (its frontier) and the last
 * event's seq, encodes the body by hand into a reused buffer, hashes it
 * once, and signs one note: a few microseconds plus the hashing and the
 * writing of the body, whatever the size of the log.
 *
 * Verification works in three passes, each naming the first thing wrong:
 * (a) the events: seq contiguous from 1, leaf = hash of body, the body's seq
 * = the row's; (b) the checkpoints: one per event (sizes 1 … n), each signed,
 * its root and frontier those of the tree of its first `size` leaves, each
 * consistent with the one before, the last covering every event; (c) the
 * replay: every event applied to a fresh ledger in memory, as its actor, at
 * its time (a token's event to its tokens table), must give back its own
 * body (results included) and its ts_last, and then every table, tokens
 * included, must equal the ledger's, row by row.
 */
#include "app/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <zlib.h>

#include "fmt/event.h"
#include "util/timefmt.h"

#define KEY_NAME_RANDOM_BYTES 8   /* 16 hex digits after "concord/" */

/* ---------------------------------------------------------------- the key */

static void key_name(char out[AUDIT_NAME_BYTES_MAX + 1])
{
    unsigned char bytes[KEY_NAME_RANDOM_BYTES];
    randombytes_buf(bytes, sizeof bytes);
    size_t n = (size_t)snprintf(out, AUDIT_NAME_BYTES_MAX + 1, "%s", CONCORD_KEY_NAME_PREFIX);
    for (size_t i = 0; i < sizeof bytes; i++)
        n += (size_t)snprintf(out + n, AUDIT_NAME_BYTES_MAX + 1 - n, "%02x", bytes[i]);
}

static bool write_all(int fd, const char *text, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, text, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        text += w;
        n -= (size_t)w;
    }
    return true;
}

enum cc_err concord_key_create(const char *path, struct cc_error *err)
{
    char name[AUDIT_NAME_BYTES_MAX + 1];
    key_name(name);
    struct audit_signer signer;
    char text[AUDIT_KEY_TEXT_BYTES_MAX + 2];
    if (!audit_signer_generate(name, &signer) ||
        !audit_signer_format(&signer, text, sizeof text - 1))
        return cc_error_set(err, CC_ERR_SYSTEM, "%s: cannot generate a signing key", path);
    sodium_memzero(&signer, sizeof signer);
    strcat(text, "\n");
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        sodium_memzero(text, sizeof text);
        if (errno == EEXIST)
            return cc_error_set(err, CC_ERR_STORE, "%s: a file is already there; refusing to "
                                                   "replace it with a new audit key", path);
        return cc_error_set(err, CC_ERR_SYSTEM, "%s: cannot create the audit key: %s", path,
                            strerror(errno));
    }
    bool ok = write_all(fd, text, strlen(text)) && fsync(fd) == 0;
    int saved = errno;
    ok = close(fd) == 0 && ok;
    sodium_memzero(text, sizeof text);
    if (ok) return CC_OK;
    unlink(path);
    return cc_error_set(err, CC_ERR_SYSTEM, "%s: cannot write the audit key: %s", path,
                        strerror(saved));
}

enum cc_err concord_key_ensure(const char *path, struct cc_error *err)
{
    struct stat st;
    if (lstat(path, &st) == 0) return CC_OK;
    enum cc_err rc = concord_key_create(path, err);
    if (rc != CC_OK && lstat(path, &st) == 0) return CC_OK; /* created by another process */
    return rc;
}

/* Reads a small text file whole, without its trailing newline. false with errno set. */
static bool read_small(const char *path, char *out, size_t size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) return false;
    size_t n = fread(out, 1, size - 1, f);
    bool ok = !ferror(f) && (n < size - 1 || feof(f) || fgetc(f) == EOF);
    fclose(f);
    if (!ok) {
        errno = EFBIG;
        return false;
    }
    out[n] = '\0';
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r')) out[--n] = '\0';
    return true;
}

enum cc_err concord_key_load(const char *path, struct audit_signer *out, struct cc_error *err)
{
    char text[CONCORD_KEY_FILE_BYTES_MAX];
    if (!read_small(path, text, sizeof text))
        return cc_error_set(err, CC_ERR_STORE,
                            "audit key %s: cannot read it: %s (every event is signed with the "
                            "ledger's key; restore it from its backup)",
                            path, strerror(errno));
    char message[128] = "";
    bool ok = audit_signer_parse(text, out, message, sizeof message);
    sodium_memzero(text, sizeof text);
    if (!ok)
        return cc_error_set(err, CC_ERR_STORE, "audit key %s: not a signing key: %s", path,
                            message);
    return CC_OK;
}

enum cc_err concord_key_verifier(struct concord *cc, struct audit_verifier *out,
                                 struct cc_error *err)
{
    if (cc->key_path == NULL)
        return cc_error_set(err, CC_ERR_USAGE, "this ledger was opened without its audit key");
    struct audit_signer signer;
    enum cc_err rc = concord_key_load(cc->key_path, &signer, err);
    if (rc != CC_OK) return rc;
    audit_verifier_of(&signer, out);
    sodium_memzero(&signer, sizeof signer);
    return CC_OK;
}

enum cc_err concord_verifier_read(const char *text_or_path, struct audit_verifier *out,
                                  struct cc_error *err)
{
    char message[128] = "";
    if (audit_verifier_parse(text_or_path, out, message, sizeof message)) return CC_OK;
    char text[CONCORD_KEY_FILE_BYTES_MAX];
    if (!read_small(text_or_path, text, sizeof text))
        return cc_error_set(err, CC_ERR_USAGE, "--key: neither a verifier key (%s) nor a file "
                                               "holding one (%s)", message, strerror(errno));
    if (!audit_verifier_parse(text, out, message, sizeof message))
        return cc_error_set(err, CC_ERR_USAGE, "%s: not a verifier key: %s", text_or_path,
                            message);
    return CC_OK;
}

/* ---------------------------------------------------------------- recording */

/* The log's head: the latest checkpoint's frontier. */
struct head {
    struct audit_frontier frontier;
    bool found, damaged;
};

static int head_fn(void *ctx, const struct store_checkpoint *c)
{
    struct head *h = ctx;
    h->found = true;
    h->damaged = !audit_frontier_decode(c->frontier, c->frontier_size, &h->frontier) ||
                 h->frontier.size != (uint64_t)c->size;
    return 1;
}

static enum cc_err signer_loaded(struct concord *cc, struct cc_error *err)
{
    if (cc->signer != NULL) return CC_OK;
    struct audit_signer *signer = malloc(sizeof *signer);
    if (signer == NULL) return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    enum cc_err rc = concord_key_load(cc->key_path, signer, err);
    if (rc != CC_OK) {
        free(signer);
        return rc;
    }
    cc->signer = signer;
    return CC_OK;
}

/* Reads the head and checks it agrees with the events: the next seq, or an error. */
static enum cc_err log_head(struct concord *cc, struct head *h, struct cc_error *err)
{
    const struct store_driver *d = cc->store->driver;
    memset(h, 0, sizeof *h);
    audit_frontier_init(&h->frontier);
    int64_t last = 0;
    enum cc_err rc = d->checkpoint_get(cc->store, 0, head_fn, h, err);
    if (rc == CC_OK) rc = d->events_last(cc->store, &last, err);
    if (rc != CC_OK) return rc;
    if (h->damaged || (uint64_t)last != h->frontier.size || last >= INT64_MAX)
        return cc_error_set(err, CC_ERR_STORE,
                            "the audit log is damaged: %lld events, the latest checkpoint "
                            "covers %llu (run concord verify)",
                            (long long)last, (unsigned long long)h->frontier.size);
    return CC_OK;
}

/*
 * Encodes the event, hashes it, extends the tree and signs the checkpoint:
 * pure computation over the batch's operations and results, which nothing
 * changes any more, so it may run beside the store's write of the rows.
 */
static void *log_compute(void *arg)
{
    struct concord_log_pending *p = arg;
    struct concord *cc = p->cc;
    const char *role = auth_role_name(cc->actor.role);
    struct event e = {.seq = p->seq, .time = p->batch.now, .user = cc->actor.user, .role = role,
                      .party = cc->actor.party, .ops = p->batch.ops, .results = p->batch.results,
                      .count = p->batch.count, .expired = p->batch.expired,
                      .expired_count = p->batch.expired_count, .settled = p->batch.settled,
                      .settled_count = p->batch.settled_count, .expansion = p->batch.expansion};
    event_buffer_init(&p->actor);
    event_encode_actor(&p->actor, cc->actor.user, role, cc->actor.party);
    if (!event_encode(&cc->event, &e) || p->actor.failed) {
        p->failure = "out of memory recording the audit event";
        return NULL;
    }
    audit_leaf_hash(cc->event.data, cc->event.length, p->leaf);
    audit_frontier_append(&p->frontier, p->leaf);
    if (cc->event.length >= CONCORD_LOG_DEFLATE_BYTES_MIN) {
        uLongf size = compressBound((uLong)cc->event.length);
        p->deflated = malloc(size);
        if (p->deflated != NULL &&
            compress2(p->deflated, &size, (const Bytef *)cc->event.data,
                      (uLong)cc->event.length, Z_BEST_SPEED) == Z_OK &&
            size < cc->event.length) {
            p->deflated_size = size;
        } else { /* stored as it is: deflating is a saving, not a duty */
            free(p->deflated);
            p->deflated = NULL;
        }
    }
    struct audit_checkpoint cp = {.size = (uint64_t)p->seq};
    snprintf(cp.origin, sizeof cp.origin, "%s", cc->signer->name);
    audit_frontier_root(&p->frontier, cp.root);
    memcpy(p->root, cp.root, sizeof p->root);
    p->note_size = audit_checkpoint_sign(cc->signer, &cp, p->note, sizeof p->note);
    p->frontier_size = audit_frontier_encode(&p->frontier, p->frontier_bytes,
                                             sizeof p->frontier_bytes);
    if (p->note_size == 0 || p->frontier_size == 0) p->failure = "cannot sign the checkpoint";
    return NULL;
}

enum cc_err concord_log_start(struct concord *cc, const struct concord_batch *batch,
                              struct concord_log_pending *p, struct cc_error *err)
{
    memset(p, 0, sizeof *p);
    p->cc = cc;
    p->batch = *batch;
    struct head h;
    enum cc_err rc = signer_loaded(cc, err);
    if (rc == CC_OK) rc = log_head(cc, &h, err);
    if (rc != CC_OK) return rc;
    p->seq = (int64_t)h.frontier.size + 1;
    p->frontier = h.frontier;
    /* Large batches hash beside the write; a thread costs more than a small one's event. */
    p->threaded = batch->count >= CONCORD_LOG_THREAD_OPS_MIN &&
                  pthread_create(&p->thread, NULL, log_compute, p) == 0;
    if (!p->threaded) log_compute(p);
    p->started = true;
    return CC_OK;
}

enum cc_err concord_log_finish(struct concord *cc, struct concord_log_pending *p, bool append,
                               struct cc_error *err)
{
    if (!p->started) return CC_OK;
    if (p->threaded) pthread_join(p->thread, NULL);
    p->started = false;
    enum cc_err rc = CC_OK;
    if (p->failure != NULL)
        rc = cc_error_set(err, CC_ERR_SYSTEM, "audit log: %s", p->failure);
    if (rc == CC_OK && append) {
        struct store_event row = {.seq = p->seq, .time = p->batch.now,
                                  .ts_last = cc->view.timestamp_last, .actor = p->actor.data,
                                  .body = p->deflated != NULL ? (const char *)p->deflated
                                                              : cc->event.data,
                                  .body_size = p->deflated != NULL ? p->deflated_size
                                                                   : cc->event.length,
                                  .leaf = p->leaf, .leaf_size = sizeof p->leaf};
        struct store_checkpoint c = {.size = p->seq, .time = p->batch.now, .root = p->root,
                                     .root_size = sizeof p->root, .frontier = p->frontier_bytes,
                                     .frontier_size = p->frontier_size, .note = p->note};
        rc = cc->store->driver->event_append(cc->store, &row, &c, err);
    }
    event_buffer_free(&p->actor);
    free(p->deflated);
    p->deflated = NULL;
    return rc;
}

enum cc_err concord_log_record(struct concord *cc, const struct concord_batch *batch,
                               struct cc_error *err)
{
    struct concord_log_pending *p = malloc(sizeof *p);
    if (p == NULL) return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    enum cc_err rc = concord_log_start(cc, batch, p, err);
    if (rc == CC_OK) rc = concord_log_finish(cc, p, true, err);
    free(p);
    return rc;
}

/* ---------------------------------------------------------------- reads */

static int checkpoint_copy(void *ctx, const struct store_checkpoint *c)
{
    struct concord_checkpoint *out = ctx;
    out->size = c->size;
    out->time = c->time;
    memset(out->root, 0, sizeof out->root);
    if (c->root_size == sizeof out->root) memcpy(out->root, c->root, sizeof out->root);
    snprintf(out->note, sizeof out->note, "%s", c->note);
    return 1;
}

enum cc_err concord_log_checkpoint(struct concord *cc, int64_t size,
                                   struct concord_checkpoint *out, struct cc_error *err)
{
    memset(out, 0, sizeof *out);
    enum cc_err rc = cc->store->driver->checkpoint_get(cc->store, size, checkpoint_copy, out, err);
    if (rc == CC_OK && out->size == 0) {
        if (size == 0) return cc_error_set(err, CC_ERR_NOT_FOUND, "the audit log is empty");
        return cc_error_set(err, CC_ERR_NOT_FOUND, "no checkpoint of size %lld", (long long)size);
    }
    return rc;
}

/* The leaf hashes (and times) of the first events, in seq order. */
struct leaves {
    uint8_t (*hash)[AUDIT_HASH_BYTES];
    int64_t *time;
    int64_t count, capacity;
    bool failed;    /* out of memory */
    bool damaged;   /* a seq out of order or a leaf of the wrong size */
};

static void leaves_free(struct leaves *l)
{
    free(l->hash);
    free(l->time);
}

static int leaf_add(void *ctx, const struct store_event *e)
{
    struct leaves *l = ctx;
    if (e->seq != l->count + 1 || e->leaf_size != AUDIT_HASH_BYTES) {
        l->damaged = true;
        return 1;
    }
    if (l->count == l->capacity) {
        int64_t capacity = l->capacity ? l->capacity * 2 : 1024;
        void *h = realloc(l->hash, (size_t)capacity * AUDIT_HASH_BYTES);
        if (h != NULL) l->hash = h;
        void *t = realloc(l->time, (size_t)capacity * sizeof *l->time);
        if (t != NULL) l->time = t;
        if (h == NULL || t == NULL) {
            l->failed = true;
            return 1;
        }
        l->capacity = capacity;
    }
    memcpy(l->hash[l->count], e->leaf, AUDIT_HASH_BYTES);
    l->time[l->count] = e->time;
    l->count++;
    return 0;
}

static enum cc_err leaves_load(struct concord *cc, int64_t size, struct leaves *l,
                               struct cc_error *err)
{
    memset(l, 0, sizeof *l);
    enum cc_err rc = cc->store->driver->leaves_each(cc->store, size, leaf_add, l, err);
    if (rc == CC_OK && l->failed) rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    if (rc == CC_OK && (l->damaged || l->count != size))
        rc = cc_error_set(err, CC_ERR_STORE, "the audit log is damaged: events are missing "
                                             "(run concord verify)");
    if (rc != CC_OK) leaves_free(l);
    return rc;
}

struct event_found {
    int64_t seq;
    char *body;
    size_t body_size;
};

static int event_copy(void *ctx, const struct store_event *e)
{
    struct event_found *f = ctx;
    f->seq = e->seq;
    f->body = malloc(e->body_size + 1);
    if (f->body == NULL) return 1;
    memcpy(f->body, e->body, e->body_size);
    f->body[e->body_size] = '\0';
    f->body_size = e->body_size;
    return 1;
}

static int timestamp_of(void *ctx, const struct ledger_transfer *t)
{
    *(int64_t *)ctx = t->timestamp;
    return 0;
}

/*
 * The proof of the event `found` (found->body taken over when the caller
 * reads every row) against the latest checkpoint; transfer_id is the
 * transfer it proves, or "" for an event's own proof.
 */
static enum cc_err proof_of_event(struct concord *cc, struct event_found *found,
                                  const char *transfer_id, struct proof *out,
                                  struct cc_error *err)
{
    struct concord_checkpoint *cp = malloc(sizeof *cp);
    enum cc_err rc = cp != NULL ? concord_log_checkpoint(cc, 0, cp, err)
                                : cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    if (rc == CC_OK && found->seq > cp->size)
        rc = cc_error_set(err, CC_ERR_STORE, "the audit log is damaged: event %lld is not "
                                             "covered by the latest checkpoint",
                          (long long)found->seq);
    struct leaves l = {0};
    if (rc == CC_OK) rc = leaves_load(cc, cp->size, &l, err);
    if (rc == CC_OK) {
        snprintf(out->transfer_id, sizeof out->transfer_id, "%s", transfer_id);
        out->leaf_index = (uint64_t)(found->seq - 1);
        out->tree_size = (uint64_t)cp->size;
        memcpy(out->leaf_hash, l.hash[found->seq - 1], AUDIT_HASH_BYTES);
        out->hashes_count = audit_inclusion_proof((const uint8_t(*)[AUDIT_HASH_BYTES])l.hash,
                                                  out->tree_size, out->leaf_index, out->hashes);
        out->checkpoint = strdup(cp->note);
        /* The event holds every operation of its batch, other parties' too. */
        if (auth_reads_everything(&cc->actor)) {
            out->event = found->body;
            out->event_size = found->body_size;
            found->body = NULL;
        }
        leaves_free(&l);
        if (out->checkpoint == NULL) rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    }
    free(cp);
    if (rc != CC_OK) proof_free(out);
    return rc;
}

enum cc_err concord_log_proof(struct concord *cc, const char *id, struct proof *out,
                              struct cc_error *err)
{
    memset(out, 0, sizeof *out);
    int64_t timestamp = 0;
    enum cc_err rc = concord_transfer_get(cc, id, timestamp_of, &timestamp, err);
    if (rc != CC_OK) return rc;
    struct event_found found = {0};
    rc = cc->store->driver->event_at(cc->store, timestamp, event_copy, &found, err);
    if (rc == CC_OK && found.body == NULL)
        rc = cc_error_set(err, CC_ERR_NOT_FOUND, "transfer %s is in no event of the audit log",
                          id);
    if (rc == CC_OK) rc = proof_of_event(cc, &found, id, out, err);
    free(found.body);
    return rc;
}

enum cc_err concord_log_event_proof(struct concord *cc, int64_t seq, struct proof *out,
                                    struct cc_error *err)
{
    memset(out, 0, sizeof *out);
    if (!auth_reads_everything(&cc->actor))
        return cc_error_set(err, CC_ERR_FORBIDDEN, "a%s %s may not read the event log",
                            cc->actor.role == AUTH_ROLE_EDITOR ? "n" : "",
                            auth_role_name(cc->actor.role));
    if (seq < 1) return cc_error_set(err, CC_ERR_USAGE, "an event's seq is an integer ≥ 1");
    struct event_found found = {0};
    enum cc_err rc = cc->store->driver->events_each(cc->store, seq - 1, 1, event_copy, &found, err);
    if (rc == CC_OK && (found.body == NULL || found.seq != seq))
        rc = cc_error_set(err, CC_ERR_NOT_FOUND, "the audit log has no event %lld",
                          (long long)seq);
    if (rc == CC_OK) rc = proof_of_event(cc, &found, "", out, err);
    free(found.body);
    return rc;
}

enum cc_err concord_log_consistency(struct concord *cc, int64_t from, int64_t to,
                                    struct concord_consistency *out, struct cc_error *err)
{
    memset(out, 0, sizeof *out);
    if (from < 1) return cc_error_set(err, CC_ERR_USAGE, "--from must be a checkpoint size ≥ 1");
    enum cc_err rc = concord_log_checkpoint(cc, to, &out->to, err);
    if (rc == CC_OK) rc = concord_log_checkpoint(cc, from, &out->from, err);
    if (rc == CC_OK && from > out->to.size)
        rc = cc_error_set(err, CC_ERR_USAGE, "--from %lld is after --to %lld", (long long)from,
                          (long long)out->to.size);
    struct leaves l;
    if (rc == CC_OK) rc = leaves_load(cc, out->to.size, &l, err);
    if (rc != CC_OK) return rc;
    out->count = audit_consistency_proof((const uint8_t(*)[AUDIT_HASH_BYTES])l.hash,
                                         (uint64_t)out->to.size, (uint64_t)from, out->hashes);
    leaves_free(&l);
    return CC_OK;
}

enum cc_err concord_log_events(struct concord *cc, int64_t after, uint32_t limit,
                               store_event_fn fn, void *ctx, struct cc_error *err)
{
    if (after < 0) return cc_error_set(err, CC_ERR_USAGE, "after must be a seq ≥ 0");
    return cc->store->driver->events_each(cc->store, after, limit, fn, ctx, err);
}

/* ---------------------------------------------------------------- checking a proof */

static bool check_fail(char *message, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool check_fail(char *message, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (size > 0) vsnprintf(message, size, fmt, ap);
    va_end(ap);
    return false;
}

/* Does the event's array `key` hold the string text[0..n)? */
static bool listed(const json_t *event, const char *key, const char *text, size_t n)
{
    size_t i;
    const json_t *x;
    json_array_foreach(json_object_get(event, key), i, x)
        if (json_string_length(x) == n && memcmp(json_string_value(x), text, n) == 0)
            return true;
    return false;
}

static bool ends_with(const char *id, const char *suffix)
{
    size_t n = strlen(id), m = strlen(suffix);
    return n > m && strcmp(id + n - m, suffix) == 0;
}

/*
 * Is id a record the ledger made itself in this event? X/expiry when X is in
 * "expired"; X/condition and X/approval when they are in "settled", the
 * records the batch's rules created.
 */
static bool made_by_event(const json_t *event, const char *id)
{
    size_t n = strlen(id);
    if (ends_with(id, LEDGER_EXPIRY_SUFFIX))
        return listed(event, "expired", id, n - strlen(LEDGER_EXPIRY_SUFFIX));
    if (ends_with(id, LEDGER_CONDITION_SUFFIX) || ends_with(id, LEDGER_APPROVAL_SUFFIX))
        return listed(event, "settled", id, n);
    return false;
}

/* Does the event create transfer id: a transfer, post or void `created`, or a record of its own? */
static bool event_records(const json_t *event, const char *id)
{
    const json_t *ops = json_object_get(event, "ops");
    const json_t *results = json_object_get(event, "results");
    for (size_t i = 0; i < json_array_size(ops); i++) {
        const json_t *op = json_array_get(ops, i);
        const char *name = json_string_value(json_object_get(op, "op"));
        const char *op_id = json_string_value(json_object_get(op, "id"));
        const char *status =
            json_string_value(json_object_get(json_array_get(results, i), "status"));
        if (name == NULL || op_id == NULL || status == NULL || strcmp(op_id, id) != 0) continue;
        bool moves = strcmp(name, "transfer") == 0 || strcmp(name, "post") == 0 ||
                     strcmp(name, "void") == 0;
        if (moves && strcmp(status, "created") == 0) return true;
    }
    /* A domain operation lists the transfers its steps created. */
    for (size_t i = 0; i < json_array_size(results); i++) {
        const json_t *r = json_array_get(results, i);
        const char *status = json_string_value(json_object_get(r, "status"));
        if (status == NULL || strcmp(status, "created") != 0) continue;
        size_t k;
        const json_t *record;
        json_array_foreach(json_object_get(r, "records"), k, record)
            if (json_is_string(record) && strcmp(json_string_value(record), id) == 0) return true;
    }
    return made_by_event(event, id);
}

static bool event_check(const struct proof *p, char *message, size_t size)
{
    uint8_t leaf[AUDIT_HASH_BYTES];
    audit_leaf_hash(p->event, p->event_size, leaf);
    if (sodium_memcmp(leaf, p->leaf_hash, sizeof leaf) != 0)
        return check_fail(message, size, "%s", "the event's hash is not leaf_hash: the event "
                                               "text was altered");
    json_error_t jerr;
    json_t *event = json_loadb(p->event, p->event_size, JSON_REJECT_DUPLICATES, &jerr);
    if (event == NULL) return check_fail(message, size, "event: not JSON: %s", jerr.text);
    const json_t *seq = json_object_get(event, "seq");
    bool ok = json_is_integer(seq) && (uint64_t)json_integer_value(seq) == p->leaf_index + 1;
    if (!ok)
        check_fail(message, size, "%s", "the event's seq is not leaf_index + 1");
    else if (p->transfer_id[0] != '\0' && !(ok = event_records(event, p->transfer_id)))
        check_fail(message, size, "the event does not record transfer %s", p->transfer_id);
    json_decref(event);
    return ok;
}

bool concord_proof_check(const struct proof *p, const struct audit_verifier *v, char *message,
                         size_t size)
{
    struct audit_checkpoint cp;
    char why[256] = "";
    if (!audit_checkpoint_open(p->checkpoint, strlen(p->checkpoint), v, &cp, why, sizeof why))
        return check_fail(message, size, "checkpoint: %s", why);
    if (cp.size != p->tree_size)
        return check_fail(message, size, "%s", "tree_size is not the checkpoint's size");
    if (p->leaf_index >= p->tree_size)
        return check_fail(message, size, "%s", "leaf_index is not inside the tree");
    if (!audit_inclusion_verify(p->leaf_index, p->tree_size, p->leaf_hash,
                                (const uint8_t(*)[AUDIT_HASH_BYTES])p->hashes, p->hashes_count,
                                cp.root))
        return check_fail(message, size, "%s", "the hashes do not lead from leaf_hash to the "
                                               "checkpoint's root");
    if (p->event != NULL) return event_check(p, message, size);
    return true;
}
