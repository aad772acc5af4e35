/*
 * test_ledger.c — unit tests of the double-entry engine (src/ledger/).
 *
 * Each test builds a `struct ledger_view` by hand, as app/ would after
 * loading rows from a store: units USD (scale 2) and KG (scale 0), accounts
 * a, b, c (USD) and k1, k2 (KG), all with zero balances and row flags 0
 * (stored, unchanged), and the ledger's last timestamp just below NOW. Tests
 * add the rows they need (funded balances, pending transfers), run
 * ledger_execute() or ledger_expire(), and assert what a caller can observe:
 * the status and timestamp of each result, the balances, the rows the view
 * marks LEDGER_ROW_NEW / LEDGER_ROW_DIRTY, and the fields of created rows
 * (state, reason, effect_posted, effect_pending, date).
 *
 * Every status the engine can return today is reached at least once; after
 * most tests the double-entry invariants are checked with
 * ledger_check_accounts(), which is itself tested at the end.
 */
#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ledger/ledger.h"
#include "util/utf8.h"

/* The commit time of the batches, and the ledger's last timestamp before them. */
#define NOW INT64_C(1800000000000000000) /* 2027-01-15T08:00:00Z */
#define LAST (NOW - 1000)
#define DAY INT64_C(86400000000000)

/* ---------------------------------------------------------------- assertions */

#define assert_status(result, expected)                                                  \
    assert_string_equal(ledger_status_name((result).status), ledger_status_name(expected))

/* A rejection: the status, no timestamp. */
#define assert_rejected(result, expected)                                                \
    do {                                                                                 \
        assert_status(result, expected);                                                 \
        assert_int_equal((result).timestamp, 0);                                         \
    } while (0)

#define assert_balances(view, id, dp, dpo, cp, cpo)                                      \
    check_balances(view, id, dp, dpo, cp, cpo, __FILE__, __LINE__)

static void check_balances(const struct ledger_view *view, const char *id, int64_t dp,
                           int64_t dpo, int64_t cp, int64_t cpo, const char *file, int line)
{
    const struct ledger_account *a = ledger_view_account(view, id);
    if (a == NULL) {
        print_error("account %s is not in the view\n", id);
        _fail(file, line);
        return;
    }
    if (a->debits_pending != dp || a->debits_posted != dpo || a->credits_pending != cp ||
        a->credits_posted != cpo) {
        print_error("account %s: balances (dp %lld, dpo %lld, cp %lld, cpo %lld), "
                    "expected (%lld, %lld, %lld, %lld)\n",
                    id, (long long)a->debits_pending, (long long)a->debits_posted,
                    (long long)a->credits_pending, (long long)a->credits_posted, (long long)dp,
                    (long long)dpo, (long long)cp, (long long)cpo);
        _fail(file, line);
    }
}

/* The double-entry invariants over every account in the view. */
#define assert_sound(view) check_sound(view, __FILE__, __LINE__)

static void check_sound(const struct ledger_view *view, const char *file, int line)
{
    char message[256] = "";
    if (!ledger_check_accounts(view->accounts, view->accounts_count, message, sizeof message)) {
        print_error("ledger_check_accounts: %s\n", message);
        _fail(file, line);
    }
    if (!ledger_check_view(view, message, sizeof message)) {
        print_error("ledger_check_view: %s\n", message);
        _fail(file, line);
    }
}

static uint8_t account_row(const struct ledger_view *view, const char *id)
{
    const struct ledger_account *a = ledger_view_account(view, id);
    assert_non_null(a);
    return a->row;
}

static const struct ledger_transfer *transfer(const struct ledger_view *view, const char *id)
{
    const struct ledger_transfer *t = ledger_view_transfer(view, id);
    if (t == NULL) fail_msg("transfer %s is not in the view", id);
    return t;
}

/* Timestamps of the accepted results are strictly increasing and after LAST. */
static void assert_timestamps_increasing(const struct ledger_result *results, size_t count)
{
    int64_t previous = LAST;
    for (size_t i = 0; i < count; i++) {
        if (results[i].status != LEDGER_CREATED) continue;
        if (results[i].timestamp <= previous)
            fail_msg("result %zu: timestamp %lld not after %lld", i,
                     (long long)results[i].timestamp, (long long)previous);
        previous = results[i].timestamp;
    }
}

/* ---------------------------------------------------------------- loading rows */

static void load_unit(struct ledger_view *view, const char *code, int32_t scale)
{
    struct ledger_unit u = {.code = code, .scale = scale, .timestamp = view->units_count + 1};
    assert_true(ledger_view_add_unit(view, &u));
}

static void load_account(struct ledger_view *view, const char *id, const char *unit,
                         uint32_t flags)
{
    struct ledger_account a = {
        .id = id, .unit = unit, .flags = flags, .seq = view->accounts_count + 1,
        .timestamp = 100 + view->accounts_count,
    };
    assert_true(ledger_view_add_account(view, &a));
}

/* Records an account's present balances as the ones it was loaded with. */
static void mark_loaded(struct ledger_view *view, const struct ledger_account *a)
{
    int64_t *loaded = view->accounts_loaded[a - view->accounts];
    loaded[0] = a->debits_pending;
    loaded[1] = a->debits_posted;
    loaded[2] = a->credits_pending;
    loaded[3] = a->credits_posted;
}

/* Posted balances from earlier batches: debit's debits and credit's credits. */
static void load_funds(struct ledger_view *view, const char *debit, const char *credit,
                       int64_t amount)
{
    struct ledger_account *dr = ledger_view_account(view, debit);
    struct ledger_account *cr = ledger_view_account(view, credit);
    assert_non_null(dr);
    assert_non_null(cr);
    dr->debits_posted += amount;
    cr->credits_posted += amount;
    mark_loaded(view, dr);
    mark_loaded(view, cr);
}

/* A stored pending transfer and the amounts it reserves; expires 0: none. */
static void load_pending(struct ledger_view *view, const char *id, const char *debit,
                         const char *credit, int64_t amount, int64_t expires)
{
    struct ledger_account *dr = ledger_view_account(view, debit);
    struct ledger_account *cr = ledger_view_account(view, credit);
    assert_non_null(dr);
    assert_non_null(cr);
    dr->debits_pending += amount;
    cr->credits_pending += amount;
    mark_loaded(view, dr);
    mark_loaded(view, cr);
    struct ledger_transfer t = {
        .seq = view->transfers_count + 1, .id = id, .debit = debit, .credit = credit,
        .unit = dr->unit, .amount = amount, .effect_pending = amount,
        .expires = expires, .date = LAST - 10, .timestamp = LAST - 10,
        .flags = LEDGER_TRANSFER_PENDING | (expires != 0 ? LEDGER_TRANSFER_EXPIRES : 0u),
        .state = LEDGER_STATE_PENDING,
    };
    assert_true(ledger_view_add_transfer(view, &t));
}

/* A stored single-phase transfer (its balances are the caller's business). */
static void load_posted(struct ledger_view *view, const char *id, const char *debit,
                        const char *credit, int64_t amount)
{
    struct ledger_transfer t = {
        .seq = view->transfers_count + 1, .id = id, .debit = debit, .credit = credit,
        .unit = "USD", .amount = amount, .effect_posted = amount, .date = LAST - 20,
        .timestamp = LAST - 20, .state = LEDGER_STATE_POSTED,
    };
    assert_true(ledger_view_add_transfer(view, &t));
    load_funds(view, debit, credit, amount);
}

static int view_setup(void **state)
{
    struct ledger_view *view = malloc(sizeof *view);
    if (view == NULL) return -1;
    ledger_view_init(view);
    load_unit(view, "USD", 2);
    load_unit(view, "KG", 0);
    load_account(view, "a", "USD", 0);
    load_account(view, "b", "USD", 0);
    load_account(view, "c", "USD", 0);
    load_account(view, "k1", "KG", 0);
    load_account(view, "k2", "KG", 0);
    view->timestamp_last = LAST;
    *state = view;
    return 0;
}

static int view_teardown(void **state)
{
    struct ledger_view *view = *state;
    ledger_view_free(view);
    free(view);
    return 0;
}

/* ---------------------------------------------------------------- operations */

static struct ledger_op op_unit(const char *code, int32_t scale)
{
    return (struct ledger_op){
        .type = LEDGER_OP_UNIT, .id = code, .scale = scale, .flags = LEDGER_OP_HAS_SCALE};
}

static struct ledger_op op_account(const char *id, const char *unit)
{
    return (struct ledger_op){.type = LEDGER_OP_ACCOUNT, .id = id, .unit = unit};
}

static struct ledger_op op_transfer(const char *id, const char *debit, const char *credit,
                                    int64_t amount)
{
    return (struct ledger_op){.type = LEDGER_OP_TRANSFER, .id = id, .debit = debit,
                              .credit = credit, .amount = amount,
                              .flags = LEDGER_OP_HAS_AMOUNT};
}

static struct ledger_op op_pending(const char *id, const char *debit, const char *credit,
                                   int64_t amount)
{
    struct ledger_op op = op_transfer(id, debit, credit, amount);
    op.flags |= LEDGER_OP_PENDING;
    return op;
}

static struct ledger_op op_post(const char *id, const char *pending_id)
{
    return (struct ledger_op){.type = LEDGER_OP_POST, .id = id, .pending_id = pending_id};
}

static struct ledger_op op_post_amount(const char *id, const char *pending_id, int64_t amount)
{
    struct ledger_op op = op_post(id, pending_id);
    op.amount = amount;
    op.flags |= LEDGER_OP_HAS_AMOUNT;
    return op;
}

static struct ledger_op op_void(const char *id, const char *pending_id)
{
    return (struct ledger_op){.type = LEDGER_OP_VOID, .id = id, .pending_id = pending_id};
}

static struct ledger_op linked(struct ledger_op op)
{
    op.flags |= LEDGER_OP_LINKED;
    return op;
}

static struct ledger_result run1_at(struct ledger_view *view, struct ledger_op op, int64_t now)
{
    struct ledger_result r;
    memset(&r, 0xab, sizeof r);
    assert_true(ledger_execute(view, &op, 1, now, &r));
    return r;
}

static struct ledger_result run1(struct ledger_view *view, struct ledger_op op)
{
    return run1_at(view, op, NOW);
}

#define RUN(view, ops, results)                                                           \
    do {                                                                                  \
        _Static_assert(sizeof(ops) / sizeof(ops)[0] == sizeof(results) / sizeof(results)[0], \
                       "one result per operation");                                       \
        assert_true(ledger_execute(view, ops, sizeof(ops) / sizeof(ops)[0], NOW, results)); \
    } while (0)

/* A string of n copies of c, for the length limits. */
static char *filled(size_t n, char c)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* ---------------------------------------------------------------- names */

static void status_names_match_the_contract(void **state)
{
    (void)state;
    static const struct {
        enum ledger_status status;
        const char *name;
    } names[] = {
        {LEDGER_CREATED, "created"},
        {LEDGER_EXISTS, "exists"},
        {LEDGER_RESOLVED, "resolved"},
        {LEDGER_EXISTS_WITH_DIFFERENT_FIELDS, "exists_with_different_fields"},
        {LEDGER_INVALID, "invalid"},
        {LEDGER_UNIT_NOT_FOUND, "unit_not_found"},
        {LEDGER_DEBIT_ACCOUNT_NOT_FOUND, "debit_account_not_found"},
        {LEDGER_CREDIT_ACCOUNT_NOT_FOUND, "credit_account_not_found"},
        {LEDGER_ACCOUNTS_MUST_BE_DIFFERENT, "accounts_must_be_different"},
        {LEDGER_ACCOUNTS_MUST_HAVE_THE_SAME_UNIT, "accounts_must_have_the_same_unit"},
        {LEDGER_AMOUNT_MUST_NOT_BE_ZERO, "amount_must_not_be_zero"},
        {LEDGER_EXCEEDS_CREDITS, "exceeds_credits"},
        {LEDGER_EXCEEDS_DEBITS, "exceeds_debits"},
        {LEDGER_OVERFLOWS, "overflows"},
        {LEDGER_PENDING_TRANSFER_NOT_FOUND, "pending_transfer_not_found"},
        {LEDGER_PENDING_TRANSFER_NOT_PENDING, "pending_transfer_not_pending"},
        {LEDGER_PENDING_TRANSFER_ALREADY_POSTED, "pending_transfer_already_posted"},
        {LEDGER_PENDING_TRANSFER_ALREADY_VOIDED, "pending_transfer_already_voided"},
        {LEDGER_PENDING_TRANSFER_EXPIRED, "pending_transfer_expired"},
        {LEDGER_EXCEEDS_PENDING_TRANSFER_AMOUNT, "exceeds_pending_transfer_amount"},
        {LEDGER_CONDITION_NOT_FOUND, "condition_not_found"},
        {LEDGER_CONDITION_REQUIRES_PENDING, "condition_requires_pending"},
        {LEDGER_CONDITION_ALREADY_RESOLVED, "condition_already_resolved"},
        {LEDGER_LINKED_EVENT_FAILED, "linked_event_failed"},
        {LEDGER_LINKED_EVENT_CHAIN_OPEN, "linked_event_chain_open"},
        {LEDGER_FORBIDDEN, "forbidden"},
        {LEDGER_APPROVAL_REQUIRED, "approval_required"},
        {LEDGER_APPROVAL_ALREADY_GIVEN, "approval_already_given"},
    };
    assert_int_equal(sizeof names / sizeof names[0], LEDGER_STATUS_COUNT);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        assert_string_equal(ledger_status_name(names[i].status), names[i].name);
        bool ok = names[i].status == LEDGER_CREATED || names[i].status == LEDGER_EXISTS ||
                  names[i].status == LEDGER_RESOLVED;
        assert_int_equal(ledger_status_ok(names[i].status), ok);
    }
}

static void op_state_and_reason_names(void **state)
{
    (void)state;
    assert_string_equal(ledger_op_name(LEDGER_OP_UNIT), "unit");
    assert_string_equal(ledger_op_name(LEDGER_OP_ACCOUNT), "account");
    assert_string_equal(ledger_op_name(LEDGER_OP_TRANSFER), "transfer");
    assert_string_equal(ledger_op_name(LEDGER_OP_POST), "post");
    assert_string_equal(ledger_op_name(LEDGER_OP_VOID), "void");
    assert_string_equal(ledger_op_name(LEDGER_OP_CONDITION), "condition");
    assert_string_equal(ledger_op_name(LEDGER_OP_RESOLVE), "resolve");
    assert_string_equal(ledger_op_name(LEDGER_OP_REQUIREMENT), "requirement");
    assert_string_equal(ledger_op_name(LEDGER_OP_RATE), "rate");
    assert_null(ledger_op_name(LEDGER_OP_TYPE_COUNT));
    assert_string_equal(ledger_state_name(LEDGER_STATE_POSTED), "posted");
    assert_string_equal(ledger_state_name(LEDGER_STATE_PENDING), "pending");
    assert_string_equal(ledger_state_name(LEDGER_STATE_VOIDED), "voided");
    assert_string_equal(ledger_state_name(LEDGER_STATE_EXPIRED), "expired");
    assert_null(ledger_reason_name(LEDGER_REASON_NONE));
    assert_string_equal(ledger_reason_name(LEDGER_REASON_POST), "post");
    assert_string_equal(ledger_reason_name(LEDGER_REASON_VOID), "void");
    assert_string_equal(ledger_reason_name(LEDGER_REASON_EXPIRY), "expiry");
    assert_string_equal(ledger_reason_name(LEDGER_REASON_CONDITION), "condition");
}

static void identifier_validation(void **state)
{
    (void)state;
    assert_true(ledger_valid_unit_code("USD"));
    assert_true(ledger_valid_unit_code("X"));
    assert_true(ledger_valid_unit_code("T_2"));
    assert_true(ledger_valid_unit_code("ABCDEFGHIJKLMNOP")); /* 16 */
    assert_false(ledger_valid_unit_code("ABCDEFGHIJKLMNOPQ")); /* 17 */
    assert_false(ledger_valid_unit_code("usd"));
    assert_false(ledger_valid_unit_code("1USD"));
    assert_false(ledger_valid_unit_code("_USD"));
    assert_false(ledger_valid_unit_code("US-D"));
    assert_false(ledger_valid_unit_code(""));
    assert_false(ledger_valid_unit_code(NULL));

    char *id128 = filled(128, 'a'), *id129 = filled(129, 'a');
    assert_true(ledger_valid_account_id("fund.pool"));
    assert_true(ledger_valid_account_id("0-a_b.c"));
    assert_true(ledger_valid_account_id(id128));
    assert_false(ledger_valid_account_id(id129));
    assert_false(ledger_valid_account_id("Fund"));
    assert_false(ledger_valid_account_id(".a"));
    assert_false(ledger_valid_account_id("-a"));
    assert_false(ledger_valid_account_id("a b"));
    assert_false(ledger_valid_account_id(""));
    assert_false(ledger_valid_account_id(NULL));

    assert_true(ledger_valid_transfer_id("p-001"));
    assert_true(ledger_valid_transfer_id("~!A/b:c"));
    assert_true(ledger_valid_transfer_id(id128));
    assert_false(ledger_valid_transfer_id(id129));
    assert_false(ledger_valid_transfer_id("a b"));
    assert_false(ledger_valid_transfer_id("a\tb"));
    assert_false(ledger_valid_transfer_id("caf\xc3\xa9"));
    assert_false(ledger_valid_transfer_id(""));
    assert_false(ledger_valid_transfer_id(NULL));

    assert_true(ledger_reserved_transfer_id("p-1/expiry"));
    assert_true(ledger_reserved_transfer_id("p-1/condition"));
    assert_true(ledger_reserved_transfer_id("d-1/approval"));
    assert_true(ledger_reserved_transfer_id("/approval"));
    assert_false(ledger_reserved_transfer_id("d-1/approval/2"));
    assert_false(ledger_reserved_transfer_id("d-1.approval"));
    assert_false(ledger_reserved_transfer_id("approval"));
    assert_false(ledger_reserved_transfer_id(""));
    free(id128);
    free(id129);
}

