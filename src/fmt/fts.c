/*
 * fts.c — one page of an FTS flow search answer into `fts_flow` operations
 * (see fts.h; the mapping is docs/INTEROP.md's).
 *
 * FTS adds fields to its answers over the years, so a field concord does not
 * map is passed over; a field it maps must have the type FTS documents, and
 * one that does not is refused with the flow's index and id and the field's
 * name. Amounts become integer cents here, once, with checked arithmetic.
 */
#include "fmt/fts.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fmt/json.h"
#include "ledger/ledger.h"
#include "util/timefmt.h"
#include "util/utf8.h"

#define FTS_ID_DIGITS_MAX 18        /* flow and organisation ids: decimal, fit in int64 */
#define FTS_USD_MAX 90000000000000.0 /* dollars: 9e13, so cents stay far inside int64 */
#define FTS_JSON_DEPTH_MAX 2048      /* jansson's nesting limit (JSON_PARSER_MAX_DEPTH, private) */

struct reader {
    char *message;
    size_t size;
    char where[96]; /* "flows[12] (id 158080)" */
};

static bool fail(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool fail(struct reader *r, const char *fmt, ...)
{
    if (r->message[0] != '\0') return false; /* the first problem is the one reported */
    char text[FTS_MESSAGE_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (r->where[0] != '\0')
        snprintf(r->message, r->size, "%s: %s", r->where, text);
    else
        snprintf(r->message, r->size, "%s", text);
    return false;
}

/* An FTS id: a JSON integer or a string of decimal digits; into out as text. */
static bool id_text(const json_t *v, char out[FTS_ID_DIGITS_MAX + 1])
{
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        if (n < 0 || n > 999999999999999999LL) return false; /* FTS_ID_DIGITS_MAX digits */
        char text[24];
        snprintf(text, sizeof text, "%lld", (long long)n);
        memcpy(out, text, strlen(text) + 1);
        return true;
    }
    if (!json_is_string(v)) return false;
    const char *s = json_string_value(v);
    size_t n = strlen(s);
    if (n == 0 || n > FTS_ID_DIGITS_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    memcpy(out, s, n + 1);
    return true;
}

/* A member that must be a string when present; NULL when absent or null. */
static const char *opt_string(struct reader *r, const json_t *o, const char *name, bool *ok)
{
    const json_t *v = json_object_get(o, name);
    if (v == NULL || json_is_null(v)) return NULL;
    if (!json_is_string(v)) {
        *ok = fail(r, "%s: must be text", name);
        return NULL;
    }
    return json_string_value(v);
}

/* One of the words allowed; NULL (and a message naming them) otherwise. */
static const char *word(struct reader *r, const json_t *o, const char *name,
                        const char *const *allowed, bool *ok)
{
    const char *s = opt_string(r, o, name, ok);
    if (s != NULL)
        for (const char *const *a = allowed; *a != NULL; a++)
            if (strcmp(s, *a) == 0) return *a;
    char list[160] = "";
    for (const char *const *a = allowed; *a != NULL; a++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", a == allowed ? "" : ", ",
                 *a);
    if (*ok) *ok = fail(r, "%s: must be one of %s", name, list);
    return NULL;
}

/* A non-negative number of dollars (integer or decimal) into cents. */
static bool usd_cents(const json_t *v, int64_t *cents)
{
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        if (n < 0 || n > (json_int_t)FTS_USD_MAX) return false; /* the limit, written whole */
        *cents = (int64_t)n * 100;
        return true;
    }
    if (!json_is_real(v)) return false;
    double d = json_real_value(v);
    if (!isfinite(d) || d < 0 || d > FTS_USD_MAX) return false;
    /* A JSON decimal of dollars, read as a double, is within half a cent of
       the value written for every amount under 2^53 cents: rounding recovers it. */
    *cents = llround(d * 100.0);
    return true;
}

/* A number as FTS wrote it, kept as a JSON value: integers exact, reals to 10 digits. */
static json_t *number_kept(const json_t *v)
{
    if (json_is_integer(v)) return json_integer(json_integer_value(v));
    char text[40];
    snprintf(text, sizeof text, "%.10g", json_real_value(v));
    return json_string(text);
}

/* Text FTS wrote, cut to limit bytes on a character boundary; valid UTF-8 only. */
static json_t *text_kept(struct reader *r, const char *name, const char *s, size_t limit, bool *ok)
{
    size_t n = strlen(s);
    if (!utf8_valid(s, n)) {
        *ok = fail(r, "%s: not UTF-8", name);
        return NULL;
    }
    if (n > limit) {
        n = limit;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
    }
    return json_stringn(s, n);
}

static const char *const object_types[] = {"Organization", "Location", "UsageYear", "Plan",
                                           "GlobalCluster", "Cluster", "Emergency", "Project",
                                           "Governing entity", NULL};

/*
 * sourceObjects or destinationObjects: the organisation (at most one is
 * taken as the party; FTS gives one per side) into *org, the rest (plans,
 * locations, clusters, years) kept as [{"type","id","name","behavior"}].
 */
static json_t *side(struct reader *r, const json_t *flow, const char *name, json_t **org, bool *ok)
{
    *org = NULL;
    const json_t *list = json_object_get(flow, name);
    json_t *kept = json_array();
    if (list == NULL || json_is_null(list)) return kept;
    if (!json_is_array(list)) {
        *ok = fail(r, "%s: must be an array", name);
        return kept;
    }
    size_t i;
    const json_t *o;
    json_array_foreach(list, i, o) {
        char field[64];
        snprintf(field, sizeof field, "%s[%zu]", name, i);
        char id[FTS_ID_DIGITS_MAX + 1];
        const json_t *type = json_object_get(o, "type"), *oname = json_object_get(o, "name");
        if (!json_is_object(o) || !json_is_string(type)) {
            *ok = fail(r, "%s: must be an object with a type", field);
            break;
        }
        if (!id_text(json_object_get(o, "id"), id)) {
            *ok = fail(r, "%s.id: must be a decimal id", field);
            break;
        }
        if (oname != NULL && !json_is_null(oname) && !json_is_string(oname)) {
            *ok = fail(r, "%s.name: must be text", field);
            break;
        }
        const char *t = json_string_value(type);
        bool known = false;
        for (const char *const *k = object_types; *k != NULL; k++) known |= strcmp(*k, t) == 0;
        if (!known) continue; /* a kind of object FTS may add: not mapped */
        const char *nm = json_is_string(oname) ? json_string_value(oname) : "";
        json_t *nm_kept = text_kept(r, field, nm, LEDGER_NAME_BYTES_MAX, ok);
        if (nm_kept == NULL) break;
        if (strcmp(t, "Organization") == 0 && *org == NULL) {
            *org = json_pack("{s:s,s:o}", "id", id, "name", nm_kept);
            const json_t *types = json_object_get(o, "organizationTypes");
            if (json_is_array(types) && json_array_size(types) > 0 &&
                json_is_string(json_array_get(types, 0)))
                json_object_set_new(*org, "type",
                                    json_string(json_string_value(json_array_get(types, 0))));
            continue;
        }
        const json_t *behavior = json_object_get(o, "behavior");
        json_t *k = json_pack("{s:s,s:s,s:o}", "type", t, "id", id, "name", nm_kept);
        if (json_is_string(behavior))
            json_object_set_new(k, "behavior", json_string(json_string_value(behavior)));
        json_array_append_new(kept, k);
    }
    return kept;
}

/* reportDetails: who reported the flow, kept whole (the double reports FTS merged). */
static json_t *reports(struct reader *r, const json_t *flow, bool *ok)
{
    const json_t *list = json_object_get(flow, "reportDetails");
    json_t *kept = json_array();
    if (list == NULL || json_is_null(list)) return kept;
    if (!json_is_array(list)) {
        *ok = fail(r, "reportDetails: must be an array");
        return kept;
    }
    static const char *const from[] = {"sourceType", "organization", "reportChannel", "date", NULL};
    static const char *const to[] = {"source_type", "organization", "channel", "date", NULL};
    size_t i;
    const json_t *o;
    json_array_foreach(list, i, o) {
        if (!json_is_object(o)) {
            *ok = fail(r, "reportDetails[%zu]: must be an object", i);
            break;
        }
        json_t *k = json_object();
        for (size_t f = 0; from[f] != NULL; f++) {
            const json_t *v = json_object_get(o, from[f]);
            if (v == NULL || json_is_null(v)) continue;
            if (!json_is_string(v)) {
                *ok = fail(r, "reportDetails[%zu].%s: must be text", i, from[f]);
                break;
            }
            json_t *t = text_kept(r, from[f], json_string_value(v), 512, ok);
            if (t == NULL) break;
            json_object_set_new(k, to[f], t);
        }
        json_array_append_new(kept, k);
    }
    return kept;
}

/* One flow into its operation, or NULL (r->message says why). */
static json_t *flow_op(struct reader *r, const json_t *flow)
{
    if (!json_is_object(flow)) {
        fail(r, "must be an object");
        return NULL;
    }
    bool ok = true;
    char id[FTS_ID_DIGITS_MAX + 1];
    if (!id_text(json_object_get(flow, "id"), id)) {
        fail(r, "id: must be a decimal id");
        return NULL;
    }
    size_t w = strlen(r->where);
    snprintf(r->where + w, sizeof r->where - w, " (id %s)", id);
    const json_t *version = json_object_get(flow, "versionId");
    if (!json_is_integer(version) || json_integer_value(version) < 1 ||
        json_integer_value(version) > FTS_VERSION_MAX) {
        fail(r, "versionId: must be an integer from 1 to %d", FTS_VERSION_MAX);
        return NULL;
    }
    int64_t cents = 0;
    if (!usd_cents(json_object_get(flow, "amountUSD"), &cents)) {
        fail(r, "amountUSD: must be a number of dollars from 0 to %.0f", FTS_USD_MAX);
        return NULL;
    }
    static const char *const statuses[] = {"pledge", "commitment", "paid", NULL};
    static const char *const boundaries[] = {"incoming", "internal", "outgoing", NULL};
    static const char *const on_boundaries[] = {"single", "shared", NULL};
    const char *status = word(r, flow, "status", statuses, &ok);
    const char *boundary = word(r, flow, "boundary", boundaries, &ok);
    const char *on_boundary = word(r, flow, "onBoundary", on_boundaries, &ok);
    const char *flow_type = opt_string(r, flow, "flowType", &ok);
    const char *date = opt_string(r, flow, "date", &ok);
    const char *currency = opt_string(r, flow, "originalCurrency", &ok);
    const char *description = opt_string(r, flow, "description", &ok);
    const char *ref_code = opt_string(r, flow, "refCode", &ok);
    if (!ok) return NULL;
    int64_t when;
    bool date_only;
    if (date == NULL || !time_parse(date, &when, &date_only)) {
        fail(r, "date: must be an ISO 8601 date or date-time");
        return NULL;
    }
    json_t *op = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:I,s:s}", "op", "fts_flow", "id", "",
                           "flow", id, "version", (json_int_t)json_integer_value(version),
                           "status", status, "boundary", boundary, "on_boundary", on_boundary,
                           "amount_usd", (json_int_t)cents, "date", date);
    char tid[64];
    fts_transfer_id(tid, sizeof tid, id, json_integer_value(version));
    json_object_set_new(op, "id", json_string(tid));
    if (flow_type != NULL) {
        json_t *t = text_kept(r, "flowType", flow_type, 64, &ok);
        if (t != NULL) json_object_set_new(op, "flow_type", t);
    }
    if (currency != NULL) {
        size_t n = strlen(currency);
        bool code = n == 3;
        for (size_t i = 0; i < n && code; i++) code = currency[i] >= 'A' && currency[i] <= 'Z';
        if (!code) ok = fail(r, "originalCurrency: must be a three-letter code such as EUR");
        const json_t *amount = json_object_get(flow, "originalAmount");
        const json_t *rate = json_object_get(flow, "exchangeRate");
        json_object_set_new(op, "currency", json_string(currency));
        if (json_is_number(amount)) json_object_set_new(op, "original_amount", number_kept(amount));
        else if (amount != NULL && !json_is_null(amount))
            ok = fail(r, "originalAmount: must be a number");
        if (json_is_number(rate)) json_object_set_new(op, "rate", number_kept(rate));
        else if (rate != NULL && !json_is_null(rate)) ok = fail(r, "exchangeRate: must be a number");
    }
    if (description != NULL && description[0] != '\0') {
        json_t *t = text_kept(r, "description", description, FTS_TEXT_BYTES_MAX, &ok);
        if (t != NULL) json_object_set_new(op, "description", t);
    }
    if (ref_code != NULL && ref_code[0] != '\0') {
        json_t *t = text_kept(r, "refCode", ref_code, 128, &ok);
        if (t != NULL) json_object_set_new(op, "ref_code", t);
    }
    const json_t *parent = json_object_get(flow, "parentFlowId");
    if (parent != NULL && !json_is_null(parent)) {
        char pid[FTS_ID_DIGITS_MAX + 1];
        if (id_text(parent, pid)) json_object_set_new(op, "parent", json_string(pid));
        else ok = fail(r, "parentFlowId: must be a decimal id");
    }
    const json_t *children = json_object_get(flow, "childFlowIds");
    if (json_is_array(children) && json_array_size(children) > 0) {
        json_t *kept = json_array();
        size_t i;
        const json_t *c;
        json_array_foreach(children, i, c) {
            char cid[FTS_ID_DIGITS_MAX + 1];
            if (!id_text(c, cid)) {
                ok = fail(r, "childFlowIds[%zu]: must be a decimal id", i);
                break;
            }
            json_array_append_new(kept, json_string(cid));
        }
        json_object_set_new(op, "children", kept);
    } else if (children != NULL && !json_is_null(children) && !json_is_array(children)) {
        ok = fail(r, "childFlowIds: must be an array");
    }
    const json_t *new_money = json_object_get(flow, "newMoney");
    if (json_is_boolean(new_money)) json_object_set_new(op, "new_money", json_copy((json_t *)new_money));
    json_t *src_org, *dst_org;
    json_object_set_new(op, "source_objects", side(r, flow, "sourceObjects", &src_org, &ok));
    json_object_set_new(op, "destination_objects",
                        side(r, flow, "destinationObjects", &dst_org, &ok));
    if (src_org != NULL) json_object_set_new(op, "source", src_org);
    if (dst_org != NULL) json_object_set_new(op, "destination", dst_org);
    json_object_set_new(op, "reports", reports(r, flow, &ok));
    if (!ok) {
        json_decref(op);
        return NULL;
    }
    return op;
}

