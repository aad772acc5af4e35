/*
 * interop_iati.c — IATI 2.03 activity files into the ledger and out of it
 * (see interop_iati.h; the mapping is docs/INTEROP.md's).
 *
 * Import. Each file is streamed through fmt/iati.c; each activity it hands
 * over becomes operations at once (its amounts converted into minor units
 * of the currency's unit, the units and parties it needs noted) and is then
 * forgotten, so memory holds a few batches and one activity. A batch is: a
 * unit per currency the ledger lacks and no earlier batch made (ISO 4217's
 * minor units, at least 2: "EUR" scale 2, "JOD" scale 3), a party per
 * organisation ref likewise (named after the first narrative met, with the
 * ref), then the activities' and transactions' operations in file order. An
 * operation repeated identically within a batch (the same activity in two
 * files) is taken once; across batches the ledger answers that it exists.
 * An activity that is this ledger's own export come back (its A1 identifier
 * names this ledger's log and fund) is skipped: the ledger holds its funding.
 * The threads that validate, read and record are concord_import_iati's.
 *
 * Export. One activity per account the pooled fund's pledges and
 * commitments credit (fund.pool, …): an incoming pledge (13) per pledge
 * still standing, an incoming commitment (11) per part of a pledge posted
 * and per direct commitment, a disbursement (3) per part of a disbursement
 * posted; each transaction's @ref is the ledger's transfer id, and the
 * activity's own identifier (A1) "<fund>@<the ledger's log name>". Then every
 * activity recorded from IATI, in the order it was recorded, with its
 * transactions in their order in the activity: both reports of a flow
 * reported twice are written, each in its own activity, so that importing
 * the export recognises the pair again and counts it once again.
 */
#include "app/interop_iati.h"

#include <assert.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/log.h"
#include "fmt/json.h"
#include "util/amount.h"
#include "util/arena.h"
#include "util/strmap.h"
#include "util/timefmt.h"
#include "util/utf8.h"

#define IATI_UNIT_SCALE_MIN 2 /* a currency's unit, made when missing: cents at least */
/*
 * Operations per batch: memory stays that of one batch (its operations, steps
 * and audit event), whatever the file's size. The batches of one import are
 * one group (concord_group_begin): recorded all together, or not at all.
 */
#define IATI_BATCH_OPS 2000
#define IATI_TYPES 13

/* ---------------------------------------------------------------- import: state */

struct import {
    const char *file;          /* being read */
    struct arena arena;        /* the operations' strings */
    struct ledger_op *ops;     /* activities and transactions, in file order */
    size_t count, capacity;
    struct strmap seen;        /* op id → index in ops: repeats */
    json_t *units;             /* currency → scale, for every currency met */
    json_t *unit_ops;          /* units to make */
    json_t *parties;           /* party id → true: recorded, or to make */
    json_t *party_ops;         /* parties to make */
    json_t *skipped;           /* listed (at most INTEROP_IATI_LISTED_MAX) */
    size_t skipped_count;
    enum cc_err error;         /* a memory error met while reading (else the file's) */
    struct cc_error error_detail;
    struct validation *validation; /* the thread that validates the same files */
    size_t file_index;         /* of the file being read */
    int failed_line;           /* where the reading failed, when it knows better than the reader */
    bool stopped;              /* by the validator's or the recorder's failure, not its own */
    char own_log[AUDIT_NAME_BYTES_MAX + 1]; /* this ledger's log name: see ledger_log_name */
    json_t *own_funds;         /* fund → true: the activities its export writes */
    size_t units_committed;    /* unit_ops and party_ops that went with an earlier batch */
    size_t parties_committed;
    struct recorder *recorder; /* the thread that records the batches */
};

static bool out_of_memory(struct import *im, char *message, size_t size)
{
    im->error = cc_error_set(&im->error_detail, CC_ERR_NOMEM, "%s: out of memory", im->file);
    snprintf(message, size, "%s", im->error_detail.message);
    return false;
}

static size_t batch_size(const struct import *im)
{
    return json_array_size(im->unit_ops) - im->units_committed +
           json_array_size(im->party_ops) - im->parties_committed + im->count;
}

static bool ops_reserve(struct import *im, char *message, size_t size)
{
    /* An activity is never split: one with a million transactions is one batch too many. */
    if (batch_size(im) + 1 > LEDGER_BATCH_OPS_MAX) {
        snprintf(message, size,
                 "%s: one batch would be more than %d operations (an activity's transactions "
                 "and the units and parties new to them)",
                 im->file, LEDGER_BATCH_OPS_MAX);
        return false;
    }
    if (im->count < im->capacity) return true;
    size_t capacity = im->capacity ? im->capacity * 2 : 1024;
    struct ledger_op *ops = realloc(im->ops, capacity * sizeof *ops);
    if (ops == NULL) return out_of_memory(im, message, size);
    im->ops = ops;
    im->capacity = capacity;
    return true;
}

/*
 * Appends op decoded, holding its JSON for the expansion (ledger_op.parsed:
 * never parsed again from the text); an identical repeat of an earlier one is
 * dropped.
 */
static bool op_append(struct import *im, const json_t *op, char *message, size_t size)
{
    if (!ops_reserve(im, message, size)) return false;
    struct ledger_op *lop = &im->ops[im->count];
    if (!json_decode_op(op, lop, &im->arena)) return out_of_memory(im, message, size);
    if (lop->invalid != NULL) { /* the reader makes valid JSON operations: a bug if not */
        snprintf(message, size, "%s: an operation could not be made: %s", im->file,
                 lop->invalid);
        return false;
    }
    uint32_t earlier;
    if (strmap_get(&im->seen, lop->id, &earlier)) {
        if (strcmp(im->ops[earlier].meta, lop->meta) == 0) return true; /* the same again */
    } else if (!strmap_put(&im->seen, lop->id, (uint32_t)im->count)) {
        return out_of_memory(im, message, size);
    }
    lop->parsed = json_incref((json_t *)op);
    im->count++;
    return true;
}

int interop_iati_unit_scale(const char *code)
{
    int minor = iati_currency_minor_units(code);
    return minor > IATI_UNIT_SCALE_MIN ? minor : IATI_UNIT_SCALE_MIN;
}

/*
 * A unit's scale: the ledger's (its units are read before the reading
 * starts: the reading thread never touches the store), or the one the import
 * will make it with.
 */
static void unit_scale(struct import *im, const char *code, int *scale)
{
    const json_t *known = json_object_get(im->units, code);
    if (known != NULL) {
        *scale = (int)json_integer_value(known);
        return;
    }
    *scale = interop_iati_unit_scale(code);
    char title[64];
    snprintf(title, sizeof title, "%s (ISO 4217 currency)", code);
    json_array_append_new(im->unit_ops, json_pack("{s:s,s:s,s:i,s:s}", "op", "unit", "code",
                                                  code, "scale", *scale, "name", title));
    json_object_set_new(im->units, code, json_integer(*scale));
}

/* The party of an organisation with a ref, to make unless the ledger or the import has it. */
static void party_note(struct import *im, const json_t *org)
{
    const char *ref = json_string_value(json_object_get(org, "ref"));
    if (ref == NULL || ref[0] == '\0') return;
    char id[IATI_PARTY_ID_BYTES_MAX + 1];
    iati_party_of(ref, id);
    if (json_object_get(im->parties, id) != NULL) return;
    const char *org_name = json_string_value(json_object_get(org, "name"));
    char name[2 * LEDGER_NAME_BYTES_MAX + 8]; /* at most LEDGER_NAME_BYTES_MAX used */
    if (org_name != NULL && org_name[0] != '\0') {
        /* "Agency B (BB-BBB-123456789)": the original ref kept, the name cut to make room. */
        char cut[LEDGER_NAME_BYTES_MAX + 1];
        size_t room = LEDGER_NAME_BYTES_MAX - strlen(ref) - 3;
        snprintf(cut, sizeof cut, "%s", org_name);
        if (strlen(cut) > room) {
            cut[room] = '\0';
            utf8_truncate(cut);
        }
        snprintf(name, sizeof name, "%s (%s)", cut, ref);
    } else {
        snprintf(name, sizeof name, "%s", ref);
    }
    /* OrganisationType 10 is Government: what concord calls a nation. */
    const char *type = json_string_value(json_object_get(org, "type"));
    const char *kind = type != NULL && strcmp(type, "10") == 0 ? "nation" : "organisation";
    json_object_set_new(im->parties, id, json_true());
    json_array_append_new(im->party_ops, json_pack("{s:s,s:s,s:s,s:s}", "op", "party", "id", id,
                                                   "name", name, "kind", kind));
}

/* ---------------------------------------------------------------- the ledger's own funding */

/*
 * The name of the ledger's audit log ("concord/" and 16 hex digits, the
 * first line of its checkpoints' note), each ledger's own. The export
 * writes each fund's activity with "<account>@<name>" as the publisher's
 * own identifier (other-identifier of type A1), so that an import meeting
 * it knows this ledger's own funding coming back (a registry's copy of its
 * published file, say), which the ledger holds already and must not count
 * twice. "" when the log is empty: no funding, nothing exported.
 */
