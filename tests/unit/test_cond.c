/*
 * test_cond.c — unit tests of the conditions engine (src/cond/).
 *
 * Parsing: state and name helpers; the full Kleene truth tables of !, & and
 * | over {open, met, failed}; precedence and associativity, checked on the
 * postfix code itself (rendered as "a b c & |"); whitespace; and every kind
 * of error with its exact 1-based column.
 * Systems: base and derived conditions, derived of derived, and a derived
 * condition decided by one decided input while the other is still open.
 * Forecasts: hand-computed distributions (expected value, P(total ≥ target),
 * p10/p50/p90) with unconditional, met, failed and open terms; quantiles that
 * sit exactly on a cumulative probability; totals beyond int64; randomly
 * built systems checked against a brute-force reference that enumerates
 * every assignment through the public API (cond_system_states, cond_eval);
 * and Monte Carlo against the exact answer: 12 conditions carry the terms, 9
 * more are named only by a zero-amount term, which pushes the system past
 * COND_EXACT_CONDITIONS_MAX without changing the distribution.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cond/cond.h"

#define TEST_CONDITIONS_MAX 64
#define TEST_TERMS_MAX 64
#define TEST_NAME_BYTES 16

/* ---------------------------------------------------------------- a condition table */

/* The caller's side: named conditions, some derived, and the terms of requirements. */
struct table {
    char names[TEST_CONDITIONS_MAX][TEST_NAME_BYTES];
    uint32_t count;                                   /* conditions defined */
    uint32_t visible;                                 /* names lookup may return */
    struct cond_expr when[TEST_CONDITIONS_MAX];       /* derived: compiled `when` */
    const struct cond_expr *when_ref[TEST_CONDITIONS_MAX];
    uint8_t state[TEST_CONDITIONS_MAX];
    double probability[TEST_CONDITIONS_MAX];
    struct cond_expr exprs[TEST_TERMS_MAX];           /* terms' expressions */
    uint32_t exprs_count;
};

static int32_t table_lookup(void *ctx, const char *name, size_t length)
{
    const struct table *t = ctx;
    for (uint32_t i = 0; i < t->visible; i++)
        if (strlen(t->names[i]) == length && memcmp(t->names[i], name, length) == 0)
            return (int32_t)i;
    return -1;
}

static uint32_t table_base(struct table *t, const char *name, enum cond_state state, double p)
{
    assert_true(t->count < TEST_CONDITIONS_MAX);
    uint32_t i = t->count++;
    snprintf(t->names[i], TEST_NAME_BYTES, "%s", name);
    t->state[i] = (uint8_t)state;
    t->probability[i] = p;
    t->when_ref[i] = NULL;
    t->visible = t->count;
    return i;
}

static uint32_t table_derived(struct table *t, const char *name, const char *when)
{
    assert_true(t->count < TEST_CONDITIONS_MAX);
    uint32_t i = t->count;
    snprintf(t->names[i], TEST_NAME_BYTES, "%s", name);
    t->visible = i; /* a condition names only those before it */
    struct cond_error err;
    if (!cond_parse(when, table_lookup, t, name, &t->when[i], &err))
        fail_msg("when %s: %s", when, err.message);
    t->when_ref[i] = &t->when[i];
    t->state[i] = COND_FAILED; /* ignored for a derived condition */
    t->probability[i] = 0.5;
    t->count = i + 1;
    t->visible = t->count;
    return i;
}

static const struct cond_expr *table_expr(struct table *t, const char *text)
{
    assert_true(t->exprs_count < TEST_TERMS_MAX);
    struct cond_expr *e = &t->exprs[t->exprs_count];
    struct cond_error err;
    if (!cond_parse(text, table_lookup, t, NULL, e, &err)) fail_msg("%s: %s", text, err.message);
    t->exprs_count++;
    return e;
}

static struct cond_system table_system(const struct table *t)
{
    return (struct cond_system){.count = t->count, .when = t->when_ref, .state = t->state,
                                .probability = t->probability};
}

static void table_free(struct table *t)
{
    for (uint32_t i = 0; i < t->count; i++) cond_expr_free(&t->when[i]);
    for (uint32_t i = 0; i < t->exprs_count; i++) cond_expr_free(&t->exprs[i]);
}

static struct table *table_new(void)
{
    struct table *t = calloc(1, sizeof *t);
    assert_non_null(t);
    return t;
}

/* A fixed table a, b, c, d, e, all base and open, for parsing tests. */
static struct table *table_abcde(void)
{
    struct table *t = table_new();
    const char *names[] = {"a", "b", "c", "d", "e"};
    for (size_t i = 0; i < 5; i++) table_base(t, names[i], COND_OPEN, 0.5);
    return t;
}

/* Postfix code as text, names by the table: "a b c & |". */
static void render(const struct table *t, const struct cond_expr *e, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (uint32_t i = 0; i < e->count; i++) {
        const char *s = "?";
        switch ((enum cond_opcode)e->code[i].op) {
        case COND_OP_NAME: s = t->names[e->code[i].name]; break;
        case COND_OP_NOT: s = "!"; break;
        case COND_OP_AND: s = "&"; break;
        case COND_OP_OR: s = "|"; break;
        }
        n += (size_t)snprintf(out + n, size - n, "%s%s", i > 0 ? " " : "", s);
        assert_true(n < size);
    }
}

