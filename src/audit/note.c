/*
 * note.c — checkpoints: the log's size and root, as signed notes.
 *
 * A checkpoint (C2SP tlog-checkpoint) is the body of a signed note (C2SP
 * signed-note, as golang.org/x/mod/sumdb/note writes and reads them):
 *
 *     <origin>\n                  the log's name, 1 … AUDIT_NAME_BYTES_MAX bytes
 *     <size>\n                    decimal: "0", or digits not starting with 0
 *     <base64 of the root>\n      44 characters: 32 bytes
 *     [<extension line>\n …]      allowed, not interpreted, not kept
 *     \n                          the blank line before the signatures
 *     — <key name> <base64(key id || signature)>\n      one or more
 *
 * A note is split at its last blank line ("\n\n"): the body is everything
 * up to and including the first of those newlines, and it is exactly what
 * each signature signs. Since the split is at the last blank line, an empty
 * line anywhere else ends up in the body, where it is refused; the part
 * after the split must end with a newline and hold only signature lines.
 *
 * Reading is strict and bounded. The whole note is checked first: at most
 * AUDIT_NOTE_BYTES_MAX bytes, valid UTF-8, and no control character (C0,
 * DEL, C1) but '\n', which also excludes NUL, '\r' and tabs. Then the body's
 * lines, then at most AUDIT_SIGNATURES_MAX signature lines. A signature line
 * names its key and starts its base64 with the key id; only a line whose
 * name and id are those of the verifier is checked (it must hold a 64-byte
 * Ed25519 signature that verifies over the body), and every such line must
 * verify: one bad signature by the expected key refuses the note, even next
 * to a good one. Lines by other keys only need to be well formed (a name
 * that is not empty and has no '+', base64 of at least 5 bytes): witnesses
 * cosign checkpoints, and a reader who does not know a witness skips it. A
 * note opens when at least one signature by the verifier checked out.
 *
 * Errors name the line (1-based, counted over the whole note) and what is
 * wrong with it, never echoing the note's own text.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "audit/audit.h"
#include "audit/audit_internal.h"
#include "util/utf8.h"

#define EM_DASH "\xe2\x80\x94"
#define SIGNATURE_PREFIX EM_DASH " "
#define SIGNATURE_PREFIX_BYTES (sizeof SIGNATURE_PREFIX - 1)
#define ROOT_BASE64_BYTES 44 /* base64 of AUDIT_HASH_BYTES, padded */
#define SIZE_DIGITS_MAX 19   /* AUDIT_TREE_SIZE_MAX has 19 decimal digits */
#define SIGNATURE_BLOB_BYTES (AUDIT_KEY_ID_BYTES + AUDIT_SIGNATURE_BYTES)
#define SIGNATURE_BLOB_BYTES_MIN (AUDIT_KEY_ID_BYTES + 1)
/* The decoded signature of a line in a note: no more than the note's base64 allows. */
#define SIGNATURE_DECODED_BYTES_MAX (AUDIT_NOTE_BYTES_MAX / 4 * 3)

_Static_assert(ROOT_BASE64_BYTES + 1 ==
                   sodium_base64_ENCODED_LEN(AUDIT_HASH_BYTES, sodium_base64_VARIANT_ORIGINAL),
               "root hash in base64");

/* One line of the note: text[0 .. length), without its newline. */
struct line {
    const char *text;
    size_t length;
    uint32_t number; /* 1-based, over the whole note */
};


/* ---------------------------------------------------------------- text */

/* Length of the character at s if it is valid UTF-8 and not a control character but '\n'; else 0. */
static size_t note_char_length(const char *s, size_t n)
{
    size_t length = utf8_char_length(s, n);
    if (length == 0) return 0;
    unsigned char c = (unsigned char)s[0];
    if (length == 1 && ((c < 0x20 && c != '\n') || c == 0x7f)) return 0;
    if (length == 2 && c == 0xc2 && (unsigned char)s[1] < 0xa0) return 0; /* U+0080 … U+009F */
    return length;
}

