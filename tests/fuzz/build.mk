# tests/fuzz/build.mk — builds the libFuzzer targets: `make -f tests/fuzz/build.mk`
# from the repository root (`make fuzz` does, then runs them with tests/fuzz/run).
#
# The fuzz build is clang's, apart from CMake's gcc builds: the library's
# sources (the same directories CMakeLists.txt globs into libconcord) are
# compiled with coverage instrumentation and ASan + UBSan into
# build/fuzz/libconcord-fuzz.a, and each tests/fuzz/fuzz_*.c is linked with
# libFuzzer's main into build/fuzz/bin/. Headers are tracked (-MMD), so a
# change anywhere rebuilds what it touches. Library sources get the project's
# warnings without -Werror: a warning only clang gives must not stop fuzzing
# (the gcc build is where warnings are enforced); the harnesses get -Werror.

FUZZ_CC   ?= clang
FUZZ_OUT  := build/fuzz
FUZZ_PKGS := sqlite3 jansson libsodium libxml-2.0 zlib

FUZZ_LIB_SOURCES := $(wildcard src/util/*.c src/ledger/*.c src/cond/*.c src/store/*.c \
                                src/fmt/*.c src/app/*.c src/audit/*.c)
FUZZ_SOURCES     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_LIB_OBJECTS := $(FUZZ_LIB_SOURCES:%.c=$(FUZZ_OUT)/obj/%.o)
FUZZ_OBJECTS     := $(FUZZ_SOURCES:%.c=$(FUZZ_OUT)/obj/%.o)
FUZZ_TARGETS     := $(FUZZ_SOURCES:tests/fuzz/%.c=$(FUZZ_OUT)/bin/%)

FUZZ_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS   := -std=c17 -g -O1 -fno-omit-frame-pointer $(FUZZ_SANITIZE) \
                 -fsanitize=fuzzer-no-link -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc \
                 $(shell pkg-config --cflags $(FUZZ_PKGS)) \
                 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
                 -MMD -MP
FUZZ_LDLIBS   := $(shell pkg-config --libs $(FUZZ_PKGS)) -lcsv -lm

.PHONY: all
all: $(FUZZ_TARGETS)
	@: # quiet when everything is up to date

$(FUZZ_OUT)/obj/src/%.o: src/%.c
	@mkdir -p $(@D)
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_OUT)/obj/tests/fuzz/%.o: tests/fuzz/%.c
	@mkdir -p $(@D)
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -Werror -c $< -o $@

# Rebuilt whole when any object changes, so a deleted source leaves nothing behind.
$(FUZZ_OUT)/libconcord-fuzz.a: $(FUZZ_LIB_OBJECTS)
	@rm -f $@
	@ar rcs $@ $^

$(FUZZ_OUT)/bin/%: $(FUZZ_OUT)/obj/tests/fuzz/%.o $(FUZZ_OUT)/libconcord-fuzz.a
	@mkdir -p $(@D)
	@$(FUZZ_CC) $(FUZZ_SANITIZE) -fsanitize=fuzzer $^ $(FUZZ_LDLIBS) -o $@
	@echo "fuzz: built $@"

-include $(FUZZ_LIB_OBJECTS:.o=.d) $(FUZZ_OBJECTS:.o=.d)

# The targets' objects are intermediate files to make: keep them, or every run relinks.
.SECONDARY: $(FUZZ_OBJECTS)