static void assert_postfix(struct table *t, const char *text, const char *expected)
{
    struct cond_expr e;
    struct cond_error err;
    if (!cond_parse(text, table_lookup, t, NULL, &e, &err)) fail_msg("%s: %s", text, err.message);
    assert_int_equal(err.kind, COND_ERROR_NONE);
    char got[256];
    render(t, &e, got, sizeof got);
    assert_string_equal(got, expected);
    cond_expr_free(&e);
}

/* ---------------------------------------------------------------- names and states */

static void state_names_round_trip(void **state)
{
    (void)state;
    assert_string_equal(cond_state_name(COND_OPEN), "open");
    assert_string_equal(cond_state_name(COND_MET), "met");
    assert_string_equal(cond_state_name(COND_FAILED), "failed");
    enum cond_state s = COND_FAILED;
    assert_true(cond_state_parse("open", &s));
    assert_int_equal(s, COND_OPEN);
    assert_true(cond_state_parse("met", &s));
    assert_int_equal(s, COND_MET);
    assert_true(cond_state_parse("failed", &s));
    assert_int_equal(s, COND_FAILED);
    s = COND_MET;
    assert_false(cond_state_parse("Met", &s));
    assert_false(cond_state_parse("", &s));
    assert_false(cond_state_parse("failed ", &s));
    assert_false(cond_state_parse(NULL, &s));
    assert_int_equal(s, COND_MET); /* untouched */
}

static void valid_names(void **state)
{
    (void)state;
    char longest[COND_NAME_BYTES_MAX + 2];
    memset(longest, 'a', sizeof longest);
    longest[COND_NAME_BYTES_MAX] = '\0';
    assert_true(cond_valid_name(longest));
    longest[COND_NAME_BYTES_MAX] = 'a';
    longest[COND_NAME_BYTES_MAX + 1] = '\0';
    assert_false(cond_valid_name(longest)); /* 65 bytes */
    assert_true(cond_valid_name("a"));
    assert_true(cond_valid_name("two_state"));
    assert_true(cond_valid_name("x9_"));
    assert_false(cond_valid_name(""));
    assert_false(cond_valid_name(NULL));
    assert_false(cond_valid_name("9x"));
    assert_false(cond_valid_name("_x"));
    assert_false(cond_valid_name("Two_state"));
    assert_false(cond_valid_name("twoState"));
    assert_false(cond_valid_name("two-state"));
    assert_false(cond_valid_name("two state"));
}

/* ---------------------------------------------------------------- truth tables */

static enum cond_state eval_text(struct table *t, const char *text, const uint8_t *states)
{
    struct cond_expr e;
    struct cond_error err;
    if (!cond_parse(text, table_lookup, t, NULL, &e, &err)) fail_msg("%s: %s", text, err.message);
    enum cond_state v = cond_eval(&e, states);
    cond_expr_free(&e);
    return v;
}

static void kleene_truth_tables(void **state)
{
    (void)state;
    enum { O = COND_OPEN, M = COND_MET, F = COND_FAILED };
    static const uint8_t values[3] = {O, M, F};
    static const uint8_t not_expected[3] = {O, F, M};
    static const uint8_t and_expected[3][3] = {{O, O, F}, {O, M, F}, {F, F, F}};
    static const uint8_t or_expected[3][3] = {{O, M, O}, {M, M, M}, {O, M, F}};
    struct table *t = table_abcde();
    for (int i = 0; i < 3; i++) {
        uint8_t states[5] = {values[i], O, O, O, O};
        assert_int_equal(eval_text(t, "!a", states), not_expected[i]);
        assert_int_equal(eval_text(t, "!!a", states), values[i]);
        assert_int_equal(eval_text(t, "a", states), values[i]);
        for (int j = 0; j < 3; j++) {
            states[1] = values[j];
            assert_int_equal(eval_text(t, "a & b", states), and_expected[i][j]);
            assert_int_equal(eval_text(t, "a | b", states), or_expected[i][j]);
            assert_int_equal(eval_text(t, "b & a", states), and_expected[i][j]);
            assert_int_equal(eval_text(t, "b | a", states), or_expected[i][j]);
            /* De Morgan holds in Kleene logic. */
            assert_int_equal(eval_text(t, "!(a & b)", states), eval_text(t, "!a | !b", states));
            assert_int_equal(eval_text(t, "!(a | b)", states), eval_text(t, "!a & !b", states));
        }
    }
    table_free(t);
    free(t);
}

static void precedence_and_associativity(void **state)
{
    (void)state;
    struct table *t = table_abcde();
    assert_postfix(t, "a", "a");
    assert_postfix(t, "a | b & c", "a b c & |");
    assert_postfix(t, "a & b | c", "a b & c |");
    assert_postfix(t, "!a & b", "a ! b &");
    assert_postfix(t, "!(a | b)", "a b | !");
    assert_postfix(t, "a & b | c & d", "a b & c d & |");
    assert_postfix(t, "a & b & c", "a b & c &");
    assert_postfix(t, "a | b | c", "a b | c |");
    assert_postfix(t, "a & (b | c)", "a b c | &");
    assert_postfix(t, "(a | b) & c", "a b | c &");
    assert_postfix(t, "!!a", "a ! !");
    assert_postfix(t, "!a | !b & !c", "a ! b ! c ! & |");
    assert_postfix(t, "((a))", "a");
    assert_postfix(t, "a | (b | (c | d)) & e", "a b c d | | e & |");

    /* And by value: a | b & c with a met, b failed, c open is met, not open. */
    uint8_t states[5] = {COND_MET, COND_FAILED, COND_OPEN, COND_OPEN, COND_OPEN};
    assert_int_equal(eval_text(t, "a | b & c", states), COND_MET);
    assert_int_equal(eval_text(t, "(a | b) & c", states), COND_OPEN);
    assert_int_equal(eval_text(t, "!a & c", states), COND_FAILED);
    assert_int_equal(eval_text(t, "!(a & c)", states), COND_OPEN);
    table_free(t);
    free(t);
}

