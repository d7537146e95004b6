# Entry points; README's Quick start uses `make demo` and `make test`.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build test test-compilers test-image package demo bench \
        test-asan test-tsan fuzz fuzz-short soak format mixin clean

all: build

deps:
	@scripts/install-deps

# Configured every time (a second when nothing changed), so CMAKE_FLAGS
# always apply, also to a build folder made before.
configure:
	@cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS) > /dev/null

build: deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Warnings are errors in `make test` (and so in CI), never forced on a
# user's `make build` or `make demo`.
test: deps
	@cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS) -DSAS_WERROR=ON > /dev/null
	cmake --build $(BUILD_DIR) -j $(JOBS)
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# Release and Debug with GCC (Debian's default c++, as the Dockerfile and
# `make package` use: one ccache entry serves them all) and a build with
# clang 14, warnings as errors, of the library and the two programs only
# (the test binaries are built by `make test`, RelWithDebInfo). --version
# says which compiler built each.
COMPILER_CONFIGS = release:c++:Release:GNU clang:clang++-14:Release:Clang \
                   debug:c++:Debug:GNU
test-compilers: deps
	@set -e; for config in $(COMPILER_CONFIGS); do \
	  set -- $$(echo $$config | tr : ' '); \
	  echo "test-compilers: $$3 with $$2"; \
	  cmake -S . -B $(BUILD_DIR)-$$1 -DCMAKE_CXX_COMPILER=$$2 \
	    -DCMAKE_BUILD_TYPE=$$3 -DSAS_WERROR=ON -DSAS_BUILD_TESTS=OFF \
	    -DSAS_BUILD_BENCHMARKS=OFF > /dev/null; \
	  cmake --build $(BUILD_DIR)-$$1 -j $(JOBS) --target programs; \
	  $(BUILD_DIR)-$$1/src/aliyun_sas_exporter --version | grep "compiler: *$$4 " \
	    || { echo "test-compilers: $(BUILD_DIR)-$$1 not built by $$4" >&2; exit 1; }; \
	done

# The sanitizer suites, each in its own build folder with clang 14 (the
# runtimes come with libclang-rt-14-dev, the symbolizer with llvm-14; see
# docs/testing.md). Reports in the programs the integration tests start fail
# those tests (tests/support/harness.cc), and SAS_TEST_TIME_SCALE gives the
# tests' deadlines the slack the slower code needs.
SANITIZER_CMAKE_FLAGS = -DCMAKE_CXX_COMPILER=clang++-14 -DSAS_WERROR=ON \
                        -DSAS_BUILD_BENCHMARKS=OFF
SYMBOLIZER = external_symbolizer_path=/usr/bin/llvm-symbolizer-14
ASAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:$(SYMBOLIZER) \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:$(SYMBOLIZER) \
           SAS_TEST_TIME_SCALE=3
# tests/tsan.supp: what ThreadSanitizer cannot see in uninstrumented
# libraries (each entry says why).
TSAN_ENV = TSAN_OPTIONS=second_deadlock_stack=1:suppressions=$(CURDIR)/tests/tsan.supp:$(SYMBOLIZER) \
           SAS_TEST_TIME_SCALE=5

# AddressSanitizer and UndefinedBehaviorSanitizer (LeakSanitizer included)
# over the whole suite.
test-asan: deps
	@cmake -S . -B $(BUILD_DIR)-asan $(SANITIZER_CMAKE_FLAGS) \
	  -DSAS_SANITIZE=address > /dev/null
	cmake --build $(BUILD_DIR)-asan -j $(JOBS)
	cd $(BUILD_DIR)-asan && env $(ASAN_ENV) ctest --output-on-failure -j $(JOBS)

# ThreadSanitizer over the whole suite (the concurrency test is the one
# written for it).
test-tsan: deps
	@cmake -S . -B $(BUILD_DIR)-tsan $(SANITIZER_CMAKE_FLAGS) \
	  -DSAS_SANITIZE=thread > /dev/null
	cmake --build $(BUILD_DIR)-tsan -j $(JOBS)
	cd $(BUILD_DIR)-tsan && env $(TSAN_ENV) ctest --output-on-failure -j $(JOBS)

# libFuzzer over every target of tests/fuzz for FUZZ_SECONDS each, under
# AddressSanitizer and UndefinedBehaviorSanitizer; what crashes lands in
# tests/fuzz/crashes/ (scripts/fuzz says what to do with it).
FUZZ_SECONDS ?= 60
fuzz: deps
	@cmake -S . -B $(BUILD_DIR)-fuzz -DCMAKE_CXX_COMPILER=clang++-14 \
	  -DSAS_FUZZ=ON -DSAS_WERROR=ON -DSAS_BUILD_TESTS=OFF \
	  -DSAS_BUILD_BENCHMARKS=OFF > /dev/null
	cmake --build $(BUILD_DIR)-fuzz -j $(JOBS) --target fuzz_targets
	env $(ASAN_ENV) FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz $(BUILD_DIR)-fuzz

# The pass CI runs: 10 s a target.
fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10

# Builds the Dockerfile with podman and runs the image against the simulator
# (tests/image/check_image.sh); too slow for `make test`.
test-image: package
	@scripts/install-deps --image
	tests/image/check_image.sh $(BUILD_DIR)-release

# The .deb of the exporter (Release), in $(BUILD_DIR)-release, which
# test-compilers shares.
package: deps
	@cmake -S . -B $(BUILD_DIR)-release -DCMAKE_BUILD_TYPE=Release \
	  -DSAS_BUILD_TESTS=OFF -DSAS_BUILD_BENCHMARKS=OFF > /dev/null
	cmake --build $(BUILD_DIR)-release -j $(JOBS) --target aliyun_sas_exporter
	cd $(BUILD_DIR)-release && cpack -G DEB

demo: deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target aliyun_sas_exporter aliyun_sas_simulator
	@scripts/demo $(BUILD_DIR)

bench: build
	@scripts/bench $(BUILD_DIR)

# The exporter and the simulator under churn, reloads and faults for
# SOAK_MINUTES (tests/soak/soak.cc says what it checks); not part of
# `make test` or CI. `SOAK_MINUTES=2 make soak` for a quick run.
SOAK_MINUTES ?= 30
soak: deps
	@cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS) > /dev/null
	cmake --build $(BUILD_DIR) -j $(JOBS) --target sas_soak
	$(BUILD_DIR)/tests/soak/sas_soak --minutes $(SOAK_MINUTES)

# Rewrites config/prometheus/alerts.yml, dashboards/*.json and
# deploy/kubernetes/prometheus-rule.yaml from mixin/.
mixin:
	@scripts/generate-mixin

format:
	clang-format -i $$(git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h')
	jsonnetfmt -i $$(git ls-files '*.libsonnet' '*.jsonnet')

clean:
	rm -rf $(BUILD_DIR)