int fts_flow_compare(const char *flow_a, int64_t version_a, const char *flow_b,
                     int64_t version_b)
{
    size_t na = strlen(flow_a), nb = strlen(flow_b);
    if (na != nb) return na < nb ? -1 : 1;
    int c = strcmp(flow_a, flow_b);
    if (c != 0) return c;
    return (version_a > version_b) - (version_a < version_b);
}

int fts_transfer_id(char *out, size_t size, const char *flow, int64_t version)
{
    return snprintf(out, size, "fts.%s.v%lld", flow, (long long)version);
}

bool fts_record_of(const char *id, const char *prefix, int64_t *version, enum fts_record *kind)
{
    size_t n = strlen(prefix);
    if (strncmp(id, prefix, n) != 0) return false;
    const char *p = id + n;
    if (*p < '1' || *p > '9') return false;
    int64_t k = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (k > FTS_VERSION_MAX) return false;
        k = k * 10 + (*p - '0');
    }
    if (k > FTS_VERSION_MAX) return false;
    if (*p == '\0') *kind = FTS_RECORD_FLOW;
    else if (strcmp(p, FTS_SUPERSEDES) == 0) *kind = FTS_RECORD_SUPERSEDES;
    else if (strcmp(p, FTS_TABLE) == 0) *kind = FTS_RECORD_TABLE;
    else if (strcmp(p, FTS_TABLE_SUPERSEDED) == 0) *kind = FTS_RECORD_TABLE_SUPERSEDED;
    else return false;
    *version = k;
    return true;
}

