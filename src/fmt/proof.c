/*
 * proof.c — encoding and strictly decoding the audit log's proofs (see proof.h).
 */
#include "fmt/proof.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HASH_BASE64_BYTES 48 /* 44 characters of base64 for 32 bytes, and the NUL */

void proof_free(struct proof *p)
{
    free(p->checkpoint);
    free(p->event);
    p->checkpoint = NULL;
    p->event = NULL;
}

json_t *proof_hash_encode(const uint8_t hash[AUDIT_HASH_BYTES])
{
    char text[HASH_BASE64_BYTES];
    if (!audit_base64_encode(hash, AUDIT_HASH_BYTES, text, sizeof text)) return NULL;
    return json_string(text);
}

json_t *proof_hashes_encode(const uint8_t (*hashes)[AUDIT_HASH_BYTES], size_t count)
{
    json_t *array = json_array();
    for (size_t i = 0; array != NULL && i < count; i++)
        if (json_array_append_new(array, proof_hash_encode(hashes[i])) != 0) {
            json_decref(array);
            return NULL;
        }
    return array;
}

json_t *proof_encode(const struct proof *p)
{
    json_t *o = json_pack("{s:I, s:I, s:o, s:o, s:s}", "leaf_index", (json_int_t)p->leaf_index,
                          "tree_size", (json_int_t)p->tree_size, "leaf_hash",
                          proof_hash_encode(p->leaf_hash), "hashes",
                          proof_hashes_encode(p->hashes, p->hashes_count), "checkpoint",
                          p->checkpoint);
    if (o != NULL && p->transfer_id[0] != '\0' &&
        json_object_set_new(o, "transfer_id", json_string(p->transfer_id)) != 0) {
        json_decref(o);
        return NULL;
    }
    if (o != NULL && p->event != NULL &&
        json_object_set_new(o, "event", json_stringn(p->event, p->event_size)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *proof_consistency_encode(uint64_t from, uint64_t to,
                                 const uint8_t (*hashes)[AUDIT_HASH_BYTES], size_t count,
                                 const char *from_note, const char *to_note)
{
    return json_pack("{s:I, s:I, s:o, s:s, s:s}", "from", (json_int_t)from, "to",
                     (json_int_t)to, "hashes", proof_hashes_encode(hashes, count),
                     "from_checkpoint", from_note, "to_checkpoint", to_note);
}

/* ---------------------------------------------------------------- decoding */

static bool fail(char *message, size_t size, const char *field, const char *problem)
{
    if (size > 0) snprintf(message, size, "%s: %s", field, problem);
    return false;
}

static bool decode_hash(const json_t *v, uint8_t out[AUDIT_HASH_BYTES])
{
    size_t n = 0;
    uint8_t buf[AUDIT_HASH_BYTES + 1];
    return json_is_string(v) &&
           audit_base64_decode_span(json_string_value(v), json_string_length(v), buf,
                                    sizeof buf, &n) &&
           n == AUDIT_HASH_BYTES && (memcpy(out, buf, AUDIT_HASH_BYTES), true);
}

static bool decode_size(const json_t *v, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0) return false;
    *out = (uint64_t)json_integer_value(v);
    return *out <= AUDIT_TREE_SIZE_MAX;
}

static char *text_copy(const json_t *v, size_t *length)
{
    size_t n = json_string_length(v);
    if (memchr(json_string_value(v), '\0', n) != NULL) return NULL; /* \u0000 */
    char *copy = malloc(n + 1);
    if (copy == NULL) return NULL;
    memcpy(copy, json_string_value(v), n + 1);
    if (length != NULL) *length = n;
    return copy;
}

/* Refuses any field of o not in fields[0 … count). */
static bool known_fields(const json_t *o, const char *const *fields, size_t count,
                         char *message, size_t size)
{
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)o, key, value) {
        bool known = false;
        for (size_t i = 0; i < count; i++) known |= strcmp(fields[i], key) == 0;
        if (!known) return fail(message, size, key, "unknown field");
    }
    (void)value;
    return true;
}

/* The array under `field` into out[0 … *count), at most AUDIT_PROOF_HASHES_MAX. */
static bool decode_hashes(const json_t *hashes, uint8_t (*out)[AUDIT_HASH_BYTES], size_t *count,
                          char *message, size_t size)
{
    if (!json_is_array(hashes)) return fail(message, size, "hashes", "required, an array");
    if (json_array_size(hashes) > AUDIT_PROOF_HASHES_MAX)
        return fail(message, size, "hashes", "more hashes than any proof holds (64)");
    *count = json_array_size(hashes);
    for (size_t i = 0; i < *count; i++)
        if (!decode_hash(json_array_get(hashes, i), out[i])) {
            char field[32];
            snprintf(field, sizeof field, "hashes[%zu]", i);
            return fail(message, size, field, "not base64 of 32 bytes");
        }
    return true;
}