static void whitespace_is_ignored(void **state)
{
    (void)state;
    struct table *t = table_abcde();
    assert_postfix(t, " \t a\n&\r\n( b|c ) ", "a b c | &");
    assert_postfix(t, "a&(b|c)", "a b c | &");
    assert_postfix(t, "!\t!\na", "a ! !");
    assert_postfix(t, "\n\na\n\n", "a");
    table_free(t);
    free(t);
}

/* What cond_expr_names reported, in order. */
struct visits {
    uint32_t index[8]; /* the first eight indexes visited */
    uint32_t count;    /* visits in all */
};

static void record_visit(void *ctx, uint32_t index)
{
    struct visits *v = ctx;
    if (v->count < 8) v->index[v->count] = index;
    v->count++;
}

static void expr_names_visits_every_name(void **state)
{
    (void)state;
    struct table *t = table_abcde();
    const struct cond_expr *e = table_expr(t, "a & !c | (a & e)");
    struct visits v = {{0}, 0};
    cond_expr_names(e, record_visit, &v);
    assert_int_equal(v.count, 4); /* repeats included */
    assert_int_equal(v.index[0], 0);
    assert_int_equal(v.index[1], 2);
    assert_int_equal(v.index[2], 0);
    assert_int_equal(v.index[3], 4);
    table_free(t);
    free(t);

    struct cond_expr empty = {0};
    cond_expr_free(&empty); /* harmless on what was never compiled */
    cond_expr_free(NULL);
}

/* ---------------------------------------------------------------- parse errors */

struct error_case {
    const char *text;
    enum cond_error_kind kind;
    uint32_t column;
    const char *mentions; /* a fragment the message must contain */
};

static void check_error(struct table *t, const char *text, const char *self,
                        enum cond_error_kind kind, uint32_t column, const char *mentions)
{
    struct cond_expr e = {(struct cond_code *)&e, 99}; /* garbage: must be reset */
    struct cond_error err;
    bool ok = cond_parse(text, table_lookup, t, self, &e, &err);
    if (ok || err.kind != kind || err.column != column ||
        (mentions != NULL && strstr(err.message, mentions) == NULL))
        fail_msg("\"%.40s\": ok=%d kind=%d column=%u message=\"%s\" (wanted kind %d column %u "
                 "mentioning \"%s\")",
                 text, ok, err.kind, err.column, err.message, kind, column,
                 mentions ? mentions : "");
    assert_null(e.code);
    assert_int_equal(e.count, 0);
    assert_true(strlen(err.message) > 0);
}

static void parse_errors_with_columns(void **state)
{
    (void)state;
    static const struct error_case cases[] = {
        {"", COND_ERROR_SYNTAX, 1, "empty expression"},
        {"   ", COND_ERROR_SYNTAX, 1, "empty expression"},
        {"a & (b | c", COND_ERROR_SYNTAX, 11, "unbalanced parentheses"},
        {"(a", COND_ERROR_SYNTAX, 3, "'(' at column 1"},
        {"((a)", COND_ERROR_SYNTAX, 5, "'(' at column 1"},
        {"a & & b", COND_ERROR_SYNTAX, 5, "found '&'"},
        {"a $ b", COND_ERROR_SYNTAX, 3, "unexpected character '$'"},
        {"a & b$", COND_ERROR_SYNTAX, 6, "unexpected character '$'"},
        {"a \x01", COND_ERROR_SYNTAX, 3, "0x01"},
        {"1abc", COND_ERROR_SYNTAX, 1, "'1abc'"},
        {"a | _b", COND_ERROR_SYNTAX, 5, "lower-case letter"},
        {"Abc", COND_ERROR_SYNTAX, 1, "lower-case letter"},
        {"a & bC", COND_ERROR_SYNTAX, 5, "upper-case 'C'"}, /* the name's column */
        {"a b", COND_ERROR_SYNTAX, 3, "found 'b'"},
        {"a (b)", COND_ERROR_SYNTAX, 3, "found '('"},
        {"a)", COND_ERROR_SYNTAX, 2, "no matching '('"},
        {"(a))", COND_ERROR_SYNTAX, 4, "no matching '('"},
        {"()", COND_ERROR_SYNTAX, 2, "found ')'"},
        {"a &", COND_ERROR_SYNTAX, 4, "unexpected end"},
        {"a |  ", COND_ERROR_SYNTAX, 6, "unexpected end"},
        {"!", COND_ERROR_SYNTAX, 2, "unexpected end"},
        {"& a", COND_ERROR_SYNTAX, 1, "found '&'"},
        {"(a b)", COND_ERROR_SYNTAX, 4, "')' for '(' at column 1"},
        {"a & zz", COND_ERROR_UNKNOWN_NAME, 5, "unknown condition 'zz'"},
        {"(a | b) & !nope", COND_ERROR_UNKNOWN_NAME, 12, "'nope'"},
        {"zz &", COND_ERROR_UNKNOWN_NAME, 1, "zz"}, /* leftmost error wins */
    };
    struct table *t = table_abcde();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_error(t, cases[i].text, NULL, cases[i].kind, cases[i].column, cases[i].mentions);

    /* A name of 65 bytes is too long; 64 bytes is a name (unknown here). */
    char text[COND_EXPR_BYTES_MAX + 8];
    memset(text, 'x', 65);
    text[65] = '\0';
    check_error(t, text, NULL, COND_ERROR_SYNTAX, 1, "longer than 64");
    memcpy(text, "a & ", 4);
    memset(text + 4, 'x', 65);
    text[69] = '\0';
    check_error(t, text, NULL, COND_ERROR_SYNTAX, 5, "longer than 64");
    text[68] = '\0';
    check_error(t, text, NULL, COND_ERROR_UNKNOWN_NAME, 5, "unknown condition");

    /* Naming the condition being defined is a cycle, at the name's column. */
    check_error(t, "a | c", "c", COND_ERROR_CYCLE, 5, "'c'");
    check_error(t, "b & !(a | c)", "c", COND_ERROR_CYCLE, 11, "being defined");
    check_error(t, "new_one & !(b | new_one)", "new_one", COND_ERROR_CYCLE, 1, "being defined");
    table_free(t);
    free(t);
}

