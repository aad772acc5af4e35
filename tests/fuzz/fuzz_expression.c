/*
 * fuzz_expression.c — condition expressions: cond_parse, cond_eval, cond_forecast.
 *
 * The input, NUL-terminated, is an expression (a pledge's `if`, a derived
 * condition's `when`) compiled against a small table of conditions:
 *
 *     index  name (alias)            kind
 *     0      a  (two_state)          base, open
 *     1      b  (ceasefire)          base, open
 *     2      c                       base, open
 *     3      d  (war)                base, open
 *     4      e  (all_clear)          derived: "a & !b"
 *     5      f                       base, met
 *     6      g                       base, failed
 *
 * and "me" is the condition being defined (naming it is a cycle).
 *
 * On failure: the error has a kind, a column in 1 … length+1, and a printable
 * message that gives that column. On success: the code names only known
 * conditions and is no longer than the text; the C stack the parser used
 * stays under a constant whatever the input (measured from the lookup
 * callback, which runs at the deepest point of the descent); cond_eval is
 * run on all 3^4 states of a … d, each decided answer must stay decided
 * under every completion of the open names (Kleene soundness, which the
 * forecasts rely on); and cond_forecast of a requirement hanging on the
 * expression must agree with a plain enumeration of the 2^4 assignments
 * through cond_eval (the forecast runs its own bit-plane programs, so this
 * is a differential test of two evaluators).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "cond/cond.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { NAMES = 7, VARIABLES = 4, STATES_3 = 81, ASSIGNMENTS_2 = 16 };
enum { INDEX_DERIVED = 4, INDEX_MET = 5, INDEX_FAILED = 6 };

/*
 * Parsing nests at most COND_DEPTH_MAX levels of four frames each: about
 * 10 KiB at full depth in this (ASan, -O1) build. Three times that still
 * fails a parser that lost its depth limit, which 1024 bytes of '(' would
 * take to some 160 KiB.
 */
#define PARSER_STACK_BYTES_MAX (32u * 1024u)

static const double probability[VARIABLES] = {0.5, 0.25, 0.9, 0.1};

struct lookup_ctx {
    uintptr_t stack_top;   /* frame address of the entry point */
    size_t stack_bytes;    /* deepest the parser went, as seen from lookup */
};

static int32_t lookup(void *ctx_, const char *name, size_t length)
{
    struct lookup_ctx *ctx = ctx_;
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    if (ctx != NULL && here < ctx->stack_top && ctx->stack_top - here > ctx->stack_bytes)
        ctx->stack_bytes = ctx->stack_top - here;
    static const struct { const char *name; int32_t index; } table[] = {
        {"a", 0}, {"b", 1}, {"c", 2}, {"d", 3}, {"e", 4}, {"f", 5}, {"g", 6},
        {"two_state", 0}, {"ceasefire", 1}, {"war", 3}, {"all_clear", 4},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strlen(table[i].name) == length && memcmp(table[i].name, name, length) == 0)
            return table[i].index;
    return -1;
}

/* The derived condition e, compiled once (it never changes). */
static const struct cond_expr *derived_when(void)
{
    static struct cond_expr when;
    if (when.code == NULL) {
        struct cond_error err;
        FUZZ_CHECK(cond_parse("a & !b", lookup, NULL, "e", &when, &err), "%s", err.message);
    }
    return &when;
}

/* Fills states[0..NAMES) from the states of a … d. */
static void states_fill(uint8_t states[NAMES], const uint8_t variables[VARIABLES])
{
    memcpy(states, variables, VARIABLES);
    states[INDEX_MET] = COND_MET;
    states[INDEX_FAILED] = COND_FAILED;
    states[INDEX_DERIVED] = (uint8_t)cond_eval(derived_when(), states);
}

static void check_failure(const char *text, size_t length, const struct cond_error *err)
{
    FUZZ_CHECK(err->kind != COND_ERROR_NONE, "failed without a kind");
    FUZZ_CHECK(err->message[0] != '\0', "failed without a message");
    for (const char *m = err->message; *m; m++)
        FUZZ_CHECK(*m >= 0x20 && *m < 0x7f, "unprintable byte 0x%02x in \"%s\"",
                   (unsigned char)*m, err->message);
    if (err->kind == COND_ERROR_NO_MEMORY) return; /* no position is at fault */
    FUZZ_CHECK(err->column >= 1 && err->column <= length + 1, "column %u of %zu bytes (%s): %s",
               err->column, length, err->message, text);
    if (err->kind == COND_ERROR_TOO_LONG) return; /* the message gives the limit instead */
    char column[32];
    snprintf(column, sizeof column, "column %u", err->column);
    const char *at = strstr(err->message, column);
    FUZZ_CHECK(at != NULL && (at[strlen(column)] < '0' || at[strlen(column)] > '9'),
               "message does not give column %u: %s", err->column, err->message);
}

