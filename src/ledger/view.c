/*
 * view.c — the in-memory view of the rows one batch touches.
 *
 * Rows live in three growable arrays, each indexed by a strmap from id to
 * array index. Pointers into the arrays are invalidated when an array grows,
 * so the engine holds indexes across any call that may add a row. Strings are
 * copied into the view's arena and freed with the batch.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
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
    strmap_init(&view->conditions_by_name);
    strmap_init(&view->requirements_by_id);
    strmap_init(&view->rates_by_key);
    strmap_init(&view->parties_by_id);
    strmap_init(&view->approvals_by_id);
}

static void conditions_code_free(struct ledger_view *view)
{
    for (uint32_t i = 0; i < view->conditions_count; i++)
        cond_expr_free(&view->condition_when[i]);
}

void ledger_view_free(struct ledger_view *view)
{
    conditions_code_free(view);
    arena_free(&view->arena);
    strmap_free(&view->conditions_by_name);
    strmap_free(&view->requirements_by_id);
    strmap_free(&view->rates_by_key);
    free(view->conditions);
    free(view->condition_states);
    free(view->condition_when);
    free(view->requirements);
    free(view->rates);
    strmap_free(&view->units_by_code);
    strmap_free(&view->accounts_by_id);
    strmap_free(&view->transfers_by_id);
    free(view->units);
    free(view->accounts);
    free(view->accounts_loaded);
    free(view->transfers);
    free(view->undo);
    strmap_free(&view->parties_by_id);
    strmap_free(&view->approvals_by_id);
    free(view->parties);
    free(view->approvals);
    ledger_view_init(view);
}

void ledger_view_reset(struct ledger_view *view)
{
    conditions_code_free(view);
    arena_reset(&view->arena);
    strmap_clear(&view->conditions_by_name);
    strmap_clear(&view->requirements_by_id);
    strmap_clear(&view->rates_by_key);
    view->conditions_count = 0;
    view->requirements_count = 0;
    view->rates_count = 0;
    strmap_clear(&view->units_by_code);
    strmap_clear(&view->accounts_by_id);
    strmap_clear(&view->transfers_by_id);
    view->units_count = 0;
    view->accounts_count = 0;
    view->transfers_count = 0;
    strmap_clear(&view->parties_by_id);
    strmap_clear(&view->approvals_by_id);
    view->parties_count = 0;
    view->approvals_count = 0;
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
    a.approvers = copy(view, account->approvers, &ok);
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
    t.gates = copy(view, transfer->gates, &ok);
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

/* ---------------------------------------------------------------- conditions, requirements, rates */

int32_t ledger_condition_lookup(void *ctx, const char *name, size_t length)
{
    const struct ledger_view *view = ctx;
    char key[COND_NAME_BYTES_MAX + 1];
    if (length > COND_NAME_BYTES_MAX) return -1;
    memcpy(key, name, length);
    key[length] = '\0';
    uint32_t i;
    return strmap_get(&view->conditions_by_name, key, &i) ? (int32_t)i : -1;
}

bool ledger_view_add_condition(struct ledger_view *view, const struct ledger_condition *condition,
                               char *message, size_t message_size)
{
    uint32_t n = view->conditions_count;
    if (!ledger_grow((void **)&view->conditions, &view->conditions_capacity, n,
                     sizeof *view->conditions)) {
        snprintf(message, message_size, "out of memory");
        return false;
    }
    if (n >= view->condition_states_capacity) {
        uint32_t cap = view->conditions_capacity;
        uint8_t *states = realloc(view->condition_states, cap * sizeof *states);
        if (states != NULL) view->condition_states = states;
        struct cond_expr *when = realloc(view->condition_when, cap * sizeof *when);
        if (when != NULL) view->condition_when = when;
        if (states == NULL || when == NULL) {
            snprintf(message, message_size, "out of memory");
            return false;
        }
        view->condition_states_capacity = cap;
    }
    bool ok = true;
    struct ledger_condition c = *condition;
    c.name = copy(view, condition->name, &ok);
    c.title = copy(view, condition->title, &ok);
    c.authority = copy(view, condition->authority, &ok);
    c.when = copy(view, condition->when, &ok);
    if (!ok) {
        snprintf(message, message_size, "out of memory");
        return false;
    }
    struct cond_expr code = {0};
    if (c.when != NULL) {
        struct cond_error error;
        if (!cond_parse(c.when, ledger_condition_lookup, view, c.name, &code, &error)) {
            snprintf(message, message_size, "condition %s: when: %s", c.name, error.message);
            return false;
        }
        c.state = (uint8_t)cond_eval(&code, view->condition_states);
    }
    if (!strmap_put(&view->conditions_by_name, c.name, n)) {
        cond_expr_free(&code);
        snprintf(message, message_size, "out of memory");
        return false;
    }
    view->conditions[n] = c;
    view->condition_when[n] = code;
    view->condition_states[n] = c.state;
    view->conditions_count = n + 1;
    return true;
}

