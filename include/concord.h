/*
 * concord.h — the public interface of libconcord.
 *
 * concord keeps the books of a multinational stabilization mission on one
 * double-entry ledger: money, personnel and supplies are integer amounts of a
 * unit moving between accounts. A program that embeds the ledger needs only
 * this header: open a database, submit batches of operations as JSON (the
 * contract of DESIGN.md: {"op":"transfer",…}), read back one result per
 * operation as JSON, and verify the invariants.
 *
 * Every function that can fail writes a message for people into `error`
 * (error_size bytes, NUL-terminated) and returns a non-zero status that is
 * also the concord CLI's exit status: 1 rejected or not found, 2 malformed
 * input, 3 storage or system error.
 */
#ifndef CONCORD_H
#define CONCORD_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CONCORD_VERSION "0.1.0"

struct concord;

/*
 * Opens the database at path; with create, creates it when missing. A file
 * that is not a concord database is refused untouched. NULL on failure.
 */
struct concord *concord_connect(const char *path, bool create, char *error, size_t error_size);
void concord_disconnect(struct concord *cc);

/*
 * Commits a JSON array of operations (text of `length` bytes) as one atomic
 * batch. On success returns a malloc'd JSON array of results, one per
 * operation, and sets *status to 0, or to 1 if any operation was rejected.
 * Returns NULL (nothing committed) when the input is not a JSON array of at
 * most LEDGER_BATCH_OPS_MAX values, or holds a number that does not fit 64
 * bits (*status 2; the message gives its line and column), or storage failed
 * (*status 3). A value of the array that is not an operation (a scalar, an
 * unknown op) is only that operation's `invalid` result.
 */
char *concord_submit(struct concord *cc, const char *json, size_t length, int *status,
                     char *error, size_t error_size);

/* Checks every invariant of the stored ledger: 0 when intact. */
int concord_verify(struct concord *cc, char *error, size_t error_size);

#ifdef __cplusplus
}
#endif

#endif
