/*
 * domain_aid.c — humanitarian aid from the border crossing to the people:
 * the organisations that send it, the commodities, crossings, warehouses and
 * distribution points it passes, and each consignment's way through them,
 * counted in the commodities' own units, as steps on the ledger.
 *
 * Units TRUCK, KG and PERSON are created by the caller; a commodity may be
 * counted in any unit (KG, LITRE, …). Definitions are records the expansions
 * read back by id (docs/DOMAIN.md):
 *   organisation        party <id>; account aid.org.<id>.trucks (TRUCK)
 *   commodity           account aid.commodity.<id> in the commodity's unit
 *   crossing            accounts aid.crossing.<id>.{capacity, declared,
 *                       override, used, screened_trucks} (TRUCK); transfer
 *                       crossing.<id> capacity → declared, meta {name,
 *                       trucks_per_day, screening_per_day}
 *   warehouse           accounts aid.site.<id>.{capacity, declared} (KG);
 *                       transfer warehouse.<id>, meta {name, capacity_kg}
 *   distribution_point  accounts aid.point.<id>.population{.source} (PERSON);
 *                       transfer point.<id>, meta {name, population, need}
 *
 * A consignment is a master record <c>, aid.org.<org>.trucks →
 * aid.consignments of its screening trucks, meta {organisation, crossing,
 * items, pallets, trucks}, and per item a transfer <c>/registered/<commodity>
 * from aid.source.<org>.<commodity> to aid.registered.<crossing>.<commodity>.
 * A move to the next stage takes every item from where its previous stage's
 * record <c>/<previous>/<commodity> put it (that record's credit account) to
 * aid.<stage>.<location>.<commodity>, record <c>/<stage>/<commodity>. Stage
 * accounts are flagged debits_must_not_exceed_credits: a stage never gives
 * more than it received. Stages, in order: registered, screened, entered,
 * awaiting, collected (at the crossing), warehoused (at a warehouse),
 * dispatched, distributed (at a distribution point); screening may reject
 * instead (aid.rejected.<crossing>.<commodity>), and a proof of delivery
 * splits what was dispatched into distributed, damaged and lost.
 *
 * Capacities: a crossing's day is an account funded once per day from its
 * capacity (transfer crossing.<x>.day.<YYYYMMDD>: trucks_per_day; and
 * crossing.<x>.screening.<YYYYMMDD>: screening_per_day). Screening and entry
 * take the consignment's screening trucks from it, so trucks beyond the day's
 * capacity are exceeds_credits. An override takes them from
 * aid.crossing.<x>.override instead, which has no limit, and says why.
 *
 * Stage accounts are shared by every consignment at a location, so two rules
 * keep a move from taking another consignment's goods:
 * - a move relies on its previous record only when that record is stored, or
 *   made earlier in the same chain: a move in the same batch as the one before
 *   it must be linked to it, so that it cannot run when that one failed;
 * - the branches (screened or rejected; distributed, damaged or lost) exclude
 *   each other: a retry with another decision or another proof of delivery
 *   is refused instead of moving the goods a second time.
 *
 * A move without a date takes the batch's clock; a retry takes the date its
 * records were first made with, so that the same move again answers exists.
 */
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "app/domain.h"

#define AID_TRUCK "TRUCK"
#define AID_KG "KG"
#define AID_PERSON "PERSON"
#define AID_CONSIGNMENTS "aid.consignments"
#define AID_ITEMS_MAX 16        /* commodities of one consignment */
#define AID_NAME_BYTES_MAX 48   /* as domain_name's: names go into account ids */
#define AID_DAY_NS INT64_C(86400000000000)
#define AID_STAGE_FLAGS LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS
#define AID_PATH                                                                              \
    "registered → screened → entered → awaiting → collected → warehoused → dispatched → "    \
    "distributed"

enum aid_stage {
    AID_REGISTERED,
    AID_SCREENED,
    AID_ENTERED,
    AID_AWAITING,
    AID_COLLECTED,
    AID_WAREHOUSED,
    AID_DISPATCHED,
    AID_DISTRIBUTED,
    AID_STAGES_COUNT
};

/* In order: each stage receives from the one before it. */
static const char *const aid_stages[AID_STAGES_COUNT] = {
    "registered", "screened", "entered", "awaiting",
    "collected", "warehoused", "dispatched", "distributed",
};

/* A proof of delivery's parts: the key in `received`, and the stage each part goes to. */
#define AID_PARTS_COUNT 3
static const char *const aid_part_keys[AID_PARTS_COUNT] = {"good", "damaged", "lost"};
static const char *const aid_part_stages[AID_PARTS_COUNT] = {"distributed", "damaged", "lost"};

struct aid_item {
    const char *commodity; /* its name: the account aid.commodity.<commodity> */
    const char *unit;      /* that account's unit */
    int64_t quantity;      /* in the unit's minor units */
};

struct aid_consignment {
    const char *id;
    const char *organisation;
    const char *crossing;
    struct aid_item items[AID_ITEMS_MAX];
    size_t items_count;
    int64_t pallets;
    int64_t trucks_screening; /* trucks through screening and entry */
    int64_t trucks_delivery;  /* trucks that collect at the crossing */
};

