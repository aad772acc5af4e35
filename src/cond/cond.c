/*
 * cond.c — political conditions: parsing, Kleene evaluation, forecasts.
 *
 * Three parts, in this order, each behind a banner:
 *
 * Parsing. A hand-written recursive-descent parser over the grammar
 *
 *     or      := and ( '|' and )*
 *     and     := unary ( '&' unary )*
 *     unary   := '!'* primary
 *     primary := name | '(' or ')'
 *
 * with spaces, tabs, carriage returns and newlines allowed between tokens.
 * Binary operators are left-associative and parsed by iteration, chains of
 * '!' are counted by iteration too, so the only recursion is through '(' —
 * and every '(' and every '!' adds one to a depth that may not pass
 * COND_DEPTH_MAX: the C stack used by the parser is bounded by a constant.
 * Output is postfix code (struct cond_code), written straight into an array
 * allocated once: every code comes from at least one byte of text (a name is
 * one or more bytes, each operator one byte, parentheses emit nothing), so an
 * expression of n bytes compiles to at most n codes, and at most
 * COND_CODE_MAX codes in all. A name is lexed as a maximal run of
 * [A-Za-z0-9_] and then judged, so "Abc" or "1abc" get a message about the
 * name rather than about a stray character. Errors carry the 1-based byte
 * column of the offending token (or of the end of the text); the first error
 * from the left wins, so an unknown name before a syntax error is reported
 * as unknown.
 *
 * Evaluation. States are 0 open, 1 met, 2 failed; the three Kleene operators
 * are 3×3 tables. A postfix expression never needs more stack than it has
 * codes, so evaluation uses a fixed array of COND_CODE_MAX bytes.
 *
 * Forecasts. Only the open base conditions a requirement's pending amounts
 * can still depend on matter: a term whose expression is already decided is
 * a constant (Kleene logic guarantees that what is decided under the current
 * states stays decided under every completion of them), and inside an open
 * expression a decided name is a constant too. Walking the open names of the
 * open terms, and then — from the highest index down, which the creation
 * order makes a topological order — the open names of every open derived
 * condition reached, gives the k open base conditions involved ("variables")
 * and the open derived conditions whose values must be computed.
 *
 * Under a full assignment of the variables every involved value is decided,
 * so two-valued logic on bit planes suffices: a plane holds one bit per
 * assignment, 64 assignments per uint64_t word. Assignment a gives variable j
 * the value of bit j of a; for j < 6 that bit is a fixed pattern inside a
 * word (0xAAAA…, 0xCCCC…, …), for j ≥ 6 it is constant over a word and is
 * bit j−6 of the word's index. With k ≤ COND_EXACT_CONDITIONS_MAX all 2^k
 * assignments are enumerated and assignment a weighs Π p_j or (1 − p_j),
 * looked up as the product of two tables over the low and the high bits of
 * a. Beyond that, `samples` assignments are drawn with xoshiro256**, seeded
 * per block of words through splitmix64 from the caller's seed, and each
 * weighs 1/samples; the figures depend only on the seed.
 *
 * Expressions are compiled once more into "programs" whose names are plane
 * slots (constant zeros, constant ones, a variable, an involved derived
 * condition), and are run over a block of FORECAST_BLOCK_WORDS words at a
 * time with a stack of word arrays. A requirement's open terms are merged by
 * expression (equal code adds amounts) and summed eight at a time: for a
 * chunk of eight terms, a 256-entry table holds every subset sum of their
 * amounts; the eight result planes are transposed 8×8 bits at a time into
 * one byte per assignment, which indexes the table. That costs a handful of
 * operations per assignment per eight terms, however many terms there are,
 * and nothing is allocated per assignment. Totals are 128-bit.
 *
 * Per requirement, the expected value and P(total ≥ target) are accumulated
 * on the way; each total is also kept, clamped to 0 … 2^63−1 (clamping is
 * monotone, so quantiles of clamped totals are clamped quantiles), in an
 * array of one int64_t per assignment, with its weight (a double) when
 * exact. p10, p50 and p90 are then found by weighted quickselect with a
 * three-way partition, O(assignments) each. Memory, per call: 8 bytes per
 * assignment for totals, 8 more when exact (so 16 MiB at 2^20 assignments;
 * 80 MiB at COND_SAMPLES_MAX Monte Carlo samples), plus block scratch of
 * FORECAST_BLOCK_WORDS words per plane, per stack level and per chunk term,
 * a 128-bit accumulator per assignment of a block (64 KiB), and arrays
 * linear in the number of conditions, terms and codes. Requirements are
 * processed one after another and reuse all of it.
 *
 * A cumulative probability that is exactly q in real arithmetic may come out
 * a hair below q in floating point; quantiles accept P(total ≤ t) ≥
 * q·(1 − FORECAST_QUANTILE_TOLERANCE) so that such a t counts.
 *
 * Conventions at the edges: an empty expression (count 0, as the ledger
 * keeps a base condition's `when`) counts as no expression, both as a `when`
 * and as a term's `expr`; a sample count above COND_SAMPLES_MAX is clamped to
 * it; an error with no position in the text (out of memory) has column 0.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cond/cond.h"

/* A compiled expression has at most one code per byte of its text. */
#define COND_CODE_MAX COND_EXPR_BYTES_MAX

/* Words (of 64 assignments) evaluated together; 4,096 assignments a block. */
#define FORECAST_BLOCK_WORDS 64u
/* Terms summed together through one table of subset sums. */
#define FORECAST_CHUNK_TERMS 8u
#define FORECAST_CHUNK_SUMS (1u << FORECAST_CHUNK_TERMS)
/* Exact weights: a table over the low bits of an assignment, one over the rest. */
#define FORECAST_WEIGHT_LOW_BITS 10u
#define FORECAST_WEIGHT_TABLE_MAX (1u << FORECAST_WEIGHT_LOW_BITS)
/* Relative slack on cumulative probabilities when finding quantiles. */
#define FORECAST_QUANTILE_TOLERANCE 1e-9
/* Plane slots before the variables: constant zeros and constant ones. */
#define FORECAST_SLOT_ZEROS 0u
#define FORECAST_SLOT_ONES 1u
#define FORECAST_SLOT_FIRST 2u
#define FORECAST_SLOT_NONE UINT32_MAX

typedef __int128 wide_amount; /* totals: sums of up to 2^32 int64 amounts cannot overflow */

/* ---------------------------------------------------------------- names and states */

