/*
 * domain_iati.c — IATI activities and transactions, as fmt/iati.c reads
 * them, onto the ledger (the mapping, and why, is docs/INTEROP.md's).
 *
 * `iati_transaction`: one transaction, a transfer between two organisations'
 * accounts in the currency's unit, at a stage:
 *
 *   iati.<stage>.<party>.given.<unit>     what the provider gave (debited)
 *   iati.<stage>.<party>.received.<unit>  what the receiver received (credited)
 *
 * where stage is pledge (types 12, 13: pending, since a pledge binds no one),
 * commitment (2, 11), guarantee (10) or funds (the money that moved: 1, 3–9),
 * party the organisation's @ref as a party id (fmt/iati.h), or "unspecified"
 * for one given without a ref. Stages are apart so that a commitment and the
 * disbursements that honour it do not add up on one account, and so that
 * `balance --prefix iati.funds` is the money that moved, per currency. A
 * negative value (a correction, a refund) moves the other way between the
 * same two accounts. The transfer's kind is the type's ("iati.disbursement"),
 * its memo the description, its meta the rest of the report.
 *
 * Both sides of a flow may report it: the provider (2, 3, 7 or 12, naming
 * the receiver's activity) and the recipient (11, 1 or 13, naming the
 * provider's). Such a report is "iati/pair/<key>/p" or "…/r", the key common
 * to the two (fmt/iati.c). The first report recorded moves the money; the
 * other is kept as a record (below) whose meta names the one counted
 * ("counted_as"). Which came first is the ledger's to say, the batch so far
 * included: the expansion looks both ids up, so the same report again finds
 * itself and answers exists, and replay decides as the first run did.
 *
 * `iati_activity`: the activity itself, kept as a record: a transfer of 1
 * IATI_RECORD from iati.records.published to iati.records.activities, its
 * meta the activity's details (identifier, reporting and participating
 * organisations, title…). A second report is a record of the same unit to
 * iati.records.second_reports. Counting records in a unit of their own keeps
 * them out of every currency's balances while `balance` still counts them.
 *
 * Accounts and the records' unit are made when neither the ledger nor the
 * batch so far has them (looked up by id, never by a pass over the batch),
 * so a transaction is one step once its accounts exist. Parties are the
 * import's to register (app/interop_iati.c): a transaction names its
 * organisations' party ids as its accounts' owners.
 */
#include <assert.h>
#include <string.h>

#include "app/app.h"
#include "app/domain.h"
#include "fmt/iati.h"
#include "util/amount.h"
#include "util/timefmt.h"

#define IATI_RECORD_AMOUNT 1

/* ---------------------------------------------------------------- reading the store */

struct scale_find {
    bool found;
    int32_t scale;
};

static int scale_fn(void *ctx, const struct ledger_unit *unit)
{
    struct scale_find *s = ctx;
    s->found = true;
    s->scale = unit->scale;
    return 0;
}

/* A unit's scale: recorded, or made by the units that open the batch (the import's). */
static bool unit_scale(struct domain_expansion *x, const char *code, int32_t *scale)
{
    struct scale_find s = {0};
    struct cc_error err = {0};
    const struct store_driver *d = x->cc->store->driver;
    if (d->unit_get(x->cc->store, code, scale_fn, &s, &err) == CC_OK && s.found) {
        *scale = s.scale;
        return true;
    }
    for (size_t i = 0; i < x->earlier_count && x->earlier[i].type == LEDGER_OP_UNIT; i++)
        if (x->earlier[i].invalid == NULL && x->earlier[i].id != NULL &&
            strcmp(x->earlier[i].id, code) == 0) {
            *scale = x->earlier[i].scale;
            return true;
        }
    return false;
}

/* An account step, unless the account is recorded or made earlier in the batch. */
static bool account_ensure(struct domain_expansion *x, const char *id, const char *unit,
                           const char *owner, const char *name)
{
    const char *known_unit, *known_name;
    if (domain_lookup_account(x, id, &known_unit, &known_name)) return true;
    return domain_account(x, id, unit, owner, 0, name) != NULL;
}