/* A consignment_move as read from its operation. */
struct aid_move {
    struct aid_consignment c;
    enum aid_stage to;
    int64_t date;           /* of every transfer of the move */
    bool rejected;          /* screened: the decision was "rejected" */
    const char *reason;     /* screened, rejected: why */
    const char *override;   /* screened, entered: why the day's capacity is passed over */
    const char *warehouse;  /* warehoused: where */
    const char *point;      /* dispatched: where to */
    const json_t *received; /* distributed: the proof of delivery */
};

/* ---------------------------------------------------------------- reading */

/* A name as domain_name() takes it: [a-z0-9][a-z0-9_-]{0,47}. */
static bool aid_plain_text(const char *s)
{
    size_t n = strlen(s);
    bool good = n > 0 && n <= AID_NAME_BYTES_MAX &&
                ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9'));
    for (const char *p = s; good && *p; p++)
        good = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-';
    return good;
}

/* Such a name from a JSON value; NULL when it is not one. */
static const char *aid_plain(const json_t *value)
{
    if (!json_is_string(value)) return NULL;
    const char *s = json_string_value(value);
    return strlen(s) == json_string_length(value) && aid_plain_text(s) ? s : NULL;
}



static bool aid_is_transfer(const struct ledger_op *op, const char *id)
{
    return op->type == LEDGER_OP_TRANSFER && op->invalid == NULL && op->id != NULL &&
           strcmp(op->id, id) == 0;
}

/* Where a record an expansion relies on was found. */
enum aid_source {
    AID_ABSENT,    /* nowhere */
    AID_RECORDED,  /* stored */
    AID_CHAINED,   /* made earlier in this operation's chain: it holds if this does */
    AID_UNCHAINED, /* made earlier in the batch, outside this chain: it may yet fail */
};

/* Looks transfer id up: the stored row first (it is what holds), then the batch. */
static enum aid_source aid_find(struct domain_expansion *x, const char *id,
                                struct domain_found *out)
{
    memset(out, 0, sizeof *out);
    if (domain_lookup_recorded(x, id, out)) return AID_RECORDED;
    if (!domain_lookup(x, id, out)) return AID_ABSENT;
    for (size_t i = 0; i < x->count; i++)
        if (aid_is_transfer(&x->steps[i], id)) return AID_CHAINED;
    size_t at = x->earlier_count;
    while (at-- > 0)
        if (aid_is_transfer(&x->earlier[at], id)) break;
    if (at == SIZE_MAX) return AID_UNCHAINED;
    /* Linked all the way from that step to this operation: one chain. */
    for (size_t k = at; k < x->earlier_count; k++)
        if (!(x->earlier[k].flags & LEDGER_OP_LINKED)) return AID_UNCHAINED;
    return AID_CHAINED;
}

/* A definition's record (crossing.<x>, …) into its declared account; its meta, to free. */
static json_t *aid_definition(struct domain_expansion *x, const char *what, const char *name,
                              const char *record, const char *declared)
{
    struct domain_found f;
    json_t *meta = NULL;
    if (aid_find(x, record, &f) != AID_ABSENT && f.credit != NULL &&
        strcmp(f.credit, declared) == 0 && f.meta != NULL)
        meta = json_loads(f.meta, 0, NULL);
    if (!json_is_object(meta)) {
        json_decref(meta);
        domain_invalid(x, "%s %s is not defined", what, name);
        return NULL;
    }
    return meta;
}

/* A commodity's unit; NULL (invalid, naming it) when it is not defined. */
static const char *aid_commodity_unit(struct domain_expansion *x, const char *field,
                                      const char *commodity)
{
    const char *unit, *name;
    const char *account = domain_printf(x, "aid.commodity.%s", commodity);
    if (!domain_lookup_account(x, account, &unit, &name) || unit == NULL) {
        domain_invalid(x, "%s: commodity %s is not defined", field, commodity);
        return NULL;
    }
    return unit;
}

/* A consignment's items from JSON (its operation's, or its record's meta). */
static bool aid_items_read(struct domain_expansion *x, const json_t *items,
                           struct aid_consignment *c)
{
    if (!json_is_array(items) || json_array_size(items) == 0 ||
        json_array_size(items) > AID_ITEMS_MAX)
        return domain_invalid(x, "items: an array of 1 … %d items", AID_ITEMS_MAX);
    c->items_count = 0;
    size_t i;
    const json_t *item;
    json_array_foreach(items, i, item) {
        const char *commodity = aid_plain(json_object_get(item, "commodity"));
        const json_t *quantity = json_object_get(item, "quantity");
        if (!json_is_object(item) || json_object_size(item) != 2 || commodity == NULL ||
            !json_is_integer(quantity) || json_integer_value(quantity) < 1)
            return domain_invalid(x, "items[%zu]: must be {\"commodity\": a name "
                                     "([a-z0-9][a-z0-9_-]{0,47}), \"quantity\": an integer ≥ 1}",
                                  i);
        for (size_t k = 0; k < c->items_count; k++)
            if (strcmp(c->items[k].commodity, commodity) == 0)
                return domain_invalid(x, "items[%zu]: commodity %s is listed twice", i,
                                      commodity);
        struct aid_item *it = &c->items[c->items_count++];
        it->commodity = domain_printf(x, "%s", commodity);
        it->quantity = (int64_t)json_integer_value(quantity);
        it->unit = aid_commodity_unit(x, domain_printf(x, "items[%zu].commodity", i), commodity);
        if (it->unit == NULL) return false;
    }
    return true;
}

