/*
 * domain_fts.c — one OCHA FTS flow, as fmt/fts.c reads it, onto the ledger.
 *
 * Accounts (USD, docs/INTEROP.md):
 *   fts.org.<id>.given     what an FTS organisation gave (debited), and
 *   fts.org.<id>.received  what it received (credited); both owned by the
 *                          party fts-<id>. Two accounts, because FTS records
 *                          flows from an organisation to itself (between
 *                          its plans, years or countries).
 *   fts.org.unspecified.given / .received  a side FTS leaves without an
 *                          organisation
 *
 * A flow's version is the transfer fts.<flow>.v<version>, source → destination,
 * of kind pledge (pending: an announcement binds no one), commitment or paid
 * (posted). Its meta keeps what FTS said of it (boundary, original currency,
 * parent and children, who reported it) beside the USD amount.
 *
 * FTS edits a flow by giving it a new versionId. A newer version supersedes
 * the one recorded with a correcting entry, in the same chain, whose id is
 * the new version's with ".supersedes": the older pledge is voided, an older
 * commitment or payment reversed (destination → source, on the older
 * version's date), and the new version recorded. The same version recorded
 * first from a table (HDX's flat rows, app/domain_hxl.c) is replaced the same
 * way by FTS's own record, the correction's id ending ".hxl.superseded", so
 * that the flow is counted once and by its fuller report (fmt/fts.h). So the ids say which
 * versions are recorded, even of a version of 0 USD (FTS zeroes the share of
 * a parked parent flow its query does not cover), which makes no transfer
 * of its own: the ledger moves no zero amounts, and the operation itself is
 * on the audit log. An older version arriving after a newer one records
 * nothing (the summary counts it as stale).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/domain.h"
#include "fmt/fts.h"

#define FTS_UNIT "USD"
#define FTS_ACCOUNTS "fts.org."
#define FTS_UNSPECIFIED "fts.org.unspecified"
#define FTS_GIVEN ".given"
#define FTS_RECEIVED ".received"

/* Text of the operation into the arena (its JSON is released once the expansion returns). */
static const char *text_copy(struct domain_expansion *x, const char *s)
{
    const char *copy = arena_strdup(x->arena, s);
    if (copy == NULL) domain_invalid(x, "out of memory");
    return copy != NULL ? copy : "";
}

static int version_fn(void *ctx, const struct ledger_transfer *t)
{
    struct domain_fts_versions *v = ctx;
    int64_t k;
    enum fts_record kind;
    if (fts_record_of(t->id, v->prefix, &k, &kind)) fts_held_add(&v->held, k, kind);
    return 0;
}

bool domain_fts_versions_read(struct domain_expansion *x, struct domain_fts_versions *v)
{
    struct cc_error err = {0};
    const struct store_driver *d = x->cc->store->driver;
    if (d->transfers_id_prefix(x->cc->store, v->prefix, version_fn, v, &err) != CC_OK)
        return domain_invalid(x, "reading the flow's versions: %s", err.message);
    /* This batch's earlier records of the flow, as their expansions noted them. */
    uint32_t noted;
    if (x->batch_keys != NULL && strmap_get(x->batch_keys, v->prefix, &noted)) {
        struct fts_held earlier = fts_held_unpack(noted);
        fts_held_merge(&v->held, &earlier);
    }
    return true;
}

bool domain_fts_versions_note(struct domain_expansion *x, const struct domain_fts_versions *v,
                              const struct fts_held *after)
{
    if (x->batch_keys == NULL) return true;
    struct fts_held merged = v->held;
    fts_held_merge(&merged, after);
    if (!strmap_put(x->batch_keys, v->prefix, fts_held_pack(&merged)))
        return domain_invalid(x, "out of memory");
    return true;
}

bool domain_fts_undo(struct domain_expansion *x, const char *old, const char *id,
                     const char *memo, const char *source)
{
    /* The ledger's record first: a step of this batch under the same id may yet be refused. */
    struct domain_found was;
    if (!domain_lookup_recorded(x, old, &was) && !domain_lookup(x, old, &was))
        return domain_invalid(x, "%s is recorded but not readable", old);
    if (was.pending) {
        struct ledger_op *t = domain_step(x, LEDGER_OP_VOID);
        if (t == NULL) return false;
        t->id = id;
        t->pending_id = domain_printf(x, "%s", old);
        t->memo = memo;
        return true;
    }
    struct ledger_op *t = domain_transfer(x, id, was.credit, was.debit, was.amount, "correction");
    if (t == NULL) return false;
    t->memo = memo;
    t->meta = domain_printf(x, "{\"corrects\":\"%s\",\"source\":\"%s\"}", old, source);
    if (was.date != 0) {
        t->date = was.date; /* the correction counts where the error did */
        t->flags |= LEDGER_OP_HAS_DATE;
    }
    return true;
}

