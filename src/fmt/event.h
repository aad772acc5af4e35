/*
 * event.h — the audit log's record of one committed batch, as canonical JSON.
 *
 * Every committed batch appends one event to the audit log, and so does each
 * access token's creation or revocation, in the same shape with a single
 * operation (app/token.h). Its body is the text hashed into the log's
 * Merkle tree, so the same batch must always give the same bytes. The body is
 *
 *   {"seq":N,"time":"<RFC 3339, 9 fractional digits>",
 *    "actor":{"user":U,"role":R[,"party":P]},
 *    "ops":[…],"results":[…],"expired":["pending id",…],"settled":["record id",…]
 *    [,"expansion":E]}
 *
 * with every key in that fixed order and no spaces. An operation has "op"
 * first, then its contract fields in a fixed order per type, only those
 * present ("linked" last, only when true); meta is embedded as the canonical
 * JSON text it already is; probabilities are printed with %.17g (so they read
 * back as the same double); times with time_format (so they read back as the
 * same nanoseconds). An operation of a name that is none of the ledger's own
 * types (a domain operation, a token's creation or revocation) is written as
 * the canonical JSON it was decoded into (keys sorted, no spaces: its meta).
 * An operation the decoder found malformed is written
 * {"op":NAME,"invalid":MESSAGE[,"linked":true]}. A result is
 * {"index":I,"status":S[,"timestamp":T][,"posted":P,"voided":V][,"message":M]},
 * posted and voided for a resolve, and for an approve that decided its
 * transfer.
 * Strings are escaped minimally: '"', '\\' and control characters (as
 * \u00XX); a byte that is not part of valid UTF-8 is written as \u00XX too.
 * "expired" lists the pending transfers the batch expired, in order;
 * "settled" the ids of the resolution records the rules made by themselves
 * (`X/condition` when a condition decided X, `X/approval` when approvals
 * did), in the order they were created.
 * "expansion" says how the batch's domain operations became the ledger's
 * steps (EVENT_EXPANSION_*), so that a replay takes them apart as the batch
 * did: written only for a batch holding one and a rule after the first (an
 * event without it was expanded by the first rule).
 *
 * Encoding writes bytes into a growable buffer by hand: it runs for every
 * batch, 8,189 transfers included. Decoding (for replay and for proofs)
 * parses with jansson and rebuilds each operation with json_decode_op, so
 * that encode(decode(body)) == body for every body this encoder writes.
 */
#ifndef CONCORD_FMT_EVENT_H
#define CONCORD_FMT_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ledger/ledger.h"
#include "util/arena.h"

#define EVENT_BODY_BYTES_MAX ((size_t)1 << 31) /* one batch's record, at most */
#define EVENT_ROLE_BYTES_MAX 16                /* a role's name */

/* A growable byte buffer; `failed` once memory ran out or the limit was passed. */
struct event_buffer {
    char *data;       /* NUL-terminated when not failed */
    size_t length;    /* bytes used, without the NUL */
    size_t capacity;  /* bytes allocated */
    bool failed;
    /* The last instant's text: a batch's timestamps share their second, so only
       the nanoseconds change from one to the next. */
    bool time_cached;
    int64_t time_second;
    char time_text[32];
};

void event_buffer_init(struct event_buffer *b);
void event_buffer_free(struct event_buffer *b);
void event_buffer_reset(struct event_buffer *b);

/*
 * The rules by which domain operations become steps (app/app.c), numbered
 * as they were introduced; a batch records its own, a replay follows it.
 */
#define EVENT_EXPANSION_CHAINED 1 /* every step of an operation in one chain */
#define EVENT_EXPANSION_MAKERS_APART 2 /* what it makes (units, parties, accounts) first, apart */
#define EVENT_EXPANSION_CURRENT EVENT_EXPANSION_MAKERS_APART

/* What one event records. */
struct event {
    int64_t seq;                   /* 1, 2, … */
    int64_t time;                  /* the batch's clock, ns since 1970 UTC */
    const char *user;              /* the actor: user name, role name, party ("" for none) */
    const char *role;
    const char *party;
    const struct ledger_op *ops;
    const struct ledger_result *results;
    size_t count;                  /* ops and results */
    const char *const *expired;    /* pending ids the batch expired */
    size_t expired_count;
    const char *const *settled;    /* records of reason condition or approval it created */
    size_t settled_count;
    int expansion;                 /* EVENT_EXPANSION_*: written when above CHAINED */
};

/* Writes the body of event into b (reset first). false: out of memory or too large. */
bool event_encode(struct event_buffer *b, const struct event *event);
/* Writes only the actor object {"user","role"[,"party"]} into b (appending). */
void event_encode_actor(struct event_buffer *b, const char *user, const char *role,
                        const char *party);

/*
 * A decoded event: ops (strings in arena) and the recorded results as JSON.
 * results, expired and settled borrow from `root`; event_decoded_free
 * releases it.
 */
struct event_decoded {
    int64_t seq;
    int64_t time;
    char user[LEDGER_USER_BYTES_MAX + 1];
    char role[EVENT_ROLE_BYTES_MAX + 1];
    char party[LEDGER_ID_BYTES_MAX + 1];
    struct ledger_op *ops;   /* malloc'd, count */
    size_t count;
    json_t *root;            /* the parsed body */
    const json_t *results;   /* array */
    const json_t *expired;   /* array of strings */
    const json_t *settled;   /* array of strings */
    int expansion;           /* EVENT_EXPANSION_*: CHAINED when the body does not say */
};

/*
 * Parses body into out (ops copied into arena). false with a message saying
 * what is wrong when it is not an event body of this format.
 */
bool event_decode(const char *body, size_t length, struct event_decoded *out,
                  struct arena *arena, char *message, size_t message_size);
void event_decoded_free(struct event_decoded *event);

#endif