static void parse_limits(void **state)
{
    (void)state;
    struct table *t = table_abcde();
    char text[COND_EXPR_BYTES_MAX + 8];
    struct cond_expr e;
    struct cond_error err;

    /* 32 nested parentheses parse; 33 are too deep, at the 33rd '('. */
    for (int depth = COND_DEPTH_MAX; depth <= COND_DEPTH_MAX + 1; depth++) {
        int n = 0;
        for (int i = 0; i < depth; i++) text[n++] = '(';
        text[n++] = 'a';
        for (int i = 0; i < depth; i++) text[n++] = ')';
        text[n] = '\0';
        if (depth == COND_DEPTH_MAX) {
            assert_true(cond_parse(text, table_lookup, t, NULL, &e, &err));
            assert_int_equal(e.count, 1);
            cond_expr_free(&e);
        } else {
            check_error(t, text, NULL, COND_ERROR_TOO_DEEP, COND_DEPTH_MAX + 1, "deeper than 32");
        }
    }
    /* The same for chains of '!', and for the two mixed. */
    for (int depth = COND_DEPTH_MAX; depth <= COND_DEPTH_MAX + 1; depth++) {
        memset(text, '!', (size_t)depth);
        text[depth] = 'a';
        text[depth + 1] = '\0';
        if (depth == COND_DEPTH_MAX) {
            assert_true(cond_parse(text, table_lookup, t, NULL, &e, &err));
            assert_int_equal(e.count, COND_DEPTH_MAX + 1);
            assert_int_equal(cond_eval(&e, (const uint8_t[5]){COND_MET}), COND_MET); /* even */
            cond_expr_free(&e);
        } else {
            check_error(t, text, NULL, COND_ERROR_TOO_DEEP, COND_DEPTH_MAX + 1, NULL);
        }
    }
    int n = 0;
    for (int i = 0; i < 16; i++) text[n++] = '!', text[n++] = '(';
    text[n++] = '!';
    text[n++] = 'a';
    text[n] = '\0';
    check_error(t, text, NULL, COND_ERROR_TOO_DEEP, 33, NULL);
    /* Depth is nesting, not length: a long flat chain is fine. */
    n = 0;
    for (int i = 0; i < 200; i++) n += snprintf(text + n, sizeof text - (size_t)n, "(a)&");
    text[n - 1] = '\0';
    assert_true(cond_parse(text, table_lookup, t, NULL, &e, &err));
    assert_int_equal(e.count, 399);
    cond_expr_free(&e);

    /* 1,024 bytes are accepted, 1,025 are too long. */
    memset(text, ' ', COND_EXPR_BYTES_MAX);
    text[0] = 'a';
    text[COND_EXPR_BYTES_MAX] = '\0';
    assert_true(cond_parse(text, table_lookup, t, NULL, &e, &err));
    cond_expr_free(&e);
    text[COND_EXPR_BYTES_MAX] = ' ';
    text[COND_EXPR_BYTES_MAX + 1] = '\0';
    check_error(t, text, NULL, COND_ERROR_TOO_LONG, COND_EXPR_BYTES_MAX + 1, "1024");
    /* The longest expression there can be: one code per byte. */
    for (int i = 0; i < COND_EXPR_BYTES_MAX; i++) text[i] = i % 2 == 0 ? 'a' : '|';
    text[COND_EXPR_BYTES_MAX - 1] = '\0';
    assert_true(cond_parse(text, table_lookup, t, NULL, &e, &err));
    assert_int_equal(e.count, COND_EXPR_BYTES_MAX - 1);
    assert_int_equal(cond_eval(&e, (const uint8_t[5]){COND_FAILED}), COND_FAILED);
    cond_expr_free(&e);
    table_free(t);
    free(t);
}

/* ---------------------------------------------------------------- systems */