static void ledger_log_name(struct concord *cc, char out[AUDIT_NAME_BYTES_MAX + 1])
{
    out[0] = '\0';
    struct concord_checkpoint checkpoint;
    struct cc_error ignored = {0};
    if (concord_log_checkpoint(cc, 0, &checkpoint, &ignored) != CC_OK) return;
    size_t n = strcspn(checkpoint.note, "\n");
    if (n > AUDIT_NAME_BYTES_MAX) return;
    memcpy(out, checkpoint.note, n);
    out[n] = '\0';
}

/*
 * The fund a funding row (one that moves a donor.* account) is about, as
 * the export writes it: the account a donor's pledge or commitment credits,
 * the account a disbursement debits; NULL for any other row.
 */
static const char *fund_of(const struct ledger_transfer *t)
{
    if (t->pending_id != NULL || t->kind == NULL) return NULL;
    if ((strcmp(t->kind, "pledge") == 0 || strcmp(t->kind, "commitment") == 0) &&
        strncmp(t->debit, "donor.", 6) == 0)
        return t->credit;
    if (strcmp(t->kind, "disbursement") == 0) return t->debit;
    return NULL;
}

/* The funds this ledger's export writes an activity for (export_funds). */
static int own_fund_fn(void *ctx, const struct ledger_transfer *t)
{
    const char *fund = fund_of(t);
    if (fund != NULL) json_object_set_new(ctx, fund, json_true());
    return 0;
}

static enum cc_err own_funds(struct concord *cc, json_t *funds, struct cc_error *err)
{
    static const char *const prefixes[] = {"donor."};
    const struct store_transfer_filter filter = {.at = INT64_MAX, .prefixes = prefixes,
                                                 .prefixes_count = 1};
    return cc->store->driver->transfers_each(cc->store, &filter, own_fund_fn, funds, err);
}

#define FUND_INTERNAL_ID_BYTES (LEDGER_ID_BYTES_MAX + 1 + AUDIT_NAME_BYTES_MAX + 1)
_Static_assert(FUND_INTERNAL_ID_BYTES - 1 <= IATI_INTERNAL_ID_BYTES_MAX,
               "an export's internal id must read back whole");

/* The identifier the export gives a fund's activity: "<fund>@<log name>". */
static void fund_internal_id(char out[FUND_INTERNAL_ID_BYTES], const char *fund,
                             const char *log_name)
{
    snprintf(out, FUND_INTERNAL_ID_BYTES, "%s@%s", fund, log_name);
}

/*
 * Is internal_id one this ledger's export wrote, "<fund>@<log name>", of a
 * fund this ledger has? An account id holds no @, a log name may: the first
 * @ is the one. A ledger that shares another's key file shares its log name
 * too (each needs its own key), and only its own funds are its own.
 */
static bool own_internal_id(const char *internal_id, const char *log_name, const json_t *funds)
{
    if (internal_id == NULL || log_name[0] == '\0') return false;
    const char *at = strchr(internal_id, '@');
    if (at == NULL || at == internal_id || strcmp(at + 1, log_name) != 0) return false;
    char fund[LEDGER_ID_BYTES_MAX + 1];
    size_t n = (size_t)(at - internal_id);
    if (n > LEDGER_ID_BYTES_MAX) return false;
    memcpy(fund, internal_id, n);
    fund[n] = '\0';
    return json_object_get(funds, fund) != NULL;
}

/* ---------------------------------------------------------------- import: reading */

static bool batch_hand_over(struct import *im, char *message, size_t size);
static bool recorder_failed(const struct recorder *r);
static bool validation_failed_by(const struct validation *v, size_t file, int line);

static void on_skipped(void *ctx, int line, const char *element, const char *reason)
{
    struct import *im = ctx;
    im->skipped_count++;
    if (json_array_size(im->skipped) < INTEROP_IATI_LISTED_MAX)
        json_array_append_new(im->skipped, json_pack("{s:s,s:i,s:s,s:s}", "file", im->file,
                                                     "line", line, "element", element, "reason",
                                                     reason));
}

static bool on_activity(void *ctx, const struct iati_activity_read *a, char *message, size_t size)
{
    struct import *im = ctx;
    /* The validator's failure up to here, or the recorder's, is the one reported. */
    if (validation_failed_by(im->validation, im->file_index, a->line) ||
        recorder_failed(im->recorder)) {
        im->stopped = true;
        snprintf(message, size, "%s: stopped", im->file);
        return false;
    }
    if (own_internal_id(json_string_value(json_object_get(a->op, "internal_id")),
                        im->own_log, im->own_funds)) {
        on_skipped(im, a->line, "iati-activity",
                   "this ledger's own export (other-identifier A1): its funding is recorded "
                   "here already");
        return true;
    }
    /*
     * The batch so far goes before this activity is added to it: the reader
     * frees what it lent the activity once this returns, and the recorder
     * must not be reading it then.
     */
    if (im->count >= IATI_BATCH_OPS && !batch_hand_over(im, message, size)) return false;
    party_note(im, json_object_get(a->op, "reporting_org"));
    size_t i;
    const json_t *org;
    json_array_foreach(json_object_get(a->op, "participating"), i, org) party_note(im, org);
    if (!op_append(im, a->op, message, size)) return false;
    for (size_t k = 0; k < a->count; k++) {
        const struct iati_transaction_read *t = &a->transactions[k];
        int scale;
        unit_scale(im, t->currency, &scale);
        int64_t minor = 0;
        const char *magnitude = t->value[0] == '-' ? t->value + 1 : t->value;
        switch (amount_parse(magnitude, scale, &minor)) {
        case AMOUNT_OK: break;
        case AMOUNT_TOO_PRECISE:
            im->failed_line = t->line;
            snprintf(message, size,
                     "%s:%d: element value: %s %s has more decimal places than the unit %s "
                     "records (scale %d)",
                     im->file, t->line, t->value, t->currency, t->currency, scale);
            return false;
        case AMOUNT_OUT_OF_RANGE:
            im->failed_line = t->line;
            snprintf(message, size,
                     "%s:%d: element value: %s %s is beyond what the ledger records (2^63-1 "
                     "minor units)",
                     im->file, t->line, t->value, t->currency);
            return false;
        case AMOUNT_MALFORMED:
            im->failed_line = t->line;
            snprintf(message, size, "%s:%d: element value: %s is not a decimal number", im->file,
                     t->line, t->value);
            return false;
        }
        json_object_set_new(t->op, "amount", json_integer(minor));
        /* Moved within its activity, it is the one recorded (app/domain_iati.c). */
        json_object_set_new(t->op, "same_if_moved", json_true());
        party_note(im, json_object_get(t->op, "provider"));
        party_note(im, json_object_get(t->op, "receiver"));
        if (!op_append(im, t->op, message, size)) return false;
    }
    return true; /* an activity is never split between two batches: its steps are one chain */
}

static int party_known_fn(void *ctx, const struct ledger_party *party)
{
    json_object_set_new(ctx, party->id, json_true());
    return 0;
}

static int unit_known_fn(void *ctx, const struct ledger_unit *unit)
{
    json_object_set_new(ctx, unit->code, json_integer(unit->scale));
    return 0;
}

/* Lets go of operations' JSON. */
static void ops_release(struct ledger_op *ops, size_t count)
{
    for (size_t i = 0; i < count; i++) json_decref((json_t *)ops[i].parsed);
}

static void import_free(struct import *im)
{
    ops_release(im->ops, im->count);
    arena_free(&im->arena);
    free(im->ops);
    strmap_free(&im->seen);
    json_decref(im->units);
    json_decref(im->unit_ops);
    json_decref(im->parties);
    json_decref(im->party_ops);
    json_decref(im->skipped);
    json_decref(im->own_funds);
}

/*
 * Reads every file (validated beside it: concord_import_iati) and hands its
 * operations over batch by batch; CC_OK, or the first problem.
 */
static enum cc_err import_read(struct import *im, const struct interop_iati_input *inputs,
                               size_t count, struct cc_error *err)
{
    struct iati_sink sink = {.activity = on_activity, .skipped = on_skipped, .ctx = im};
    for (size_t i = 0; i < count; i++) {
        im->file = inputs[i].name;
        im->file_index = i;
        struct iati_source source = {.name = inputs[i].name, .file = inputs[i].file};
        char message[IATI_MESSAGE_BYTES];
        int line = 0;
        if (!iati_read(&source, NULL, &sink, message, sizeof message, &line)) {
            if (im->failed_line == 0) im->failed_line = line;
            if (im->error != CC_OK) {
                *err = im->error_detail;
                return im->error;
            }
            return cc_error_set(err, CC_ERR_INPUT, "%s", message);
        }
    }
    return CC_OK;
}

/* ---------------------------------------------------------------- import: summary */

struct tally {
    struct concord *cc;
    struct strmap counted;        /* transfer ids already looked at */
    struct arena arena;           /* their copies */
    size_t activities, transactions, second_reports;
    int64_t by_type[IATI_TYPES + 1];
    json_t *amounts;              /* unit → {type → __int128 as text until the end} */
    __int128 *sums;               /* per (unit index, type) */
    json_t *unit_index;           /* unit → index into sums */
    size_t units;
    json_t *pairs;                /* counted id → entry */
    size_t pairs_count;
    json_t *pairs_listed;
    json_t *rejected;             /* the first INTEROP_IATI_LISTED_MAX refusals */
    size_t rejected_count;
    json_t *doubtful;             /* placed transactions like earlier ones (doubtful_batch) */
    size_t doubtful_count;
};

