/*
 * domain_hxl.c — one funding row of an HXL table, as fmt/hxl.c reads it,
 * onto the ledger: the `hxl_flow` operation.
 *
 * Fields: id, status (pledge, commitment, paid), amount_usd (cents), date,
 * funder and recipient ({"name", "type", "fts_id"}), description, currency,
 * original_amount, rate, ref_code; and for a row that carries an FTS flow
 * id: flow, version, boundary, on_boundary.
 *
 * Accounts (USD, docs/INTEROP.md):
 *   hxl.org.<slug>.given / .received   an organisation known by its name
 *                          only (fmt/hxl.c's slug of it), owned by the party
 *                          hxl-<slug>; the name recorded first stays the
 *                          account's, so names that differ only in case or
 *                          punctuation share one organisation.
 *   fts.org.<id>.given / .received     an organisation the ledger already
 *                          knows from FTS (app/domain_fts.c), when the import
 *                          matched the name to its FTS id ("fts_id").
 *   fts.org.unspecified.given / .received  a side an FTS row leaves empty.
 *
 * A row without an FTS flow id is the transfer `id` ("hxl." and a digest
 * of what the row says), funder.given → recipient.received, of kind
 * `status`, pending for a pledge: importing the file again answers exists.
 *
 * A row with an FTS flow id is the same flow FTS's own answers carry, so it
 * must be counted once whoever reported it first. When the ledger already
 * records the flow at this version or a newer one (from `import fts`, or an
 * earlier HXL file), the row is a second report of a flow counted already:
 * it records nothing, and its only step restates the USD unit, so that it
 * answers exists. Otherwise it is recorded as the table's report of the
 * version: the transfer fts.<flow>.v<version>.hxl, superseding an older
 * version with a correcting entry (<id>.supersedes: a void of an older
 * pledge, a reversal of an older commitment or payment), 0 USD moving
 * nothing. FTS's own answer of the same version, imported later, replaces
 * the table's record with its own (app/domain_fts.c; the ids in fmt/fts.h),
 * so the flow is counted once, by its fuller report, and both are kept.
 */
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "app/domain.h"
#include "fmt/fts.h"
#include "fmt/hxl.h"

#define HXL_UNIT "USD"
#define HXL_GIVEN ".given"
#define HXL_RECEIVED ".received"
#define HXL_TYPE_BYTES_MAX 64

static const char *copied(struct domain_expansion *x, const char *s)
{
    const char *copy = arena_strdup(x->arena, s);
    if (copy == NULL) domain_invalid(x, "out of memory");
    return copy != NULL ? copy : "";
}

/* ---------------------------------------------------------------- organisations */

struct org {
    const char *name;   /* NULL: not given */
    const char *type;   /* FTS's organisation type, or NULL */
    const char *fts_id; /* decimal, or NULL */
};

static bool org_read(struct domain_expansion *x, const char *field, struct org *o)
{
    memset(o, 0, sizeof *o);
    const json_t *v = json_object_get(x->op, field);
    if (v == NULL || json_is_null(v)) return true;
    const json_t *name = json_object_get(v, "name"), *type = json_object_get(v, "type"),
                 *id = json_object_get(v, "fts_id");
    const char *key;
    const json_t *member;
    bool known = json_is_object(v);
    json_object_foreach((json_t *)v, key, member) {
        (void)member;
        known &= strcmp(key, "name") == 0 || strcmp(key, "type") == 0 ||
                 strcmp(key, "fts_id") == 0;
    }
    if (!known || !json_is_string(name) || json_string_length(name) == 0 ||
        json_string_length(name) > LEDGER_NAME_BYTES_MAX ||
        strlen(json_string_value(name)) != json_string_length(name) ||
        (type != NULL && (!json_is_string(type) || json_string_length(type) == 0 ||
                          json_string_length(type) > HXL_TYPE_BYTES_MAX)) ||
        (id != NULL && !json_is_string(id)))
        return domain_invalid(x, "%s: must be {\"name\",\"type\",\"fts_id\"}: a name of 1 to %d "
                                 "bytes, a type of at most %d",
                              field, LEDGER_NAME_BYTES_MAX, HXL_TYPE_BYTES_MAX);
    if (id != NULL) {
        const char *s = json_string_value(id);
        size_t n = strlen(s);
        bool digits = n >= 1 && n <= 18;
        for (size_t i = 0; i < n && digits; i++) digits = s[i] >= '0' && s[i] <= '9';
        if (!digits) return domain_invalid(x, "%s.fts_id: must be an FTS organisation id", field);
        o->fts_id = copied(x, s);
    }
    o->name = copied(x, json_string_value(name));
    o->type = type != NULL ? copied(x, json_string_value(type)) : NULL;
    return x->message[0] == '\0';
}