/* The date of a move: as given; else, on a retry, that of its records; else the batch's clock. */
static int64_t aid_date(struct domain_expansion *x, const char **records, bool given,
                        int64_t date)
{
    if (given) return date;
    for (const char **r = records; *r != NULL; r++) {
        struct domain_found f;
        if (aid_find(x, *r, &f) != AID_ABSENT && f.date != 0) return f.date;
    }
    return x->now;
}

static void aid_dated(struct ledger_op *t, int64_t date)
{
    t->date = date;
    t->flags |= LEDGER_OP_HAS_DATE;
}

/* A definition's record: a transfer from its capacity to its declared account, with meta. */
static bool aid_definition_record(struct domain_expansion *x, const char *id, const char *from,
                                  const char *to, int64_t amount, const char *kind, json_t *meta)
{
    const char *text = domain_json(x, meta);
    json_decref(meta);
    struct ledger_op *t = domain_transfer(x, id, from, to, amount, kind);
    if (t == NULL || text == NULL) return false;
    t->meta = text;
    return true;
}

/* ---------------------------------------------------------------- definitions */

bool domain_organisation(struct domain_expansion *x)
{
    static const char *const fields[] = {"name", NULL};
    bool ok = domain_fields(x, fields);
    const char *org = domain_name(x, "id", true, &ok);
    const char *name = domain_string(x, "name", true, &ok);
    if (!ok) return false;
    struct ledger_op *party = domain_step(x, LEDGER_OP_PARTY);
    if (party == NULL) return false;
    party->id = org;
    party->name = name;
    party->kind = "organisation";
    return domain_account(x, domain_printf(x, "aid.org.%s.trucks", org), AID_TRUCK, org, 0,
                          name) != NULL;
}

bool domain_commodity(struct domain_expansion *x)
{
    static const char *const fields[] = {"name", "unit", NULL};
    bool ok = domain_fields(x, fields);
    const char *commodity = domain_name(x, "id", true, &ok);
    const char *name = domain_string(x, "name", true, &ok);
    const char *unit = domain_string(x, "unit", false, &ok);
    if (unit == NULL) unit = AID_KG;
    if (!ledger_valid_unit_code(unit))
        ok = domain_invalid(x, "unit: must match [A-Z][A-Z0-9_]{0,15}");
    if (!ok) return false;
    return domain_account(x, domain_printf(x, "aid.commodity.%s", commodity), unit, NULL, 0,
                          name) != NULL;
}

bool domain_crossing(struct domain_expansion *x)
{
    static const char *const fields[] = {"name", "trucks_per_day", "screening_per_day", NULL};
    static const char *const accounts[] = {"capacity", "declared", "override", "used",
                                           "screened_trucks", NULL};
    bool ok = domain_fields(x, fields), given;
    const char *crossing = domain_name(x, "id", true, &ok);
    const char *name = domain_string(x, "name", true, &ok);
    int64_t trucks = domain_integer(x, "trucks_per_day", 1, true, &given, &ok);
    int64_t screening = domain_integer(x, "screening_per_day", 1, true, &given, &ok);
    if (!ok) return false;
    for (const char *const *a = accounts; *a != NULL; a++)
        if (domain_account(x, domain_printf(x, "aid.crossing.%s.%s", crossing, *a), AID_TRUCK,
                           NULL, 0, NULL) == NULL)
            return false;
    json_t *meta = json_pack("{s:s, s:I, s:I}", "name", name, "trucks_per_day",
                             (json_int_t)trucks, "screening_per_day", (json_int_t)screening);
    return aid_definition_record(x, domain_printf(x, "crossing.%s", crossing),
                                 domain_printf(x, "aid.crossing.%s.capacity", crossing),
                                 domain_printf(x, "aid.crossing.%s.declared", crossing), trucks,
                                 "crossing", meta);
}

bool domain_warehouse(struct domain_expansion *x)
{
    static const char *const fields[] = {"name", "capacity_kg", NULL};
    bool ok = domain_fields(x, fields), given;
    const char *site = domain_name(x, "id", true, &ok);
    const char *name = domain_string(x, "name", true, &ok);
    int64_t capacity = domain_integer(x, "capacity_kg", 1, true, &given, &ok);
    if (!ok) return false;
    const char *from = domain_printf(x, "aid.site.%s.capacity", site);
    const char *to = domain_printf(x, "aid.site.%s.declared", site);
    if (domain_account(x, from, AID_KG, NULL, 0, NULL) == NULL ||
        domain_account(x, to, AID_KG, NULL, 0, NULL) == NULL)
        return false;
    json_t *meta = json_pack("{s:s, s:I}", "name", name, "capacity_kg", (json_int_t)capacity);
    return aid_definition_record(x, domain_printf(x, "warehouse.%s", site), from, to, capacity,
                                 "warehouse", meta);
}