static bool note_text_check(const char *note, size_t size, char *message, size_t message_size)
{
    if (size > AUDIT_NOTE_BYTES_MAX)
        return audit_fail(message, message_size, "the note is %zu bytes; at most %d are allowed", size,
                    AUDIT_NOTE_BYTES_MAX);
    uint32_t line = 1;
    for (size_t i = 0; i < size;) {
        size_t length = note_char_length(note + i, size - i);
        if (length == 0)
            return audit_fail(message, message_size,
                        "line %" PRIu32 ": byte 0x%02x is a control character or not UTF-8", line,
                        (unsigned char)note[i]);
        if (note[i] == '\n') line++;
        i += length;
    }
    return true;
}

/* An origin: 1 … AUDIT_NAME_BYTES_MAX bytes of UTF-8 text without control characters. */
static bool origin_valid(const char *text, size_t length)
{
    if (length == 0 || length > AUDIT_NAME_BYTES_MAX) return false;
    for (size_t i = 0; i < length;) {
        size_t n = note_char_length(text + i, length - i);
        if (n == 0 || text[i] == '\n') return false;
        i += n;
    }
    return true;
}

/* The line starting at offset `start` of text[0..end), which holds a '\n' at or after start. */
static struct line line_at(const char *text, size_t start, size_t end, uint32_t number)
{
    const char *newline = memchr(text + start, '\n', end - start);
    assert(newline != NULL);
    return (struct line){.text = text + start, .length = (size_t)(newline - (text + start)),
                         .number = number};
}

/* ---------------------------------------------------------------- the body */

/* A decimal size: "0" or digits without a leading zero, at most AUDIT_TREE_SIZE_MAX. */
static bool size_parse(const struct line *line, uint64_t *size, char *message,
                       size_t message_size)
{
    const char *why = NULL;
    if (line->length == 0 || line->length > SIZE_DIGITS_MAX) why = "1 to 19 decimal digits";
    for (size_t i = 0; why == NULL && i < line->length; i++)
        if (line->text[i] < '0' || line->text[i] > '9') why = "decimal digits only";
    if (why == NULL && line->length > 1 && line->text[0] == '0') why = "no leading zero";
    uint64_t value = 0;
    for (size_t i = 0; why == NULL && i < line->length; i++)
        value = value * 10 + (uint64_t)(line->text[i] - '0'); /* 19 digits fit in 64 bits */
    if (why == NULL && value > AUDIT_TREE_SIZE_MAX) why = "at most 2^63 - 1";
    if (why != NULL)
        return audit_fail(message, message_size, "line %" PRIu32 ": the tree size must be %s",
                    line->number, why);
    *size = value;
    return true;
}

static bool root_parse(const struct line *line, uint8_t root[AUDIT_HASH_BYTES], char *message,
                       size_t message_size)
{
    size_t decoded = 0;
    if (line->length != ROOT_BASE64_BYTES ||
        !audit_base64_decode_span(line->text, line->length, root, AUDIT_HASH_BYTES, &decoded) ||
        decoded != AUDIT_HASH_BYTES)
        return audit_fail(message, message_size,
                    "line %" PRIu32 ": the root hash must be base64 of 32 bytes", line->number);
    return true;
}

/* Parses body[0..length), which ends with '\n', into out. */
static bool body_parse(const char *body, size_t length, struct audit_checkpoint *out,
                       char *message, size_t message_size)
{
    assert(length > 0 && body[length - 1] == '\n');
    uint32_t number = 1;
    for (size_t start = 0; start < length; number++) {
        struct line line = line_at(body, start, length, number);
        start += line.length + 1;
        if (line.length == 0)
            return audit_fail(message, message_size,
                        "line %" PRIu32 ": an empty line; only the line before the signatures "
                        "may be empty",
                        number);
        if (number == 1 && !origin_valid(line.text, line.length))
            return audit_fail(message, message_size, "line 1: the origin must be 1 to %d bytes",
                        AUDIT_NAME_BYTES_MAX);
        if (number == 1) {
            memcpy(out->origin, line.text, line.length);
            out->origin[line.length] = '\0';
        }
        if (number == 2 && !size_parse(&line, &out->size, message, message_size)) return false;
        if (number == 3 && !root_parse(&line, out->root, message, message_size)) return false;
    }
    if (number <= 3)
        return audit_fail(message, message_size,
                    "line %" PRIu32 ": the checkpoint ends early: it needs an origin, a tree size "
                    "and a root hash",
                    number);
    return true;
}