/* What one transfer is, copied out of the store's callback (its meta only when asked). */
struct seen_row {
    bool found, want_meta;
    char kind[LEDGER_KIND_BYTES_MAX + 1];
    char unit[LEDGER_UNIT_CODE_BYTES_MAX + 1];
    bool reversed; /* debits a received account: a negative value (app/domain_iati.c) */
    int64_t amount;
    json_t *meta;
};

static int seen_row_fn(void *ctx, const struct ledger_transfer *t)
{
    struct seen_row *row = ctx;
    row->found = true;
    snprintf(row->kind, sizeof row->kind, "%s", t->kind != NULL ? t->kind : "");
    snprintf(row->unit, sizeof row->unit, "%s", t->unit != NULL ? t->unit : "");
    row->reversed = t->debit != NULL && strstr(t->debit, ".received.") != NULL;
    row->amount = t->amount;
    row->meta = row->want_meta && t->meta != NULL ? json_loads(t->meta, 0, NULL) : NULL;
    return 0;
}

static enum cc_err row_read(struct concord *cc, const char *id, bool meta, struct seen_row *row,
                            struct cc_error *err)
{
    memset(row, 0, sizeof *row);
    row->want_meta = meta;
    /* The batch just committed holds most of them: its view is the ledger as it left it. */
    const struct ledger_transfer *t = ledger_view_transfer(&cc->view, id);
    if (t != NULL) {
        seen_row_fn(row, t);
        return CC_OK;
    }
    return cc->store->driver->transfer_get(cc->store, id, seen_row_fn, row, err);
}

static bool tally_add_sum(struct tally *t, const char *unit, int type, __int128 amount)
{
    const json_t *index = json_object_get(t->unit_index, unit);
    size_t u;
    if (index == NULL) {
        __int128 *sums = realloc(t->sums, (t->units + 1) * (IATI_TYPES + 1) * sizeof *sums);
        if (sums == NULL) return false;
        t->sums = sums;
        memset(&t->sums[t->units * (IATI_TYPES + 1)], 0, (IATI_TYPES + 1) * sizeof *sums);
        u = t->units++;
        json_object_set_new(t->unit_index, unit, json_integer((json_int_t)u));
    } else {
        u = (size_t)json_integer_value(index);
    }
    t->sums[u * (IATI_TYPES + 1) + (size_t)type] += amount;
    return true;
}

/* A flow reported by both sides: counted once, under the first report recorded. */
static enum cc_err pair_note(struct tally *t, const char *counted, const char *second,
                             struct cc_error *err)
{
    if (json_object_get(t->pairs, counted) != NULL) return CC_OK;
    json_object_set_new(t->pairs, counted, json_true());
    t->pairs_count++;
    if (json_array_size(t->pairs_listed) >= INTEROP_IATI_LISTED_MAX) return CC_OK;
    struct seen_row row; /* what both reports agree on, from the one counted */
    enum cc_err rc = row_read(t->cc, counted, true, &row, err);
    const json_t *pair = json_object_get(row.meta, "pair");
    if (rc == CC_OK)
        json_array_append_new(
            t->pairs_listed,
            json_pack("{s:s,s:s,s:O?,s:O?,s:O?,s:O?}", "counted", counted, "second_report",
                      second, "provider_activity", json_object_get(pair, "provider_activity"),
                      "receiver_activity", json_object_get(pair, "receiver_activity"), "value",
                      json_object_get(row.meta, "value"), "currency",
                      json_object_get(row.meta, "currency")));
    json_decref(row.meta);
    return rc;
}

/* The other report of a flow: the same id with the other side's letter. */
static bool pair_other(const char *id, char other[IATI_ID_BYTES_MAX + 1])
{
    size_t n = strlen(id);
    if (strncmp(id, "iati/pair/", 10) != 0 || n < 2 || n > IATI_ID_BYTES_MAX || id[n - 2] != '/')
        return false;
    memcpy(other, id, n + 1);
    other[n - 1] = id[n - 1] == 'p' ? 'r' : 'p';
    return true;
}

/* What this import did with an id, as the counted map keeps it (for doubtful_batch). */
enum { ID_FOUND, ID_CREATED, ID_REFUSED };

/* One transfer id of the input: what the ledger holds under it, counted once. */
static enum cc_err tally_id(struct tally *t, const char *id, uint32_t done, struct cc_error *err)
{
    uint32_t unused;
    if (strmap_get(&t->counted, id, &unused)) return CC_OK;
    const char *copy = arena_strdup(&t->arena, id);
    if (copy == NULL || !strmap_put(&t->counted, copy, done))
        return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    bool second = false;
    char other[IATI_ID_BYTES_MAX + 1];
    bool paired = pair_other(id, other);
    struct seen_row row;
    enum cc_err rc = row_read(t->cc, id, false, &row, err);
    if (rc != CC_OK || !row.found) return rc;
    if (strcmp(row.kind, IATI_KIND_ACTIVITY) == 0) {
        t->activities++;
    } else if (strcmp(row.kind, IATI_KIND_SECOND_REPORT) == 0) {
        t->second_reports++;
        if (paired) rc = pair_note(t, other, id, err);
    } else {
        const struct iati_type *type = iati_type_of_kind(row.kind);
        if (type == NULL) return CC_OK;
        t->transactions++;
        t->by_type[type->code]++;
        if (!tally_add_sum(t, row.unit, type->code,
                           row.reversed ? -(__int128)row.amount : (__int128)row.amount))
            return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
        /* The other side's report, recorded as the second: a flow reported twice. */
        struct seen_row other_row;
        if (paired) rc = row_read(t->cc, other, false, &other_row, err);
        second = paired && rc == CC_OK && other_row.found &&
                 strcmp(other_row.kind, IATI_KIND_SECOND_REPORT) == 0;
        if (second) rc = pair_note(t, id, other, err);
    }
    return rc;
}

/* An integer as JSON: exact when it fits 64 bits, else decimal text. */
static json_t *sum_json(__int128 v)
{
    if (v >= INT64_MIN && v <= INT64_MAX) return json_integer((json_int_t)v);
    char text[48], *p = text + sizeof text - 1;
    *p = '\0';
    bool negative = v < 0;
    unsigned __int128 m = negative ? (unsigned __int128)(-(v + 1)) + 1 : (unsigned __int128)v;
    do {
        *--p = (char)('0' + (int)(m % 10));
        m /= 10;
    } while (m > 0);
    if (negative) *--p = '-';
    return json_string(p);
}

static void tally_init(struct tally *t, struct concord *cc)
{
    *t = (struct tally){.cc = cc, .unit_index = json_object(), .pairs = json_object(),
                        .pairs_listed = json_array(), .rejected = json_array(),
                        .doubtful = json_array()};
    strmap_init(&t->counted);
    arena_init(&t->arena);
}

static void tally_free(struct tally *t)
{
    json_decref(t->unit_index);
    json_decref(t->pairs);
    json_decref(t->pairs_listed);
    json_decref(t->rejected);
    json_decref(t->doubtful);
    free(t->sums);
    strmap_free(&t->counted);
    arena_free(&t->arena);
}

/*
 * A transaction known only by its place (iati/t/<key>#<n>) is another one
 * once moved (docs/INTEROP.md): a publisher that inserts a transaction before
 * it makes the import record it again, its money twice, and nothing in the
 * file says so. What the import can say: a transaction it just made under
 * its place that is like one the ledger held before at a place of the same
 * activity where the files no longer hold it (the same accounts, amount,
 * unit, kind, date, memo and meta but for `position`). That may be a move,
 * or a new transaction like one withdrawn; the summary lists it (`doubtful`)
 * for the analyst to look at.
 */
struct placed {
    struct tally *t;
    const json_t *made;   /* id → true: the transactions of the batch to look at */
    json_t *signatures;   /* id → signature, of the ones made */
    json_t *figures;      /* "amount date" → true, of the ones made */
    struct ledger_transfer *gone; /* rows the files no longer hold at their places */
    size_t gone_count, gone_capacity;
    struct arena arena;   /* their strings */
    bool failed;
};

/* What makes two transactions alike: all but their ids, timestamps and places. */
static char *signature_of(const struct ledger_transfer *row)
{
    json_t *meta = row->meta != NULL ? json_loads(row->meta, 0, NULL) : NULL;
    json_object_del(meta, "position");
    json_t *all = json_pack("{s:s?,s:s?,s:I,s:s?,s:s?,s:I,s:s?,s:o?}", "debit", row->debit,
                            "credit", row->credit, "amount", (json_int_t)row->amount, "unit",
                            row->unit, "kind", row->kind, "date", (json_int_t)row->date, "memo",
                            row->memo, "meta", meta);
    char *text = all != NULL ? json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(all);
    return text;
}

/* A row's amount and date, the first test of alike, as a key. */
static void figures_of(const struct ledger_transfer *row, char out[48])
{
    snprintf(out, 48, "%lld %lld", (long long)row->amount, (long long)row->date);
}