/*
 * One side's account (its party and account made when new), as
 * domain_fts.c makes its own: an account already there is named again as
 * recorded, so the step answers exists whatever name this row spells.
 */
static const char *org_account(struct domain_expansion *x, const struct org *o,
                               const char *suffix)
{
    const char *base, *owner;
    if (o->fts_id != NULL) {
        base = domain_printf(x, "fts.org.%s", o->fts_id);
        owner = domain_printf(x, "fts-%s", o->fts_id);
    } else if (o->name != NULL) {
        char slug[HXL_SLUG_BYTES_MAX + 1];
        hxl_slug(o->name, slug);
        base = domain_printf(x, "hxl.org.%s", slug);
        owner = domain_printf(x, "hxl-%s", slug);
    } else {
        base = "fts.org.unspecified";
        owner = NULL;
    }
    const char *account = domain_printf(x, "%s%s", base, suffix);
    const char *other = domain_printf(x, "%s%s", base,
                                      strcmp(suffix, HXL_GIVEN) == 0 ? HXL_RECEIVED : HXL_GIVEN);
    const char *unit, *recorded, *name = o->name, *other_unit, *other_name;
    if (domain_lookup_account(x, account, &unit, &recorded)) {
        if (unit == NULL || strcmp(unit, HXL_UNIT) != 0) {
            domain_invalid(x, "the account %s is not in USD", account);
            return NULL;
        }
        name = recorded;
    } else if (owner == NULL) {
        name = "Not specified in FTS";
    } else if (!domain_lookup_account(x, other, &other_unit, &other_name)) {
        struct ledger_op *party = domain_step(x, LEDGER_OP_PARTY);
        if (party == NULL) return NULL;
        party->id = owner;
        party->name = o->name;
        /* FTS's organisation type "Government" is what concord calls a nation. */
        party->kind = o->type != NULL && strcmp(o->type, "Government") == 0 ? "nation"
                                                                            : "organisation";
    }
    if (domain_account(x, account, HXL_UNIT, owner, 0, name) == NULL) return NULL;
    return account;
}

/* ---------------------------------------------------------------- a flow counted already */

struct unit_found {
    struct domain_expansion *x;
    int32_t scale;
    const char *name;
    bool found;
};

static int unit_fn(void *ctx, const struct ledger_unit *u)
{
    struct unit_found *f = ctx;
    f->found = true;
    f->scale = u->scale;
    f->name = u->name != NULL ? arena_strdup(f->x->arena, u->name) : NULL;
    return 0;
}

/*
 * The one step of a row whose flow is recorded already: USD as it is, so
 * that the operation answers exists and writes nothing.
 */
static bool unit_restated(struct domain_expansion *x)
{
    struct unit_found f = {.x = x};
    struct cc_error err = {0};
    const struct store_driver *d = x->cc->store->driver;
    if (d->unit_get(x->cc->store, HXL_UNIT, unit_fn, &f, &err) != CC_OK &&
        err.code != CC_ERR_NOT_FOUND)
        return domain_invalid(x, "reading the unit USD: %s", err.message);
    /* Made in this batch (import hxl makes it first when the ledger has none): rare, so a
       scan, and only then. */
    for (size_t i = 0; i < x->earlier_count && !f.found; i++) {
        const struct ledger_op *op = &x->earlier[i];
        if (op->type == LEDGER_OP_UNIT && op->invalid == NULL && op->id != NULL &&
            strcmp(op->id, HXL_UNIT) == 0) {
            f.found = true;
            f.scale = op->scale;
            f.name = op->name;
        }
    }
    if (!f.found) return domain_invalid(x, "no unit USD");
    struct ledger_op *u = domain_step(x, LEDGER_OP_UNIT);
    if (u == NULL) return false;
    u->id = HXL_UNIT;
    u->scale = f.scale;
    u->name = f.name;
    u->flags = LEDGER_OP_HAS_SCALE;
    return true;
}

/* ---------------------------------------------------------------- the record */

