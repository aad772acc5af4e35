/*
 * log.h — the ledger's tamper-evident audit log: its signing key, the event
 * each batch (and each token's creation or revocation) appends, and the
 * reads and checks built on them.
 *
 * Every committed batch appends, in its own storage transaction, one event
 * (fmt/event.h: what was asked, by whom, when, and what came of it) whose
 * leaf hash extends a Merkle tree (audit/audit.h), and one checkpoint: the
 * tree's size and root in a note signed with the ledger's Ed25519 key. The
 * latest checkpoint row keeps the tree's frontier, so appending costs
 * O(log n) and never reads the older leaves. Creating or revoking an
 * access token appends an event of the same shape in the transaction that
 * writes the token's row (app/token.h).
 *
 * The key lives in a file beside the database (never inside it): the text
 * of audit_signer_format and a newline, mode 0600, named "concord/" and 16
 * random hex digits so that each ledger's checkpoints name their own log.
 * Reads never need it; a batch or token change that cannot read it commits
 * nothing.
 *
 * concord_log_verify() is what an auditor runs: the log's hashes and
 * signatures, then a replay of every event into an empty ledger in memory
 * whose every table (the tokens table included) must equal the real one's,
 * row by row.
 */
#ifndef CONCORD_APP_LOG_H
#define CONCORD_APP_LOG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/app.h"
#include "audit/audit.h"
#include "fmt/proof.h"

#define CONCORD_KEY_NAME_PREFIX "concord/"
#define CONCORD_KEY_FILE_BYTES_MAX 1024

/* ---- the key */

/* Creates the key file at path (mode 0600); refuses to replace any file there. */
enum cc_err concord_key_create(const char *path, struct cc_error *err);
/* Creates the key file unless a file is already at path. */
enum cc_err concord_key_ensure(const char *path, struct cc_error *err);
/* Reads the signing key at path. */
enum cc_err concord_key_load(const char *path, struct audit_signer *out, struct cc_error *err);
/* The verifier of cc's key (read from its file). */
enum cc_err concord_key_verifier(struct concord *cc, struct audit_verifier *out,
                                 struct cc_error *err);
/* A verifier key given as its text, or as the path of a file that holds it. */
enum cc_err concord_verifier_read(const char *text_or_path, struct audit_verifier *out,
                                  struct cc_error *err);

/* ---- recording (concord_apply) */

/* What one batch (or token change: one operation) did, for its event. */
struct concord_batch {
    const struct ledger_op *ops;
    const struct ledger_result *results;
    size_t count;
    const char *const *expired; /* pending ids expired by the batch */
    size_t expired_count;
    const char *const *settled; /* records of reason condition or approval it created */
    size_t settled_count;
    int64_t now;                /* the batch's clock */
    int expansion;              /* its domain operations' rule (EVENT_EXPANSION_*), 0: none */
};

/*
 * Appends the batch's event and checkpoint, inside the batch's transaction;
 * the event's ts_last is cc->view.timestamp_last.
 */
enum cc_err concord_log_record(struct concord *cc, const struct concord_batch *batch,
                               struct cc_error *err);

/*
 * The same in two halves, so that the event's encoding, hashing and signing
 * (several milliseconds for a batch of thousands of transfers) run on a
 * second thread while the store writes the batch's rows: start reads the
 * log's head and begins; finish waits, then appends (when `append`) the event
 * and checkpoint. Between the two the batch's operations, results,
 * expired and settled ids must not change. finish must follow every successful start.
 */
#define CONCORD_LOG_THREAD_OPS_MIN 512 /* smaller batches compute inline */
/*
 * An event body from this size on is stored deflated (zlib, fastest level):
 * canonical JSON shrinks to a fifth or so, and a large batch's event is most
 * of what the batch writes. Its leaf is still the hash of the JSON itself;
 * the store inflates it as it reads (store.h, "events").
 */
#define CONCORD_LOG_DEFLATE_BYTES_MIN 16384

