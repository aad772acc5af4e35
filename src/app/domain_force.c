/*
 * domain_force.c — force generation: the contingents nations pledge to the
 * mission and their way through acceptance, training, certification,
 * deployment and rotation, counted in persons, as steps on the ledger.
 *
 * Accounts (unit PERSON, scale 0, created by the caller; docs/DOMAIN.md):
 *   force.nations.<nation>            a nation's source of persons; owned by
 *                                     the nation, no flags
 *   force.<stage>.<contingent>        one per stage (pledged, accepted,
 *                                     training, certified, deployed,
 *                                     rotated); owned by the nation, flagged
 *                                     debits_must_not_exceed_credits
 *   force.course.<course>.capacity    a training course's source of seats
 *   force.course.<course>.seats       its free seats          (flagged)
 *   force.course.<course>.in_training its seats in use        (flagged)
 *
 * A contingent is a transfer <id> from its nation to force.pledged.<id>,
 * pending while its `if` is open. A move is a transfer from the stage before
 * to the next one; because every stage account is flagged, a stage cannot
 * give persons it never received, so a skipped stage (or a conditional
 * contingent not yet confirmed) is refused by the ledger as exceeds_credits.
 * A move into training takes as many seats of its course (seats →
 * in_training), so a course never holds more than its capacity; the
 * certification gives them back. The records the expansions read: the
 * contingent's transfer <id> (its size, the default of a move) and the
 * course's transfer course.<id> (its meta: name, capacity, duration_days).
 *
 * Reimbursement: a rate from PERSON_MONTH (a person for a month) to USD.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "app/domain.h"

#define FORCE_UNIT "PERSON"
#define FORCE_MONTH_UNIT "PERSON_MONTH"
#define FORCE_MONEY_UNIT "USD"
#define FORCE_STAGES_COUNT 6
#define FORCE_LIST_ITEMS_MAX 256 /* equipment lines, caveats: one contingent's */

/* In order: each stage receives from the one before it (pledged from the nation). */
static const char *const force_stages[FORCE_STAGES_COUNT] = {
    "pledged", "accepted", "training", "certified", "deployed", "rotated",
};

static const char *const force_types[] = {
    "infantry", "police", "engineering", "medical", "logistics", "headquarters", NULL,
};

static const char *const force_readiness[] = {"1", "2", "3", "rapid", NULL};

static bool force_one_of(const char *value, const char *const *list)
{
    for (const char *const *p = list; value != NULL && *p != NULL; p++)
        if (strcmp(value, *p) == 0) return true;
    return false;
}

/* The index of a stage; -1 when it is none. */
static int force_stage_index(const char *stage)
{
    for (int i = 0; stage != NULL && i < FORCE_STAGES_COUNT; i++)
        if (strcmp(stage, force_stages[i]) == 0) return i;
    return -1;
}

/* The date every transfer step of an operation may take. */
static void force_date(struct domain_expansion *x, struct ledger_op *t, bool *ok)
{
    bool given;
    int64_t date = domain_time(x, "date", &given, ok);
    if (t == NULL || !given) return;
    t->date = date;
    t->flags |= LEDGER_OP_HAS_DATE;
}

/* ---------------------------------------------------------------- course */

