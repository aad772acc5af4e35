/* ledger_internal.h — helpers shared by the engine's own files only. */
#ifndef CONCORD_LEDGER_INTERNAL_H
#define CONCORD_LEDGER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool ledger_grow(void **array, uint32_t *capacity, uint32_t count, size_t elem);

/* cond_lookup_fn over a view's conditions (ctx is the view). */
int32_t ledger_condition_lookup(void *ctx, const char *name, size_t length);

#endif