bool ledger_view_add_requirement(struct ledger_view *view,
                                 const struct ledger_requirement *requirement)
{
    if (!ledger_grow((void **)&view->requirements, &view->requirements_capacity,
                     view->requirements_count, sizeof *view->requirements))
        return false;
    bool ok = true;
    struct ledger_requirement r = *requirement;
    r.id = copy(view, requirement->id, &ok);
    r.title = copy(view, requirement->title, &ok);
    r.account = copy(view, requirement->account, &ok);
    r.unit = copy(view, requirement->unit, &ok);
    if (!ok || !strmap_put(&view->requirements_by_id, r.id, view->requirements_count))
        return false;
    view->requirements[view->requirements_count++] = r;
    return true;
}

void ledger_rate_key(const char *unit, const char *to, int64_t date, char *out, size_t size)
{
    snprintf(out, size, "%s %s %" PRId64, unit, to, date);
}

bool ledger_view_add_rate(struct ledger_view *view, const struct ledger_rate *rate)
{
    if (!ledger_grow((void **)&view->rates, &view->rates_capacity, view->rates_count,
                     sizeof *view->rates))
        return false;
    bool ok = true;
    char key[2 * LEDGER_UNIT_CODE_BYTES_MAX + 32];
    ledger_rate_key(rate->unit, rate->to, rate->date, key, sizeof key);
    struct ledger_rate r = *rate;
    r.key = copy(view, key, &ok);
    r.unit = copy(view, rate->unit, &ok);
    r.to = copy(view, rate->to, &ok);
    r.rate = copy(view, rate->rate, &ok);
    if (!ok || !strmap_put(&view->rates_by_key, r.key, view->rates_count)) return false;
    view->rates[view->rates_count++] = r;
    return true;
}

struct ledger_condition *ledger_view_condition(const struct ledger_view *view, const char *name)
{
    uint32_t i;
    return strmap_get(&view->conditions_by_name, name, &i) ? &view->conditions[i] : NULL;
}

struct ledger_requirement *ledger_view_requirement(const struct ledger_view *view,
                                                   const char *id)
{
    uint32_t i;
    return strmap_get(&view->requirements_by_id, id, &i) ? &view->requirements[i] : NULL;
}

/* ---------------------------------------------------------------- parties, approvals */

bool ledger_view_add_party(struct ledger_view *view, const struct ledger_party *party)
{
    if (!ledger_grow((void **)&view->parties, &view->parties_capacity, view->parties_count,
                     sizeof *view->parties))
        return false;
    bool ok = true;
    struct ledger_party p = *party;
    p.id = copy(view, party->id, &ok);
    p.name = copy(view, party->name, &ok);
    p.kind = copy(view, party->kind, &ok);
    if (!ok || !strmap_put(&view->parties_by_id, p.id, view->parties_count)) return false;
    view->parties[view->parties_count++] = p;
    return true;
}

bool ledger_view_add_approval(struct ledger_view *view, const struct ledger_approval *approval)
{
    if (!ledger_grow((void **)&view->approvals, &view->approvals_capacity,
                     view->approvals_count, sizeof *view->approvals))
        return false;
    bool ok = true;
    struct ledger_approval a = *approval;
    a.id = copy(view, approval->id, &ok);
    a.pending_id = copy(view, approval->pending_id, &ok);
    a.user = copy(view, approval->user, &ok);
    if (!ok || !strmap_put(&view->approvals_by_id, a.id, view->approvals_count)) return false;
    view->approvals[view->approvals_count++] = a;
    return true;
}

struct ledger_party *ledger_view_party(const struct ledger_view *view, const char *id)
{
    uint32_t i;
    return strmap_get(&view->parties_by_id, id, &i) ? &view->parties[i] : NULL;
}

struct ledger_approval *ledger_view_approval(const struct ledger_view *view, const char *id)
{
    uint32_t i;
    return strmap_get(&view->approvals_by_id, id, &i) ? &view->approvals[i] : NULL;
}

bool ledger_account_approver(const struct ledger_account *account, const char *user)
{
    if (account->approvers == NULL || user == NULL) return false;
    size_t n = strlen(user);
    for (const char *p = account->approvers; *p != '\0';) {
        const char *end = strchr(p, ' ');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len == n && memcmp(p, user, n) == 0) return true;
        if (end == NULL) break;
        p = end + 1;
    }
    return false;
}