void fts_held_add(struct fts_held *held, int64_t version, enum fts_record kind)
{
    if (version < held->latest) return;
    if (version > held->latest) *held = (struct fts_held){.latest = version};
    held->flow |= kind == FTS_RECORD_FLOW;
    held->table |= kind == FTS_RECORD_TABLE;
    held->table_undone |= kind == FTS_RECORD_TABLE_SUPERSEDED;
}

void fts_held_merge(struct fts_held *held, const struct fts_held *other)
{
    if (other->latest < held->latest) return;
    if (other->latest > held->latest) {
        *held = *other;
        return;
    }
    held->flow |= other->flow;
    held->table |= other->table;
    held->table_undone |= other->table_undone;
}

bool fts_held_money(const struct fts_held *held, const char *flow, char *out, size_t size)
{
    if (held->latest == 0) return false;
    if (held->flow) {
        fts_transfer_id(out, size, flow, held->latest);
        return true;
    }
    if (held->table && !held->table_undone) {
        snprintf(out, size, "fts.%s.v%lld%s", flow, (long long)held->latest, FTS_TABLE);
        return true;
    }
    return false;
}

uint32_t fts_held_pack(const struct fts_held *held)
{
    return (uint32_t)held->latest << 3 | (held->flow ? 1u : 0u) | (held->table ? 2u : 0u) |
           (held->table_undone ? 4u : 0u);
}