/* The records' unit and accounts, made when missing. */
static bool records_ensure(struct domain_expansion *x, const char *credit, const char *name)
{
    static const char noted[] = "iati:unit:" IATI_UNIT_RECORD; /* made by an earlier operation */
    int32_t scale;
    uint32_t seen;
    bool made = x->batch_keys != NULL && strmap_get(x->batch_keys, noted, &seen);
    if (!made && !unit_scale(x, IATI_UNIT_RECORD, &scale)) {
        struct ledger_op *unit = domain_step(x, LEDGER_OP_UNIT);
        if (unit == NULL) return false;
        unit->id = IATI_UNIT_RECORD;
        unit->name = IATI_UNIT_RECORD_NAME;
        unit->scale = 0;
        unit->flags |= LEDGER_OP_HAS_SCALE;
        if (x->batch_keys != NULL && !strmap_put(x->batch_keys, noted, 1))
            return domain_invalid(x, "out of memory");
    }
    return account_ensure(x, IATI_ACCOUNT_PUBLISHED, IATI_UNIT_RECORD, NULL,
                          "IATI records: the reports published") &&
           account_ensure(x, credit, IATI_UNIT_RECORD, NULL, name);
}

/* ---------------------------------------------------------------- fields */

/* A string member when present: at most limit bytes, not empty when required. */
static const char *member_text(struct domain_expansion *x, const json_t *o, const char *where,
                               const char *name, size_t limit, bool required, bool *ok)
{
    const json_t *v = json_object_get(o, name);
    if (v == NULL) {
        if (required) *ok = domain_invalid(x, "%s%s: required", where, name);
        return NULL;
    }
    if (!json_is_string(v) || json_string_length(v) > limit ||
        strlen(json_string_value(v)) != json_string_length(v) ||
        (required && json_string_length(v) == 0)) {
        *ok = domain_invalid(x, "%s%s: must be text of %s%zu bytes at most", where, name,
                             required ? "1 to " : "", limit);
        return NULL;
    }
    return json_string_value(v);
}

/* An organisation: {"ref","name","type","activity_id"}, each text, all optional. */
static bool org_valid(struct domain_expansion *x, const json_t *org, const char *where,
                      const char *name)
{
    char place[64];
    snprintf(place, sizeof place, "%s%s.", where, name);
    if (org == NULL || !json_is_object(org))
        return domain_invalid(x, "%s%s: must be an object", where, name);
    bool ok = true;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)org, key, v) {
        if (strcmp(key, "ref") != 0 && strcmp(key, "name") != 0 && strcmp(key, "type") != 0 &&
            strcmp(key, "activity_id") != 0)
            return domain_invalid(x, "%s%s: unknown field", place, key);
    }
    member_text(x, org, place, "ref", IATI_REF_BYTES_MAX, false, &ok);
    member_text(x, org, place, "name", LEDGER_NAME_BYTES_MAX, false, &ok);
    member_text(x, org, place, "type", IATI_CODE_BYTES_MAX, false, &ok);
    member_text(x, org, place, "activity_id", IATI_IDENTIFIER_BYTES_MAX, false, &ok);
    return ok;
}

/* One report of a transaction, checked. */
struct report {
    const json_t *object;           /* the operation */
    const char *id;                 /* its transfer */
    const struct iati_type *type;
    int64_t amount;                 /* minor units of the currency's unit */
    const char *currency;
    bool negative;
    int64_t date;
    const char *description;        /* the memo */
    const char *provider, *receiver; /* @refs, or NULL */
    const json_t *pair;
    char side;                      /* of the pair: 'p', 'r'; 0 when not one */
    bool same_if_moved;             /* recorded elsewhere in its activity: the same (moved_meta) */
};

