/*
 * proof.h — the JSON of the audit log's proofs, as `concord proof` writes
 * them and `concord verify-proof` reads them.
 *
 * An inclusion proof:
 *
 *   {"transfer_id":"p-001","leaf_index":16,"tree_size":40,
 *    "leaf_hash":"<base64>","hashes":["<base64>",…],
 *    "checkpoint":"<the signed note>","event":"<the event body text>"}
 *
 * leaf_index is 0-based (the event's seq − 1); hashes hold the audit path of
 * RFC 6962 against the checkpoint's tree of tree_size leaves; "event" may be
 * left out. The proof of an event itself (`concord proof --seq`) has no
 * "transfer_id". Decoding is strict: every other field but "event" is required, no
 * other field is accepted, hashes are base64 of exactly 32 bytes, at most
 * AUDIT_PROOF_HASHES_MAX of them. A consistency proof is
 *
 *   {"from":N,"to":M,"hashes":["<base64>",…],
 *    "from_checkpoint":"<the signed note of N events>",
 *    "to_checkpoint":"<the signed note of M events>"}
 *
 * hashes hold PROOF(N, D[M]) of RFC 6962 2.1.2. Decoding is as strict: all
 * five fields required and no other, from and to integers in
 * 0 … AUDIT_TREE_SIZE_MAX, hashes as above, each note a string of at most
 * AUDIT_NOTE_BYTES_MAX bytes. Whether the numbers and notes agree, and
 * whether the proof holds, is for the checker (app/log.h), not the codec.
 */
#ifndef CONCORD_FMT_PROOF_H
#define CONCORD_FMT_PROOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "audit/audit.h"
#include "ledger/ledger.h"

#define PROOF_BYTES_MAX ((size_t)1 << 30) /* a proof file, its event included */
/* A consistency proof file: 64 hashes and two notes of 4096 bytes, even all \u-escaped, fit. */
#define PROOF_CONSISTENCY_BYTES_MAX ((size_t)1 << 20)

struct proof {
    char transfer_id[LEDGER_ID_BYTES_MAX + 1];
    uint64_t leaf_index;                 /* 0-based */
    uint64_t tree_size;
    uint8_t leaf_hash[AUDIT_HASH_BYTES];
    uint8_t hashes[AUDIT_PROOF_HASHES_MAX][AUDIT_HASH_BYTES];
    size_t hashes_count;
    char *checkpoint;                    /* the signed note, malloc'd */
    char *event;                         /* the event body, malloc'd; NULL when absent */
    size_t event_size;
};

void proof_free(struct proof *proof);
/* The JSON object above; NULL when memory runs out. */
json_t *proof_encode(const struct proof *proof);
/* Parses text strictly into out; false with a message naming the field. */
bool proof_decode(const char *text, size_t length, struct proof *out, char *message,
                  size_t message_size);

/* A consistency proof as read from its JSON; the notes are copies, NUL-terminated. */
struct proof_consistency {
    uint64_t from;                                          /* the older tree's size */
    uint64_t to;                                            /* the newer tree's size */
    uint8_t hashes[AUDIT_PROOF_HASHES_MAX][AUDIT_HASH_BYTES];
    size_t hashes_count;
    char from_checkpoint[AUDIT_NOTE_BYTES_MAX + 1];         /* signed note claimed for `from` */
    char to_checkpoint[AUDIT_NOTE_BYTES_MAX + 1];           /* signed note claimed for `to` */
};

/* Parses text strictly into out; false with a message naming the field. */
bool proof_consistency_decode(const char *text, size_t length, struct proof_consistency *out,
                              char *message, size_t message_size);

/* An array of base64 hashes. */
json_t *proof_hashes_encode(const uint8_t (*hashes)[AUDIT_HASH_BYTES], size_t count);
/* {"from","to","hashes","from_checkpoint","to_checkpoint"}: the one writer of
 * consistency proofs (CLI, HTTP); NULL when memory runs out. */
json_t *proof_consistency_encode(uint64_t from, uint64_t to,
                                 const uint8_t (*hashes)[AUDIT_HASH_BYTES], size_t count,
                                 const char *from_note, const char *to_note);
/* base64 of one hash, as a JSON string. */
json_t *proof_hash_encode(const uint8_t hash[AUDIT_HASH_BYTES]);

#endif
