/*
 * demo.c — the illustrative mission of `concord demo` (see demo.h).
 *
 * The mission, day by day (day 1 = 2026-09-01, day 60 = 2026-10-30):
 *
 *   setup     units; parties (nations, the Palestinian Authority, the Board
 *             of Peace, humanitarian organisations, the pooled fund, the
 *             force); donors; four conditions and one derived from two;
 *             the guarded pooled fund (2 of 3 board members approve each
 *             disbursement); the accounts requirements are measured on and
 *             seven requirements; training courses and the reimbursement
 *             rate; crossings, warehouses, distribution points, commodities.
 *   funding   pledges (some conditional, some in euros with their rate, one
 *             that lapses), commitments, disbursements approved by the board
 *             (one rejected), expenditures; on day 40 the ceasefire is
 *             declared holding and the pledges and contingents hanging on it
 *             post.
 *   force     a Palestinian police force through its courses, and
 *             multinational contingents pledged (some conditional), accepted,
 *             trained, certified, deployed, and partly rotated.
 *   aid       60–180 consignments a day through three crossings with daily
 *             capacities: screening (a few rejected), entry, collection after
 *             a dwell at the crossing, warehouses, dispatch and distribution
 *             with proof of delivery (some damaged, some lost). A few surge
 *             days and closures push crossings to their capacity; some moves
 *             go over it with a stated reason.
 *
 * Everything random comes from one xorshift64* generator with a fixed seed,
 * drawn in a fixed order; every operation is a JSON object built with
 * jansson and decoded by the same decoder as `apply` (json_decode_op).
 */
#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "app/demo.h"
#include "app/domain.h"
#include "fmt/json.h"
#include "util/timefmt.h"

#define DEMO_SEED UINT64_C(0x5eed2026c0c0a1d5)
#define DEMO_NS_PER_DAY (INT64_C(86400) * INT64_C(1000000000))
#define DEMO_NS_PER_HOUR (INT64_C(3600) * INT64_C(1000000000))
#define DEMO_ITEMS_MAX 3           /* commodities in one consignment */
#define DEMO_TRUCK_KG 20000        /* roughly what one truck carries */
#define DEMO_PALLET_KG 900
#define DEMO_MEMO "Illustrative: invented for the demo mission"

/* ---------------------------------------------------------------- the generator */

