# A thin front end for people; CMake does the work.
#
#   make demo      install deps, build, run the end-to-end demo
#   make test      install deps; build with ASan+UBSan, release and clang;
#                  static analysis; run every test
#   make analyze   only the static analysis (scripts/analyze, in build/analyze)
#   make coverage  gcov build in build/coverage: run every test, print line
#                  coverage of lib/ per file (not part of make test)
#   make build     release build in build/release
#   make fuzz      build the libFuzzer targets in build/fuzz (clang)
#   make fuzz-run  run each fuzz target for FUZZ_SECONDS (default 60)
#   make bench     run the benchmarks (bench/run; see docs/benchmarks.md)
#   make clean     remove build/

BUILD      ?= build
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 60
CMAKE      ?= cmake
CLANG      ?= clang-14

.PHONY: all deps build demo test test-release analyze coverage fuzz fuzz-run bench clean

all: build

deps:
	@scripts/install-deps

build: deps
	@$(CMAKE) -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@$(CMAKE) --build $(BUILD)/release -j $(JOBS)

demo: build
	@scripts/demo $(BUILD)/release

# The tests run under AddressSanitizer and UndefinedBehaviorSanitizer. The
# release configuration is compiled too: some warnings (-Werror) appear only
# with optimisation; and everything is compiled with clang (its warnings, plus
# -Wunreachable-code) in build/clang. Then the static analyzers (analyze).
# ctest's JUnit report is what .ci/check-skips reads. The fault-injection
# tests (label "faults") cannot run under ASan, so they run in the release
# build.
test: deps
	@$(CMAKE) -S . -B $(BUILD)/asan -DCMAKE_BUILD_TYPE=Debug -DRAMPART_SANITIZE=ON >/dev/null
	@$(CMAKE) --build $(BUILD)/asan -j $(JOBS)
	@$(CMAKE) -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@$(CMAKE) --build $(BUILD)/release -j $(JOBS)
	@$(CMAKE) -S . -B $(BUILD)/clang -DCMAKE_C_COMPILER=$(CLANG) -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@$(CMAKE) --build $(BUILD)/clang -j $(JOBS)
	@JOBS=$(JOBS) scripts/analyze $(BUILD)/analyze
	@cd $(BUILD)/asan && ctest --output-on-failure -j $(JOBS) --output-junit $(abspath $(BUILD))/asan/ctest-junit.xml
	@cd $(BUILD)/release && ctest --output-on-failure -j $(JOBS) -L faults

analyze: deps
	@JOBS=$(JOBS) scripts/analyze $(BUILD)/analyze

# Line coverage of lib/ over every ctest test (gcovr's table; figures in
# docs/testing.md). Counters are reset first, so each run stands alone.
coverage: deps
	@$(CMAKE) -S . -B $(BUILD)/coverage -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS=--coverage >/dev/null
	@$(CMAKE) --build $(BUILD)/coverage -j $(JOBS)
	@find $(BUILD)/coverage -name '*.gcda' -delete
	@cd $(BUILD)/coverage && ctest --output-on-failure -j $(JOBS)
	@gcovr --root . --filter 'lib/' --sort-percentage --print-summary $(BUILD)/coverage

# The same tests without sanitizers (what ships).
test-release: build
	@cd $(BUILD)/release && ctest --output-on-failure -j $(JOBS)

fuzz:
	@scripts/install-deps fuzz
	@$(CMAKE) -S . -B $(BUILD)/fuzz -DCMAKE_C_COMPILER=clang-14 -DCMAKE_BUILD_TYPE=Debug -DRAMPART_FUZZ=ON >/dev/null
	@$(CMAKE) --build $(BUILD)/fuzz -j $(JOBS)

fuzz-run: fuzz
	@scripts/run-fuzz $(BUILD)/fuzz $(FUZZ_SECONDS)

bench: build
	@bench/run $(BUILD)/release

clean:
	rm -rf $(BUILD)