const char *cond_state_name(enum cond_state state)
{
    switch (state) {
    case COND_OPEN: return "open";
    case COND_MET: return "met";
    case COND_FAILED: return "failed";
    }
    return "unknown";
}

bool cond_state_parse(const char *text, enum cond_state *state)
{
    assert(state != NULL);
    if (text == NULL) return false;
    static const enum cond_state all[] = {COND_OPEN, COND_MET, COND_FAILED};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(text, cond_state_name(all[i])) == 0) {
            *state = all[i];
            return true;
        }
    }
    return false;
}

static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
static bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_word(char c) { return is_lower(c) || is_upper(c) || is_digit(c) || c == '_'; }
static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool cond_valid_name(const char *name)
{
    if (name == NULL || !is_lower(name[0])) return false;
    size_t n = 1;
    for (const char *p = name + 1; *p; p++, n++) {
        bool ok = is_lower(*p) || is_digit(*p) || *p == '_';
        if (!ok || n >= COND_NAME_BYTES_MAX) return false;
    }
    return true;
}

/* ---------------------------------------------------------------- code checks */

/*
 * The largest stack a postfix expression needs, or 0 when it is not a
 * well-formed expression (unknown opcode, an operator short of operands, or
 * not exactly one value left at the end).
 */
static uint32_t expr_height(const struct cond_expr *expr)
{
    if (expr == NULL || expr->code == NULL || expr->count == 0) return 0;
    if (expr->count > COND_CODE_MAX) return 0;
    uint32_t height = 0, height_max = 0;
    for (uint32_t i = 0; i < expr->count; i++) {
        switch ((enum cond_opcode)expr->code[i].op) {
        case COND_OP_NAME:
            height++;
            if (height > height_max) height_max = height;
            break;
        case COND_OP_NOT:
            if (height < 1) return 0;
            break;
        case COND_OP_AND:
        case COND_OP_OR:
            if (height < 2) return 0;
            height--;
            break;
        default: return 0;
        }
    }
    return height == 1 ? height_max : 0;
}

/* Does every name in expr index below `bound`? (Used inside assert.) */
static inline bool expr_names_below(const struct cond_expr *expr, uint32_t bound)
{
    for (uint32_t i = 0; i < expr->count; i++)
        if (expr->code[i].op == COND_OP_NAME && expr->code[i].name >= bound) return false;
    return true;
}

/* A base condition has no `when`, or an empty one (as the ledger keeps them). */
static const struct cond_expr *system_when(const struct cond_system *system, uint32_t index)
{
    if (system->when == NULL) return NULL;
    const struct cond_expr *when = system->when[index];
    return when != NULL && when->count > 0 ? when : NULL;
}

/* ---------------------------------------------------------------- parser */

struct parser {
    const char *text;        /* the expression, NUL-terminated */
    size_t length;           /* bytes of text, at most COND_EXPR_BYTES_MAX */
    size_t position;         /* next byte to read */
    uint32_t depth;          /* '(' and '!' enclosing the operand being parsed */
    cond_lookup_fn lookup;   /* name → index, or −1 */
    void *ctx;               /* for lookup */
    const char *self;        /* the condition being defined, or NULL */
    struct cond_code *code;  /* output, room for `length` codes */
    uint32_t count;          /* codes written */
    struct cond_error *err;  /* where failures are told */
};