/* xorshift64* (Vigna): small, fast, and the same on every platform. */
static uint64_t demo_rng_next(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

/* A whole number in lo … hi (inclusive). */
static int64_t demo_rng_range(uint64_t *state, int64_t lo, int64_t hi)
{
    assert(lo <= hi);
    uint64_t span = (uint64_t)(hi - lo) + 1;
    return lo + (int64_t)((demo_rng_next(state) >> 11) % span);
}

/* True with probability per_mille / 1000. */
static bool demo_rng_chance(uint64_t *state, int per_mille)
{
    return demo_rng_range(state, 0, 999) < per_mille;
}

/* ---------------------------------------------------------------- the mission's facts */

struct demo_party {
    const char *id, *kind, *name;
};

/* Parties that are not donors (donors register themselves with `donor`). */
static const struct demo_party demo_parties[] = {
    {"eg", "nation", "Egypt"},
    {"id", "nation", "Indonesia"},
    {"az", "nation", "Azerbaijan"},
    {"pk", "nation", "Pakistan"},
    {"pa", "authority", "Palestinian Authority"},
    {"bp", "authority", "Board of Peace (illustrative)"},
    {"fund", "fund", "Pooled fund for the mission (illustrative)"},
    {"force", "force", "International Stabilization Force (illustrative)"},
    {"coord-office", "organisation", "Humanitarian coordination office (illustrative)"},
    {NULL, NULL, NULL},
};

static const struct demo_party demo_donors[] = {
    {"us", "nation", "United States — Department of Defense"},
    {"ae", "nation", "United Arab Emirates"},
    {"qa", "nation", "Qatar"},
    {"sa", "nation", "Saudi Arabia"},
    {"fr", "nation", "France"},
    {"it", "nation", "Italy"},
    {"de", "nation", "Germany"},
    {NULL, NULL, NULL},
};

/* Humanitarian organisations that send consignments. */
static const struct demo_party demo_organisations[] = {
    {"food-programme", "organisation", "Food programme (illustrative)"},
    {"children-fund", "organisation", "Children's fund (illustrative)"},
    {"relief-agency", "organisation", "Relief and works agency (illustrative)"},
    {"ngo-consortium", "organisation", "NGO consortium (illustrative)"},
    {NULL, NULL, NULL},
};

static const char *const demo_board[] = {"board.chair", "board.treasurer", "board.secretary"};

/* ---------------------------------------------------------------- the demo's state */

struct demo_consignment {
    int crossing, organisation, warehouse, point;
    int commodity[DEMO_ITEMS_MAX];
    int64_t quantity[DEMO_ITEMS_MAX];
    int items;
    int64_t weight_kg;               /* litres counted as kilograms */
    int64_t pallets, trucks_screening, trucks_delivery;
    int stage;                       /* the last stage reached (0 registered); -1 rejected */
    int next_day;                    /* the day of its next move */
    int waited;                      /* days it has waited for capacity at this stage */
    int registered_day;              /* the day its registration is sent */
};

struct demo {
    struct concord *cc;
    struct cc_error *err;
    enum cc_err rc;                  /* the first failure; nothing more is applied after it */
    struct demo_summary *summary;
    uint64_t rng;
    int64_t day1_ns;                 /* midnight UTC of mission day 1 */
    int64_t clock_ns;                /* what the clock says during the batch being applied */
    int day;                         /* the batch's day (0: setup) */
    struct ledger_op *ops;           /* the batch being built */
    size_t count, capacity;
    struct arena arena;              /* the batch's strings */
    /* the aid pipeline */
    struct demo_consignment *consignments;
    size_t consignments_count;
    json_t *chain;                   /* one consignment's operations of the day, to link */
    int64_t screened_today[3], entered_today[3]; /* trucks, per crossing */
    int64_t stock_kg[4];             /* per warehouse */
};

static int64_t demo_clock(void *ctx)
{
    return ((const struct demo *)ctx)->clock_ns;
}

/* "2026-09-01" for day 1; day 0 is the day before. */
static void demo_date(const struct demo *d, int day, char out[TIME_TEXT_BYTES])
{
    time_format_date(d->day1_ns + (int64_t)(day - 1) * DEMO_NS_PER_DAY, out);
}

/* Appends op (a reference the demo takes) to the batch being built. */
static void demo_push(struct demo *d, json_t *op, const char *what)
{
    if (d->rc != CC_OK) {
        json_decref(op);
        return;
    }
    if (op == NULL) {
        d->rc = cc_error_set(d->err, CC_ERR_NOMEM, "cannot build an operation: %s", what);
        return;
    }
    if (d->count == d->capacity) {
        size_t capacity = d->capacity == 0 ? 1024 : d->capacity * 2;
        struct ledger_op *grown = realloc(d->ops, capacity * sizeof *grown);
        if (grown == NULL) {
            json_decref(op);
            d->rc = cc_error_set(d->err, CC_ERR_NOMEM, "out of memory");
            return;
        }
        d->ops = grown;
        d->capacity = capacity;
    }
    if (!json_decode_op(op, &d->ops[d->count], &d->arena))
        d->rc = cc_error_set(d->err, CC_ERR_NOMEM, "out of memory");
    else
        d->count++;
    json_decref(op);
}

/* Builds an operation with json_pack's format and appends it. */
static void demo_pack(struct demo *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_error_t jerr;
    json_t *op = json_vpack_ex(&jerr, 0, fmt, ap);
    va_end(ap);
    demo_push(d, op, jerr.text);
}

/*
 * Commits the batch built so far with the clock at hour_utc of the current
 * day, as actor (NULL: the local administrator). Every operation must hold.
 */
static void demo_commit(struct demo *d, const struct auth_actor *actor, int hour_utc)
{
    if (d->rc == CC_OK && d->count > 0) {
        d->clock_ns = d->day1_ns + (int64_t)(d->day - 1) * DEMO_NS_PER_DAY +
                      (int64_t)hour_utc * DEMO_NS_PER_HOUR;
        concord_set_actor(d->cc, actor);
        struct ledger_result *results = calloc(d->count, sizeof *results);
        if (results == NULL)
            d->rc = cc_error_set(d->err, CC_ERR_NOMEM, "out of memory");
        else
            d->rc = concord_apply(d->cc, d->ops, d->count, results, d->err);
        for (size_t i = 0; d->rc == CC_OK && i < d->count; i++) {
            if (ledger_status_ok(results[i].status)) continue;
            char date[TIME_TEXT_BYTES];
            demo_date(d, d->day, date);
            d->rc = cc_error_set(d->err, CC_ERR_REJECTED, "%s (day %d): %s %s: %s%s%s",
                                 date, d->day, ledger_op_label(&d->ops[i]),
                                 d->ops[i].id != NULL ? d->ops[i].id : "",
                                 ledger_status_name(results[i].status),
                                 results[i].message != NULL ? ": " : "",
                                 results[i].message != NULL ? results[i].message : "");
        }
        free(results);
        concord_set_actor(d->cc, NULL);
        if (d->rc == CC_OK) {
            d->summary->batches++;
            d->summary->operations += (int64_t)d->count;
        }
    }
    d->count = 0;
    arena_reset(&d->arena);
}

/* ---------------------------------------------------------------- setup */

static void demo_setup_parties(struct demo *d)
{
    static const struct {
        const char *code, *name;
        int scale;
    } units[] = {
        {"USD", "US dollar", 2}, {"PERSON", "Person", 0}, {"KG", "Kilogram", 0},
        {"TRUCK", "Truck", 0},   {"PALLET", "Pallet", 0}, {"LITRE", "Litre", 0},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        demo_pack(d, "{s:s, s:s, s:i, s:s}", "op", "unit", "code", units[i].code, "scale",
                  units[i].scale, "name", units[i].name);
    for (const struct demo_party *p = demo_parties; p->id != NULL; p++)
        demo_pack(d, "{s:s, s:s, s:s, s:s}", "op", "party", "id", p->id, "kind", p->kind, "name",
                  p->name);
    for (const struct demo_party *p = demo_donors; p->id != NULL; p++)
        demo_pack(d, "{s:s, s:s, s:s, s:s}", "op", "donor", "id", p->id, "kind", p->kind, "name",
                  p->name);
    /* Organisations register with `organisation` (demo_aid_setup). */
}

static void demo_setup_conditions(struct demo *d)
{
    demo_pack(d, "{s:s, s:s, s:s, s:f, s:s}", "op", "condition", "name", "two_state", "title",
              "A credible commitment to a two-state solution (illustrative)", "probability", 0.35,
              "authority", "bp");
    demo_pack(d, "{s:s, s:s, s:s, s:f}", "op", "condition", "name", "ceasefire_holds", "title",
              "The ceasefire holds (illustrative)", "probability", 0.7);
    demo_pack(d, "{s:s, s:s, s:s, s:f, s:s}", "op", "condition", "name", "force_trained",
              "title", "The force's first contingents are trained (illustrative)", "probability",
              0.6, "authority", "force");
    demo_pack(d, "{s:s, s:s, s:s, s:f}", "op", "condition", "name", "partners_join", "title",
              "Regional partners join the force (illustrative)", "probability", 0.5);
    demo_pack(d, "{s:s, s:s, s:s, s:s}", "op", "condition", "name", "all_clear", "title",
              "Ceasefire holding and partners in (illustrative)", "when",
              "ceasefire_holds & partners_join");
}

static void demo_setup_accounts(struct demo *d)
{
    demo_pack(d, "{s:s, s:s, s:s, s:s, s:s, s:[s, s], s:[s, s, s], s:i}", "op", "account", "id",
              "fund.pool", "unit", "USD", "name", "Pooled fund (illustrative)", "owner", "fund",
              "flags", "guarded", "debits_must_not_exceed_credits", "approvers", demo_board[0],
              demo_board[1], demo_board[2], "approvals_required", 2);
    static const struct {
        const char *id, *owner, *name;
    } accounts[] = {
        {"force.salaries", "force", "Force salaries (illustrative)"},
        {"reconstruction.works", "pa", "Reconstruction works (illustrative)"},
        {"humanitarian.response", "coord-office", "Humanitarian response (illustrative)"},
    };
    for (size_t i = 0; i < sizeof accounts / sizeof accounts[0]; i++)
        demo_pack(d, "{s:s, s:s, s:s, s:s, s:s, s:[s]}", "op", "account", "id", accounts[i].id,
                  "unit", "USD", "owner", accounts[i].owner, "name", accounts[i].name, "flags",
                  "debits_must_not_exceed_credits");
}

static void demo_setup_requirements(struct demo *d)
{
    static const struct {
        const char *id, *title, *account, *unit, *due;
        int64_t target;
    } requirements[] = {
        {"salaries", "Force salaries, first year (illustrative)", "force.salaries", "USD",
         "2027-08-31", INT64_C(120000000000)},
        {"reconstruction", "Reconstruction, first phase (illustrative)", "reconstruction.works",
         "USD", "2027-08-31", INT64_C(250000000000)},
        {"humanitarian", "Humanitarian response, first year (illustrative)",
         "humanitarian.response", "USD", "2027-08-31", INT64_C(150000000000)},
        {"troops", "Troops deployed (illustrative)", "force.deployed.", "PERSON", "2027-03-01",
         20000},
        {"certified", "Personnel certified, police included (illustrative)", "force.certified.",
         "PERSON", "2027-03-01", 15000},
        {"food", "Food and relief goods delivered, first 60 days, in kg (illustrative)",
         "aid.distributed.", "KG", "2026-10-30", INT64_C(200000000)},
        {"pool", "Pooled fund, first year (illustrative)", "fund.pool", "USD", "2027-08-31",
         INT64_C(300000000000)},
    };
    for (size_t i = 0; i < sizeof requirements / sizeof requirements[0]; i++)
        demo_pack(d, "{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "op", "requirement", "id",
                  requirements[i].id, "title", requirements[i].title, "account",
                  requirements[i].account, "unit", requirements[i].unit, "measure", "credits",
                  "target", (json_int_t)requirements[i].target, "due", requirements[i].due);
}

/* ---------------------------------------------------------------- funding */

/* A pledge; currency NULL for dollars, else the original amount in its minor units and rate. */
struct demo_pledge {
    int day;
    const char *id, *donor, *cond, *expires, *sector, *requirement, *currency, *rate;
    int64_t usd, original;
};

static const struct demo_pledge demo_pledges[] = {
    {1, "p-us-1", "us", NULL, NULL, "security", "salaries", NULL, NULL, INT64_C(50000000000), 0},
    {2, "p-ae-1", "ae", "two_state", NULL, "reconstruction", "reconstruction", NULL, NULL,
     INT64_C(25000000000), 0},
    {2, "p-qa-1", "qa", "ceasefire_holds", NULL, "humanitarian", "humanitarian", NULL, NULL,
     INT64_C(20000000000), 0},
    {3, "p-sa-1", "sa", "two_state & ceasefire_holds", NULL, "reconstruction", "reconstruction",
     NULL, NULL, INT64_C(30000000000), 0},
    {3, "p-fr-1", "fr", NULL, NULL, "humanitarian", "humanitarian", "EUR", "1.1700",
     INT64_C(14040000000), INT64_C(12000000000)},
    {4, "p-it-1", "it", "force_trained", NULL, "security", "salaries", "EUR", "1.1700",
     INT64_C(9360000000), INT64_C(8000000000)},
    {4, "p-de-1", "de", "partners_join", "2026-10-15", "reconstruction", "reconstruction", "EUR",
     "1.1700", INT64_C(17550000000), INT64_C(15000000000)},
    {8, "p-qa-2", "qa", NULL, NULL, "humanitarian", "humanitarian", NULL, NULL,
     INT64_C(10000000000), 0},
    {25, "p-us-2", "us", NULL, NULL, "security", "salaries", NULL, NULL, INT64_C(30000000000), 0},
    {58, "p-ae-2", "ae", "all_clear", NULL, "security", "salaries", NULL, NULL,
     INT64_C(15000000000), 0},
};

static void demo_pledge_push(struct demo *d, const struct demo_pledge *p)
{
    char date[TIME_TEXT_BYTES];
    demo_date(d, p->day, date);
    json_t *op = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s}", "op", "pledge", "id",
                           p->id, "donor", p->donor, "amount", (json_int_t)p->usd, "date", date,
                           "sector", p->sector, "requirement", p->requirement, "memo", DEMO_MEMO);
    if (op != NULL && p->cond != NULL) json_object_set_new(op, "if", json_string(p->cond));
    if (op != NULL && p->expires != NULL)
        json_object_set_new(op, "expires", json_string(p->expires));
    if (op != NULL && p->currency != NULL) {
        json_object_set_new(op, "currency", json_string(p->currency));
        json_object_set_new(op, "original_amount", json_integer((json_int_t)p->original));
        json_object_set_new(op, "rate", json_string(p->rate));
    }
    demo_push(d, op, "pledge");
    d->summary->pledges++;
}