struct fts_held fts_held_unpack(uint32_t packed)
{
    return (struct fts_held){.latest = packed >> 3, .flow = packed & 1u,
                             .table = (packed & 2u) != 0, .table_undone = (packed & 4u) != 0};
}

/* data.incoming and its two sums, when the page carries them. */
static bool totals(struct reader *r, const json_t *data, struct fts_page *page)
{
    const json_t *in = json_object_get(data, "incoming");
    if (in == NULL || json_is_null(in)) return true;
    const json_t *f = json_object_get(in, "flowCount"), *t = json_object_get(in, "fundingTotal"),
                 *p = json_object_get(in, "pledgeTotal");
    if (!json_is_object(in) || !json_is_integer(f) || !json_is_number(t) || !json_is_number(p))
        return fail(r, "data.incoming: must hold flowCount, fundingTotal and pledgeTotal");
    /* Shown beside the ledger's figures only, but read as carefully as any amount. */
    double funding = json_number_value(t), pledges = json_number_value(p);
    if (json_integer_value(f) < 0 || !(funding >= 0 && funding <= FTS_USD_MAX) ||
        !(pledges >= 0 && pledges <= FTS_USD_MAX))
        return fail(r, "data.incoming: flowCount, fundingTotal and pledgeTotal must be from 0 "
                       "to %.0f", FTS_USD_MAX);
    page->first = true;
    page->incoming_flows = json_integer_value(f);
    page->incoming_funding = (int64_t)funding;
    page->incoming_pledges = (int64_t)pledges;
    return true;
}