/*
 * One side's account: the organisation's (its party and account made when
 * new) or fts.org.unspecified. An account already there is named again as
 * recorded, so the step answers exists even when FTS renamed the organisation.
 */
static const char *side_account(struct domain_expansion *x, const char *field, const char *suffix,
                                bool *ok)
{
    const json_t *org = json_object_get(x->op, field);
    const char *id = NULL, *name = NULL, *type = NULL;
    if (org != NULL) {
        const json_t *i = json_object_get(org, "id"), *n = json_object_get(org, "name"),
                     *t = json_object_get(org, "type");
        if (!json_is_object(org) || !json_is_string(i) || (n != NULL && !json_is_string(n)) ||
            (t != NULL && !json_is_string(t))) {
            *ok = domain_invalid(x, "%s: must be {\"id\",\"name\",\"type\"} of text", field);
            return NULL;
        }
        /* Copied: the operation's JSON is released once the expansion returns. */
        id = domain_printf(x, "%s", json_string_value(i));
        name = n != NULL && json_string_length(n) > 0 ? text_copy(x, json_string_value(n))
                                                      : NULL;
        type = t != NULL ? text_copy(x, json_string_value(t)) : NULL;
        if (name != NULL && strlen(name) > LEDGER_NAME_BYTES_MAX) {
            *ok = domain_invalid(x, "%s.name: longer than %d bytes", field, LEDGER_NAME_BYTES_MAX);
            return NULL;
        }
        for (const char *p = id; *p; p++)
            if (*p < '0' || *p > '9' || p - id >= 18) {
                *ok = domain_invalid(x, "%s.id: must be an FTS organisation id (decimal)", field);
                return NULL;
            }
        if (id[0] == '\0') {
            *ok = domain_invalid(x, "%s.id: must be an FTS organisation id (decimal)", field);
            return NULL;
        }
    }
    const char *account = id != NULL ? domain_printf(x, FTS_ACCOUNTS "%s%s", id, suffix)
                                     : domain_printf(x, FTS_UNSPECIFIED "%s", suffix);
    const char *owner = id != NULL ? domain_printf(x, "fts-%s", id) : NULL;
    const char *unit, *recorded_name;
    /* The party comes with the organisation's first account, whichever side that is. */
    const char *other = id != NULL ? domain_printf(x, FTS_ACCOUNTS "%s%s", id,
                                                   strcmp(suffix, FTS_GIVEN) == 0 ? FTS_RECEIVED
                                                                                  : FTS_GIVEN)
                                   : NULL;
    const char *other_unit, *other_name;
    bool party_known = other != NULL && domain_lookup_account(x, other, &other_unit, &other_name);
    if (domain_lookup_account(x, account, &unit, &recorded_name)) {
        if (unit == NULL || strcmp(unit, FTS_UNIT) != 0) {
            *ok = domain_invalid(x, "%s: the account %s is not in USD", field, account);
            return NULL;
        }
        name = recorded_name;
    } else if (owner == NULL) {
        name = "Not specified in FTS";
    } else if (!party_known) {
        struct ledger_op *party = domain_step(x, LEDGER_OP_PARTY);
        if (party == NULL) return NULL;
        party->id = owner;
        party->name = name;
        /* FTS's organisation type "Government" is what concord calls a nation. */
        party->kind = type != NULL && strcmp(type, "Government") == 0 ? "nation" : "organisation";
    }
    if (domain_account(x, account, FTS_UNIT, owner, 0, name) == NULL) return NULL;
    return account;
}

/* The transfer's meta: the funding report's keys, and what FTS said of the flow. */
static const char *flow_meta(struct domain_expansion *x, int64_t cents, bool *ok)
{
    json_t *fts = json_deep_copy(x->op);
    json_object_del(fts, "op");
    json_object_del(fts, "id");
    json_object_del(fts, "description"); /* the memo */
    json_object_del(fts, "amount_usd");   /* usd_amount, below */
    json_t *meta = json_pack("{s:s,s:I,s:o}", "source", "fts", "usd_amount", (json_int_t)cents,
                             "fts", fts);
    const json_t *src = json_object_get(x->op, "source");
    if (json_is_object(src) && json_is_string(json_object_get(src, "id")))
        json_object_set_new(meta, "donor",
                            json_sprintf("fts-%s", json_string_value(json_object_get(src, "id"))));
    const char *text = domain_json(x, meta);
    json_decref(meta);
    if (text != NULL && strlen(text) > LEDGER_META_BYTES_MAX)
        *ok = domain_invalid(x, "the flow's record is over %d bytes", LEDGER_META_BYTES_MAX);
    return text;
}