/* A commitment (of a pledge, or direct when pledge is NULL), a disbursement, an expenditure. */
struct demo_money {
    int day;
    const char *op, *id, *pledge, *donor, *account, *requirement;
    int64_t amount; /* 0: all of the pledge */
    int approvers;  /* disbursement: bit i: board member i approves; bit 3+i: rejects */
};

static const struct demo_money demo_money[] = {
    {5, "commitment", "cm-us-1", "p-us-1", NULL, NULL, "salaries", 0, 0},
    {6, "commitment", "cm-fr-1", "p-fr-1", NULL, NULL, "humanitarian", 0, 0},
    {9, "commitment", "cm-qa-2", "p-qa-2", NULL, NULL, "humanitarian", 0, 0},
    {10, "disbursement", "d-salaries-sep", NULL, NULL, "force.salaries", "salaries",
     INT64_C(4500000000), 1 | 2},
    {12, "expenditure", "x-salaries-sep", NULL, NULL, "force.salaries", "salaries",
     INT64_C(4200000000), 0},
    {14, "disbursement", "d-humanitarian-1", NULL, NULL, "humanitarian.response", "humanitarian",
     INT64_C(8000000000), 1 | 4},
    {16, "expenditure", "x-humanitarian-1", NULL, NULL, "humanitarian.response", "humanitarian",
     INT64_C(6000000000), 0},
    {18, "commitment", "cm-ae-direct", NULL, "ae", NULL, "humanitarian", INT64_C(5000000000), 0},
    {20, "disbursement", "d-reconstruction-1", NULL, NULL, "reconstruction.works",
     "reconstruction", INT64_C(10000000000), 2 | 4},
    {28, "expenditure", "x-reconstruction-1", NULL, NULL, "reconstruction.works",
     "reconstruction", INT64_C(2500000000), 0},
    {35, "commitment", "cm-us-2", "p-us-2", NULL, NULL, "salaries", INT64_C(20000000000), 0},
    {41, "disbursement", "d-salaries-oct", NULL, NULL, "force.salaries", "salaries",
     INT64_C(6000000000), 1 | 2},
    {43, "expenditure", "x-salaries-oct", NULL, NULL, "force.salaries", "salaries",
     INT64_C(5800000000), 0},
    {48, "disbursement", "d-reconstruction-2", NULL, NULL, "reconstruction.works",
     "reconstruction", INT64_C(40000000000), 1 | (2 << 3) | (4 << 3)},
    {50, "disbursement", "d-humanitarian-2", NULL, NULL, "humanitarian.response", "humanitarian",
     INT64_C(12000000000), 1 | 4},
    {52, "expenditure", "x-humanitarian-2", NULL, NULL, "humanitarian.response", "humanitarian",
     INT64_C(10000000000), 0},
};

static void demo_money_push(struct demo *d, const struct demo_money *m)
{
    char date[TIME_TEXT_BYTES];
    demo_date(d, m->day, date);
    json_t *op = json_pack("{s:s, s:s, s:s, s:s, s:s}", "op", m->op, "id", m->id, "date", date,
                           "requirement", m->requirement, "memo", DEMO_MEMO);
    if (op == NULL) return demo_push(d, NULL, m->op);
    if (m->pledge != NULL) json_object_set_new(op, "pledge", json_string(m->pledge));
    if (m->donor != NULL) json_object_set_new(op, "donor", json_string(m->donor));
    if (m->amount > 0) json_object_set_new(op, "amount", json_integer((json_int_t)m->amount));
    if (strcmp(m->op, "disbursement") == 0) {
        json_object_set_new(op, "to", json_string(m->account));
        json_object_set_new(op, "approval", json_true());
    } else if (strcmp(m->op, "expenditure") == 0) {
        json_object_set_new(op, "from", json_string(m->account));
    }
    demo_push(d, op, m->op);
}

