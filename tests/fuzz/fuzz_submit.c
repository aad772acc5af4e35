/*
 * fuzz_submit.c — the whole ledger path: concord_submit on a real database.
 *
 * The input is a batch as a program or the HTTP server would submit it.
 * Every input starts from the same database, so that a crash replays from
 * its input alone: LLVMFuzzerInitialize makes a temporary directory (in
 * $CONCORD_FUZZ_TMPDIR, else /dev/shm when there is one — a tmpfs, so
 * commits cost no disk flush),
 * builds there a template ledger out of the examples (units, accounts,
 * conditions, a requirement, a rate, pending transfers conditional or not,
 * one of them due to expire) and keeps its bytes; each input then writes
 * those bytes back to a working file, opens it, submits, verifies, closes.
 * The clock is fixed too (one millisecond per reading from a set instant),
 * so expiry and timestamps do not depend on when the fuzzer runs.
 *
 * Checks: concord_submit answers a JSON array of one result per operation
 * with status 0 or 1, or NULL with status 2 (input refused) and a message;
 * status 3 (storage failed) on a healthy tmpfs means the engine and the
 * store disagree, and is a finding. Status 1 exactly when an operation did
 * not hold; linked chains hold or fail whole; created rows are stamped in
 * strictly increasing order after everything before the batch, rejected ones
 * are not stamped. After every batch concord_verify must find every
 * invariant of the stored ledger intact.
 */
#include <concord.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "app/app.h" /* concord_set_clock: the public API has no clock to fix */
#include "fmt/json.h"
#include "fuzz.h"
#include "util/timefmt.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 2026-11-01T00:00:00Z: the template is written then, the fuzzed batches a day later. */
#define CLOCK_TEMPLATE_NS INT64_C(1793491200000000000)
#define CLOCK_BATCH_NS (CLOCK_TEMPLATE_NS + INT64_C(86400000000000))
#define CLOCK_TICK_NS INT64_C(1000000)