/* A copy of a row's strings in the arena; false when memory runs out. */
static bool row_keep(struct placed *p, const struct ledger_transfer *row)
{
    if (p->gone_count == p->gone_capacity) {
        size_t capacity = p->gone_capacity ? 2 * p->gone_capacity : 16;
        struct ledger_transfer *v = realloc(p->gone, capacity * sizeof *v);
        if (v == NULL) return false;
        p->gone = v;
        p->gone_capacity = capacity;
    }
    struct ledger_transfer *c = &p->gone[p->gone_count];
    *c = (struct ledger_transfer){.amount = row->amount, .date = row->date};
    const char *const from[] = {row->id, row->debit, row->credit, row->unit,
                                row->kind, row->memo, row->meta};
    const char **to[] = {&c->id, &c->debit, &c->credit, &c->unit, &c->kind, &c->memo, &c->meta};
    for (size_t i = 0; i < sizeof from / sizeof from[0]; i++) {
        *to[i] = from[i] != NULL ? arena_strdup(&p->arena, from[i]) : NULL;
        if (from[i] != NULL && *to[i] == NULL) return false;
    }
    p->gone_count++;
    return true;
}

/*
 * A row of the activity: one the batch made (its signature now); one the
 * files no longer hold at its place, its id not named or named with other
 * contents and refused (kept, to compare once every one made is known); or
 * one they hold (made by this import, or found the same at its place):
 * passed over, for it is not what moved.
 */
static int placed_fn(void *ctx, const struct ledger_transfer *row)
{
    struct placed *p = ctx;
    uint32_t done = ID_REFUSED;
    if (json_object_get(p->made, row->id) != NULL) {
        char *signature = signature_of(row), figures[48];
        figures_of(row, figures);
        p->failed = signature == NULL ||
                    json_object_set_new(p->signatures, row->id, json_string(signature)) != 0 ||
                    json_object_set_new(p->figures, figures, json_true()) != 0;
        free(signature);
    } else if (!strmap_get(&p->t->counted, row->id, &done) || done == ID_REFUSED) {
        p->failed = !row_keep(p, row);
    }
    return p->failed ? 1 : 0;
}

/* The activity of a transaction known by its place: "iati/t/<key>#" (out), else false. */
static bool placed_prefix(const char *id, char out[IATI_ID_BYTES_MAX + 1])
{
    const char *hash = strrchr(id, '#');
    if (strncmp(id, "iati/t/", 7) != 0 || hash == NULL || hash[1] == '\0' ||
        strspn(hash + 1, "0123456789") != strlen(hash + 1) || hash + 1 - id > IATI_ID_BYTES_MAX)
        return false; /* known by its ref, or a pair's report: moves are recognised */
    snprintf(out, IATI_ID_BYTES_MAX + 1, "%.*s", (int)(hash + 1 - id), id);
    return true;
}

/* Was the activity of prefix ("iati/t/<key>#") first recorded by this import? */
static bool activity_made_here(struct tally *t, const char *prefix)
{
    char record[IATI_ID_BYTES_MAX + 1];
    size_t key = strlen(prefix) - strlen("iati/t/") - 1;
    snprintf(record, sizeof record, "iati/a/%.*s", (int)key, prefix + strlen("iati/t/"));
    uint32_t done = ID_FOUND;
    return strmap_get(&t->counted, record, &done) && done == ID_CREATED;
}

/* The transactions of one activity made by this batch (made: id → true), against the rest. */
static enum cc_err doubtful_activity(struct tally *t, const char *prefix, const json_t *made,
                                     struct cc_error *err)
{
    struct placed p = {.t = t, .made = made, .signatures = json_object(),
                       .figures = json_object()};
    arena_init(&p.arena);
    json_t *before = json_object(); /* signature → id, of the rows gone */
    enum cc_err rc = p.signatures != NULL && p.figures != NULL && before != NULL
                         ? t->cc->store->driver->transfers_id_prefix(t->cc->store, prefix,
                                                                     placed_fn, &p, err)
                         : cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    if (rc == CC_OK && p.failed) rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    /* Only a row gone with the figures of one made can be like it: the rest costs nothing. */
    for (size_t i = 0; rc == CC_OK && i < p.gone_count; i++) {
        char figures[48];
        figures_of(&p.gone[i], figures);
        if (json_object_get(p.figures, figures) == NULL) continue;
        char *signature = signature_of(&p.gone[i]);
        if (signature == NULL) rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
        else if (json_object_get(before, signature) == NULL)
            json_object_set_new(before, signature, json_string(p.gone[i].id));
        free(signature);
    }
    const char *id;
    const json_t *signature;
    if (rc == CC_OK)
        json_object_foreach(p.signatures, id, signature) {
            const json_t *like = json_object_get(before, json_string_value(signature));
            if (like == NULL) continue;
            t->doubtful_count++;
            if (json_array_size(t->doubtful) < INTEROP_IATI_LISTED_MAX)
                json_array_append_new(t->doubtful,
                                      json_pack("{s:s,s:O}", "id", id, "like", like));
        }
    json_decref(before);
    json_decref(p.signatures);
    json_decref(p.figures);
    free(p.gone);
    arena_free(&p.arena);
    return rc;
}

/*
 * The batch's transactions known by their place, made by it in activities
 * recorded before this import (an activity new to the ledger has no earlier
 * transactions to be like): one look at each such activity.
 */
static enum cc_err doubtful_batch(struct tally *t, const struct ledger_op *lops,
                                  const struct ledger_result *results, size_t heads, size_t n,
                                  struct cc_error *err)
{
    json_t *activities = json_object(); /* prefix → {id → true} */
    if (activities == NULL) return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    char prefix[IATI_ID_BYTES_MAX + 1];
    for (size_t i = heads; i < n; i++) {
        if (results[i].status != LEDGER_CREATED || lops[i].id == NULL ||
            !placed_prefix(lops[i].id, prefix) || activity_made_here(t, prefix))
            continue;
        json_t *made = json_object_get(activities, prefix);
        if (made == NULL) json_object_set_new(activities, prefix, made = json_object());
        json_object_set_new(made, lops[i].id, json_true());
    }
    enum cc_err rc = CC_OK;
    const char *activity;
    const json_t *made;
    json_object_foreach(activities, activity, made) {
        rc = doubtful_activity(t, activity, made, err);
        if (rc != CC_OK) break;
    }
    json_decref(activities);
    return rc;
}

/* One committed batch into the tally: its refusals, and what the ledger holds of its ids. */
static enum cc_err tally_batch(struct tally *t, size_t heads, const struct ledger_op *lops,
                               const struct ledger_result *results, size_t n,
                               struct cc_error *err)
{
    enum cc_err rc = CC_OK;
    for (size_t i = 0; i < n && rc == CC_OK; i++) {
        const struct ledger_op *op = &lops[i];
        if (!ledger_status_ok(results[i].status)) {
            t->rejected_count++;
            if (json_array_size(t->rejected) < INTEROP_IATI_LISTED_MAX)
                json_array_append_new(t->rejected,
                                      json_pack("{s:s?,s:s,s:s?}", "id", op->id, "status",
                                                ledger_status_name(results[i].status), "message",
                                                results[i].message));
        }
        if (i < heads || op->id == NULL) continue;
        enum ledger_status status = results[i].status;
        uint32_t done = status == LEDGER_CREATED     ? ID_CREATED
                        : ledger_status_ok(status) ? ID_FOUND
                                                   : ID_REFUSED;
        rc = tally_id(t, op->id, done, err);
    }
    if (rc == CC_OK) rc = doubtful_batch(t, lops, results, heads, n, err);
    return rc;
}

static enum cc_err tally_finish(struct tally *t, struct import *im, json_t **summary,
                                struct cc_error *err)
{
    json_t *by_type = json_object(), *amounts = json_object();
    for (int k = 1; k <= IATI_TYPES; k++) {
        char code[4];
        snprintf(code, sizeof code, "%d", k);
        json_object_set_new(by_type, code, json_integer(t->by_type[k]));
    }
    const char *unit;
    const json_t *index;
    json_object_foreach(t->unit_index, unit, index) {
        json_t *per = json_object();
        size_t u = (size_t)json_integer_value(index);
        for (int k = 1; k <= IATI_TYPES; k++) {
            char code[4];
            snprintf(code, sizeof code, "%d", k);
            if (t->by_type[k] > 0 && t->sums[u * (IATI_TYPES + 1) + (size_t)k] != 0)
                json_object_set_new(per, code,
                                    sum_json(t->sums[u * (IATI_TYPES + 1) + (size_t)k]));
        }
        json_object_set_new(amounts, unit, per);
    }
    *summary = json_pack(
        "{s:I,s:I,s:o,s:o,s:I,s:{s:I,s:O},s:{s:I,s:O},s:{s:I,s:O},s:{s:I,s:O}}", "activities",
        (json_int_t)t->activities, "transactions", (json_int_t)t->transactions, "by_type",
        by_type, "amounts", amounts, "second_reports", (json_int_t)t->second_reports,
        "double_reported", "count", (json_int_t)t->pairs_count, "listed", t->pairs_listed,
        "skipped", "count", (json_int_t)im->skipped_count, "listed", im->skipped, "rejected",
        "count", (json_int_t)t->rejected_count, "listed", t->rejected, "doubtful", "count",
        (json_int_t)t->doubtful_count, "listed", t->doubtful);
    return *summary != NULL ? CC_OK : cc_error_set(err, CC_ERR_NOMEM, "out of memory");
}