/* The board's decisions on the day's disbursements: one batch per member, as that member. */
static void demo_approvals(struct demo *d)
{
    for (int member = 0; member < 3; member++) {
        for (size_t i = 0; i < sizeof demo_money / sizeof demo_money[0]; i++) {
            const struct demo_money *m = &demo_money[i];
            bool approves = (m->approvers >> member) & 1;
            bool rejects = (m->approvers >> (3 + member)) & 1;
            if (m->day != d->day || (!approves && !rejects)) continue;
            char id[LEDGER_ID_BYTES_MAX];
            snprintf(id, sizeof id, "%s/%s", m->id, demo_board[member]);
            demo_pack(d, "{s:s, s:s, s:s, s:s}", "op", "approve", "id", id, "pending_id", m->id,
                      "decision", approves ? "approve" : "reject");
        }
        struct auth_actor actor = {.role = AUTH_ROLE_COORDINATOR};
        snprintf(actor.user, sizeof actor.user, "%s", demo_board[member]);
        demo_commit(d, &actor, 18 + member);
    }
}

static void demo_funding_day(struct demo *d)
{
    for (size_t i = 0; i < sizeof demo_pledges / sizeof demo_pledges[0]; i++)
        if (demo_pledges[i].day == d->day) demo_pledge_push(d, &demo_pledges[i]);
    for (size_t i = 0; i < sizeof demo_money / sizeof demo_money[0]; i++)
        if (demo_money[i].day == d->day) demo_money_push(d, &demo_money[i]);
    if (d->day == 40) /* the ceasefire is declared holding: what hangs on it alone posts */
        demo_pack(d, "{s:s, s:s, s:s}", "op", "resolve", "name", "ceasefire_holds", "state",
                  "met");
}

/* ---------------------------------------------------------------- force generation */

struct demo_contingent {
    int day;
    const char *id, *nation, *type, *readiness, *cond, *item, *caveat;
    int64_t personnel, items;
};

static const struct demo_contingent demo_contingents[] = {
    {1, "pa-police-1", "pa", "police", "3", NULL, "patrol vehicle", NULL, 500, 40},
    {1, "pa-police-2", "pa", "police", "3", NULL, "patrol vehicle", NULL, 500, 40},
    {1, "pa-police-3", "pa", "police", "3", NULL, "patrol vehicle", NULL, 500, 40},
    {1, "pa-police-4", "pa", "police", "3", NULL, "patrol vehicle", NULL, 500, 40},
    {1, "pa-police-5", "pa", "police", "3", NULL, "patrol vehicle", NULL, 500, 40},
    {1, "pa-police-6", "pa", "police", "3", NULL, "patrol vehicle", NULL, 500, 40},
    {1, "pa-command-1", "pa", "headquarters", "2", NULL, "command vehicle", NULL, 80, 6},
    {2, "id-infantry-1", "id", "infantry", "2", NULL, "armoured personnel carrier", NULL, 1000,
     30},
    {2, "id-infantry-2", "id", "infantry", "2", NULL, "armoured personnel carrier", NULL, 1000,
     30},
    {2, "id-engineers-1", "id", "engineering", "2", NULL, "excavator", NULL, 350, 25},
    {4, "eg-logistics-1", "eg", "logistics", "2", NULL, "cargo truck", NULL, 400, 80},
    {4, "eg-medical-1", "eg", "medical", "rapid", NULL, "field hospital", NULL, 150, 1},
    {6, "az-infantry-1", "az", "infantry", "3", "partners_join", "armoured vehicle", NULL, 500,
     20},
    {6, "pk-infantry-1", "pk", "infantry", "3", "partners_join", "armoured vehicle", NULL, 800,
     30},
    {6, "pk-engineers-1", "pk", "engineering", "3", "partners_join", "bulldozer", NULL, 200, 12},
    {7, "it-police-1", "it", "police", "2", NULL, "training kit", "training and mentoring only",
     200, 10},
    {4, "us-hq-1", "us", "headquarters", "1", NULL, "communications suite",
     "no personnel on the ground in Gaza", 200, 4},
    {7, "fr-medical-1", "fr", "medical", "2", "ceasefire_holds", "surgical unit", NULL, 120, 2},
};

struct demo_move {
    int day;
    const char *contingent, *to, *course;
    int64_t personnel; /* 0: the whole contingent */
};

/* In each day's order: certifications (which free seats) before the trainings that take them. */
static const struct demo_move demo_moves[] = {
    {2, "pa-police-1", "accepted", NULL, 0},      {2, "pa-police-2", "accepted", NULL, 0},
    {2, "pa-police-3", "accepted", NULL, 0},      {2, "pa-police-4", "accepted", NULL, 0},
    {2, "pa-command-1", "accepted", NULL, 0},     {3, "pa-police-1", "training", "pa-basic", 0},
    {3, "pa-police-2", "training", "pa-basic", 0}, {3, "pa-command-1", "training", "pa-command", 0},
    {5, "id-infantry-1", "accepted", NULL, 0},    {5, "id-engineers-1", "accepted", NULL, 0},
    {5, "eg-logistics-1", "accepted", NULL, 0},   {5, "eg-medical-1", "accepted", NULL, 0},
    {5, "us-hq-1", "accepted", NULL, 0},          {6, "id-infantry-1", "training", "induction", 0},
    {6, "id-engineers-1", "training", "induction", 0},
    {6, "eg-logistics-1", "training", "induction", 0},
    {6, "eg-medical-1", "training", "induction", 0}, {6, "us-hq-1", "training", "induction", 0},
    {10, "it-police-1", "accepted", NULL, 0},     {10, "pa-police-5", "accepted", NULL, 0},
    {11, "it-police-1", "training", "induction", 0},
    {20, "id-infantry-1", "certified", "induction", 0},
    {20, "id-engineers-1", "certified", "induction", 0},
    {20, "eg-logistics-1", "certified", "induction", 0},
    {20, "eg-medical-1", "certified", "induction", 0}, {20, "us-hq-1", "certified", "induction", 0},
    {21, "id-infantry-2", "accepted", NULL, 0},   {22, "id-infantry-1", "deployed", NULL, 0},
    {22, "id-engineers-1", "deployed", NULL, 0},  {22, "eg-logistics-1", "deployed", NULL, 0},
    {22, "eg-medical-1", "deployed", NULL, 0},    {22, "us-hq-1", "deployed", NULL, 0},
    {24, "pa-command-1", "certified", "pa-command", 0},
    {25, "it-police-1", "certified", "induction", 0},
    {25, "id-infantry-2", "training", "induction", 0},
    {26, "pa-command-1", "deployed", NULL, 0},
    {31, "pa-police-1", "certified", "pa-basic", 0}, {31, "pa-police-2", "certified", "pa-basic", 0},
    {31, "pa-police-3", "training", "pa-basic", 0}, {31, "pa-police-4", "training", "pa-basic", 0},
    {35, "pa-police-1", "deployed", NULL, 0},     {35, "pa-police-2", "deployed", NULL, 400},
    {39, "id-infantry-2", "certified", "induction", 0},
    {42, "id-infantry-2", "deployed", NULL, 600}, {45, "fr-medical-1", "accepted", NULL, 0},
    {46, "fr-medical-1", "training", "induction", 0}, {50, "eg-medical-1", "rotated", NULL, 50},
    {55, "id-infantry-2", "deployed", NULL, 400}, {56, "pa-police-2", "deployed", NULL, 100},
    {59, "pa-police-3", "certified", "pa-basic", 0}, {59, "pa-police-4", "certified", "pa-basic", 0},
    {60, "fr-medical-1", "certified", "induction", 0},
};