bool domain_fts_flow(struct domain_expansion *x)
{
    static const char *const fields[] = {
        "flow", "version", "status", "boundary", "on_boundary", "amount_usd", "date",
        "flow_type", "currency", "original_amount", "rate", "description", "ref_code", "parent",
        "children", "new_money", "source", "destination", "source_objects",
        "destination_objects", "reports", NULL};
    bool ok = domain_fields(x, fields), given;
    const char *flow = domain_name(x, "flow", true, &ok);
    int64_t version = domain_integer(x, "version", 1, true, &given, &ok);
    int64_t cents = domain_integer(x, "amount_usd", 0, true, &given, &ok);
    const char *status = domain_string(x, "status", true, &ok);
    const char *boundary = domain_string(x, "boundary", true, &ok);
    const char *on_boundary = domain_string(x, "on_boundary", true, &ok);
    int64_t date = domain_time(x, "date", &given, &ok);
    const json_t *about = json_object_get(x->op, "description"); /* longer than a name */
    if (about != NULL && (!json_is_string(about) || json_string_length(about) == 0 ||
                          json_string_length(about) > LEDGER_MEMO_BYTES_MAX))
        ok = domain_invalid(x, "description: must be text of 1 to %d bytes",
                            LEDGER_MEMO_BYTES_MAX);
    if (!ok) return false;
    const char *description = about != NULL ? text_copy(x, json_string_value(about)) : NULL;
    if (strcmp(status, "pledge") != 0 && strcmp(status, "commitment") != 0 &&
        strcmp(status, "paid") != 0)
        return domain_invalid(x, "status: must be pledge, commitment or paid");
    if (strcmp(boundary, "incoming") != 0 && strcmp(boundary, "internal") != 0 &&
        strcmp(boundary, "outgoing") != 0)
        return domain_invalid(x, "boundary: must be incoming, internal or outgoing");
    if (strcmp(on_boundary, "single") != 0 && strcmp(on_boundary, "shared") != 0)
        return domain_invalid(x, "on_boundary: must be single or shared");
    for (const char *p = flow; *p; p++)
        if (*p < '0' || *p > '9') return domain_invalid(x, "flow: must be an FTS flow id (decimal)");
    char expected[64];
    fts_transfer_id(expected, sizeof expected, flow, version);
    if (strcmp(x->id, expected) != 0)
        return domain_invalid(x, "id: must be %s, the flow's version", expected);
    const char *debit = side_account(x, "source", FTS_GIVEN, &ok);
    const char *credit = ok ? side_account(x, "destination", FTS_RECEIVED, &ok) : NULL;
    if (!ok || debit == NULL || credit == NULL) return false;

    struct domain_fts_versions v = {.prefix = domain_printf(x, "fts.%s.v", flow)};
    if (!domain_fts_versions_read(x, &v)) return false;
    const struct fts_held *h = &v.held;
    if (h->latest > version) return true; /* stale: a newer version is recorded */
    char old[64];
    bool money = fts_held_money(h, flow, old, sizeof old);
    struct fts_held after = {.latest = version};
    if (money && h->latest < version) {
        /* The newest recorded version moved money: this one corrects it first. */
        if (!domain_fts_undo(x, old, domain_printf(x, "%s%s", x->id, FTS_SUPERSEDES),
                             domain_printf(x, "version %lld superseded by version %lld",
                                           (long long)h->latest, (long long)version),
                             "fts"))
            return false;
    } else if (money && !h->flow) {
        /* The same version, recorded from a table: FTS's own record replaces it. */
        if (!domain_fts_undo(x, old, domain_printf(x, "%s%s", x->id, FTS_TABLE_SUPERSEDED),
                             domain_printf(x, "version %lld as FTS reports it replaces the "
                                              "table's report",
                                           (long long)version),
                             "fts"))
            return false;
        after.table = after.table_undone = true;
    }
    bool corrected = money && (h->latest < version || !h->flow);
    if (cents == 0) /* nothing moves: see the file's comment */
        return !corrected || domain_fts_versions_note(x, &v, &after);
    after.flow = true;
    struct ledger_op *t = domain_transfer(x, x->id, debit, credit, cents, status);
    if (t == NULL) return false;
    if (strcmp(status, "pledge") == 0) t->flags |= LEDGER_OP_PENDING;
    t->date = date;
    t->flags |= LEDGER_OP_HAS_DATE;
    t->memo = description;
    t->meta = flow_meta(x, cents, &ok);
    return ok && domain_fts_versions_note(x, &v, &after);
}
