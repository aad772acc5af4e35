/*
 * test_governance.c — unit tests of the mission's governance in the engine:
 * parties, guarded accounts with k-of-n approvals, and the authorization
 * rule (app/auth.c) that the engine asks before each operation.
 *
 * Like test_ledger.c, each test builds a `struct ledger_view` by hand, as
 * app/ would after loading rows: units USD, accounts `fund.pool` (guarded:
 * approvers ann, bob and cy, two approvals required, owned by party fund),
 * `us.dod` (owned by us) and `eg.mod` (owned by eg), and funds in the pool.
 * Tests assert what a caller observes: statuses, messages, balances, the
 * records made, and that a rejected operation leaves no row behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/auth.h"
#include "ledger/ledger.h"

#define NOW INT64_C(1800000000000000000)
#define LAST (NOW - 1000)

#define assert_status(result, expected)                                                  \
    assert_string_equal(ledger_status_name((result).status), ledger_status_name(expected))

static void load_account(struct ledger_view *view, const char *id, const char *owner,
                         uint32_t flags, const char *approvers, int32_t k)
{
    struct ledger_account a = {.id = id, .unit = "USD", .owner = owner, .flags = flags,
                               .approvers = approvers, .approvals_required = k,
                               .seq = view->accounts_count + 1, .timestamp = 100};
    assert_true(ledger_view_add_account(view, &a));
}

static int setup(void **state)
{
    struct ledger_view *view = malloc(sizeof *view);
    if (view == NULL) return -1;
    ledger_view_init(view);
    struct ledger_unit usd = {.code = "USD", .scale = 2, .timestamp = 1};
    assert_true(ledger_view_add_unit(view, &usd));
    load_account(view, "fund.pool", "fund", LEDGER_ACCOUNT_GUARDED, "ann bob cy", 2);
    load_account(view, "us.dod", "us", 0, NULL, 0);
    load_account(view, "eg.mod", "eg", 0, NULL, 0);
    load_account(view, "force.salaries", "force", 0, NULL, 0);
    /* The pool holds 1,000.00 from the US: credits on the pool, debits on us.dod. */
    struct ledger_account *pool = ledger_view_account(view, "fund.pool");
    struct ledger_account *us = ledger_view_account(view, "us.dod");
    pool->credits_posted = 100000;
    us->debits_posted = 100000;
    view->accounts_loaded[0][3] = 100000;
    view->accounts_loaded[1][1] = 100000;
    view->timestamp_last = LAST;
    *state = view;
    return 0;
}

static int teardown(void **state)
{
    ledger_view_free(*state);
    free(*state);
    return 0;
}

static struct ledger_result run_as(struct ledger_view *view, const char *user,
                                   struct ledger_op op)
{
    view->actor = user;
    struct ledger_result r;
    assert_true(ledger_execute(view, &op, 1, NOW, &r));
    return r;
}

static struct ledger_op op_transfer(const char *id, const char *debit, const char *credit,
                                    int64_t amount, bool pending)
{
    return (struct ledger_op){.type = LEDGER_OP_TRANSFER, .id = id, .debit = debit,
                              .credit = credit, .amount = amount,
                              .flags = LEDGER_OP_HAS_AMOUNT | (pending ? LEDGER_OP_PENDING : 0)};
}

static struct ledger_op op_approve(const char *id, const char *pending_id, bool approve)
{
    return (struct ledger_op){.type = LEDGER_OP_APPROVE, .id = id, .pending_id = pending_id,
                              .decision = approve ? LEDGER_DECISION_APPROVE
                                                  : LEDGER_DECISION_REJECT};
}

static void assert_balances(const struct ledger_view *view, const char *id, int64_t dp,
                            int64_t dpo, int64_t cp, int64_t cpo)
{
    const struct ledger_account *a = ledger_view_account(view, id);
    assert_non_null(a);
    assert_int_equal(a->debits_pending, dp);
    assert_int_equal(a->debits_posted, dpo);
    assert_int_equal(a->credits_pending, cp);
    assert_int_equal(a->credits_posted, cpo);
}

static void assert_sound(const struct ledger_view *view)
{
    char message[256] = "";
    if (!ledger_check_view(view, message, sizeof message)) fail_msg("%s", message);
}

/* ---------------------------------------------------------------- parties */