static void demo_force_setup(struct demo *d)
{
    static const struct {
        const char *id, *name;
        int capacity, days;
    } courses[] = {
        {"pa-basic", "Palestinian police basic course (illustrative)", 1000, 28},
        {"pa-command", "Police command and leadership course (illustrative)", 100, 21},
        {"induction", "Stabilization force induction (illustrative)", 2500, 14},
    };
    for (size_t i = 0; i < sizeof courses / sizeof courses[0]; i++)
        demo_pack(d, "{s:s, s:s, s:s, s:i, s:i}", "op", "course", "id", courses[i].id, "name",
                  courses[i].name, "capacity", courses[i].capacity, "duration_days",
                  courses[i].days);
    /* The UN's rate per person-month since July 2018: US$1,428. */
    demo_pack(d, "{s:s, s:s, s:I, s:s}", "op", "reimbursement_rate", "id", "rate-2018",
              "amount", (json_int_t)142800, "date", "2018-07-01");
}

static void demo_contingent_push(struct demo *d, const struct demo_contingent *c)
{
    char date[TIME_TEXT_BYTES];
    demo_date(d, c->day, date);
    json_t *op = json_pack("{s:s, s:s, s:s, s:s, s:I, s:[{s:s, s:I}], s:s, s:s}", "op",
                           "contingent", "id", c->id, "nation", c->nation, "type", c->type,
                           "personnel", (json_int_t)c->personnel, "equipment", "item", c->item,
                           "count", (json_int_t)c->items, "readiness", c->readiness, "date",
                           date);
    if (op != NULL)
        json_object_set_new(op, "caveats",
                            c->caveat != NULL ? json_pack("[s]", c->caveat) : json_array());
    if (op != NULL && c->cond != NULL) json_object_set_new(op, "if", json_string(c->cond));
    demo_push(d, op, "contingent");
    d->summary->contingents++;
}

static void demo_move_push(struct demo *d, const struct demo_move *m)
{
    char date[TIME_TEXT_BYTES], id[LEDGER_ID_BYTES_MAX];
    demo_date(d, m->day, date);
    snprintf(id, sizeof id, "%s/%s-d%02d", m->contingent, m->to, m->day);
    json_t *op = json_pack("{s:s, s:s, s:s, s:s, s:s}", "op", "contingent_move", "id", id,
                           "contingent", m->contingent, "to", m->to, "date", date);
    if (op != NULL && m->course != NULL) json_object_set_new(op, "course", json_string(m->course));
    if (op != NULL && m->personnel > 0)
        json_object_set_new(op, "personnel", json_integer((json_int_t)m->personnel));
    demo_push(d, op, "contingent_move");
}

static void demo_force_day(struct demo *d)
{
    for (size_t i = 0; i < sizeof demo_contingents / sizeof demo_contingents[0]; i++)
        if (demo_contingents[i].day == d->day) demo_contingent_push(d, &demo_contingents[i]);
    for (size_t i = 0; i < sizeof demo_moves / sizeof demo_moves[0]; i++)
        if (demo_moves[i].day == d->day) demo_move_push(d, &demo_moves[i]);
}

/* ---------------------------------------------------------------- the aid pipeline */

struct demo_crossing {
    const char *id, *name;
    int64_t trucks_per_day, screening_per_day;
    int share_percent;             /* of the day's consignments */
    int closed_from, closed_to;    /* days it takes nothing (0: none) */
    int surge_from, surge_to;      /* days of a surge agreed at the crossing */
};

/* About 500 trucks a day in all, the order of the figures before October 2023. */
static const struct demo_crossing demo_crossings[] = {
    {"ks", "Kerem Shalom", 220, 240, 55, 0, 0, 33, 35},
    {"rafah", "Rafah", 160, 170, 30, 22, 24, 14, 16},
    {"zikim", "Zikim", 70, 70, 15, 40, 45, 50, 51},
};
#define DEMO_CROSSINGS ((int)(sizeof demo_crossings / sizeof demo_crossings[0]))

struct demo_commodity {
    const char *id, *name, *unit;
    int64_t min, max; /* a consignment's quantity */
};

static const struct demo_commodity demo_commodities[] = {
    {"wheat-flour", "Wheat flour", "KG", 20000, 80000},
    {"rice", "Rice", "KG", 10000, 40000},
    {"lentils", "Lentils", "KG", 8000, 30000},
    {"water", "Drinking water", "LITRE", 20000, 60000},
    {"medical-kits", "Medical kits", "KG", 1000, 8000},
    {"tents", "Family tents", "KG", 4000, 20000},
    {"hygiene-kits", "Hygiene kits", "KG", 2000, 12000},
    {"ready-meals", "Ready-to-eat meals", "KG", 6000, 24000},
};
#define DEMO_COMMODITIES ((int)(sizeof demo_commodities / sizeof demo_commodities[0]))

static const struct {
    const char *id, *name;
    int64_t capacity_kg;
} demo_warehouses[] = {
    {"wh-khan-younis", "Khan Younis logistics base (illustrative)", 9000000},
    {"wh-deir-al-balah", "Deir al-Balah warehouse (illustrative)", 7000000},
    {"wh-gaza-city", "Gaza City warehouse (illustrative)", 6000000},
    {"wh-rafah", "Rafah warehouse (illustrative)", 5000000},
};
#define DEMO_WAREHOUSES ((int)(sizeof demo_warehouses / sizeof demo_warehouses[0]))

/* Where each crossing's consignments are stored, in order of preference. */
static const int demo_warehouse_order[3][DEMO_WAREHOUSES] = {
    {0, 1, 3, 2}, /* ks */
    {3, 0, 1, 2}, /* rafah */
    {2, 1, 0, 3}, /* zikim */
};