static const char *const report_fields[] = {
    "activity", "position", "ref", "type", "amount", "currency", "value", "value_date", "date",
    "provider", "receiver", "description", "humanitarian", "classifications", "pair",
    "same_if_moved", NULL};

/* The pair object: its key is recomputed from what it names, so it cannot be made up. */
static bool pair_valid(struct domain_expansion *x, struct report *r, const char *where,
                       const char *activity, const char *value)
{
    const json_t *pair = r->pair;
    bool ok = true;
    char place[48];
    snprintf(place, sizeof place, "%spair.", where);
    if (!json_is_object(pair)) return domain_invalid(x, "%spair: must be an object", where);
    const char *key = member_text(x, pair, place, "key", 32, true, &ok);
    const char *side = member_text(x, pair, place, "side", 16, true, &ok);
    const char *provider =
        member_text(x, pair, place, "provider_activity", IATI_IDENTIFIER_BYTES_MAX, true, &ok);
    const char *receiver =
        member_text(x, pair, place, "receiver_activity", IATI_IDENTIFIER_BYTES_MAX, true, &ok);
    const json_t *ordinal = json_object_get(pair, "ordinal");
    if (!ok) return false;
    if (!json_is_integer(ordinal) || json_integer_value(ordinal) < 1)
        return domain_invalid(x, "%sordinal: must be an integer ≥ 1", place);
    r->side = strcmp(side, "provider") == 0 ? 'p' : strcmp(side, "recipient") == 0 ? 'r' : 0;
    if (r->side == 0 || r->side != r->type->side)
        return domain_invalid(x, "%sside: type %d is reported by the %s", place, r->type->code,
                              r->type->side == 'p'   ? "provider"
                              : r->type->side == 'r' ? "recipient"
                                                     : "one side only: it pairs with nothing");
    if (strcmp(r->side == 'p' ? provider : receiver, activity) != 0)
        return domain_invalid(x, "%s%s: must be the reporting activity, %s", place,
                              r->side == 'p' ? "provider_activity" : "receiver_activity",
                              activity);
    char expected[33];
    iati_pair_key(provider, receiver, r->type->stage, r->currency, value,
                  json_integer_value(ordinal), expected);
    if (strcmp(key, expected) != 0)
        return domain_invalid(x, "%skey: must be %s, from the activities, stage, currency, "
                                 "value and ordinal",
                              place, expected);
    return true;
}

/* The value's text against the amount: the same number, in the unit's scale. */
static bool value_valid(struct domain_expansion *x, struct report *r, const char *where,
                        const char *value)
{
    char canonical[IATI_VALUE_BYTES_MAX + 2];
    if (!iati_decimal_canonical(value, canonical) || strcmp(canonical, value) != 0 ||
        strcmp(value, "0") == 0)
        return domain_invalid(x, "%svalue: must be a decimal in canonical form, not 0", where);
    r->negative = value[0] == '-';
    int32_t scale;
    if (!unit_scale(x, r->currency, &scale)) return true; /* the accounts' steps will say */
    int64_t minor = 0;
    if (amount_parse(value + r->negative, scale, &minor) != AMOUNT_OK || minor != r->amount)
        return domain_invalid(x, "%samount: must be value %s in %s's minor units (scale %d)",
                              where, value, r->currency, scale);
    return true;
}

