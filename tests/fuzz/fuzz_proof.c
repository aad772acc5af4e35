/*
 * fuzz_proof.c — the JSON of the audit log's proofs and the checks that read it.
 *
 * Every input is read in each of these ways:
 *
 *  - as an inclusion proof, by proof_decode. A refusal must carry a
 *    message. A proof that decodes is written again by proof_encode, dumped
 *    as text and decoded again, to the same fields: sizes, hashes, the note
 *    and the event byte for byte. It is then checked by concord_proof_check
 *    with a fixed verifier (the key derived from the seed 0x42…42 by
 *    crypto_sign_ed25519_seed_keypair, named "fuzz.example/log"), and once
 *    more after its note, when the note parses, is signed again with the
 *    fixed key: the seeds come from the CLI's own keys, so without that no
 *    input would reach the checks past the signature. A proof that passes
 *    has leaf_index < tree_size, and tree_size is its note's size;
 *  - as a consistency proof, by proof_consistency_decode, with the same
 *    round trip through proof_consistency_encode, and checked by
 *    concord_consistency_check with the fixed verifier, then with both
 *    notes signed again. A proof that passes has 0 < from ≤ to, notes of
 *    those sizes and of one origin, and, when from = to, no hashes and one
 *    root.
 *
 * A refused check must also carry a message.
 */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "app/log.h"
#include "audit/audit.h"
#include "fmt/proof.h"
#include "fuzz.h"
#include "fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MESSAGE_BYTES 512


static void check_message(const char *message, const char *what)
{
    FUZZ_CHECK(message[0] != '\0', "%s refused without a message", what);
}

/* JSON written by an encoder, as text; the encoder must not fail on what was decoded. */
static char *dump(json_t *encoded, const char *what)
{
    FUZZ_CHECK(encoded != NULL, "%s: a decoded proof does not encode", what);
    char *text = json_dumps(encoded, JSON_COMPACT);
    json_decref(encoded);
    FUZZ_CHECK(text != NULL, "%s: cannot dump", what);
    return text;
}

/* note signed again with the fixed key into out; false when it does not parse. */
static bool resign(const char *note, char out[AUDIT_NOTE_BYTES_MAX + 1])
{
    struct audit_checkpoint parsed;
    char message[MESSAGE_BYTES];
    if (!audit_checkpoint_parse(note, strlen(note), &parsed, message, sizeof message))
        return false;
    size_t length = audit_checkpoint_sign(&keys_get()->signer, &parsed, out,
                                          AUDIT_NOTE_BYTES_MAX + 1);
    FUZZ_CHECK(length > 0, "a parsed checkpoint cannot be signed");
    return true;
}

static uint64_t note_size_of(const char *note)
{
    struct audit_checkpoint opened;
    char message[MESSAGE_BYTES];
    FUZZ_CHECK(audit_checkpoint_open(note, strlen(note), &keys_get()->verifier, &opened, message,
                                     sizeof message),
               "a proof passed whose note does not open: %s", message);
    return opened.size;
}

/* ---------------------------------------------------------------- inclusion proofs */

static void check_same_proof(const struct proof *a, const struct proof *b)
{
    FUZZ_CHECK(strcmp(a->transfer_id, b->transfer_id) == 0, "transfer_id \"%s\" then \"%s\"",
               a->transfer_id, b->transfer_id);
    FUZZ_CHECK(a->leaf_index == b->leaf_index, "leaf_index");
    FUZZ_CHECK(a->tree_size == b->tree_size, "tree_size");
    FUZZ_CHECK(memcmp(a->leaf_hash, b->leaf_hash, AUDIT_HASH_BYTES) == 0, "leaf_hash");
    FUZZ_CHECK(a->hashes_count == b->hashes_count, "%zu hashes then %zu", a->hashes_count,
               b->hashes_count);
    FUZZ_CHECK(memcmp(a->hashes, b->hashes, a->hashes_count * AUDIT_HASH_BYTES) == 0, "hashes");
    FUZZ_CHECK(strcmp(a->checkpoint, b->checkpoint) == 0, "checkpoint");
    FUZZ_CHECK((a->event == NULL) == (b->event == NULL), "event present, then not");
    if (a->event != NULL)
        FUZZ_CHECK(a->event_size == b->event_size &&
                       memcmp(a->event, b->event, a->event_size) == 0,
                   "event of %zu bytes then %zu", a->event_size, b->event_size);
}

static void check_proof_verdict(const struct proof *p)
{
    char message[MESSAGE_BYTES] = "";
    if (!concord_proof_check(p, &keys_get()->verifier, message, sizeof message)) {
        check_message(message, "concord_proof_check");
        return;
    }
    FUZZ_CHECK(p->leaf_index < p->tree_size, "leaf %llu outside a tree of %llu",
               (unsigned long long)p->leaf_index, (unsigned long long)p->tree_size);
    FUZZ_CHECK(note_size_of(p->checkpoint) == p->tree_size, "tree_size is not the note's");
}

