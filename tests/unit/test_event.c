/*
 * test_event.c — the audit log's event bodies (src/fmt/event.c).
 *
 * Replay rebuilds each batch from its recorded body, so decoding must give
 * back every field of every operation, and encoding what was decoded must
 * give back the very bytes that were hashed. Each case decodes a contract
 * operation (a token's creation and revocation among them), records it in an
 * event, decodes the event, and checks both the operation's fields and the
 * body's bytes, the lists of expired and settled transfers included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fmt/event.h"
#include "fmt/json.h"

static const char *const operations[] = {
    "{\"op\":\"unit\",\"code\":\"USD\",\"scale\":2,\"name\":\"US dollar\"}",
    "{\"op\":\"unit\",\"code\":\"BAD\",\"scale\":99,\"linked\":true}",
    "{\"op\":\"account\",\"id\":\"fund.pool\",\"unit\":\"USD\",\"name\":\"Pool\",\"owner\":\"fund\","
    "\"flags\":[\"debits_must_not_exceed_credits\",\"guarded\"],\"approvers\":[\"alice\",\"bob\"],"
    "\"approvals_required\":2}",
    "{\"op\":\"account\",\"id\":\"x\",\"unit\":\"USD\",\"flags\":[\"credits_must_not_exceed_debits\"],"
    "\"approvals_required\":40}",
    "{\"op\":\"transfer\",\"id\":\"p-1\",\"debit\":\"a\",\"credit\":\"b\",\"amount\":5000000000,"
    "\"unit\":\"USD\",\"kind\":\"pledge\",\"pending\":true,\"if\":\"two_state & !war\","
    "\"expires\":\"2027-06-30T00:00:00Z\",\"date\":\"2026-11-20\",\"memo\":\"line\\n\\\"q\\\"\\t\\u0001\","
    "\"meta\":{\"z\":[1,2.5,null,true],\"a\":{\"k\":\"\\u00e9\"}},\"linked\":true}",
    "{\"op\":\"transfer\",\"id\":\"t-0\",\"debit\":\"a\",\"credit\":\"b\",\"amount\":0}",
    "{\"op\":\"post\",\"id\":\"p-1.post\",\"pending_id\":\"p-1\",\"amount\":100,\"kind\":\"k\","
    "\"date\":\"2026-12-01T10:00:00.123456789Z\",\"memo\":\"m\",\"meta\":{\"x\":1}}",
    "{\"op\":\"void\",\"id\":\"p-1.void\",\"pending_id\":\"p-1\",\"memo\":\"no\",\"meta\":[1]}",
    "{\"op\":\"condition\",\"name\":\"two_state\",\"title\":\"Two states\",\"probability\":0.35,"
    "\"authority\":\"un\"}",
    "{\"op\":\"condition\",\"name\":\"c\",\"probability\":1}",
    "{\"op\":\"condition\",\"name\":\"d\",\"probability\":0.1,\"when\":\"a | (b & !c)\"}",
    "{\"op\":\"condition\",\"name\":\"z\",\"probability\":-0.0}",
    "{\"op\":\"resolve\",\"name\":\"two_state\",\"state\":\"met\"}",
    "{\"op\":\"resolve\",\"name\":\"war\",\"state\":\"failed\",\"linked\":true}",
    "{\"op\":\"requirement\",\"id\":\"r\",\"title\":\"Salaries\",\"account\":\"force.\","
    "\"measure\":\"credits\",\"target\":12000000000,\"due\":\"2027-12-31\",\"unit\":\"USD\"}",
    "{\"op\":\"rate\",\"unit\":\"EUR\",\"to\":\"USD\",\"rate\":\"1.0843\",\"date\":\"2026-01-01\"}",
    "{\"op\":\"party\",\"id\":\"us\",\"name\":\"United States\",\"kind\":\"nation\"}",
    "{\"op\":\"approve\",\"id\":\"ap\",\"pending_id\":\"g-1\",\"decision\":\"approve\"}",
    "{\"op\":\"approve\",\"id\":\"ap2\",\"pending_id\":\"g-1\",\"decision\":\"reject\"}",
    /* a token's creation and revocation (app/token.h): written as their canonical JSON */
    "{\"op\":\"token\",\"id\":\"0123456789abcdef\",\"user\":\"ann\",\"role\":\"viewer\","
    "\"party\":\"us\",\"expires\":\"2099-01-01T00:00:00.000000000Z\","
    "\"hash\":\"dfFt4tJ6Z73TYRdNVebsWo1+7PRsbLU8rwQocYtf8X8=\"}",
    "{\"op\":\"token_revoke\",\"id\":\"0123456789abcdef\"}",
    /* invalid ones: the message and the link survive */
    "{\"op\":\"transfer\",\"id\":\"t\",\"debit\":\"a\",\"credit\":\"b\",\"amount\":-5,\"linked\":true}",
    "{\"op\":\"bogus\"}",
    "{\"op\":\"unit\",\"code\":\"USD\",\"colour\":\"red\"}",
    "[1,2]",
};
#define OPERATIONS_COUNT (sizeof operations / sizeof operations[0])