/* Checks the operation's report; where prefixes messages. */
static bool report_read(struct domain_expansion *x, const json_t *o, const char *where,
                        struct report *r)
{
    memset(r, 0, sizeof *r);
    r->object = o;
    bool ok = true, date_only;
    const char *activity =
        member_text(x, o, where, "activity", IATI_IDENTIFIER_BYTES_MAX, true, &ok);
    const char *ref = member_text(x, o, where, "ref", IATI_REF_BYTES_MAX, false, &ok);
    const char *value = member_text(x, o, where, "value", IATI_VALUE_BYTES_MAX + 1, true, &ok);
    const char *date = member_text(x, o, where, "date", IATI_CODE_BYTES_MAX, true, &ok);
    member_text(x, o, where, "value_date", IATI_CODE_BYTES_MAX, false, &ok);
    member_text(x, o, where, "humanitarian", IATI_CODE_BYTES_MAX, false, &ok);
    r->currency = member_text(x, o, where, "currency", LEDGER_UNIT_CODE_BYTES_MAX, true, &ok);
    r->description = member_text(x, o, where, "description", LEDGER_MEMO_BYTES_MAX, false, &ok);
    if (!ok) return false;
    const json_t *type = json_object_get(o, "type"), *amount = json_object_get(o, "amount"),
                 *position = json_object_get(o, "position");
    r->type = json_is_integer(type) ? iati_type_of((int)json_integer_value(type)) : NULL;
    if (r->type == NULL)
        return domain_invalid(x, "%stype: must be an IATI transaction type, 1 to 13", where);
    if (!json_is_integer(amount) || json_integer_value(amount) < 1)
        return domain_invalid(x, "%samount: must be an integer ≥ 1", where);
    r->amount = json_integer_value(amount);
    if (!json_is_integer(position) || json_integer_value(position) < 1)
        return domain_invalid(x, "%sposition: must be an integer ≥ 1", where);
    const json_t *same_if_moved = json_object_get(o, "same_if_moved");
    if (same_if_moved != NULL && !json_is_boolean(same_if_moved))
        return domain_invalid(x, "%ssame_if_moved: must be true or false", where);
    r->same_if_moved = json_is_true(same_if_moved);
    if (!ledger_valid_unit_code(r->currency))
        return domain_invalid(x, "%scurrency: must be a unit code such as EUR", where);
    r->currency = domain_printf(x, "%s", r->currency); /* the steps outlive the operation's JSON */
    if (!time_parse(date, &r->date, &date_only) || !date_only)
        return domain_invalid(x, "%sdate: must be a date (YYYY-MM-DD)", where);
    if (!value_valid(x, r, where, value)) return false;
    const json_t *provider = json_object_get(o, "provider");
    const json_t *receiver = json_object_get(o, "receiver");
    if (!org_valid(x, provider, where, "provider") || !org_valid(x, receiver, where, "receiver"))
        return false;
    r->provider = json_string_value(json_object_get(provider, "ref"));
    r->receiver = json_string_value(json_object_get(receiver, "ref"));
    if (r->provider != NULL && r->provider[0] == '\0') r->provider = NULL;
    if (r->receiver != NULL && r->receiver[0] == '\0') r->receiver = NULL;
    const json_t *c = json_object_get(o, "classifications");
    if (c != NULL && !json_is_object(c))
        return domain_invalid(x, "%sclassifications: must be an object", where);
    r->pair = json_object_get(o, "pair");
    if (r->pair != NULL && !pair_valid(x, r, where, activity, value)) return false;
    /* The id says which report this is: derived, so that it cannot name another's. */
    char id[IATI_ID_BYTES_MAX + 1], by_position[IATI_ID_BYTES_MAX + 1];
    const char *given = x->id;
    if (r->pair != NULL) {
        if (!iati_pair_id(id, sizeof id, json_string_value(json_object_get(r->pair, "key")),
                          r->side) ||
            given == NULL || strcmp(given, id) != 0)
            return domain_invalid(x, "%sid: must be %s, the report's id", where, id);
    } else {
        bool ok_ref = ref != NULL && iati_transaction_id(id, sizeof id, activity, ref, 0) &&
                      given != NULL && strcmp(given, id) == 0;
        bool ok_pos = iati_transaction_id(by_position, sizeof by_position, activity, NULL,
                                          json_integer_value(position)) &&
                      given != NULL && strcmp(given, by_position) == 0;
        if (!ok_ref && !ok_pos)
            return domain_invalid(x, "%sid: must be %s (or by its ref), the transaction's id",
                                  where, by_position);
    }
    r->id = domain_printf(x, "%s", given);
    return x->message[0] == '\0';
}