static void check_inclusion(const uint8_t *data, size_t size)
{
    static struct proof proof, again;
    char message[MESSAGE_BYTES] = "";
    if (!proof_decode((const char *)data, size, &proof, message, sizeof message)) {
        check_message(message, "proof_decode");
        return;
    }
    char *text = dump(proof_encode(&proof), "proof");
    FUZZ_CHECK(proof_decode(text, strlen(text), &again, message, sizeof message),
               "encoded, it does not decode: %s", message);
    free(text);
    check_same_proof(&proof, &again);
    proof_free(&again);
    check_proof_verdict(&proof);
    static char note[AUDIT_NOTE_BYTES_MAX + 1];
    if (resign(proof.checkpoint, note)) {
        free(proof.checkpoint);
        proof.checkpoint = strdup(note);
        FUZZ_CHECK(proof.checkpoint != NULL, "out of memory");
        check_proof_verdict(&proof);
    }
    proof_free(&proof);
}

/* ---------------------------------------------------------------- consistency proofs */

static void check_same_consistency(const struct proof_consistency *a,
                                   const struct proof_consistency *b)
{
    FUZZ_CHECK(a->from == b->from, "from %llu then %llu", (unsigned long long)a->from,
               (unsigned long long)b->from);
    FUZZ_CHECK(a->to == b->to, "to %llu then %llu", (unsigned long long)a->to,
               (unsigned long long)b->to);
    FUZZ_CHECK(a->hashes_count == b->hashes_count, "%zu hashes then %zu", a->hashes_count,
               b->hashes_count);
    FUZZ_CHECK(memcmp(a->hashes, b->hashes, a->hashes_count * AUDIT_HASH_BYTES) == 0, "hashes");
    FUZZ_CHECK(strcmp(a->from_checkpoint, b->from_checkpoint) == 0, "from_checkpoint");
    FUZZ_CHECK(strcmp(a->to_checkpoint, b->to_checkpoint) == 0, "to_checkpoint");
}

static void check_consistency_verdict(const struct proof_consistency *c)
{
    const struct keys *keys = keys_get();
    char message[MESSAGE_BYTES] = "";
    if (!concord_consistency_check(c, &keys->verifier, message, sizeof message)) {
        check_message(message, "concord_consistency_check");
        return;
    }
    FUZZ_CHECK(0 < c->from && c->from <= c->to, "consistent from %llu to %llu",
               (unsigned long long)c->from, (unsigned long long)c->to);
    struct audit_checkpoint older, newer;
    FUZZ_CHECK(audit_checkpoint_open(c->from_checkpoint, strlen(c->from_checkpoint),
                                     &keys->verifier, &older, message, sizeof message),
               "from_checkpoint: %s", message);
    FUZZ_CHECK(audit_checkpoint_open(c->to_checkpoint, strlen(c->to_checkpoint), &keys->verifier,
                                     &newer, message, sizeof message),
               "to_checkpoint: %s", message);
    FUZZ_CHECK(older.size == c->from && newer.size == c->to, "sizes are not the notes'");
    FUZZ_CHECK(strcmp(older.origin, newer.origin) == 0, "two origins pass");
    if (c->from == c->to) {
        FUZZ_CHECK(c->hashes_count == 0, "%zu hashes from a tree to itself", c->hashes_count);
        FUZZ_CHECK(memcmp(older.root, newer.root, AUDIT_HASH_BYTES) == 0,
                   "two roots for one size");
    }
}

static void check_consistency(const uint8_t *data, size_t size)
{
    static struct proof_consistency proof, again;
    char message[MESSAGE_BYTES] = "";
    if (!proof_consistency_decode((const char *)data, size, &proof, message, sizeof message)) {
        check_message(message, "proof_consistency_decode");
        return;
    }
    char *text = dump(proof_consistency_encode(proof.from, proof.to,
                                               (const uint8_t(*)[AUDIT_HASH_BYTES])proof.hashes,
                                               proof.hashes_count, proof.from_checkpoint,
                                               proof.to_checkpoint),
                      "consistency proof");
    FUZZ_CHECK(proof_consistency_decode(text, strlen(text), &again, message, sizeof message),
               "encoded, it does not decode: %s", message);
    free(text);
    check_same_consistency(&proof, &again);
    check_consistency_verdict(&proof);
    bool from_signed = resign(proof.from_checkpoint, again.from_checkpoint);
    bool to_signed = resign(proof.to_checkpoint, again.to_checkpoint);
    if (from_signed || to_signed) {
        if (from_signed)
            memcpy(proof.from_checkpoint, again.from_checkpoint, sizeof proof.from_checkpoint);
        if (to_signed)
            memcpy(proof.to_checkpoint, again.to_checkpoint, sizeof proof.to_checkpoint);
        check_consistency_verdict(&proof);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_inclusion(data, size);
    check_consistency(data, size);
    return 0;
}