/* ---------------------------------------------------------------- units */

static void unit_created_exists_and_different(void **state)
{
    struct ledger_view *view = *state;
    struct ledger_op eur = op_unit("EUR", 2);
    eur.name = "Euro";
    struct ledger_result r = run1(view, eur);
    assert_status(r, LEDGER_CREATED);
    assert_int_equal(r.timestamp, NOW); /* the ledger's clock was behind now */
    const struct ledger_unit *u = ledger_view_unit(view, "EUR");
    assert_non_null(u);
    assert_int_equal(u->row, LEDGER_ROW_NEW);
    assert_int_equal(u->scale, 2);
    assert_string_equal(u->name, "Euro");
    assert_int_equal(u->timestamp, NOW);
    assert_int_equal(view->units_count, 3);

    struct ledger_result again = run1(view, eur);
    assert_status(again, LEDGER_EXISTS);
    assert_int_equal(again.timestamp, NOW); /* the existing row's */

    struct ledger_op other_scale = eur;
    other_scale.scale = 3;
    assert_rejected(run1(view, other_scale), LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
    struct ledger_op other_name = eur;
    other_name.name = "Euros";
    assert_rejected(run1(view, other_name), LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
    struct ledger_op no_name = eur;
    no_name.name = NULL;
    assert_rejected(run1(view, no_name), LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);

    /* A stored unit: exists, with its stored timestamp, and stays unchanged. */
    r = run1(view, op_unit("USD", 2));
    assert_status(r, LEDGER_EXISTS);
    assert_int_equal(r.timestamp, 1);
    assert_int_equal(ledger_view_unit(view, "USD")->row, 0);
    assert_rejected(run1(view, op_unit("USD", 0)), LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
    assert_int_equal(view->units_count, 3);

    /* Limits are inclusive. */
    char *name256 = filled(LEDGER_NAME_BYTES_MAX, 'n');
    struct ledger_op longest = op_unit("ABCDEFGHIJKLMNOP", LEDGER_SCALE_MAX);
    longest.name = name256;
    assert_status(run1(view, longest), LEDGER_CREATED);
    assert_status(run1(view, op_unit("NONE", 0)), LEDGER_CREATED);
    free(name256);
}

static void unit_invalid(void **state)
{
    struct ledger_view *view = *state;
    char *name257 = filled(LEDGER_NAME_BYTES_MAX + 1, 'n');
    struct ledger_op cases[] = {
        op_unit("usd", 2), op_unit("", 2), op_unit(NULL, 2), op_unit("ABCDEFGHIJKLMNOPQ", 2),
        op_unit("A-B", 2), op_unit("EUR", -1), op_unit("EUR", LEDGER_SCALE_MAX + 1),
        op_unit("EUR", 2), op_unit("EUR", 2),
    };
    cases[7].flags &= ~LEDGER_OP_HAS_SCALE; /* scale missing */
    cases[8].name = name257;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ledger_result r = run1(view, cases[i]);
        assert_rejected(r, LEDGER_INVALID);
        assert_non_null(r.message);
    }
    assert_int_equal(view->units_count, 2);
    assert_null(ledger_view_unit(view, "EUR"));
    free(name257);
}

/* ---------------------------------------------------------------- accounts */

static void account_created_exists_and_different(void **state)
{
    struct ledger_view *view = *state;
    struct ledger_op pool = op_account("fund.pool", "USD");
    pool.name = "Pooled fund";
    pool.owner = "fund";
    pool.account_flags = LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS;
    struct ledger_result r = run1(view, pool);
    assert_status(r, LEDGER_CREATED);
    assert_int_equal(r.timestamp, NOW);
    const struct ledger_account *a = ledger_view_account(view, "fund.pool");
    assert_non_null(a);
    assert_int_equal(a->row, LEDGER_ROW_NEW);
    assert_string_equal(a->unit, "USD");
    assert_string_equal(a->name, "Pooled fund");
    assert_string_equal(a->owner, "fund");
    assert_int_equal(a->flags, LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    assert_int_equal(a->timestamp, NOW);
    assert_int_equal(a->seq, 0);
    assert_balances(view, "fund.pool", 0, 0, 0, 0);

    r = run1(view, pool);
    assert_status(r, LEDGER_EXISTS);
    assert_int_equal(r.timestamp, NOW);

    struct ledger_op variants[5];
    for (size_t i = 0; i < 5; i++) variants[i] = pool;
    variants[0].unit = "KG";
    variants[1].name = "Pool";
    variants[2].owner = NULL;
    variants[3].account_flags = 0;
    variants[4].account_flags = LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS;
    for (size_t i = 0; i < 5; i++) {
        r = run1(view, variants[i]);
        assert_rejected(r, LEDGER_EXISTS_WITH_DIFFERENT_FIELDS); /* a rejection: no timestamp */
    }

    /* A stored account. */
    r = run1(view, op_account("a", "USD"));
    assert_status(r, LEDGER_EXISTS);
    assert_int_equal(r.timestamp, 100);
    assert_int_equal(account_row(view, "a"), 0);
    assert_rejected(run1(view, op_account("a", "KG")), LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);

    /* The longest id is accepted. */
    char *id128 = filled(LEDGER_ID_BYTES_MAX, 'z');
    assert_status(run1(view, op_account(id128, "KG")), LEDGER_CREATED);
    free(id128);
    assert_int_equal(view->accounts_count, 7);
    assert_sound(view);
}

static void account_invalid_and_unit_not_found(void **state)
{
    struct ledger_view *view = *state;
    char *id129 = filled(LEDGER_ID_BYTES_MAX + 1, 'z');
    char *name257 = filled(LEDGER_NAME_BYTES_MAX + 1, 'n');
    struct ledger_op cases[] = {
        op_account("Upper", "USD"), op_account("", "USD"),    op_account(NULL, "USD"),
        op_account(".a", "USD"),    op_account(id129, "USD"), op_account("d", NULL),
        op_account("d", "usd"),     op_account("d", "USD"),   op_account("d", "USD"),
        op_account("d", "USD"),     op_account("d", "USD"),
    };
    cases[10].account_flags = 1u << 7; /* a flag no decoder produces */
    cases[7].account_flags = LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS |
                             LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS;
    cases[8].owner = "Not A Party";
    cases[9].name = name257;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ledger_result r = run1(view, cases[i]);
        assert_rejected(r, LEDGER_INVALID);
        assert_non_null(r.message);
    }
    /* Both flags: the message says they exclude each other. */
    struct ledger_result both = run1(view, cases[7]);
    assert_non_null(strstr(both.message, "exclude"));

    struct ledger_result r = run1(view, op_account("e", "EUR"));
    assert_rejected(r, LEDGER_UNIT_NOT_FOUND);
    assert_non_null(r.message);
    assert_non_null(strstr(r.message, "EUR"));
    assert_null(ledger_view_account(view, "e"));
    assert_null(ledger_view_account(view, "d"));
    assert_int_equal(view->accounts_count, 5);
    free(id129);
    free(name257);
}

/* ---------------------------------------------------------------- transfers */

static void transfer_single_phase(void **state)
{
    struct ledger_view *view = *state;
    struct ledger_op t2 = op_transfer("t2", "b", "c", 300);
    t2.flags |= LEDGER_OP_HAS_DATE;
    t2.date = NOW - 30 * DAY;
    t2.kind = "disbursement";
    t2.memo = "salaries";
    t2.meta = "{\"month\":1}";
    struct ledger_op ops[] = {op_transfer("t1", "a", "b", 1000), t2};
    struct ledger_result results[2];
    RUN(view, ops, results);
    assert_status(results[0], LEDGER_CREATED);
    assert_status(results[1], LEDGER_CREATED);
    assert_int_equal(results[0].timestamp, NOW);
    assert_int_equal(results[1].timestamp, NOW + 1);
    assert_null(results[0].message);
    assert_int_equal(view->timestamp_last, NOW + 1);

    const struct ledger_transfer *r1 = transfer(view, "t1");
    assert_int_equal(r1->row, LEDGER_ROW_NEW);
    assert_int_equal(r1->state, LEDGER_STATE_POSTED);
    assert_int_equal(r1->reason, LEDGER_REASON_NONE);
    assert_string_equal(r1->unit, "USD");
    assert_string_equal(r1->debit, "a");
    assert_string_equal(r1->credit, "b");
    assert_null(r1->pending_id);
    assert_int_equal(r1->amount, 1000);
    assert_int_equal(r1->effect_posted, 1000);
    assert_int_equal(r1->effect_pending, 0);
    assert_int_equal(r1->timestamp, NOW);
    assert_int_equal(r1->date, r1->timestamp); /* date defaults to the timestamp */
    assert_int_equal(r1->flags, 0);

    const struct ledger_transfer *r2 = transfer(view, "t2");
    assert_int_equal(r2->date, NOW - 30 * DAY);
    assert_int_equal(r2->flags, LEDGER_TRANSFER_HAS_DATE);
    assert_int_equal(r2->timestamp, NOW + 1);
    assert_string_equal(r2->kind, "disbursement");
    assert_string_equal(r2->memo, "salaries");
    assert_string_equal(r2->meta, "{\"month\":1}");
    assert_int_equal(r2->effect_posted, 300);

    assert_balances(view, "a", 0, 1000, 0, 0);
    assert_balances(view, "b", 0, 300, 0, 1000);
    assert_balances(view, "c", 0, 0, 0, 300);
    /* Stored accounts that changed are dirty, not new; untouched ones stay clean. */
    assert_int_equal(account_row(view, "a"), LEDGER_ROW_DIRTY);
    assert_int_equal(account_row(view, "b"), LEDGER_ROW_DIRTY);
    assert_int_equal(account_row(view, "c"), LEDGER_ROW_DIRTY);
    assert_int_equal(account_row(view, "k1"), 0);
    assert_sound(view);

    /* The largest amount fits fresh accounts. */
    assert_status(run1(view, op_transfer("max", "k1", "k2", INT64_MAX)), LEDGER_CREATED);
    assert_balances(view, "k2", 0, 0, 0, INT64_MAX);
    assert_sound(view);
}

static void timestamps_strictly_increase(void **state)
{
    struct ledger_view *view = *state;
    /* The ledger's clock is ahead of now (another node, a clock step back). */
    view->timestamp_last = NOW + 500;
    struct ledger_op ops[] = {
        op_unit("EUR", 2),
        op_account("e1", "EUR"),
        op_transfer("bad", "a", "a", 1),
        op_account("e2", "EUR"),
        op_transfer("t", "e1", "e2", 5),
        op_pending("p", "a", "b", 5),
        op_post("p.post", "p"),
    };
    struct ledger_result results[7];
    RUN(view, ops, results);
    assert_rejected(results[2], LEDGER_ACCOUNTS_MUST_BE_DIFFERENT);
    int64_t expected = NOW + 501;
    for (size_t i = 0; i < 7; i++) {
        if (i == 2) continue;
        assert_status(results[i], LEDGER_CREATED);
        assert_int_equal(results[i].timestamp, expected++);
    }
    assert_int_equal(view->timestamp_last, expected - 1);
    assert_int_equal(ledger_view_unit(view, "EUR")->timestamp, NOW + 501);
    assert_int_equal(ledger_view_account(view, "e2")->timestamp, NOW + 503);
    assert_int_equal(transfer(view, "p.post")->timestamp, NOW + 506);
    assert_int_equal(transfer(view, "p.post")->date, NOW + 506);

    /* A later batch continues from there, even with an earlier now. */
    struct ledger_result r = run1_at(view, op_transfer("later", "a", "b", 1), NOW - DAY);
    assert_int_equal(r.timestamp, NOW + 507);
    assert_sound(view);
}

static void transfer_pending_created(void **state)
{
    struct ledger_view *view = *state;
    struct ledger_op p = op_pending("p1", "a", "b", 500);
    p.flags |= LEDGER_OP_HAS_EXPIRES;
    p.expires = NOW + DAY;
    struct ledger_result r = run1(view, p);
    assert_status(r, LEDGER_CREATED);
    const struct ledger_transfer *t = transfer(view, "p1");
    assert_int_equal(t->row, LEDGER_ROW_NEW);
    assert_int_equal(t->state, LEDGER_STATE_PENDING);
    assert_int_equal(t->flags, LEDGER_TRANSFER_PENDING | LEDGER_TRANSFER_EXPIRES);
    assert_int_equal(t->expires, NOW + DAY);
    assert_int_equal(t->effect_pending, 500);
    assert_int_equal(t->effect_posted, 0);
    assert_int_equal(t->date, r.timestamp);
    assert_balances(view, "a", 500, 0, 0, 0);
    assert_balances(view, "b", 0, 0, 500, 0);
    assert_sound(view);
}

static void transfer_exists_and_different_fields(void **state)
{
    struct ledger_view *view = *state;
    load_posted(view, "old", "a", "c", 7);
    struct ledger_op t = op_transfer("t", "a", "b", 100);
    t.kind = "grant";
    t.memo = "m";
    t.meta = "{}";
    struct ledger_result first = run1(view, t);
    assert_status(first, LEDGER_CREATED);

    struct ledger_result r = run1(view, t);
    assert_status(r, LEDGER_EXISTS);
    assert_int_equal(r.timestamp, first.timestamp);
    struct ledger_op with_unit = t;
    with_unit.unit = "USD"; /* the optional unit check agrees */
    assert_status(run1(view, with_unit), LEDGER_EXISTS);

    struct ledger_op variants[11];
    for (size_t i = 0; i < 11; i++) variants[i] = t;
    variants[0].amount = 101;
    variants[1].debit = "c";
    variants[2].credit = "c";
    variants[3].memo = NULL;
    variants[4].kind = "loan";
    variants[5].meta = "{\"x\":1}";
    variants[6].flags |= LEDGER_OP_PENDING;
    variants[7].flags |= LEDGER_OP_HAS_DATE;
    variants[7].date = first.timestamp; /* even the same instant: date was not given */
    variants[8].unit = "KG";
    variants[9].kind = NULL;
    variants[10].debit = "nobody"; /* the key decides before the accounts are looked up */
    for (size_t i = 0; i < 11; i++) {
        r = run1(view, variants[i]);
        assert_rejected(r, LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
    }
    assert_balances(view, "a", 0, 107, 0, 0); /* applied once */

    /* A stored transfer. */
    r = run1(view, op_transfer("old", "a", "c", 7));
    assert_status(r, LEDGER_EXISTS);
    assert_int_equal(r.timestamp, LAST - 20);
    assert_int_equal(transfer(view, "old")->row, 0);

    /* Dates: given and equal, given and different, not given. */
    struct ledger_op dated = op_transfer("dated", "a", "b", 1);
    dated.flags |= LEDGER_OP_HAS_DATE;
    dated.date = NOW - DAY;
    assert_status(run1(view, dated), LEDGER_CREATED);
    assert_status(run1(view, dated), LEDGER_EXISTS);
    dated.date = NOW - 2 * DAY;
    assert_rejected(run1(view, dated), LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
    dated.flags &= ~LEDGER_OP_HAS_DATE;
    assert_rejected(run1(view, dated), LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);

    /* A pending transfer with expiry: exists even once the expiry has passed. */
    struct ledger_op p = op_pending("p", "a", "b", 5);
    p.flags |= LEDGER_OP_HAS_EXPIRES;
    p.expires = NOW + 10;
    assert_status(run1(view, p), LEDGER_CREATED);
    assert_status(run1_at(view, p, NOW + 100), LEDGER_EXISTS);
    p.expires = NOW + 11;
    assert_rejected(run1(view, p), LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
    p.flags &= ~LEDGER_OP_HAS_EXPIRES;
    assert_rejected(run1(view, p), LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);

    /* A resolution record's id, reused by a transfer. */
    assert_status(run1(view, op_void("p.void", "p")), LEDGER_CREATED);
    assert_rejected(run1(view, op_transfer("p.void", "a", "b", 5)),
                    LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
    assert_sound(view);
}

static void transfer_invalid(void **state)
{
    struct ledger_view *view = *state;
    char *id129 = filled(LEDGER_ID_BYTES_MAX + 1, 't');
    char *memo_long = filled(LEDGER_MEMO_BYTES_MAX + 1, 'm');
    char *meta_long = filled(LEDGER_META_BYTES_MAX + 1, ' ');
    char *kind_long = filled(LEDGER_KIND_BYTES_MAX + 1, 'k');
    char *cond_long = filled(LEDGER_EXPR_BYTES_MAX + 1, 'x');
    struct {
        struct ledger_op op;
        const char *message_part; /* in the message, when not NULL */
    } cases[] = {
        {op_transfer("", "a", "b", 1), "id"},
        {op_transfer(NULL, "a", "b", 1), "id"},
        {op_transfer("with space", "a", "b", 1), "id"},
        {op_transfer("tab\there", "a", "b", 1), "id"},
        {op_transfer("caf\xc3\xa9", "a", "b", 1), "id"},
        {op_transfer(id129, "a", "b", 1), "id"},
        {op_transfer("x/expiry", "a", "b", 1), "/expiry"},
        {op_transfer("memo", "a", "b", 1), "memo"},
        {op_transfer("meta", "a", "b", 1), "meta"},
        {op_transfer("negative", "a", "b", -1), "amount"},
        {op_transfer("no-amount", "a", "b", 1), "amount"},
        {op_transfer("no-debit", NULL, "b", 1), "debit"},
        {op_transfer("bad-debit", "A", "b", 1), "debit"},
        {op_transfer("no-credit", "a", NULL, 1), "credit"},
        {op_transfer("bad-credit", "a", "b b", 1), "credit"},
        {op_transfer("bad-unit", "a", "b", 1), "unit"},
        {op_transfer("empty-kind", "a", "b", 1), "kind"},
        {op_transfer("long-kind", "a", "b", 1), "kind"},
        {op_transfer("expires-not-pending", "a", "b", 1), "expires"},
        {op_pending("long-if", "a", "b", 1), "if"},
        {op_pending("expires-now", "a", "b", 1), "expires"},
        {op_pending("expires-past", "a", "b", 1), "expires"},
        {op_transfer("decoder", "a", "b", 1), "amount: expected an integer"},
    };
    cases[7].op.memo = memo_long;
    cases[8].op.meta = meta_long;
    cases[10].op.flags &= ~LEDGER_OP_HAS_AMOUNT;
    cases[15].op.unit = "usd";
    cases[16].op.kind = "";
    cases[17].op.kind = kind_long;
    cases[18].op.flags |= LEDGER_OP_HAS_EXPIRES;
    cases[18].op.expires = NOW + DAY;
    cases[19].op.cond = cond_long;
    cases[20].op.flags |= LEDGER_OP_HAS_EXPIRES;
    cases[20].op.expires = NOW;
    cases[21].op.flags |= LEDGER_OP_HAS_EXPIRES;
    cases[21].op.expires = NOW - DAY;
    cases[22].op.invalid = "amount: expected an integer";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ledger_result r = run1(view, cases[i].op);
        if (r.status != LEDGER_INVALID)
            fail_msg("case %zu: %s, expected invalid", i, ledger_status_name(r.status));
        assert_int_equal(r.timestamp, 0);
        assert_non_null(r.message);
        if (strstr(r.message, cases[i].message_part) == NULL)
            fail_msg("case %zu: message \"%s\" does not mention \"%s\"", i, r.message,
                     cases[i].message_part);
    }
    /* The decoder's message is passed through as it is. */
    assert_string_equal(run1(view, cases[22].op).message, "amount: expected an integer");
    assert_int_equal(view->transfers_count, 0);
    assert_balances(view, "a", 0, 0, 0, 0);
    assert_balances(view, "b", 0, 0, 0, 0);
    assert_int_equal(account_row(view, "a"), 0);

    /* The limits themselves are accepted. */
    struct ledger_op longest = op_transfer(id129 + 1, "a", "b", 1);
    longest.memo = memo_long + 1;
    longest.meta = meta_long + 1;
    longest.kind = kind_long + 1;
    assert_status(run1(view, longest), LEDGER_CREATED);
    free(id129);
    free(memo_long);
    free(meta_long);
    free(kind_long);
    free(cond_long);
}

static void decoder_invalid_for_every_op(void **state)
{
    struct ledger_view *view = *state;
    load_pending(view, "p", "a", "b", 10, 0);
    struct ledger_op ops[] = {
        op_unit("EUR", 2), op_account("d", "USD"), op_transfer("t", "a", "b", 1),
        op_post("p.post", "p"), op_void("p.void", "p"),
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        ops[i].invalid = "line 3: unexpected field \"colour\"";
        struct ledger_result r = run1(view, ops[i]);
        assert_rejected(r, LEDGER_INVALID);
        assert_string_equal(r.message, "line 3: unexpected field \"colour\"");
    }
    assert_int_equal(view->units_count, 2);
    assert_int_equal(view->accounts_count, 5);
    assert_int_equal(view->transfers_count, 1);
    assert_int_equal(transfer(view, "p")->state, LEDGER_STATE_PENDING);
}

static void transfer_rejections(void **state)
{
    struct ledger_view *view = *state;
    struct ledger_op explicit_eur = op_transfer("eur", "a", "b", 1);
    explicit_eur.unit = "EUR";
    struct ledger_op explicit_kg = op_transfer("kg", "a", "b", 1);
    explicit_kg.unit = "KG";
    struct ledger_op cond_posted = op_transfer("if-posted", "a", "b", 1);
    cond_posted.cond = "two_state";
    struct ledger_op cond_pending = op_pending("if-pending", "a", "b", 1);
    cond_pending.cond = "two_state & !war";
    struct {
        struct ledger_op op;
        enum ledger_status status;
        const char *message_part; /* NULL: no message expected to check */
    } cases[] = {
        {op_transfer("zero", "a", "b", 0), LEDGER_AMOUNT_MUST_NOT_BE_ZERO, NULL},
        {op_pending("zero-pending", "a", "b", 0), LEDGER_AMOUNT_MUST_NOT_BE_ZERO, NULL},
        {op_transfer("same", "a", "a", 1), LEDGER_ACCOUNTS_MUST_BE_DIFFERENT, NULL},
        {op_transfer("no-dr", "x", "b", 1), LEDGER_DEBIT_ACCOUNT_NOT_FOUND, "x"},
        {op_transfer("no-both", "x", "y", 1), LEDGER_DEBIT_ACCOUNT_NOT_FOUND, "x"},
        {op_transfer("no-cr", "a", "y", 1), LEDGER_CREDIT_ACCOUNT_NOT_FOUND, "y"},
        {explicit_eur, LEDGER_UNIT_NOT_FOUND, "EUR"},
        {op_transfer("mixed", "a", "k1", 1), LEDGER_ACCOUNTS_MUST_HAVE_THE_SAME_UNIT, NULL},
        {explicit_kg, LEDGER_ACCOUNTS_MUST_HAVE_THE_SAME_UNIT, NULL},
        {cond_posted, LEDGER_CONDITION_REQUIRES_PENDING, NULL},
        {cond_pending, LEDGER_CONDITION_NOT_FOUND, "two_state"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ledger_result r = run1(view, cases[i].op);
        if (r.status != cases[i].status)
            fail_msg("case %zu: %s, expected %s", i, ledger_status_name(r.status),
                     ledger_status_name(cases[i].status));
        assert_int_equal(r.timestamp, 0);
        if (cases[i].message_part != NULL) {
            assert_non_null(r.message);
            assert_non_null(strstr(r.message, cases[i].message_part));
        }
    }
    assert_int_equal(view->transfers_count, 0);
    for (uint32_t i = 0; i < view->accounts_count; i++) {
        assert_int_equal(view->accounts[i].row, 0);
        assert_int_equal(view->accounts[i].debits_posted + view->accounts[i].debits_pending +
                             view->accounts[i].credits_posted +
                             view->accounts[i].credits_pending,
                         0);
    }
}

/* Free text that is not UTF-8 (a command line can pass any bytes) is invalid, naming the field. */
static void free_text_must_be_utf8(void **state)
{
    struct ledger_view *view = *state;
    const char *bad = "caf\xe9"; /* Latin-1 é */
    struct ledger_op unit = op_unit("EUR", 2);
    unit.name = bad;
    struct ledger_op account = op_account("x", "USD");
    account.name = bad;
    struct ledger_op memo = op_transfer("memo", "a", "b", 1);
    memo.memo = bad;
    struct ledger_op kind = op_transfer("kind", "a", "b", 1);
    kind.kind = bad;
    struct ledger_op meta = op_transfer("meta", "a", "b", 1);
    meta.meta = "\"\xff\"";
    struct ledger_op cond = op_pending("cond", "a", "b", 1);
    cond.cond = bad;
    load_pending(view, "p", "a", "b", 10, 0);
    struct ledger_op post = op_post("p.post", "p");
    post.memo = bad;
    struct ledger_op void_ = op_void("p.void", "p");
    void_.kind = "\xed\xa0\x80"; /* a UTF-16 surrogate encoded: not UTF-8 */
    const struct {
        struct ledger_op op;
        const char *field;
    } cases[] = {
        {unit, "name"}, {account, "name"}, {memo, "memo"}, {kind, "kind"},
        {meta, "meta"}, {cond, "if"},      {post, "memo"}, {void_, "kind"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ledger_result r = run1(view, cases[i].op);
        assert_rejected(r, LEDGER_INVALID);
        assert_non_null(r.message);
        if (strncmp(r.message, cases[i].field, strlen(cases[i].field)) != 0 ||
            strstr(r.message, "UTF-8") == NULL)
            fail_msg("case %zu: message \"%s\" does not name %s", i, r.message, cases[i].field);
    }
    assert_int_equal(view->transfers_count, 1); /* only the pending loaded */
    assert_int_equal(view->units_count, 2);
    assert_int_equal(view->accounts_count, 5);
    /* Valid multi-byte text is accepted. */
    struct ledger_op fine = op_transfer("fine", "a", "b", 1);
    fine.memo = "caf\xc3\xa9 \xe2\x82\xac";
    assert_status(run1(view, fine), LEDGER_CREATED);
}

/*
 * Messages about a long field of non-ASCII text must stay UTF-8 (a message
 * cut inside a character could not be carried by JSON): an `if` of 1,001
 * bytes, "x" and 500 two-byte characters, and a bad one that quotes them.
 * (utf8_truncate itself is tested with the utilities.)
 */
static void messages_stay_utf8_when_cut(void **state)
{
    struct ledger_view *view = *state;
    char cond[1 + 500 * 2 + 1];
    cond[0] = 'x';
    for (int i = 0; i < 500; i++) memcpy(cond + 1 + 2 * i, "\xc3\xa9", 2);
    cond[sizeof cond - 1] = '\0';
    struct ledger_op op = op_pending("quoted", "a", "b", 1);
    op.cond = cond;
    struct ledger_result r = run1(view, op);
    assert_rejected(r, LEDGER_CONDITION_NOT_FOUND);
    assert_non_null(r.message);
    assert_non_null(strstr(r.message, "column 1"));
    assert_true(utf8_valid(r.message, strlen(r.message)));
    op.cond = cond + 1; /* starts inside no name: a syntax error quoting the text */
    r = run1(view, op);
    assert_rejected(r, LEDGER_INVALID);
    assert_non_null(r.message);
    assert_true(utf8_valid(r.message, strlen(r.message)));
}

/* ---------------------------------------------------------------- limits, overflow */

static void exceeds_credits_counts_pending(void **state)
{
    struct ledger_view *view = *state;
    load_account(view, "lim", "USD", LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    load_funds(view, "a", "lim", 100);
    struct ledger_op ops[] = {
        op_pending("p60", "lim", "b", 60),
        op_transfer("t50", "lim", "b", 50),  /* 60 pending + 50 > 100 */
        op_pending("p50", "lim", "b", 50),   /* pending counts the same */
        op_pending("in", "c", "lim", 1000),  /* credits pending do not help */
        op_transfer("t41", "lim", "b", 41),
        op_transfer("t40", "lim", "b", 40),  /* exactly up to the limit */
        op_transfer("t1", "lim", "b", 1),
        op_void("p60.void", "p60"),          /* releasing makes room again */
        op_transfer("t60", "lim", "b", 60),
        op_transfer("t1b", "lim", "b", 1),
    };
    struct ledger_result results[10];
    RUN(view, ops, results);
    enum ledger_status expected[] = {
        LEDGER_CREATED, LEDGER_EXCEEDS_CREDITS, LEDGER_EXCEEDS_CREDITS, LEDGER_CREATED,
        LEDGER_EXCEEDS_CREDITS, LEDGER_CREATED, LEDGER_EXCEEDS_CREDITS, LEDGER_CREATED,
        LEDGER_CREATED, LEDGER_EXCEEDS_CREDITS,
    };
    for (size_t i = 0; i < 10; i++) {
        assert_status(results[i], expected[i]);
        if (expected[i] != LEDGER_CREATED) assert_int_equal(results[i].timestamp, 0);
    }
    assert_timestamps_increasing(results, 10);
    assert_balances(view, "lim", 0, 100, 1000, 100);
    assert_sound(view);
}

static void exceeds_debits_counts_pending(void **state)
{
    struct ledger_view *view = *state;
    load_account(view, "cap", "USD", LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS);
    load_account(view, "lim", "USD", LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    load_funds(view, "cap", "a", 100);
    struct ledger_op ops[] = {
        op_pending("p70", "b", "cap", 70),
        op_transfer("t31", "b", "cap", 31),
        op_pending("p31", "b", "cap", 31),
        op_pending("out", "cap", "c", 1000), /* debits pending do not help */
        op_transfer("t30", "b", "cap", 30),
        op_transfer("t1", "b", "cap", 1),
        op_transfer("both", "lim", "cap", 1), /* both limits broken: the debit's first */
    };
    struct ledger_result results[7];
    RUN(view, ops, results);
    assert_status(results[0], LEDGER_CREATED);
    assert_rejected(results[1], LEDGER_EXCEEDS_DEBITS);
    assert_rejected(results[2], LEDGER_EXCEEDS_DEBITS);
    assert_status(results[3], LEDGER_CREATED);
    assert_status(results[4], LEDGER_CREATED);
    assert_rejected(results[5], LEDGER_EXCEEDS_DEBITS);
    assert_rejected(results[6], LEDGER_EXCEEDS_CREDITS);
    assert_balances(view, "cap", 1000, 100, 70, 30);
    assert_sound(view);
}

static void overflows(void **state)
{
    struct ledger_view *view = *state;
    load_account(view, "x1", "USD", 0);
    load_account(view, "x2", "USD", 0);
    load_account(view, "x3", "USD", 0);
    load_account(view, "x4", "USD", 0);
    load_account(view, "x5", "USD", 0);
    load_funds(view, "x1", "x2", INT64_MAX - 5);
    struct ledger_op ops[] = {
        /* posted: x2's credits_posted would pass 2^63-1 */
        op_transfer("posted6", "x3", "x2", 6),
        op_transfer("posted5", "x3", "x2", 5),
        op_transfer("debits6", "x1", "x3", 6), /* x1's debits_posted */
        /* pending: x4's credits_pending */
        op_pending("pending-max", "x5", "x4", INT64_MAX - 1),
        op_pending("pending2", "a", "x4", 2),
        /* the sum: x4's credits_posted alone fits, pending + posted does not */
        op_transfer("sum2", "a", "x4", 2),
        op_transfer("sum1", "a", "x4", 1),
        /* the sum on the debit side: x5 has debits_pending 2^63-2 */
        op_transfer("dsum2", "x5", "b", 2),
    };
    struct ledger_result results[8];
    RUN(view, ops, results);
    assert_rejected(results[0], LEDGER_OVERFLOWS);
    assert_status(results[1], LEDGER_CREATED);
    assert_rejected(results[2], LEDGER_OVERFLOWS);
    assert_status(results[3], LEDGER_CREATED);
    assert_rejected(results[4], LEDGER_OVERFLOWS);
    assert_rejected(results[5], LEDGER_OVERFLOWS);
    assert_status(results[6], LEDGER_CREATED);
    assert_rejected(results[7], LEDGER_OVERFLOWS);
    assert_balances(view, "x1", 0, INT64_MAX - 5, 0, 0);
    assert_balances(view, "x2", 0, 0, 0, INT64_MAX);
    assert_balances(view, "x3", 0, 5, 0, 0);
    assert_balances(view, "x4", 0, 0, INT64_MAX - 1, 1);
    assert_balances(view, "x5", INT64_MAX - 1, 0, 0, 0);
    assert_balances(view, "a", 0, 1, 0, 0);
    assert_balances(view, "b", 0, 0, 0, 0);
    assert_null(ledger_view_transfer(view, "posted6"));
    assert_sound(view);

    /* Posting the pending amount moves it to posted without overflow. */
    assert_status(run1(view, op_post("pending-max.post", "pending-max")), LEDGER_CREATED);
    assert_balances(view, "x4", 0, 0, 0, INT64_MAX);
    assert_sound(view);
}

/* ---------------------------------------------------------------- post, void */

static void post_full(void **state)
{
    struct ledger_view *view = *state;
    load_pending(view, "p", "a", "b", 100, 0);
    struct ledger_op post = op_post("p.post", "p");
    post.memo = "approved";
    struct ledger_result r = run1(view, post);
    assert_status(r, LEDGER_CREATED);
    assert_int_equal(r.timestamp, NOW);

    const struct ledger_transfer *pt = transfer(view, "p");
    assert_int_equal(pt->state, LEDGER_STATE_POSTED);
    assert_int_equal(pt->row, LEDGER_ROW_DIRTY); /* stored, changed: update */
    assert_int_equal(pt->effect_pending, 100);   /* the pending row's own effect stays */

    const struct ledger_transfer *rec = transfer(view, "p.post");
    assert_int_equal(rec->row, LEDGER_ROW_NEW);
    assert_int_equal(rec->reason, LEDGER_REASON_POST);
    assert_int_equal(rec->state, LEDGER_STATE_POSTED);
    assert_string_equal(rec->pending_id, "p");
    assert_string_equal(rec->debit, "a");
    assert_string_equal(rec->credit, "b");
    assert_string_equal(rec->unit, "USD");
    assert_string_equal(rec->memo, "approved");
    assert_int_equal(rec->amount, 100);
    assert_int_equal(rec->effect_posted, 100);
    assert_int_equal(rec->effect_pending, -100);
    assert_int_equal(rec->timestamp, NOW);
    assert_int_equal(rec->date, rec->timestamp);
    assert_int_equal(rec->flags & LEDGER_TRANSFER_HAS_AMOUNT, 0);
    assert_balances(view, "a", 0, 100, 0, 0);
    assert_balances(view, "b", 0, 0, 0, 100);
    assert_int_equal(account_row(view, "a"), LEDGER_ROW_DIRTY);

    r = run1(view, post);
    assert_status(r, LEDGER_EXISTS);
    assert_int_equal(r.timestamp, NOW);
    assert_rejected(run1(view, op_post("p.post2", "p")), LEDGER_PENDING_TRANSFER_ALREADY_POSTED);
    assert_rejected(run1(view, op_void("p.void", "p")), LEDGER_PENDING_TRANSFER_ALREADY_POSTED);
    assert_balances(view, "a", 0, 100, 0, 0);
    assert_sound(view);
}

static void post_partial_releases_the_rest(void **state)
{
    struct ledger_view *view = *state;
    load_pending(view, "p", "a", "b", 100, 0);
    load_pending(view, "q", "a", "c", 100, 0);
    load_pending(view, "r", "a", "c", 100, 0);
    struct ledger_op part = op_post_amount("p.post", "p", 30);
    part.flags |= LEDGER_OP_HAS_DATE;
    part.date = NOW + DAY; /* given dates are kept (never before the pending's) */
    struct ledger_result res = run1(view, part);
    assert_status(res, LEDGER_CREATED);
    const struct ledger_transfer *rec = transfer(view, "p.post");
    assert_int_equal(rec->amount, 30);
    assert_int_equal(rec->effect_posted, 30);
    assert_int_equal(rec->effect_pending, -100);
    assert_int_equal(rec->flags, LEDGER_TRANSFER_HAS_AMOUNT | LEDGER_TRANSFER_HAS_DATE);
    assert_int_equal(rec->date, NOW + DAY);
    assert_int_equal(transfer(view, "p")->state, LEDGER_STATE_POSTED);
    assert_balances(view, "a", 200, 30, 0, 0);
    assert_balances(view, "b", 0, 0, 0, 30);

    /* The rest is released for good: a pending transfer resolves once. */
    assert_rejected(run1(view, op_post_amount("p.rest", "p", 70)),
                    LEDGER_PENDING_TRANSFER_ALREADY_POSTED);
    /* The same post again; and the same id with other fields. */
    assert_status(run1(view, part), LEDGER_EXISTS);
    struct ledger_op other = part;
    other.amount = 31;
    assert_rejected(run1(view, other), LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
    other = part;
    other.flags &= ~LEDGER_OP_HAS_AMOUNT;
    assert_rejected(run1(view, other), LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
    other = part;
    other.date = NOW;
    assert_rejected(run1(view, other), LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
    other = part;
    other.pending_id = "q";
    assert_rejected(run1(view, other), LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
    other = part;
    other.type = LEDGER_OP_VOID;
    other.flags &= ~LEDGER_OP_HAS_AMOUNT;
    assert_rejected(run1(view, other), LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);

    /* More than pending; zero; the full amount given explicitly. */
    res = run1(view, op_post_amount("q.post", "q", 101));
    assert_rejected(res, LEDGER_EXCEEDS_PENDING_TRANSFER_AMOUNT);
    assert_non_null(res.message);
    assert_rejected(run1(view, op_post_amount("q.post", "q", 0)),
                    LEDGER_AMOUNT_MUST_NOT_BE_ZERO);
    assert_int_equal(transfer(view, "q")->state, LEDGER_STATE_PENDING);
    assert_status(run1(view, op_post_amount("q.post", "q", 100)), LEDGER_CREATED);
    assert_status(run1(view, op_post_amount("r.post", "r", 1)), LEDGER_CREATED);
    assert_balances(view, "a", 0, 131, 0, 0);
    assert_balances(view, "c", 0, 0, 0, 101);
    assert_sound(view);
}

static void void_releases(void **state)
{
    struct ledger_view *view = *state;
    load_pending(view, "p", "a", "b", 100, 0);
    load_pending(view, "q", "a", "b", 5, 0);
    struct ledger_result r = run1(view, op_void("p.void", "p"));
    assert_status(r, LEDGER_CREATED);
    const struct ledger_transfer *rec = transfer(view, "p.void");
    assert_int_equal(rec->row, LEDGER_ROW_NEW);
    assert_int_equal(rec->reason, LEDGER_REASON_VOID);
    assert_int_equal(rec->state, LEDGER_STATE_VOIDED);
    assert_string_equal(rec->pending_id, "p");
    assert_int_equal(rec->amount, 100); /* the amount released */
    assert_int_equal(rec->effect_posted, 0);
    assert_int_equal(rec->effect_pending, -100);
    assert_int_equal(rec->date, r.timestamp);
    const struct ledger_transfer *pt = transfer(view, "p");
    assert_int_equal(pt->state, LEDGER_STATE_VOIDED);
    assert_int_equal(pt->row, LEDGER_ROW_DIRTY);
    assert_balances(view, "a", 5, 0, 0, 0);
    assert_balances(view, "b", 0, 0, 5, 0);
    assert_int_equal(account_row(view, "b"), LEDGER_ROW_DIRTY);

    assert_rejected(run1(view, op_void("p.void2", "p")), LEDGER_PENDING_TRANSFER_ALREADY_VOIDED);
    assert_rejected(run1(view, op_post("p.post", "p")), LEDGER_PENDING_TRANSFER_ALREADY_VOIDED);
    assert_status(run1(view, op_void("p.void", "p")), LEDGER_EXISTS);
    assert_rejected(run1(view, op_post("p.void", "p")), LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
    assert_rejected(run1(view, op_void("p.void", "q")), LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
    struct ledger_op memo = op_void("p.void", "p");
    memo.memo = "changed my mind";
    assert_rejected(run1(view, memo), LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);

    /* A void takes no amount. */
    struct ledger_op with_amount = op_void("q.void", "q");
    with_amount.amount = 5;
    with_amount.flags |= LEDGER_OP_HAS_AMOUNT;
    r = run1(view, with_amount);
    assert_rejected(r, LEDGER_INVALID);
    assert_non_null(strstr(r.message, "amount"));
    assert_int_equal(transfer(view, "q")->state, LEDGER_STATE_PENDING);
    assert_sound(view);
}

static void pending_lookup_failures(void **state)
{
    struct ledger_view *view = *state;
    load_posted(view, "single", "a", "b", 10);
    load_pending(view, "p", "a", "b", 10, 0);
    assert_status(run1(view, op_void("p.void", "p")), LEDGER_CREATED);

    struct ledger_result r = run1(view, op_post("x.post", "nope"));
    assert_rejected(r, LEDGER_PENDING_TRANSFER_NOT_FOUND);
    assert_non_null(strstr(r.message, "nope"));
    assert_rejected(run1(view, op_void("x.void", "nope")), LEDGER_PENDING_TRANSFER_NOT_FOUND);
    assert_rejected(run1(view, op_post("s.post", "single")), LEDGER_PENDING_TRANSFER_NOT_PENDING);
    assert_rejected(run1(view, op_void("s.void", "single")), LEDGER_PENDING_TRANSFER_NOT_PENDING);
    /* A resolution record is not pending either. */
    assert_rejected(run1(view, op_post("v.post", "p.void")), LEDGER_PENDING_TRANSFER_NOT_PENDING);

    char *memo_long = filled(LEDGER_MEMO_BYTES_MAX + 1, 'm');
    struct ledger_op cases[] = {
        op_post("x.post", NULL), op_post("x.post", "has space"), op_post("", "p"),
        op_post(NULL, "p"),      op_post("x/expiry", "p"),     op_void("x/expiry", "p"),
        op_post_amount("x.post", "p", -5), op_post("x.post", "p"), op_void("x.void", "p"),
    };
    cases[7].memo = memo_long;
    cases[8].kind = ""; /* a resolution's kind is checked like a transfer's */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        r = run1(view, cases[i]);
        if (r.status != LEDGER_INVALID)
            fail_msg("case %zu: %s, expected invalid", i, ledger_status_name(r.status));
        assert_non_null(r.message);
    }
    free(memo_long);
    assert_int_equal(view->transfers_count, 3);
    assert_sound(view);
}

static void pending_created_and_posted_in_one_batch(void **state)
{
    struct ledger_view *view = *state;
    struct ledger_op ops[] = {
        op_pending("p", "a", "b", 50),
        op_post_amount("p.post", "p", 20),
    };
    struct ledger_result results[2];
    RUN(view, ops, results);
    assert_status(results[0], LEDGER_CREATED);
    assert_status(results[1], LEDGER_CREATED);
    assert_timestamps_increasing(results, 2);
    const struct ledger_transfer *pt = transfer(view, "p");
    assert_int_equal(pt->state, LEDGER_STATE_POSTED);
    assert_int_equal(pt->row, LEDGER_ROW_NEW); /* new stays new: insert, not update */
    assert_balances(view, "a", 0, 20, 0, 0);
    assert_balances(view, "b", 0, 0, 0, 20);
    assert_sound(view);
}

/* ---------------------------------------------------------------- expiry */

/*
 * A resolution never takes effect before the pending transfer it resolves:
 * as-of balances would otherwise release a reservation not yet made.
 */
static void resolutions_not_dated_before_their_pending(void **state)
{
    struct ledger_view *view = *state;
    const int64_t later = NOW + 100 * DAY; /* the pending transfers' own date */
    load_pending(view, "p", "a", "b", 100, 0);
    load_pending(view, "q", "a", "b", 10, 0);
    load_pending(view, "r", "a", "b", 7, 0);
    ledger_view_transfer(view, "p")->date = later;
    ledger_view_transfer(view, "q")->date = later;
    ledger_view_transfer(view, "r")->date = later;

    /* An explicit date before it is refused, naming the pending transfer's date. */
    struct ledger_op early = op_post_amount("p.early", "p", 40);
    early.flags |= LEDGER_OP_HAS_DATE;
    early.date = later - 1;
    struct ledger_result r = run1(view, early);
    assert_rejected(r, LEDGER_INVALID);
    assert_non_null(strstr(r.message, "before the pending transfer's date"));
    assert_int_equal(transfer(view, "p")->state, LEDGER_STATE_PENDING);
    assert_balances(view, "a", 117, 0, 0, 0);
    struct ledger_op early_void = op_void("q.early", "q");
    early_void.flags |= LEDGER_OP_HAS_DATE;
    early_void.date = NOW;
    assert_rejected(run1(view, early_void), LEDGER_INVALID);

    /* The same date is fine. */
    struct ledger_op same = op_post_amount("p.post", "p", 40);
    same.flags |= LEDGER_OP_HAS_DATE;
    same.date = later;
    assert_status(run1(view, same), LEDGER_CREATED);
    assert_int_equal(transfer(view, "p.post")->date, later);

    /* The default (the commit time, before `later`) moves up to the pending date. */
    r = run1(view, op_void("q.void", "q"));
    assert_status(r, LEDGER_CREATED);
    const struct ledger_transfer *rec = transfer(view, "q.void");
    assert_true(r.timestamp < later);
    assert_int_equal(rec->date, later);
    assert_false(rec->flags & LEDGER_TRANSFER_HAS_DATE); /* still a default */
    assert_status(run1(view, op_void("q.void", "q")), LEDGER_EXISTS);
    assert_status(run1(view, op_post("r.post", "r")), LEDGER_CREATED);
    assert_int_equal(transfer(view, "r.post")->date, later);
    assert_balances(view, "a", 0, 47, 0, 0);
    assert_sound(view);
}

/* A pending transfer cannot lapse before it takes effect. */
static void expires_not_before_the_transfers_date(void **state)
{
    struct ledger_view *view = *state;
    /* A row stored before the rule: dated a day ahead, lapsing just before now. */
    load_pending(view, "old", "a", "c", 9, NOW - 5);
    ledger_view_transfer(view, "old")->date = NOW + DAY;

    struct ledger_op op = op_pending("p", "a", "b", 5);
    op.flags |= LEDGER_OP_HAS_DATE | LEDGER_OP_HAS_EXPIRES;
    op.date = NOW + 10 * DAY;
    op.expires = NOW + 10 * DAY - 1;
    struct ledger_result r = run1(view, op);
    assert_rejected(r, LEDGER_INVALID);
    assert_non_null(strstr(r.message, "expires"));
    op.expires = NOW + 10 * DAY; /* lapsing the instant it takes effect is allowed */
    assert_status(run1(view, op), LEDGER_CREATED);

    /* Its expiry still takes effect no earlier than the transfer itself. */
    assert_int_equal(ledger_expire(view, NOW), 1);
    const struct ledger_transfer *rec = transfer(view, "old/expiry");
    assert_int_equal(rec->date, NOW + DAY);
    assert_sound(view);
}

static void expire_releases_due_pending_transfers(void **state)
{
    struct ledger_view *view = *state;
    load_pending(view, "p1", "a", "b", 100, NOW - 1);
    load_pending(view, "p2", "a", "c", 50, NOW); /* due exactly now */
    load_pending(view, "p3", "a", "b", 70, NOW + 1);
    load_pending(view, "p4", "a", "b", 20, 0); /* never expires */
    assert_int_equal(ledger_expire(view, NOW), 2);

    const char *expired[] = {"p1", "p2"};
    int64_t amounts[] = {100, 50};
    int64_t previous = LAST;
    for (size_t i = 0; i < 2; i++) {
        const struct ledger_transfer *pt = transfer(view, expired[i]);
        assert_int_equal(pt->state, LEDGER_STATE_EXPIRED);
        assert_int_equal(pt->row, LEDGER_ROW_DIRTY);
        char id[64];
        snprintf(id, sizeof id, "%s%s", expired[i], LEDGER_EXPIRY_SUFFIX);
        const struct ledger_transfer *rec = transfer(view, id);
        assert_string_equal(rec->id, id);
        assert_int_equal(rec->row, LEDGER_ROW_NEW);
        assert_int_equal(rec->reason, LEDGER_REASON_EXPIRY);
        assert_string_equal(ledger_reason_name(rec->reason), "expiry");
        assert_int_equal(rec->state, LEDGER_STATE_EXPIRED);
        assert_string_equal(rec->pending_id, expired[i]);
        assert_int_equal(rec->amount, amounts[i]);
        assert_int_equal(rec->effect_posted, 0);
        assert_int_equal(rec->effect_pending, -amounts[i]);
        assert_true(rec->timestamp > previous);
        assert_true(rec->timestamp >= NOW);
        assert_int_equal(rec->date, pt->expires); /* effective when it lapsed */
        assert_true(rec->flags & LEDGER_TRANSFER_HAS_DATE);
        previous = rec->timestamp;
    }
    assert_string_equal(transfer(view, "p1/expiry")->debit, "a");
    assert_string_equal(transfer(view, "p2/expiry")->credit, "c");
    assert_int_equal(transfer(view, "p3")->state, LEDGER_STATE_PENDING);
    assert_int_equal(transfer(view, "p3")->row, 0);
    assert_int_equal(transfer(view, "p4")->state, LEDGER_STATE_PENDING);
    assert_balances(view, "a", 90, 0, 0, 0);
    assert_balances(view, "b", 0, 0, 90, 0);
    assert_balances(view, "c", 0, 0, 0, 0);
    assert_int_equal(account_row(view, "c"), LEDGER_ROW_DIRTY);
    assert_sound(view);

    assert_int_equal(ledger_expire(view, NOW), 0); /* nothing left to expire */
    assert_int_equal(view->transfers_count, 6);

    struct ledger_op ops[] = {
        op_post("p1.post", "p1"),
        op_void("p2.void", "p2"),
        op_post("p3.post", "p3"),
    };
    struct ledger_result results[3];
    RUN(view, ops, results);
    assert_rejected(results[0], LEDGER_PENDING_TRANSFER_EXPIRED);
    assert_rejected(results[1], LEDGER_PENDING_TRANSFER_EXPIRED);
    assert_status(results[2], LEDGER_CREATED);
    assert_true(results[2].timestamp > previous);
    assert_sound(view);
}

static void expired_without_expire_running(void **state)
{
    struct ledger_view *view = *state;
    load_pending(view, "p", "a", "b", 100, NOW);
    load_pending(view, "q", "a", "b", 10, NOW - DAY);
    assert_rejected(run1(view, op_post("p.post", "p")), LEDGER_PENDING_TRANSFER_EXPIRED);
    assert_rejected(run1(view, op_void("p.void", "p")), LEDGER_PENDING_TRANSFER_EXPIRED);
    assert_rejected(run1(view, op_post_amount("q.post", "q", 1)),
                    LEDGER_PENDING_TRANSFER_EXPIRED);
    /* The engine refuses, but only ledger_expire releases the reservation. */
    assert_int_equal(transfer(view, "p")->state, LEDGER_STATE_PENDING);
    assert_balances(view, "a", 110, 0, 0, 0);
    assert_int_equal(view->transfers_count, 2);
    /* One nanosecond before its expiry, it can still be posted. */
    assert_status(run1_at(view, op_post("p.post", "p"), NOW - 1), LEDGER_CREATED);
    assert_balances(view, "a", 10, 100, 0, 0);
    assert_sound(view);
}

/* ---------------------------------------------------------------- linked chains */

static void linked_chain_commits_whole(void **state)
{
    struct ledger_view *view = *state;
    struct ledger_op ops[] = {
        linked(op_unit("EUR", 2)),
        linked(op_account("e1", "EUR")),
        linked(op_account("e2", "EUR")),
        linked(op_transfer("t0", "a", "b", 5)), /* exists below: still ok in a chain */
        op_transfer("t", "e1", "e2", 5),
    };
    load_posted(view, "t0", "a", "b", 5);
    struct ledger_result results[5];
    RUN(view, ops, results);
    for (size_t i = 0; i < 5; i++)
        assert_status(results[i], i == 3 ? LEDGER_EXISTS : LEDGER_CREATED);
    assert_timestamps_increasing(results, 5);
    assert_int_equal(ledger_view_unit(view, "EUR")->row, LEDGER_ROW_NEW);
    assert_int_equal(account_row(view, "e1"), LEDGER_ROW_NEW);
    assert_balances(view, "e1", 0, 5, 0, 0);
    assert_balances(view, "e2", 0, 0, 0, 5);
    assert_int_equal(view->undo_count, 0);
    assert_sound(view);
}

/* A copy of what a rollback must restore. */
struct snapshot {
    uint32_t units_count, accounts_count, transfers_count;
    struct ledger_account accounts[16];
    struct ledger_transfer transfers[16];
};

static void snapshot_take(const struct ledger_view *view, struct snapshot *s)
{
    assert_true(view->accounts_count <= 16 && view->transfers_count <= 16);
    s->units_count = view->units_count;
    s->accounts_count = view->accounts_count;
    s->transfers_count = view->transfers_count;
    memcpy(s->accounts, view->accounts, view->accounts_count * sizeof *view->accounts);
    memcpy(s->transfers, view->transfers, view->transfers_count * sizeof *view->transfers);
}

static void snapshot_assert_same(const struct ledger_view *view, const struct snapshot *s)
{
    assert_int_equal(view->units_count, s->units_count);
    assert_int_equal(view->accounts_count, s->accounts_count);
    assert_int_equal(view->transfers_count, s->transfers_count);
    for (uint32_t i = 0; i < s->accounts_count; i++) {
        const struct ledger_account *a = &view->accounts[i], *b = &s->accounts[i];
        assert_string_equal(a->id, b->id);
        assert_balances(view, b->id, b->debits_pending, b->debits_posted, b->credits_pending,
                        b->credits_posted);
        assert_int_equal(a->row, b->row);
    }
    for (uint32_t i = 0; i < s->transfers_count; i++) {
        assert_string_equal(view->transfers[i].id, s->transfers[i].id);
        assert_int_equal(view->transfers[i].state, s->transfers[i].state);
        assert_int_equal(view->transfers[i].row, s->transfers[i].row);
        /* Every remaining row is still found by its id, at its index. */
        assert_ptr_equal(ledger_view_transfer(view, s->transfers[i].id), &view->transfers[i]);
    }
}

static void linked_chain_rolls_back_everything(void **state)
{
    struct ledger_view *view = *state;
    load_pending(view, "p", "a", "b", 100, 0);
    load_pending(view, "q", "a", "c", 40, 0);
    struct snapshot before;
    snapshot_take(view, &before);
    struct ledger_op ops[] = {
        linked(op_unit("EUR", 2)),
        linked(op_account("e1", "EUR")),
        linked(op_account("e2", "EUR")),
        linked(op_transfer("t1", "a", "c", 20)),
        linked(op_post_amount("p.post", "p", 60)),
        linked(op_void("q.void", "q")),
        linked(op_pending("n", "b", "c", 7)),
        linked(op_post("n.post", "n")),
        linked(op_transfer("t2", "e1", "e2", 3)),
        op_transfer("t3", "a", "b", 0), /* fails: amount_must_not_be_zero */
    };
    struct ledger_result results[10];
    RUN(view, ops, results);
    for (size_t i = 0; i < 9; i++) {
        assert_rejected(results[i], LEDGER_LINKED_EVENT_FAILED);
        assert_null(results[i].message);
    }
    assert_rejected(results[9], LEDGER_AMOUNT_MUST_NOT_BE_ZERO);

    snapshot_assert_same(view, &before);
    assert_null(ledger_view_unit(view, "EUR"));
    assert_null(ledger_view_account(view, "e1"));
    assert_null(ledger_view_account(view, "e2"));
    const char *gone[] = {"t1", "p.post", "q.void", "n", "n.post", "t2", "t3"};
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
        assert_null(ledger_view_transfer(view, gone[i]));
    assert_int_equal(transfer(view, "p")->state, LEDGER_STATE_PENDING);
    assert_int_equal(transfer(view, "p")->row, 0);
    assert_int_equal(transfer(view, "q")->state, LEDGER_STATE_PENDING);
    assert_int_equal(account_row(view, "a"), 0);
    assert_int_equal(view->undo_count, 0);
    assert_false(view->undo_active);
    assert_sound(view);
}

static void linked_chain_ids_reusable_after_rollback(void **state)
{
    struct ledger_view *view = *state;
    load_pending(view, "p", "a", "b", 100, 0);
    struct ledger_op ops[] = {
        op_transfer("t0", "a", "b", 10),          /* alone: stays */
        linked(op_unit("EUR", 2)),
        linked(op_account("e1", "EUR")),
        linked(op_transfer("t1", "a", "c", 20)),
        linked(op_post("p.post", "p")),
        linked(op_transfer("t2", "b", "c", 5)),
        op_transfer("t3", "a", "nobody", 1),     /* fails the chain */
        op_unit("EUR", 2),                         /* every id is free again */
        op_account("e1", "EUR"),
        op_transfer("t1", "a", "c", 20),
        op_post("p.post", "p"),
        op_transfer("t3", "a", "b", 1),
        op_transfer("t2", "a", "b", 1),           /* reused with other fields */
    };
    struct ledger_result results[13];
    RUN(view, ops, results);
    assert_status(results[0], LEDGER_CREATED);
    for (size_t i = 1; i <= 5; i++) assert_rejected(results[i], LEDGER_LINKED_EVENT_FAILED);
    assert_rejected(results[6], LEDGER_CREDIT_ACCOUNT_NOT_FOUND);
    for (size_t i = 7; i < 13; i++) assert_status(results[i], LEDGER_CREATED);
    assert_timestamps_increasing(results, 13);

    assert_balances(view, "a", 0, 10 + 20 + 100 + 1 + 1, 0, 0);
    assert_balances(view, "b", 0, 0, 0, 10 + 100 + 1 + 1);
    assert_balances(view, "c", 0, 0, 0, 20);
    assert_int_equal(transfer(view, "p")->state, LEDGER_STATE_POSTED);
    assert_string_equal(transfer(view, "t2")->debit, "a");
    assert_int_equal(ledger_view_unit(view, "EUR")->timestamp, results[7].timestamp);
    /* p, t0, t1, p.post, t3, t2: the rolled-back rows left no trace. */
    assert_int_equal(view->transfers_count, 6);
    assert_int_equal(view->units_count, 3);
    assert_int_equal(view->accounts_count, 6);
    for (uint32_t i = 0; i < view->transfers_count; i++)
        assert_ptr_equal(ledger_view_transfer(view, view->transfers[i].id), &view->transfers[i]);
    assert_sound(view);
}

static void linked_chain_failure_positions(void **state)
{
    struct ledger_view *view = *state;
    load_account(view, "lim", "USD", LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    struct ledger_op ops[] = {
        /* fails first */
        linked(op_transfer("f1", "lim", "b", 1)),
        linked(op_transfer("f2", "a", "b", 1)),
        op_transfer("f3", "a", "b", 1),
        /* an operation alone between chains */
        op_transfer("alone", "a", "b", 2),
        /* fails last, with a duplicate of an earlier op in it */
        linked(op_transfer("g1", "a", "b", 4)),
        linked(op_transfer("g1", "a", "b", 4)),
        op_transfer("g2", "a", "zz", 1),
        /* succeeds */
        linked(op_transfer("h1", "a", "c", 8)),
        op_transfer("h2", "c", "b", 8),
    };
    struct ledger_result results[9];
    RUN(view, ops, results);
    assert_rejected(results[0], LEDGER_EXCEEDS_CREDITS);
    assert_rejected(results[1], LEDGER_LINKED_EVENT_FAILED);
    assert_rejected(results[2], LEDGER_LINKED_EVENT_FAILED);
    assert_status(results[3], LEDGER_CREATED);
    assert_rejected(results[4], LEDGER_LINKED_EVENT_FAILED);
    assert_rejected(results[5], LEDGER_LINKED_EVENT_FAILED);
    assert_rejected(results[6], LEDGER_CREDIT_ACCOUNT_NOT_FOUND);
    assert_status(results[7], LEDGER_CREATED);
    assert_status(results[8], LEDGER_CREATED);
    assert_balances(view, "a", 0, 10, 0, 0);
    assert_balances(view, "b", 0, 0, 0, 10);
    assert_balances(view, "c", 0, 8, 0, 8);
    assert_balances(view, "lim", 0, 0, 0, 0);
    assert_int_equal(account_row(view, "lim"), 0);
    assert_null(ledger_view_transfer(view, "g1"));
    assert_null(ledger_view_transfer(view, "f2"));
    assert_sound(view);
}

static void linked_chain_left_open(void **state)
{
    struct ledger_view *view = *state;
    struct ledger_op ops[] = {
        op_transfer("t1", "a", "b", 1),
        linked(op_transfer("t2", "a", "b", 2)),
        linked(op_unit("EUR", 2)),
        linked(op_transfer("t3", "a", "b", 3)),
    };
    struct ledger_result results[4];
    RUN(view, ops, results);
    assert_status(results[0], LEDGER_CREATED);
    assert_rejected(results[1], LEDGER_LINKED_EVENT_FAILED);
    assert_rejected(results[2], LEDGER_LINKED_EVENT_FAILED);
    assert_rejected(results[3], LEDGER_LINKED_EVENT_CHAIN_OPEN);
    assert_null(ledger_view_transfer(view, "t2"));
    assert_null(ledger_view_unit(view, "EUR"));
    assert_balances(view, "a", 0, 1, 0, 0);

    /* A batch of one linked operation. */
    struct ledger_result r = run1(view, linked(op_transfer("t4", "a", "b", 4)));
    assert_rejected(r, LEDGER_LINKED_EVENT_CHAIN_OPEN);
    assert_null(ledger_view_transfer(view, "t4"));
    assert_balances(view, "a", 0, 1, 0, 0);
    assert_sound(view);
}

/* ---------------------------------------------------------------- batches */

static void duplicates_within_a_batch(void **state)
{
    struct ledger_view *view = *state;
    struct ledger_op ops[] = {
        op_transfer("t", "a", "b", 10),
        op_transfer("t", "a", "b", 10),
        op_transfer("t", "a", "b", 11),
        op_unit("EUR", 2),
        op_unit("EUR", 2),
        op_account("e", "EUR"),
        op_account("e", "EUR"),
        op_pending("q", "a", "c", 5),
        op_post("q.post", "q"),
        op_post("q.post", "q"),
        op_pending("q", "a", "c", 5),
    };
    struct ledger_result results[11];
    RUN(view, ops, results);
    enum ledger_status expected[] = {
        LEDGER_CREATED, LEDGER_EXISTS, LEDGER_EXISTS_WITH_DIFFERENT_FIELDS,
        LEDGER_CREATED, LEDGER_EXISTS, LEDGER_CREATED, LEDGER_EXISTS,
        LEDGER_CREATED, LEDGER_CREATED, LEDGER_EXISTS, LEDGER_EXISTS,
    };
    for (size_t i = 0; i < 11; i++) assert_status(results[i], expected[i]);
    assert_int_equal(results[1].timestamp, results[0].timestamp);
    assert_int_equal(results[2].timestamp, 0); /* a rejection */
    assert_int_equal(results[4].timestamp, results[3].timestamp);
    assert_int_equal(results[9].timestamp, results[8].timestamp);
    assert_balances(view, "a", 0, 15, 0, 0);
    assert_int_equal(view->transfers_count, 3);
    assert_int_equal(view->units_count, 3);
    assert_int_equal(view->accounts_count, 6);
    assert_sound(view);
}

static void failures_outside_chains_are_independent(void **state)
{
    struct ledger_view *view = *state;
    struct ledger_op ops[] = {
        op_transfer("t1", "a", "b", 1),
        op_transfer("t2", "a", "nobody", 1),
        op_transfer("t3", "b", "c", 1),
    };
    struct ledger_result results[3];
    RUN(view, ops, results);
    assert_status(results[0], LEDGER_CREATED);
    assert_rejected(results[1], LEDGER_CREDIT_ACCOUNT_NOT_FOUND);
    assert_status(results[2], LEDGER_CREATED);
    assert_balances(view, "b", 0, 1, 0, 1);
    assert_sound(view);
}

struct refs {
    char kinds[8];
    const char *ids[8];
    int count;
};

static void refs_visit(void *ctx, char kind, const char *id)
{
    struct refs *r = ctx;
    assert_true(r->count < 8);
    r->kinds[r->count] = kind;
    r->ids[r->count] = id;
    r->count++;
}

static void op_refs_name_what_to_load(void **state)
{
    (void)state;
    struct refs r = {.count = 0};
    struct ledger_op t = op_transfer("t", "a", "b", 1);
    t.unit = "USD";
    ledger_op_refs(&t, refs_visit, &r);
    assert_int_equal(r.count, 4);
    assert_memory_equal(r.kinds, "taau", 4);
    assert_string_equal(r.ids[0], "t");
    assert_string_equal(r.ids[1], "a");
    assert_string_equal(r.ids[2], "b");
    assert_string_equal(r.ids[3], "USD");

    r.count = 0;
    struct ledger_op post = op_post("p.post", "p");
    ledger_op_refs(&post, refs_visit, &r);
    assert_int_equal(r.count, 2);
    assert_memory_equal(r.kinds, "tt", 2);
    assert_string_equal(r.ids[1], "p");

    r.count = 0;
    struct ledger_op account = op_account("e", "EUR");
    ledger_op_refs(&account, refs_visit, &r);
    assert_int_equal(r.count, 2);
    assert_memory_equal(r.kinds, "au", 2);

    r.count = 0;
    t.invalid = "bad";
    ledger_op_refs(&t, refs_visit, &r);
    assert_int_equal(r.count, 0);
}

/* A failed chain gives back the timestamps it took: the next row follows the last kept one. */
static void failed_chain_leaves_no_timestamp_gap(void **state)
{
    struct ledger_view *view = *state;
    int64_t before = view->timestamp_last;
    struct ledger_op ops[] = {
        linked(op_transfer("c1", "a", "b", 1)),
        op_transfer("c2", "a", "a", 1), /* accounts_must_be_different: the chain fails */
    };
    struct ledger_result results[2];
    RUN(view, ops, results);
    assert_rejected(results[0], LEDGER_LINKED_EVENT_FAILED);
    assert_int_equal(view->timestamp_last, before);
    struct ledger_result r = run1(view, op_transfer("c3", "a", "b", 1));
    assert_status(r, LEDGER_CREATED);
    assert_int_equal(r.timestamp, before >= NOW ? before + 1 : NOW);
}

/* ledger_check_view catches bookkeeping that does not add up. */
static void check_view_catches_broken_bookkeeping(void **state)
{
    struct ledger_view *view = *state;
    assert_status(run1(view, op_transfer("t", "a", "b", 7)), LEDGER_CREATED);
    char message[256] = "";
    assert_true(ledger_check_view(view, message, sizeof message));
    ledger_view_account(view, "b")->credits_posted += 1; /* a balance the rows do not explain */
    assert_false(ledger_check_view(view, message, sizeof message));
    assert_non_null(strstr(message, "account b"));
    ledger_view_account(view, "b")->credits_posted -= 1;
    ledger_view_transfer(view, "t")->effect_posted = 6; /* a row that does not explain them */
    assert_false(ledger_check_view(view, message, sizeof message));
    ledger_view_transfer(view, "t")->effect_posted = 7;
    assert_true(ledger_check_view(view, message, sizeof message));
}

static void view_reset_empties(void **state)
{
    struct ledger_view *view = *state;
    assert_status(run1(view, op_transfer("t", "a", "b", 1)), LEDGER_CREATED);
    ledger_view_reset(view);
    assert_int_equal(view->units_count, 0);
    assert_int_equal(view->accounts_count, 0);
    assert_int_equal(view->transfers_count, 0);
    assert_null(ledger_view_unit(view, "USD"));
    assert_null(ledger_view_account(view, "a"));
    assert_null(ledger_view_transfer(view, "t"));
    /* Reusable for the next batch. */
    load_unit(view, "USD", 2);
    load_account(view, "a", "USD", 0);
    load_account(view, "b", "USD", 0);
    assert_status(run1(view, op_transfer("t", "a", "b", 1)), LEDGER_CREATED);
    assert_balances(view, "b", 0, 0, 0, 1);
}

/* ---------------------------------------------------------------- conditions */

/* A stored condition, added in creation order; derived states are the view's to compute. */
static void load_condition(struct ledger_view *view, const char *name, const char *when,
                           uint8_t state)
{
    struct ledger_condition c = {
        .name = name, .when = when, .state = state,
        .resolved_at = when == NULL && state != COND_OPEN ? LAST - 50 : 0,
        .timestamp = LAST - 100 + view->conditions_count,
    };
    char message[256] = "";
    if (!ledger_view_add_condition(view, &c, message, sizeof message))
        fail_msg("ledger_view_add_condition %s: %s", name, message);
}

static uint8_t condition_state(const struct ledger_view *view, const char *name)
{
    const struct ledger_condition *c = ledger_view_condition(view, name);
    if (c == NULL) fail_msg("condition %s is not in the view", name);
    return c->state;
}

/* A stored pending transfer gated by `if` (cond must outlive the view: a literal). */
static void load_gated(struct ledger_view *view, const char *id, const char *debit,
                       const char *credit, int64_t amount, const char *cond)
{
    load_pending(view, id, debit, credit, amount, 0);
    ledger_view_transfer(view, id)->cond = cond;
}

static struct ledger_op op_gated(const char *id, const char *debit, const char *credit,
                                 int64_t amount, const char *cond)
{
    struct ledger_op op = op_pending(id, debit, credit, amount);
    op.cond = cond;
    return op;
}

static struct ledger_op op_condition(const char *name, const char *when)
{
    return (struct ledger_op){.type = LEDGER_OP_CONDITION, .id = name, .cond = when};
}

static struct ledger_op op_resolve(const char *name, uint8_t state)
{
    return (struct ledger_op){.type = LEDGER_OP_RESOLVE, .id = name, .state = state};
}

/* What a condition settlement record must hold: PENDING/condition, reason condition, in full. */
static void assert_settled(const struct ledger_view *view, const char *pending_id, bool posted,
                           int64_t after)
{
    char id[LEDGER_ID_BYTES_MAX + sizeof LEDGER_CONDITION_SUFFIX];
    snprintf(id, sizeof id, "%s%s", pending_id, LEDGER_CONDITION_SUFFIX);
    const struct ledger_transfer *p = transfer(view, pending_id);
    const struct ledger_transfer *r = transfer(view, id);
    uint8_t state = posted ? LEDGER_STATE_POSTED : LEDGER_STATE_VOIDED;
    assert_int_equal(p->state, state);
    assert_int_equal(r->state, state);
    assert_int_equal(r->reason, LEDGER_REASON_CONDITION);
    assert_string_equal(r->pending_id, pending_id);
    assert_string_equal(r->debit, p->debit);
    assert_string_equal(r->credit, p->credit);
    assert_int_equal(r->amount, p->amount);
    assert_int_equal(r->effect_posted, posted ? p->amount : 0);
    assert_int_equal(r->effect_pending, -p->amount);
    assert_int_equal(r->flags, 0); /* no date given, no amount given */
    assert_int_equal(r->row, LEDGER_ROW_NEW);
    assert_true(r->timestamp > after);
    assert_int_equal(r->date, r->timestamp);
    assert_null(r->cond);
}

/* Conditions loaded into a view: base as stored, derived evaluated (Kleene) over earlier ones. */
static void view_conditions_base_and_derived(void **state)
{
    struct ledger_view *view = *state;
    load_condition(view, "open1", NULL, COND_OPEN);
    load_condition(view, "failed1", NULL, COND_FAILED);
    load_condition(view, "met1", NULL, COND_MET);
    load_condition(view, "d_and", "open1 & failed1", COND_OPEN);  /* failed & open = failed */
    load_condition(view, "d_or", "open1 | met1", COND_FAILED);    /* met; the state given is ignored */
    load_condition(view, "d_open", "open1 & met1", COND_MET);     /* open */
    load_condition(view, "d_not", "!failed1", COND_OPEN);         /* met */
    load_condition(view, "d_not_open", "!open1", COND_OPEN);      /* open */
    load_condition(view, "d_chain", "d_open | d_and", COND_OPEN); /* open | failed = open */
    load_condition(view, "d_prec", "failed1 & open1 | met1", COND_OPEN); /* & before |: met */
    assert_int_equal(view->conditions_count, 10);
    assert_int_equal(condition_state(view, "open1"), COND_OPEN);
    assert_int_equal(condition_state(view, "failed1"), COND_FAILED);
    assert_int_equal(condition_state(view, "met1"), COND_MET);
    assert_int_equal(condition_state(view, "d_and"), COND_FAILED);
    assert_int_equal(condition_state(view, "d_or"), COND_MET);
    assert_int_equal(condition_state(view, "d_open"), COND_OPEN);
    assert_int_equal(condition_state(view, "d_not"), COND_MET);
    assert_int_equal(condition_state(view, "d_not_open"), COND_OPEN);
    assert_int_equal(condition_state(view, "d_chain"), COND_OPEN);
    assert_int_equal(condition_state(view, "d_prec"), COND_MET);
    for (uint32_t i = 0; i < view->conditions_count; i++) {
        assert_int_equal(view->condition_states[i], view->conditions[i].state);
        assert_int_equal(view->conditions[i].row, 0); /* loaded, unchanged */
        assert_ptr_equal(ledger_view_condition(view, view->conditions[i].name),
                         &view->conditions[i]);
    }
    assert_string_equal(ledger_view_condition(view, "d_and")->when, "open1 & failed1");
    assert_null(ledger_view_condition(view, "met1")->when);
    assert_null(ledger_view_condition(view, "nope"));

    /* A stored `when` that no longer compiles is refused with a message; nothing is added. */
    char message[256] = "";
    struct ledger_condition unknown = {.name = "bad", .when = "open1 & nope"};
    assert_false(ledger_view_add_condition(view, &unknown, message, sizeof message));
    assert_non_null(strstr(message, "nope"));
    assert_non_null(strstr(message, "column 9"));
    struct ledger_condition self = {.name = "selfish", .when = "met1 | selfish"};
    assert_false(ledger_view_add_condition(view, &self, message, sizeof message));
    assert_non_null(strstr(message, "selfish"));
    assert_int_equal(view->conditions_count, 10);
    assert_null(ledger_view_condition(view, "bad"));
    assert_null(ledger_view_condition(view, "selfish"));
}

static void condition_created_exists_and_different(void **state)
{
    struct ledger_view *view = *state;
    load_condition(view, "met1", NULL, COND_MET);
    struct ledger_op two_state = op_condition("two_state", NULL);
    two_state.name = "Two-state commitment";
    two_state.owner = "council";
    two_state.flags |= LEDGER_OP_HAS_PROBABILITY;
    two_state.probability = 0.35;
    struct ledger_result r = run1(view, two_state);
    assert_status(r, LEDGER_CREATED);
    assert_int_equal(r.timestamp, NOW);
    const struct ledger_condition *c = ledger_view_condition(view, "two_state");
    assert_non_null(c);
    assert_string_equal(c->title, "Two-state commitment");
    assert_string_equal(c->authority, "council");
    assert_null(c->when);
    assert_true(c->has_probability);
    assert_true(c->probability == 0.35);
    assert_int_equal(c->state, COND_OPEN);
    assert_int_equal(c->resolved_at, 0);
    assert_int_equal(c->timestamp, NOW);
    assert_int_equal(c->row, LEDGER_ROW_NEW);

    /* A derived condition over decided ones is decided when created. */
    r = run1(view, op_condition("all_clear", "two_state & met1"));
    assert_status(r, LEDGER_CREATED);
    assert_int_equal(condition_state(view, "all_clear"), COND_OPEN);
    assert_status(run1(view, op_condition("either", "two_state | met1")), LEDGER_CREATED);
    assert_int_equal(condition_state(view, "either"), COND_MET);
    assert_int_equal(view->conditions_count, 4);

    /* The same again: exists, with the row's timestamp. */
    r = run1(view, two_state);
    assert_status(r, LEDGER_EXISTS);
    assert_int_equal(r.timestamp, NOW);
    r = run1(view, op_condition("all_clear", "two_state & met1"));
    assert_status(r, LEDGER_EXISTS);
    assert_int_equal(r.timestamp, NOW + 1);

    /* Any field different. */
    struct ledger_op changed[6];
    for (size_t i = 0; i < 6; i++) changed[i] = two_state;
    changed[0].name = "Other";
    changed[1].name = NULL;
    changed[2].owner = "board";
    changed[3].probability = 0.5;
    changed[4].flags &= ~LEDGER_OP_HAS_PROBABILITY;
    changed[5].cond = "met1";
    for (size_t i = 0; i < 6; i++) {
        r = run1(view, changed[i]);
        if (r.status != LEDGER_EXISTS_WITH_DIFFERENT_FIELDS)
            fail_msg("case %zu: %s", i, ledger_status_name(r.status));
        assert_int_equal(r.timestamp, 0);
    }
    assert_rejected(run1(view, op_condition("all_clear", "met1 & two_state")),
                    LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
    assert_int_equal(view->conditions_count, 4);
}

static void condition_invalid(void **state)
{
    struct ledger_view *view = *state;
    load_condition(view, "two_state", NULL, COND_OPEN);
    load_condition(view, "ceasefire", NULL, COND_OPEN);
    char *name65 = filled(COND_NAME_BYTES_MAX + 1, 'n');
    char *title257 = filled(LEDGER_NAME_BYTES_MAX + 1, 't');
    char *when_long = filled(COND_EXPR_BYTES_MAX + 1, ' ');
    memcpy(when_long, "ceasefire", 9);
    struct {
        struct ledger_op op;
        const char *message_part;
    } cases[] = {
        {op_condition("Two_state", NULL), "name"},
        {op_condition("", NULL), "name"},
        {op_condition(NULL, NULL), "name"},
        {op_condition("9lives", NULL), "name"},
        {op_condition(name65, NULL), "name"},
        {op_condition("titled", NULL), "title"},
        {op_condition("owned", NULL), "authority"},
        {op_condition("likely", NULL), "probability"},
        {op_condition("unlikely", NULL), "probability"},
        {op_condition("nan", NULL), "probability"},
        /* The contract's own example of a message. */
        {op_condition("all_clear", "two_state & (ceasefire"),
         "when: unbalanced parentheses: '(' at column 13 is not closed by the end at column 23"},
        {op_condition("unknown", "ceasefire | nope"), "column 13"},
        {op_condition("selfish", "ceasefire & selfish"), "column 13"},
        {op_condition("trailing", "ceasefire &"), "column 12"},
        {op_condition("empty", ""), "column 1"},
        {op_condition("long", when_long), "1024"},
        {op_condition("upper", "Ceasefire"), "column 1"},
    };
    cases[5].op.name = title257;
    cases[6].op.owner = "The Council";
    cases[7].op.flags |= LEDGER_OP_HAS_PROBABILITY;
    cases[7].op.probability = 1.01;
    cases[8].op.flags |= LEDGER_OP_HAS_PROBABILITY;
    cases[8].op.probability = -0.01;
    cases[9].op.flags |= LEDGER_OP_HAS_PROBABILITY;
    cases[9].op.probability = (double)NAN;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ledger_result r = run1(view, cases[i].op);
        if (r.status != LEDGER_INVALID)
            fail_msg("case %zu: %s, expected invalid", i, ledger_status_name(r.status));
        assert_int_equal(r.timestamp, 0);
        assert_non_null(r.message);
        if (strstr(r.message, cases[i].message_part) == NULL)
            fail_msg("case %zu: message \"%s\" does not mention \"%s\"", i, r.message,
                     cases[i].message_part);
    }
    assert_int_equal(view->conditions_count, 2);

    /* The limits are accepted: 64-byte name, 256-byte title, 1,024-byte when, 0 and 1. */
    struct ledger_op edge = op_condition(name65 + 1, when_long + 1);
    memcpy(when_long + 1, "ceasefire", 9);
    edge.name = title257 + 1;
    edge.flags |= LEDGER_OP_HAS_PROBABILITY;
    edge.probability = 1.0;
    assert_status(run1(view, edge), LEDGER_CREATED);
    struct ledger_op zero = op_condition("never", NULL);
    zero.flags |= LEDGER_OP_HAS_PROBABILITY;
    zero.probability = 0.0;
    assert_status(run1(view, zero), LEDGER_CREATED);
    assert_int_equal(view->conditions_count, 4);
    free(name65);
    free(title257);
    free(when_long);
}

/* `if` on arrival: an unknown name, a syntax error, a non-pending transfer. */
static void gated_transfer_rejections(void **state)
{
    struct ledger_view *view = *state;
    load_condition(view, "ceasefire", NULL, COND_OPEN);
    struct ledger_result r = run1(view, op_gated("g1", "a", "b", 5, "ceasefire & nope"));
    assert_rejected(r, LEDGER_CONDITION_NOT_FOUND);
    assert_non_null(strstr(r.message, "nope"));
    assert_non_null(strstr(r.message, "column 13"));
    r = run1(view, op_gated("g2", "a", "b", 5, "ceasefire &| nope"));
    assert_rejected(r, LEDGER_INVALID); /* the first error from the left: a syntax error */
    assert_non_null(strstr(r.message, "column 12"));
    r = run1(view, op_gated("g3", "a", "b", 5, "nope &| ceasefire"));
    assert_rejected(r, LEDGER_CONDITION_NOT_FOUND); /* … here the unknown name */
    assert_non_null(strstr(r.message, "column 1"));
    r = run1(view, op_gated("g4", "a", "b", 5, "(ceasefire"));
    assert_rejected(r, LEDGER_INVALID);
    /* Not pending: refused whatever the expression says. */
    struct ledger_op plain = op_transfer("g5", "a", "b", 5);
    plain.cond = "ceasefire &";
    assert_rejected(run1(view, plain), LEDGER_CONDITION_REQUIRES_PENDING);
    plain.cond = "ceasefire";
    assert_rejected(run1(view, plain), LEDGER_CONDITION_REQUIRES_PENDING);
    /* The accounts are checked before the expression. */
    assert_rejected(run1(view, op_gated("g6", "a", "nobody", 5, "nope")),
                    LEDGER_CREDIT_ACCOUNT_NOT_FOUND);
    assert_int_equal(view->transfers_count, 0);
    assert_balances(view, "a", 0, 0, 0, 0);
}

/* An `if` already decided on arrival: the pending transfer is created and settled at once. */
static void gated_decided_on_arrival(void **state)
{
    struct ledger_view *view = *state;
    load_condition(view, "yes", NULL, COND_MET);
    load_condition(view, "no", NULL, COND_FAILED);
    load_condition(view, "open1", NULL, COND_OPEN);
    load_condition(view, "maybe", "open1 & yes", COND_OPEN);
    struct ledger_op ops[] = {
        op_gated("t-met", "a", "b", 10, "yes"),
        op_gated("t-failed", "a", "c", 20, "no & open1"), /* failed & open = failed */
        op_gated("t-or", "b", "c", 30, "open1 | yes"),    /* open | met = met */
        op_gated("t-not", "b", "a", 40, "!no"),
        op_gated("t-open", "c", "a", 50, "maybe"),        /* open: stays pending */
        op_gated("t-open-not", "c", "b", 60, "!open1"),
    };
    struct ledger_result results[6];
    RUN(view, ops, results);
    for (size_t i = 0; i < 6; i++) {
        assert_status(results[i], LEDGER_CREATED);
        assert_int_equal(results[i].posted, 0);
        assert_int_equal(results[i].voided, 0);
    }
    assert_timestamps_increasing(results, 6);
    assert_settled(view, "t-met", true, results[0].timestamp);
    assert_settled(view, "t-failed", false, results[1].timestamp);
    assert_settled(view, "t-or", true, results[2].timestamp);
    assert_settled(view, "t-not", true, results[3].timestamp);
    /* Each settlement comes right after its transfer, before the next operation. */
    assert_true(transfer(view, "t-met/condition")->timestamp < results[1].timestamp);
    assert_int_equal(transfer(view, "t-open")->state, LEDGER_STATE_PENDING);
    assert_int_equal(transfer(view, "t-open-not")->state, LEDGER_STATE_PENDING);
    assert_null(ledger_view_transfer(view, "t-open/condition"));
    assert_null(ledger_view_transfer(view, "t-open-not/condition"));
    /* The pending rows keep what they were given: pending flag, `if`, amount. */
    const struct ledger_transfer *met = transfer(view, "t-met");
    assert_true(met->flags & LEDGER_TRANSFER_PENDING);
    assert_string_equal(met->cond, "yes");
    assert_int_equal(met->effect_pending, 10);
    assert_int_equal(met->effect_posted, 0);
    assert_int_equal(view->transfers_count, 10);
    /* Posted: t-met a→b 10, t-or b→c 30, t-not b→a 40; pending: t-open c→a 50,
     * t-open-not c→b 60. */
    assert_balances(view, "a", 0, 10, 50, 40);
    assert_balances(view, "b", 0, 70, 60, 10);
    assert_balances(view, "c", 110, 0, 0, 30);
    /* The conditions did not change. */
    for (uint32_t i = 0; i < view->conditions_count; i++)
        assert_int_equal(view->conditions[i].row, 0);
    assert_sound(view);

    /* Replays answer exists and settle nothing twice. */
    struct ledger_result again = run1(view, ops[0]);
    assert_status(again, LEDGER_EXISTS);
    assert_int_equal(again.timestamp, results[0].timestamp);
    assert_int_equal(view->transfers_count, 10);
}

/* A resolution settles what it decides, through derived conditions, and counts it. */
static void resolve_through_derived(void **state)
{
    struct ledger_view *view = *state;
    load_condition(view, "ceasefire", NULL, COND_OPEN);
    load_condition(view, "two_state", NULL, COND_OPEN);
    load_condition(view, "all_clear", "two_state & ceasefire", COND_OPEN);
    load_condition(view, "any", "ceasefire | two_state", COND_OPEN);
    load_condition(view, "not_both", "!all_clear", COND_OPEN);
    load_gated(view, "p-eu", "a", "b", 30, "all_clear");
    load_gated(view, "p-eg", "a", "c", 300, "any");
    load_gated(view, "p-us", "b", "c", 50, "two_state");
    load_gated(view, "p-war", "c", "a", 7, "!ceasefire");
    load_gated(view, "p-nb", "c", "b", 9, "not_both");
    load_pending(view, "p-jp", "b", "a", 20, 0); /* no `if`: never settled by a condition */

    struct ledger_result r = run1(view, op_resolve("ceasefire", COND_MET));
    assert_status(r, LEDGER_RESOLVED);
    assert_true(r.timestamp > LAST);
    assert_int_equal(r.posted, 1); /* p-eg through `any` */
    assert_int_equal(r.voided, 1); /* p-war */
    const struct ledger_condition *ceasefire = ledger_view_condition(view, "ceasefire");
    assert_int_equal(ceasefire->state, COND_MET);
    assert_int_equal(ceasefire->resolved_at, r.timestamp);
    assert_int_equal(ceasefire->row, LEDGER_ROW_DIRTY);
    assert_int_equal(condition_state(view, "any"), COND_MET);
    assert_int_equal(ledger_view_condition(view, "any")->row, LEDGER_ROW_DIRTY);
    assert_int_equal(ledger_view_condition(view, "any")->resolved_at, 0);
    assert_int_equal(condition_state(view, "all_clear"), COND_OPEN);
    assert_int_equal(ledger_view_condition(view, "all_clear")->row, 0);
    assert_int_equal(condition_state(view, "two_state"), COND_OPEN);
    assert_settled(view, "p-eg", true, r.timestamp);
    assert_settled(view, "p-war", false, r.timestamp);
    assert_int_equal(transfer(view, "p-eg")->row, LEDGER_ROW_DIRTY);
    assert_int_equal(transfer(view, "p-eu")->state, LEDGER_STATE_PENDING);
    assert_int_equal(transfer(view, "p-us")->state, LEDGER_STATE_PENDING);
    assert_int_equal(transfer(view, "p-nb")->state, LEDGER_STATE_PENDING);
    assert_int_equal(transfer(view, "p-jp")->state, LEDGER_STATE_PENDING);
    assert_sound(view);

    /* two_state fails: all_clear fails, so not_both is met; p-eu and p-us void, p-nb posts. */
    struct ledger_result r2 = run1(view, op_resolve("two_state", COND_FAILED));
    assert_status(r2, LEDGER_RESOLVED);
    assert_true(r2.timestamp > transfer(view, "p-war/condition")->timestamp);
    assert_int_equal(r2.posted, 1);
    assert_int_equal(r2.voided, 2);
    assert_int_equal(condition_state(view, "all_clear"), COND_FAILED);
    assert_int_equal(condition_state(view, "not_both"), COND_MET);
    assert_int_equal(condition_state(view, "any"), COND_MET);
    assert_settled(view, "p-eu", false, r2.timestamp);
    assert_settled(view, "p-us", false, r2.timestamp);
    assert_settled(view, "p-nb", true, r2.timestamp);
    assert_int_equal(transfer(view, "p-jp")->state, LEDGER_STATE_PENDING);
    /* Only p-jp still reserves; p-eg (300 a→c) and p-nb (9 c→b) posted. */
    assert_balances(view, "a", 0, 300, 20, 0);
    assert_balances(view, "b", 20, 0, 0, 9);
    assert_balances(view, "c", 0, 9, 0, 300);
    assert_int_equal(view->transfers_count, 6 + 5);
    assert_sound(view);
}

/* Every status a resolution can get. */
static void resolve_statuses(void **state)
{
    struct ledger_view *view = *state;
    load_condition(view, "ceasefire", NULL, COND_OPEN);
    load_condition(view, "decided", NULL, COND_FAILED);
    load_condition(view, "all_clear", "ceasefire & decided", COND_OPEN);
    load_condition(view, "open_derived", "ceasefire | decided", COND_OPEN);
    struct ledger_op decoder = op_resolve("ceasefire", COND_MET);
    decoder.invalid = "state: expected \"met\" or \"failed\"";
    struct {
        struct ledger_op op;
        enum ledger_status status;
        const char *message_part;
    } cases[] = {
        {op_resolve("Ceasefire", COND_MET), LEDGER_INVALID, "name"},
        {op_resolve("", COND_MET), LEDGER_INVALID, "name"},
        {op_resolve(NULL, COND_FAILED), LEDGER_INVALID, "name"},
        {op_resolve("ceasefire", COND_OPEN), LEDGER_INVALID, "state"},
        {op_resolve("ceasefire", 7), LEDGER_INVALID, "state"},
        {decoder, LEDGER_INVALID, "state: expected"},
        {op_resolve("nope", COND_MET), LEDGER_CONDITION_NOT_FOUND, "nope"},
        {op_resolve("open_derived", COND_MET), LEDGER_INVALID, "derived"},
        {op_resolve("all_clear", COND_FAILED), LEDGER_INVALID, "derived"},
        {op_resolve("decided", COND_FAILED), LEDGER_CONDITION_ALREADY_RESOLVED, "failed"},
        {op_resolve("decided", COND_MET), LEDGER_CONDITION_ALREADY_RESOLVED, "failed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ledger_result r = run1(view, cases[i].op);
        if (r.status != cases[i].status)
            fail_msg("case %zu: %s, expected %s", i, ledger_status_name(r.status),
                     ledger_status_name(cases[i].status));
        assert_int_equal(r.timestamp, 0);
        assert_int_equal(r.posted, 0);
        assert_int_equal(r.voided, 0);
        assert_non_null(r.message);
        if (strstr(r.message, cases[i].message_part) == NULL)
            fail_msg("case %zu: message \"%s\" does not mention \"%s\"", i, r.message,
                     cases[i].message_part);
    }
    for (uint32_t i = 0; i < view->conditions_count; i++)
        assert_int_equal(view->conditions[i].row, 0);
    assert_int_equal(condition_state(view, "ceasefire"), COND_OPEN);

    struct ledger_result r = run1(view, op_resolve("ceasefire", COND_FAILED));
    assert_status(r, LEDGER_RESOLVED);
    assert_int_equal(r.timestamp, NOW);
    assert_int_equal(r.posted, 0);
    assert_int_equal(r.voided, 0);
    assert_null(r.message);
    assert_int_equal(condition_state(view, "open_derived"), COND_FAILED); /* failed | failed */
    assert_int_equal(ledger_view_condition(view, "open_derived")->row, LEDGER_ROW_DIRTY);
    /* Decided once: a second resolution, either way, is refused and changes nothing. */
    for (uint8_t s = COND_MET; s <= COND_FAILED; s++) {
        r = run1(view, op_resolve("ceasefire", s));
        assert_rejected(r, LEDGER_CONDITION_ALREADY_RESOLVED);
        assert_non_null(strstr(r.message, "already failed"));
    }
    assert_int_equal(ledger_view_condition(view, "ceasefire")->resolved_at, NOW);
    /* A condition created in the batch can be resolved in it. */
    struct ledger_op ops[] = {op_condition("fresh", NULL), op_resolve("fresh", COND_MET),
                              op_resolve("fresh", COND_MET)};
    struct ledger_result results[3];
    RUN(view, ops, results);
    assert_status(results[0], LEDGER_CREATED);
    assert_status(results[1], LEDGER_RESOLVED);
    assert_rejected(results[2], LEDGER_CONDITION_ALREADY_RESOLVED);
    assert_timestamps_increasing(results, 2);
    assert_true(results[1].timestamp > results[0].timestamp);
    const struct ledger_condition *fresh = ledger_view_condition(view, "fresh");
    assert_int_equal(fresh->row, LEDGER_ROW_NEW); /* new and resolved: still one insert */
    assert_int_equal(fresh->state, COND_MET);
    assert_int_equal(fresh->resolved_at, results[1].timestamp);
}

/* A resolution inside a failing chain is taken back whole: states, settlements, balances. */
static void resolve_rolled_back_with_its_chain(void **state)
{
    struct ledger_view *view = *state;
    load_condition(view, "ceasefire", NULL, COND_OPEN);
    load_condition(view, "two_state", NULL, COND_OPEN);
    load_condition(view, "all_clear", "two_state & ceasefire", COND_OPEN);
    load_condition(view, "war", "!ceasefire", COND_OPEN);
    load_gated(view, "p1", "a", "b", 100, "all_clear");
    load_gated(view, "p2", "a", "c", 40, "war");
    load_gated(view, "p3", "b", "c", 5, "ceasefire");
    struct snapshot before;
    snapshot_take(view, &before);
    struct ledger_op ops[] = {
        linked(op_resolve("ceasefire", COND_MET)),      /* p3 posts, p2 voids */
        linked(op_resolve("two_state", COND_MET)),      /* p1 posts */
        linked(op_gated("n", "c", "a", 3, "all_clear")), /* decided on arrival: posts */
        linked(op_condition("later", "all_clear")),
        linked(op_resolve("later", COND_MET)),          /* derived: invalid, fails the chain */
        op_transfer("t", "a", "b", 1),
    };
    struct ledger_result results[6];
    RUN(view, ops, results);
    for (size_t i = 0; i < 6; i++) {
        if (i == 4) continue;
        assert_rejected(results[i], LEDGER_LINKED_EVENT_FAILED);
        assert_int_equal(results[i].posted, 0);
        assert_int_equal(results[i].voided, 0);
    }
    assert_rejected(results[4], LEDGER_INVALID);

    snapshot_assert_same(view, &before);
    const char *gone[] = {"p1/condition", "p2/condition", "p3/condition", "n", "n/condition", "t"};
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
        assert_null(ledger_view_transfer(view, gone[i]));
    assert_null(ledger_view_condition(view, "later"));
    assert_int_equal(view->conditions_count, 4);
    for (uint32_t i = 0; i < view->conditions_count; i++) {
        const struct ledger_condition *c = &view->conditions[i];
        assert_int_equal(c->state, COND_OPEN);
        assert_int_equal(view->condition_states[i], COND_OPEN);
        assert_int_equal(c->resolved_at, 0);
    }
    /* Every row flag back too: derived conditions that followed are not rewritten. */
    for (uint32_t i = 0; i < view->conditions_count; i++)
        assert_int_equal(view->conditions[i].row, 0);
    assert_balances(view, "a", 140, 0, 0, 0);
    assert_balances(view, "b", 5, 0, 100, 0);
    assert_balances(view, "c", 0, 0, 45, 0);
    assert_int_equal(view->undo_count, 0);
    assert_false(view->undo_active);
    assert_sound(view);

    /* The same resolutions alone, afterwards, hold as if the chain had never run. */
    struct ledger_result r = run1(view, op_resolve("ceasefire", COND_MET));
    assert_status(r, LEDGER_RESOLVED);
    assert_int_equal(r.posted, 1);
    assert_int_equal(r.voided, 1);
    r = run1(view, op_resolve("two_state", COND_MET));
    assert_status(r, LEDGER_RESOLVED);
    assert_int_equal(r.posted, 1);
    assert_int_equal(r.voided, 0);
    assert_settled(view, "p1", true, LAST);
    assert_balances(view, "a", 0, 100, 0, 0);
    assert_balances(view, "c", 0, 0, 0, 5);
    assert_sound(view);
}

/* Splits a gates string into its names (at most 8), checking there are no repeats. */
static size_t gates_split(const char *gates, char names[8][COND_NAME_BYTES_MAX + 1])
{
    size_t count = 0;
    for (const char *p = gates; *p != '\0';) {
        const char *end = strchr(p, ' ');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        assert_true(n > 0 && n <= COND_NAME_BYTES_MAX && count < 8);
        memcpy(names[count], p, n);
        names[count][n] = '\0';
        for (size_t i = 0; i < count; i++)
            if (strcmp(names[i], names[count]) == 0)
                fail_msg("gates %s repeats %s", gates, names[i]);
        count++;
        p += n;
        if (*p == ' ') p++;
    }
    return count;
}

static bool gates_has(char names[8][COND_NAME_BYTES_MAX + 1], size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(names[i], name) == 0) return true;
    return false;
}

/* A new gated transfer lists the base conditions its `if` depends on, through derived ones. */
static void gates_list_base_conditions(void **state)
{
    struct ledger_view *view = *state;
    load_condition(view, "alpha", NULL, COND_OPEN);
    load_condition(view, "beta", NULL, COND_OPEN);
    load_condition(view, "gamma", NULL, COND_OPEN);
    load_condition(view, "unrelated", NULL, COND_OPEN);
    load_condition(view, "d1", "alpha & !beta", COND_OPEN);
    load_condition(view, "d2", "d1 | gamma", COND_OPEN);
    struct ledger_op ops[] = {
        op_gated("g-derived", "a", "b", 1, "d2 & alpha"),
        op_gated("g-base", "a", "b", 1, "gamma"),
        op_gated("g-both", "a", "b", 1, "(d1 | gamma) & !d1"),
        op_pending("g-none", "a", "b", 1),
    };
    struct ledger_result results[4];
    RUN(view, ops, results);
    for (size_t i = 0; i < 4; i++) assert_status(results[i], LEDGER_CREATED);
    char names[8][COND_NAME_BYTES_MAX + 1];
    const char *gates = transfer(view, "g-derived")->gates;
    assert_non_null(gates);
    size_t n = gates_split(gates, names);
    assert_int_equal(n, 3);
    assert_true(gates_has(names, n, "alpha"));
    assert_true(gates_has(names, n, "beta"));
    assert_true(gates_has(names, n, "gamma"));
    gates = transfer(view, "g-base")->gates;
    assert_non_null(gates);
    assert_string_equal(gates, "gamma");
    n = gates_split(transfer(view, "g-both")->gates, names);
    assert_int_equal(n, 3);
    assert_false(gates_has(names, n, "unrelated"));
    assert_null(transfer(view, "g-none")->gates);
    assert_null(transfer(view, "g-none")->cond);
    assert_sound(view);
}

/* ---------------------------------------------------------------- requirements, rates */

static struct ledger_op op_requirement(const char *id, const char *account, const char *measure,
                                       int64_t target)
{
    return (struct ledger_op){.type = LEDGER_OP_REQUIREMENT, .id = id, .account = account,
                              .kind = measure, .amount = target, .flags = LEDGER_OP_HAS_AMOUNT};
}

static struct ledger_op op_rate(const char *unit, const char *to, const char *rate, int64_t date)
{
    return (struct ledger_op){.type = LEDGER_OP_RATE, .unit = unit, .to = to, .rate = rate,
                              .date = date, .flags = LEDGER_OP_HAS_DATE};
}

static void requirement_created_exists_and_different(void **state)
{
    struct ledger_view *view = *state;
    struct ledger_op salaries = op_requirement("salaries", "a", "credits", 12000);
    salaries.name = "Force salaries";
    salaries.flags |= LEDGER_OP_HAS_DATE;
    salaries.date = NOW + DAY;
    struct ledger_result r = run1(view, salaries);
    assert_status(r, LEDGER_CREATED);
    assert_int_equal(r.timestamp, NOW);
    const struct ledger_requirement *q = ledger_view_requirement(view, "salaries");
    assert_non_null(q);
    assert_string_equal(q->title, "Force salaries");
    assert_string_equal(q->account, "a");
    assert_string_equal(q->unit, "USD"); /* from the account */
    assert_int_equal(q->measure, LEDGER_MEASURE_CREDITS);
    assert_int_equal(q->target, 12000);
    assert_true(q->has_due);
    assert_int_equal(q->due, NOW + DAY);
    assert_int_equal(q->timestamp, NOW);
    assert_int_equal(q->row, LEDGER_ROW_NEW);

    /* A prefix with its unit; balance as the measure; no due date. */
    struct ledger_op troops = op_requirement("troops", "force.", "balance", 500);
    troops.unit = "KG";
    assert_status(run1(view, troops), LEDGER_CREATED);
    q = ledger_view_requirement(view, "troops");
    assert_string_equal(q->unit, "KG");
    assert_int_equal(q->measure, LEDGER_MEASURE_BALANCE);
    assert_false(q->has_due);
    assert_null(q->title);

    /* The same again; naming the unit the account implies is the same too. */
    r = run1(view, salaries);
    assert_status(r, LEDGER_EXISTS);
    assert_int_equal(r.timestamp, NOW);
    struct ledger_op explicit_unit = salaries;
    explicit_unit.unit = "USD";
    assert_status(run1(view, explicit_unit), LEDGER_EXISTS);
    assert_status(run1(view, troops), LEDGER_EXISTS);

    struct ledger_op changed[7];
    for (size_t i = 0; i < 7; i++) changed[i] = salaries;
    changed[0].name = "Other";
    changed[1].account = "b";
    changed[2].kind = "balance";
    changed[3].amount = 12001;
    changed[4].date = NOW + 2 * DAY;
    changed[5].flags &= ~LEDGER_OP_HAS_DATE;
    changed[6].unit = "KG";
    for (size_t i = 0; i < 7; i++) {
        r = run1(view, changed[i]);
        if (r.status != LEDGER_EXISTS_WITH_DIFFERENT_FIELDS)
            fail_msg("case %zu: %s", i, ledger_status_name(r.status));
        assert_int_equal(r.timestamp, 0);
    }
    assert_int_equal(view->requirements_count, 2);
}

static void requirement_rejections(void **state)
{
    struct ledger_view *view = *state;
    char *title257 = filled(LEDGER_NAME_BYTES_MAX + 1, 't');
    struct {
        struct ledger_op op;
        enum ledger_status status;
        const char *message_part; /* NULL: not checked */
    } cases[] = {
        {op_requirement("bad id", "a", "credits", 1), LEDGER_INVALID, "id"},
        {op_requirement(NULL, "a", "credits", 1), LEDGER_INVALID, "id"},
        {op_requirement("long-title", "a", "credits", 1), LEDGER_INVALID, "title"},
        {op_requirement("no-account", NULL, "credits", 1), LEDGER_INVALID, "account"},
        {op_requirement("bad-account", "Fund.", "credits", 1), LEDGER_INVALID, "account"},
        {op_requirement("no-measure", "a", NULL, 1), LEDGER_INVALID, "measure"},
        {op_requirement("bad-measure", "a", "debits", 1), LEDGER_INVALID, "measure"},
        {op_requirement("zero", "a", "credits", 0), LEDGER_INVALID, "target"},
        {op_requirement("negative", "a", "credits", -5), LEDGER_INVALID, "target"},
        {op_requirement("no-target", "a", "credits", 5), LEDGER_INVALID, "target"},
        {op_requirement("bad-unit", "a", "credits", 5), LEDGER_INVALID, "unit"},
        {op_requirement("prefix", "fund.", "credits", 5), LEDGER_INVALID, "prefix"},
        {op_requirement("unknown", "nobody", "credits", 5), LEDGER_INVALID, "unit is required"},
        {op_requirement("eur", "fund.", "credits", 5), LEDGER_UNIT_NOT_FOUND, "EUR"},
        {op_requirement("eur-acct", "a", "credits", 5), LEDGER_UNIT_NOT_FOUND, "EUR"},
        {op_requirement("mixed", "a", "credits", 5), LEDGER_ACCOUNTS_MUST_HAVE_THE_SAME_UNIT, "KG"},
    };
    cases[2].op.name = title257;
    cases[9].op.flags &= ~LEDGER_OP_HAS_AMOUNT;
    cases[10].op.unit = "usd";
    cases[13].op.unit = "EUR";
    cases[14].op.unit = "EUR";
    cases[15].op.unit = "KG";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ledger_result r = run1(view, cases[i].op);
        if (r.status != cases[i].status)
            fail_msg("case %zu: %s, expected %s", i, ledger_status_name(r.status),
                     ledger_status_name(cases[i].status));
        assert_int_equal(r.timestamp, 0);
        assert_non_null(r.message);
        if (strstr(r.message, cases[i].message_part) == NULL)
            fail_msg("case %zu: message \"%s\" does not mention \"%s\"", i, r.message,
                     cases[i].message_part);
    }
    assert_int_equal(view->requirements_count, 0);
    /* An account that does not exist yet is fine once the unit is given. */
    struct ledger_op later = op_requirement("later", "force.pledged", "credits", 5);
    later.unit = "KG";
    assert_status(run1(view, later), LEDGER_CREATED);
    free(title257);
}

static void rate_created_exists_and_different(void **state)
{
    struct ledger_view *view = *state;
    struct ledger_result r = run1(view, op_rate("USD", "KG", "1.0843", NOW - DAY));
    assert_status(r, LEDGER_CREATED);
    assert_int_equal(r.timestamp, NOW);
    assert_int_equal(view->rates_count, 1);
    const struct ledger_rate *rate = &view->rates[0];
    assert_string_equal(rate->unit, "USD");
    assert_string_equal(rate->to, "KG");
    assert_string_equal(rate->rate, "1.0843");
    assert_int_equal(rate->date, NOW - DAY);
    assert_int_equal(rate->timestamp, NOW);
    assert_int_equal(rate->row, LEDGER_ROW_NEW);
    r = run1(view, op_rate("USD", "KG", "1.0843", NOW - DAY));
    assert_status(r, LEDGER_EXISTS);
    assert_int_equal(r.timestamp, NOW);
    assert_rejected(run1(view, op_rate("USD", "KG", "1.0844", NOW - DAY)),
                    LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
    /* The key is (unit, to, date): another date or direction is another rate. */
    assert_status(run1(view, op_rate("USD", "KG", "1.0844", NOW)), LEDGER_CREATED);
    assert_status(run1(view, op_rate("KG", "USD", "0.92", NOW - DAY)), LEDGER_CREATED);
    assert_int_equal(view->rates_count, 3);
    /* Limits: 12 integer and 18 fractional digits. */
    assert_status(run1(view, op_rate("USD", "KG", "123456789012.123456789012345678", 1)),
                  LEDGER_CREATED);
}

static void rate_rejections(void **state)
{
    struct ledger_view *view = *state;
    struct {
        struct ledger_op op;
        enum ledger_status status;
    } cases[] = {
        {op_rate("usd", "KG", "1.5", NOW), LEDGER_INVALID},
        {op_rate("USD", NULL, "1.5", NOW), LEDGER_INVALID},
        {op_rate("USD", "USD", "1.5", NOW), LEDGER_INVALID},
        {op_rate("USD", "KG", NULL, NOW), LEDGER_INVALID},
        {op_rate("USD", "KG", "0", NOW), LEDGER_INVALID},
        {op_rate("USD", "KG", "0.000", NOW), LEDGER_INVALID},
        {op_rate("USD", "KG", "-1.5", NOW), LEDGER_INVALID},
        {op_rate("USD", "KG", "1.", NOW), LEDGER_INVALID},
        {op_rate("USD", "KG", ".5", NOW), LEDGER_INVALID},
        {op_rate("USD", "KG", "1.2.3", NOW), LEDGER_INVALID},
        {op_rate("USD", "KG", "1e3", NOW), LEDGER_INVALID},
        {op_rate("USD", "KG", "", NOW), LEDGER_INVALID},
        {op_rate("USD", "KG", "1234567890123", NOW), LEDGER_INVALID},         /* 13 digits */
        {op_rate("USD", "KG", "1.1234567890123456789", NOW), LEDGER_INVALID}, /* 19 */
        {op_rate("USD", "KG", "1.5", NOW), LEDGER_INVALID},                   /* no date */
        {op_rate("EUR", "KG", "1.5", NOW), LEDGER_UNIT_NOT_FOUND},
        {op_rate("USD", "EUR", "1.5", NOW), LEDGER_UNIT_NOT_FOUND},
    };
    cases[14].op.flags &= ~LEDGER_OP_HAS_DATE;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ledger_result r = run1(view, cases[i].op);
        if (r.status != cases[i].status)
            fail_msg("case %zu: %s, expected %s", i, ledger_status_name(r.status),
                     ledger_status_name(cases[i].status));
        assert_int_equal(r.timestamp, 0);
        assert_non_null(r.message);
    }
    assert_int_equal(view->rates_count, 0);
    assert_non_null(strstr(run1(view, cases[15].op).message, "EUR"));
}

/* Conditions, requirements and rates created in a failing chain are taken back too. */
static void chain_rolls_back_conditions_requirements_rates(void **state)
{
    struct ledger_view *view = *state;
    load_condition(view, "ceasefire", NULL, COND_OPEN);
    struct ledger_op ops[] = {
        linked(op_condition("c_new", NULL)),
        linked(op_condition("d_new", "c_new | ceasefire")),
        linked(op_requirement("req", "a", "credits", 5)),
        linked(op_rate("USD", "KG", "2", NOW)),
        linked(op_resolve("c_new", COND_MET)),
        op_resolve("d_new", COND_MET), /* derived: fails the chain */
        op_condition("c_new", NULL),   /* every key is free again */
        op_requirement("req", "a", "credits", 5),
        op_rate("USD", "KG", "2", NOW),
    };
    struct ledger_result results[9];
    RUN(view, ops, results);
    for (size_t i = 0; i < 5; i++) assert_rejected(results[i], LEDGER_LINKED_EVENT_FAILED);
    assert_rejected(results[5], LEDGER_INVALID);
    for (size_t i = 6; i < 9; i++) assert_status(results[i], LEDGER_CREATED);
    assert_int_equal(view->conditions_count, 2);
    assert_null(ledger_view_condition(view, "d_new"));
    assert_int_equal(condition_state(view, "c_new"), COND_OPEN);
    assert_int_equal(view->requirements_count, 1);
    assert_int_equal(view->rates_count, 1);
    assert_int_equal(view->undo_count, 0);
}

static void op_refs_of_conditions(void **state)
{
    (void)state;
    struct refs r = {.count = 0};
    struct ledger_op gated = op_gated("g", "a", "b", 1, "ceasefire");
    ledger_op_refs(&gated, refs_visit, &r);
    assert_int_equal(r.count, 4);
    assert_memory_equal(r.kinds, "taac", 4);
    assert_null(r.ids[3]);

    r.count = 0;
    struct ledger_op condition = op_condition("all_clear", "a & b");
    ledger_op_refs(&condition, refs_visit, &r);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.kinds[0], 'c');

    r.count = 0;
    struct ledger_op resolve = op_resolve("ceasefire", COND_MET);
    ledger_op_refs(&resolve, refs_visit, &r);
    assert_int_equal(r.count, 2);
    assert_memory_equal(r.kinds, "cg", 2);
    assert_string_equal(r.ids[1], "ceasefire");

    r.count = 0;
    struct ledger_op requirement = op_requirement("q", "fund.", "credits", 1);
    requirement.unit = "USD";
    ledger_op_refs(&requirement, refs_visit, &r);
    assert_int_equal(r.count, 2);
    assert_memory_equal(r.kinds, "qu", 2);
    r.count = 0;
    requirement.account = "a";
    ledger_op_refs(&requirement, refs_visit, &r);
    assert_int_equal(r.count, 3);
    assert_memory_equal(r.kinds, "qua", 3);

    r.count = 0;
    struct ledger_op rate = op_rate("USD", "KG", "1", NOW);
    ledger_op_refs(&rate, refs_visit, &r);
    assert_int_equal(r.count, 3);
    assert_memory_equal(r.kinds, "xuu", 3);
}

/* ---------------------------------------------------------------- invariant checker */

static void check_accounts_consistent_and_broken(void **state)
{
    (void)state;
    const struct ledger_account good[] = {
        {.id = "a", .unit = "USD", .debits_posted = 100},
        {.id = "lim", .unit = "USD", .flags = LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS,
         .debits_pending = 10, .debits_posted = 20, .credits_posted = 30},
        {.id = "b", .unit = "USD", .credits_pending = 10, .credits_posted = 90},
        {.id = "k1", .unit = "KG", .debits_pending = 5},
        {.id = "cap", .unit = "KG", .flags = LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS,
         .credits_pending = 5, .debits_posted = 7},
        {.id = "k3", .unit = "KG", .credits_posted = 7},
    };
    enum { N = sizeof good / sizeof good[0] };
    char message[200];
    assert_true(ledger_check_accounts(good, N, message, sizeof message));
    assert_true(ledger_check_accounts(good, 0, message, sizeof message));

    struct ledger_account bad[N];

    memcpy(bad, good, sizeof bad);
    bad[2].credits_posted += 1; /* posted unbalanced in USD */
    message[0] = '\0';
    assert_false(ledger_check_accounts(bad, N, message, sizeof message));
    assert_non_null(strstr(message, "USD"));
    assert_non_null(strstr(message, "posted"));

    memcpy(bad, good, sizeof bad);
    bad[3].debits_pending += 1; /* pending unbalanced in KG */
    message[0] = '\0';
    assert_false(ledger_check_accounts(bad, N, message, sizeof message));
    assert_non_null(strstr(message, "KG"));
    assert_non_null(strstr(message, "pending"));

    memcpy(bad, good, sizeof bad);
    bad[0].debits_posted -= 101; /* sums still balance: a alone is wrong */
    bad[2].credits_posted -= 101;
    message[0] = '\0';
    assert_false(ledger_check_accounts(bad, N, message, sizeof message));
    assert_non_null(strstr(message, "account a "));
    assert_non_null(strstr(message, "negative"));

    memcpy(bad, good, sizeof bad);
    bad[1].debits_pending += 1; /* lim: 11 + 20 > 30, sums balanced by b */
    bad[2].credits_pending += 1;
    message[0] = '\0';
    assert_false(ledger_check_accounts(bad, N, message, sizeof message));
    assert_non_null(strstr(message, "lim"));
    assert_non_null(strstr(message, "debits exceed credits"));

    memcpy(bad, good, sizeof bad);
    bad[4].credits_pending += 3; /* cap: 8 + 0 > 7, sums balanced by k1 */
    bad[3].debits_pending += 3;
    message[0] = '\0';
    assert_false(ledger_check_accounts(bad, N, message, sizeof message));
    assert_non_null(strstr(message, "cap"));
    assert_non_null(strstr(message, "credits exceed debits"));

    /* Sums beyond int64 are exact: 2^63-1 + 2^63-1 + 2 is not 0. */
    const struct ledger_account wraps[] = {
        {.id = "h1", .unit = "X", .debits_posted = INT64_MAX},
        {.id = "h2", .unit = "X", .debits_posted = INT64_MAX},
        {.id = "h3", .unit = "X", .debits_posted = 2},
    };
    assert_false(ledger_check_accounts(wraps, 3, message, sizeof message));
    const struct ledger_account huge[] = {
        {.id = "h1", .unit = "X", .debits_posted = INT64_MAX},
        {.id = "h2", .unit = "X", .debits_posted = INT64_MAX},
        {.id = "h3", .unit = "X", .credits_posted = INT64_MAX},
        {.id = "h4", .unit = "X", .credits_posted = INT64_MAX},
    };
    assert_true(ledger_check_accounts(huge, 4, message, sizeof message));
}

#define T(name) cmocka_unit_test_setup_teardown(name, view_setup, view_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status_names_match_the_contract),
        cmocka_unit_test(op_state_and_reason_names),
        cmocka_unit_test(identifier_validation),
        T(unit_created_exists_and_different),
        T(unit_invalid),
        T(account_created_exists_and_different),
        T(account_invalid_and_unit_not_found),
        T(transfer_single_phase),
        T(timestamps_strictly_increase),
        T(transfer_pending_created),
        T(transfer_exists_and_different_fields),
        T(transfer_invalid),
        T(decoder_invalid_for_every_op),
        T(transfer_rejections),
        T(messages_stay_utf8_when_cut),
        T(free_text_must_be_utf8),
        T(exceeds_credits_counts_pending),
        T(exceeds_debits_counts_pending),
        T(overflows),
        T(post_full),
        T(post_partial_releases_the_rest),
        T(void_releases),
        T(pending_lookup_failures),
        T(pending_created_and_posted_in_one_batch),
        T(resolutions_not_dated_before_their_pending),
        T(expires_not_before_the_transfers_date),
        T(expire_releases_due_pending_transfers),
        T(expired_without_expire_running),
        T(linked_chain_commits_whole),
        T(linked_chain_rolls_back_everything),
        T(linked_chain_ids_reusable_after_rollback),
        T(linked_chain_failure_positions),
        T(linked_chain_left_open),
        T(duplicates_within_a_batch),
        T(failures_outside_chains_are_independent),
        cmocka_unit_test(op_refs_name_what_to_load),
        T(view_conditions_base_and_derived),
        T(condition_created_exists_and_different),
        T(condition_invalid),
        T(gated_transfer_rejections),
        T(gated_decided_on_arrival),
        T(resolve_through_derived),
        T(resolve_statuses),
        T(resolve_rolled_back_with_its_chain),
        T(gates_list_base_conditions),
        T(requirement_created_exists_and_different),
        T(requirement_rejections),
        T(rate_created_exists_and_different),
        T(rate_rejections),
        T(chain_rolls_back_conditions_requirements_rates),
        cmocka_unit_test(op_refs_of_conditions),
        T(check_view_catches_broken_bookkeeping),
        T(failed_chain_leaves_no_timestamp_gap),
        T(view_reset_empties),
        cmocka_unit_test(check_accounts_consistent_and_broken),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
