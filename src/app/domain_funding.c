/*
 * domain_funding.c — the pooled fund's money: donors, pledges, commitments,
 * disbursements and expenditures (the vocabulary of OCHA FTS, IATI and the
 * UN MPTF Office), as steps on the ledger.
 *
 * Accounts (USD, docs/DOMAIN.md):
 *   donor.<donor>    the donor; owned by the donor's party
 *   fund.pool        the pooled fund (created by the coordination cell,
 *                    usually guarded: disbursements need the board)
 *   <requirement's>  where a disbursement goes (force.salaries, …)
 *   spent.<account>  what was spent from that account
 *
 * A pledge is a pending transfer donor.<d> → fund.pool, conditional when it
 * has an `if`; a commitment posts it (all or part) or, without a pledge, is
 * a posted transfer of its own; a disbursement moves money from the pool to
 * a requirement's account (pending when it waits for approval); an
 * expenditure moves it from that account to spent.<account>. Each carries in
 * its meta what the reports group by: donor, sector, requirement, and the
 * original currency, amount and rate beside the USD amount.
 */
#include <string.h>

#include "app/domain.h"

#define FUNDING_UNIT "USD"
#define FUNDING_POOL "fund.pool"

/* "1.0843": digits with at most one point, not empty, not all zero. */
static bool rate_text_valid(const char *rate)
{
    bool digit = false, nonzero = false, point = false;
    for (const char *p = rate; *p; p++) {
        if (*p == '.' && !point) {
            point = true;
        } else if (*p >= '0' && *p <= '9') {
            digit = true;
            nonzero |= *p != '0';
        } else {
            return false;
        }
    }
    return digit && nonzero;
}

/* The meta every funding transfer carries: who, for what, in which currency. */
static const char *funding_meta(struct domain_expansion *x, const char *donor, int64_t usd,
                                bool *ok)
{
    const char *sector = domain_string(x, "sector", false, ok);
    const char *requirement = domain_string(x, "requirement", false, ok);
    const char *currency = domain_string(x, "currency", false, ok);
    bool given;
    int64_t original = domain_integer(x, "original_amount", 1, false, &given, ok);
    const char *rate = domain_string(x, "rate", false, ok);
    if (currency != NULL && strcmp(currency, FUNDING_UNIT) != 0) {
        if (!given || rate == NULL)
            *ok = domain_invalid(x, "currency %s: original_amount and rate are required",
                                 currency);
    } else if (given || rate != NULL) {
        *ok = domain_invalid(x, "original_amount and rate describe a currency other than USD");
    }
    if (rate != NULL && !rate_text_valid(rate))
        *ok = domain_invalid(x, "rate: must be a positive decimal such as \"1.0843\"");
    json_t *meta = json_object();
    if (donor != NULL) json_object_set_new(meta, "donor", json_string(donor));
    if (sector != NULL) json_object_set_new(meta, "sector", json_string(sector));
    if (requirement != NULL) json_object_set_new(meta, "requirement", json_string(requirement));
    if (currency != NULL && given) {
        json_object_set_new(meta, "currency", json_string(currency));
        json_object_set_new(meta, "original_amount", json_integer(original));
        json_object_set_new(meta, "rate", json_string(rate));
    }
    if (usd > 0) json_object_set_new(meta, "usd_amount", json_integer(usd));
    const char *text = json_object_size(meta) > 0 ? domain_json(x, meta) : NULL;
    json_decref(meta);
    return text;
}

/* Date, memo: what every transfer step may take from its operation. */
static void common_fields(struct domain_expansion *x, struct ledger_op *t, bool *ok)
{
    if (t == NULL) return;
    bool given;
    t->date = domain_time(x, "date", &given, ok);
    if (given) t->flags |= LEDGER_OP_HAS_DATE;
    t->memo = domain_string(x, "memo", false, ok);
}

bool domain_donor(struct domain_expansion *x)
{
    static const char *const fields[] = {"name", "kind", NULL};
    bool ok = domain_fields(x, fields);
    const char *donor = domain_name(x, "id", true, &ok);
    const char *name = domain_string(x, "name", false, &ok);
    const char *kind = domain_string(x, "kind", false, &ok);
    if (kind == NULL) kind = "nation";
    if (strcmp(kind, "nation") != 0 && strcmp(kind, "organisation") != 0)
        ok = domain_invalid(x, "kind: a donor is a nation or an organisation");
    if (!ok) return false;
    struct ledger_op *party = domain_step(x, LEDGER_OP_PARTY);
    if (party == NULL) return false;
    party->id = donor;
    party->name = name;
    party->kind = kind;
    return domain_account(x, domain_printf(x, "donor.%s", donor), FUNDING_UNIT, donor, 0,
                          name) != NULL;
}

