# The thin front door: every target installs what is missing, then hands the
# work to CMake and CTest. `make` builds build/concord (optimised);
# `make test` builds with ASan and UBSan in build/asan and runs every test.
# `make fuzz` builds the libFuzzer targets of tests/fuzz/ with clang and runs
# each for FUZZ_SECONDS (default 60); see tests/fuzz/run.

JOBS  ?= $(shell nproc 2>/dev/null || echo 2)
MAKEFLAGS += --no-print-directory
DB    ?= concord.db
FUZZ_SECONDS ?= 60

.PHONY: all build deps test fuzz bench run clean

all: build

deps:
	@scripts/install-deps

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build -j $(JOBS) --target concord

test: deps
	@cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DCONCORD_SANITIZE=ON >/dev/null
	@cmake --build build/asan -j $(JOBS)
	@cd build/asan && ctest --output-on-failure -j $(JOBS)

fuzz:
	@scripts/install-deps fuzz
	@$(MAKE) -f tests/fuzz/build.mk -j $(JOBS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run

bench:
	@scripts/install-deps bench
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build -j $(JOBS) --target concord concord-bench
	@build/concord-bench
	@bench/http-bench
	@bench/import-bench build/concord
	@node bench/dashboard-bench.mjs build/concord

run: build
	@scripts/run-demo "$(DB)"

clean:
	rm -rf build