/* What the ledger keeps of a report: its fields but the ones the transfer holds itself. */
static const char *report_meta(struct domain_expansion *x, const struct report *r,
                               const char *counted_as)
{
    json_t *meta = json_copy((json_t *)r->object); /* only its own members change */
    if (meta == NULL) {
        domain_invalid(x, "out of memory");
        return NULL;
    }
    static const char *const dropped[] = {"op",     "id",           "amount", "description",
                                          "linked", "same_if_moved", NULL};
    for (const char *const *d = dropped; *d != NULL; d++) json_object_del(meta, *d);
    json_object_set_new(meta, "source", json_string("iati"));
    if (counted_as != NULL) json_object_set_new(meta, "counted_as", json_string(counted_as));
    const char *text = domain_json(x, meta);
    json_decref(meta);
    return text;
}

/*
 * A report's record, as the ledger already holds it when only its place in
 * the activity differs (meta `position`): the same transaction, moved. A
 * publisher that inserts a transaction, or lists them newest first, moves
 * every one after it. A transaction known by its @ref, or a report of a
 * pair, keeps its id wherever it stands; its record keeps the place it was
 * first recorded at, so the ledger finds it the same (exists) instead of
 * refusing the move as a change. Any other difference stays one.
 *
 * Only for an operation that says so (`same_if_moved`, which the import
 * sets): the operations logged before it was, replayed, must meet the
 * refusal they met then, or `verify` would see a record that is not the
 * log's.
 */
static const char *moved_meta(struct domain_expansion *x, const struct report *r,
                              const char *meta)
{
    /*
     * What the ledger will compare the step with: the row recorded, which no
     * later step can replace; else one made earlier in the batch.
     */
    struct domain_found found;
    if (meta == NULL || !r->same_if_moved ||
        !(domain_lookup_recorded(x, r->id, &found) || domain_lookup_batch(x, r->id, &found)) ||
        found.meta == NULL || strcmp(found.meta, meta) == 0)
        return meta;
    json_t *was = json_loads(found.meta, 0, NULL), *now = json_loads(meta, 0, NULL);
    bool moved = json_is_integer(json_object_get(was, "position")) &&
                 json_is_integer(json_object_get(now, "position"));
    if (moved) {
        json_object_del(was, "position");
        json_object_del(now, "position");
        moved = json_equal(was, now);
    }
    json_decref(was);
    json_decref(now);
    return moved ? found.meta : meta;
}

/* ---------------------------------------------------------------- steps */

/* An organisation's account at the type's stage, made when missing. */
static const char *org_account(struct domain_expansion *x, const struct report *r,
                               const char *ref, bool given)
{
    char party[IATI_PARTY_ID_BYTES_MAX + 1], owner_id[IATI_PARTY_ID_BYTES_MAX + 1];
    char account[LEDGER_ID_BYTES_MAX + 1];
    if (ref != NULL) {
        iati_party_id(ref, party);
        iati_party_of(ref, owner_id);
    }
    if (!iati_account_id(account, sizeof account, r->type->stage, ref != NULL ? party : NULL,
                         given, r->currency)) {
        domain_invalid(x, "%s: no account id can be made for it", ref != NULL ? ref : "");
        return NULL;
    }
    const char *id = arena_strdup(x->arena, account);
    if (id == NULL) {
        domain_invalid(x, "out of memory");
        return NULL;
    }
    const char *known_unit, *known_name;
    if (domain_lookup_account(x, id, &known_unit, &known_name)) return id;
    /* Named only when made: most transactions find both accounts made already. */
    const char *name =
        ref != NULL
            ? domain_printf(x, "IATI %s %s %s", r->type->stage, given ? "given by" : "received by",
                            ref)
            : domain_printf(x, "IATI %s %s organisations without a ref", r->type->stage,
                            given ? "given by" : "received by");
    const char *owner = ref != NULL ? domain_printf(x, "%s", owner_id) : NULL;
    return domain_account(x, id, r->currency, owner, 0, name) != NULL ? id : NULL;
}

