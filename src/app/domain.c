/*
 * domain.c — the table of domain operations, and what every expansion
 * shares: reading an operation's fields strictly, building its steps, and
 * looking up what is already recorded.
 *
 * See domain.h for the model. Field readers record the first problem in
 * x->message and return a neutral value, so an expansion reads every field
 * and then checks `ok` once; the message names the field.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/domain.h"
#include "util/timefmt.h"
#include "util/utf8.h"

const struct domain_verb domain_verbs[] = {
    {"donor", "funding", domain_donor, "register a donor: its party and its account"},
    {"pledge", "funding", domain_pledge, "a donor's pledge to the pooled fund, maybe conditional"},
    {"commitment", "funding", domain_commitment, "a binding commitment, of a pledge or direct"},
    {"disbursement", "funding", domain_disbursement,
     "the pooled fund pays a requirement's account"},
    {"expenditure", "funding", domain_expenditure, "money spent from a requirement's account"},
    {"fts_flow", "funding", domain_fts_flow,
     "an OCHA FTS flow's version (concord import fts writes these)"},
    {"iati_activity", "funding", domain_iati_activity,
     "an IATI activity's record (concord import iati writes these)"},
    {"iati_transaction", "funding", domain_iati_transaction,
     "an IATI transaction, or both reports of one flow (concord import iati writes these)"},
    {"hxl_flow", "funding", domain_hxl_flow,
     "a funding row of an HXL table (concord import hxl writes these)"},
    {"course", "force", domain_course, "a training course and its seats, in persons"},
    {"contingent", "force", domain_contingent, "a nation's contingent pledged, maybe conditional"},
    {"contingent_move", "force", domain_contingent_move,
     "a contingent (or part) to its next stage: accepted … rotated"},
    {"reimbursement_rate", "force", domain_reimbursement_rate,
     "the rate paid per person-month, in USD, from a date"},
    {"organisation", "aid", domain_organisation, "an aid organisation: its party and its trucks"},
    {"commodity", "aid", domain_commodity, "a commodity and the unit it is counted in"},
    {"crossing", "aid", domain_crossing, "a border crossing and its trucks and screening per day"},
    {"warehouse", "aid", domain_warehouse, "a warehouse and its capacity in kilograms"},
    {"distribution_point", "aid", domain_distribution_point,
     "a distribution point: its population and daily need"},
    {"consignment", "aid", domain_consignment, "a consignment registered at a crossing"},
    {"consignment_move", "aid", domain_consignment_move,
     "a consignment to its next stage: screened … distributed"},
    {NULL, NULL, NULL, NULL},
};

const struct domain_verb *domain_verb_find(const char *name)
{
    for (const struct domain_verb *v = domain_verbs; name != NULL && v->name != NULL; v++)
        if (strcmp(v->name, name) == 0) return v;
    return NULL;
}

/* ---------------------------------------------------------------- messages, strings */

bool domain_invalid(struct domain_expansion *x, const char *fmt, ...)
{
    if (x->message[0] != '\0') return false; /* the first problem is the one reported */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->message, sizeof x->message, fmt, ap);
    va_end(ap);
    utf8_truncate(x->message);
    return false;
}

const char *domain_printf(struct domain_expansion *x, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf) {
        domain_invalid(x, "an identifier made from this operation is too long");
        return "";
    }
    const char *s = arena_strdup(x->arena, buf);
    if (s == NULL) {
        domain_invalid(x, "out of memory");
        return "";
    }
    return s;
}

/* ---------------------------------------------------------------- fields */

bool domain_fields(struct domain_expansion *x, const char *const *allowed)
{
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)x->op, key, value) {
        bool known = strcmp(key, "op") == 0 || strcmp(key, "id") == 0 ||
                     strcmp(key, "linked") == 0;
        for (const char *const *a = allowed; !known && *a != NULL; a++)
            known = strcmp(key, *a) == 0;
        if (!known) return domain_invalid(x, "%s: unknown field", key);
    }
    return true;
}