static const char template_batch[] =
    "["
    "{\"op\":\"unit\",\"code\":\"USD\",\"scale\":2,\"name\":\"US dollar\"},"
    "{\"op\":\"unit\",\"code\":\"EUR\",\"scale\":2},"
    "{\"op\":\"unit\",\"code\":\"PERSON\",\"scale\":0},"
    "{\"op\":\"account\",\"id\":\"fund.pool\",\"unit\":\"USD\",\"name\":\"Pooled fund\","
    "\"owner\":\"fund\",\"flags\":[\"debits_must_not_exceed_credits\"]},"
    "{\"op\":\"account\",\"id\":\"fund.reserve\",\"unit\":\"USD\"},"
    "{\"op\":\"account\",\"id\":\"donor.norway\",\"unit\":\"USD\",\"owner\":\"norway\"},"
    "{\"op\":\"account\",\"id\":\"donor.japan\",\"unit\":\"USD\",\"owner\":\"japan\"},"
    "{\"op\":\"account\",\"id\":\"force.salaries\",\"unit\":\"USD\",\"owner\":\"force\"},"
    "{\"op\":\"account\",\"id\":\"eu.commission\",\"unit\":\"EUR\"},"
    "{\"op\":\"account\",\"id\":\"eg.army\",\"unit\":\"PERSON\","
    "\"flags\":[\"credits_must_not_exceed_debits\"]},"
    "{\"op\":\"account\",\"id\":\"force.pledged\",\"unit\":\"PERSON\"},"
    "{\"op\":\"condition\",\"name\":\"two_state\",\"title\":\"Two-state commitment\","
    "\"probability\":0.35},"
    "{\"op\":\"condition\",\"name\":\"ceasefire\",\"probability\":0.7,\"authority\":\"council\"},"
    "{\"op\":\"condition\",\"name\":\"all_clear\",\"when\":\"two_state & ceasefire\"},"
    "{\"op\":\"requirement\",\"id\":\"salaries\",\"title\":\"Force salaries\","
    "\"account\":\"fund.\",\"measure\":\"credits\",\"target\":12000000000,"
    "\"due\":\"2027-12-31\",\"unit\":\"USD\"},"
    "{\"op\":\"requirement\",\"id\":\"troops\",\"account\":\"force.pledged\","
    "\"measure\":\"balance\",\"target\":500},"
    "{\"op\":\"rate\",\"unit\":\"EUR\",\"to\":\"USD\",\"rate\":\"1.0843\","
    "\"date\":\"2026-10-01\"},"
    "{\"op\":\"transfer\",\"id\":\"c-jp\",\"debit\":\"donor.japan\",\"credit\":\"fund.pool\","
    "\"amount\":2500000000,\"kind\":\"contribution\",\"date\":\"2026-10-10\"},"
    "{\"op\":\"transfer\",\"id\":\"p-no\",\"debit\":\"donor.norway\",\"credit\":\"fund.pool\","
    "\"amount\":5000000000,\"kind\":\"pledge\",\"pending\":true,\"date\":\"2026-10-02\"},"
    "{\"op\":\"transfer\",\"id\":\"p-us\",\"debit\":\"donor.japan\",\"credit\":\"fund.reserve\","
    "\"amount\":700,\"pending\":true,\"if\":\"two_state\",\"kind\":\"pledge\"},"
    "{\"op\":\"transfer\",\"id\":\"p-eg\",\"debit\":\"eg.army\",\"credit\":\"force.pledged\","
    "\"amount\":300,\"pending\":true,\"if\":\"ceasefire | two_state\"},"
    "{\"op\":\"transfer\",\"id\":\"p-soon\",\"debit\":\"donor.norway\",\"credit\":\"fund.pool\","
    "\"amount\":90,\"pending\":true,\"expires\":\"2026-11-01T12:00:00Z\"},"
    "{\"op\":\"transfer\",\"id\":\"pay-1\",\"debit\":\"fund.pool\","
    "\"credit\":\"force.salaries\",\"amount\":1200,\"linked\":true},"
    "{\"op\":\"transfer\",\"id\":\"pay-2\",\"debit\":\"fund.pool\","
    "\"credit\":\"force.salaries\",\"amount\":1300}"
    "]";

/* Where the working database lives, and the template's bytes. Set once, then read only. */
static struct {
    char dir[256];
    char path[300];
    char *template_bytes;
    size_t template_size;
    uint64_t after_empty_batch; /* state_hash of the template after the batch [] */
} fuzz_db;

static int64_t fixed_clock(void *ctx)
{
    int64_t *now = ctx;
    *now += CLOCK_TICK_NS;
    return *now;
}

static void remove_working_files(void)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char name[320];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(name, sizeof name, "%s%s", fuzz_db.path, suffixes[i]);
        unlink(name);
    }
}

static void cleanup(void)
{
    remove_working_files();
    rmdir(fuzz_db.dir);
}

static char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    FUZZ_CHECK(f != NULL, "cannot open %s", path);
    FUZZ_CHECK(fseek(f, 0, SEEK_END) == 0, "cannot seek %s", path);
    long n = ftell(f);
    FUZZ_CHECK(n > 0, "%s is empty", path);
    rewind(f);
    char *bytes = malloc((size_t)n);
    FUZZ_CHECK(bytes != NULL && fread(bytes, 1, (size_t)n, f) == (size_t)n, "cannot read %s",
               path);
    fclose(f);
    *size = (size_t)n;
    return bytes;
}

static uint64_t mix(uint64_t h, const void *bytes, size_t n)
{
    const unsigned char *b = bytes;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * UINT64_C(0x100000001b3); /* FNV-1a */
    return h;
}

/*
 * One table's rows, as a sum of row hashes: the same rows in any order give
 * the same sum. meta's timestamp_last is left out: a stamp taken by an
 * operation of a chain that was then rolled back stays taken (a gap in the
 * sequence of stamps, as TigerBeetle leaves for failed events), so it may
 * move in a batch where nothing held, once anything else is written.
 */