/* A page's own figures and shape, its flows aside: data.flows an array, meta.count, the totals. */
static bool page_read(struct reader *r, const json_t *root, struct fts_page *page)
{
    memset(page, 0, sizeof *page);
    page->count = -1;
    const json_t *data = json_object_get(root, "data");
    const json_t *flows = json_object_get(data, "flows");
    if (!json_is_object(root) || !json_is_object(data) || !json_is_array(flows))
        return fail(r, "not an FTS flow search answer: data.flows is missing");
    const json_t *meta = json_object_get(root, "meta");
    const json_t *count = json_object_get(meta, "count");
    if (count != NULL && !json_is_null(count)) {
        if (!json_is_integer(count) || json_integer_value(count) < 0)
            return fail(r, "meta.count: must be a number of flows");
        page->count = json_integer_value(count);
    }
    return totals(r, data, page);
}

bool fts_read(const json_t *root, json_t *ops, struct fts_page *page, char *message,
              size_t message_size)
{
    struct reader r = {.message = message, .size = message_size};
    message[0] = '\0';
    if (!page_read(&r, root, page)) return false;
    const json_t *flows = json_object_get(json_object_get(root, "data"), "flows");
    if (json_array_size(ops) + json_array_size(flows) > FTS_FLOWS_MAX)
        return fail(&r, "more than %d flows in one import", FTS_FLOWS_MAX);
    size_t i;
    const json_t *flow;
    json_array_foreach(flows, i, flow) {
        snprintf(r.where, sizeof r.where, "data.flows[%zu]", i);
        json_t *op = flow_op(&r, flow);
        if (op == NULL) return false;
        json_array_append_new(ops, op);
    }
    return true;
}

/* ---------------------------------------------------------------- a page, a flow at a time */

/*
 * The page's text, walked: jansson parses every value (JSON_DISABLE_EOF_CHECK
 * says where each ends), the walk reads only what lies between them, the
 * braces, brackets, colons and commas of the page's object, of its data and
 * of data.flows. Anything the walk does not expect ends it, saying why and
 * where (struct fts_stop); the caller then reads a page of moderate size
 * whole, so that its refusal is worded as it always was.
 */
struct walk {
    const char *text, *p, *end;
    struct fts_stop *stop; /* the first reason the walk ends, once given */
};