/* A point's need: {commodity: quantity per day ≥ 1}, every commodity defined. */
static bool aid_need_read(struct domain_expansion *x, const json_t *need)
{
    if (!json_is_object(need)) return domain_invalid(x, "need: required, an object");
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)need, key, value) {
        if (!aid_plain_text(key))
            return domain_invalid(x, "need: %s is not a commodity's name", key);
        if (aid_commodity_unit(x, "need", key) == NULL) return false;
        if (!json_is_integer(value) || json_integer_value(value) < 1)
            return domain_invalid(x, "need: %s: must be an integer ≥ 1 (per day)", key);
    }
    return true;
}

bool domain_distribution_point(struct domain_expansion *x)
{
    static const char *const fields[] = {"name", "population", "need", NULL};
    bool ok = domain_fields(x, fields), given;
    const char *point = domain_name(x, "id", true, &ok);
    const char *name = domain_string(x, "name", true, &ok);
    int64_t population = domain_integer(x, "population", 1, true, &given, &ok);
    json_t *need = json_object_get(x->op, "need");
    if (!ok || !aid_need_read(x, need)) return false;
    const char *from = domain_printf(x, "aid.point.%s.population.source", point);
    const char *to = domain_printf(x, "aid.point.%s.population", point);
    if (domain_account(x, from, AID_PERSON, NULL, 0, NULL) == NULL ||
        domain_account(x, to, AID_PERSON, NULL, 0, NULL) == NULL)
        return false;
    json_t *meta = json_pack("{s:s, s:I, s:O}", "name", name, "population",
                             (json_int_t)population, "need", need);
    return aid_definition_record(x, domain_printf(x, "point.%s", point), from, to, population,
                                 "distribution_point", meta);
}

/* ---------------------------------------------------------------- consignments */

/* trucks: {"screening": n ≥ 1, "delivery": n ≥ 1}. */
static bool aid_trucks_read(struct domain_expansion *x, const json_t *trucks,
                            struct aid_consignment *c)
{
    const json_t *screening = json_object_get(trucks, "screening");
    const json_t *delivery = json_object_get(trucks, "delivery");
    if (!json_is_object(trucks) || json_object_size(trucks) != 2 ||
        !json_is_integer(screening) || json_integer_value(screening) < 1 ||
        !json_is_integer(delivery) || json_integer_value(delivery) < 1)
        return domain_invalid(x, "trucks: required, {\"screening\": n ≥ 1, "
                                 "\"delivery\": n ≥ 1}");
    c->trucks_screening = (int64_t)json_integer_value(screening);
    c->trucks_delivery = (int64_t)json_integer_value(delivery);
    return true;
}

/* The master record's meta: what every move reads back. */
static const char *aid_consignment_meta(struct domain_expansion *x,
                                        const struct aid_consignment *c)
{
    json_t *items = json_array();
    for (size_t i = 0; i < c->items_count; i++)
        json_array_append_new(items, json_pack("{s:s, s:I}", "commodity", c->items[i].commodity,
                                               "quantity", (json_int_t)c->items[i].quantity));
    json_t *meta = json_pack("{s:s, s:s, s:o, s:I, s:{s:I, s:I}}", "organisation",
                             c->organisation, "crossing", c->crossing, "items", items, "pallets",
                             (json_int_t)c->pallets, "trucks", "screening",
                             (json_int_t)c->trucks_screening, "delivery",
                             (json_int_t)c->trucks_delivery);
    const char *text = domain_json(x, meta);
    json_decref(meta);
    return text;
}

/* A consignment's registration: per item, from its organisation's source to the crossing. */
static bool aid_register(struct domain_expansion *x, const struct aid_consignment *c,
                         int64_t date)
{
    for (size_t i = 0; i < c->items_count; i++) {
        const struct aid_item *it = &c->items[i];
        const char *source = domain_printf(x, "aid.source.%s.%s", c->organisation, it->commodity);
        const char *stage = domain_printf(x, "aid.registered.%s.%s", c->crossing, it->commodity);
        if (domain_account(x, source, it->unit, c->organisation, 0, NULL) == NULL ||
            domain_account(x, stage, it->unit, NULL, AID_STAGE_FLAGS, NULL) == NULL)
            return false;
        struct ledger_op *t =
            domain_transfer(x, domain_printf(x, "%s/registered/%s", c->id, it->commodity), source,
                            stage, it->quantity, "aid.registered");
        if (t == NULL) return false;
        json_t *meta = json_pack("{s:s, s:s, s:s, s:s}", "consignment", c->id, "commodity",
                                 it->commodity, "organisation", c->organisation, "crossing",
                                 c->crossing);
        t->meta = domain_json(x, meta);
        json_decref(meta);
        aid_dated(t, date);
    }
    return x->message[0] == '\0';
}