static uint64_t table_hash(sqlite3 *db, const char *table, bool log_counted)
{
    char sql[160];
    /* With log_counted, of the audit log only how many events and checkpoints (state_hash). */
    bool log = log_counted && (strcmp(table, "events") == 0 || strcmp(table, "checkpoints") == 0);
    snprintf(sql, sizeof sql, log ? "SELECT count(*) FROM \"%s\"" : "SELECT * FROM \"%s\"",
             table);
    sqlite3_stmt *stmt;
    FUZZ_CHECK(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK, "%s: %s", sql,
               sqlite3_errmsg(db));
    uint64_t sum = 0;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        /* (Only meta's key is read as text: a conversion would change column_type below.) */
        const char *key = strcmp(table, "meta") == 0
                              ? (const char *)sqlite3_column_text(stmt, 0) : NULL;
        if (key != NULL && strcmp(key, "timestamp_last") == 0) continue;
        uint64_t h = mix(UINT64_C(0xcbf29ce484222325), table, strlen(table));
        for (int c = 0; c < sqlite3_column_count(stmt); c++) {
            int type = sqlite3_column_type(stmt, c);
            const void *bytes = sqlite3_column_blob(stmt, c);
            h = mix(h, &type, sizeof type);
            h = mix(h, bytes, (size_t)sqlite3_column_bytes(stmt, c));
        }
        sum += h;
    }
    FUZZ_CHECK(rc == SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_finalize(stmt);
    return sum;
}

/*
 * Everything the database holds, as one number (read beside concord's own
 * connection). With log_counted, the audit log's events and checkpoints
 * count by number only: a batch in which nothing held still has its event
 * written when it expired what was due, and that event records the batch as
 * it was tried (its ops and results, for replay), so its body is not the
 * empty batch's; it must add no event of its own.
 */
static uint64_t state_hash(bool log_counted)
{
    sqlite3 *db;
    FUZZ_CHECK(sqlite3_open_v2(fuzz_db.path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK,
               "cannot read %s", fuzz_db.path);
    sqlite3_stmt *tables;
    FUZZ_CHECK(sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE type = 'table' "
                                      "ORDER BY name", -1, &tables, NULL) == SQLITE_OK,
               "%s", sqlite3_errmsg(db));
    uint64_t h = 0;
    while (sqlite3_step(tables) == SQLITE_ROW)
        h = h * 31 + table_hash(db, (const char *)sqlite3_column_text(tables, 0), log_counted);
    sqlite3_finalize(tables);
    sqlite3_close(db);
    return h;
}