/* The report as money: provider's given → receiver's received (the other way when negative). */
static bool money(struct domain_expansion *x, const struct report *r)
{
    const char *given = org_account(x, r, r->provider, true);
    const char *received = given != NULL ? org_account(x, r, r->receiver, false) : NULL;
    if (given == NULL || received == NULL) return false;
    /* Looked up before this operation's own step exists. */
    const char *meta = moved_meta(x, r, report_meta(x, r, NULL));
    if (meta == NULL) return false;
    struct ledger_op *t = domain_transfer(x, r->id, r->negative ? received : given,
                                          r->negative ? given : received, r->amount,
                                          r->type->kind);
    if (t == NULL) return false;
    if (r->type->pending) t->flags |= LEDGER_OP_PENDING;
    t->unit = r->currency; /* the accounts must be in it, whoever made them */
    t->date = r->date;
    t->flags |= LEDGER_OP_HAS_DATE;
    if (r->description != NULL && r->description[0] != '\0')
        t->memo = arena_strdup(x->arena, r->description);
    t->meta = meta;
    return x->message[0] == '\0';
}

/* The report as the second of a flow already counted: a record naming the one counted. */
static bool second_report(struct domain_expansion *x, const struct report *r,
                          const char *counted_as)
{
    if (!records_ensure(x, IATI_ACCOUNT_SECOND_REPORTS,
                        "IATI records: second reports of flows counted once"))
        return false;
    const char *meta = moved_meta(x, r, report_meta(x, r, counted_as));
    if (meta == NULL) return false;
    struct ledger_op *t = domain_transfer(x, r->id, IATI_ACCOUNT_PUBLISHED,
                                          IATI_ACCOUNT_SECOND_REPORTS, IATI_RECORD_AMOUNT,
                                          IATI_KIND_SECOND_REPORT);
    if (t == NULL) return false;
    t->date = r->date;
    t->flags |= LEDGER_OP_HAS_DATE;
    if (r->description != NULL && r->description[0] != '\0')
        t->memo = arena_strdup(x->arena, r->description);
    t->meta = meta;
    return x->message[0] == '\0';
}

/* What the ledger or the batch so far holds under id: 0 nothing, 'm' money, 'r' a record. */
static char recorded_as(struct domain_expansion *x, const char *id)
{
    struct domain_found found;
    if (!domain_lookup(x, id, &found)) return 0;
    return strcmp(found.debit, IATI_ACCOUNT_PUBLISHED) == 0 ? 'r' : 'm';
}

bool domain_iati_transaction(struct domain_expansion *x)
{
    assert(x->op != NULL && x->id != NULL);
    if (!domain_fields(x, report_fields)) return false;
    struct report own;
    if (!report_read(x, x->op, "", &own)) return false;
    if (own.pair == NULL) return money(x, &own);
    /* The first report recorded is the one that moved the money. */
    char other_id[IATI_ID_BYTES_MAX + 1];
    iati_pair_id(other_id, sizeof other_id, json_string_value(json_object_get(own.pair, "key")),
                 own.side == 'p' ? 'r' : 'p');
    char own_as = recorded_as(x, own.id);
    bool own_money = own_as != 0 ? own_as == 'm' : recorded_as(x, other_id) != 'm';
    return own_money ? money(x, &own) : second_report(x, &own, other_id);
}

