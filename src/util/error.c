/* error.c — filling a struct cc_error and mapping codes to exit statuses. */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>

#include "util/utf8.h"

enum cc_err cc_error_set(struct cc_error *err, enum cc_err code, const char *fmt, ...)
{
    if (err == NULL) return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    utf8_truncate(err->message); /* a quoted name cut in two would not survive JSON output */
    return code;
}

int cc_err_exit_status(enum cc_err code)
{
    switch (code) {
    case CC_OK: return 0;
    case CC_ERR_NOT_FOUND:
    case CC_ERR_REJECTED:
    case CC_ERR_FORBIDDEN: return 1;
    case CC_ERR_USAGE:
    case CC_ERR_INPUT:
    case CC_ERR_UNAUTHORIZED: return 2;
    case CC_ERR_STORE:
    case CC_ERR_NOMEM:
    case CC_ERR_SYSTEM:
    case CC_ERR_BUSY: return 3;
    }
    return 3;
}