bool domain_consignment(struct domain_expansion *x)
{
    static const char *const fields[] = {"organisation", "crossing", "items", "pallets",
                                         "trucks", "date", NULL};
    struct aid_consignment c = {0};
    bool ok = domain_fields(x, fields), given;
    c.id = domain_name(x, "id", true, &ok);
    c.organisation = domain_name(x, "organisation", true, &ok);
    c.crossing = domain_name(x, "crossing", true, &ok);
    c.pallets = domain_integer(x, "pallets", 0, true, &given, &ok);
    int64_t date = domain_time(x, "date", &given, &ok);
    if (!ok || !aid_trucks_read(x, json_object_get(x->op, "trucks"), &c)) return false;
    const char *unit, *name;
    if (!domain_lookup_account(x, domain_printf(x, "aid.org.%s.trucks", c.organisation), &unit,
                               &name))
        return domain_invalid(x, "organisation: organisation %s is not defined", c.organisation);
    json_t *crossing = aid_definition(x, "crossing", c.crossing,
                                      domain_printf(x, "crossing.%s", c.crossing),
                                      domain_printf(x, "aid.crossing.%s.declared", c.crossing));
    if (crossing == NULL) return false;
    json_decref(crossing);
    if (!aid_items_read(x, json_object_get(x->op, "items"), &c)) return false;
    const char *records[] = {c.id, NULL};
    date = aid_date(x, records, given, date);
    if (domain_account(x, AID_CONSIGNMENTS, AID_TRUCK, NULL, 0, "Consignments") == NULL)
        return false;
    struct ledger_op *t =
        domain_transfer(x, c.id, domain_printf(x, "aid.org.%s.trucks", c.organisation),
                        AID_CONSIGNMENTS, c.trucks_screening, "consignment");
    if (t == NULL) return false;
    t->meta = aid_consignment_meta(x, &c);
    aid_dated(t, date);
    return aid_register(x, &c, date);
}

/* ---------------------------------------------------------------- moves */

/* A consignment as its master record describes it. */
static bool aid_consignment_load(struct domain_expansion *x, const char *id,
                                 struct aid_consignment *c)
{
    struct domain_found f;
    json_t *meta = NULL;
    if (aid_find(x, id, &f) != AID_ABSENT && f.credit != NULL &&
        strcmp(f.credit, AID_CONSIGNMENTS) == 0 && f.meta != NULL)
        meta = json_loads(f.meta, 0, NULL);
    const char *org = aid_plain(json_object_get(meta, "organisation"));
    const char *crossing = aid_plain(json_object_get(meta, "crossing"));
    bool ok = org != NULL && crossing != NULL;
    if (ok) {
        c->id = id;
        c->organisation = domain_printf(x, "%s", org);
        c->crossing = domain_printf(x, "%s", crossing);
        c->pallets = (int64_t)json_integer_value(json_object_get(meta, "pallets"));
        ok = aid_trucks_read(x, json_object_get(meta, "trucks"), c) &&
             aid_items_read(x, json_object_get(meta, "items"), c);
    }
    json_decref(meta);
    if (!ok && x->message[0] == '\0')
        domain_invalid(x, "consignment %s: not registered (no such consignment)", id);
    return ok;
}

/* The fields of a move that only some stages take. */
static const struct {
    const char *field;
    unsigned stages; /* 1 << enum aid_stage */
} aid_move_fields[] = {
    {"decision", 1u << AID_SCREENED},
    {"reason", 1u << AID_SCREENED},
    {"override", (1u << AID_SCREENED) | (1u << AID_ENTERED)},
    {"warehouse", 1u << AID_WAREHOUSED},
    {"point", 1u << AID_DISPATCHED},
    {"received", 1u << AID_DISTRIBUTED},
};

/* override: {"reason": "…"}; NULL when absent. */
static const char *aid_override_read(struct domain_expansion *x, bool *ok)
{
    const json_t *v = json_object_get(x->op, "override");
    if (v == NULL) return NULL;
    const json_t *reason = json_object_get(v, "reason");
    if (!json_is_object(v) || json_object_size(v) != 1 || !json_is_string(reason) ||
        json_string_length(reason) == 0 ||
        strlen(json_string_value(reason)) != json_string_length(reason) ||
        json_string_length(reason) > LEDGER_NAME_BYTES_MAX) {
        *ok = domain_invalid(x, "override: must be {\"reason\": a non-empty string of at most "
                                "%d bytes}",
                             LEDGER_NAME_BYTES_MAX);
        return NULL;
    }
    return domain_printf(x, "%s", json_string_value(reason));
}

/* What the move's stage takes besides the consignment and the date. */
static bool aid_move_options(struct domain_expansion *x, struct aid_move *m)
{
    for (size_t i = 0; i < sizeof aid_move_fields / sizeof aid_move_fields[0]; i++)
        if (json_object_get(x->op, aid_move_fields[i].field) != NULL &&
            !(aid_move_fields[i].stages & (1u << m->to)))
            return domain_invalid(x, "%s: not for a move to %s", aid_move_fields[i].field,
                                  aid_stages[m->to]);
    bool ok = true;
    const char *decision = domain_string(x, "decision", m->to == AID_SCREENED, &ok);
    m->reason = domain_string(x, "reason", false, &ok);
    m->override = aid_override_read(x, &ok);
    m->warehouse = domain_name(x, "warehouse", m->to == AID_WAREHOUSED, &ok);
    m->point = domain_name(x, "point", m->to == AID_DISPATCHED, &ok);
    m->received = json_object_get(x->op, "received");
    if (!ok) return false;
    if (decision != NULL && strcmp(decision, "cleared") != 0 && strcmp(decision, "rejected") != 0)
        return domain_invalid(x, "decision: cleared or rejected");
    m->rejected = decision != NULL && strcmp(decision, "rejected") == 0;
    if (m->rejected && m->reason == NULL)
        return domain_invalid(x, "reason: required when the decision is rejected");
    if (!m->rejected && m->reason != NULL)
        return domain_invalid(x, "reason: only for a rejection");
    if (m->to == AID_DISTRIBUTED && !json_is_object(m->received))
        return domain_invalid(x, "received: required, {commodity: {\"good\": n, \"damaged\": n, "
                                 "\"lost\": n}} for every item");
    return true;
}