bool domain_iati_activity(struct domain_expansion *x)
{
    assert(x->op != NULL && x->id != NULL);
    static const char *const fields[] = {
        "identifier", "reporting_org", "title", "description", "activity_status",
        "activity_dates", "default_currency", "humanitarian", "hierarchy", "participating",
        "participating_more", "internal_id", NULL};
    bool ok = domain_fields(x, fields);
    const char *identifier =
        member_text(x, x->op, "", "identifier", IATI_IDENTIFIER_BYTES_MAX, true, &ok);
    member_text(x, x->op, "", "title", LEDGER_NAME_BYTES_MAX, false, &ok);
    member_text(x, x->op, "", "description", LEDGER_MEMO_BYTES_MAX, false, &ok);
    member_text(x, x->op, "", "activity_status", IATI_CODE_BYTES_MAX, false, &ok);
    member_text(x, x->op, "", "default_currency", IATI_CODE_BYTES_MAX, false, &ok);
    member_text(x, x->op, "", "humanitarian", IATI_CODE_BYTES_MAX, false, &ok);
    member_text(x, x->op, "", "hierarchy", IATI_CODE_BYTES_MAX, false, &ok);
    member_text(x, x->op, "", "internal_id", IATI_INTERNAL_ID_BYTES_MAX, false, &ok);
    if (!ok) return false;
    if (!org_valid(x, json_object_get(x->op, "reporting_org"), "", "reporting_org")) return false;
    const json_t *participating = json_object_get(x->op, "participating");
    if (participating != NULL) {
        if (!json_is_array(participating))
            return domain_invalid(x, "participating: must be an array");
        size_t i;
        const json_t *org;
        json_array_foreach(participating, i, org) {
            json_t *copy = json_deep_copy(org); /* role is a participant's own field */
            if (copy == NULL) return domain_invalid(x, "out of memory");
            const json_t *role = json_object_get(copy, "role");
            bool role_ok = role == NULL || (json_is_string(role) &&
                                            json_string_length(role) <= IATI_CODE_BYTES_MAX);
            json_object_del(copy, "role");
            char where[48];
            snprintf(where, sizeof where, "participating[%zu]", i);
            bool valid = role_ok && org_valid(x, copy, "", where);
            json_decref(copy);
            if (!role_ok) return domain_invalid(x, "%s.role: must be a code", where);
            if (!valid) return false;
        }
    }
    const json_t *dates = json_object_get(x->op, "activity_dates");
    if (dates != NULL && !json_is_array(dates))
        return domain_invalid(x, "activity_dates: must be an array");
    const json_t *more = json_object_get(x->op, "participating_more");
    if (more != NULL && (!json_is_integer(more) || json_integer_value(more) < 1))
        return domain_invalid(x, "participating_more: must be an integer ≥ 1");
    char id[IATI_ID_BYTES_MAX + 1];
    if (!iati_activity_record_id(id, sizeof id, identifier) || strcmp(id, x->id) != 0)
        return domain_invalid(x, "id: must be %s, the activity's record", id);
    if (!records_ensure(x, IATI_ACCOUNT_ACTIVITIES, "IATI records: the activities")) return false;
    json_t *meta = json_copy((json_t *)x->op); /* only its own members change */
    if (meta == NULL) return domain_invalid(x, "out of memory");
    json_object_del(meta, "op");
    json_object_del(meta, "id");
    json_object_del(meta, "linked");
    json_object_set_new(meta, "source", json_string("iati"));
    const char *text = domain_json(x, meta);
    /*
     * A record made before the publisher's own identifier was kept has none
     * (or one made earlier in the batch from a copy of the file without it):
     * the same activity again is that record, not one that differs from it,
     * so it answers exists and a file imported before imports again as it
     * did. Looked up before this operation's own step exists.
     */
    struct domain_found found;
    if (text != NULL && json_object_get(meta, "internal_id") != NULL &&
        domain_lookup(x, x->id, &found) && found.meta != NULL && strcmp(found.meta, text) != 0) {
        json_object_del(meta, "internal_id");
        const char *without = domain_json(x, meta);
        if (without != NULL && strcmp(found.meta, without) == 0) text = without;
    }
    json_decref(meta);
    if (text == NULL) return false;
    struct ledger_op *t = domain_transfer(x, x->id, IATI_ACCOUNT_PUBLISHED,
                                          IATI_ACCOUNT_ACTIVITIES, IATI_RECORD_AMOUNT,
                                          IATI_KIND_ACTIVITY);
    if (t == NULL) return false;
    t->meta = text;
    return true;
}
