/*
 * view.c — the in-memory view of the rows one batch touches.
 *
 * Rows live in three growable arrays, each indexed by a strmap from id to
 * array index. Pointers into the arrays are invalidated when an array grows,
 * so the engine holds indexes across any call that may add a row. Strings are
 * copied into the view's arena and freed with the batch.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "ledger/ledger_internal.h"

void ledger_view_init(struct ledger_view *view)
{
    memset(view, 0, sizeof *view);
    arena_init(&view->arena);
    strmap_init(&view->units_by_code);
    strmap_init(&view->accounts_by_id);
    strmap_init(&view->transfers_by_id);
}

void ledger_view_free(struct ledger_view *view)
{
    arena_free(&view->arena);
    strmap_free(&view->units_by_code);
    strmap_free(&view->accounts_by_id);
    strmap_free(&view->transfers_by_id);
    free(view->units);
    free(view->accounts);
    free(view->accounts_loaded);
    free(view->transfers);
    free(view->undo);
    ledger_view_init(view);
}

void ledger_view_reset(struct ledger_view *view)
{
    arena_reset(&view->arena);
    strmap_clear(&view->units_by_code);
    strmap_clear(&view->accounts_by_id);
    strmap_clear(&view->transfers_by_id);
    view->units_count = 0;
    view->accounts_count = 0;
    view->transfers_count = 0;
    view->undo_count = 0;
    view->undo_active = false;
}

/* Grows *array (of elem bytes, *capacity slots) to hold one more. */
bool ledger_grow(void **array, uint32_t *capacity, uint32_t count, size_t elem)
{
    if (count < *capacity) return true;
    if (*capacity >= UINT32_MAX / 2) return false;
    uint32_t cap = *capacity == 0 ? 256 : *capacity * 2;
    void *p = realloc(*array, (size_t)cap * elem);
    if (p == NULL) return false;
    *array = p;
    *capacity = cap;
    return true;
}

/* Copies s into the arena; NULL stays NULL. *ok becomes false on exhaustion. */
static const char *copy(struct ledger_view *view, const char *s, bool *ok)
{
    if (s == NULL) return NULL;
    const char *c = arena_strdup(&view->arena, s);
    if (c == NULL) *ok = false;
    return c;
}

bool ledger_view_add_unit(struct ledger_view *view, const struct ledger_unit *unit)
{
    if (!ledger_grow((void **)&view->units, &view->units_capacity, view->units_count,
                     sizeof *view->units))
        return false;
    bool ok = true;
    struct ledger_unit u = *unit;
    u.code = copy(view, unit->code, &ok);
    u.name = copy(view, unit->name, &ok);
    if (!ok || !strmap_put(&view->units_by_code, u.code, view->units_count)) return false;
    view->units[view->units_count++] = u;
    return true;
}

bool ledger_view_add_account(struct ledger_view *view, const struct ledger_account *account)
{
    if (!ledger_grow((void **)&view->accounts, &view->accounts_capacity, view->accounts_count,
                     sizeof *view->accounts) ||
        !ledger_grow((void **)&view->accounts_loaded, &view->accounts_loaded_capacity,
                     view->accounts_count, sizeof *view->accounts_loaded))
        return false;
    bool ok = true;
    struct ledger_account a = *account;
    a.id = copy(view, account->id, &ok);
    a.unit = copy(view, account->unit, &ok);
    a.name = copy(view, account->name, &ok);
    a.owner = copy(view, account->owner, &ok);
    if (!ok || !strmap_put(&view->accounts_by_id, a.id, view->accounts_count)) return false;
    int64_t *loaded = view->accounts_loaded[view->accounts_count];
    loaded[0] = a.debits_pending;
    loaded[1] = a.debits_posted;
    loaded[2] = a.credits_pending;
    loaded[3] = a.credits_posted;
    view->accounts[view->accounts_count++] = a;
    return true;
}

bool ledger_view_add_transfer(struct ledger_view *view, const struct ledger_transfer *transfer)
{
    if (!ledger_grow((void **)&view->transfers, &view->transfers_capacity,
                     view->transfers_count, sizeof *view->transfers))
        return false;
    bool ok = true;
    struct ledger_transfer t = *transfer;
    t.id = copy(view, transfer->id, &ok);
    t.debit = copy(view, transfer->debit, &ok);
    t.credit = copy(view, transfer->credit, &ok);
    t.unit = copy(view, transfer->unit, &ok);
    t.pending_id = copy(view, transfer->pending_id, &ok);
    t.kind = copy(view, transfer->kind, &ok);
    t.cond = copy(view, transfer->cond, &ok);
    t.memo = copy(view, transfer->memo, &ok);
    t.meta = copy(view, transfer->meta, &ok);
    if (!ok || !strmap_put(&view->transfers_by_id, t.id, view->transfers_count)) return false;
    view->transfers[view->transfers_count++] = t;
    return true;
}

struct ledger_unit *ledger_view_unit(const struct ledger_view *view, const char *code)
{
    uint32_t i;
    return strmap_get(&view->units_by_code, code, &i) ? &view->units[i] : NULL;
}

struct ledger_account *ledger_view_account(const struct ledger_view *view, const char *id)
{
    uint32_t i;
    return strmap_get(&view->accounts_by_id, id, &i) ? &view->accounts[i] : NULL;
}

struct ledger_transfer *ledger_view_transfer(const struct ledger_view *view, const char *id)
{
    uint32_t i;
    return strmap_get(&view->transfers_by_id, id, &i) ? &view->transfers[i] : NULL;
}