static const struct {
    const char *id, *name;
    int64_t population;
    int warehouse; /* the warehouse that serves it */
} demo_points[] = {
    {"dp-gaza-city", "Gaza City distribution point (illustrative)", 420000, 2},
    {"dp-jabalia", "Jabalia distribution point (illustrative)", 260000, 2},
    {"dp-nuseirat", "Nuseirat distribution point (illustrative)", 220000, 1},
    {"dp-deir-al-balah", "Deir al-Balah distribution point (illustrative)", 300000, 1},
    {"dp-khan-younis", "Khan Younis distribution point (illustrative)", 380000, 0},
    {"dp-al-mawasi", "Al-Mawasi distribution point (illustrative)", 350000, 0},
    {"dp-rafah", "Rafah distribution point (illustrative)", 150000, 3},
};
#define DEMO_POINTS ((int)(sizeof demo_points / sizeof demo_points[0]))

static const char *const demo_stages[] = {"registered", "screened",   "entered",
                                          "awaiting",   "collected",  "warehoused",
                                          "dispatched", "distributed"};
#define DEMO_STAGE_LAST 7

static const char *const demo_rejections[] = {
    "dual-use item", "documentation incomplete", "packaging does not match the manifest",
    "item not on the approved list",
};

static void demo_aid_setup(struct demo *d)
{
    for (const struct demo_party *o = demo_organisations; o->id != NULL; o++)
        demo_pack(d, "{s:s, s:s, s:s}", "op", "organisation", "id", o->id, "name", o->name);
    for (int i = 0; i < DEMO_COMMODITIES; i++)
        demo_pack(d, "{s:s, s:s, s:s, s:s}", "op", "commodity", "id", demo_commodities[i].id,
                  "name", demo_commodities[i].name, "unit", demo_commodities[i].unit);
    for (int i = 0; i < DEMO_CROSSINGS; i++)
        demo_pack(d, "{s:s, s:s, s:s, s:I, s:I}", "op", "crossing", "id", demo_crossings[i].id,
                  "name", demo_crossings[i].name, "trucks_per_day",
                  (json_int_t)demo_crossings[i].trucks_per_day, "screening_per_day",
                  (json_int_t)demo_crossings[i].screening_per_day);
    for (int i = 0; i < DEMO_WAREHOUSES; i++)
        demo_pack(d, "{s:s, s:s, s:s, s:I}", "op", "warehouse", "id", demo_warehouses[i].id,
                  "name", demo_warehouses[i].name, "capacity_kg",
                  (json_int_t)demo_warehouses[i].capacity_kg);
    for (int i = 0; i < DEMO_POINTS; i++) {
        /* A day's need: 250 g of flour, 100 g of rice and 3 litres of water a person. */
        json_t *need = json_pack("{s:I, s:I, s:I}", "wheat-flour",
                                 (json_int_t)(demo_points[i].population / 4), "rice",
                                 (json_int_t)(demo_points[i].population / 10), "water",
                                 (json_int_t)(demo_points[i].population * 3));
        demo_pack(d, "{s:s, s:s, s:s, s:I, s:o}", "op", "distribution_point", "id",
                  demo_points[i].id, "name", demo_points[i].name, "population",
                  (json_int_t)demo_points[i].population, "need", need);
    }
}

/* How many consignments are registered on the day: more during a crossing's surge. */
static int64_t demo_consignments_today(struct demo *d)
{
    int64_t n = demo_rng_range(&d->rng, 60, 100);
    for (int i = 0; i < DEMO_CROSSINGS; i++)
        if (d->day >= demo_crossings[i].surge_from && d->day <= demo_crossings[i].surge_to)
            n += demo_rng_range(&d->rng, 40, 80);
    return n;
}

/* The crossing of a new consignment: by share, and towards the one in surge. */
static int demo_crossing_pick(struct demo *d)
{
    for (int i = 0; i < DEMO_CROSSINGS; i++)
        if (d->day >= demo_crossings[i].surge_from && d->day <= demo_crossings[i].surge_to &&
            demo_rng_chance(&d->rng, 450))
            return i;
    int64_t roll = demo_rng_range(&d->rng, 0, 99), sum = 0;
    for (int i = 0; i < DEMO_CROSSINGS; i++) {
        sum += demo_crossings[i].share_percent;
        if (roll < sum) return i;
    }
    return 0;
}

static void demo_consignment_make(struct demo *d, struct demo_consignment *c)
{
    memset(c, 0, sizeof *c);
    c->crossing = demo_crossing_pick(d);
    c->organisation = (int)demo_rng_range(&d->rng, 0, 3);
    c->items = (int)demo_rng_range(&d->rng, 1, DEMO_ITEMS_MAX);
    for (int i = 0; i < c->items; i++) {
        int k;
        bool taken;
        do { /* distinct commodities: proof of delivery is per commodity */
            k = (int)demo_rng_range(&d->rng, 0, DEMO_COMMODITIES - 1);
            taken = false;
            for (int j = 0; j < i; j++) taken |= c->commodity[j] == k;
        } while (taken);
        c->commodity[i] = k;
        c->quantity[i] = demo_rng_range(&d->rng, demo_commodities[k].min, demo_commodities[k].max);
        c->weight_kg += c->quantity[i];
    }
    c->pallets = (c->weight_kg + DEMO_PALLET_KG - 1) / DEMO_PALLET_KG;
    c->trucks_screening = (c->weight_kg + DEMO_TRUCK_KG - 1) / DEMO_TRUCK_KG;
    /* Goods are reloaded on Gaza's side, on trucks that are often smaller. */
    c->trucks_delivery = c->trucks_screening + (demo_rng_chance(&d->rng, 300) ? 1 : 0);
    c->next_day = d->day + (demo_rng_chance(&d->rng, 600) ? 0 : 1);
}

static void demo_consignment_id(size_t index, char out[32])
{
    snprintf(out, 32, "c-%04zu", index + 1);
}

/* The day's new consignments: made now, sent (with their first moves) in demo_aid_day. */
static void demo_register(struct demo *d)
{
    int64_t n = demo_consignments_today(d);
    for (int64_t k = 0; k < n && d->consignments_count < DEMO_CONSIGNMENTS_MAX; k++) {
        struct demo_consignment *c = &d->consignments[d->consignments_count++];
        demo_consignment_make(d, c);
        c->registered_day = d->day;
        d->summary->consignments++;
    }
}

/* The consignment operation of consignment index, into the day's chain. */
static void demo_consignment_push(struct demo *d, size_t index)
{
    const struct demo_consignment *c = &d->consignments[index];
    char id[32], date[TIME_TEXT_BYTES];
    demo_consignment_id(index, id);
    demo_date(d, d->day, date);
    json_t *items = json_array();
    for (int i = 0; i < c->items; i++)
        json_array_append_new(items, json_pack("{s:s, s:I}", "commodity",
                                               demo_commodities[c->commodity[i]].id, "quantity",
                                               (json_int_t)c->quantity[i]));
    json_t *op = json_pack("{s:s, s:s, s:s, s:s, s:o, s:I, s:{s:I, s:I}, s:s}", "op",
                           "consignment", "id", id, "organisation",
                           demo_organisations[c->organisation].id, "crossing",
                           demo_crossings[c->crossing].id, "items", items, "pallets",
                           (json_int_t)c->pallets, "trucks", "screening",
                           (json_int_t)c->trucks_screening, "delivery",
                           (json_int_t)c->trucks_delivery, "date", date);
    if (op == NULL || json_array_append_new(d->chain, op) != 0)
        demo_push(d, NULL, "consignment");
}