/* The transfer's meta: the funding report's keys, and what the row said. */
static const char *flow_meta(struct domain_expansion *x, int64_t cents, const char *donor,
                             bool fts)
{
    json_t *said = json_deep_copy(x->op);
    json_object_del(said, "op");
    json_object_del(said, "id");
    json_object_del(said, "description"); /* the memo */
    json_object_del(said, "amount_usd");  /* usd_amount, below */
    if (fts) {
        /* Under FTS's words, as domain_fts.c keeps a flow: source and destination. */
        static const char *const sides[][2] = {{"funder", "source"}, {"recipient", "destination"}};
        for (size_t i = 0; i < 2; i++) {
            json_t *side = json_object_get(said, sides[i][0]);
            if (side == NULL) continue;
            json_t *kept = json_deep_copy(side);
            json_t *id = json_object_get(kept, "fts_id");
            if (id != NULL) {
                json_object_set(kept, "id", id);
                json_object_del(kept, "fts_id");
            }
            json_object_del(said, sides[i][0]);
            json_object_set_new(said, sides[i][1], kept);
        }
    }
    json_t *meta = json_pack("{s:s,s:I,s:o}", "source", "hxl", "usd_amount", (json_int_t)cents,
                             fts ? "fts" : "hxl", said);
    if (donor != NULL) json_object_set_new(meta, "donor", json_string(donor));
    const char *text = domain_json(x, meta);
    json_decref(meta);
    return text;
}

/* The party that owns an account, for meta "donor" (NULL for the unspecified side). */
static const char *owner_of(struct domain_expansion *x, const struct org *o)
{
    if (o->fts_id != NULL) return domain_printf(x, "fts-%s", o->fts_id);
    if (o->name == NULL) return NULL;
    char slug[HXL_SLUG_BYTES_MAX + 1];
    hxl_slug(o->name, slug);
    return domain_printf(x, "hxl-%s", slug);
}

/* The flow's money: funder.given → recipient.received, pending for a pledge. */
static bool money_step(struct domain_expansion *x, const char *id, const char *debit,
                       const char *credit, int64_t cents, const char *status, int64_t date,
                       const char *memo, const struct org *funder, bool fts)
{
    struct ledger_op *t = domain_transfer(x, id, debit, credit, cents, status);
    if (t == NULL) return false;
    if (strcmp(status, "pledge") == 0) t->flags |= LEDGER_OP_PENDING;
    t->date = date;
    t->flags |= LEDGER_OP_HAS_DATE;
    t->memo = memo;
    t->meta = flow_meta(x, cents, owner_of(x, funder), fts);
    return x->message[0] == '\0';
}

/* The older version's money undone (`old`, the record holding it), as domain_fts.c undoes it. */
static bool supersede(struct domain_expansion *x, const char *old, int64_t latest,
                      int64_t version)
{
    return domain_fts_undo(x, old, domain_printf(x, "%s%s", x->id, FTS_SUPERSEDES),
                           domain_printf(x, "version %lld superseded by version %lld",
                                         (long long)latest, (long long)version),
                           "hxl");
}

static bool fts_row(struct domain_expansion *x, int64_t cents, const char *status, int64_t date,
                    const char *memo, const struct org *funder, const struct org *recipient)
{
    bool ok = true, given;
    const char *flow = domain_string(x, "flow", true, &ok);
    int64_t version = domain_integer(x, "version", 1, true, &given, &ok);
    const char *boundary = domain_string(x, "boundary", true, &ok);
    const char *on_boundary = domain_string(x, "on_boundary", true, &ok);
    if (!ok) return false;
    size_t n = strlen(flow);
    for (size_t i = 0; i < n; i++)
        if (flow[i] < '0' || flow[i] > '9' || n > 18)
            return domain_invalid(x, "flow: must be an FTS flow id (decimal)");
    if (strcmp(boundary, "incoming") != 0 && strcmp(boundary, "internal") != 0 &&
        strcmp(boundary, "outgoing") != 0)
        return domain_invalid(x, "boundary: must be incoming, internal or outgoing");
    if (strcmp(on_boundary, "single") != 0 && strcmp(on_boundary, "shared") != 0)
        return domain_invalid(x, "on_boundary: must be single or shared");
    char expected[64];
    fts_transfer_id(expected, sizeof expected, flow, version);
    if (strcmp(x->id, expected) != 0)
        return domain_invalid(x, "id: must be %s, the flow's version", expected);
    struct domain_fts_versions v = {.prefix = domain_printf(x, "fts.%s.v", flow)};
    if (!domain_fts_versions_read(x, &v)) return false;
    if (v.held.latest >= version) return unit_restated(x); /* counted already: see the top */
    const char *debit = org_account(x, funder, HXL_GIVEN);
    const char *credit = debit != NULL ? org_account(x, recipient, HXL_RECEIVED) : NULL;
    if (debit == NULL || credit == NULL) return false;
    char old[64];
    bool corrected = fts_held_money(&v.held, flow, old, sizeof old);
    if (corrected && !supersede(x, old, v.held.latest, version)) return false;
    struct fts_held after = {.latest = version, .table = cents > 0};
    if (cents == 0) /* nothing moves, as in domain_fts.c; a correction is noted */
        return !corrected || domain_fts_versions_note(x, &v, &after);
    /* The table's record of the version: FTS's own, when it comes, replaces it. */
    return money_step(x, domain_printf(x, "%s%s", x->id, FTS_TABLE), debit, credit, cents,
                      status, date, memo, funder, true) &&
           domain_fts_versions_note(x, &v, &after);
}