/* All 3^4 states of a … d; a decided answer holds under every completion. */
static void check_kleene(const struct cond_expr *expr)
{
    uint8_t value[STATES_3];
    for (uint32_t s = 0; s < STATES_3; s++) {
        uint8_t variables[VARIABLES], states[NAMES];
        for (uint32_t j = 0, rest = s; j < VARIABLES; j++, rest /= 3) variables[j] = rest % 3;
        states_fill(states, variables);
        value[s] = (uint8_t)cond_eval(expr, states);
        FUZZ_CHECK(value[s] <= COND_FAILED, "state %u", value[s]);
    }
    /* Deciding one open name of a decided state keeps its answer; by induction, so does
     * every completion of it. */
    for (uint32_t s = 0; s < STATES_3; s++) {
        uint32_t power = 1; /* 3^j: the weight of name j's digit in s */
        for (uint32_t j = 0; j < VARIABLES; j++, power *= 3) {
            if ((s / power) % 3 != COND_OPEN || value[s] == COND_OPEN) continue;
            FUZZ_CHECK(value[s + power * COND_MET] == value[s] &&
                           value[s + power * COND_FAILED] == value[s],
                       "state %u decided %u, changed by deciding name %u", s, value[s], j);
        }
    }
}

/*
 * A requirement with 3 posted, 7 pending unconditionally and 100 pending on
 * expr, target 110: met exactly when expr is. The forecast must agree with
 * the enumeration of the 16 assignments of a … d weighed by their chances.
 */
static void check_forecast(const struct cond_expr *expr)
{
    double p_expr = 0;
    for (uint32_t a = 0; a < ASSIGNMENTS_2; a++) {
        uint8_t variables[VARIABLES], states[NAMES];
        double weight = 1;
        for (uint32_t j = 0; j < VARIABLES; j++) {
            bool met = (a >> j) & 1u;
            variables[j] = met ? COND_MET : COND_FAILED;
            weight *= met ? probability[j] : 1 - probability[j];
        }
        states_fill(states, variables);
        if (cond_eval(expr, states) == COND_MET) p_expr += weight;
    }
    const struct cond_expr *when[NAMES] = {[INDEX_DERIVED] = derived_when()};
    const uint8_t state[NAMES] = {[INDEX_MET] = COND_MET, [INDEX_FAILED] = COND_FAILED};
    const double chance[NAMES] = {probability[0], probability[1], probability[2],
                                  probability[3], 0, 1, 0};
    struct cond_system system = {.count = NAMES, .when = when, .state = state,
                                 .probability = chance};
    struct cond_term terms[2] = {{.expr = expr, .amount = 100}, {.expr = NULL, .amount = 7}};
    struct cond_forecast_input input = {.posted = 3, .target = 110, .terms = terms,
                                        .terms_count = 2};
    struct cond_forecast_options options = {.samples = 1000, .seed = 1};
    struct cond_forecast_output out;
    struct cond_forecast_summary summary;
    if (!cond_forecast(&system, &input, 1, &options, &out, &summary)) return; /* no memory */
    FUZZ_CHECK(summary.exact && summary.conditions <= VARIABLES, "exact %d over %u conditions",
               summary.exact, summary.conditions);
    FUZZ_CHECK(fabs(out.p_met - p_expr) < 1e-9, "p_met %.17g, enumeration %.17g", out.p_met,
               p_expr);
    FUZZ_CHECK(fabs(out.expected - (10 + 100 * p_expr)) < 1e-7, "expected %.17g, P %.17g",
               out.expected, p_expr);
    static const double quantile[3] = {0.1, 0.5, 0.9};
    const int64_t got[3] = {out.p10, out.p50, out.p90};
    for (int q = 0; q < 3; q++) {
        if (fabs((1 - p_expr) - quantile[q]) < 1e-6) continue; /* on the edge: either is right */
        int64_t want = 1 - p_expr >= quantile[q] ? 10 : 110;
        FUZZ_CHECK(got[q] == want, "quantile %g is %lld, want %lld (P %.17g)", quantile[q],
                   (long long)got[q], (long long)want, p_expr);
    }
}

static void check_success(const char *text, size_t length, const struct cond_expr *expr)
{
    FUZZ_CHECK(expr->code != NULL && expr->count >= 1, "success without code: %s", text);
    FUZZ_CHECK(expr->count <= length, "%u codes from %zu bytes", expr->count, length);
    for (uint32_t i = 0; i < expr->count; i++) {
        FUZZ_CHECK(expr->code[i].op <= COND_OP_OR, "opcode %u", expr->code[i].op);
        if (expr->code[i].op == COND_OP_NAME)
            FUZZ_CHECK(expr->code[i].name < NAMES, "name index %u", expr->code[i].name);
    }
    check_kleene(expr);
    check_forecast(expr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    size_t length = strlen(text); /* the parser's text ends at the first NUL */
    struct lookup_ctx ctx = {.stack_top = (uintptr_t)__builtin_frame_address(0)};
    struct cond_expr expr;
    struct cond_error err;
    if (cond_parse(text, lookup, &ctx, "me", &expr, &err)) {
        FUZZ_CHECK(err.kind == COND_ERROR_NONE, "success with error kind %d", (int)err.kind);
        check_success(text, length, &expr);
        cond_expr_free(&expr);
    } else {
        FUZZ_CHECK(expr.code == NULL && expr.count == 0, "failure left code behind");
        check_failure(text, length, &err);
    }
    FUZZ_CHECK(ctx.stack_bytes <= PARSER_STACK_BYTES_MAX, "parser used %zu bytes of stack",
               ctx.stack_bytes);
    free(text);
    return 0;
}
