/*
 * interop.c — OCHA FTS flow searches into the ledger (see interop.h).
 *
 * Every page is read before anything is recorded (fmt/fts.c), and the pages
 * are checked to be one answer: when FTS says how many flows the answer
 * holds (meta.count), the pages given must hold that many, so a missing page
 * is an error rather than a quiet shortfall. A flow repeated across pages
 * (FTS pages can overlap when the data changes between requests) is taken
 * once. A page is read a flow at a time (fts_read_stream), each flow decoded
 * into its `fts_flow` operation as soon as it is parsed; the page's tree is
 * built only to word the refusal of a page that cannot be read so. Each
 * operation's canonical JSON is kept apart (util/spill.h: in memory up to
 * FTS_TEXTS_HELD_BYTES, then in a temporary file), and beside it a short
 * entry per flow version (some 140 bytes), so that memory is the largest
 * page's text and the entries, whatever the number of pages. The flows then
 * go to the ledger oldest version first (app/domain_fts.c maps them), in
 * batches of FTS_BATCH_FLOWS that make one group: a failure records nothing.
 * The summary reads each flow's recorded version back from the store after
 * its batch.
 */
#include "app/interop.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "fmt/fts.h"
#include "fmt/json.h"
#include "util/arena.h"
#include "util/readall.h"
#include "util/spill.h"

/*
 * Flow versions per batch: memory holds one batch's steps, view and audit
 * event, whatever the number of flows.
 */
#define FTS_BATCH_FLOWS 5000
/*
 * The operations' canonical JSON kept in memory (some 40,000 flow versions):
 * the rest goes to a temporary file, so that memory does not grow with the
 * number of flows.
 */
#define FTS_TEXTS_HELD_BYTES ((size_t)64 << 20)

/*
 * A flow version read from a page, until its batch: its decoded operation
 * (an `fts_flow`, a domain operation: its id, its kind, and whether the
 * ledger will refuse it as invalid) and, in the spill, its canonical JSON.
 */
struct item {
    const char *flow;         /* "158080" (in the arena) */
    int64_t version;
    enum { IN, INTERNAL, OUT } boundary;
    bool single;              /* onBoundary "single": FTS counts it in its totals */
    bool meta;                /* the text is the operation's meta (false: too long for one) */
    uint32_t flags;           /* the operation's */
    const char *id, *kind, *invalid;
    struct spill_ref text;
    size_t page;              /* the input it came from */
};

struct items {
    struct item *v;
    size_t count, capacity;
    struct arena arena;       /* the items' strings */
    struct arena scratch;     /* a page's decoding, let go after it */
    struct spill texts;       /* the operations' canonical JSON */
};

static void items_free(struct items *it)
{
    free(it->v);
    arena_free(&it->arena);
    arena_free(&it->scratch);
    spill_free(&it->texts);
    memset(it, 0, sizeof *it);
}