/* Line and column of at, 1-based, counting characters as jansson does (UTF-8 lead bytes). */
static void walk_place(const struct walk *w, const char *at, int *line, int *column)
{
    int l = 1, c = 0;
    for (const char *q = w->text; q < at; q++) {
        if (*q == '\n') {
            l++;
            c = 0;
        } else if (((unsigned char)*q & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *column = c + 1;
}

static bool walk_stop(struct walk *w, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Ends the walk because the text at `at` is not JSON the walk reads. */
static bool walk_stop(struct walk *w, const char *at, const char *fmt, ...)
{
    if (w->stop->message[0] != '\0') return false;
    walk_place(w, at, &w->stop->line, &w->stop->column);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->stop->message, sizeof w->stop->message, fmt, ap);
    va_end(ap);
    return false;
}

/* A byte as a message shows it: itself when printable ASCII, else \xNN. */
static const char *shown(char c, char out[8])
{
    if (c > ' ' && c < 0x7f) snprintf(out, 8, "'%c'", c);
    else snprintf(out, 8, "\\x%02x", (unsigned char)c);
    return out;
}

static void walk_space(struct walk *w)
{
    while (w->p < w->end && (*w->p == ' ' || *w->p == '\t' || *w->p == '\n' || *w->p == '\r'))
        w->p++;
}

/* The punctuation c next; `expected` words what may come there, for the message. */
static bool walk_char(struct walk *w, char c, const char *expected)
{
    walk_space(w);
    if (w->p == w->end) return walk_stop(w, w->p, "not JSON: the text ends where %s", expected);
    if (*w->p != c) {
        char got[8];
        return walk_stop(w, w->p, "not JSON: %s where %s", shown(*w->p, got), expected);
    }
    w->p++;
    return true;
}

/* How deep a value nests: 1 for a scalar or an empty object or array. */
static size_t value_depth(const json_t *v)
{
    size_t deepest = 0, i;
    const char *key;
    const json_t *member;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, member) {
            size_t d = value_depth(member);
            if (d > deepest) deepest = d;
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, member) {
            size_t d = value_depth(member);
            if (d > deepest) deepest = d;
        }
    }
    return 1 + deepest;
}

/*
 * The next value, parsed, `above` levels deep in the page; NULL when it is
 * not JSON (a number beyond 64 bits included), or nests deeper in the page
 * than jansson reads a page whole: parsed alone, its depth starts again.
 */
static json_t *walk_value(struct walk *w, size_t above)
{
    json_error_t error;
    json_t *v = json_loadb(w->p, (size_t)(w->end - w->p), JSON_INPUT_FLAGS | JSON_DISABLE_EOF_CHECK,
                           &error);
    if (v == NULL && json_error_code(&error) == json_error_numeric_overflow) {
        /* Placed at the number's start, as a page read whole places it (json_parse_text). */
        size_t read = error.position > 0 ? (size_t)error.position : 0;
        const char *at = w->p + (read < (size_t)(w->end - w->p) ? read : (size_t)(w->end - w->p));
        while (at > w->p && strchr("0123456789+-.eE", at[-1]) != NULL && at[-1] != '\0') at--;
        walk_stop(w, at, "a number beyond 64 bits");
        return NULL;
    }
    if (v == NULL) {
        if (w->stop->message[0] == '\0') { /* the walk's first stop; it ends at it */
            walk_stop(w, w->p, "not JSON: %s", error.text);
            /* jansson's place, counted from where the value starts, made the text's. */
            if (error.line > 1) {
                w->stop->line += error.line - 1;
                w->stop->column = error.column;
            } else if (error.line == 1) {
                w->stop->column += error.column - 1;
            }
            if (w->stop->column < 1) w->stop->column = 1; /* jansson's 0: nothing read yet */
        }
        return NULL;
    }
    if (above + value_depth(v) > FTS_JSON_DEPTH_MAX) {
        json_decref(v);
        walk_stop(w, w->p, "not JSON: nested more than %d levels deep", FTS_JSON_DEPTH_MAX);
        return NULL;
    }
    w->p += error.position;
    return v;
}

/* The next member's key and its colon; NULL at a key that is not plain text. */
static json_t *walk_key(struct walk *w, size_t above)
{
    const char *at = w->p;
    json_t *key = walk_value(w, above);
    if (key == NULL) return NULL;
    /* A key holding \u0000 is refused whole (jansson takes no such key). */
    if (!json_is_string(key) || strlen(json_string_value(key)) != json_string_length(key)) {
        walk_stop(w, at, "not JSON: %s", json_is_string(key) ? "a key holding \\u0000"
                                                           : "an object's key must be a string");
        json_decref(key);
        return NULL;
    }
    if (!walk_char(w, ':', "':' was expected")) {
        json_decref(key);
        return NULL;
    }
    return key;
}

/* How much of a key a message shows: at most 64 bytes, never part of a character. */
static int key_shown(const char *name)
{
    size_t n = strlen(name);
    if (n <= 64) return (int)n;
    n = 64;
    while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80) n--; /* name[n] starts the next */
    return (int)n;
}