static bool parser_fail(struct parser *p, enum cond_error_kind kind, size_t position,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static bool parser_fail(struct parser *p, enum cond_error_kind kind, size_t position,
                        const char *fmt, ...)
{
    assert(kind != COND_ERROR_NONE);
    assert(position <= COND_EXPR_BYTES_MAX);
    p->err->kind = kind;
    p->err->column = (uint32_t)position + 1;
    va_list args;
    va_start(args, fmt);
    vsnprintf(p->err->message, sizeof p->err->message, fmt, args);
    va_end(args);
    return false;
}

static void parser_skip_space(struct parser *p)
{
    while (p->position < p->length && is_space(p->text[p->position])) p->position++;
}

static char parser_peek(const struct parser *p)
{
    return p->position < p->length ? p->text[p->position] : '\0';
}

static bool is_token_start(char c)
{
    return is_word(c) || c == '!' || c == '&' || c == '|' || c == '(' || c == ')';
}

/* Describes the token at the current position for a message: "'&'", "name 'x'". */
static void parser_describe(const struct parser *p, char *out, size_t size)
{
    const char *at = p->text + p->position;
    if (p->position >= p->length) {
        snprintf(out, size, "end of expression");
    } else if (is_word(*at)) {
        size_t n = 0;
        while (p->position + n < p->length && is_word(at[n])) n++;
        const int shown = 24;
        if (n > (size_t)shown) snprintf(out, size, "'%.*s...'", shown, at);
        else snprintf(out, size, "'%.*s'", (int)n, at);
    } else {
        snprintf(out, size, "'%c'", *at);
    }
}

/*
 * Fails at the current position, where `expected` should have been: at the
 * end, on a byte that starts no token, or on a token out of place.
 */
static bool parser_unexpected(struct parser *p, const char *expected)
{
    size_t at = p->position;
    if (at >= p->length)
        return parser_fail(p, COND_ERROR_SYNTAX, at,
                           "unexpected end of expression at column %zu: expected %s", at + 1,
                           expected);
    unsigned char c = (unsigned char)p->text[at];
    if (!is_token_start((char)c)) {
        if (c >= 0x20 && c < 0x7f)
            return parser_fail(p, COND_ERROR_SYNTAX, at, "unexpected character '%c' at column %zu",
                               c, at + 1);
        return parser_fail(p, COND_ERROR_SYNTAX, at, "unexpected byte 0x%02x at column %zu", c,
                           at + 1);
    }
    char found[48];
    parser_describe(p, found, sizeof found);
    return parser_fail(p, COND_ERROR_SYNTAX, at, "expected %s at column %zu, found %s", expected,
                       at + 1, found);
}

static bool parser_enter(struct parser *p, char what)
{
    if (p->depth >= COND_DEPTH_MAX)
        return parser_fail(p, COND_ERROR_TOO_DEEP, p->position,
                           "'%c' at column %zu nests deeper than %d levels", what,
                           p->position + 1, COND_DEPTH_MAX);
    p->depth++;
    return true;
}

static void parser_emit(struct parser *p, enum cond_opcode op, uint32_t name)
{
    assert(p->count < p->length); /* one code per byte at most */
    p->code[p->count++] = (struct cond_code){.op = (uint32_t)op, .name = name};
}

/* A run of [A-Za-z0-9_] at the current position: judged, then looked up. */
static bool parse_name(struct parser *p)
{
    size_t start = p->position;
    const char *name = p->text + start;
    while (p->position < p->length && is_word(p->text[p->position])) p->position++;
    size_t n = p->position - start;
    assert(n > 0);
    const int shown = n > 24 ? 24 : (int)n;
    const char *more = n > 24 ? "..." : "";
    if (!is_lower(name[0]))
        return parser_fail(p, COND_ERROR_SYNTAX, start,
                           "invalid condition name '%.*s%s' at column %zu: a name starts with a "
                           "lower-case letter",
                           shown, name, more, start + 1);
    for (size_t i = 1; i < n; i++)
        if (is_upper(name[i]))
            return parser_fail(p, COND_ERROR_SYNTAX, start,
                               "invalid condition name '%.*s%s' at column %zu: upper-case '%c' "
                               "(names are [a-z][a-z0-9_]{0,63})",
                               shown, name, more, start + 1, name[i]);
    if (n > COND_NAME_BYTES_MAX)
        return parser_fail(p, COND_ERROR_SYNTAX, start,
                           "condition name '%.*s%s' at column %zu is %zu bytes, longer than %d",
                           shown, name, more, start + 1, n, COND_NAME_BYTES_MAX);
    if (p->self != NULL && strlen(p->self) == n && memcmp(p->self, name, n) == 0)
        return parser_fail(p, COND_ERROR_CYCLE, start,
                           "condition '%.*s' at column %zu names the condition being defined",
                           (int)n, name, start + 1);
    int32_t index = p->lookup(p->ctx, name, n);
    if (index < 0)
        return parser_fail(p, COND_ERROR_UNKNOWN_NAME, start,
                           "unknown condition '%.*s' at column %zu", (int)n, name, start + 1);
    parser_emit(p, COND_OP_NAME, (uint32_t)index);
    return true;
}

static bool parse_or(struct parser *p);

static bool parse_primary(struct parser *p)
{
    parser_skip_space(p);
    char c = parser_peek(p);
    if (is_word(c)) return parse_name(p);
    if (c != '(') return parser_unexpected(p, "a condition name, '!' or '('");
    size_t open = p->position;
    if (!parser_enter(p, '(')) return false;
    p->position++;
    if (!parse_or(p)) return false;
    parser_skip_space(p);
    if (parser_peek(p) == ')') {
        p->position++;
        p->depth--;
        return true;
    }
    if (p->position >= p->length)
        return parser_fail(p, COND_ERROR_SYNTAX, p->position,
                           "unbalanced parentheses: '(' at column %zu is not closed by the end "
                           "at column %zu",
                           open + 1, p->position + 1);
    char expected[64];
    snprintf(expected, sizeof expected, "')' for '(' at column %zu, '&' or '|'", open + 1);
    return parser_unexpected(p, expected);
}

static bool parse_unary(struct parser *p)
{
    uint32_t nots = 0;
    parser_skip_space(p);
    while (parser_peek(p) == '!') {
        if (!parser_enter(p, '!')) return false;
        p->position++;
        nots++;
        parser_skip_space(p);
    }
    if (!parse_primary(p)) return false;
    for (uint32_t i = 0; i < nots; i++) parser_emit(p, COND_OP_NOT, 0);
    assert(p->depth >= nots);
    p->depth -= nots;
    return true;
}

static bool parse_and(struct parser *p)
{
    if (!parse_unary(p)) return false;
    for (;;) { /* each round consumes an '&' and an operand: bounded by the length */
        parser_skip_space(p);
        if (parser_peek(p) != '&') return true;
        p->position++;
        if (!parse_unary(p)) return false;
        parser_emit(p, COND_OP_AND, 0);
    }
}

static bool parse_or(struct parser *p)
{
    if (!parse_and(p)) return false;
    for (;;) { /* each round consumes an '|' and an operand: bounded by the length */
        parser_skip_space(p);
        if (parser_peek(p) != '|') return true;
        p->position++;
        if (!parse_and(p)) return false;
        parser_emit(p, COND_OP_OR, 0);
    }
}

/* The whole text: one expression and nothing after it. */
static bool parse_text(struct parser *p)
{
    parser_skip_space(p);
    if (p->position >= p->length)
        return parser_fail(p, COND_ERROR_SYNTAX, 0,
                           "empty expression at column 1: expected a condition name, '!' or '('");
    if (!parse_or(p)) return false;
    parser_skip_space(p);
    if (p->position >= p->length) return true;
    if (parser_peek(p) == ')')
        return parser_fail(p, COND_ERROR_SYNTAX, p->position,
                           "unbalanced parentheses: ')' at column %zu has no matching '('",
                           p->position + 1);
    return parser_unexpected(p, "'&', '|' or the end of the expression");
}

bool cond_parse(const char *text, cond_lookup_fn lookup, void *ctx, const char *self,
                struct cond_expr *out, struct cond_error *err)
{
    assert(text != NULL);
    assert(lookup != NULL);
    assert(out != NULL);
    struct cond_error ignored;
    if (err == NULL) err = &ignored;
    memset(err, 0, sizeof *err);
    out->code = NULL;
    out->count = 0;

    size_t length = 0;
    while (length <= COND_EXPR_BYTES_MAX && text[length] != '\0') length++;
    struct parser p = {.text = text, .length = length, .lookup = lookup, .ctx = ctx,
                       .self = self, .err = err};
    if (length > COND_EXPR_BYTES_MAX)
        return parser_fail(&p, COND_ERROR_TOO_LONG, COND_EXPR_BYTES_MAX,
                           "expression is longer than %d bytes", COND_EXPR_BYTES_MAX);
    p.code = malloc((length > 0 ? length : 1) * sizeof *p.code);
    if (p.code == NULL) {
        err->kind = COND_ERROR_NO_MEMORY;
        err->column = 0; /* no position in the text is at fault */
        snprintf(err->message, sizeof err->message, "out of memory compiling an expression");
        return false;
    }
    if (!parse_text(&p)) {
        free(p.code);
        return false;
    }
    assert(p.depth == 0);
    assert(p.count > 0);
    out->code = p.code;
    out->count = p.count;
    assert(expr_height(out) > 0);
    return true;
}

void cond_expr_free(struct cond_expr *expr)
{
    if (expr == NULL) return;
    free(expr->code);
    expr->code = NULL;
    expr->count = 0;
}

/* ---------------------------------------------------------------- evaluation */

static const uint8_t kleene_not[3] = {COND_OPEN, COND_FAILED, COND_MET};
static const uint8_t kleene_and[3][3] = {
    /*              open       met        failed */
    [COND_OPEN] = {COND_OPEN, COND_OPEN, COND_FAILED},
    [COND_MET] = {COND_OPEN, COND_MET, COND_FAILED},
    [COND_FAILED] = {COND_FAILED, COND_FAILED, COND_FAILED},
};
static const uint8_t kleene_or[3][3] = {
    /*              open       met        failed */
    [COND_OPEN] = {COND_OPEN, COND_MET, COND_OPEN},
    [COND_MET] = {COND_MET, COND_MET, COND_MET},
    [COND_FAILED] = {COND_OPEN, COND_MET, COND_FAILED},
};

enum cond_state cond_eval(const struct cond_expr *expr, const uint8_t *states)
{
    assert(expr != NULL && expr->code != NULL);
    assert(expr->count >= 1 && expr->count <= COND_CODE_MAX);
    assert(states != NULL);
    uint8_t stack[COND_CODE_MAX]; /* a postfix expression pushes at most once per code */
    uint32_t height = 0;
    for (uint32_t i = 0; i < expr->count; i++) {
        const struct cond_code c = expr->code[i];
        switch ((enum cond_opcode)c.op) {
        case COND_OP_NAME:
            assert(states[c.name] <= COND_FAILED);
            stack[height++] = states[c.name];
            break;
        case COND_OP_NOT:
            assert(height >= 1);
            stack[height - 1] = kleene_not[stack[height - 1]];
            break;
        case COND_OP_AND:
            assert(height >= 2);
            height--;
            stack[height - 1] = kleene_and[stack[height - 1]][stack[height]];
            break;
        case COND_OP_OR:
            assert(height >= 2);
            height--;
            stack[height - 1] = kleene_or[stack[height - 1]][stack[height]];
            break;
        default: assert(!"unknown opcode"); return COND_OPEN;
        }
    }
    assert(height == 1);
    return (enum cond_state)stack[0];
}

void cond_expr_names(const struct cond_expr *expr, void (*visit)(void *ctx, uint32_t index),
                     void *ctx)
{
    assert(expr != NULL);
    assert(visit != NULL);
    for (uint32_t i = 0; i < expr->count; i++)
        if (expr->code[i].op == COND_OP_NAME) visit(ctx, expr->code[i].name);
}

void cond_system_states(const struct cond_system *system, uint8_t *states)
{
    assert(system != NULL);
    assert(states != NULL);
    assert(system->count == 0 || system->state != NULL);
    for (uint32_t i = 0; i < system->count; i++) {
        const struct cond_expr *when = system_when(system, i);
        if (when == NULL) {
            assert(system->state[i] <= COND_FAILED);
            states[i] = system->state[i] <= COND_FAILED ? system->state[i] : COND_OPEN;
        } else {
            assert(expr_names_below(when, i)); /* creation order is topological */
            states[i] = (uint8_t)cond_eval(when, states);
        }
    }
}

/* ---------------------------------------------------------------- forecast: random numbers */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

struct xoshiro {
    uint64_t s[4]; /* xoshiro256** state, never all zero */
};

static void xoshiro_seed(struct xoshiro *x, uint64_t seed)
{
    for (int i = 0; i < 4; i++) x->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t xoshiro_next(struct xoshiro *x)
{
    uint64_t *s = x->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1) with 53 bits: below p with probability p (never for p = 0, always for 1). */
static double xoshiro_unit(struct xoshiro *x)
{
    return (double)(xoshiro_next(x) >> 11) * 0x1.0p-53;
}

/* ---------------------------------------------------------------- forecast: state */

struct forecast_op {
    uint32_t op;   /* enum cond_opcode */
    uint32_t slot; /* COND_OP_NAME: plane slot to push */
};

struct forecast_program {
    uint32_t start; /* first op in forecast.ops */
    uint32_t count; /* ops, ≥ 1 */
};

/* One open term of the requirement at hand, after merging equal expressions. */
struct forecast_term {
    const struct cond_expr *expr;    /* the (first) expression */
    uint64_t hash;                   /* of expr's code */
    struct forecast_program program; /* expr compiled to plane slots */
    wide_amount amount;              /* summed over the merged terms */
};

struct forecast {
    const struct cond_system *system;
    uint8_t *states;                  /* current state of every condition */
    uint32_t *slot;                   /* plane slot of each involved open condition, else NONE */
    uint32_t variables;               /* k: open base conditions involved */
    double *probability;              /* of each variable, in [0,1] */
    uint32_t deriveds;                /* open derived conditions involved */
    struct forecast_program *derived; /* their `when`, in index order */
    bool exact;                       /* enumerate (k ≤ COND_EXACT_CONDITIONS_MAX) or sample */
    uint64_t assignments;             /* 2^k, or the number of samples */
    uint64_t words;                   /* ceil(assignments / 64) */
    uint32_t block_words;             /* words per block: min(FORECAST_BLOCK_WORDS, words) */
    uint64_t seed;                    /* Monte Carlo */
    uint32_t height_max;              /* deepest program stack */

    struct forecast_op *ops;   /* programs: derived ones first, then the terms' */
    uint32_t ops_count;        /* in use */
    uint32_t ops_capacity;     /* allocated */
    uint32_t ops_derived;      /* ops of the derived programs, kept across requirements */

    struct forecast_term *terms; /* the requirement at hand */
    uint32_t terms_count;        /* in use */
    uint32_t terms_capacity;     /* allocated */
    uint32_t *merge;             /* hash → terms index + 1 (0: empty) */
    uint32_t merge_capacity;     /* a power of two, > 2 × terms_count */

    uint64_t *planes;           /* (FORECAST_SLOT_FIRST + k + deriveds) × block_words */
    uint64_t *stack;            /* height_max × block_words */
    const uint64_t **stack_ref; /* height_max: where each stack level's words are */
    uint64_t *masks;            /* FORECAST_CHUNK_TERMS × block_words: a chunk's results */
    wide_amount *sum;           /* 64 × block_words: terms' sum per assignment of a block */
    double weight_low[FORECAST_WEIGHT_TABLE_MAX];  /* exact: Π over the low variables */
    double weight_high[FORECAST_WEIGHT_TABLE_MAX]; /* exact: Π over the others */
    int64_t *totals;            /* assignments: clamped totals, for quantiles */
    double *weights;            /* assignments, exact only: each total's weight */
};

static void forecast_free(struct forecast *f)
{
    free(f->states);
    free(f->slot);
    free(f->probability);
    free(f->derived);
    free(f->ops);
    free(f->terms);
    free(f->merge);
    free(f->planes);
    free(f->stack);
    free(f->stack_ref);
    free(f->masks);
    free(f->sum);
    free(f->totals);
    free(f->weights);
}

static uint64_t *forecast_plane(const struct forecast *f, uint32_t slot)
{
    return f->planes + (size_t)slot * f->block_words;
}

/* Grows *array (of element bytes each) to hold at least `needed`; false when out of memory. */
static bool grow(void **array, uint32_t *capacity, uint64_t needed, size_t element)
{
    if (needed <= *capacity) return true;
    if (needed > UINT32_MAX / 2) return false;
    uint64_t wanted = *capacity > 0 ? *capacity : 16;
    while (wanted < needed) wanted *= 2;
    void *bigger = realloc(*array, (size_t)wanted * element);
    if (bigger == NULL) return false;
    *array = bigger;
    *capacity = (uint32_t)wanted;
    return true;
}

/* ---------------------------------------------------------------- forecast: what is involved */

struct mark_ctx {
    const uint8_t *states; /* current states */
    uint8_t *involved;     /* set for each open condition reached */
};

static void mark_open(void *ctx, uint32_t index)
{
    struct mark_ctx *m = ctx;
    if (m->states[index] == COND_OPEN) m->involved[index] = 1;
}

/*
 * Marks the open conditions the open terms reach, numbers the variables and
 * the involved derived conditions in index order, and finds the deepest stack
 * any program will need. `involved` has system->count bytes, zeroed.
 */
static void forecast_involve(struct forecast *f, const struct cond_forecast_input *inputs,
                             uint32_t count, uint8_t *involved)
{
    const struct cond_system *system = f->system;
    struct mark_ctx m = {.states = f->states, .involved = involved};
    f->height_max = 1;
    for (uint32_t r = 0; r < count; r++) {
        for (uint32_t t = 0; t < inputs[r].terms_count; t++) {
            const struct cond_expr *expr = inputs[r].terms[t].expr;
            if (expr == NULL || expr->count == 0) continue;
            assert(expr_names_below(expr, system->count));
            if (cond_eval(expr, f->states) != COND_OPEN) continue;
            cond_expr_names(expr, mark_open, &m);
            uint32_t height = expr_height(expr);
            assert(height > 0);
            if (height > f->height_max) f->height_max = height;
        }
    }
    for (uint32_t i = system->count; i-- > 0;) { /* names come before their namers */
        const struct cond_expr *when = system_when(system, i);
        if (!involved[i] || when == NULL) continue;
        cond_expr_names(when, mark_open, &m);
        uint32_t height = expr_height(when);
        if (height > f->height_max) f->height_max = height;
    }
    f->variables = 0;
    f->deriveds = 0;
    for (uint32_t i = 0; i < system->count; i++)
        if (involved[i] && system_when(system, i) == NULL) f->variables++;
    uint32_t variable = 0, derived = 0;
    for (uint32_t i = 0; i < system->count; i++) {
        f->slot[i] = FORECAST_SLOT_NONE;
        if (!involved[i]) continue;
        if (system_when(system, i) == NULL) f->slot[i] = FORECAST_SLOT_FIRST + variable++;
        else f->slot[i] = FORECAST_SLOT_FIRST + f->variables + derived++;
    }
    f->deriveds = derived;
}

/* Appends expr's code with names turned into plane slots (decided names into constants). */
static bool forecast_compile(struct forecast *f, const struct cond_expr *expr,
                             struct forecast_program *program)
{
    if (!grow((void **)&f->ops, &f->ops_capacity, (uint64_t)f->ops_count + expr->count,
              sizeof *f->ops))
        return false;
    program->start = f->ops_count;
    program->count = expr->count;
    for (uint32_t i = 0; i < expr->count; i++) {
        struct cond_code c = expr->code[i];
        struct forecast_op op = {.op = c.op, .slot = 0};
        if (c.op == COND_OP_NAME) {
            uint8_t state = f->states[c.name];
            if (state == COND_MET) op.slot = FORECAST_SLOT_ONES;
            else if (state == COND_FAILED) op.slot = FORECAST_SLOT_ZEROS;
            else op.slot = f->slot[c.name];
            assert(op.slot != FORECAST_SLOT_NONE); /* every open name was involved */
        }
        f->ops[f->ops_count++] = op;
    }
    return true;
}

/* ---------------------------------------------------------------- forecast: setup */

static bool forecast_allocate(struct forecast *f)
{
    size_t block = f->block_words;
    size_t slots = FORECAST_SLOT_FIRST + (size_t)f->variables + f->deriveds;
    f->planes = malloc(slots * block * sizeof *f->planes);
    f->stack = malloc((size_t)f->height_max * block * sizeof *f->stack);
    f->stack_ref = malloc((size_t)f->height_max * sizeof *f->stack_ref);
    f->masks = malloc(FORECAST_CHUNK_TERMS * block * sizeof *f->masks);
    f->sum = malloc(64 * block * sizeof *f->sum);
    f->totals = malloc((size_t)f->assignments * sizeof *f->totals);
    if (f->exact) f->weights = malloc((size_t)f->assignments * sizeof *f->weights);
    if (f->planes == NULL || f->stack == NULL || f->stack_ref == NULL || f->masks == NULL ||
        f->sum == NULL || f->totals == NULL || (f->exact && f->weights == NULL))
        return false;
    memset(forecast_plane(f, FORECAST_SLOT_ZEROS), 0x00, block * sizeof *f->planes);
    memset(forecast_plane(f, FORECAST_SLOT_ONES), 0xff, block * sizeof *f->planes);
    return true;
}

/* Exact weights: weight(a) = weight_low[a & low mask] × weight_high[a >> low bits]. */
static void forecast_weight_tables(struct forecast *f)
{
    assert(f->exact);
    uint32_t low_bits = f->variables < FORECAST_WEIGHT_LOW_BITS ? f->variables
                                                                : FORECAST_WEIGHT_LOW_BITS;
    uint32_t high_bits = f->variables - low_bits;
    assert(high_bits <= FORECAST_WEIGHT_LOW_BITS);
    for (uint32_t a = 0; a < (1u << low_bits); a++) {
        double w = 1.0;
        for (uint32_t j = 0; j < low_bits; j++)
            w *= (a >> j) & 1 ? f->probability[j] : 1.0 - f->probability[j];
        f->weight_low[a] = w;
    }
    for (uint32_t b = 0; b < (1u << high_bits); b++) {
        double w = 1.0;
        for (uint32_t j = 0; j < high_bits; j++)
            w *= (b >> j) & 1 ? f->probability[low_bits + j] : 1.0 - f->probability[low_bits + j];
        f->weight_high[b] = w;
    }
}

static double forecast_weight(const struct forecast *f, uint64_t assignment)
{
    uint32_t low_bits = f->variables < FORECAST_WEIGHT_LOW_BITS ? f->variables
                                                                : FORECAST_WEIGHT_LOW_BITS;
    return f->weight_low[assignment & ((UINT64_C(1) << low_bits) - 1)] *
           f->weight_high[assignment >> low_bits];
}

static bool forecast_prepare(struct forecast *f, const struct cond_system *system,
                             const struct cond_forecast_input *inputs, uint32_t count,
                             const struct cond_forecast_options *options)
{
    f->system = system;
    uint32_t n = system->count;
    f->states = malloc(n > 0 ? n : 1);
    f->slot = malloc((n > 0 ? n : 1) * sizeof *f->slot);
    uint8_t *involved = calloc(n > 0 ? n : 1, 1);
    if (f->states == NULL || f->slot == NULL || involved == NULL) {
        free(involved);
        return false;
    }
    cond_system_states(system, f->states);
    forecast_involve(f, inputs, count, involved);

    f->probability = malloc((f->variables > 0 ? f->variables : 1) * sizeof *f->probability);
    f->derived = malloc((f->deriveds > 0 ? f->deriveds : 1) * sizeof *f->derived);
    bool ok = f->probability != NULL && f->derived != NULL;
    for (uint32_t i = 0; ok && i < n; i++) {
        if (f->slot[i] == FORECAST_SLOT_NONE) continue;
        uint32_t index = f->slot[i] - FORECAST_SLOT_FIRST;
        const struct cond_expr *when = system_when(system, i);
        if (when != NULL) {
            ok = forecast_compile(f, when, &f->derived[index - f->variables]);
            continue;
        }
        assert(system->probability != NULL);
        double p = system->probability[i];
        assert(p >= 0.0 && p <= 1.0);
        f->probability[index] = p >= 0.0 ? (p <= 1.0 ? p : 1.0) : 0.0; /* NaN → 0 */
    }
    free(involved);
    if (!ok) return false;
    f->ops_derived = f->ops_count;

    uint32_t samples = options != NULL ? options->samples : 0;
    if (samples == 0) samples = COND_SAMPLES_DEFAULT;
    if (samples > COND_SAMPLES_MAX) samples = COND_SAMPLES_MAX;
    f->seed = options != NULL ? options->seed : 0;
    f->exact = f->variables <= COND_EXACT_CONDITIONS_MAX;
    f->assignments = f->exact ? UINT64_C(1) << f->variables : samples;
    f->words = (f->assignments + 63) / 64;
    f->block_words = f->words < FORECAST_BLOCK_WORDS ? (uint32_t)f->words : FORECAST_BLOCK_WORDS;
    if (f->exact) forecast_weight_tables(f);
    return forecast_allocate(f);
}

/* ---------------------------------------------------------------- forecast: bit planes */

/* Runs a program over `words` words of the current block into dest. */
static void forecast_run(struct forecast *f, struct forecast_program program, uint32_t words,
                         uint64_t *dest)
{
    const struct forecast_op *ops = f->ops + program.start;
    const size_t block = f->block_words;
    uint32_t height = 0;
    for (uint32_t i = 0; i < program.count; i++) {
        switch ((enum cond_opcode)ops[i].op) {
        case COND_OP_NAME:
            assert(height < f->height_max);
            f->stack_ref[height++] = forecast_plane(f, ops[i].slot);
            break;
        case COND_OP_NOT: {
            uint64_t *out = f->stack + (height - 1) * block;
            const uint64_t *a = f->stack_ref[height - 1];
            for (uint32_t w = 0; w < words; w++) out[w] = ~a[w];
            f->stack_ref[height - 1] = out;
            break;
        }
        case COND_OP_AND:
        case COND_OP_OR: {
            uint64_t *out = f->stack + (height - 2) * block;
            const uint64_t *a = f->stack_ref[height - 2], *b = f->stack_ref[height - 1];
            if (ops[i].op == COND_OP_AND)
                for (uint32_t w = 0; w < words; w++) out[w] = a[w] & b[w];
            else
                for (uint32_t w = 0; w < words; w++) out[w] = a[w] | b[w];
            f->stack_ref[height - 2] = out;
            height--;
            break;
        }
        }
    }
    assert(height == 1);
    memcpy(dest, f->stack_ref[0], words * sizeof *dest);
}

/* Variables' planes for block `block` by enumeration: assignment a sets variable j to bit j. */
static void forecast_enumerate(struct forecast *f, uint64_t first_word, uint32_t words)
{
    static const uint64_t inside_word[6] = {
        UINT64_C(0xAAAAAAAAAAAAAAAA), UINT64_C(0xCCCCCCCCCCCCCCCC),
        UINT64_C(0xF0F0F0F0F0F0F0F0), UINT64_C(0xFF00FF00FF00FF00),
        UINT64_C(0xFFFF0000FFFF0000), UINT64_C(0xFFFFFFFF00000000),
    };
    for (uint32_t j = 0; j < f->variables; j++) {
        uint64_t *plane = forecast_plane(f, FORECAST_SLOT_FIRST + j);
        for (uint32_t w = 0; w < words; w++)
            plane[w] = j < 6 ? inside_word[j]
                             : (((first_word + w) >> (j - 6)) & 1 ? ~UINT64_C(0) : 0);
    }
}

/* Variables' planes for block `block` by sampling, from a generator seeded for this block. */
static void forecast_sample(struct forecast *f, uint64_t block, uint64_t first_word,
                            uint32_t words)
{
    uint64_t mix = f->seed ^ (block * UINT64_C(0xD1B54A32D192ED03));
    struct xoshiro rng;
    xoshiro_seed(&rng, splitmix64(&mix));
    for (uint32_t j = 0; j < f->variables; j++)
        memset(forecast_plane(f, FORECAST_SLOT_FIRST + j), 0, words * sizeof *f->planes);
    for (uint32_t w = 0; w < words; w++) {
        uint64_t first = (first_word + w) * 64;
        uint32_t bits = f->assignments - first < 64 ? (uint32_t)(f->assignments - first) : 64;
        for (uint32_t bit = 0; bit < bits; bit++)
            for (uint32_t j = 0; j < f->variables; j++)
                if (xoshiro_unit(&rng) < f->probability[j])
                    forecast_plane(f, FORECAST_SLOT_FIRST + j)[w] |= UINT64_C(1) << bit;
    }
}

/* Every plane of a block: variables, then involved derived conditions in index order. */
static void forecast_block_planes(struct forecast *f, uint64_t block, uint32_t words)
{
    uint64_t first_word = block * f->block_words;
    if (f->exact) forecast_enumerate(f, first_word, words);
    else forecast_sample(f, block, first_word, words);
    for (uint32_t d = 0; d < f->deriveds; d++)
        forecast_run(f, f->derived[d], words,
                     forecast_plane(f, FORECAST_SLOT_FIRST + f->variables + d));
}

/* ---------------------------------------------------------------- forecast: sums */

/* Transposes an 8×8 bit matrix held in a word: bit 8i+j moves to bit 8j+i. */
static uint64_t transpose8(uint64_t x)
{
    uint64_t t;
    t = (x ^ (x >> 7)) & UINT64_C(0x00AA00AA00AA00AA);
    x = x ^ t ^ (t << 7);
    t = (x ^ (x >> 14)) & UINT64_C(0x0000CCCC0000CCCC);
    x = x ^ t ^ (t << 14);
    t = (x ^ (x >> 28)) & UINT64_C(0x00000000F0F0F0F0);
    x = x ^ t ^ (t << 28);
    return x;
}

/*
 * Adds, to the sum of each assignment of the block, the amounts of the
 * chunk's terms that are met there. masks holds FORECAST_CHUNK_TERMS planes
 * (unused ones zero); table[s] is the sum of the amounts of the terms in s.
 */
static void forecast_chunk_add(struct forecast *f, const wide_amount *table, uint32_t words)
{
    const size_t block = f->block_words;
    for (uint32_t w = 0; w < words; w++) {
        uint64_t m[FORECAST_CHUNK_TERMS], any = 0;
        for (uint32_t i = 0; i < FORECAST_CHUNK_TERMS; i++) {
            m[i] = f->masks[i * block + w];
            any |= m[i];
        }
        if (any == 0) continue; /* table[0] is 0 */
        wide_amount *sum = f->sum + (size_t)w * 64;
        for (uint32_t byte = 0; byte < 8; byte++) {
            uint64_t x = 0; /* row i: term i over the byte's eight assignments */
            for (uint32_t i = 0; i < FORECAST_CHUNK_TERMS; i++)
                x |= ((m[i] >> (8 * byte)) & 0xff) << (8 * i);
            x = transpose8(x); /* byte a: the terms met by assignment 8·byte + a */
            for (uint32_t a = 0; a < 8; a++) sum[8 * byte + a] += table[(x >> (8 * a)) & 0xff];
        }
    }
}

/* Sums every open term of the requirement at hand into f->sum for this block. */
static void forecast_block_sums(struct forecast *f, uint32_t words)
{
    const size_t block = f->block_words;
    wide_amount table[FORECAST_CHUNK_SUMS];
    memset(f->sum, 0, (size_t)words * 64 * sizeof *f->sum);
    for (uint32_t start = 0; start < f->terms_count; start += FORECAST_CHUNK_TERMS) {
        uint32_t used = f->terms_count - start;
        if (used > FORECAST_CHUNK_TERMS) used = FORECAST_CHUNK_TERMS;
        for (uint32_t i = 0; i < FORECAST_CHUNK_TERMS; i++) {
            uint64_t *mask = f->masks + i * block;
            if (i < used) forecast_run(f, f->terms[start + i].program, words, mask);
            else memset(mask, 0, words * sizeof *mask);
        }
        table[0] = 0;
        for (uint32_t s = 1; s < (1u << used); s++)
            table[s] = table[s & (s - 1)] + f->terms[start + (uint32_t)__builtin_ctz(s)].amount;
        forecast_chunk_add(f, table, words);
    }
}

/* ---------------------------------------------------------------- forecast: quantiles */

static int64_t clamp_total(wide_amount total)
{
    if (total < 0) return 0;
    if (total > (wide_amount)INT64_MAX) return INT64_MAX;
    return (int64_t)total;
}

static void quantile_swap(int64_t *totals, double *weights, uint64_t i, uint64_t j)
{
    int64_t t = totals[i];
    totals[i] = totals[j];
    totals[j] = t;
    if (weights == NULL) return;
    double w = weights[i];
    weights[i] = weights[j];
    weights[j] = w;
}

/*
 * The smallest total t whose cumulative weight (of totals ≤ t) reaches
 * `target`, by quickselect with a three-way partition; weights NULL means
 * weight 1 each. Reorders totals (and weights with them). Each round removes
 * at least the pivot's equal group, so at most n rounds; O(n) expected.
 */
static int64_t forecast_quantile(int64_t *totals, double *weights, uint64_t n, double target,
                                 uint64_t *random)
{
    assert(n > 0);
    uint64_t lo = 0, hi = n;
    double below = 0.0; /* weight of the totals known to lie below totals[lo..hi) */
    for (;;) {
        assert(lo < hi);
        int64_t pivot = totals[lo + splitmix64(random) % (hi - lo)];
        uint64_t lt = lo, i = lo, gt = hi;
        double less = 0.0, equal = 0.0;
        while (i < gt) {
            int64_t v = totals[i];
            double w = weights != NULL ? weights[i] : 1.0;
            if (v < pivot) {
                quantile_swap(totals, weights, i, lt);
                less += w;
                lt++;
                i++;
            } else if (v > pivot) {
                gt--;
                quantile_swap(totals, weights, i, gt);
            } else {
                equal += w;
                i++;
            }
        }
        if (lt > lo && below + less >= target) {
            hi = lt;
        } else if (below + less + equal >= target || gt == hi) {
            return pivot;
        } else {
            below += less + equal;
            lo = gt;
        }
    }
}

/* ---------------------------------------------------------------- forecast: a requirement */

static uint64_t expr_hash(const struct cond_expr *expr)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a over (op, name) pairs */
    for (uint32_t i = 0; i < expr->count; i++) {
        h = (h ^ expr->code[i].op) * UINT64_C(0x100000001b3);
        h = (h ^ expr->code[i].name) * UINT64_C(0x100000001b3);
    }
    return h;
}

static bool expr_equal(const struct cond_expr *a, const struct cond_expr *b)
{
    return a == b || (a->count == b->count &&
                      memcmp(a->code, b->code, a->count * sizeof *a->code) == 0);
}

/* Adds an open term, merging it with an earlier one of the same expression. */
static bool forecast_term_add(struct forecast *f, const struct cond_expr *expr, int64_t amount)
{
    uint64_t hash = expr_hash(expr);
    uint32_t mask = f->merge_capacity - 1;
    for (uint32_t i = (uint32_t)hash & mask;; i = (i + 1) & mask) { /* never full: < 1/2 */
        uint32_t entry = f->merge[i];
        if (entry == 0) {
            struct forecast_term *t = &f->terms[f->terms_count];
            *t = (struct forecast_term){.expr = expr, .hash = hash, .amount = amount};
            if (!forecast_compile(f, expr, &t->program)) return false;
            f->merge[i] = ++f->terms_count;
            return true;
        }
        struct forecast_term *t = &f->terms[entry - 1];
        if (t->hash == hash && expr_equal(t->expr, expr)) {
            t->amount += amount;
            return true;
        }
    }
}

/*
 * Sorts the requirement's terms into the constant part (posted, unconditional
 * and already met amounts) and the open terms, compiled; false on no memory.
 */
static bool forecast_terms(struct forecast *f, const struct cond_forecast_input *in,
                           wide_amount *constant)
{
    *constant = in->posted;
    f->terms_count = 0;
    f->ops_count = f->ops_derived;
    uint32_t merge_needed = 2;
    while (merge_needed <= 2 * (uint64_t)in->terms_count) merge_needed *= 2;
    if (in->terms_count >= UINT32_MAX / 4) return false; /* cannot be indexed: as no memory */
    if (!grow((void **)&f->terms, &f->terms_capacity, (uint64_t)in->terms_count + 1,
              sizeof *f->terms))
        return false;
    if (merge_needed > f->merge_capacity) {
        free(f->merge);
        f->merge = malloc(merge_needed * sizeof *f->merge);
        f->merge_capacity = f->merge != NULL ? merge_needed : 0;
        if (f->merge == NULL) return false;
    }
    memset(f->merge, 0, f->merge_capacity * sizeof *f->merge);
    for (uint32_t t = 0; t < in->terms_count; t++) {
        const struct cond_term *term = &in->terms[t];
        enum cond_state value = COND_MET;
        if (term->expr != NULL && term->expr->count > 0) value = cond_eval(term->expr, f->states);
        if (value == COND_MET) *constant += term->amount;
        else if (value == COND_OPEN && !forecast_term_add(f, term->expr, term->amount))
            return false;
    }
    return true;
}

/* Totals of every assignment of one block: accumulates *expected, *met, *weight_total. */
static void forecast_block_totals(struct forecast *f, const struct cond_forecast_input *in,
                                  wide_amount constant, uint64_t block, uint32_t words,
                                  double sums[3])
{
    uint64_t first = block * f->block_words * 64;
    uint64_t last = first + (uint64_t)words * 64;
    if (last > f->assignments) last = f->assignments;
    double expected = 0.0, met = 0.0, weight_total = 0.0; /* per block: less rounding */
    for (uint64_t a = first; a < last; a++) {
        wide_amount total = constant + f->sum[a - first];
        double w = f->exact ? forecast_weight(f, a) : 1.0;
        expected += w * (double)total;
        if (total >= in->target) met += w;
        weight_total += w;
        f->totals[a] = clamp_total(total);
        if (f->exact) f->weights[a] = w;
    }
    sums[0] += expected;
    sums[1] += met;
    sums[2] += weight_total;
}

static bool forecast_requirement(struct forecast *f, const struct cond_forecast_input *in,
                                 struct cond_forecast_output *out)
{
    assert(in->terms_count == 0 || in->terms != NULL);
    wide_amount constant;
    if (!forecast_terms(f, in, &constant)) return false;
    if (f->terms_count == 0) { /* nothing open: one certain total */
        out->expected = (double)constant;
        out->p_met = constant >= in->target ? 1.0 : 0.0;
        out->p10 = out->p50 = out->p90 = clamp_total(constant);
        return true;
    }
    double sums[3] = {0.0, 0.0, 0.0}; /* Σ w·total, Σ w over met, Σ w */
    uint64_t blocks = (f->words + f->block_words - 1) / f->block_words;
    for (uint64_t b = 0; b < blocks; b++) {
        uint64_t left = f->words - b * f->block_words;
        uint32_t words = left < f->block_words ? (uint32_t)left : f->block_words;
        forecast_block_planes(f, b, words);
        forecast_block_sums(f, words);
        forecast_block_totals(f, in, constant, b, words, sums);
    }
    assert(sums[2] > 0.0);
    out->expected = sums[0] / sums[2];
    out->p_met = sums[1] / sums[2];
    uint64_t random = UINT64_C(0x5EED);
    double keep = (1.0 - FORECAST_QUANTILE_TOLERANCE) * sums[2];
    out->p10 = forecast_quantile(f->totals, f->weights, f->assignments, 0.1 * keep, &random);
    out->p50 = forecast_quantile(f->totals, f->weights, f->assignments, 0.5 * keep, &random);
    out->p90 = forecast_quantile(f->totals, f->weights, f->assignments, 0.9 * keep, &random);
    assert(out->p10 <= out->p50 && out->p50 <= out->p90);
    return true;
}

bool cond_forecast(const struct cond_system *system, const struct cond_forecast_input *inputs,
                   uint32_t count, const struct cond_forecast_options *options,
                   struct cond_forecast_output *outputs, struct cond_forecast_summary *summary)
{
    assert(system != NULL);
    assert(count == 0 || (inputs != NULL && outputs != NULL));
    struct forecast *f = calloc(1, sizeof *f); /* ~16 KiB of weight tables: not on the stack */
    if (f == NULL) return false;
    bool ok = forecast_prepare(f, system, inputs, count, options);
    for (uint32_t r = 0; ok && r < count; r++) ok = forecast_requirement(f, &inputs[r], &outputs[r]);
    if (summary != NULL) {
        summary->exact = f->exact;
        summary->conditions = f->variables;
        summary->samples = f->assignments;
    }
    forecast_free(f);
    free(f);
    if (!ok && count > 0) memset(outputs, 0, count * sizeof *outputs);
    return ok;
}
