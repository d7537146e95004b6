# Entry points; README's Quick start uses `make demo` and `make test`.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build test test-compilers test-image package demo bench \
        soak format mixin clean

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