/* Where an item is: the credit account of its previous stage's record (f: that record). */
static const char *aid_item_at(struct domain_expansion *x, const struct aid_move *m,
                               const struct aid_item *it, struct domain_found *f)
{
    const char *previous = aid_stages[m->to - 1];
    const char *record = domain_printf(x, "%s/%s/%s", m->c.id, previous, it->commodity);
    enum aid_source source = aid_find(x, record, f);
    if (source == AID_ABSENT && m->to - 1 == AID_SCREENED &&
        aid_find(x, domain_printf(x, "%s/rejected/%s", m->c.id, it->commodity), f) != AID_ABSENT)
        domain_invalid(x, "consignment %s: rejected at screening, it goes no further", m->c.id);
    else if (source == AID_ABSENT)
        domain_invalid(x, "consignment %s: not %s yet (stages go " AID_PATH ")", m->c.id,
                       previous);
    else if (source == AID_UNCHAINED)
        domain_invalid(x, "consignment %s: %s only earlier in this batch, where that may yet "
                          "fail; link the two (\"linked\": true) or send them in separate "
                          "batches",
                       m->c.id, previous);
    return x->message[0] == '\0' ? f->credit : NULL;
}

/* One item's transfer into aid.<stage>.<location>.<commodity> (meta: extended, borrowed). */
static bool aid_move_item(struct domain_expansion *x, const struct aid_move *m,
                          const struct aid_item *it, const char *stage, const char *location,
                          const char *from, int64_t amount, json_t *meta, const char *memo)
{
    const char *account = domain_printf(x, "aid.%s.%s.%s", stage, location, it->commodity);
    if (domain_account(x, account, it->unit, NULL, AID_STAGE_FLAGS, NULL) == NULL) return false;
    struct ledger_op *t =
        domain_transfer(x, domain_printf(x, "%s/%s/%s", m->c.id, stage, it->commodity), from,
                        account, amount, domain_printf(x, "aid.%s", stage));
    if (t == NULL) return false;
    json_object_set_new(meta, "consignment", json_string(m->c.id));
    json_object_set_new(meta, "commodity", json_string(it->commodity));
    /* The move's own id: the same move again under another id is not the same operation. */
    json_object_set_new(meta, "move", json_string(x->id));
    t->meta = domain_json(x, meta);
    t->memo = memo;
    aid_dated(t, m->date);
    return x->message[0] == '\0';
}

/* Every item from its previous stage to `stage` at `location`; extra: meta (consumed). */
static bool aid_move_items(struct domain_expansion *x, const struct aid_move *m,
                           const char *stage, const char *location, json_t *extra,
                           const char *memo)
{
    bool ok = extra != NULL;
    for (size_t i = 0; ok && i < m->c.items_count; i++) {
        struct domain_found f;
        const char *from = aid_item_at(x, m, &m->c.items[i], &f);
        json_t *meta = json_copy(extra);
        ok = from != NULL && meta != NULL &&
             aid_move_item(x, m, &m->c.items[i], stage, location, from, m->c.items[i].quantity,
                           meta, memo);
        json_decref(meta);
    }
    json_decref(extra);
    if (!ok && x->message[0] == '\0') domain_invalid(x, "out of memory");
    return ok;
}

/*
 * The crossing's trucks for screening or entry: from the day's capacity
 * (funded once a day) or, overridden, from the override account.
 */