/*
 * Sends the day's chain of one consignment: each operation linked to the
 * next, so that a move relies on the one before it in the same batch.
 */
static void demo_chain_flush(struct demo *d)
{
    size_t n = json_array_size(d->chain);
    for (size_t i = 0; i < n; i++) {
        json_t *op = json_incref(json_array_get(d->chain, i));
        if (i + 1 < n) json_object_set_new(op, "linked", json_true());
        demo_push(d, op, "consignment");
    }
    json_array_clear(d->chain);
}

/* Appends c's move to stage, with extra fields (a reference taken; may be NULL). */
static void demo_consignment_move(struct demo *d, size_t index, int stage, json_t *extra)
{
    char consignment[32], id[48], date[TIME_TEXT_BYTES];
    demo_consignment_id(index, consignment);
    snprintf(id, sizeof id, "%s/m%d", consignment, stage);
    demo_date(d, d->day, date);
    json_t *op = json_pack("{s:s, s:s, s:s, s:s, s:s}", "op", "consignment_move", "id", id,
                           "consignment", consignment, "to", demo_stages[stage], "date", date);
    if (op != NULL && extra != NULL) json_object_update(op, extra);
    json_decref(extra);
    if (op == NULL || json_array_append_new(d->chain, op) != 0)
        demo_push(d, NULL, "consignment_move");
}

/*
 * Whether trucks more fit through a crossing today, given what it has taken
 * (*used) and its capacity. Over capacity, during a surge or after a long
 * wait, the crossing sometimes takes them all the same: *override says why.
 */
static bool demo_crossing_takes(struct demo *d, struct demo_consignment *c, int64_t *used,
                                int64_t capacity, int64_t trucks, const char **override)
{
    const struct demo_crossing *x = &demo_crossings[c->crossing];
    *override = NULL;
    if (x->closed_from > 0 && d->day >= x->closed_from && d->day <= x->closed_to) return false;
    if (*used + trucks > capacity) {
        bool surge = d->day >= x->surge_from && d->day <= x->surge_to;
        if (surge && demo_rng_chance(&d->rng, 300))
            *override = "surge agreed with the crossing's operators (illustrative)";
        else if (c->waited >= 3 && demo_rng_chance(&d->rng, 150))
            *override = "backlog cleared by an extended shift (illustrative)";
        else
            return false;
        d->summary->overrides++;
    }
    *used += trucks;
    return true;
}

static json_t *demo_override(const char *reason)
{
    return reason != NULL ? json_pack("{s:{s:s}}", "override", "reason", reason) : json_object();
}

/* Registered → screened: cleared, or (about 4 in 100) rejected with a reason. */
static bool demo_screen(struct demo *d, size_t index)
{
    struct demo_consignment *c = &d->consignments[index];
    const char *override;
    if (!demo_crossing_takes(d, c, &d->screened_today[c->crossing],
                             demo_crossings[c->crossing].screening_per_day, c->trucks_screening,
                             &override))
        return false;
    json_t *extra = demo_override(override);
    if (demo_rng_chance(&d->rng, 40)) {
        int64_t r = demo_rng_range(&d->rng, 0, 3);
        json_object_set_new(extra, "decision", json_string("rejected"));
        json_object_set_new(extra, "reason", json_string(demo_rejections[r]));
        demo_consignment_move(d, index, 1, extra);
        c->stage = -1;
        d->summary->rejected++;
        return true;
    }
    json_object_set_new(extra, "decision", json_string("cleared"));
    demo_consignment_move(d, index, 1, extra);
    c->next_day = d->day + (demo_rng_chance(&d->rng, 700) ? 0 : 1);
    return true;
}

/* Screened → entered at the crossing (its screening trucks count against the day's entries). */
static bool demo_enter(struct demo *d, size_t index)
{
    struct demo_consignment *c = &d->consignments[index];
    const char *override;
    if (!demo_crossing_takes(d, c, &d->entered_today[c->crossing],
                             demo_crossings[c->crossing].trucks_per_day, c->trucks_screening,
                             &override))
        return false;
    demo_consignment_move(d, index, 2, override != NULL ? demo_override(override) : NULL);
    c->next_day = d->day; /* it waits for collection at once */
    return true;
}

/* Collected → warehoused, in the first of its crossing's warehouses with room. */
static bool demo_store(struct demo *d, size_t index)
{
    struct demo_consignment *c = &d->consignments[index];
    for (int k = 0; k < DEMO_WAREHOUSES; k++) {
        int w = demo_warehouse_order[c->crossing][k];
        if (d->stock_kg[w] + c->weight_kg > demo_warehouses[w].capacity_kg) continue;
        d->stock_kg[w] += c->weight_kg;
        c->warehouse = w;
        demo_consignment_move(d, index, 5,
                              json_pack("{s:s}", "warehouse", demo_warehouses[w].id));
        c->next_day = d->day + (int)demo_rng_range(&d->rng, 1, 4);
        return true;
    }
    return false; /* every warehouse is full: it waits on its trucks */
}

/* Warehoused → dispatched to one of the points its warehouse serves. */
static void demo_dispatch(struct demo *d, size_t index)
{
    struct demo_consignment *c = &d->consignments[index];
    int served[DEMO_POINTS], n = 0;
    for (int p = 0; p < DEMO_POINTS; p++)
        if (demo_points[p].warehouse == c->warehouse) served[n++] = p;
    c->point = n > 0 ? served[demo_rng_range(&d->rng, 0, n - 1)]
                     : (int)demo_rng_range(&d->rng, 0, DEMO_POINTS - 1);
    d->stock_kg[c->warehouse] -= c->weight_kg;
    demo_consignment_move(d, index, 6, json_pack("{s:s}", "point", demo_points[c->point].id));
    c->next_day = d->day + (demo_rng_chance(&d->rng, 500) ? 0 : 1);
}

/* Dispatched → distributed, with proof of delivery: most arrives good, some damaged or lost. */
static void demo_distribute(struct demo *d, size_t index)
{
    struct demo_consignment *c = &d->consignments[index];
    json_t *received = json_object();
    bool looted = demo_rng_chance(&d->rng, 15);
    for (int i = 0; i < c->items; i++) {
        int64_t q = c->quantity[i], lost = 0, damaged = 0;
        if (looted)
            lost = q * demo_rng_range(&d->rng, 20, 100) / 100;
        else if (demo_rng_chance(&d->rng, 60))
            lost = q * demo_rng_range(&d->rng, 1, 5) / 100;
        if (demo_rng_chance(&d->rng, 150)) damaged = (q - lost) * demo_rng_range(&d->rng, 1, 3) / 100;
        json_object_set_new(received, demo_commodities[c->commodity[i]].id,
                            json_pack("{s:I, s:I, s:I}", "good", (json_int_t)(q - lost - damaged),
                                      "damaged", (json_int_t)damaged, "lost", (json_int_t)lost));
    }
    demo_consignment_move(d, index, 7, json_pack("{s:o}", "received", received));
    d->summary->distributed++;
}