static void system_states_derive(void **state)
{
    (void)state;
    struct table *t = table_new();
    uint32_t a = table_base(t, "a", COND_OPEN, 0.5);
    uint32_t b = table_base(t, "b", COND_MET, 0.5);
    uint32_t c = table_base(t, "c", COND_FAILED, 0.5);
    uint32_t x = table_derived(t, "x", "a & b");  /* open: a is */
    uint32_t y = table_derived(t, "y", "a & c");  /* failed by c alone */
    uint32_t z = table_derived(t, "z", "x | b");  /* met by b alone */
    uint32_t w = table_derived(t, "w", "!y");     /* derived of derived: met */
    uint32_t v = table_derived(t, "v", "x & !c"); /* open through x */
    uint32_t u = table_derived(t, "u", "v | y");  /* three levels: open */
    struct cond_system system = table_system(t);
    uint8_t states[TEST_CONDITIONS_MAX];
    memset(states, 0xee, sizeof states);
    cond_system_states(&system, states);
    assert_int_equal(states[a], COND_OPEN);
    assert_int_equal(states[b], COND_MET);
    assert_int_equal(states[c], COND_FAILED);
    assert_int_equal(states[x], COND_OPEN);
    assert_int_equal(states[y], COND_FAILED);
    assert_int_equal(states[z], COND_MET);
    assert_int_equal(states[w], COND_MET);
    assert_int_equal(states[v], COND_OPEN);
    assert_int_equal(states[u], COND_OPEN);

    t->state[a] = COND_MET;
    cond_system_states(&system, states);
    assert_int_equal(states[x], COND_MET);
    assert_int_equal(states[v], COND_MET);
    assert_int_equal(states[u], COND_MET);
    assert_int_equal(states[y], COND_FAILED);

    t->state[a] = COND_FAILED;
    cond_system_states(&system, states);
    assert_int_equal(states[x], COND_FAILED);
    assert_int_equal(states[v], COND_FAILED);
    assert_int_equal(states[u], COND_FAILED);
    assert_int_equal(states[z], COND_MET);

    /* A base condition may come as an empty expression (count 0), as the ledger keeps them. */
    struct cond_expr empty = {0};
    t->when_ref[a] = &empty;
    t->state[a] = COND_MET;
    cond_system_states(&system, states);
    assert_int_equal(states[a], COND_MET);
    assert_int_equal(states[x], COND_MET);
    table_free(t);
    free(t);
}

/* ---------------------------------------------------------------- forecasts */

static void assert_near(double got, double want, double tolerance)
{
    if (!(fabs(got - want) <= tolerance)) fail_msg("got %.12g, want %.12g ± %g", got, want, tolerance);
}

static void forecast_two_conditions_by_hand(void **state)
{
    (void)state;
    struct table *t = table_new();
    table_base(t, "a", COND_OPEN, 0.3);
    table_base(t, "b", COND_OPEN, 0.6);
    table_base(t, "c", COND_MET, 0.5);
    table_base(t, "d", COND_FAILED, 0.5);
    table_base(t, "e", COND_OPEN, 0.5); /* only behind y, which d decides */
    table_derived(t, "x", "a & b");
    table_derived(t, "y", "e & d");
    struct cond_term first[] = {
        {table_expr(t, "a"), 100},      {table_expr(t, "b"), 200},
        {table_expr(t, "a & b"), 400},  {table_expr(t, "a | b"), 800},
        {table_expr(t, "!a"), 1600},    {NULL, 3200},
        {table_expr(t, "c"), 6400},     {table_expr(t, "d"), 12800},
        {table_expr(t, "y"), 25600},    {table_expr(t, "!c & e"), 51200},
    };
    struct cond_term second[] = {{table_expr(t, "x"), 1000}};
    struct cond_forecast_input inputs[] = {
        {.posted = 10000, .target = 21200, .terms = first, .terms_count = 10},
        {.posted = 0, .target = 1000, .terms = second, .terms_count = 1},
        {.posted = 500, .target = 400, .terms = NULL, .terms_count = 0},
        {.posted = 10000, .target = 25000, .terms = first, .terms_count = 10},
    };
    struct cond_forecast_output out[4];
    struct cond_forecast_summary summary;
    struct cond_system system = table_system(t);
    assert_true(cond_forecast(&system, inputs, 4, NULL, out, &summary));
    assert_true(summary.exact);
    assert_int_equal(summary.conditions, 2); /* a and b; e is behind a decided y */
    assert_int_equal(summary.samples, 4);

    /*
     * Constant 10000 + 3200 + 6400 = 19600. a b: 1500 (0.18); a !b: 900
     * (0.12); !a b: 2600 (0.42); !a !b: 1600 (0.28). Sorted totals 20500
     * (0.12), 21100 (cum 0.30), 21200 (cum 0.58), 22200 (cum 1).
     */
    assert_near(out[0].expected, 21518.0, 1e-6);
    assert_near(out[0].p_met, 0.70, 1e-12);
    assert_int_equal(out[0].p10, 20500);
    assert_int_equal(out[0].p50, 21200);
    assert_int_equal(out[0].p90, 22200);
    /* x = a & b: 1000 with 0.18. */
    assert_near(out[1].expected, 180.0, 1e-9);
    assert_near(out[1].p_met, 0.18, 1e-12);
    assert_int_equal(out[1].p10, 0);
    assert_int_equal(out[1].p50, 0);
    assert_int_equal(out[1].p90, 1000);
    /* Nothing pending: certain. */
    assert_near(out[2].expected, 500.0, 0);
    assert_near(out[2].p_met, 1.0, 0);
    assert_int_equal(out[2].p10, 500);
    assert_int_equal(out[2].p50, 500);
    assert_int_equal(out[2].p90, 500);
    /* Out of reach. */
    assert_near(out[3].p_met, 0.0, 0);
    assert_int_equal(out[3].p90, 22200);
    table_free(t);
    free(t);
}