/* ---------------------------------------------------------------- import: recording */

/*
 * The reading and the recording run in two threads, one batch apart: while
 * the recorder commits batch n, the reader parses the XML and builds batch
 * n + 1. A batch is handed over whole (its operations and the arena that
 * holds their strings), and the reader waits while the one before it is
 * still unclaimed. A recorded batch goes back to the reader, which frees it
 * at its next hand-over: its memory is the reader's (malloc's arenas are per
 * thread), and the recorder is the busier of the two. Memory is therefore
 * that of four batches at most: the one being built, the one waiting, the
 * one being recorded and the one recorded and not yet freed.
 */
struct batch {
    struct ledger_op *ops; /* the units and parties met since the last batch, then the rest */
    size_t count, heads;
    struct arena arena;
    struct batch *next;    /* in the recorder's list of batches done */
};

struct recorder {
    struct concord *cc;
    struct tally *tally;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    struct batch *waiting; /* handed over, not yet taken */
    struct batch *done;    /* recorded (or dropped), for the reader to free */
    bool closed;           /* nothing more will be handed over */
    atomic_bool failed;    /* rc and err say why; later batches are dropped unrecorded */
    enum cc_err rc;
    struct cc_error err;
};

static bool recorder_failed(const struct recorder *r)
{
    return atomic_load(&((struct recorder *)r)->failed);
}

static void batch_free(struct batch *b)
{
    if (b == NULL) return;
    ops_release(b->ops, b->count);
    free(b->ops);
    arena_free(&b->arena);
    free(b);
}

/* Commits one batch and adds it to the tally. */
static enum cc_err batch_record(struct recorder *r, struct batch *b, struct cc_error *err)
{
    struct ledger_result *results = calloc(b->count, sizeof *results);
    if (results == NULL) return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    enum cc_err rc = concord_apply(r->cc, b->ops, b->count, results, err);
    if (rc == CC_OK) rc = tally_batch(r->tally, b->heads, b->ops, results, b->count, err);
    free(results);
    return rc;
}

static void *recorder_run(void *arg)
{
    struct recorder *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->lock);
        while (r->waiting == NULL && !r->closed) pthread_cond_wait(&r->changed, &r->lock);
        struct batch *b = r->waiting;
        r->waiting = NULL;
        pthread_cond_broadcast(&r->changed);
        pthread_mutex_unlock(&r->lock);
        if (b == NULL) return NULL; /* closed, and nothing left */
        if (!atomic_load(&r->failed)) {
            r->rc = batch_record(r, b, &r->err);
            if (r->rc != CC_OK) atomic_store(&r->failed, true);
        }
        pthread_mutex_lock(&r->lock);
        b->next = r->done;
        r->done = b;
        pthread_cond_broadcast(&r->changed);
        pthread_mutex_unlock(&r->lock);
    }
}

static void batches_free(struct batch *b)
{
    while (b != NULL) {
        struct batch *next = b->next;
        batch_free(b);
        b = next;
    }
}

/* Hands b to the recorder once it has taken the batch before; false when it has failed. */
static bool recorder_give(struct recorder *r, struct batch *b)
{
    pthread_mutex_lock(&r->lock);
    while (r->waiting != NULL && !atomic_load(&r->failed))
        pthread_cond_wait(&r->changed, &r->lock);
    bool taken = !atomic_load(&r->failed);
    if (taken) {
        r->waiting = b;
        pthread_cond_broadcast(&r->changed);
    }
    struct batch *done = r->done;
    r->done = NULL;
    pthread_mutex_unlock(&r->lock);
    batches_free(done);
    if (!taken) batch_free(b);
    return taken;
}

/* No more batches: waits until the recorder has recorded (or dropped) them all. */
static void recorder_close(struct recorder *r, pthread_t thread)
{
    pthread_mutex_lock(&r->lock);
    r->closed = true;
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->lock);
    pthread_join(thread, NULL);
    batches_free(r->done);
    r->done = NULL;
}

/*
 * Seals what the reading holds so far as one batch (the units and parties
 * met since the last batch first, then the activities and transactions in
 * the files' order), hands it to the recorder, and starts the next afresh.
 */
static bool batch_hand_over(struct import *im, char *message, size_t size)
{
    size_t units = json_array_size(im->unit_ops), parties = json_array_size(im->party_ops);
    size_t heads = units - im->units_committed + parties - im->parties_committed;
    if (heads + im->count == 0) return true;
    struct batch *b = calloc(1, sizeof *b);
    struct ledger_op *ops = calloc(heads + im->count, sizeof *ops);
    if (b == NULL || ops == NULL) {
        free(b);
        free(ops);
        return out_of_memory(im, message, size);
    }
    b->arena = im->arena; /* the operations' strings go with them */
    arena_init(&im->arena);
    b->ops = ops;
    b->heads = heads;
    bool ok = true;
    size_t k = 0;
    for (size_t i = im->units_committed; ok && i < units; i++)
        ok = json_decode_op(json_array_get(im->unit_ops, i), &ops[k++], &b->arena);
    for (size_t i = im->parties_committed; ok && i < parties; i++)
        ok = json_decode_op(json_array_get(im->party_ops, i), &ops[k++], &b->arena);
    if (im->count > 0) memcpy(&ops[heads], im->ops, im->count * sizeof *ops);
    b->count = heads + im->count; /* the operations' JSON is the batch's from now on */
    im->count = 0;
    strmap_clear(&im->seen);
    im->units_committed = units;
    im->parties_committed = parties;
    if (!ok) {
        batch_free(b);
        return out_of_memory(im, message, size);
    }
    if (!recorder_give(im->recorder, b)) { /* the recorder's failure is the one reported */
        im->stopped = true;
        snprintf(message, size, "%s: stopped", im->file);
        return false;
    }
    return true;
}

/*
 * A file two readers can share (struct iati_source): the input
 * itself when it is a regular file, else (a pipe) a copy in an unlinked
 * temporary file. NULL, with err, when neither.
 */
static FILE *shareable(FILE *file, const char *name, bool *copied, struct cc_error *err)
{
    *copied = false;
    if (fseek(file, 0, SEEK_CUR) == 0) return file;
    FILE *copy = tmpfile();
    if (copy == NULL) {
        cc_error_set(err, CC_ERR_SYSTEM, "%s: cannot keep a copy to read", name);
        return NULL;
    }
    char buffer[1 << 16];
    size_t n;
    int64_t total = 0;
    while ((n = fread(buffer, 1, sizeof buffer, file)) > 0) {
        total += (int64_t)n;
        if (total > IATI_FILE_BYTES_MAX || fwrite(buffer, 1, n, copy) != n) {
            fclose(copy);
            cc_error_set(err, total > IATI_FILE_BYTES_MAX ? CC_ERR_INPUT : CC_ERR_SYSTEM,
                         "%s: %s", name,
                         total > IATI_FILE_BYTES_MAX ? "larger than an IATI file may be"
                                                     : "cannot keep a copy to read");
            return NULL;
        }
    }
    if (ferror(file) || fflush(copy) != 0) {
        fclose(copy);
        cc_error_set(err, CC_ERR_SYSTEM, "%s: cannot read it", name);
        return NULL;
    }
    *copied = true;
    return copy;
}

/*
 * The validating thread: every file against the schema, in order, up to the
 * first refused, or past the file where the reading failed (`last`): a
 * problem in a later file cannot be the first, and the import waits for it.
 */
struct validation {
    const struct interop_iati_input *files;
    size_t count;
    const struct iati_schema *schema;
    atomic_size_t last;  /* the last file to validate */
    atomic_bool invalid; /* then failed_file, failed_line and message say where and why */
    size_t failed_file;
    int failed_line;
    char message[IATI_MESSAGE_BYTES];
};

/* A problem's line, for ordering: one with no line (0) is the end of its file's. */
static int line_order(int line) { return line > 0 ? line : INT_MAX; }

/* Has the validator refused the files at or before line of file? */
static bool validation_failed_by(const struct validation *v, size_t file, int line)
{
    if (!atomic_load(&((struct validation *)v)->invalid)) return false;
    return v->failed_file < file ||
           (v->failed_file == file && line_order(v->failed_line) <= line_order(line));
}

static void *validate_files(void *arg)
{
    struct validation *v = arg;
    for (size_t i = 0; i < v->count && i <= atomic_load(&v->last); i++) {
        struct iati_source source = {.name = v->files[i].name, .file = v->files[i].file};
        if (!iati_validate(&source, v->schema, v->message, sizeof v->message,
                           &v->failed_line)) {
            v->failed_file = i;
            atomic_store(&v->invalid, true);
            break;
        }
    }
    return NULL;
}