static bool aid_trucks(struct domain_expansion *x, const struct aid_move *m)
{
    const char *crossing = m->c.crossing;
    bool screening = m->to == AID_SCREENED;
    const char *stage = aid_stages[m->to];
    const char *to = domain_printf(x, "aid.crossing.%s.%s", crossing,
                                   screening ? "screened_trucks" : "used");
    const char *id = domain_printf(x, "%s/%s/trucks", m->c.id, stage);
    struct ledger_op *t;
    if (m->override != NULL) {
        t = domain_transfer(x, id, domain_printf(x, "aid.crossing.%s.override", crossing), to,
                            m->c.trucks_screening, "override");
        if (t == NULL) return false;
        json_t *meta = json_pack("{s:s, s:s, s:s, s:s, s:s}", "consignment", m->c.id,
                                 "crossing", crossing, "stage", stage, "reason", m->override,
                                 "move", x->id);
        t->meta = domain_json(x, meta);
        json_decref(meta);
        t->memo = m->override;
        aid_dated(t, m->date);
        return x->message[0] == '\0';
    }
    json_t *def = aid_definition(x, "crossing", crossing, domain_printf(x, "crossing.%s", crossing),
                                 domain_printf(x, "aid.crossing.%s.declared", crossing));
    if (def == NULL) return false;
    const char *per_day_field = screening ? "screening_per_day" : "trucks_per_day";
    json_int_t per_day = json_integer_value(json_object_get(def, per_day_field));
    json_decref(def);
    if (per_day < 1)
        return domain_invalid(x, "crossing %s: its definition has no %s", crossing, per_day_field);
    char day[9];
    domain_day(m->date, day);
    const char *kind = screening ? "screening" : "day";
    const char *account = domain_printf(x, "aid.crossing.%s.%s.%s", crossing, kind, day);
    if (domain_account(x, account, AID_TRUCK, NULL, AID_STAGE_FLAGS, NULL) == NULL) return false;
    t = domain_transfer(x, domain_printf(x, "crossing.%s.%s.%s", crossing, kind, day),
                        domain_printf(x, "aid.crossing.%s.capacity", crossing), account,
                        (int64_t)per_day, "aid.capacity");
    if (t == NULL) return false;
    int64_t into_day = m->date % AID_DAY_NS;
    aid_dated(t, m->date - (into_day < 0 ? into_day + AID_DAY_NS : into_day)); /* the day's start */
    t = domain_transfer(x, id, account, to, m->c.trucks_screening,
                        screening ? "aid.screening" : "aid.entry");
    if (t == NULL) return false;
    json_t *meta = json_pack("{s:s, s:s, s:s, s:s}", "consignment", m->c.id, "crossing",
                             crossing, "day", day, "move", x->id);
    t->meta = domain_json(x, meta);
    json_decref(meta);
    aid_dated(t, m->date);
    return x->message[0] == '\0';
}

/* Screening: cleared to aid.screened.<crossing>.…, or rejected to aid.rejected.<crossing>.…. */
static bool aid_screen(struct domain_expansion *x, const struct aid_move *m)
{
    const char *other = m->rejected ? "screened" : "rejected";
    for (size_t i = 0; i < m->c.items_count; i++) {
        struct domain_found f;
        if (aid_find(x, domain_printf(x, "%s/%s/%s", m->c.id, other, m->c.items[i].commodity),
                     &f) != AID_ABSENT)
            return domain_invalid(x, "consignment %s: already %s at screening", m->c.id,
                                  m->rejected ? "cleared" : "rejected");
    }
    if (!aid_trucks(x, m)) return false;
    json_t *extra = json_pack("{s:s, s:s}", "crossing", m->c.crossing, "decision",
                              m->rejected ? "rejected" : "cleared");
    if (m->rejected) json_object_set_new(extra, "reason", json_string(m->reason));
    return aid_move_items(x, m, m->rejected ? "rejected" : "screened", m->c.crossing, extra,
                          m->rejected ? m->reason : NULL);
}

/* One item's proof of delivery: its parts, which must add up to what was dispatched. */
static bool aid_received_read(struct domain_expansion *x, const struct aid_move *m,
                              const struct aid_item *it, int64_t dispatched,
                              int64_t parts[AID_PARTS_COUNT])
{
    const json_t *r = json_object_get(m->received, it->commodity);
    if (!json_is_object(r))
        return domain_invalid(x, "received: %s: required for every item, {\"good\": n, "
                                 "\"damaged\": n, \"lost\": n}",
                              it->commodity);
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)r, key, value) {
        bool known = false;
        for (size_t p = 0; p < AID_PARTS_COUNT; p++) known |= strcmp(key, aid_part_keys[p]) == 0;
        if (!known)
            return domain_invalid(x, "received: %s: %s: unknown field (good, damaged, lost)",
                                  it->commodity, key);
        (void)value;
    }
    int64_t left = dispatched;
    for (size_t p = 0; p < AID_PARTS_COUNT; p++) {
        const json_t *n = json_object_get(r, aid_part_keys[p]);
        if (n != NULL && (!json_is_integer(n) || json_integer_value(n) < 0))
            return domain_invalid(x, "received: %s: %s: must be an integer ≥ 0", it->commodity,
                                  aid_part_keys[p]);
        parts[p] = n != NULL ? (int64_t)json_integer_value(n) : 0;
        if (parts[p] > left) /* compared part by part: the sum never overflows */
            return domain_invalid(x, "received: %s: delivering more than was dispatched (%lld)",
                                  it->commodity, (long long)dispatched);
        left -= parts[p];
    }
    if (left > 0)
        return domain_invalid(x, "received: %s: %lld of the %lld dispatched are missing; count "
                                 "them as good, damaged or lost",
                              it->commodity, (long long)left, (long long)dispatched);
    return true;
}

/* The point an item was dispatched to, from its dispatched record's meta. */
static const char *aid_dispatched_point(struct domain_expansion *x, const struct domain_found *f)
{
    json_t *meta = f->meta != NULL ? json_loads(f->meta, 0, NULL) : NULL;
    const char *point = aid_plain(json_object_get(meta, "point"));
    point = point != NULL ? domain_printf(x, "%s", point) : NULL;
    json_decref(meta);
    if (point == NULL) domain_invalid(x, "its dispatched record names no distribution point");
    return point;
}