static void forecast_quantiles_on_the_boundary(void **state)
{
    (void)state;
    struct table *t = table_new();
    table_base(t, "f", COND_OPEN, 0.5);
    table_base(t, "g", COND_OPEN, 0.9);
    table_base(t, "h", COND_OPEN, 0.1);
    struct cond_term on_f[] = {{table_expr(t, "f"), 100}};
    struct cond_term on_not_g[] = {{table_expr(t, "!g"), 100}};
    struct cond_term on_h[] = {{table_expr(t, "h"), 100}};
    struct cond_forecast_input inputs[] = {
        {.posted = 0, .target = 100, .terms = on_f, .terms_count = 1},
        {.posted = 0, .target = 1, .terms = on_not_g, .terms_count = 1},
        {.posted = 7, .target = 107, .terms = on_h, .terms_count = 1},
    };
    struct cond_forecast_output out[3];
    struct cond_system system = table_system(t);
    assert_true(cond_forecast(&system, inputs, 3, NULL, out, NULL));
    /* P(total ≤ 0) = 0.5 exactly: the median is 0. */
    assert_int_equal(out[0].p10, 0);
    assert_int_equal(out[0].p50, 0);
    assert_int_equal(out[0].p90, 100);
    assert_near(out[0].p_met, 0.5, 1e-12);
    /* P(total ≤ 0) = P(g) = 0.9: p90 is 0. */
    assert_int_equal(out[1].p90, 0);
    assert_near(out[1].p_met, 0.1, 1e-12);
    /* P(total ≤ 7) = 0.9, P(total ≤ 107) = 1. */
    assert_int_equal(out[2].p10, 7);
    assert_int_equal(out[2].p90, 7);
    assert_near(out[2].expected, 17.0, 1e-9);
    table_free(t);
    free(t);
}

static void forecast_totals_beyond_int64(void **state)
{
    (void)state;
    struct table *t = table_new();
    table_base(t, "a", COND_OPEN, 0.5);
    table_base(t, "b", COND_OPEN, 0.5);
    struct cond_term big[] = {{table_expr(t, "a"), INT64_MAX}, {table_expr(t, "b"), INT64_MAX},
                              {NULL, INT64_MAX}};
    struct cond_term negative[] = {{table_expr(t, "a"), -100}};
    struct cond_forecast_input inputs[] = {
        {.posted = INT64_MAX, .target = INT64_MAX, .terms = big, .terms_count = 3},
        {.posted = 0, .target = INT64_MAX, .terms = big, .terms_count = 2},
        {.posted = 50, .target = 0, .terms = negative, .terms_count = 1},
    };
    struct cond_forecast_output out[3];
    struct cond_system system = table_system(t);
    assert_true(cond_forecast(&system, inputs, 3, NULL, out, NULL));
    /* 2, 3 or 4 × (2^63 − 1): reported clamped, met for sure. */
    assert_int_equal(out[0].p10, INT64_MAX);
    assert_int_equal(out[0].p90, INT64_MAX);
    assert_near(out[0].p_met, 1.0, 0);
    assert_near(out[0].expected, 3.0 * 9223372036854775807.0, 1e6);
    /* a | b reaches the target; 2 × (2^63 − 1) does not wrap to a negative. */
    assert_near(out[1].p_met, 0.75, 1e-12);
    assert_int_equal(out[1].p10, 0);
    assert_int_equal(out[1].p50, INT64_MAX);
    /* 50 − 100 is clamped to 0 when reported, but is below a target of 0. */
    assert_near(out[2].p_met, 0.5, 1e-12);
    assert_int_equal(out[2].p10, 0);
    assert_int_equal(out[2].p90, 50);
    assert_near(out[2].expected, 0.0, 1e-9);
    table_free(t);
    free(t);
}

/* Equal expressions given as separate terms (even separately compiled) add up. */
static void forecast_merges_equal_expressions(void **state)
{
    (void)state;
    struct table *t = table_new();
    table_base(t, "a", COND_OPEN, 0.25);
    table_base(t, "b", COND_OPEN, 0.5);
    const struct cond_expr *ab = table_expr(t, "a & b");
    struct cond_term split[] = {{ab, 10}, {table_expr(t, "a&b"), 20}, {ab, 30},
                                {table_expr(t, "b"), 1}};
    struct cond_term whole[] = {{table_expr(t, "a & b"), 60}, {table_expr(t, "b"), 1}};
    struct cond_forecast_input inputs[] = {
        {.posted = 0, .target = 61, .terms = split, .terms_count = 4},
        {.posted = 0, .target = 61, .terms = whole, .terms_count = 2},
    };
    struct cond_forecast_output out[2];
    struct cond_system system = table_system(t);
    assert_true(cond_forecast(&system, inputs, 2, NULL, out, NULL));
    assert_memory_equal(&out[0], &out[1], sizeof out[0]);
    assert_near(out[0].p_met, 0.125, 1e-12);
    assert_near(out[0].expected, 60 * 0.125 + 0.5, 1e-12);
    table_free(t);
    free(t);
}

/* ---------------------------------------------------------------- against brute force */