enum cc_err concord_import_iati(struct concord *cc, const struct interop_iati_input *inputs,
                                size_t count, const char *schema_path, bool dry_run,
                                json_t **summary, struct cc_error *err)
{
    assert(cc != NULL && summary != NULL);
    assert(inputs != NULL || count == 0);
    *summary = NULL;
    if (count == 0) return cc_error_set(err, CC_ERR_USAGE, "import iati: no file given");
    if (count > INTEROP_IATI_FILES_MAX)
        return cc_error_set(err, CC_ERR_USAGE, "import iati: at most %d files",
                            INTEROP_IATI_FILES_MAX);
    char message[IATI_MESSAGE_BYTES];
    struct iati_schema *schema = iati_schema_load(schema_path, message, sizeof message);
    if (schema == NULL) return cc_error_set(err, CC_ERR_USAGE, "import iati: %s", message);
    struct interop_iati_input files[INTEROP_IATI_FILES_MAX];
    bool copied[INTEROP_IATI_FILES_MAX] = {0};
    enum cc_err rc = CC_OK;
    size_t opened = 0;
    for (; opened < count && rc == CC_OK; opened++) {
        files[opened].name = inputs[opened].name;
        files[opened].file = shareable(inputs[opened].file, inputs[opened].name, &copied[opened],
                                       err);
        if (files[opened].file == NULL) rc = err->code;
    }
    if (rc != CC_OK) opened--; /* the one that failed has no copy to close */
    struct tally tally;
    tally_init(&tally, cc);
    struct validation validation = {.files = files, .count = count, .schema = schema};
    atomic_init(&validation.invalid, false);
    atomic_init(&validation.last, count - 1);
    struct recorder recorder = {.cc = cc, .tally = &tally};
    atomic_init(&recorder.failed, false);
    pthread_mutex_init(&recorder.lock, NULL);
    pthread_cond_init(&recorder.changed, NULL);
    struct import im = {.units = json_object(), .unit_ops = json_array(),
                        .own_funds = json_object(),
                        .parties = json_object(), .party_ops = json_array(),
                        .skipped = json_array(), .validation = &validation,
                        .recorder = &recorder};
    arena_init(&im.arena);
    strmap_init(&im.seen);
    /*
     * One reading, three threads. One validates every file against the
     * schema; this one reads the same files into batches of operations
     * (IATI_BATCH_OPS), so that memory is a few batches', and the recorder
     * commits them as they come, all in one group: a file the validator
     * refuses, or any other failure, rolls every batch back and nothing is
     * recorded. Validating and recording are most of the cost, and run
     * beside the reading instead of after it.
     */
    bool group = false, validating = false, recording = false;
    pthread_t validator, recorder_thread;
    if (rc == CC_OK) rc = concord_group_begin(cc, err);
    group = rc == CC_OK;
    /* Under the writer's lock: no other writer can make a unit between this and its use. */
    if (rc == CC_OK) rc = concord_parties_list(cc, party_known_fn, im.parties, err);
    if (rc == CC_OK) rc = concord_units_list(cc, unit_known_fn, im.units, err);
    if (rc == CC_OK) ledger_log_name(cc, im.own_log);
    if (rc == CC_OK && im.own_log[0] != '\0') rc = own_funds(cc, im.own_funds, err);
    if (rc == CC_OK) {
        validating = pthread_create(&validator, NULL, validate_files, &validation) == 0;
        if (!validating) validate_files(&validation); /* no thread: validate first */
        recording = pthread_create(&recorder_thread, NULL, recorder_run, &recorder) == 0;
        if (!recording) rc = cc_error_set(err, CC_ERR_SYSTEM, "import iati: no thread to record");
    }
    /* From here until the recorder is closed, cc is the recorder's alone. */
    if (rc == CC_OK) rc = import_read(&im, files, count, err);
    if (rc == CC_OK) {
        char last[IATI_MESSAGE_BYTES];
        if (!batch_hand_over(&im, last, sizeof last))
            rc = cc_error_set(err, im.error != CC_OK ? im.error : CC_ERR_INPUT, "%s", last);
    }
    /* The reading's own failure (not one it stopped for, nor one before it started). */
    bool read_failed = recording && rc != CC_OK && !im.stopped;
    if (read_failed) atomic_store(&validation.last, im.file_index);
    if (recording) recorder_close(&recorder, recorder_thread);
    /* The writer's lock goes before the validator is waited for. */
    if (group && (rc != CC_OK || atomic_load(&recorder.failed))) {
        concord_group_rollback(cc);
        group = false;
    }
    if (validating) pthread_join(validator, NULL);
    iati_schema_free(schema);
    /*
     * Which failure to report: the first in the files' order of the schema's
     * and the reading's (so the same files always give the same message),
     * else the ledger's.
     */
    if (read_failed ? validation_failed_by(&validation, im.file_index, im.failed_line)
                    : atomic_load(&validation.invalid))
        rc = cc_error_set(err, CC_ERR_INPUT, "%s", validation.message);
    else if (!read_failed && atomic_load(&recorder.failed))
        rc = cc_error_set(err, recorder.rc, "%s", recorder.err.message);
    if (rc == CC_OK && !dry_run) rc = concord_group_commit(cc, err);
    else if (group) concord_group_rollback(cc);
    if (rc == CC_OK) rc = tally_finish(&tally, &im, summary, err);
    if (rc == CC_OK && dry_run) json_object_set_new(*summary, "dry_run", json_true());
    for (size_t i = 0; i < opened; i++)
        if (copied[i]) fclose(files[i].file);
    tally_free(&tally);
    import_free(&im);
    pthread_mutex_destroy(&recorder.lock);
    pthread_cond_destroy(&recorder.changed);
    return rc;
}

/* ---------------------------------------------------------------- export */

struct exporter {
    struct concord *cc;
    struct iati_writer *writer;
    const char *prefix;
    char log_name[AUDIT_NAME_BYTES_MAX + 1]; /* see ledger_log_name */
    json_t *units;    /* unit → scale */
    json_t *orgs;     /* account id → {"ref","name"} */
    json_t *parties;  /* party id → name */
    char message[IATI_MESSAGE_BYTES];
};

static int party_name_fn(void *ctx, const struct ledger_party *party)
{
    json_object_set_new(ctx, party->id, json_string(party->name != NULL ? party->name : ""));
    return 0;
}

/* A unit's scale (2 when the ledger has none by that code: it then holds no amount of it). */
static int export_scale(struct exporter *e, const char *code)
{
    const json_t *known = json_object_get(e->units, code);
    if (known != NULL) return (int)json_integer_value(known);
    struct ledger_unit unit;
    char name[LEDGER_NAME_BYTES_MAX + 1];
    struct cc_error err = {0};
    int scale = concord_unit_get(e->cc, code, &unit, name, sizeof name, &err) == CC_OK
                    ? unit.scale
                    : IATI_UNIT_SCALE_MIN;
    json_object_set_new(e->units, code, json_integer(scale));
    return scale;
}

/* "-1234.50": an amount in its unit's scale, signed. */
static json_t *value_text(struct exporter *e, const char *unit, int64_t amount, bool negative)
{
    char text[AMOUNT_TEXT_BYTES + 1];
    text[0] = '-';
    amount_format(amount, export_scale(e, unit), false, text + 1);
    return json_string(negative ? text : text + 1);
}

/* "YYYY-MM-DD" of an instant (its UTC day). */
static json_t *day_text(int64_t ns)
{
    char text[TIME_TEXT_BYTES];
    time_format(ns, text);
    text[10] = '\0';
    return json_string(text);
}

struct org_copy {
    char owner[LEDGER_ID_BYTES_MAX + 1];
    char name[LEDGER_NAME_BYTES_MAX + 1];
    bool found;
};

static int org_copy_fn(void *ctx, const struct ledger_account *a)
{
    struct org_copy *c = ctx;
    c->found = true;
    snprintf(c->owner, sizeof c->owner, "%s", a->owner != NULL ? a->owner : "");
    snprintf(c->name, sizeof c->name, "%s", a->name != NULL ? a->name : "");
    return 0;
}

/*
 * The organisation an account stands for: its owner party (named as the
 * party is), else the account itself (named as the account is).
 */
static const json_t *account_org(struct exporter *e, const char *account)
{
    const json_t *known = json_object_get(e->orgs, account);
    if (known != NULL) return known;
    struct org_copy c = {0};
    struct cc_error err = {0};
    e->cc->store->driver->account_get(e->cc->store, account, org_copy_fn, &c, &err);
    const char *ref = c.owner[0] != '\0' ? c.owner : account;
    const char *name = c.owner[0] != '\0'
                           ? json_string_value(json_object_get(e->parties, c.owner))
                           : c.name;
    if (name == NULL || name[0] == '\0') name = c.name[0] != '\0' ? c.name : ref;
    json_t *org = json_pack("{s:s,s:s}", "ref", ref, "name", name);
    json_object_set_new(e->orgs, account, org);
    return org;
}

/* A funding transfer the export follows, and the records that resolved it. */
struct funding_collect {
    json_t *roots;   /* id → {"kind","fund","debit","credit","unit","amount","posted","date",
                              "seq","memo","records":[…]} */
    json_t *order;   /* funds in the order they first appear */
    json_t *funds;   /* fund → [root ids] */
};