bool domain_pledge(struct domain_expansion *x)
{
    static const char *const fields[] = {"donor", "amount", "if", "expires", "date", "memo",
                                         "sector", "requirement", "currency", "original_amount",
                                         "rate", "fund", NULL};
    bool ok = domain_fields(x, fields), given;
    const char *donor = domain_name(x, "donor", true, &ok);
    int64_t amount = domain_integer(x, "amount", 1, true, &given, &ok);
    const char *cond = domain_string(x, "if", false, &ok);
    int64_t expires = domain_time(x, "expires", &given, &ok);
    bool has_expires = given;
    const char *fund = domain_string(x, "fund", false, &ok);
    const char *meta = funding_meta(x, donor, amount, &ok);
    if (!ok) return false;
    struct ledger_op *t = domain_transfer(x, x->id, domain_printf(x, "donor.%s", donor),
                                          fund != NULL ? fund : FUNDING_POOL, amount, "pledge");
    if (t == NULL) return false;
    t->flags |= LEDGER_OP_PENDING;
    t->cond = cond;
    t->meta = meta;
    if (has_expires) {
        t->expires = expires;
        t->flags |= LEDGER_OP_HAS_EXPIRES;
    }
    common_fields(x, t, &ok);
    return ok;
}

bool domain_commitment(struct domain_expansion *x)
{
    static const char *const fields[] = {"pledge", "donor", "amount", "date", "memo", "sector",
                                         "requirement", "currency", "original_amount", "rate",
                                         "fund", NULL};
    bool ok = domain_fields(x, fields), given;
    const char *pledge = domain_string(x, "pledge", false, &ok);
    const char *donor = domain_name(x, "donor", pledge == NULL, &ok);
    int64_t amount = domain_integer(x, "amount", 1, pledge == NULL, &given, &ok);
    bool has_amount = given;
    const char *fund = domain_string(x, "fund", false, &ok);
    if (pledge != NULL && (donor != NULL || fund != NULL))
        ok = domain_invalid(x, "a commitment of a pledge takes its donor and fund from it");
    if (!ok) return false;
    struct ledger_op *t;
    if (pledge != NULL) { /* the pledge becomes binding: posted, in full or in part */
        t = domain_step(x, LEDGER_OP_POST);
        if (t == NULL) return false;
        t->id = x->id;
        t->pending_id = pledge;
        t->kind = "commitment";
        if (has_amount) {
            t->amount = amount;
            t->flags |= LEDGER_OP_HAS_AMOUNT;
        }
    } else {
        t = domain_transfer(x, x->id, domain_printf(x, "donor.%s", donor),
                            fund != NULL ? fund : FUNDING_POOL, amount, "commitment");
        if (t == NULL) return false;
    }
    t->meta = funding_meta(x, donor, has_amount ? amount : 0, &ok);
    common_fields(x, t, &ok);
    return ok;
}

bool domain_disbursement(struct domain_expansion *x)
{
    static const char *const fields[] = {"to", "amount", "from", "approval", "date", "memo",
                                         "sector", "requirement", NULL};
    bool ok = domain_fields(x, fields), given;
    const char *to = domain_string(x, "to", true, &ok);
    const char *from = domain_string(x, "from", false, &ok);
    int64_t amount = domain_integer(x, "amount", 1, true, &given, &ok);
    const json_t *approval = json_object_get(x->op, "approval");
    if (approval != NULL && !json_is_boolean(approval))
        ok = domain_invalid(x, "approval: must be true or false");
    const char *meta = funding_meta(x, NULL, 0, &ok);
    if (!ok) return false;
    struct ledger_op *t =
        domain_transfer(x, x->id, from != NULL ? from : FUNDING_POOL, to, amount, "disbursement");
    if (t == NULL) return false;
    /* A guarded pool pays only what its board approves: the transfer waits for them. */
    if (json_is_true(approval)) t->flags |= LEDGER_OP_PENDING;
    t->meta = meta;
    common_fields(x, t, &ok);
    return ok;
}

bool domain_expenditure(struct domain_expansion *x)
{
    static const char *const fields[] = {"from", "amount", "date", "memo", "sector",
                                         "requirement", NULL};
    bool ok = domain_fields(x, fields), given;
    const char *from = domain_string(x, "from", true, &ok);
    int64_t amount = domain_integer(x, "amount", 1, true, &given, &ok);
    const char *meta = funding_meta(x, NULL, 0, &ok);
    if (!ok) return false;
    const char *spent = domain_printf(x, "spent.%s", from);
    if (!ledger_valid_account_id(spent))
        return domain_invalid(x, "from: spent.%s is not a valid account id", from);
    if (domain_account(x, spent, FUNDING_UNIT, NULL, 0, "Spent") == NULL) return false;
    struct ledger_op *t = domain_transfer(x, x->id, from, spent, amount, "expenditure");
    if (t == NULL) return false;
    t->meta = meta;
    common_fields(x, t, &ok);
    return ok;
}