static uint64_t test_random(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Text being built by random_expr. */
struct text {
    char bytes[COND_EXPR_BYTES_MAX + 1]; /* NUL-terminated */
    size_t length;                       /* bytes in use */
};

static void text_append(struct text *t, const char *s)
{
    size_t n = strlen(s);
    assert_true(t->length + n < sizeof t->bytes);
    memcpy(t->bytes + t->length, s, n + 1);
    t->length += n;
}

/* Appends a random expression over the first `names` conditions of t, nested at most `depth`. */
static void random_expr(const struct table *t, uint32_t names, int depth, uint64_t *s,
                        struct text *out)
{
    uint64_t r = test_random(s) % 8;
    if (depth == 0 || r < 3) {
        text_append(out, t->names[test_random(s) % names]);
    } else if (r == 3) {
        text_append(out, "!(");
        random_expr(t, names, depth - 1, s, out);
        text_append(out, ")");
    } else {
        text_append(out, "(");
        random_expr(t, names, depth - 1, s, out);
        text_append(out, r < 6 ? " & " : " | ");
        random_expr(t, names, depth - 1, s, out);
        text_append(out, ")");
    }
}

struct reference_entry {
    __int128 total;
    double weight;
};

static int reference_compare(const void *a, const void *b)
{
    const struct reference_entry *x = a, *y = b;
    return x->total < y->total ? -1 : x->total > y->total;
}

static int64_t reference_clamp(__int128 v)
{
    return v < 0 ? 0 : v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* Every assignment of every open base condition, through the public API only. */
static void reference_forecast(const struct table *t, const struct cond_forecast_input *in,
                               struct cond_forecast_output *out)
{
    uint32_t open[TEST_CONDITIONS_MAX], k = 0;
    for (uint32_t i = 0; i < t->count; i++)
        if (t->when_ref[i] == NULL && t->state[i] == COND_OPEN) open[k++] = i;
    uint64_t n = UINT64_C(1) << k;
    struct reference_entry *entries = calloc(n, sizeof *entries);
    assert_non_null(entries);
    uint8_t base[TEST_CONDITIONS_MAX], states[TEST_CONDITIONS_MAX];
    memcpy(base, t->state, sizeof base);
    struct cond_system system = {.count = t->count, .when = t->when_ref, .state = base,
                                 .probability = t->probability};
    double expected = 0, met = 0;
    for (uint64_t a = 0; a < n; a++) {
        double w = 1;
        for (uint32_t j = 0; j < k; j++) {
            bool on = (a >> j) & 1;
            base[open[j]] = on ? COND_MET : COND_FAILED;
            w *= on ? t->probability[open[j]] : 1 - t->probability[open[j]];
        }
        cond_system_states(&system, states);
        __int128 total = in->posted;
        for (uint32_t i = 0; i < in->terms_count; i++) {
            const struct cond_expr *e = in->terms[i].expr;
            enum cond_state v = e == NULL ? COND_MET : cond_eval(e, states);
            assert_int_not_equal(v, COND_OPEN); /* everything is decided now */
            if (v == COND_MET) total += in->terms[i].amount;
        }
        entries[a] = (struct reference_entry){total, w};
        expected += w * (double)total;
        if (total >= in->target) met += w;
    }
    qsort(entries, n, sizeof *entries, reference_compare);
    const double q[3] = {0.1, 0.5, 0.9};
    int64_t *quantile[3] = {&out->p10, &out->p50, &out->p90};
    for (int i = 0; i < 3; i++) {
        double cumulative = 0;
        for (uint64_t a = 0; a < n; a++) {
            cumulative += entries[a].weight;
            if (cumulative >= q[i] * (1 - 1e-9) || a == n - 1) {
                *quantile[i] = reference_clamp(entries[a].total);
                break;
            }
        }
    }
    out->expected = expected;
    out->p_met = met;
    free(entries);
}

/* One random system with `open_count` open base conditions, checked against the reference. */
static void brute_force_trial(uint32_t open_count, uint64_t *s)
{
    struct table *t = table_new();
    char name[TEST_NAME_BYTES];
    struct text text;
    for (uint32_t i = 0; i < open_count; i++) {
        snprintf(name, sizeof name, "o%u", i);
        table_base(t, name, COND_OPEN, (double)(test_random(s) % 1001) / 1000.0);
    }
    table_base(t, "yes", COND_MET, 0.5);
    table_base(t, "no", COND_FAILED, 0.5);
    for (uint32_t i = 0; i < 4; i++) {
        text.length = 0;
        random_expr(t, t->count, 2, s, &text);
        snprintf(name, sizeof name, "d%u", i);
        table_derived(t, name, text.bytes);
    }
    struct cond_term terms[24];
    uint32_t terms_count = (uint32_t)(test_random(s) % 24);
    for (uint32_t i = 0; i < terms_count; i++) {
        text.length = 0;
        random_expr(t, t->count, 3, s, &text);
        uint64_t r = test_random(s) % 10;
        terms[i].expr = r == 0 ? NULL : r == 1 && i > 0 ? terms[i - 1].expr : table_expr(t, text.bytes);
        terms[i].amount = (int64_t)(test_random(s) % 1000000) + 1;
    }
    struct cond_forecast_input in = {.posted = (int64_t)(test_random(s) % 1000),
                                     .target = (int64_t)(test_random(s) % 5000000),
                                     .terms = terms, .terms_count = terms_count};
    struct cond_forecast_output got, want;
    struct cond_forecast_summary summary;
    struct cond_system system = table_system(t);
    assert_true(cond_forecast(&system, &in, 1, NULL, &got, &summary));
    reference_forecast(t, &in, &want);
    assert_true(summary.exact);
    assert_true(summary.conditions <= open_count);
    assert_near(got.expected, want.expected, 1e-9 * (fabs(want.expected) + 1));
    assert_near(got.p_met, want.p_met, 1e-9);
    if (got.p10 != want.p10 || got.p50 != want.p50 || got.p90 != want.p90)
        fail_msg("open %u: quantiles %lld %lld %lld, want %lld %lld %lld", open_count,
                 (long long)got.p10, (long long)got.p50, (long long)got.p90,
                 (long long)want.p10, (long long)want.p50, (long long)want.p90);
    table_free(t);
    free(t);
}

static void forecast_matches_brute_force(void **state)
{
    (void)state;
    uint64_t s = 20261120;
    /* Partial words (k < 6), whole words, several words, several blocks (k ≥ 13). */
    static const uint32_t sizes[] = {0, 1, 2, 3, 5, 6, 7, 8, 10, 12, 13, 14};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (int trial = 0; trial < (sizes[i] >= 12 ? 3 : 12); trial++)
            brute_force_trial(sizes[i], &s);
}

/* ---------------------------------------------------------------- Monte Carlo */

/* 12 conditions carry the terms; with `padding`, 9 more hang on a zero-amount term. */
static struct table *monte_carlo_table(bool padding, struct cond_term *terms,
                                       uint32_t *terms_count)
{
    struct table *t = table_new();
    char name[TEST_NAME_BYTES];
    for (uint32_t i = 0; i < 12; i++) {
        snprintf(name, sizeof name, "c%u", i);
        table_base(t, name, COND_OPEN, 0.1 + 0.07 * i);
    }
    table_base(t, "settled", COND_MET, 0.5);
    if (padding) {
        for (uint32_t i = 0; i < 9; i++) {
            snprintf(name, sizeof name, "z%u", i);
            table_base(t, name, COND_OPEN, 0.5);
        }
    }
    table_derived(t, "both", "c9 & c10");
    uint32_t n = 0;
    for (uint32_t i = 0; i < 12; i++) {
        snprintf(name, sizeof name, "c%u", i);
        terms[n++] = (struct cond_term){table_expr(t, name), (int64_t)(i + 1) * 1000};
    }
    terms[n++] = (struct cond_term){table_expr(t, "c0 & c1 | c2"), 5000};
    terms[n++] = (struct cond_term){table_expr(t, "!c3 & (c4 | c5)"), 7000};
    terms[n++] = (struct cond_term){table_expr(t, "c6 | c7 | !c8"), 3000};
    terms[n++] = (struct cond_term){table_expr(t, "both & c11 & settled"), 20000};
    terms[n++] = (struct cond_term){table_expr(t, "(c0 | c11) & !(c5 & c6)"), 4000};
    terms[n++] = (struct cond_term){NULL, 2500};
    if (padding)
        terms[n++] = (struct cond_term){
            table_expr(t, "z0 | z1 & z2 | !z3 | z4 & (z5 | z6) | z7 & !z8"), 0};
    *terms_count = n;
    return t;
}

static void forecast_monte_carlo_agrees_with_exact(void **state)
{
    (void)state;
    struct cond_term exact_terms[24], sampled_terms[24];
    uint32_t exact_count, sampled_count;
    struct table *exact = monte_carlo_table(false, exact_terms, &exact_count);
    struct table *sampled = monte_carlo_table(true, sampled_terms, &sampled_count);
    assert_int_equal(sampled_count, exact_count + 1);
    struct cond_forecast_input in[2] = {
        {.posted = 1000, .target = 70000, .terms = exact_terms, .terms_count = exact_count},
        {.posted = 1000, .target = 70000, .terms = sampled_terms, .terms_count = sampled_count},
    };
    struct cond_forecast_output want, got, again;
    struct cond_forecast_summary summary;
    struct cond_system exact_system = table_system(exact);
    assert_true(cond_forecast(&exact_system, &in[0], 1, NULL, &want, &summary));
    assert_true(summary.exact);
    assert_int_equal(summary.conditions, 12);
    assert_int_equal(summary.samples, 4096);
    assert_true(want.p_met > 0.2 && want.p_met < 0.8); /* a target worth estimating */

    struct cond_forecast_options options = {.samples = 200000, .seed = 42};
    struct cond_system sampled_system = table_system(sampled);
    assert_true(cond_forecast(&sampled_system, &in[1], 1, &options, &got, &summary));
    assert_false(summary.exact);
    assert_int_equal(summary.conditions, 21);
    assert_int_equal(summary.samples, 200000);
    assert_near(got.expected, want.expected, 0.01 * want.expected);
    assert_near(got.p_met, want.p_met, 0.01);
    assert_true(got.p10 <= got.p50 && got.p50 <= got.p90);
    assert_near((double)got.p50, (double)want.p50, 0.05 * (double)want.p50);

    /* The same seed gives the same figures; the default sample count applies. */
    assert_true(cond_forecast(&sampled_system, &in[1], 1, &options, &again, NULL));
    assert_memory_equal(&got, &again, sizeof got);
    options.samples = 0;
    assert_true(cond_forecast(&sampled_system, &in[1], 1, &options, &again, &summary));
    assert_int_equal(summary.samples, COND_SAMPLES_DEFAULT);
    assert_near(again.p_met, want.p_met, 0.05);
    table_free(exact);
    free(exact);
    table_free(sampled);
    free(sampled);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(state_names_round_trip),
        cmocka_unit_test(valid_names),
        cmocka_unit_test(kleene_truth_tables),
        cmocka_unit_test(precedence_and_associativity),
        cmocka_unit_test(whitespace_is_ignored),
        cmocka_unit_test(expr_names_visits_every_name),
        cmocka_unit_test(parse_errors_with_columns),
        cmocka_unit_test(parse_limits),
        cmocka_unit_test(system_states_derive),
        cmocka_unit_test(forecast_two_conditions_by_hand),
        cmocka_unit_test(forecast_quantiles_on_the_boundary),
        cmocka_unit_test(forecast_totals_beyond_int64),
        cmocka_unit_test(forecast_merges_equal_expressions),
        cmocka_unit_test(forecast_matches_brute_force),
        cmocka_unit_test(forecast_monte_carlo_agrees_with_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