static bool decode_fields(const json_t *o, struct proof *out, char *message, size_t size)
{
    static const char *const fields[] = {"transfer_id", "leaf_index", "tree_size", "leaf_hash",
                                         "hashes", "checkpoint", "event"};
    if (!known_fields(o, fields, sizeof fields / sizeof fields[0], message, size)) return false;
    const json_t *id = json_object_get(o, "transfer_id"); /* absent: an event's own proof */
    if (id != NULL && (!json_is_string(id) || json_string_length(id) == 0 ||
                       json_string_length(id) > LEDGER_ID_BYTES_MAX ||
                       strlen(json_string_value(id)) != json_string_length(id)))
        return fail(message, size, "transfer_id", "must be a transfer id");
    if (id != NULL) memcpy(out->transfer_id, json_string_value(id), json_string_length(id) + 1);
    if (!decode_size(json_object_get(o, "leaf_index"), &out->leaf_index))
        return fail(message, size, "leaf_index", "required, an integer ≥ 0");
    if (!decode_size(json_object_get(o, "tree_size"), &out->tree_size))
        return fail(message, size, "tree_size", "required, an integer ≥ 0");
    if (!decode_hash(json_object_get(o, "leaf_hash"), out->leaf_hash))
        return fail(message, size, "leaf_hash", "required, base64 of 32 bytes");
    if (!decode_hashes(json_object_get(o, "hashes"), out->hashes, &out->hashes_count, message,
                       size))
        return false;
    const json_t *note = json_object_get(o, "checkpoint");
    if (!json_is_string(note) || json_string_length(note) > AUDIT_NOTE_BYTES_MAX ||
        (out->checkpoint = text_copy(note, NULL)) == NULL)
        return fail(message, size, "checkpoint", "required, a signed note");
    const json_t *event = json_object_get(o, "event");
    if (event != NULL && (!json_is_string(event) ||
                          (out->event = text_copy(event, &out->event_size)) == NULL))
        return fail(message, size, "event", "must be the event body as a string");
    return true;
}

/* Parses text as one JSON object; NULL with a message otherwise. */
static json_t *load_object(const char *text, size_t length, size_t length_max, const char *what,
                           char *message, size_t size)
{
    if (length > length_max) {
        fail(message, size, what, "too large");
        return NULL;
    }
    json_error_t jerr;
    json_t *o = json_loadb(text, length, JSON_REJECT_DUPLICATES, &jerr);
    if (o == NULL) {
        if (size > 0)
            snprintf(message, size, "not JSON: line %d, column %d: %s", jerr.line, jerr.column,
                     jerr.text);
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        fail(message, size, what, "must be a JSON object");
        return NULL;
    }
    return o;
}

bool proof_decode(const char *text, size_t length, struct proof *out, char *message,
                  size_t size)
{
    memset(out, 0, sizeof *out);
    json_t *o = load_object(text, length, PROOF_BYTES_MAX, "proof", message, size);
    if (o == NULL) return false;
    bool ok = decode_fields(o, out, message, size);
    json_decref(o);
    if (!ok) proof_free(out);
    return ok;
}

/* ---------------------------------------------------------------- consistency proofs */

/* A signed note's text into out (AUDIT_NOTE_BYTES_MAX + 1 bytes); its checks are the checker's. */
static bool decode_note(const json_t *v, char out[AUDIT_NOTE_BYTES_MAX + 1])
{
    if (!json_is_string(v)) return false;
    size_t n = json_string_length(v);
    if (n > AUDIT_NOTE_BYTES_MAX || memchr(json_string_value(v), '\0', n) != NULL) return false;
    memcpy(out, json_string_value(v), n + 1);
    return true;
}

static bool decode_consistency_fields(const json_t *o, struct proof_consistency *out,
                                      char *message, size_t size)
{
    static const char *const fields[] = {"from", "to", "hashes", "from_checkpoint",
                                         "to_checkpoint"};
    if (!known_fields(o, fields, sizeof fields / sizeof fields[0], message, size)) return false;
    if (!decode_size(json_object_get(o, "from"), &out->from))
        return fail(message, size, "from", "required, an integer ≥ 0");
    if (!decode_size(json_object_get(o, "to"), &out->to))
        return fail(message, size, "to", "required, an integer ≥ 0");
    if (!decode_hashes(json_object_get(o, "hashes"), out->hashes, &out->hashes_count, message,
                       size))
        return false;
    if (!decode_note(json_object_get(o, "from_checkpoint"), out->from_checkpoint))
        return fail(message, size, "from_checkpoint", "required, a signed note");
    if (!decode_note(json_object_get(o, "to_checkpoint"), out->to_checkpoint))
        return fail(message, size, "to_checkpoint", "required, a signed note");
    return true;
}

bool proof_consistency_decode(const char *text, size_t length, struct proof_consistency *out,
                              char *message, size_t size)
{
    memset(out, 0, sizeof *out);
    json_t *o = load_object(text, length, PROOF_CONSISTENCY_BYTES_MAX, "consistency proof", message,
                            size);
    if (o == NULL) return false;
    bool ok = decode_consistency_fields(o, out, message, size);
    json_decref(o);
    return ok;
}