/* ---------------------------------------------------------------- signatures */

/* A parsed signature line. */
struct signature {
    const char *name;                           /* not NUL-terminated */
    size_t name_length;
    uint8_t blob[SIGNATURE_DECODED_BYTES_MAX];  /* key id, then the signature */
    size_t blob_length;                         /* ≥ SIGNATURE_BLOB_BYTES_MIN */
};

static bool signature_parse(const struct line *line, struct signature *out, char *message,
                            size_t message_size)
{
    if (line->length < SIGNATURE_PREFIX_BYTES ||
        memcmp(line->text, SIGNATURE_PREFIX, SIGNATURE_PREFIX_BYTES) != 0)
        return audit_fail(message, message_size,
                    "line %" PRIu32 ": a signature line starts with an em dash (U+2014) and a "
                    "space",
                    line->number);
    const char *name = line->text + SIGNATURE_PREFIX_BYTES;
    size_t rest = line->length - SIGNATURE_PREFIX_BYTES;
    const char *space = memchr(name, ' ', rest);
    size_t name_length = space == NULL ? rest : (size_t)(space - name);
    if (name_length == 0 || memchr(name, '+', name_length) != NULL)
        return audit_fail(message, message_size,
                    "line %" PRIu32 ": the key name must not be empty or hold '+'", line->number);
    if (space == NULL)
        return audit_fail(message, message_size,
                    "line %" PRIu32 ": the key name must be followed by a space and a signature",
                    line->number);
    const char *base64 = space + 1;
    size_t base64_length = rest - name_length - 1;
    if (!audit_base64_decode_span(base64, base64_length, out->blob, sizeof out->blob,
                                  &out->blob_length) ||
        out->blob_length < SIGNATURE_BLOB_BYTES_MIN)
        return audit_fail(message, message_size,
                    "line %" PRIu32 ": the signature must be base64 of a key id and a signature",
                    line->number);
    out->name = name;
    out->name_length = name_length;
    return true;
}

static bool signature_by(const struct signature *signature, const struct audit_verifier *v)
{
    return signature->name_length == strlen(v->name) &&
           memcmp(signature->name, v->name, signature->name_length) == 0 &&
           memcmp(signature->blob, v->key_id, AUDIT_KEY_ID_BYTES) == 0;
}

/* Checks a line by the verifier's key: a good signature, or the note is refused. */
static bool signature_verify(const struct signature *signature, const struct line *line,
                             const char *body, size_t body_length,
                             const struct audit_verifier *v, char *message, size_t message_size)
{
    if (signature->blob_length != SIGNATURE_BLOB_BYTES)
        return audit_fail(message, message_size,
                    "line %" PRIu32 ": the signature by %s must be %d bytes, not %zu",
                    line->number, v->name, AUDIT_SIGNATURE_BYTES,
                    signature->blob_length - AUDIT_KEY_ID_BYTES);
    if (crypto_sign_ed25519_verify_detached(signature->blob + AUDIT_KEY_ID_BYTES,
                                            (const unsigned char *)body, body_length,
                                            v->public_key) != 0)
        return audit_fail(message, message_size, "line %" PRIu32 ": the signature by %s does not verify",
                    line->number, v->name);
    return true;
}

/* ---------------------------------------------------------------- reading a note */

/*
 * Reads a signed checkpoint into out. With a verifier, requires a good
 * signature by it (and no bad one); without, checks the form only.
 */