/* An object's or array's opening; *empty (its close consumed too) when it closes at once. */
static bool walk_open(struct walk *w, char open, char close, bool *empty)
{
    if (!walk_char(w, open, open == '{' ? "'{' was expected" : "'[' was expected")) return false;
    walk_space(w);
    *empty = w->p < w->end && *w->p == close;
    if (*empty) w->p++;
    return true;
}

/* After a member or an element: true at the comma before the next, false at close. */
static bool walk_next(struct walk *w, char close, bool *more)
{
    walk_space(w);
    if (w->p < w->end && *w->p == ',') {
        w->p++;
        *more = true;
        return true;
    }
    *more = false;
    return walk_char(w, close, close == '}' ? "',' or '}' was expected"
                                            : "',' or ']' was expected");
}

struct stream {
    struct reader r;
    void (*flow)(void *ctx, json_t *op);
    void *ctx;
    size_t flows;
};

/*
 * Where the page, its data or its flows open (`above` levels deep): a value
 * of another kind is a page that is not an FTS answer, as fts_read says it.
 * A scalar is parsed first, so that one that is not JSON is said to be so;
 * an object or array of the wrong kind is not, as its tree could be most of
 * the page.
 */
static bool walk_is(struct stream *st, struct walk *w, char open, size_t above)
{
    walk_space(w);
    if (w->p < w->end && *w->p == open) return true;
    if (w->p < w->end && (*w->p == '{' || *w->p == '['))
        return fail(&st->r, "not an FTS flow search answer: data.flows is missing");
    json_t *value = walk_value(w, above);
    if (value == NULL) return false; /* not JSON: said there */
    json_decref(value);
    return fail(&st->r, "not an FTS flow search answer: data.flows is missing");
}

/* data.flows: each flow read into its operation and handed over at once. */
static bool stream_flows(struct stream *st, struct walk *w)
{
    bool empty;
    if (!walk_is(st, w, '[', 2) || !walk_open(w, '[', ']', &empty)) return false;
    for (bool more = !empty; more;) {
        json_t *flow = walk_value(w, 3); /* in the page, in data, in flows */
        if (flow == NULL) return false;
        if (++st->flows > FTS_FLOWS_MAX) {
            json_decref(flow);
            st->r.where[0] = '\0';
            return fail(&st->r, "more than %d flows in one import", FTS_FLOWS_MAX);
        }
        snprintf(st->r.where, sizeof st->r.where, "data.flows[%zu]", st->flows - 1);
        json_t *op = flow_op(&st->r, flow);
        json_decref(flow);
        if (op == NULL) return false;
        st->flow(st->ctx, op);
        if (!walk_next(w, ']', &more)) return false;
    }
    st->r.where[0] = '\0';
    return true;
}

/*
 * An object's members into `into`, a key met twice ending the walk: the
 * page's (depth 0), and its data's the same way (depth 1), whose flows are
 * streamed, never kept.
 */
static bool walk_object(struct stream *st, struct walk *w, json_t *into, int depth, bool *flows)
{
    bool empty;
    if (!walk_is(st, w, '{', (size_t)depth) || !walk_open(w, '{', '}', &empty)) return false;
    for (bool more = !empty; more;) {
        const char *at = (walk_space(w), w->p);
        json_t *key = walk_key(w, (size_t)depth + 1);
        if (key == NULL) return false;
        const char *name = json_string_value(key);
        bool ok = json_object_get(into, name) == NULL;
        if (!ok) walk_stop(w, at, "not JSON: duplicate object key \"%.*s\"", key_shown(name), name);
        if (ok && depth == 0 && strcmp(name, "data") == 0) {
            json_t *data = json_object();
            ok = data != NULL && json_object_set_new(into, name, data) == 0 &&
                 walk_object(st, w, data, 1, flows);
        } else if (ok && depth == 1 && strcmp(name, "flows") == 0) {
            json_t *none = json_array(); /* page_read sees an array; the flows went by */
            ok = none != NULL && json_object_set_new(into, name, none) == 0 &&
                 stream_flows(st, w);
            *flows = ok;
        } else if (ok) {
            json_t *value = walk_value(w, (size_t)depth + 1);
            ok = value != NULL && json_object_set_new(into, name, value) == 0;
        }
        json_decref(key);
        if (!ok || !walk_next(w, '}', &more)) return false;
    }
    return true;
}

