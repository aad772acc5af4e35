/*
 * cond.h — political conditions: expressions, three-valued logic, forecasts.
 *
 * Pledges hang on conditions ("two_state & !war"). A condition is open, met
 * or failed; a base condition is decided once by its authority, a derived
 * condition is an expression over earlier ones (`when`). Expressions combine
 * names with ! (not), & (and), | (or) and parentheses; ! binds tightest, then
 * &, then |. Evaluation is Kleene's three-valued logic: an expression is met
 * or failed as soon as the decided names settle it, open otherwise
 * (failed & open = failed; met | open = met; !open = open).
 *
 * This engine is pure C with no I/O. Names are resolved by the caller (a
 * lookup callback gives each name an index into the caller's condition
 * table), so compiled expressions are arrays of small integers in postfix
 * order, cheap to evaluate one at a time or 64 assignments at a time.
 *
 * Conditions can only name conditions that already exist, so the order in
 * which they were created is a topological order: a derived condition's
 * state is computed after the states of everything it names. A condition
 * naming itself is the only cycle possible and is refused.
 *
 * Forecasts: given each open base condition's probability (independent),
 * the distribution of what a requirement receives — posted amounts plus the
 * pending amounts whose expressions turn out met — by exact enumeration of
 * the 2^k assignments when k ≤ COND_EXACT_CONDITIONS_MAX open base conditions
 * are involved, by seeded Monte Carlo otherwise.
 */
#ifndef CONCORD_COND_H
#define CONCORD_COND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COND_NAME_BYTES_MAX 64          /* [a-z][a-z0-9_]{0,63} */
#define COND_EXPR_BYTES_MAX 1024        /* an expression's text */
#define COND_DEPTH_MAX 32               /* nesting of parentheses and operators */
#define COND_EXACT_CONDITIONS_MAX 20    /* exact forecast up to 2^20 assignments */
#define COND_SAMPLES_DEFAULT 10000      /* Monte Carlo samples unless told */
#define COND_SAMPLES_MAX 10000000

enum cond_state {
    COND_OPEN = 0,
    COND_MET = 1,
    COND_FAILED = 2,
};

const char *cond_state_name(enum cond_state state); /* "open", "met", "failed" */
/* Parses "open", "met", "failed"; false otherwise. */
bool cond_state_parse(const char *text, enum cond_state *state);

enum cond_opcode {
    COND_OP_NAME = 0, /* push the state of condition `name` */
    COND_OP_NOT = 1,  /* pop a, push !a */
    COND_OP_AND = 2,  /* pop b, pop a, push a & b */
    COND_OP_OR = 3,   /* pop b, pop a, push a | b */
};

struct cond_code {
    uint32_t op;   /* enum cond_opcode */
    uint32_t name; /* COND_OP_NAME: index into the caller's condition table */
};

/* A compiled expression, postfix. `code` is malloc'd; free with cond_expr_free. */
struct cond_expr {
    struct cond_code *code;
    uint32_t count;
};

enum cond_error_kind {
    COND_ERROR_NONE = 0,
    COND_ERROR_SYNTAX,       /* not an expression: message and position say why */
    COND_ERROR_UNKNOWN_NAME, /* a well-formed name that the lookup does not know */
    COND_ERROR_TOO_LONG,     /* more than COND_EXPR_BYTES_MAX bytes */
    COND_ERROR_TOO_DEEP,     /* nested deeper than COND_DEPTH_MAX */
    COND_ERROR_CYCLE,        /* a derived condition naming itself */
    COND_ERROR_NO_MEMORY,
};

struct cond_error {
    enum cond_error_kind kind;
    uint32_t column;   /* 1-based byte position of the problem in the text */
    char message[160]; /* for people: "unexpected ')' at column 7" */
};

/* Returns the index of the condition called name[0..length), or −1 if none. */
typedef int32_t (*cond_lookup_fn)(void *ctx, const char *name, size_t length);

/*
 * Compiles text. `self`, when not NULL, is the name of the condition being
 * defined: naming it is a cycle. On failure fills err and returns false.
 */
bool cond_parse(const char *text, cond_lookup_fn lookup, void *ctx, const char *self,
                struct cond_expr *out, struct cond_error *err);
void cond_expr_free(struct cond_expr *expr);

/* Three-valued value of expr given the state of every condition it names. */
enum cond_state cond_eval(const struct cond_expr *expr, const uint8_t *states);

/* Calls visit(ctx, index) for each condition index expr names (repeats possible). */
void cond_expr_names(const struct cond_expr *expr, void (*visit)(void *ctx, uint32_t index),
                     void *ctx);

/*
 * The conditions of a ledger, in creation order (a topological order).
 * when[i] is NULL for a base condition. state[i] is the decided state of a
 * base condition (derived entries are ignored and recomputed).
 * probability[i] is the chance a base condition is met (in [0,1]).
 */
struct cond_system {
    uint32_t count;
    const struct cond_expr *const *when;
    const uint8_t *state;
    const double *probability;
};

/* Fills states[0..count) for every condition: base as decided, derived evaluated. */
void cond_system_states(const struct cond_system *system, uint8_t *states);

/* One group of pending amounts that post when `expr` is met (NULL: unconditionally). */
struct cond_term {
    const struct cond_expr *expr;
    int64_t amount;
};

/* What one requirement has and may receive. */
struct cond_forecast_input {
    int64_t posted;                 /* already counted */
    int64_t target;
    const struct cond_term *terms;  /* pending amounts by expression */
    uint32_t terms_count;
};

struct cond_forecast_output {
    double expected; /* E[posted + what posts] */
    double p_met;    /* P(posted + what posts ≥ target) */
    int64_t p10, p50, p90; /* smallest total t with P(total ≤ t) ≥ 0.1, 0.5, 0.9 */
};

struct cond_forecast_options {
    uint32_t samples; /* Monte Carlo samples (0: COND_SAMPLES_DEFAULT) */
    uint64_t seed;    /* Monte Carlo seed */
};

struct cond_forecast_summary {
    bool exact;            /* enumeration (true) or Monte Carlo */
    uint32_t conditions;   /* open base conditions involved */
    uint64_t samples;      /* assignments enumerated or sampled */
};

/*
 * Forecasts every requirement under the system's probabilities: exact when
 * at most COND_EXACT_CONDITIONS_MAX open base conditions are involved, else
 * Monte Carlo with options->samples draws from options->seed (the same seed
 * gives the same figures). Totals are computed in 128-bit integers and
 * clamped to 0 … 2^63−1 when reported. false only when memory ran out.
 */
bool cond_forecast(const struct cond_system *system, const struct cond_forecast_input *inputs,
                   uint32_t count, const struct cond_forecast_options *options,
                   struct cond_forecast_output *outputs, struct cond_forecast_summary *summary);

/* Is name a valid condition name ([a-z][a-z0-9_]{0,63})? */
bool cond_valid_name(const char *name);

#endif