const char *domain_string(struct domain_expansion *x, const char *name, bool required, bool *ok)
{
    const json_t *v = json_object_get(x->op, name);
    if (v == NULL || json_is_null(v)) {
        if (required) *ok = domain_invalid(x, "%s: required", name);
        return NULL;
    }
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
        json_string_length(v) == 0) {
        *ok = domain_invalid(x, "%s: must be a non-empty string", name);
        return NULL;
    }
    if (json_string_length(v) > LEDGER_NAME_BYTES_MAX) {
        *ok = domain_invalid(x, "%s: longer than %d bytes", name, LEDGER_NAME_BYTES_MAX);
        return NULL;
    }
    const char *s = arena_strdup(x->arena, json_string_value(v));
    if (s == NULL) *ok = domain_invalid(x, "out of memory");
    return s;
}

/* Names go into account ids after a stage and a location: kept short and plain. */
#define DOMAIN_NAME_BYTES_MAX 48

const char *domain_name(struct domain_expansion *x, const char *name, bool required, bool *ok)
{
    const char *s = domain_string(x, name, required, ok);
    if (s == NULL) return NULL;
    bool good = strlen(s) <= DOMAIN_NAME_BYTES_MAX &&
                ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9'));
    for (const char *p = s; good && *p; p++)
        good = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-';
    if (!good) {
        *ok = domain_invalid(x, "%s: must match [a-z0-9][a-z0-9_-]{0,47}", name);
        return NULL;
    }
    return s;
}

int64_t domain_integer(struct domain_expansion *x, const char *name, int64_t min, bool required,
                       bool *given, bool *ok)
{
    const json_t *v = json_object_get(x->op, name);
    *given = false;
    if (v == NULL || json_is_null(v)) {
        if (required) *ok = domain_invalid(x, "%s: required", name);
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min) {
        *ok = domain_invalid(x, "%s: must be an integer ≥ %lld", name, (long long)min);
        return 0;
    }
    *given = true;
    return (int64_t)json_integer_value(v);
}

int64_t domain_time(struct domain_expansion *x, const char *name, bool *given, bool *ok)
{
    const json_t *v = json_object_get(x->op, name);
    *given = false;
    if (v == NULL || json_is_null(v)) return 0;
    int64_t ns;
    bool date_only;
    if (!json_is_string(v) || !time_parse(json_string_value(v), &ns, &date_only)) {
        *ok = domain_invalid(x, "%s: must be a date (YYYY-MM-DD) or an RFC 3339 date-time",
                             name);
        return 0;
    }
    *given = true;
    return ns;
}

const char *domain_json(struct domain_expansion *x, const json_t *value)
{
    if (value == NULL) return NULL;
    char *text = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (text == NULL) {
        domain_invalid(x, "out of memory");
        return NULL;
    }
    const char *s = strlen(text) <= LEDGER_META_BYTES_MAX ? arena_strdup(x->arena, text) : NULL;
    if (s == NULL) domain_invalid(x, "the operation's details are longer than 16 KiB");
    free(text);
    return s;
}

/* ---------------------------------------------------------------- steps */

struct ledger_op *domain_step(struct domain_expansion *x, enum ledger_op_type type)
{
    if (x->count == DOMAIN_STEPS_MAX) {
        domain_invalid(x, "this operation would take more than %d steps", DOMAIN_STEPS_MAX);
        return NULL;
    }
    struct ledger_op *op = &x->steps[x->count++];
    memset(op, 0, sizeof *op);
    op->type = type;
    return op;
}

struct ledger_op *domain_account(struct domain_expansion *x, const char *id, const char *unit,
                                 const char *owner, uint32_t flags, const char *name)
{
    struct ledger_op *op = domain_step(x, LEDGER_OP_ACCOUNT);
    if (op == NULL) return NULL;
    op->id = id;
    op->unit = unit;
    op->owner = owner;
    op->account_flags = flags;
    op->name = name;
    return op;
}

struct ledger_op *domain_transfer(struct domain_expansion *x, const char *id, const char *debit,
                                  const char *credit, int64_t amount, const char *kind)
{
    struct ledger_op *op = domain_step(x, LEDGER_OP_TRANSFER);
    if (op == NULL) return NULL;
    op->id = id;
    op->debit = debit;
    op->credit = credit;
    op->amount = amount;
    op->flags = LEDGER_OP_HAS_AMOUNT;
    op->kind = kind;
    return op;
}