enum fts_stream fts_read_stream(const char *text, size_t length, struct fts_page *page,
                                void (*flow)(void *ctx, json_t *op), void *ctx,
                                struct fts_stop *stop)
{
    char message[FTS_MESSAGE_BYTES] = "";
    struct stream st = {.r = {.message = message, .size = sizeof message}, .flow = flow,
                        .ctx = ctx};
    memset(stop, 0, sizeof *stop);
    struct walk w = {.text = text, .p = text, .end = text + length, .stop = stop};
    /*
     * A NUL byte is no JSON, but jansson passes over one just after a number
     * and does not count it in where the value ends: such a text is read
     * whole, as it always was.
     */
    const char *nul = memchr(text, '\0', length);
    if (nul != NULL) {
        walk_stop(&w, nul, "not JSON: a NUL byte");
        return FTS_STREAM_WHOLE;
    }
    json_t *root = json_object();
    bool flows = false;
    bool ok = root != NULL && walk_object(&st, &w, root, 0, &flows);
    if (ok) {
        walk_space(&w);
        ok = w.p == w.end || walk_stop(&w, w.p, "not JSON: something after the page");
    }
    if (ok) {
        st.r.where[0] = '\0';
        ok = page_read(&st.r, root, page) && flows; /* page_read refuses a page without flows */
    }
    if (!ok && message[0] != '\0' && stop->message[0] == '\0') { /* the page's or a flow's fault */
        stop->line = stop->column = 0;
        snprintf(stop->message, sizeof stop->message, "%s", message);
    }
    json_decref(root);
    return ok ? FTS_STREAM_READ : FTS_STREAM_WHOLE;
}

/* ---------------------------------------------------------------- pages of an array */

/* text[i..) is a string: the index after its closing quote, 0 when it has none. */
static size_t string_end(const char *text, size_t length, size_t i)
{
    for (i++; i < length; i++) {
        if (text[i] == '"') return i + 1;
        if (text[i] == '\\') i++; /* whatever it escapes, a quote included */
    }
    return 0;
}

/* A byte of a number or a literal (true, false, null), or of a word that is neither. */
static bool scalar_byte(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '+' || c == '-' || c == '.';
}

/*
 * The end (index after its last byte) of the array's element starting at
 * text[i], found by its brackets and strings alone; 0 when it cannot be
 * found, or nests deeper than jansson reads (its depth counted from the
 * array, as when the array is parsed whole).
 */
static size_t element_end(const char *text, size_t length, size_t i)
{
    if (text[i] == '"') return string_end(text, length, i);
    if (text[i] != '{' && text[i] != '[') { /* a number or a literal: read as JSON later */
        while (i < length && scalar_byte(text[i])) i++;
        return i;
    }
    size_t depth = 1; /* the array's */
    for (; i < length; i++) {
        char c = text[i];
        /* jansson counts a value as a level too: in the deepest container, none may begin. */
        if (depth == FTS_JSON_DEPTH_MAX && c != '}' && c != ']' && c != ',' && c != ':' &&
            c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return 0;
        if (c == '"') {
            size_t after = string_end(text, length, i);
            if (after == 0) return 0;
            i = after - 1;
        } else if (c == '{' || c == '[') {
            if (++depth > FTS_JSON_DEPTH_MAX) return 0;
        } else if (c == '}' || c == ']') {
            if (--depth == 1) return i + 1;
        } else if (c == '\0') {
            return 0;
        }
    }
    return 0;
}

/* The index of the first byte from i on that is not JSON's whitespace. */
static size_t space_end(const char *text, size_t length, size_t i)
{
    while (i < length && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
        i++;
    return i;
}

bool fts_pages_split(const char *text, size_t length, struct fts_span *spans, size_t max,
                     size_t *count)
{
    size_t i = space_end(text, length, 0), n = 0;
    if (i == length || text[i] != '[') return false;
    for (;;) {
        i = space_end(text, length, i + 1); /* after '[' or ',' */
        if (i == length || n == max) return false;
        size_t end = element_end(text, length, i);
        if (end <= i) return false;
        spans[n++] = (struct fts_span){i, end - i};
        i = space_end(text, length, end);
        if (i == length) return false;
        if (text[i] == ']') break;
        if (text[i] != ',') return false;
    }
    if (space_end(text, length, i + 1) != length) return false; /* nothing after the array */
    *count = n;
    return true;
}