static bool note_read(const char *note, size_t size, const struct audit_verifier *v,
                      struct audit_checkpoint *out, char *message, size_t message_size)
{
    assert(note != NULL || size == 0);
    assert(out != NULL);
    assert(message != NULL || message_size == 0);
    memset(out, 0, sizeof *out);
    if (!note_text_check(note, size, message, message_size)) return false;
    size_t split = size; /* the last "\n\n" */
    for (size_t i = size; i >= 2 && split == size; i--)
        if (note[i - 2] == '\n' && note[i - 1] == '\n') split = i - 2;
    if (split == size)
        return audit_fail(message, message_size, "no blank line before the signatures");
    size_t body_length = split + 1;
    if (size == split + 2 || note[size - 1] != '\n')
        return audit_fail(message, message_size,
                    "the note must end with signature lines, each ending with a newline");
    struct audit_checkpoint checkpoint;
    memset(&checkpoint, 0, sizeof checkpoint);
    if (!body_parse(note, body_length, &checkpoint, message, message_size)) return false;
    uint32_t number = 1;
    for (size_t i = 0; i < body_length; i++) number += note[i] == '\n';
    number++; /* the blank line */
    uint32_t lines = 0, verified = 0;
    struct signature signature;
    for (size_t start = split + 2; start < size; number++) {
        struct line line = line_at(note, start, size, number);
        start += line.length + 1;
        if (++lines > AUDIT_SIGNATURES_MAX)
            return audit_fail(message, message_size, "line %" PRIu32 ": more than %d signatures",
                        number, AUDIT_SIGNATURES_MAX);
        if (!signature_parse(&line, &signature, message, message_size)) return false;
        if (v == NULL || !signature_by(&signature, v)) continue; /* another key: skipped */
        if (!signature_verify(&signature, &line, note, body_length, v, message, message_size))
            return false;
        verified++;
    }
    if (v != NULL && verified == 0)
        return audit_fail(message, message_size, "no signature by %s (key id %02x%02x%02x%02x)",
                    v->name, v->key_id[0], v->key_id[1], v->key_id[2], v->key_id[3]);
    *out = checkpoint;
    return true;
}

bool audit_checkpoint_open(const char *note, size_t size, const struct audit_verifier *v,
                           struct audit_checkpoint *out, char *message, size_t message_size)
{
    assert(v != NULL);
    assert(audit_key_name_valid(v->name));
    return note_read(note, size, v, out, message, message_size);
}

bool audit_checkpoint_parse(const char *note, size_t size, struct audit_checkpoint *out,
                            char *message, size_t message_size)
{
    return note_read(note, size, NULL, out, message, message_size);
}

/* ---------------------------------------------------------------- signing */

/* Appends text to out[*length ..), keeping a NUL after it; false when it does not fit. */
static bool append(char *out, size_t capacity, size_t *length, const char *text)
{
    size_t n = strlen(text);
    if (capacity - *length <= n) return false;
    memcpy(out + *length, text, n + 1);
    *length += n;
    return true;
}

size_t audit_checkpoint_sign(const struct audit_signer *s, const struct audit_checkpoint *c,
                             char *out, size_t capacity)
{
    assert(s != NULL && c != NULL);
    assert(out != NULL || capacity == 0);
    assert(audit_key_name_valid(s->name));
    size_t origin_length = strnlen(c->origin, sizeof c->origin);
    if (!origin_valid(c->origin, origin_length) || c->size > AUDIT_TREE_SIZE_MAX) return 0;
    char size_text[SIZE_DIGITS_MAX + 1];
    snprintf(size_text, sizeof size_text, "%" PRIu64, c->size);
    char root[ROOT_BASE64_BYTES + 1];
    if (!audit_base64_encode(c->root, AUDIT_HASH_BYTES, root, sizeof root)) return 0;
    size_t length = 0;
    bool fits = capacity > 0 && append(out, capacity, &length, c->origin) &&
                append(out, capacity, &length, "\n") && append(out, capacity, &length, size_text) &&
                append(out, capacity, &length, "\n") && append(out, capacity, &length, root) &&
                append(out, capacity, &length, "\n");
    size_t body_length = length;
    uint8_t blob[SIGNATURE_BLOB_BYTES];
    char signature[sodium_base64_ENCODED_LEN(SIGNATURE_BLOB_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    if (fits) {
        memcpy(blob, s->key_id, AUDIT_KEY_ID_BYTES);
        crypto_sign_ed25519_detached(blob + AUDIT_KEY_ID_BYTES, NULL, (const unsigned char *)out,
                                     body_length, s->secret_key);
        fits = audit_base64_encode(blob, sizeof blob, signature, sizeof signature) &&
               append(out, capacity, &length, "\n" SIGNATURE_PREFIX) &&
               append(out, capacity, &length, s->name) && append(out, capacity, &length, " ") &&
               append(out, capacity, &length, signature) && append(out, capacity, &length, "\n");
    }
    if (!fits) {
        if (capacity > 0) out[0] = '\0';
        return 0;
    }
    assert(length <= AUDIT_NOTE_BYTES_MAX);
    return length;
}