static void party_created_exists_and_different(void **state)
{
    struct ledger_view *view = *state;
    struct ledger_op p = {.type = LEDGER_OP_PARTY, .id = "us", .name = "United States",
                          .kind = "nation"};
    struct ledger_result r = run_as(view, "local", p);
    assert_status(r, LEDGER_CREATED);
    assert_true(r.timestamp > LAST);
    const struct ledger_party *party = ledger_view_party(view, "us");
    assert_non_null(party);
    assert_string_equal(party->kind, "nation");
    assert_true(party->row & LEDGER_ROW_NEW);
    struct ledger_result again = run_as(view, "local", p);
    assert_status(again, LEDGER_EXISTS);
    assert_int_equal(again.timestamp, r.timestamp);
    p.kind = "fund";
    assert_status(run_as(view, "local", p), LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
}

static void party_invalid(void **state)
{
    struct ledger_view *view = *state;
    struct ledger_op p = {.type = LEDGER_OP_PARTY, .id = "Bad Id", .kind = "nation"};
    struct ledger_result r = run_as(view, "local", p);
    assert_status(r, LEDGER_INVALID);
    assert_non_null(strstr(r.message, "id"));
    p.id = "un";
    p.kind = "club";
    r = run_as(view, "local", p);
    assert_status(r, LEDGER_INVALID);
    assert_non_null(strstr(r.message, "kind"));
    assert_int_equal(view->parties_count, 0);
}

/* ---------------------------------------------------------------- guarded accounts */

static void guarded_account_validation(void **state)
{
    struct ledger_view *view = *state;
    struct ledger_op a = {.type = LEDGER_OP_ACCOUNT, .id = "fund.reserve", .unit = "USD",
                          .account_flags = LEDGER_ACCOUNT_GUARDED};
    struct ledger_result r = run_as(view, "local", a);
    assert_status(r, LEDGER_INVALID);
    assert_non_null(strstr(r.message, "approvers"));
    a.approvers = "ann bob";
    a.approvals_required = 3;
    assert_status(run_as(view, "local", a), LEDGER_INVALID);
    a.approvers = "ann ann";
    a.approvals_required = 1;
    r = run_as(view, "local", a);
    assert_status(r, LEDGER_INVALID);
    assert_non_null(strstr(r.message, "twice"));
    a.approvers = "ann Bob";
    assert_status(run_as(view, "local", a), LEDGER_INVALID);
    struct ledger_op plain = {.type = LEDGER_OP_ACCOUNT, .id = "fund.reserve", .unit = "USD",
                              .approvers = "ann", .approvals_required = 1};
    assert_status(run_as(view, "local", plain), LEDGER_INVALID);
    a.approvers = "ann bob";
    a.approvals_required = 2;
    assert_status(run_as(view, "local", a), LEDGER_CREATED);
    assert_status(run_as(view, "local", a), LEDGER_EXISTS);
    a.approvers = "ann cy";
    assert_status(run_as(view, "local", a), LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
    a.approvers = "ann bob";
    a.approvals_required = 1;
    assert_status(run_as(view, "local", a), LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
}

static void guarded_debits_must_be_pending(void **state)
{
    struct ledger_view *view = *state;
    struct ledger_result r =
        run_as(view, "local", op_transfer("d1", "fund.pool", "force.salaries", 500, false));
    assert_status(r, LEDGER_APPROVAL_REQUIRED);
    assert_int_equal(r.timestamp, 0);
    assert_null(ledger_view_transfer(view, "d1"));
    struct ledger_op gated = op_transfer("d2", "fund.pool", "force.salaries", 500, true);
    gated.cond = "ceasefire";
    assert_status(run_as(view, "local", gated), LEDGER_INVALID);
    /* Credits to a guarded account need no approval. */
    assert_status(run_as(view, "local", op_transfer("c1", "us.dod", "fund.pool", 700, false)),
                  LEDGER_CREATED);
    assert_status(run_as(view, "local", op_transfer("d3", "fund.pool", "force.salaries", 500,
                                                    true)),
                  LEDGER_CREATED);
    assert_balances(view, "fund.pool", 500, 0, 0, 100700);
    assert_sound(view);
}

static void k_approvals_post(void **state)
{
    struct ledger_view *view = *state;
    assert_status(run_as(view, "local", op_transfer("d", "fund.pool", "force.salaries", 2000,
                                                    true)),
                  LEDGER_CREATED);
    struct ledger_result r = run_as(view, "ann", op_approve("d.ann", "d", true));
    assert_status(r, LEDGER_CREATED);
    /* An approval that decides nothing posts and voids nothing. */
    assert_int_equal(r.posted, 0);
    assert_int_equal(r.voided, 0);
    assert_int_equal(ledger_view_transfer(view, "d")->state, LEDGER_STATE_PENDING);
    const struct ledger_approval *a = ledger_view_approval(view, "d.ann");
    assert_non_null(a);
    assert_string_equal(a->user, "ann");
    assert_true(a->row & LEDGER_ROW_NEW);
    /* The same approval again is idempotent; another decision by ann is refused. */
    r = run_as(view, "ann", op_approve("d.ann", "d", true));
    assert_status(r, LEDGER_EXISTS);
    assert_int_equal(r.posted + r.voided, 0);
    assert_status(run_as(view, "ann", op_approve("d.ann", "d", false)),
                  LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
    r = run_as(view, "ann", op_approve("d.ann2", "d", true));
    assert_status(r, LEDGER_APPROVAL_ALREADY_GIVEN);
    assert_null(ledger_view_approval(view, "d.ann2"));
    r = run_as(view, "dan", op_approve("d.dan", "d", true));
    assert_status(r, LEDGER_FORBIDDEN);
    assert_non_null(strstr(r.message, "not an approver"));
    assert_null(ledger_view_approval(view, "d.dan"));
    /* A direct post would bypass the board. */
    struct ledger_op post = {.type = LEDGER_OP_POST, .id = "d.post", .pending_id = "d"};
    assert_status(run_as(view, "local", post), LEDGER_APPROVAL_REQUIRED);
    /* bob's is the k-th: his approval's result says that it posted d. */
    r = run_as(view, "bob", op_approve("d.bob", "d", true));
    assert_status(r, LEDGER_CREATED);
    assert_int_equal(r.posted, 1);
    assert_int_equal(r.voided, 0);
    const struct ledger_transfer *t = ledger_view_transfer(view, "d");
    assert_int_equal(t->state, LEDGER_STATE_POSTED);
    const struct ledger_transfer *rec = ledger_view_transfer(view, "d/approval");
    assert_non_null(rec);
    assert_int_equal(rec->reason, LEDGER_REASON_APPROVAL);
    assert_string_equal(ledger_reason_name(LEDGER_REASON_APPROVAL), "approval");
    assert_int_equal(rec->state, LEDGER_STATE_POSTED);
    assert_int_equal(rec->effect_posted, 2000);
    assert_balances(view, "fund.pool", 0, 2000, 0, 100000);
    assert_balances(view, "force.salaries", 0, 0, 0, 2000);
    /* Decided: a third approver finds it posted. */
    r = run_as(view, "cy", op_approve("d.cy", "d", true));
    assert_status(r, LEDGER_PENDING_TRANSFER_ALREADY_POSTED);
    assert_int_equal(r.posted + r.voided, 0);
    assert_sound(view);
}

static void rejections_void_when_k_is_out_of_reach(void **state)
{
    struct ledger_view *view = *state;
    assert_status(run_as(view, "local", op_transfer("r", "fund.pool", "force.salaries", 300,
                                                    true)),
                  LEDGER_CREATED);
    /* Three approvers, two needed: one rejection leaves two who can still approve. */
    struct ledger_result r = run_as(view, "ann", op_approve("r.ann", "r", false));
    assert_status(r, LEDGER_CREATED);
    assert_int_equal(r.posted, 0);
    assert_int_equal(r.voided, 0);
    assert_int_equal(ledger_view_transfer(view, "r")->state, LEDGER_STATE_PENDING);
    /* bob's rejection leaves one who could approve, of two needed: it voids r. */
    r = run_as(view, "bob", op_approve("r.bob", "r", false));
    assert_status(r, LEDGER_CREATED);
    assert_int_equal(r.posted, 0);
    assert_int_equal(r.voided, 1);
    assert_int_equal(ledger_view_transfer(view, "r")->state, LEDGER_STATE_VOIDED);
    const struct ledger_transfer *rec = ledger_view_transfer(view, "r/approval");
    assert_non_null(rec);
    assert_int_equal(rec->reason, LEDGER_REASON_APPROVAL);
    assert_int_equal(rec->state, LEDGER_STATE_VOIDED);
    assert_balances(view, "fund.pool", 0, 0, 0, 100000);
    /* The requester may still withdraw a pending one: void needs no approval. */
    assert_status(run_as(view, "local", op_transfer("w", "fund.pool", "force.salaries", 10,
                                                    true)),
                  LEDGER_CREATED);
    struct ledger_op v = {.type = LEDGER_OP_VOID, .id = "w.void", .pending_id = "w"};
    assert_status(run_as(view, "local", v), LEDGER_CREATED);
    assert_sound(view);
}

static void approve_rejections(void **state)
{
    struct ledger_view *view = *state;
    assert_status(run_as(view, "ann", op_approve("x", "nothing", true)),
                  LEDGER_PENDING_TRANSFER_NOT_FOUND);
    assert_status(run_as(view, "local", op_transfer("u", "us.dod", "eg.mod", 5, true)),
                  LEDGER_CREATED);
    struct ledger_result r = run_as(view, "ann", op_approve("x", "u", true));
    assert_status(r, LEDGER_INVALID);
    assert_non_null(strstr(r.message, "guarded"));
    struct ledger_op bad = op_approve("x", "u", true);
    bad.decision = 0;
    assert_status(run_as(view, "ann", bad), LEDGER_INVALID);
    assert_status(run_as(view, "local", op_transfer("s", "us.dod", "eg.mod", 5, false)),
                  LEDGER_CREATED);
    assert_status(run_as(view, "ann", op_approve("x", "s", true)),
                  LEDGER_PENDING_TRANSFER_NOT_PENDING);
    /* Ids ending in /approval are the ledger's own. */
    r = run_as(view, "local", op_transfer("y/approval", "us.dod", "eg.mod", 5, false));
    assert_status(r, LEDGER_INVALID);
    assert_int_equal(view->approvals_count, 0);
}

static void approval_rolled_back_with_its_chain(void **state)
{
    struct ledger_view *view = *state;
    assert_status(run_as(view, "local", op_transfer("d", "fund.pool", "force.salaries", 100,
                                                    true)),
                  LEDGER_CREATED);
    assert_status(run_as(view, "ann", op_approve("d.ann", "d", true)), LEDGER_CREATED);
    /* bob's approval posts d, then the chain fails: nothing of it remains. */
    struct ledger_op ops[2] = {op_approve("d.bob", "d", true),
                               op_transfer("bad", "us.dod", "nowhere", 1, false)};
    ops[0].flags |= LEDGER_OP_LINKED;
    struct ledger_result results[2];
    view->actor = "bob";
    assert_true(ledger_execute(view, ops, 2, NOW, results));
    assert_status(results[0], LEDGER_LINKED_EVENT_FAILED);
    assert_int_equal(results[0].posted + results[0].voided, 0);
    assert_status(results[1], LEDGER_CREDIT_ACCOUNT_NOT_FOUND);
    assert_null(ledger_view_approval(view, "d.bob"));
    assert_null(ledger_view_transfer(view, "d/approval"));
    assert_int_equal(ledger_view_transfer(view, "d")->state, LEDGER_STATE_PENDING);
    assert_balances(view, "fund.pool", 100, 0, 0, 100000);
    assert_sound(view);
}

/* ---------------------------------------------------------------- authorization */

static struct ledger_result run_actor(struct ledger_view *view, struct auth_actor *actor,
                                      struct ledger_op op)
{
    view->authorize = auth_authorize;
    view->authorize_ctx = actor;
    struct ledger_result r = run_as(view, actor->user, op);
    view->authorize = NULL;
    return r;
}

static struct auth_actor actor(const char *user, enum auth_role role, const char *party)
{
    struct auth_actor a = {.role = role};
    snprintf(a.user, sizeof a.user, "%s", user);
    snprintf(a.party, sizeof a.party, "%s", party);
    return a;
}

static void editor_writes_only_its_own(void **state)
{
    struct ledger_view *view = *state;
    struct auth_actor us = actor("uma", AUTH_ROLE_EDITOR, "us");
    struct ledger_op acc = {.type = LEDGER_OP_ACCOUNT, .id = "us.state", .unit = "USD",
                            .owner = "us"};
    assert_status(run_actor(view, &us, acc), LEDGER_CREATED);
    acc.id = "eg.other";
    acc.owner = "eg";
    struct ledger_result r = run_actor(view, &us, acc);
    assert_status(r, LEDGER_FORBIDDEN);
    assert_non_null(r.message);
    assert_null(ledger_view_account(view, "eg.other"));
    acc.owner = NULL;
    assert_status(run_actor(view, &us, acc), LEDGER_FORBIDDEN);
    /* Debits from its own accounts, including one made earlier in the same batch. */
    assert_status(run_actor(view, &us, op_transfer("t1", "us.dod", "fund.pool", 5, false)),
                  LEDGER_CREATED);
    r = run_actor(view, &us, op_transfer("t2", "eg.mod", "fund.pool", 5, false));
    assert_status(r, LEDGER_FORBIDDEN);
    assert_null(ledger_view_transfer(view, "t2"));
    /* Resolving a pending transfer follows its debit account. */
    struct auth_actor admin = actor("local", AUTH_ROLE_ADMIN, "");
    assert_status(run_actor(view, &admin, op_transfer("p-eg", "eg.mod", "fund.pool", 9, true)),
                  LEDGER_CREATED);
    struct ledger_op post = {.type = LEDGER_OP_POST, .id = "p-eg.post", .pending_id = "p-eg"};
    assert_status(run_actor(view, &us, post), LEDGER_FORBIDDEN);
    assert_int_equal(ledger_view_transfer(view, "p-eg")->state, LEDGER_STATE_PENDING);
    struct auth_actor eg = actor("eli", AUTH_ROLE_EDITOR, "eg");
    assert_status(run_actor(view, &eg, post), LEDGER_CREATED);
    /* The coordination cell's operations. */
    struct ledger_op unit = {.type = LEDGER_OP_UNIT, .id = "EUR", .scale = 2,
                             .flags = LEDGER_OP_HAS_SCALE};
    assert_status(run_actor(view, &us, unit), LEDGER_FORBIDDEN);
    assert_null(ledger_view_unit(view, "EUR"));
    struct ledger_op party = {.type = LEDGER_OP_PARTY, .id = "us", .kind = "nation"};
    assert_status(run_actor(view, &us, party), LEDGER_FORBIDDEN);
    struct auth_actor coordinator = actor("cora", AUTH_ROLE_COORDINATOR, "");
    assert_status(run_actor(view, &coordinator, unit), LEDGER_CREATED);
    assert_status(run_actor(view, &coordinator, party), LEDGER_CREATED);
    assert_sound(view);
}

static void editor_resolves_only_its_conditions(void **state)
{
    struct ledger_view *view = *state;
    char message[128];
    struct ledger_condition un = {.name = "ceasefire", .authority = "un", .timestamp = 1};
    struct ledger_condition us_c = {.name = "two_state", .authority = "us", .timestamp = 2};
    assert_true(ledger_view_add_condition(view, &un, message, sizeof message));
    assert_true(ledger_view_add_condition(view, &us_c, message, sizeof message));
    struct auth_actor us = actor("uma", AUTH_ROLE_EDITOR, "us");
    struct ledger_op resolve = {.type = LEDGER_OP_RESOLVE, .id = "ceasefire",
                                .state = COND_MET};
    struct ledger_result r = run_actor(view, &us, resolve);
    assert_status(r, LEDGER_FORBIDDEN);
    assert_non_null(strstr(r.message, "un"));
    assert_int_equal(ledger_view_condition(view, "ceasefire")->state, COND_OPEN);
    resolve.id = "two_state";
    assert_status(run_actor(view, &us, resolve), LEDGER_RESOLVED);
    assert_int_equal(ledger_view_condition(view, "two_state")->state, COND_MET);
}

static void readers_never_write(void **state)
{
    struct ledger_view *view = *state;
    const enum auth_role readers[] = {AUTH_ROLE_VIEWER, AUTH_ROLE_AUDITOR};
    for (size_t i = 0; i < 2; i++) {
        struct auth_actor reader = actor("ann", readers[i], readers[i] == AUTH_ROLE_VIEWER
                                                                ? "fund" : "");
        struct ledger_result r =
            run_actor(view, &reader, op_transfer("v", "us.dod", "fund.pool", 1, false));
        assert_status(r, LEDGER_FORBIDDEN);
        assert_non_null(strstr(r.message, "does not write"));
        assert_status(run_actor(view, &reader, op_approve("a", "v", true)), LEDGER_FORBIDDEN);
    }
    assert_int_equal(view->transfers_count, 0);
    assert_int_equal(view->approvals_count, 0);
    assert_balances(view, "us.dod", 0, 100000, 0, 0);
}

static void roles_have_names(void **state)
{
    (void)state;
    const char *names[] = {"admin", "coordinator", "editor", "viewer", "auditor"};
    for (int r = 0; r < AUTH_ROLE_COUNT; r++) {
        assert_string_equal(auth_role_name((enum auth_role)r), names[r]);
        enum auth_role parsed;
        assert_true(auth_role_parse(names[r], &parsed));
        assert_int_equal(parsed, r);
    }
    enum auth_role parsed;
    assert_false(auth_role_parse("root", &parsed));
    assert_false(auth_role_parse(NULL, &parsed));
    struct auth_actor local;
    auth_actor_local(&local);
    assert_string_equal(local.user, AUTH_LOCAL_USER);
    assert_int_equal(local.role, AUTH_ROLE_ADMIN);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(party_created_exists_and_different),
        T(party_invalid),
        T(guarded_account_validation),
        T(guarded_debits_must_be_pending),
        T(k_approvals_post),
        T(rejections_void_when_k_is_out_of_reach),
        T(approve_rejections),
        T(approval_rolled_back_with_its_chain),
        T(editor_writes_only_its_own),
        T(editor_resolves_only_its_conditions),
        T(readers_never_write),
        cmocka_unit_test(roles_have_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
