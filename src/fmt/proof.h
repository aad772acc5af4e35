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
 * left out. Decoding is strict: every field but "event" is required, no
 * other field is accepted, hashes are base64 of exactly 32 bytes, at most
 * AUDIT_PROOF_HASHES_MAX of them. A consistency proof is
 *
 *   {"from":N,"to":M,"hashes":[…],"from_checkpoint":"…","to_checkpoint":"…"}
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

/* An array of base64 hashes. */
json_t *proof_hashes_encode(const uint8_t (*hashes)[AUDIT_HASH_BYTES], size_t count);
/* {"from","to","hashes","from_checkpoint","to_checkpoint"} */
json_t *proof_consistency_encode(uint64_t from, uint64_t to,
                                 const uint8_t (*hashes)[AUDIT_HASH_BYTES], size_t count,
                                 const char *from_note, const char *to_note);
/* base64 of one hash, as a JSON string. */
json_t *proof_hash_encode(const uint8_t hash[AUDIT_HASH_BYTES]);

#endif