/* One consignment's next move, if it is due and possible today; false when it waits. */
static bool demo_advance(struct demo *d, size_t index)
{
    struct demo_consignment *c = &d->consignments[index];
    int next = c->stage + 1;
    bool moved = true;
    switch (next) {
    case 1: moved = demo_screen(d, index); break;
    case 2: moved = demo_enter(d, index); break;
    case 3: { /* awaiting collection: longer while the roads are unsafe (days 25–30) */
        demo_consignment_move(d, index, 3, NULL);
        int64_t dwell = demo_rng_chance(&d->rng, 400) ? 0 : demo_rng_range(&d->rng, 1, 3);
        if (d->day >= 25 && d->day <= 30) dwell += 2;
        c->next_day = d->day + (int)dwell;
        break;
    }
    case 4:
        demo_consignment_move(d, index, 4, NULL);
        c->next_day = d->day + (demo_rng_chance(&d->rng, 600) ? 0 : 1);
        break;
    case 5: moved = demo_store(d, index); break;
    case 6: demo_dispatch(d, index); break;
    default: demo_distribute(d, index); break;
    }
    if (!moved) {
        c->waited++;
        c->next_day = d->day + 1;
        return false;
    }
    c->waited = 0;
    if (c->stage >= 0) c->stage = next;
    return true;
}

static void demo_aid_day(struct demo *d)
{
    memset(d->screened_today, 0, sizeof d->screened_today);
    memset(d->entered_today, 0, sizeof d->entered_today);
    demo_register(d);
    /* Oldest first: what waited longest at a crossing goes through first. */
    for (size_t i = 0; i < d->consignments_count && d->rc == CC_OK; i++) {
        struct demo_consignment *c = &d->consignments[i];
        if (c->registered_day == d->day) demo_consignment_push(d, i);
        while (c->stage >= 0 && c->stage < DEMO_STAGE_LAST && c->next_day <= d->day)
            if (!demo_advance(d, i)) break;
        demo_chain_flush(d);
    }
}

/* ---------------------------------------------------------------- loading */

/* Nothing ever written: no row stamped, no event logged. */
static enum cc_err demo_empty(struct concord *cc, bool *empty, struct cc_error *err)
{
    int64_t timestamp = 0, events = 0;
    const struct store_driver *driver = cc->store->driver;
    enum cc_err rc = driver->timestamp_last(cc->store, &timestamp, err);
    if (rc == CC_OK) rc = driver->events_last(cc->store, &events, err);
    *empty = timestamp == 0 && events == 0;
    return rc;
}

static int demo_party_count(void *ctx, const struct ledger_party *party)
{
    (void)party;
    ++*(int64_t *)ctx;
    return 0;
}

/* The setup batch, then one batch per day (and the board's approvals of that day). */
static void demo_run(struct demo *d)
{
    d->day = 1; /* setup runs early on day 1 */
    demo_setup_parties(d);
    demo_setup_conditions(d);
    demo_setup_accounts(d);
    demo_setup_requirements(d);
    demo_force_setup(d);
    demo_aid_setup(d);
    demo_commit(d, NULL, 6);
    for (d->day = 1; d->day <= DEMO_DAYS && d->rc == CC_OK; d->day++) {
        demo_funding_day(d);
        demo_force_day(d);
        demo_aid_day(d);
        demo_commit(d, NULL, 17);
        demo_approvals(d);
    }
}

enum cc_err concord_demo_load(struct concord *cc, struct demo_summary *out,
                              struct cc_error *err)
{
    memset(out, 0, sizeof *out);
    bool empty;
    enum cc_err rc = demo_empty(cc, &empty, err);
    if (rc != CC_OK) return rc;
    if (!empty)
        return cc_error_set(err, CC_ERR_USAGE, "the database already holds a ledger: the demo "
                                               "loads only into a new, empty one");
    struct demo d = {.cc = cc, .err = err, .summary = out, .rng = DEMO_SEED};
    bool date_only;
    if (!time_parse(DEMO_FIRST_DAY, &d.day1_ns, &date_only))
        return cc_error_set(err, CC_ERR_SYSTEM, "cannot read its own first day");
    out->conditions = 5;
    out->requirements = 7;
    d.consignments = calloc(DEMO_CONSIGNMENTS_MAX, sizeof *d.consignments);
    if (d.consignments == NULL) return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    d.chain = json_array();
    if (d.chain == NULL) {
        free(d.consignments);
        return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    }
    arena_init(&d.arena);
    concord_set_clock(cc, demo_clock, &d);
    demo_run(&d);
    concord_set_clock(cc, NULL, NULL);
    concord_set_actor(cc, NULL);
    arena_free(&d.arena);
    free(d.ops);
    free(d.consignments);
    json_decref(d.chain);
    if (d.rc != CC_OK) return d.rc;
    const struct store_driver *driver = cc->store->driver;
    rc = driver->transfers_last(cc->store, &out->transfers, err);
    if (rc == CC_OK) rc = concord_parties_list(cc, demo_party_count, &out->parties, err);
    return rc;
}

void demo_summary_print(const struct demo_summary *s, const char *db_path, FILE *out)
{
    fprintf(out, "Loaded the demo mission into %s: %" PRId64 " batches, %" PRId64
                 " operations.\n\n",
            db_path, s->batches, s->operations);
    fprintf(out, "  parties       %8" PRId64 "\n", s->parties);
    fprintf(out, "  conditions    %8" PRId64 "\n", s->conditions);
    fprintf(out, "  requirements  %8" PRId64 "\n", s->requirements);
    fprintf(out, "  pledges       %8" PRId64 "\n", s->pledges);
    fprintf(out, "  contingents   %8" PRId64 "\n", s->contingents);
    fprintf(out,
            "  consignments  %8" PRId64 "   (%" PRId64 " distributed, %" PRId64
            " rejected at screening, %" PRId64 " moves over a crossing's capacity)\n",
            s->consignments, s->distributed, s->rejected, s->overrides);
    fprintf(out, "  transfers     %8" PRId64 "\n\n", s->transfers);
    fprintf(out, "Look around (add --db %s, or export CONCORD_DB=%s):\n", db_path, db_path);
    fputs("  concord report funding            pledges, commitments and disbursements (also force, aid)\n"
          "  concord gaps                      what each requirement still lacks\n"
          "  concord forecast                  how likely each requirement is to be met\n"
          "  concord scenario --assume two_state=met\n"
          "  concord condition list            the conditions pledges hang on\n"
          "  concord balance --prefix donor.   what the donors have given\n"
          "  concord history fund.pool         the pooled fund, transfer by transfer\n"
          "  concord verify                    replay the audit log against the ledger\n",
          out);
}