static int funding_row_fn(void *ctx, const struct ledger_transfer *t)
{
    struct funding_collect *f = ctx;
    if (t->pending_id != NULL) {
        json_t *root = json_object_get(f->roots, t->pending_id);
        if (root != NULL)
            json_array_append_new(json_object_get(root, "records"),
                                  json_pack("{s:s,s:I,s:I,s:I,s:i,s:s?}", "id", t->id, "posted",
                                            (json_int_t)t->effect_posted, "date",
                                            (json_int_t)t->date, "seq", (json_int_t)t->seq,
                                            "state", (int)t->state, "memo", t->memo));
        return 0;
    }
    const char *fund = fund_of(t);
    if (fund == NULL) return 0;
    json_t *root = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:s?,s:[]}", "kind", t->kind, "fund", fund,
        "debit", t->debit, "credit", t->credit, "unit", t->unit, "amount", (json_int_t)t->amount,
        "posted", (json_int_t)t->effect_posted, "date", (json_int_t)t->date, "seq",
        (json_int_t)t->seq, "memo", t->memo, "records");
    if (root == NULL) return 1;
    json_object_set_new(f->roots, t->id, root);
    json_t *list = json_object_get(f->funds, fund);
    if (list == NULL) {
        list = json_array();
        json_object_set_new(f->funds, fund, list);
        json_array_append_new(f->order, json_string(fund));
    }
    json_array_append_new(list, json_string(t->id));
    return 0;
}

static int by_seq(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "seq"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "seq"));
    return (x > y) - (x < y);
}

/* Sorts a JSON array of objects by their "seq" (or another integer member, by sorter). */
static bool array_sort(json_t *array, int (*order)(const void *, const void *))
{
    size_t n = json_array_size(array);
    json_t **items = malloc((n ? n : 1) * sizeof *items);
    if (items == NULL) return false;
    for (size_t i = 0; i < n; i++) items[i] = json_incref(json_array_get(array, i));
    qsort(items, n, sizeof *items, order);
    json_array_clear(array);
    for (size_t i = 0; i < n; i++) json_array_append_new(array, items[i]);
    free(items);
    return true;
}

/* A transaction of the fund's activity. */
static void fund_event(struct exporter *e, json_t *events, int type, const char *ref,
                       const char *unit, int64_t amount, int64_t date, json_int_t seq,
                       const char *memo, const char *from, const char *to)
{
    json_t *t = json_pack("{s:I,s:i,s:s,s:o,s:s,s:o,s:o,s:O,s:O}", "seq", seq, "type", type,
                          "ref", ref, "date", day_text(date), "currency", unit, "value",
                          value_text(e, unit, amount, false), "value_date", day_text(date),
                          "provider", account_org(e, from), "receiver", account_org(e, to));
    if (t == NULL) return;
    if (memo != NULL && memo[0] != '\0') json_object_set_new(t, "description", json_string(memo));
    json_array_append_new(events, t);
}

/* Adds org with role to participating, once per (ref, role). */
static void participant(json_t *participating, const json_t *org, const char *role)
{
    size_t i;
    const json_t *p;
    json_array_foreach(participating, i, p) {
        if (json_equal(json_object_get(p, "ref"), json_object_get(org, "ref")) &&
            strcmp(json_string_value(json_object_get(p, "role")), role) == 0)
            return;
    }
    if (json_array_size(participating) >= IATI_PARTICIPANTS_KEPT) return; /* as the import keeps */
    json_t *copy = json_deep_copy(org);
    json_object_set_new(copy, "role", json_string(role));
    json_array_append_new(participating, copy);
}

/* The events of one fund account: pledges, commitments, disbursements, in ledger order. */
static json_t *fund_events(struct exporter *e, struct funding_collect *f, const char *fund,
                           json_t *participating)
{
    json_t *events = json_array();
    size_t i;
    const json_t *id;
    json_array_foreach(json_object_get(f->funds, fund), i, id) {
        const char *root_id = json_string_value(id);
        const json_t *root = json_object_get(f->roots, root_id);
        const char *kind = json_string_value(json_object_get(root, "kind"));
        const char *unit = json_string_value(json_object_get(root, "unit"));
        const char *debit = json_string_value(json_object_get(root, "debit"));
        const char *credit = json_string_value(json_object_get(root, "credit"));
        const char *memo = json_string_value(json_object_get(root, "memo"));
        json_int_t seq = json_integer_value(json_object_get(root, "seq"));
        int64_t date = json_integer_value(json_object_get(root, "date"));
        const json_t *records = json_object_get(root, "records");
        bool pledge = strcmp(kind, "pledge") == 0, disbursement = strcmp(kind, "disbursement") == 0;
        /* A pledge voided (its condition failed) or expired is no longer pledged. */
        bool released = false;
        size_t k;
        const json_t *r;
        json_array_foreach(records, k, r) {
            int state = (int)json_integer_value(json_object_get(r, "state"));
            released |= state == LEDGER_STATE_VOIDED || state == LEDGER_STATE_EXPIRED;
        }
        int posted_type = disbursement ? 3 : 11;
        if (pledge && !released)
            fund_event(e, events, 13, root_id, unit,
                       json_integer_value(json_object_get(root, "amount")), date, seq, memo,
                       debit, credit);
        int64_t posted = json_integer_value(json_object_get(root, "posted"));
        if (posted > 0)
            fund_event(e, events, posted_type, root_id, unit, posted, date, seq, memo, debit,
                       credit);
        json_array_foreach(records, k, r) {
            int64_t part = json_integer_value(json_object_get(r, "posted"));
            if (part <= 0) continue;
            fund_event(e, events, posted_type, json_string_value(json_object_get(r, "id")), unit,
                       part, json_integer_value(json_object_get(r, "date")),
                       json_integer_value(json_object_get(r, "seq")),
                       json_string_value(json_object_get(r, "memo")), debit, credit);
        }
        if (disbursement) participant(participating, account_org(e, credit), "4");
        else participant(participating, account_org(e, debit), "1");
    }
    array_sort(events, by_seq);
    json_array_foreach(events, i, id) json_object_del((json_t *)id, "seq");
    return events;
}

#define FUND_IDENTIFIER_BYTES (INTEROP_IATI_PREFIX_BYTES_MAX + 1 + LEDGER_ID_BYTES_MAX + 1)

/* A fund's activity identifier: "<prefix>-<fund>", IATI's publisher prefix first. */
static void fund_identifier(const struct exporter *e, const char *fund,
                            char out[FUND_IDENTIFIER_BYTES])
{
    snprintf(out, FUND_IDENTIFIER_BYTES, "%s-%s", e->prefix, fund);
}

/*
 * Has this ledger recorded the fund's activity identifier from IATI? As its
 * own activity come back before imports knew it (no internal id, or its
 * own): *recorded, and the activity is written once, with those recorded.
 * As another publisher's of the same identifier (two ledgers exporting with
 * the default prefix), which would silently take the fund's place: refused,
 * saying why.
 */
static enum cc_err fund_recorded(struct exporter *e, const char *identifier, const char *fund,
                                 bool *recorded, struct cc_error *err)
{
    *recorded = false;
    char id[IATI_ID_BYTES_MAX + 1];
    if (!iati_activity_record_id(id, sizeof id, identifier)) return CC_OK;
    struct seen_row row;
    enum cc_err rc = row_read(e->cc, id, true, &row, err);
    if (rc != CC_OK || !row.found) {
        json_decref(row.meta);
        return rc;
    }
    const char *other = json_string_value(json_object_get(row.meta, "internal_id"));
    char own[FUND_INTERNAL_ID_BYTES];
    fund_internal_id(own, fund, e->log_name);
    if (other != NULL && strcmp(other, own) != 0)
        rc = cc_error_set(err, CC_ERR_USAGE,
                          "export iati: the fund %s would be the activity %s, which is another "
                          "publisher's activity imported here (its own identifier %.64s): give "
                          "--activity-prefix your organisation's IATI identifier",
                          fund, identifier, other);
    json_decref(row.meta);
    *recorded = rc == CC_OK;
    return rc;
}

