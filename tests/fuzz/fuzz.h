/*
 * fuzz.h — what every fuzz target of concord shares.
 *
 * The targets (tests/fuzz/fuzz_*.c) are libFuzzer entry points built by
 * clang with -fsanitize=fuzzer,address,undefined (see tests/fuzz/build.mk;
 * `make fuzz` builds and runs them). The sanitizers catch memory and
 * undefined-behaviour errors; the checks below catch wrong answers. A check
 * that fails prints what was expected and aborts, which libFuzzer records as
 * a crash with the input that caused it. The checks do not use assert(): they
 * must hold whatever NDEBUG says, and a message naming the broken property
 * makes a crash report readable without a debugger.
 */
#ifndef CONCORD_TESTS_FUZZ_H
#define CONCORD_TESTS_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(condition, ...)                                                   \
    do {                                                                             \
        if (!(condition)) {                                                          \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #condition); \
            fprintf(stderr, __VA_ARGS__);                                            \
            fputc('\n', stderr);                                                     \
            abort();                                                                 \
        }                                                                            \
    } while (0)

#endif