static void restore_template(void)
{
    remove_working_files();
    int fd = open(fuzz_db.path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FUZZ_CHECK(fd >= 0, "cannot create %s", fuzz_db.path);
    ssize_t written = write(fd, fuzz_db.template_bytes, fuzz_db.template_size);
    FUZZ_CHECK(written == (ssize_t)fuzz_db.template_size, "short write to %s", fuzz_db.path);
    close(fd);
}

/* Opens the working database on the fixed clock, which *now must outlive. */
static struct concord *connect_at(int64_t *now, bool create)
{
    char error[256];
    struct concord *cc = concord_connect(fuzz_db.path, create, error, sizeof error);
    FUZZ_CHECK(cc != NULL, "%s", error);
    concord_set_clock(cc, fixed_clock, now);
    return cc;
}

/* Commits a batch that must hold whole. */
static void submit_all(struct concord *cc, const char *batch)
{
    char error[256];
    int status;
    char *out = concord_submit(cc, batch, strlen(batch), &status, error, sizeof error);
    FUZZ_CHECK(out != NULL && status == 0, "%s refused (%d): %s", batch, status,
               out != NULL ? out : error);
    free(out);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* tests/fuzz/run names a directory it removes afterwards, even when a crash skips atexit. */
    struct stat st;
    const char *base = getenv("CONCORD_FUZZ_TMPDIR");
    if (base == NULL)
        base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
    snprintf(fuzz_db.dir, sizeof fuzz_db.dir, "%s/concord-fuzz-XXXXXX", base);
    FUZZ_CHECK(mkdtemp(fuzz_db.dir) != NULL, "cannot make a directory in %s", base);
    snprintf(fuzz_db.path, sizeof fuzz_db.path, "%s/ledger.db", fuzz_db.dir);
    atexit(cleanup);

    int64_t now = CLOCK_TEMPLATE_NS;
    struct concord *cc = connect_at(&now, true);
    submit_all(cc, template_batch);
    concord_disconnect(cc); /* checkpoints the WAL: the main file alone holds the ledger */
    fuzz_db.template_bytes = read_file(fuzz_db.path, &fuzz_db.template_size);

    /* What a batch in which nothing holds leaves: the template with what was due expired. */
    restore_template();
    now = CLOCK_BATCH_NS;
    cc = connect_at(&now, false);
    submit_all(cc, "[]");
    concord_disconnect(cc);
    fuzz_db.after_empty_batch = state_hash(true);
    return 0;
}

static bool status_ok(const char *status)
{
    return strcmp(status, "created") == 0 || strcmp(status, "exists") == 0 ||
           strcmp(status, "resolved") == 0;
}

static const char *status_of(const json_t *results, size_t index)
{
    return json_string_value(json_object_get(json_array_get(results, index), "status"));
}

/* Do any of the results hold (or only those that create or resolve, with `changing`)? */
static bool any_holds(const json_t *results, bool changing)
{
    for (size_t i = 0; i < json_array_size(results); i++) {
        const char *status = status_of(results, i);
        if (changing ? strcmp(status, "exists") != 0 && status_ok(status) : status_ok(status))
            return true;
    }
    return false;
}

/*
 * A linked chain (ops[i..end], every one but the last linked) holds or fails
 * whole: when one op fails the others say linked_event_failed, and a chain
 * the batch leaves open fails with linked_event_chain_open at its end.
 */
static void check_chains(const json_t *input, const json_t *results)
{
    size_t count = json_array_size(input);
    for (size_t i = 0; i < count;) {
        size_t end = i;
        while (end < count && json_is_true(json_object_get(json_array_get(input, end), "linked")))
            end++;
        size_t last = end < count ? end : count - 1;
        size_t ok = 0, linked_failed = 0;
        for (size_t k = i; k <= last; k++) {
            ok += status_ok(status_of(results, k));
            linked_failed += strcmp(status_of(results, k), "linked_event_failed") == 0;
        }
        size_t length = last - i + 1;
        FUZZ_CHECK(ok == 0 || ok == length, "chain %zu…%zu: %zu of %zu ops hold", i, last, ok,
                   length);
        if (end == count)
            FUZZ_CHECK(linked_failed == length - 1, "open chain %zu…%zu: %zu linked failures", i,
                       last, linked_failed);
        else if (ok == 0 && length > 1)
            FUZZ_CHECK(linked_failed == length - 1, "chain %zu…%zu failed with %zu linked "
                       "failures", i, last, linked_failed);
        i = last + 1;
    }
}

/*
 * An answer is one result per value of the input array, in order; status 1
 * exactly when one of them did not hold; created rows have timestamps, later
 * than `after` and strictly increasing; rejected ones have none. Returns the
 * results, which the caller releases.
 */
static json_t *check_answer(const json_t *input, const char *out, int status, int64_t after)
{
    json_error_t error;
    json_t *results = json_loads(out, 0, &error);
    FUZZ_CHECK(json_is_array(results), "answer is not a JSON array: %s", out);
    FUZZ_CHECK(json_array_size(results) == json_array_size(input), "%zu results for %zu ops",
               json_array_size(results), json_array_size(input));
    size_t i;
    json_t *result;
    bool all_ok = true;
    int64_t created_last = after;
    json_array_foreach(results, i, result) {
        json_int_t index = json_integer_value(json_object_get(result, "index"));
        FUZZ_CHECK(index == (json_int_t)i, "result %zu has index %lld", i, (long long)index);
        const char *result_status = status_of(results, i);
        FUZZ_CHECK(result_status != NULL, "result %zu without status", i);
        all_ok = all_ok && status_ok(result_status);
        const char *timestamp = json_string_value(json_object_get(result, "timestamp"));
        FUZZ_CHECK((timestamp != NULL) == status_ok(result_status), "result %zu: %s with%s a "
                   "timestamp", i, result_status, timestamp != NULL ? "" : "out");
        if (strcmp(result_status, "created") != 0) continue;
        int64_t ns;
        bool date_only;
        FUZZ_CHECK(time_parse(timestamp, &ns, &date_only), "timestamp %s", timestamp);
        FUZZ_CHECK(ns > created_last, "result %zu created at %s, not after the last", i,
                   timestamp);
        created_last = ns;
    }
    FUZZ_CHECK(status == (all_ok ? 0 : 1), "status %d, all ops held: %d", status, all_ok);
    check_chains(input, results);
    return results;
}

/*
 * Submits data, checks the answer and the stored ledger. Returns the results
 * (the caller releases them), or NULL when the batch was refused whole.
 */
static json_t *submit_checked(struct concord *cc, const uint8_t *data, size_t size,
                              int64_t after)
{
    char error[512] = "";
    int status = -1;
    char *out = concord_submit(cc, (const char *)data, size, &status, error, sizeof error);
    json_t *results = NULL;
    if (out != NULL) {
        FUZZ_CHECK(status == 0 || status == 1, "answer with status %d", status);
        json_error_t json_error;
        json_t *input = json_loadb((const char *)data, size, JSON_INPUT_FLAGS, &json_error);
        FUZZ_CHECK(json_is_array(input), "answered a batch that is not an array");
        results = check_answer(input, out, status, after);
        json_decref(input);
        free(out);
    } else {
        FUZZ_CHECK(status == 2, "no answer, status %d: %s", status, error);
        FUZZ_CHECK(error[0] != '\0', "refused without a message");
    }
    int verified = concord_verify(cc, error, sizeof error);
    FUZZ_CHECK(verified == 0, "ledger broken after the batch (%d): %s", verified, error);
    return results;
}

/*
 * The same batch again, as a client retrying after a lost answer would: what
 * was created now exists, what was resolved is already resolved (or, either
 * way, fails with its chain when another member now fails), and nothing is
 * applied twice.
 */
static void check_replay(const json_t *first, const json_t *second)
{
    for (size_t i = 0; i < json_array_size(first); i++) {
        const char *was = status_of(first, i), *now = status_of(second, i);
        bool chain = strcmp(now, "linked_event_failed") == 0;
        if (strcmp(was, "created") == 0 || strcmp(was, "exists") == 0)
            FUZZ_CHECK(strcmp(now, "exists") == 0 || chain, "op %zu %s, then %s", i, was, now);
        else if (strcmp(was, "resolved") == 0)
            FUZZ_CHECK(strcmp(now, "condition_already_resolved") == 0 || chain,
                       "op %zu resolved, then %s", i, now);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    restore_template();
    int64_t now = CLOCK_BATCH_NS;
    struct concord *cc = connect_at(&now, false);
    json_t *first = submit_checked(cc, data, size, CLOCK_BATCH_NS);
    if (first == NULL) { /* refused: never began */
        concord_disconnect(cc);
        return 0;
    }
    uint64_t after_first = state_hash(false);
    /* Operations that did not hold leave no trace, however far they got before failing. */
    if (!any_holds(first, false))
        FUZZ_CHECK(state_hash(true) == fuzz_db.after_empty_batch,
                   "a batch in which nothing held changed the database");
    json_t *second = submit_checked(cc, data, size, now);
    check_replay(first, second);
    if (!any_holds(second, true))
        FUZZ_CHECK(state_hash(false) == after_first, "a replay that created and resolved nothing "
                   "changed the database");
    json_decref(second);
    json_decref(first);
    concord_disconnect(cc);
    return 0;
}