/* An item's canonical JSON, read back into the arena; NULL (errno) when it cannot be. */
static char *item_text(struct items *items, const struct item *it, struct arena *arena)
{
    char *text = arena_alloc(arena, it->text.length + 1);
    if (text == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    if (!spill_get(&items->texts, it->text, text)) return NULL;
    text[it->text.length] = '\0';
    return text;
}

/* An item as the operation it was decoded into, its meta read back into the arena. */
static bool item_op(struct items *items, const struct item *it, struct arena *arena,
                    struct ledger_op *op)
{
    const char *text = it->meta ? item_text(items, it, arena) : NULL;
    if (it->meta && text == NULL) return false;
    *op = (struct ledger_op){.type = LEDGER_OP_DOMAIN, .flags = it->flags, .id = it->id,
                             .kind = it->kind, .invalid = it->invalid, .meta = text};
    return true;
}

/* The message of a spill that failed (errno): the disk, most likely. */
static enum cc_err spill_failed(struct cc_error *err)
{
    if (errno == ENOMEM) return cc_error_set(err, CC_ERR_NOMEM, "import fts: out of memory");
    return cc_error_set(err, CC_ERR_SYSTEM,
                        "import fts: cannot keep the flows in a temporary file: %s",
                        strerror(errno));
}

/* Orders flows by id then version, so the batches supersede in FTS's order. */
static int item_order(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    return fts_flow_compare(x->flow, x->version, y->flow, y->version);
}

/* The same, then by page: a version's repeats in the order the pages were given. */
static int item_sort(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    int c = item_order(a, b);
    return c != 0 ? c : (x->page > y->page) - (x->page < y->page);
}

/* A copy of s in the arena, or NULL for NULL; false when memory runs out. */
static bool copy_into(struct arena *arena, const char *s, const char **out)
{
    *out = s != NULL ? arena_strdup(arena, s) : NULL;
    return s == NULL || *out != NULL;
}

/*
 * Appends an operation of a page to it, decoded, its text spilled; CC_OK, or
 * why not (memory, or the temporary file).
 */
static enum cc_err item_add(struct items *it, const json_t *op, size_t page, struct cc_error *err)
{
    if (it->count == it->capacity) {
        size_t capacity = it->capacity ? 2 * it->capacity : 1024;
        struct item *v = realloc(it->v, capacity * sizeof *v);
        if (v == NULL) return cc_error_set(err, CC_ERR_NOMEM, "import fts: out of memory");
        it->v = v;
        it->capacity = capacity;
    }
    struct item *item = &it->v[it->count];
    const char *boundary = json_string_value(json_object_get(op, "boundary"));
    const char *on_boundary = json_string_value(json_object_get(op, "on_boundary"));
    item->version = json_integer_value(json_object_get(op, "version"));
    item->boundary = strcmp(boundary, "incoming") == 0   ? IN
                     : strcmp(boundary, "outgoing") == 0 ? OUT
                                                         : INTERNAL;
    item->single = strcmp(on_boundary, "single") == 0;
    item->page = page;
    struct ledger_op decoded;
    if (!json_decode_op(op, &decoded, &it->scratch))
        return cc_error_set(err, CC_ERR_NOMEM, "import fts: out of memory");
    /* fmt/fts.c makes fts_flow operations: item_op gives back no other kind. */
    assert(decoded.type == LEDGER_OP_DOMAIN);
    item->meta = decoded.meta != NULL;
    item->flags = decoded.flags;
    const char *flow = json_string_value(json_object_get(op, "flow"));
    if (flow == NULL || !copy_into(&it->arena, flow, &item->flow) ||
        !copy_into(&it->arena, decoded.id, &item->id) ||
        !copy_into(&it->arena, decoded.kind, &item->kind) ||
        !copy_into(&it->arena, decoded.invalid, &item->invalid))
        return cc_error_set(err, CC_ERR_NOMEM, "import fts: out of memory");
    /* Too long to be meta: refused by the ledger later, but still compared with repeats. */
    char *dumped = decoded.meta == NULL ? json_dumps(op, JSON_COMPACT | JSON_SORT_KEYS |
                                                             JSON_ENCODE_ANY)
                                        : NULL;
    const char *text = decoded.meta != NULL ? decoded.meta : dumped;
    if (text == NULL) return cc_error_set(err, CC_ERR_NOMEM, "import fts: out of memory");
    bool kept = spill_put(&it->texts, text, strlen(text), &item->text);
    free(dumped);
    if (!kept) return spill_failed(err);
    it->count++;
    arena_reset(&it->scratch); /* the decoded strings that count are copied */
    return CC_OK;
}

/* A page's operations, read whole, appended to it (item_add). */
static enum cc_err items_add(struct items *it, const json_t *ops, size_t page,
                             struct cc_error *err)
{
    size_t i;
    const json_t *op;
    enum cc_err rc = CC_OK;
    json_array_foreach(ops, i, op) {
        rc = item_add(it, op, page, err);
        if (rc != CC_OK) break;
    }
    return rc;
}

/*
 * Where a page's streamed flows go (fts_read_stream). Past the import's
 * limit, or once keeping a flow failed (memory, the temporary file), the
 * rest of the page is still read but not kept: a page wrong in itself is
 * then read whole, and its refusal is the one it always was.
 */
struct page_sink {
    struct items *items;
    size_t page;
    struct cc_error *err;
    enum cc_err rc; /* why a flow could not be kept */
    bool over;      /* past FTS_FLOWS_MAX */
};

static void page_sink_flow(void *ctx, json_t *op)
{
    struct page_sink *sink = ctx;
    if (sink->rc == CC_OK && !sink->over) {
        sink->over = sink->items->count >= FTS_FLOWS_MAX;
        if (!sink->over) sink->rc = item_add(sink->items, op, sink->page, sink->err);
    }
    json_decref(op);
}

/* A page's text from its file, or its path (opened only now: one file open at a time). */
static char *page_text(const struct interop_input *in, size_t *length, struct cc_error *err)
{
    assert(in->file != NULL || in->path != NULL);
    FILE *file = in->file != NULL ? in->file : fopen(in->path, "rb");
    if (file == NULL) {
        bool system = errno == EMFILE || errno == ENFILE || errno == ENOMEM;
        cc_error_set(err, system ? CC_ERR_SYSTEM : CC_ERR_USAGE, "%s: cannot open: %s", in->name,
                     strerror(errno));
        return NULL;
    }
    char *text = NULL;
    enum read_all_status got = read_all(file, FTS_FILE_BYTES_MAX, &text, length);
    int read_errno = errno;
    if (file != in->file) fclose(file);
    switch (got) {
    case READ_ALL_OK: return text;
    case READ_ALL_TOO_LARGE:
        cc_error_set(err, CC_ERR_INPUT, "%s: larger than a page may be (%u bytes)", in->name,
                     FTS_FILE_BYTES_MAX);
        break;
    case READ_ALL_IO_ERROR:
        cc_error_set(err, CC_ERR_SYSTEM, "%s: cannot read: %s", in->name, strerror(read_errno));
        break;
    case READ_ALL_NO_MEMORY: cc_error_set(err, CC_ERR_NOMEM, "%s: out of memory", in->name); break;
    }
    return NULL;
}

/* A page's text parsed whole; NULL, with err, when it is not JSON. */
static json_t *page_parse(const struct interop_input *in, const char *text, size_t length,
                          struct cc_error *err)
{
    json_error_t jerr;
    struct json_place too_big = {0, 0};
    json_t *root = json_parse_text(text, length, &jerr, &too_big, NULL);
    if (root == NULL && too_big.line != 0)
        cc_error_set(err, CC_ERR_INPUT, "%s:%d:%d: a number beyond 64 bits", in->name,
                     too_big.line, too_big.column);
    else if (root == NULL)
        cc_error_set(err, CC_ERR_INPUT, "%s:%d:%d: not JSON: %s", in->name, jerr.line,
                     jerr.column, jerr.text);
    return root;
}

/* rc, but memory that ran out reading a page is said of the page. */
static enum cc_err out_of_memory_in(const struct interop_input *in, enum cc_err rc,
                                    struct cc_error *err)
{
    if (rc != CC_ERR_NOMEM) return rc;
    return cc_error_set(err, CC_ERR_NOMEM, "%s: out of memory", in->name);
}

/*
 * A page too large to read whole, refused as the stream found it: what
 * stopped the stream, else (the page read, but its flows not kept) one flow
 * too many: a failure to keep them ends the import before this.
 */
static enum cc_err page_refused_large(const struct interop_input *in, enum fts_stream got,
                                      const struct fts_stop *stop, char *read,
                                      struct cc_error *err)
{
    free(read);
    if (got == FTS_STREAM_WHOLE && stop->message[0] == '\0') /* memory ran out, nothing else */
        return cc_error_set(err, CC_ERR_NOMEM, "%s: out of memory", in->name);
    if (got == FTS_STREAM_WHOLE && stop->line > 0)
        return cc_error_set(err, CC_ERR_INPUT, "%s:%d:%d: %s", in->name, stop->line,
                            stop->column, stop->message);
    if (got == FTS_STREAM_WHOLE)
        return cc_error_set(err, CC_ERR_INPUT, "%s: %s", in->name, stop->message);
    return cc_error_set(err, CC_ERR_INPUT, "%s: more than %d flows in one import", in->name,
                        FTS_FLOWS_MAX);
}

/*
 * A page's flows into items, page filled with its figures. From its text
 * (given, or read and let go) the flows are streamed (fts_read_stream: the
 * page's tree is never built); a text the stream does not read, and a page
 * the caller parsed, are read whole (fts_read), which words every refusal.
 */
static enum cc_err page_items(const struct interop_input *in, size_t index, struct items *items,
                              struct fts_page *page, struct cc_error *err)
{
    json_t *root = NULL;
    if (in->value != NULL) {
        root = json_incref((json_t *)in->value);
    } else {
        size_t length = in->length;
        char *read = in->text == NULL ? page_text(in, &length, err) : NULL;
        const char *text = in->text != NULL ? in->text : read;
        if (text == NULL) return err->code;
        struct page_sink sink = {.items = items, .page = index, .err = err, .rc = CC_OK};
        size_t before = items->count;
        struct fts_stop stop;
        enum fts_stream got = fts_read_stream(text, length, page, page_sink_flow, &sink, &stop);
        if (got == FTS_STREAM_READ && !sink.over) {
            free(read);
            return out_of_memory_in(in, sink.rc, err);
        }
        items->count = before; /* its texts stay in the spill, unnamed */
        if (!in->reread && length > FTS_REREAD_BYTES_MAX) /* a tree only to word it: too dear */
            return page_refused_large(in, got, &stop, read, err);
        root = page_parse(in, text, length, err);
        free(read);
        if (root == NULL) return err->code;
    }
    char message[FTS_MESSAGE_BYTES];
    json_t *ops = json_array();
    bool ok = ops != NULL && fts_read(root, ops, page, message, sizeof message);
    json_decref(root);
    if (!ok) {
        json_decref(ops);
        return cc_error_set(err, CC_ERR_INPUT, "%s: %s", in->name,
                            ops != NULL ? message : "out of memory");
    }
    if (items->count + json_array_size(ops) > FTS_FLOWS_MAX) {
        json_decref(ops);
        return cc_error_set(err, CC_ERR_INPUT, "%s: more than %d flows in one import", in->name,
                            FTS_FLOWS_MAX);
    }
    enum cc_err rc = items_add(items, ops, index, err);
    json_decref(ops);
    return out_of_memory_in(in, rc, err);
}

/* Reads every page into one sorted, de-duplicated list of flow versions. */
static enum cc_err read_pages(const struct interop_input *inputs, size_t count,
                              struct items *items, struct fts_page *first,
                              struct cc_error *err)
{
    int64_t expected = -1;
    const char *expected_from = NULL;
    memset(first, 0, sizeof *first);
    memset(items, 0, sizeof *items);
    arena_init(&items->arena);
    arena_init(&items->scratch);
    spill_init(&items->texts, FTS_TEXTS_HELD_BYTES);
    for (size_t i = 0; i < count; i++) {
        struct fts_page page;
        enum cc_err rc = page_items(&inputs[i], i, items, &page, err);
        if (rc != CC_OK) return rc;
        if (page.first) { /* every page repeats the search's totals: they must agree */
            if (first->first && (first->incoming_flows != page.incoming_flows ||
                                 first->incoming_funding != page.incoming_funding ||
                                 first->incoming_pledges != page.incoming_pledges))
                return cc_error_set(err, CC_ERR_INPUT,
                                    "%s: data.incoming differs from the other pages': one "
                                    "import takes the pages of one search",
                                    inputs[i].name);
            *first = page;
        }
        if (page.count >= 0) {
            if (expected >= 0 && page.count != expected)
                return cc_error_set(err, CC_ERR_INPUT,
                                    "%s: meta.count is %lld, %s's is %lld: the pages are not of "
                                    "one search",
                                    inputs[i].name, (long long)page.count, expected_from,
                                    (long long)expected);
            expected = page.count;
            expected_from = inputs[i].name;
        }
    }
    size_t n = items->count;
    if (n > 0) qsort(items->v, n, sizeof *items->v, item_sort);
    /* A version repeated across pages is taken once; its canonical JSON says if it is the same. */
    size_t kept = 0, flows = 0;
    for (size_t i = 0; i < n; i++) {
        struct item *it = &items->v[i];
        if (kept > 0 && item_order(&items->v[kept - 1], it) == 0) {
            const struct item *earlier = &items->v[kept - 1];
            const char *a = item_text(items, earlier, &items->scratch);
            const char *b = a != NULL ? item_text(items, it, &items->scratch) : NULL;
            if (b == NULL) return spill_failed(err);
            bool same = strcmp(a, b) == 0;
            arena_reset(&items->scratch);
            if (same) continue;
            const char *version = it->id != NULL ? it->id : it->flow;
            if (earlier->page == it->page)
                return cc_error_set(err, CC_ERR_INPUT,
                                    "flow version %s appears twice in %s, with different contents",
                                    version, inputs[it->page].name);
            return cc_error_set(err, CC_ERR_INPUT,
                                "flow version %s appears twice with different contents, in %s "
                                "and %s",
                                version, inputs[earlier->page].name, inputs[it->page].name);
        }
        if (kept == 0 || strcmp(items->v[kept - 1].flow, it->flow) != 0) flows++;
        items->v[kept++] = *it;
    }
    items->count = kept;
    if (expected >= 0 && (int64_t)flows != expected)
        return cc_error_set(err, CC_ERR_INPUT,
                            "meta.count says the search found %lld flows; the %zu page%s given "
                            "hold%s %zu: give every page of the answer (meta.nextLink)",
                            (long long)expected, count, count == 1 ? "" : "s",
                            count == 1 ? "s" : "", flows);
    return CC_OK;
}

/* One transfer's figures. */
struct money {
    int64_t amount;
    uint8_t state;
    char kind[16];
};

/*
 * The newest recorded version of a flow and the record that holds its money
 * (fmt/fts.h: FTS's own, else the table's unless FTS's replaced it).
 */
struct recorded {
    const char *prefix;
    struct fts_held held;
    struct money flow, table; /* of the newest version's records */
    bool money;               /* after the scan: `kept` holds the flow's money */
    struct money kept;
};

static int recorded_fn(void *ctx, const struct ledger_transfer *t)
{
    struct recorded *r = ctx;
    int64_t k;
    enum fts_record kind;
    if (!fts_record_of(t->id, r->prefix, &k, &kind)) return 0;
    fts_held_add(&r->held, k, kind);
    if (k != r->held.latest || (kind != FTS_RECORD_FLOW && kind != FTS_RECORD_TABLE)) return 0;
    struct money *m = kind == FTS_RECORD_FLOW ? &r->flow : &r->table;
    m->amount = t->amount;
    m->state = t->state;
    snprintf(m->kind, sizeof m->kind, "%s", t->kind != NULL ? t->kind : "");
    return 0;
}

/* After the scan: which record, if any, holds the money. */
static void recorded_settle(struct recorded *r)
{
    r->money = r->held.flow || (r->held.table && !r->held.table_undone);
    if (r->money) r->kept = r->held.flow ? r->flow : r->table;
}

/* Dollars as JSON: an integer when whole (as FTS gives its totals), else a decimal. */
static json_t *usd(__int128 cents)
{
    if (cents % 100 == 0) return json_integer((json_int_t)(cents / 100));
    return json_real((double)cents / 100.0);
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

struct tally {
    size_t flows;
    __int128 funding, pledges; /* cents */
};

/* The summary's figures, added to batch by batch. */
struct fts_tally {
    struct tally in, internal, out;
    size_t flows, created, superseded, stale, zero;
    json_t *rejected;
};

/*
 * Items [start, end) of the import, just committed with results (their
 * messages live until the next batch). A flow counts once, at its last
 * version in the files, from what the ledger then holds of it.
 */
static enum cc_err tally_batch(struct concord *cc, struct fts_tally *t, const struct items *items,
                               size_t start, size_t end, const struct ledger_result *results,
                               struct cc_error *err)
{
    for (size_t i = start; i < end; i++) {
        const struct item *item = &items->v[i];
        const struct ledger_result *r = &results[i - start];
        if (!ledger_status_ok(r->status)) {
            json_array_append_new(t->rejected,
                                  json_pack("{s:s,s:s,s:s?}", "id", item->id, "status",
                                            ledger_status_name(r->status), "message",
                                            r->message));
            continue;
        }
        if (r->records != NULL && r->records[0] != '\0') {
            /* The transfers this operation created: the version, and any correction. */
            for (const char *p = r->records; *p;) {
                size_t n = strcspn(p, " ");
                if (ends_with(p, n, FTS_SUPERSEDES) || ends_with(p, n, FTS_TABLE_SUPERSEDED))
                    t->superseded++;
                else if (n > 0)
                    t->created++;
                p += n + (p[n] == ' ');
            }
        }
        /* Figures per flow, not per version: only a flow's last version in the files counts. */
        if (i + 1 < items->count && strcmp(items->v[i + 1].flow, item->flow) == 0) continue;
        t->flows++;
        char prefix[64];
        snprintf(prefix, sizeof prefix, "fts.%s.v", item->flow);
        struct recorded rec = {.prefix = prefix};
        enum cc_err rc = cc->store->driver->transfers_id_prefix(cc->store, prefix, recorded_fn,
                                                                 &rec, err);
        if (rc != CC_OK) return rc;
        recorded_settle(&rec);
        if (rec.held.latest > item->version) t->stale++;
        struct tally *side = item->boundary == IN ? &t->in : item->boundary == OUT ? &t->out
                                                                                    : &t->internal;
        side->flows++;
        /* The newest version moved nothing (0 USD): it may have undone an older one. */
        if (!rec.money) {
            t->zero++;
            continue;
        }
        if (!item->single) continue; /* FTS counts a flow shared across the boundary in no total */
        if (rec.kept.state == LEDGER_STATE_PENDING && strcmp(rec.kept.kind, "pledge") == 0)
            side->pledges += rec.kept.amount;
        else if (rec.kept.state == LEDGER_STATE_POSTED &&
                 (strcmp(rec.kept.kind, "commitment") == 0 || strcmp(rec.kept.kind, "paid") == 0))
            side->funding += rec.kept.amount;
    }
    return CC_OK;
}

static json_t *tally_summary(struct fts_tally *t, const struct fts_page *first)
{
    json_t *s = json_pack(
        "{s:I,s:{s:I,s:o,s:o},s:{s:I},s:{s:I,s:o},s:{s:I,s:I},s:I,s:I,s:O}", "flows",
        (json_int_t)t->flows, "incoming", "flows", (json_int_t)t->in.flows, "funding_usd",
        usd(t->in.funding), "pledges_usd", usd(t->in.pledges), "internal", "flows",
        (json_int_t)t->internal.flows, "outgoing", "flows", (json_int_t)t->out.flows,
        "funding_usd", usd(t->out.funding), "transfers", "created", (json_int_t)t->created,
        "superseded", (json_int_t)t->superseded, "stale", (json_int_t)t->stale, "zero_usd",
        (json_int_t)t->zero, "rejected", t->rejected);
    if (s != NULL && first->first)
        json_object_set_new(s, "reported_by_fts",
                            json_pack("{s:{s:I,s:I,s:I}}", "incoming", "flows",
                                      (json_int_t)first->incoming_flows, "funding_usd",
                                      (json_int_t)first->incoming_funding, "pledges_usd",
                                      (json_int_t)first->incoming_pledges));
    return s;
}

/*
 * Whether the ledger needs USD made: imported funding is recorded in cents,
 * so a USD of another scale refuses the import.
 */
static enum cc_err usd_missing(struct concord *cc, bool *missing, struct cc_error *err)
{
    struct ledger_unit unit;
    char unit_name[LEDGER_NAME_BYTES_MAX + 1];
    struct cc_error uerr = {0};
    enum cc_err rc = concord_unit_get(cc, "USD", &unit, unit_name, sizeof unit_name, &uerr);
    *missing = rc == CC_ERR_NOT_FOUND;
    if (rc != CC_OK && !*missing) {
        *err = uerr;
        return rc;
    }
    if (!*missing && unit.scale != 2)
        return cc_error_set(err, CC_ERR_INPUT,
                            "the ledger's USD has scale %d; imported funding is recorded in "
                            "cents (scale 2)",
                            unit.scale);
    return CC_OK;
}

static const struct ledger_op usd_op = {.type = LEDGER_OP_UNIT, .id = "USD", .name = "US dollar",
                                        .scale = 2, .flags = LEDGER_OP_HAS_SCALE};

enum cc_err interop_commit_usd(struct concord *cc, const json_t *ops, const char *key,
                               size_t start, size_t end, struct interop_batch *b,
                               struct cc_error *err)
{
    assert(start <= end && end <= json_array_size(ops));
    memset(b, 0, sizeof *b);
    arena_init(&b->arena);
    bool make_usd;
    enum cc_err rc = usd_missing(cc, &make_usd, err);
    if (rc != CC_OK) return rc;
    b->offset = make_usd ? 1 : 0;
    b->count = end - start + b->offset;
    b->ops = calloc(b->count ? b->count : 1, sizeof *b->ops);
    b->results = calloc(b->count ? b->count : 1, sizeof *b->results);
    if (b->ops == NULL || b->results == NULL)
        return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    if (make_usd) b->ops[0] = usd_op;
    for (size_t i = b->offset; i < b->count; i++) {
        const json_t *op = json_array_get(ops, start + i - b->offset);
        if (key != NULL) op = json_object_get(op, key);
        if (!json_decode_op(op, &b->ops[i], &b->arena))
            return cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    }
    return concord_apply(cc, b->ops, b->count, b->results, err);
}

void interop_batch_free(struct interop_batch *b)
{
    arena_free(&b->arena);
    free(b->ops);
    free(b->results);
    memset(b, 0, sizeof *b);
}

/*
 * The items in batches of FTS_BATCH_FLOWS, USD first when the ledger has none,
 * tallied. A batch's texts are read back into the scratch arena, let go when
 * the next batch starts (after its tally, whose messages may name them).
 */
static enum cc_err commit_items(struct concord *cc, struct items *items, struct fts_tally *t,
                                struct cc_error *err)
{
    bool make_usd;
    enum cc_err rc = usd_missing(cc, &make_usd, err);
    if (rc != CC_OK) return rc;
    struct ledger_op *ops = calloc(FTS_BATCH_FLOWS + 1, sizeof *ops);
    struct ledger_result *results = calloc(FTS_BATCH_FLOWS + 1, sizeof *results);
    if (ops == NULL || results == NULL) rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    for (size_t start = 0; rc == CC_OK && start < items->count; start += FTS_BATCH_FLOWS) {
        size_t end = start + FTS_BATCH_FLOWS < items->count ? start + FTS_BATCH_FLOWS
                                                            : items->count;
        size_t k = 0;
        if (make_usd) ops[k++] = usd_op;
        arena_reset(&items->scratch);
        for (size_t i = start; rc == CC_OK && i < end; i++)
            if (!item_op(items, &items->v[i], &items->scratch, &ops[k++])) rc = spill_failed(err);
        if (rc == CC_OK) rc = concord_apply(cc, ops, k, results, err);
        if (rc == CC_OK) rc = tally_batch(cc, t, items, start, end, results + (make_usd ? 1 : 0),
                                          err);
        make_usd = false;
    }
    free(ops);
    free(results);
    return rc;
}

enum cc_err concord_import_fts(struct concord *cc, const struct interop_input *inputs,
                               size_t count, bool dry_run, json_t **summary,
                               struct cc_error *err)
{
    *summary = NULL;
    if (count == 0) return cc_error_set(err, CC_ERR_USAGE, "import fts: no file given");
    struct items items;
    struct fts_page first;
    enum cc_err rc = read_pages(inputs, count, &items, &first, err);
    struct fts_tally tally = {.rejected = json_array()};
    if (rc == CC_OK && tally.rejected == NULL) rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    /* The batches are one group: the import is recorded whole, or not at all. */
    bool group = false;
    if (rc == CC_OK) rc = concord_group_begin(cc, err);
    group = rc == CC_OK;
    if (rc == CC_OK) rc = commit_items(cc, &items, &tally, err);
    if (rc == CC_OK && !dry_run) rc = concord_group_commit(cc, err);
    else if (group) concord_group_rollback(cc);
    if (rc == CC_OK) {
        *summary = tally_summary(&tally, &first);
        if (*summary == NULL) rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
        else if (dry_run) json_object_set_new(*summary, "dry_run", json_true());
    }
    json_decref(tally.rejected);
    items_free(&items);
    return rc;
}