struct concord_log_pending {
    struct concord *cc;
    struct concord_batch batch;
    int64_t seq;                            /* the event's */
    struct audit_frontier frontier;         /* the tree with the event */
    uint8_t leaf[AUDIT_HASH_BYTES];
    uint8_t root[AUDIT_HASH_BYTES];
    uint8_t frontier_bytes[AUDIT_FRONTIER_BYTES_MAX];
    size_t frontier_size;
    char note[AUDIT_NOTE_BYTES_MAX + 1];    /* the signed checkpoint */
    size_t note_size;
    struct event_buffer actor;              /* the actor object, as in the body */
    uint8_t *deflated;                      /* the body deflated, or NULL: stored as is */
    size_t deflated_size;
    const char *failure;                    /* set by the computation */
    pthread_t thread;
    bool threaded, started;
};

enum cc_err concord_log_start(struct concord *cc, const struct concord_batch *batch,
                              struct concord_log_pending *pending, struct cc_error *err);
enum cc_err concord_log_finish(struct concord *cc, struct concord_log_pending *pending,
                               bool append, struct cc_error *err);

/* ---- reads */

struct concord_checkpoint {
    int64_t size;
    int64_t time;
    uint8_t root[AUDIT_HASH_BYTES];
    char note[AUDIT_NOTE_BYTES_MAX + 1];
};

/* The checkpoint of `size` events, or the latest (size 0). CC_ERR_NOT_FOUND when none. */
enum cc_err concord_log_checkpoint(struct concord *cc, int64_t size,
                                   struct concord_checkpoint *out, struct cc_error *err);
/*
 * The inclusion proof of event seq against the latest checkpoint, with the
 * event's text; its transfer_id is empty. For the roles that read every row
 * only (the event holds every party's operations): CC_ERR_FORBIDDEN else.
 */
enum cc_err concord_log_event_proof(struct concord *cc, int64_t seq, struct proof *out,
                                    struct cc_error *err);
/* The inclusion proof of the event that created transfer id, against the latest checkpoint. */
enum cc_err concord_log_proof(struct concord *cc, const char *id, struct proof *out,
                              struct cc_error *err);

struct concord_consistency {
    struct concord_checkpoint from, to;
    uint8_t hashes[AUDIT_PROOF_HASHES_MAX][AUDIT_HASH_BYTES];
    size_t count;
};

/* The consistency proof between the checkpoints of sizes from and to (0: the latest). */
enum cc_err concord_log_consistency(struct concord *cc, int64_t from, int64_t to,
                                    struct concord_consistency *out, struct cc_error *err);
/* Events with seq > after, at most limit, in order. */
enum cc_err concord_log_events(struct concord *cc, int64_t after, uint32_t limit,
                               store_event_fn fn, void *ctx, struct cc_error *err);

/* ---- checks */

struct concord_verify_report {
    bool intact;
    int64_t events, checkpoints, transfers;
    char problem[CC_ERROR_MESSAGE_BYTES_MAX]; /* the first problem found, when not intact */
};

/*
 * Verifies the log of the ledger cc has open at db_path: events, checkpoints
 * (signed by verifier, or by cc's own key when NULL), and a replay compared
 * table by table. CC_OK with report->intact false names the first problem;
 * an error means the check itself could not run.
 */
enum cc_err concord_log_verify(struct concord *cc, const char *db_path,
                               const struct audit_verifier *verifier,
                               struct concord_verify_report *report, struct cc_error *err);

/*
 * Checks an inclusion proof with nothing but the verifier key: the note's
 * signature, sizes, the path to the root, and the event when present.
 * false with a message saying what does not hold.
 */
bool concord_proof_check(const struct proof *proof, const struct audit_verifier *verifier,
                         char *message, size_t message_size);

/*
 * Checks a consistency proof with nothing but the verifier key: both notes
 * open with it and name the same log, their sizes are from and to,
 * 0 < from ≤ to, and the hashes prove the older tree a prefix of the newer.
 * false with a message saying what does not hold.
 */
bool concord_consistency_check(const struct proof_consistency *proof,
                               const struct audit_verifier *verifier, char *message,
                               size_t message_size);

#endif
