# Entry points; README's Quick start uses `make demo` and `make test`.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build test demo bench format mixin clean

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

demo: deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target aliyun_sas_exporter aliyun_sas_simulator
	@scripts/demo $(BUILD_DIR)

bench: build
	@scripts/bench $(BUILD_DIR)

# Rewrites config/prometheus/alerts.yml, dashboards/*.json and
# deploy/kubernetes/prometheus-rule.yaml from mixin/.
mixin:
	@scripts/generate-mixin

format:
	clang-format -i $$(git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h')
	jsonnetfmt -i $$(git ls-files '*.libsonnet' '*.jsonnet')

clean:
	rm -rf $(BUILD_DIR)
