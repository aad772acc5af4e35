/*
 * test_public.c — the public header include/concord.h, as an embedding
 * program uses it: connect, submit JSON batches, read JSON results, verify.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <concord.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char db_path[64];

static int setup(void **state)
{
    (void)state;
    snprintf(db_path, sizeof db_path, "/tmp/concord-public-%d.db", (int)getpid());
    unlink(db_path);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[80];
    unlink(db_path);
    snprintf(p, sizeof p, "%s-wal", db_path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", db_path);
    unlink(p);
    snprintf(p, sizeof p, "%s.key", db_path); /* the audit key, created beside the database */
    unlink(p);
    return 0;
}

/* Submits text and returns the parsed results array (caller decrefs). */
static json_t *submit(struct concord *cc, const char *text, int expect_status)
{
    char error[256] = "";
    int status = -1;
    char *out = concord_submit(cc, text, strlen(text), &status, error, sizeof error);
    assert_int_equal(status, expect_status);
    if (out == NULL) return NULL;
    json_error_t jerr;
    json_t *results = json_loads(out, 0, &jerr);
    free(out);
    assert_non_null(results);
    return results;
}

static const char *status_at(json_t *results, size_t i)
{
    return json_string_value(json_object_get(json_array_get(results, i), "status"));
}

static void test_connect_submit_verify(void **state)
{
    (void)state;
    char error[256] = "";
    assert_null(concord_connect(db_path, false, error, sizeof error));
    assert_non_null(strstr(error, "concord init"));
    struct concord *cc = concord_connect(db_path, true, error, sizeof error);
    assert_non_null(cc);
    json_t *r = submit(cc,
                       "[{\"op\":\"unit\",\"code\":\"KG\",\"scale\":0},"
                       "{\"op\":\"account\",\"id\":\"crossing.ks.queued\",\"unit\":\"KG\"},"
                       "{\"op\":\"account\",\"id\":\"crossing.ks.cleared\",\"unit\":\"KG\","
                       "\"flags\":[\"credits_must_not_exceed_debits\"]},"
                       "{\"op\":\"transfer\",\"id\":\"flour-1\",\"debit\":\"crossing.ks.queued\","
                       "\"credit\":\"crossing.ks.cleared\",\"amount\":20000}]",
                       1);
    assert_int_equal(json_array_size(r), 4);
    assert_string_equal(status_at(r, 0), "created");
    assert_string_equal(status_at(r, 2), "created");
    assert_string_equal(status_at(r, 3), "exceeds_debits");
    json_decref(r);
    r = submit(cc, "[{\"op\":\"unit\",\"code\":\"KG\",\"scale\":0}]", 0);
    assert_string_equal(status_at(r, 0), "exists");
    json_decref(r);
    assert_null(submit(cc, "[{\"op\":", 2));
    assert_null(submit(cc, "{\"op\":\"unit\"}", 2));
    assert_int_equal(concord_verify(cc, error, sizeof error), 0);
    concord_disconnect(cc);
}

/* JSON scalars are invalid operations; a number beyond 64 bits refuses the batch, saying so. */
static void test_scalars_and_numbers_too_big(void **state)
{
    (void)state;
    char error[256] = "";
    struct concord *cc = concord_connect(db_path, true, error, sizeof error);
    assert_non_null(cc);
    json_t *r = submit(cc, "[42, \"x\", null, true]", 1);
    assert_int_equal(json_array_size(r), 4);
    for (size_t i = 0; i < 4; i++) assert_string_equal(status_at(r, i), "invalid");
    json_decref(r);
    const char *text = "[{\"op\":\"unit\",\"code\":\"KG\",\"scale\":0},\n"
                       " {\"op\":\"unit\",\"code\":\"T\",\"scale\":99999999999999999999}]";
    int status = -1;
    char *out = concord_submit(cc, text, strlen(text), &status, error, sizeof error);
    assert_null(out);
    assert_int_equal(status, 2);
    assert_non_null(strstr(error, "line 2, column 34"));
    assert_non_null(strstr(error, "does not fit 64 bits"));
    r = submit(cc, "[{\"op\":\"unit\",\"code\":\"KG\",\"scale\":0}]", 0);
    assert_string_equal(status_at(r, 0), "created"); /* nothing was committed before */
    json_decref(r);
    concord_disconnect(cc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_connect_submit_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scalars_and_numbers_too_big, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