bool domain_hxl_flow(struct domain_expansion *x)
{
    static const char *const fields[] = {
        "status", "amount_usd", "date", "funder", "recipient", "description", "currency",
        "original_amount", "rate", "ref_code", "flow", "version", "boundary", "on_boundary",
        NULL};
    bool ok = domain_fields(x, fields), dated, given;
    const char *status = domain_string(x, "status", true, &ok);
    int64_t cents = domain_integer(x, "amount_usd", 0, true, &given, &ok);
    int64_t date = domain_time(x, "date", &dated, &ok);
    const json_t *about = json_object_get(x->op, "description");
    if (about != NULL && (!json_is_string(about) || json_string_length(about) == 0 ||
                          json_string_length(about) > LEDGER_MEMO_BYTES_MAX))
        ok = domain_invalid(x, "description: must be text of 1 to %d bytes",
                            LEDGER_MEMO_BYTES_MAX);
    static const char *const texts[] = {"currency", "original_amount", "rate", "ref_code", NULL};
    for (const char *const *t = texts; *t != NULL; t++) {
        const json_t *v = json_object_get(x->op, *t);
        if (v != NULL && (!json_is_string(v) || json_string_length(v) == 0 ||
                          json_string_length(v) > 128))
            ok = domain_invalid(x, "%s: must be text of 1 to 128 bytes", *t);
    }
    struct org funder, recipient;
    ok = ok && org_read(x, "funder", &funder) && org_read(x, "recipient", &recipient);
    if (!ok) return false;
    if (!dated) return domain_invalid(x, "date: required");
    if (strcmp(status, "pledge") != 0 && strcmp(status, "commitment") != 0 &&
        strcmp(status, "paid") != 0)
        return domain_invalid(x, "status: must be pledge, commitment or paid");
    const char *memo = about != NULL ? copied(x, json_string_value(about)) : NULL;
    if (json_object_get(x->op, "flow") != NULL)
        return fts_row(x, cents, status, date, memo, &funder, &recipient);
    static const char *const fts_only[] = {"version", "boundary", "on_boundary", NULL};
    for (const char *const *f = fts_only; *f != NULL; f++)
        if (json_object_get(x->op, *f) != NULL)
            return domain_invalid(x, "%s: only with an FTS flow id (flow)", *f);
    if (strncmp(x->id, HXL_ID_PREFIX, strlen(HXL_ID_PREFIX)) != 0)
        return domain_invalid(x, "id: must start with " HXL_ID_PREFIX
                                 " (a row without an FTS flow id)");
    if (funder.name == NULL || recipient.name == NULL)
        return domain_invalid(x, "%s: required (a row without an FTS flow id)",
                              funder.name == NULL ? "funder" : "recipient");
    if (cents == 0) return domain_invalid(x, "amount_usd: must be ≥ 1 without an FTS flow id");
    const char *debit = org_account(x, &funder, HXL_GIVEN);
    const char *credit = debit != NULL ? org_account(x, &recipient, HXL_RECEIVED) : NULL;
    if (debit == NULL || credit == NULL) return false;
    return money_step(x, x->id, debit, credit, cents, status, date, memo, &funder, false);
}