bool domain_course(struct domain_expansion *x)
{
    static const char *const fields[] = {"name", "capacity", "duration_days", NULL};
    bool ok = domain_fields(x, fields), given;
    const char *course = domain_name(x, "id", true, &ok);
    const char *name = domain_string(x, "name", true, &ok);
    int64_t capacity = domain_integer(x, "capacity", 1, true, &given, &ok);
    int64_t duration_days = domain_integer(x, "duration_days", 1, true, &given, &ok);
    if (!ok) return false;
    const char *source = domain_printf(x, "force.course.%s.capacity", course);
    const char *seats = domain_printf(x, "force.course.%s.seats", course);
    const char *in_training = domain_printf(x, "force.course.%s.in_training", course);
    uint32_t flag = LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS;
    if (domain_account(x, source, FORCE_UNIT, NULL, 0, domain_printf(x, "capacity %s", course)) ==
            NULL ||
        domain_account(x, seats, FORCE_UNIT, NULL, flag, domain_printf(x, "seats %s", course)) ==
            NULL ||
        domain_account(x, in_training, FORCE_UNIT, NULL, flag,
                       domain_printf(x, "in_training %s", course)) == NULL)
        return false;
    /* The course's definition: what a move into training looks up. */
    struct ledger_op *t =
        domain_transfer(x, domain_printf(x, "course.%s", course), source, seats, capacity, "course");
    if (t == NULL) return false;
    json_t *meta = json_pack("{s:s, s:I, s:I}", "name", name, "capacity", (json_int_t)capacity,
                             "duration_days", (json_int_t)duration_days);
    t->meta = domain_json(x, meta);
    json_decref(meta);
    return t->meta != NULL;
}

/* ---------------------------------------------------------------- contingent */

