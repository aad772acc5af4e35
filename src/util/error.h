/*
 * error.h — the one error convention of concord.
 *
 * Functions that can fail return an `enum cc_err` (0 on success, a negative
 * code otherwise) and, when the caller passes a `struct cc_error *`, fill it
 * with a message for people that names what was wrong and where. The code
 * decides the CLI's exit status (see cc_err_exit_status) and, later, the
 * HTTP status; the message is never parsed.
 */
#ifndef CONCORD_UTIL_ERROR_H
#define CONCORD_UTIL_ERROR_H

#include <stddef.h>

#define CC_ERROR_MESSAGE_BYTES_MAX 512

enum cc_err {
    CC_OK = 0,
    CC_ERR_USAGE = -1,     /* bad command line */
    CC_ERR_INPUT = -2,     /* malformed input (not JSON, bad line, too big) */
    CC_ERR_NOT_FOUND = -3, /* the thing asked for does not exist */
    CC_ERR_REJECTED = -4,  /* the ledger's rules rejected an operation */
    CC_ERR_STORE = -5,     /* the database failed or is not ours */
    CC_ERR_NOMEM = -6,     /* out of memory */
    CC_ERR_SYSTEM = -7,    /* the operating system failed us */
    CC_ERR_UNAUTHORIZED = -8, /* no valid credentials (unknown, expired or revoked token) */
    CC_ERR_FORBIDDEN = -9, /* the actor's role or party does not allow this */
    CC_ERR_BUSY = -10,     /* another writer held the store past the wait: nothing done, retry */
};

struct cc_error {
    enum cc_err code;                         /* CC_OK when nothing failed */
    char message[CC_ERROR_MESSAGE_BYTES_MAX]; /* for people, NUL-terminated */
};

/* Records code and a printf-style message in err (when not NULL); returns code. */
enum cc_err cc_error_set(struct cc_error *err, enum cc_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The CLI exit status for a code: 0 ok, 1 rejected/not found/forbidden, 2 usage/input/
   unauthorized, 3 storage/system/busy. */
int cc_err_exit_status(enum cc_err code);

#endif