/* Proof of delivery: what was dispatched, split into distributed, damaged and lost. */
static bool aid_distribute(struct domain_expansion *x, const struct aid_move *m)
{
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)m->received, key, value) {
        bool item = false;
        for (size_t i = 0; i < m->c.items_count; i++)
            item |= strcmp(key, m->c.items[i].commodity) == 0;
        (void)value;
        if (!item)
            return domain_invalid(x, "received: %s is not an item of consignment %s", key,
                                  m->c.id);
    }
    for (size_t i = 0; i < m->c.items_count; i++) {
        const struct aid_item *it = &m->c.items[i];
        struct domain_found f, g;
        int64_t parts[AID_PARTS_COUNT];
        const char *from = aid_item_at(x, m, it, &f);
        const char *point = from != NULL ? aid_dispatched_point(x, &f) : NULL;
        if (point == NULL || !aid_received_read(x, m, it, f.amount, parts)) return false;
        for (size_t p = 0; p < AID_PARTS_COUNT; p++)
            if (parts[p] == 0 &&
                aid_find(x, domain_printf(x, "%s/%s/%s", m->c.id, aid_part_stages[p],
                                          it->commodity), &g) != AID_ABSENT)
                return domain_invalid(x, "consignment %s: %s already delivered with another "
                                         "proof of delivery", m->c.id, it->commodity);
        for (size_t p = 0; p < AID_PARTS_COUNT; p++) {
            if (parts[p] == 0) continue;
            json_t *meta = json_pack("{s:s, s:{s:I, s:I, s:I}}", "point", point, "received",
                                     "good", (json_int_t)parts[0], "damaged",
                                     (json_int_t)parts[1], "lost", (json_int_t)parts[2]);
            bool ok = meta != NULL && aid_move_item(x, m, it, aid_part_stages[p], point, from,
                                                    parts[p], meta, NULL);
            json_decref(meta);
            if (!ok) return false;
        }
    }
    return true;
}

/* Where the goods go at a stage that moves them plainly, and what its records say. */
static bool aid_move_plain(struct domain_expansion *x, const struct aid_move *m)
{
    const char *location = m->c.crossing;
    json_t *extra;
    if (m->to == AID_WAREHOUSED) {
        json_t *def = aid_definition(x, "warehouse", m->warehouse,
                                     domain_printf(x, "warehouse.%s", m->warehouse),
                                     domain_printf(x, "aid.site.%s.declared", m->warehouse));
        if (def == NULL) return false;
        json_decref(def);
        location = m->warehouse;
        extra = json_pack("{s:s}", "warehouse", location);
    } else if (m->to == AID_DISPATCHED) {
        json_t *def = aid_definition(x, "distribution point", m->point,
                                     domain_printf(x, "point.%s", m->point),
                                     domain_printf(x, "aid.point.%s.population", m->point));
        if (def == NULL) return false;
        json_decref(def);
        location = m->point;
        extra = json_pack("{s:s}", "point", location);
    } else if (m->to == AID_COLLECTED) {
        extra = json_pack("{s:s, s:I}", "crossing", location, "delivery_trucks",
                          (json_int_t)m->c.trucks_delivery);
    } else {
        extra = json_pack("{s:s}", "crossing", location);
    }
    if (m->to == AID_ENTERED && !aid_trucks(x, m)) {
        json_decref(extra);
        return false;
    }
    return aid_move_items(x, m, aid_stages[m->to], location, extra, NULL);
}

bool domain_consignment_move(struct domain_expansion *x)
{
    static const char *const fields[] = {"consignment", "to", "date", "decision", "reason",
                                         "override", "warehouse", "point", "received", NULL};
    struct aid_move m = {0};
    bool ok = domain_fields(x, fields), given;
    const char *consignment = domain_name(x, "consignment", true, &ok);
    const char *to = domain_string(x, "to", true, &ok);
    int64_t date = domain_time(x, "date", &given, &ok);
    if (!ok) return false;
    m.to = AID_REGISTERED;
    for (int s = AID_SCREENED; s < AID_STAGES_COUNT; s++)
        if (strcmp(to, aid_stages[s]) == 0) m.to = (enum aid_stage)s;
    if (m.to == AID_REGISTERED)
        return domain_invalid(x, "to: one of screened, entered, awaiting, collected, warehoused, "
                                 "dispatched, distributed");
    if (!aid_move_options(x, &m) || !aid_consignment_load(x, consignment, &m.c)) return false;
    /* A retry finds its own records: the first item's (any branch of it), or the trucks'. */
    const char *first = m.c.items[0].commodity;
    const char *records[5] = {NULL};
    size_t n = 0;
    records[n++] = domain_printf(x, "%s/%s/%s", m.c.id, aid_stages[m.to], first);
    records[n++] = domain_printf(x, "%s/%s/trucks", m.c.id, aid_stages[m.to]);
    if (m.to == AID_SCREENED) records[n++] = domain_printf(x, "%s/rejected/%s", m.c.id, first);
    if (m.to == AID_DISTRIBUTED) {
        records[n++] = domain_printf(x, "%s/damaged/%s", m.c.id, first);
        records[n++] = domain_printf(x, "%s/lost/%s", m.c.id, first);
    }
    m.date = aid_date(x, records, given, date);
    switch (m.to) {
    case AID_SCREENED: return aid_screen(x, &m);
    case AID_DISTRIBUTED: return aid_distribute(x, &m);
    default: return aid_move_plain(x, &m);
    }
}