static enum cc_err export_funds(struct exporter *e, struct cc_error *err)
{
    struct funding_collect f = {.roots = json_object(), .order = json_array(),
                                .funds = json_object()};
    static const char *const prefixes[] = {"donor."};
    const struct store_transfer_filter filter = {.at = INT64_MAX, .prefixes = prefixes,
                                                 .prefixes_count = 1};
    enum cc_err rc = e->cc->store->driver->transfers_each(e->cc->store, &filter, funding_row_fn,
                                                          &f, err);
    size_t i;
    const json_t *fund_json;
    /* Every fund's identifier is checked before the first is written: a refusal writes nothing. */
    json_t *recorded_funds = json_object();
    if (rc == CC_OK && recorded_funds == NULL)
        rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    json_array_foreach(f.order, i, fund_json) {
        if (rc != CC_OK) break;
        const char *fund = json_string_value(fund_json);
        char identifier[FUND_IDENTIFIER_BYTES];
        fund_identifier(e, fund, identifier);
        bool recorded;
        rc = fund_recorded(e, identifier, fund, &recorded, err);
        if (rc == CC_OK && recorded) json_object_set_new(recorded_funds, fund, json_true());
    }
    json_array_foreach(f.order, i, fund_json) {
        if (rc != CC_OK) break;
        const char *fund = json_string_value(fund_json);
        char identifier[FUND_IDENTIFIER_BYTES];
        fund_identifier(e, fund, identifier);
        /* Its own activity, imported already: written below, with the activities recorded. */
        if (json_object_get(recorded_funds, fund) != NULL) continue;
        json_t *participating = json_array();
        const json_t *fund_org = account_org(e, fund);
        participant(participating, fund_org, "2");
        json_t *events = fund_events(e, &f, fund, participating);
        if (json_array_size(events) == 0) {
            json_decref(events);
            json_decref(participating);
            continue;
        }
        struct org_copy c = {0};
        struct cc_error ignored = {0};
        e->cc->store->driver->account_get(e->cc->store, fund, org_copy_fn, &c, &ignored);
        char title[LEDGER_NAME_BYTES_MAX + LEDGER_ID_BYTES_MAX + 4], description[512];
        snprintf(title, sizeof title, "%s (%s)", c.name[0] != '\0' ? c.name : fund, fund);
        utf8_truncate(title);
        snprintf(description, sizeof description,
                 "Pledges, commitments and disbursements of the account %s, from a concord "
                 "ledger",
                 fund);
        json_t *activity = json_pack(
            "{s:s,s:{s:s,s:s,s:O},s:s,s:s,s:s,s:[{s:s,s:O}],s:o}", "identifier", identifier,
            "reporting_org", "ref", e->prefix, "type", "40", "name",
            json_object_get(fund_org, "name"), "title", title, "description", description,
            "activity_status", "2", "activity_dates", "type", "2", "iso_date",
            json_object_get(json_array_get(events, 0), "date"), "participating", participating);
        char internal[FUND_INTERNAL_ID_BYTES];
        fund_internal_id(internal, fund, e->log_name);
        if (activity != NULL && e->log_name[0] != '\0')
            json_object_set_new(activity, "internal_id", json_string(internal));
        bool ok = activity != NULL &&
                  iati_write_activity(e->writer, activity, events, e->message, sizeof e->message);
        json_decref(activity);
        json_decref(events);
        if (!ok)
            rc = cc_error_set(err, CC_ERR_SYSTEM, "export iati: %s",
                              e->message[0] ? e->message : "out of memory");
    }
    json_decref(recorded_funds);
    json_decref(f.roots);
    json_decref(f.order);
    json_decref(f.funds);
    return rc;
}

/* ---- the activities recorded from IATI */

struct rows_collect {
    json_t *rows; /* [{"seq","id","kind","unit","amount","date","memo","meta"}] */
};

static int row_collect_fn(void *ctx, const struct ledger_transfer *t)
{
    struct rows_collect *c = ctx;
    json_t *meta = t->meta != NULL ? json_loads(t->meta, 0, NULL) : NULL;
    json_t *row = json_pack("{s:I,s:s,s:s?,s:s?,s:I,s:I,s:s?,s:o?}", "seq", (json_int_t)t->seq,
                            "id", t->id, "kind", t->kind, "unit", t->unit, "amount",
                            (json_int_t)t->amount, "date", (json_int_t)t->date, "memo", t->memo,
                            "meta", meta);
    if (row == NULL) return 1;
    json_array_append_new(c->rows, row);
    return 0;
}

static enum cc_err rows_by_prefix(struct exporter *e, const char *prefix, json_t *rows,
                                  struct cc_error *err)
{
    struct rows_collect c = {.rows = rows};
    return e->cc->store->driver->transfers_id_prefix(e->cc->store, prefix, row_collect_fn, &c,
                                                     err);
}

/* A recorded report as the writer takes it: its meta, with the ledger's own figures. */
static json_t *report_of(struct exporter *e, const json_t *row)
{
    const char *kind = json_string_value(json_object_get(row, "kind"));
    const json_t *meta = json_object_get(row, "meta");
    if (!json_is_object(meta)) return NULL;
    bool money = iati_type_of_kind(kind) != NULL;
    if (!money && (kind == NULL || strcmp(kind, IATI_KIND_SECOND_REPORT) != 0)) return NULL;
    json_t *t = json_deep_copy(meta);
    json_object_del(t, "source");
    json_object_del(t, "counted_as");
    json_object_set(t, "id", json_object_get(row, "id"));
    const char *memo = json_string_value(json_object_get(row, "memo"));
    if (memo != NULL) json_object_set_new(t, "description", json_string(memo));
    if (money) { /* the amount and date the ledger holds, not what the meta says of them */
        const char *unit = json_string_value(json_object_get(row, "unit"));
        const char *value = json_string_value(json_object_get(meta, "value"));
        json_object_set_new(t, "currency", json_string(unit));
        json_object_set_new(t, "value",
                            value_text(e, unit, json_integer_value(json_object_get(row, "amount")),
                                       value != NULL && value[0] == '-'));
        json_object_set_new(t, "date", day_text(json_integer_value(json_object_get(row, "date"))));
    }
    return t;
}

static int by_position(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "position"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "position"));
    return (x > y) - (x < y);
}

static enum cc_err export_recorded(struct exporter *e, struct cc_error *err)
{
    json_t *activities = json_array(), *pairs = json_array(), *by_activity = json_object();
    enum cc_err rc = rows_by_prefix(e, "iati/a/", activities, err);
    if (rc == CC_OK) rc = rows_by_prefix(e, "iati/pair/", pairs, err);
    size_t i;
    const json_t *row;
    /* Reports of flows, to their activities. */
    json_array_foreach(pairs, i, row) {
        json_t *t = report_of(e, row);
        const char *activity = json_string_value(json_object_get(t, "activity"));
        if (t == NULL || activity == NULL) {
            json_decref(t);
            continue;
        }
        json_t *list = json_object_get(by_activity, activity);
        if (list == NULL) {
            list = json_array();
            json_object_set_new(by_activity, activity, list);
        }
        json_array_append_new(list, t);
    }
    if (rc == CC_OK && !array_sort(activities, by_seq))
        rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    json_array_foreach(activities, i, row) {
        if (rc != CC_OK) break;
        const char *kind = json_string_value(json_object_get(row, "kind"));
        if (kind == NULL || strcmp(kind, IATI_KIND_ACTIVITY) != 0) continue;
        json_t *activity = json_deep_copy(json_object_get(row, "meta"));
        const char *identifier = json_string_value(json_object_get(activity, "identifier"));
        char prefix[IATI_ID_BYTES_MAX + 1];
        if (identifier == NULL || !iati_transaction_prefix(prefix, sizeof prefix, identifier)) {
            json_decref(activity);
            continue;
        }
        json_t *rows = json_array(), *transactions = json_array();
        rc = rows_by_prefix(e, prefix, rows, err);
        size_t k;
        const json_t *r;
        json_array_foreach(rows, k, r) {
            json_t *t = report_of(e, r);
            if (t != NULL) json_array_append_new(transactions, t);
        }
        json_array_extend(transactions, json_object_get(by_activity, identifier));
        array_sort(transactions, by_position);
        if (rc == CC_OK &&
            !iati_write_activity(e->writer, activity, transactions, e->message, sizeof e->message))
            rc = cc_error_set(err, CC_ERR_SYSTEM, "export iati: %s", e->message);
        json_decref(rows);
        json_decref(transactions);
        json_decref(activity);
    }
    json_decref(activities);
    json_decref(pairs);
    json_decref(by_activity);
    return rc;
}

enum cc_err concord_export_iati(struct concord *cc, const char *activity_prefix,
                                iati_write_fn write, void *ctx, struct cc_error *err)
{
    assert(cc != NULL && write != NULL);
    /* The export reads every party's funding rows: only for those who may read them all. */
    if (!auth_reads_everything(&cc->actor))
        return cc_error_set(err, CC_ERR_FORBIDDEN,
                            "export iati: the export holds every party's funding; an "
                            "administrator, coordinator or auditor may make it");
    const char *prefix = activity_prefix != NULL ? activity_prefix : INTEROP_IATI_PREFIX_DEFAULT;
    size_t n = strlen(prefix);
    bool plain = n >= 1 && n <= INTEROP_IATI_PREFIX_BYTES_MAX;
    for (size_t i = 0; plain && i < n; i++) plain = prefix[i] > ' ' && prefix[i] < 0x7f;
    if (!plain)
        return cc_error_set(err, CC_ERR_USAGE,
                            "export iati: --activity-prefix must be 1 to %d printable ASCII "
                            "characters without spaces (an organisation identifier such as "
                            "XM-DAC-41114)",
                            INTEROP_IATI_PREFIX_BYTES_MAX);
    struct exporter e = {.cc = cc, .prefix = prefix, .units = json_object(),
                         .orgs = json_object(), .parties = json_object()};
    enum cc_err rc = concord_parties_list(cc, party_name_fn, e.parties, err);
    ledger_log_name(cc, e.log_name);
    if (rc == CC_OK) {
        e.writer = iati_writer_open(write, ctx);
        if (e.writer == NULL) rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    }
    if (rc == CC_OK) rc = export_funds(&e, err);
    if (rc == CC_OK) rc = export_recorded(&e, err);
    /* IATI has no empty activity file (one iati-activity at least): nothing is written then. */
    if (rc == CC_OK && iati_writer_activities(e.writer) == 0)
        rc = cc_error_set(err, CC_ERR_NOT_FOUND,
                          "export iati: the ledger holds no funding transfers and no IATI "
                          "activities: nothing to export");
    if (e.writer != NULL && !iati_writer_close(e.writer) && rc == CC_OK)
        rc = cc_error_set(err, CC_ERR_SYSTEM, "export iati: the output could not be written");
    json_decref(e.units);
    json_decref(e.orgs);
    json_decref(e.parties);
    return rc;
}