/* ---------------------------------------------------------------- lookups */

struct found_copy {
    struct domain_expansion *x;
    struct domain_found *out;
    bool found;
};

static int found_copy_fn(void *ctx, const struct ledger_transfer *t)
{
    struct found_copy *c = ctx;
    c->found = true;
    c->out->amount = t->amount;
    c->out->debit = arena_strdup(c->x->arena, t->debit);
    c->out->credit = arena_strdup(c->x->arena, t->credit);
    c->out->meta = t->meta != NULL ? arena_strdup(c->x->arena, t->meta) : NULL;
    c->out->date = t->date;
    c->out->pending = t->state == LEDGER_STATE_PENDING;
    return 0;
}

bool domain_lookup(struct domain_expansion *x, const char *id, struct domain_found *out)
{
    return domain_lookup_batch(x, id, out) || domain_lookup_recorded(x, id, out);
}

bool domain_lookup_batch(struct domain_expansion *x, const char *id, struct domain_found *out)
{
    memset(out, 0, sizeof *out);
    /* The latest step wins: this operation's own, then the batch's earlier ones. */
    const struct ledger_op *op = NULL;
    for (size_t i = x->count; i-- > 0 && op == NULL;) {
        const struct ledger_op *s = &x->steps[i];
        if (s->type == LEDGER_OP_TRANSFER && s->invalid == NULL && s->id != NULL &&
            strcmp(s->id, id) == 0)
            op = s;
    }
    uint32_t k;
    if (op == NULL && x->earlier_transfers != NULL && strmap_get(x->earlier_transfers, id, &k))
        op = &x->earlier[k];
    if (op != NULL) {
        out->amount = op->amount;
        out->debit = op->debit;
        out->credit = op->credit;
        out->meta = op->meta;
        out->date = (op->flags & LEDGER_OP_HAS_DATE) ? op->date : 0;
        out->pending = (op->flags & LEDGER_OP_PENDING) != 0;
        return true;
    }
    return false;
}

/* An account's owner as stored ("" when it has none); false when there is no such account. */
static int owner_fn(void *ctx, const struct ledger_account *a)
{
    snprintf(ctx, LEDGER_ID_BYTES_MAX + 1, "%s", a->owner != NULL ? a->owner : "");
    return 0;
}

static bool owner_of(struct domain_expansion *x, const char *account, char *owner)
{
    owner[0] = '\x01'; /* no account: neither "" nor a party */
    owner[1] = '\0';
    struct cc_error err = {0};
    const struct store_driver *d = x->cc->store->driver;
    return d->account_get(x->cc->store, account, owner_fn, owner, &err) == CC_OK;
}

/*
 * May the actor see a recorded transfer between these accounts? Those who
 * read everything may; an editor or viewer of P sees what moves P's
 * accounts, and the mission's shared definitions (crossings, courses, …),
 * whose accounts no party owns. Anything else is, to the expansion, absent:
 * its messages then cannot tell another party's consignment from none.
 */
static bool visible(struct domain_expansion *x, const char *debit, const char *credit)
{
    const struct auth_actor *actor = &x->cc->actor;
    if (auth_reads_everything(actor)) return true;
    char d[LEDGER_ID_BYTES_MAX + 1], c[LEDGER_ID_BYTES_MAX + 1];
    owner_of(x, debit, d);
    owner_of(x, credit, c);
    if (auth_may_read_owned(actor, d) || auth_may_read_owned(actor, c)) return true;
    return d[0] == '\0' && c[0] == '\0';
}

bool domain_lookup_recorded(struct domain_expansion *x, const char *id, struct domain_found *out)
{
    memset(out, 0, sizeof *out);
    struct found_copy c = {.x = x, .out = out};
    struct cc_error err = {0};
    const struct store_driver *d = x->cc->store->driver;
    if (d->transfer_get(x->cc->store, id, found_copy_fn, &c, &err) != CC_OK || !c.found)
        return false;
    if (out->debit == NULL || out->credit == NULL || !visible(x, out->debit, out->credit)) {
        memset(out, 0, sizeof *out);
        return false;
    }
    return true;
}