static void assert_same_text(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static void assert_same_op(const struct ledger_op *a, const struct ledger_op *b)
{
    assert_int_equal(a->type, b->type);
    assert_same_text(a->invalid, b->invalid);
    /* An invalid op is only its message and its place in a chain: the engine reads no more. */
    assert_int_equal(a->flags & LEDGER_OP_LINKED, b->flags & LEDGER_OP_LINKED);
    if (a->invalid != NULL) return;
    assert_int_equal(a->flags, b->flags);
    const char *const *sa[] = {&a->id, &a->debit, &a->credit, &a->unit, &a->pending_id, &a->name,
                               &a->owner, &a->kind, &a->cond, &a->memo, &a->meta, &a->account,
                               &a->to, &a->rate, &a->approvers};
    const char *const *sb[] = {&b->id, &b->debit, &b->credit, &b->unit, &b->pending_id, &b->name,
                               &b->owner, &b->kind, &b->cond, &b->memo, &b->meta, &b->account,
                               &b->to, &b->rate, &b->approvers};
    for (size_t i = 0; i < sizeof sa / sizeof sa[0]; i++) assert_same_text(*sa[i], *sb[i]);
    assert_int_equal(a->amount, b->amount);
    assert_int_equal(a->date, b->date);
    assert_int_equal(a->expires, b->expires);
    assert_int_equal(a->scale, b->scale);
    assert_int_equal(a->account_flags, b->account_flags);
    assert_true(a->probability == b->probability);
    assert_int_equal(a->state, b->state);
    assert_int_equal(a->approvals_required, b->approvals_required);
    assert_int_equal(a->decision, b->decision);
}

static void decode_all(struct ledger_op *ops, struct arena *arena)
{
    for (size_t i = 0; i < OPERATIONS_COUNT; i++) {
        json_error_t jerr;
        json_t *v = json_loads(operations[i], JSON_INPUT_FLAGS, &jerr);
        assert_non_null(v);
        assert_true(json_decode_op(v, &ops[i], arena));
        json_decref(v);
    }
}

static void results_for(const struct ledger_op *ops, struct ledger_result *results)
{
    for (size_t i = 0; i < OPERATIONS_COUNT; i++) {
        results[i] = (struct ledger_result){.status = LEDGER_CREATED,
                                            .timestamp = 1795000000000000000 + (int64_t)i};
        if (ops[i].invalid != NULL)
            results[i] = (struct ledger_result){.status = LEDGER_INVALID, .message = ops[i].invalid};
        if (ops[i].type == LEDGER_OP_RESOLVE)
            results[i] = (struct ledger_result){.status = LEDGER_RESOLVED, .timestamp = 7,
                                                .posted = 3, .voided = 1};
        /* the first approval decided its transfer, the second did not */
        if (ops[i].type == LEDGER_OP_APPROVE && ops[i].invalid == NULL &&
            strcmp(ops[i].id, "ap") == 0)
            results[i].posted = 1;
    }
}

/* The recorded result of the operation whose id is id. */
static const json_t *result_of(const struct event_decoded *d, const char *id)
{
    for (size_t i = 0; i < d->count; i++)
        if (d->ops[i].invalid == NULL && d->ops[i].id != NULL && strcmp(d->ops[i].id, id) == 0)
            return json_array_get(d->results, i);
    fail_msg("no operation %s", id);
    return NULL;
}

static void test_round_trip(void **state)
{
    (void)state;
    struct arena arena;
    arena_init(&arena);
    struct ledger_op ops[OPERATIONS_COUNT];
    struct ledger_result results[OPERATIONS_COUNT];
    decode_all(ops, &arena);
    results_for(ops, results);
    const char *expired[] = {"p-9", "q\"x"};
    const char *settled[] = {"p-1/condition", "g-1/approval", "s\\/approval"};
    struct event e = {.seq = 42, .time = 1795000000123456789, .user = "alice",
                      .role = "editor", .party = "us", .ops = ops, .results = results,
                      .count = OPERATIONS_COUNT, .expired = expired, .expired_count = 2,
                      .settled = settled, .settled_count = 3};
    struct event_buffer first, second;
    event_buffer_init(&first);
    event_buffer_init(&second);
    assert_true(event_encode(&first, &e));
    struct event_decoded d;
    char message[256];
    assert_true(event_decode(first.data, first.length, &d, &arena, message, sizeof message));
    assert_int_equal(d.seq, 42);
    assert_int_equal(d.time, e.time);
    assert_string_equal(d.user, "alice");
    assert_string_equal(d.role, "editor");
    assert_string_equal(d.party, "us");
    assert_int_equal(d.count, OPERATIONS_COUNT);
    for (size_t i = 0; i < OPERATIONS_COUNT; i++) assert_same_op(&ops[i], &d.ops[i]);
    struct event again = e;
    again.ops = d.ops;
    assert_true(event_encode(&second, &again));
    assert_int_equal(first.length, second.length);
    assert_memory_equal(first.data, second.data, first.length);
    /* the body is JSON that jansson reads back, results, expired and settled included */
    assert_int_equal(json_array_size(d.results), OPERATIONS_COUNT);
    assert_string_equal(json_string_value(json_array_get(d.expired, 1)), "q\"x");
    assert_int_equal(json_array_size(d.settled), 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(json_string_value(json_array_get(d.settled, i)), settled[i]);
    assert_non_null(strstr(first.data, "\"expired\":[\"p-9\",\"q\\\"x\"],\"settled\":"
                                       "[\"p-1/condition\",\"g-1/approval\",\"s\\\\/approval\"]}"));
    /* token operations: keys sorted, the digest's base64 as given */
    assert_non_null(strstr(first.data, "{\"expires\":\"2099-01-01T00:00:00.000000000Z\","
                                       "\"hash\":\"dfFt4tJ6Z73TYRdNVebsWo1+7PRsbLU8rwQocYtf8X8=\","
                                       "\"id\":\"0123456789abcdef\",\"op\":\"token\","
                                       "\"party\":\"us\",\"role\":\"viewer\",\"user\":\"ann\"}"));
    assert_non_null(strstr(first.data, "{\"id\":\"0123456789abcdef\",\"op\":\"token_revoke\"}"));
    /* an approval that decided its transfer says how; one that did not says nothing */
    const json_t *decided = result_of(&d, "ap"), *undecided = result_of(&d, "ap2");
    assert_int_equal(json_integer_value(json_object_get(decided, "posted")), 1);
    assert_int_equal(json_integer_value(json_object_get(decided, "voided")), 0);
    assert_null(json_object_get(undecided, "posted"));
    assert_null(json_object_get(undecided, "voided"));
    event_decoded_free(&d);
    event_buffer_free(&first);
    event_buffer_free(&second);
    arena_free(&arena);
}

static void test_fixed_shape(void **state)
{
    (void)state;
    struct ledger_op op = {.type = LEDGER_OP_TRANSFER, .id = "t\x01\xff", .debit = "a",
                           .credit = "b", .amount = 5, .flags = LEDGER_OP_HAS_AMOUNT};
    struct ledger_result r = {.status = LEDGER_INVALID, .message = "bad"};
    struct event e = {.seq = 1, .time = 0, .user = "local", .role = "admin", .party = "",
                      .ops = &op, .results = &r, .count = 1};
    struct event_buffer b;
    event_buffer_init(&b);
    assert_true(event_encode(&b, &e));
    assert_string_equal(b.data,
                        "{\"seq\":1,\"time\":\"1970-01-01T00:00:00.000000000Z\","
                        "\"actor\":{\"user\":\"local\",\"role\":\"admin\"},"
                        "\"ops\":[{\"op\":\"transfer\",\"id\":\"t\\u0001\\u00ff\",\"debit\":\"a\","
                        "\"credit\":\"b\",\"amount\":5}],"
                        "\"results\":[{\"index\":0,\"status\":\"invalid\",\"message\":\"bad\"}],"
                        "\"expired\":[],\"settled\":[]}");
    event_buffer_free(&b);
}

static void test_decode_refuses(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "[]", "{\"seq\":1}",
        "{\"seq\":1,\"time\":\"x\",\"actor\":{\"user\":\"u\",\"role\":\"admin\"},\"ops\":[],"
        "\"results\":[],\"expired\":[],\"settled\":[]}",
        "{\"seq\":1,\"time\":\"2026-01-01T00:00:00Z\",\"actor\":{\"user\":\"u\"},\"ops\":[],"
        "\"results\":[],\"expired\":[],\"settled\":[]}",
        "{\"seq\":1,\"time\":\"2026-01-01T00:00:00Z\",\"actor\":{\"user\":\"u\",\"role\":\"a\"},"
        "\"ops\":[{}],\"results\":[],\"expired\":[],\"settled\":[]}",
        /* "settled" missing, or not a list of ids */
        "{\"seq\":1,\"time\":\"2026-01-01T00:00:00Z\",\"actor\":{\"user\":\"u\",\"role\":\"a\"},"
        "\"ops\":[],\"results\":[],\"expired\":[]}",
        "{\"seq\":1,\"time\":\"2026-01-01T00:00:00Z\",\"actor\":{\"user\":\"u\",\"role\":\"a\"},"
        "\"ops\":[],\"results\":[],\"expired\":[],\"settled\":[1]}",
        "{\"seq\":1,\"time\":\"2026-01-01T00:00:00Z\",\"actor\":{\"user\":\"u\",\"role\":\"a\"},"
        "\"ops\":[],\"results\":[],\"expired\":[],\"settled\":\"p/approval\"}",
        /* an expansion rule this build does not know, or the first one written out */
        "{\"seq\":1,\"time\":\"2026-01-01T00:00:00Z\",\"actor\":{\"user\":\"u\",\"role\":\"a\"},"
        "\"ops\":[],\"results\":[],\"expired\":[],\"settled\":[],\"expansion\":3}",
        "{\"seq\":1,\"time\":\"2026-01-01T00:00:00Z\",\"actor\":{\"user\":\"u\",\"role\":\"a\"},"
        "\"ops\":[],\"results\":[],\"expired\":[],\"settled\":[],\"expansion\":1}",
        "{\"seq\":1,\"time\":\"2026-01-01T00:00:00Z\",\"actor\":{\"user\":\"u\",\"role\":\"a\"},"
        "\"ops\":[],\"results\":[],\"expired\":[],\"settled\":[],\"expansion\":\"2\"}",
    };
    struct arena arena;
    arena_init(&arena);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct event_decoded d;
        char message[256] = "";
        assert_false(event_decode(bad[i], strlen(bad[i]), &d, &arena, message, sizeof message));
        assert_true(message[0] != '\0');
        event_decoded_free(&d);
    }
    const char *good = "{\"seq\":1,\"time\":\"2026-01-01T00:00:00Z\",\"actor\":{\"user\":\"u\","
                       "\"role\":\"a\"},\"ops\":[],\"results\":[],\"expired\":[],\"settled\":[]}";
    struct event_decoded d;
    char message[256] = "";
    assert_true(event_decode(good, strlen(good), &d, &arena, message, sizeof message));
    assert_int_equal(d.expansion, EVENT_EXPANSION_CHAINED); /* not said: the first rule */
    event_decoded_free(&d);
    arena_free(&arena);
}

/* The expansion rule: written after the lists, for a rule after the first only, read back. */
static void test_expansion(void **state)
{
    (void)state;
    struct event e = {.seq = 1, .time = 0, .user = "local", .role = "admin", .party = "",
                      .expansion = EVENT_EXPANSION_MAKERS_APART};
    struct event_buffer b;
    event_buffer_init(&b);
    assert_true(event_encode(&b, &e));
    assert_non_null(strstr(b.data, "\"settled\":[],\"expansion\":2}"));
    struct arena arena;
    arena_init(&arena);
    struct event_decoded d;
    char message[256] = "";
    assert_true(event_decode(b.data, b.length, &d, &arena, message, sizeof message));
    assert_int_equal(d.expansion, EVENT_EXPANSION_MAKERS_APART);
    event_decoded_free(&d);
    e.expansion = EVENT_EXPANSION_CHAINED;
    assert_true(event_encode(&b, &e));
    assert_null(strstr(b.data, "expansion"));
    arena_free(&arena);
    event_buffer_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_fixed_shape),
        cmocka_unit_test(test_decode_refuses),
        cmocka_unit_test(test_expansion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