/* equipment: [{"item": "APC", "count": 12}, …], re-built so that nothing else slips in. */
static json_t *force_equipment(struct domain_expansion *x, bool *ok)
{
    const json_t *v = json_object_get(x->op, "equipment");
    if (v == NULL || json_is_null(v)) return json_array();
    if (!json_is_array(v) || json_array_size(v) > FORCE_LIST_ITEMS_MAX) {
        *ok = domain_invalid(x, "equipment: must be an array of at most %d {\"item\", \"count\"}",
                             FORCE_LIST_ITEMS_MAX);
        return NULL;
    }
    json_t *out = json_array();
    size_t i;
    const json_t *line;
    json_array_foreach(v, i, line) {
        const json_t *item = json_object_get(line, "item");
        const json_t *count = json_object_get(line, "count");
        if (!json_is_object(line) || json_object_size(line) != 2 || !json_is_string(item) ||
            json_string_length(item) == 0 ||
            strlen(json_string_value(item)) != json_string_length(item) ||
            json_string_length(item) > LEDGER_NAME_BYTES_MAX) {
            *ok = domain_invalid(x, "equipment[%zu]: must be {\"item\": a non-empty string, "
                                    "\"count\": an integer ≥ 1}", i);
            break;
        }
        if (!json_is_integer(count) || json_integer_value(count) < 1) {
            *ok = domain_invalid(x, "equipment[%zu].count: must be an integer ≥ 1", i);
            break;
        }
        json_array_append_new(out, json_pack("{s:s, s:I}", "item", json_string_value(item),
                                             "count", json_integer_value(count)));
    }
    if (!*ok) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* caveats: ["no night operations", …]. */
static json_t *force_caveats(struct domain_expansion *x, bool *ok)
{
    const json_t *v = json_object_get(x->op, "caveats");
    if (v == NULL || json_is_null(v)) return json_array();
    if (!json_is_array(v) || json_array_size(v) > FORCE_LIST_ITEMS_MAX) {
        *ok = domain_invalid(x, "caveats: must be an array of at most %d strings",
                             FORCE_LIST_ITEMS_MAX);
        return NULL;
    }
    size_t i;
    const json_t *caveat;
    json_array_foreach(v, i, caveat) {
        if (!json_is_string(caveat) || json_string_length(caveat) == 0 ||
            strlen(json_string_value(caveat)) != json_string_length(caveat) ||
            json_string_length(caveat) > LEDGER_MEMO_BYTES_MAX) {
            *ok = domain_invalid(x, "caveats[%zu]: must be a non-empty string", i);
            return NULL;
        }
    }
    return json_deep_copy(v);
}

/* The contingent's meta: what the reports group and show it by. */
static const char *force_contingent_meta(struct domain_expansion *x, const char *nation,
                                         const char *type, int64_t personnel,
                                         const char *readiness, bool *ok)
{
    json_t *equipment = force_equipment(x, ok);
    json_t *caveats = force_caveats(x, ok);
    if (!*ok) {
        json_decref(equipment);
        json_decref(caveats);
        return NULL;
    }
    json_t *meta = json_pack("{s:s, s:s, s:I, s:o, s:s, s:o}", "nation", nation, "type", type,
                             "personnel", (json_int_t)personnel, "equipment", equipment,
                             "readiness", readiness, "caveats", caveats);
    const char *text = domain_json(x, meta);
    json_decref(meta);
    if (text == NULL) *ok = false;
    return text;
}

bool domain_contingent(struct domain_expansion *x)
{
    static const char *const fields[] = {"nation", "type", "personnel", "equipment", "readiness",
                                         "caveats", "if", "expires", "date", NULL};
    bool ok = domain_fields(x, fields), given;
    const char *contingent = domain_name(x, "id", true, &ok);
    const char *nation = domain_name(x, "nation", true, &ok);
    const char *type = domain_string(x, "type", true, &ok);
    int64_t personnel = domain_integer(x, "personnel", 1, true, &given, &ok);
    const char *readiness = domain_string(x, "readiness", true, &ok);
    const char *cond = domain_string(x, "if", false, &ok);
    int64_t expires = domain_time(x, "expires", &given, &ok);
    bool has_expires = given;
    if (type != NULL && !force_one_of(type, force_types))
        ok = domain_invalid(x, "type: must be infantry, police, engineering, medical, logistics "
                               "or headquarters");
    if (readiness != NULL && !force_one_of(readiness, force_readiness))
        ok = domain_invalid(x, "readiness: must be \"1\", \"2\", \"3\" or \"rapid\"");
    if (has_expires && cond == NULL)
        ok = domain_invalid(x, "expires: only for a conditional contingent (with if)");
    if (!ok) return false;
    const char *meta = force_contingent_meta(x, nation, type, personnel, readiness, &ok);
    if (!ok) return false;
    const char *source = domain_printf(x, "force.nations.%s", nation);
    if (domain_account(x, source, FORCE_UNIT, nation, 0, domain_printf(x, "nation %s", nation)) ==
        NULL)
        return false;
    for (int i = 0; i < FORCE_STAGES_COUNT; i++) {
        const char *stage = force_stages[i];
        if (domain_account(x, domain_printf(x, "force.%s.%s", stage, contingent), FORCE_UNIT,
                           nation, LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS,
                           domain_printf(x, "%s %s", stage, contingent)) == NULL)
            return false;
    }
    struct ledger_op *t = domain_transfer(x, contingent, source,
                                          domain_printf(x, "force.pledged.%s", contingent),
                                          personnel, "contingent");
    if (t == NULL) return false;
    t->meta = meta;
    if (cond != NULL) { /* a conditional pledge of troops: it posts or voids with its condition */
        t->flags |= LEDGER_OP_PENDING;
        t->cond = cond;
    }
    if (has_expires) {
        t->expires = expires;
        t->flags |= LEDGER_OP_HAS_EXPIRES;
    }
    force_date(x, t, &ok);
    return ok;
}

/* ---------------------------------------------------------------- contingent_move */

/* A contingent's record: its transfer into force.pledged.<contingent>. */
static bool force_contingent_found(struct domain_expansion *x, const char *contingent,
                                   struct domain_found *found)
{
    if (!domain_lookup(x, contingent, found)) return false;
    const char *pledged = domain_printf(x, "force.pledged.%s", contingent);
    return found->credit != NULL && strcmp(found->credit, pledged) == 0;
}

/* A course's record: its transfer course.<course> into its seats. */
static bool force_course_found(struct domain_expansion *x, const char *course)
{
    struct domain_found found;
    if (!domain_lookup(x, domain_printf(x, "course.%s", course), &found)) return false;
    const char *seats = domain_printf(x, "force.course.%s.seats", course);
    return found.credit != NULL && strcmp(found.credit, seats) == 0;
}

bool domain_contingent_move(struct domain_expansion *x)
{
    static const char *const fields[] = {"contingent", "to", "personnel", "course", "date", NULL};
    bool ok = domain_fields(x, fields), given;
    const char *contingent = domain_name(x, "contingent", true, &ok);
    const char *to = domain_string(x, "to", true, &ok);
    int64_t personnel = domain_integer(x, "personnel", 1, false, &given, &ok);
    bool has_personnel = given;
    const char *course = domain_name(x, "course", false, &ok);
    int stage = force_stage_index(to);
    if (to != NULL && stage < 1)
        ok = domain_invalid(x, "to: must be accepted, training, certified, deployed or rotated");
    bool takes_course = stage == 2 || stage == 3; /* training, certified */
    if (ok && takes_course && course == NULL)
        ok = domain_invalid(x, "course: required for a move to %s", to);
    if (ok && !takes_course && course != NULL)
        ok = domain_invalid(x, "course: only for a move to training or certified, not to %s", to);
    if (!ok) return false;
    struct domain_found record;
    if (!force_contingent_found(x, contingent, &record))
        return domain_invalid(x, "contingent %s: no such contingent", contingent);
    if (takes_course && !force_course_found(x, course))
        return domain_invalid(x, "course %s: no such course", course);
    if (!has_personnel) personnel = record.amount; /* the whole contingent */
    const char *prev = force_stages[stage - 1];
    struct ledger_op *t = domain_transfer(
        x, x->id, domain_printf(x, "force.%s.%s", prev, contingent),
        domain_printf(x, "force.%s.%s", to, contingent), personnel, domain_printf(x, "force.%s", to));
    if (t == NULL) return false;
    json_t *meta = json_pack("{s:s}", "contingent", contingent);
    if (course != NULL) json_object_set_new(meta, "course", json_string(course));
    t->meta = domain_json(x, meta);
    json_decref(meta);
    force_date(x, t, &ok);
    if (!takes_course) return ok;
    /* Into training takes seats of the course; certified gives them back. */
    const char *seats = domain_printf(x, "force.course.%s.seats", course);
    const char *in_training = domain_printf(x, "force.course.%s.in_training", course);
    struct ledger_op *s = domain_transfer(x, domain_printf(x, "%s/seats", x->id),
                                          stage == 2 ? seats : in_training,
                                          stage == 2 ? in_training : seats, personnel,
                                          "training_seats");
    if (s == NULL) return false;
    s->meta = t->meta;
    force_date(x, s, &ok);
    return ok;
}

/* ---------------------------------------------------------------- reimbursement_rate */

bool domain_reimbursement_rate(struct domain_expansion *x)
{
    static const char *const fields[] = {"amount", "date", NULL};
    bool ok = domain_fields(x, fields), given;
    int64_t amount = domain_integer(x, "amount", 1, true, &given, &ok);
    int64_t date = domain_time(x, "date", &given, &ok);
    if (ok && !given) ok = domain_invalid(x, "date: required (from when the rate applies)");
    if (!ok) return false;
    struct ledger_op *unit = domain_step(x, LEDGER_OP_UNIT);
    if (unit == NULL) return false;
    unit->id = FORCE_MONTH_UNIT;
    unit->scale = 0;
    unit->flags |= LEDGER_OP_HAS_SCALE;
    unit->name = "Person-month";
    struct ledger_op *rate = domain_step(x, LEDGER_OP_RATE);
    if (rate == NULL) return false;
    rate->id = x->id; /* a rate has no id of its own: this one names the step in a refusal */
    rate->unit = FORCE_MONTH_UNIT;
    rate->to = FORCE_MONEY_UNIT;
    /* USD minor units (cents) as a decimal of dollars: 142800 → "1428.00". */
    rate->rate = domain_printf(x, "%" PRId64 ".%02" PRId64, amount / 100, amount % 100);
    rate->date = date;
    rate->flags |= LEDGER_OP_HAS_DATE;
    return true;
}