struct account_copy {
    struct domain_expansion *x;
    const char **unit, **name;
    bool found, readable; /* readable: unowned, or the actor may read its owner's */
};

static int account_copy_fn(void *ctx, const struct ledger_account *a)
{
    struct account_copy *c = ctx;
    c->found = true;
    c->readable = a->owner == NULL || auth_may_read_owned(&c->x->cc->actor, a->owner);
    *c->unit = arena_strdup(c->x->arena, a->unit);
    *c->name = a->name != NULL ? arena_strdup(c->x->arena, a->name) : NULL;
    return 0;
}

bool domain_lookup_account(struct domain_expansion *x, const char *id, const char **unit,
                           const char **name)
{
    *unit = *name = NULL;
    uint32_t k;
    if (x->earlier_accounts != NULL && strmap_get(x->earlier_accounts, id, &k)) {
        *unit = x->earlier[k].unit;
        *name = x->earlier[k].name;
        return true;
    }
    for (size_t i = 0; i < x->count; i++) { /* this operation's own earlier steps */
        const struct ledger_op *op = &x->steps[i];
        if (op->type != LEDGER_OP_ACCOUNT || op->id == NULL || strcmp(op->id, id) != 0) continue;
        *unit = op->unit;
        *name = op->name;
        return true;
    }
    struct account_copy c = {.x = x, .unit = unit, .name = name};
    struct cc_error err = {0};
    const struct store_driver *d = x->cc->store->driver;
    if (d->account_get(x->cc->store, id, account_copy_fn, &c, &err) != CC_OK || !c.found)
        return false;
    if (!c.readable) { /* another party's: absent, to this actor */
        *unit = *name = NULL;
        return false;
    }
    return true;
}

void domain_day(int64_t ns, char out[9])
{
    char text[TIME_TEXT_BYTES];
    time_format_date(ns, text); /* YYYY-MM-DD */
    snprintf(out, 9, "%.4s%.2s%.2s", text, text + 5, text + 8);
}

/* ---------------------------------------------------------------- expanding */

bool domain_expand(struct domain_expansion *x, const struct ledger_op *op)
{
    assert(op->type == LEDGER_OP_DOMAIN);
    x->count = 0;
    x->message[0] = '\0';
    const struct domain_verb *verb = domain_verb_find(op->kind);
    if (verb == NULL) {
        char names[512] = "";
        for (const struct domain_verb *v = domain_verbs; v->name != NULL; v++)
            snprintf(names + strlen(names), sizeof names - strlen(names), ", %s", v->name);
        return domain_invalid(x, "op: unknown operation (expected unit, account, transfer, post, "
                                 "void, condition, resolve, requirement, rate, party, approve%s)",
                              names);
    }
    json_error_t jerr;
    json_t *value = op->parsed != NULL ? json_incref((json_t *)op->parsed)
                                       : json_loads(op->meta, JSON_DECODE_ANY, &jerr);
    if (value == NULL) return domain_invalid(x, "the operation is not JSON: %s", jerr.text);
    x->op = value;
    x->id = op->id;
    bool ok = x->id != NULL && ledger_valid_transfer_id(x->id) &&
              strlen(x->id) <= LEDGER_ID_BYTES_MAX - 32; /* room for the steps' suffixes */
    if (!ok)
        domain_invalid(x, "id: required, 1 … %d printable ASCII characters without spaces",
                       LEDGER_ID_BYTES_MAX - 32);
    else
        ok = verb->expand(x) && x->message[0] == '\0';
    x->op = NULL;
    json_decref(value);
    if (!ok) {
        x->count = 0;
        if (x->message[0] == '\0') domain_invalid(x, "invalid");
        return false;
    }
    if (x->count == 0) return domain_invalid(x, "the operation does nothing");
    /* One chain: whole or nothing; the last step carries the operation's own link. */
    for (size_t i = 0; i < x->count; i++) x->steps[i].flags |= LEDGER_OP_STEP;
    for (size_t i = 0; i + 1 < x->count; i++) x->steps[i].flags |= LEDGER_OP_LINKED;
    x->steps[x->count - 1].flags &= ~LEDGER_OP_LINKED;
    x->steps[x->count - 1].flags |= op->flags & LEDGER_OP_LINKED;
    return true;
}
