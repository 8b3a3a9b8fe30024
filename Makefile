# roomcast — the two commands of the README: `make run` and `make test`.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
ARGS ?=

.PHONY: deps build run test test-asan bench bench-100k fuzz format format-check clean

deps:
	bash scripts/install-deps.sh

# Release build; the binary is $(BUILD)/roomcast.
build: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/roomcast standalone $(ARGS)

# The whole suite: unit + integration (real sockets) + end-to-end (real browser), then the
# unit and integration tests again under AddressSanitizer and UndefinedBehaviorSanitizer.
test: build format-check
	bash scripts/install-deps.sh e2e fuzz
	cd tests && npm ci --no-audit --no-fund --loglevel=error
	cd $(BUILD) && ctest --output-on-failure --timeout 600
	$(MAKE) test-asan

test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DROOMCAST_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS) --target roomcast unit_tests
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure --timeout 600 -L "unit|integration"

bench: build
	bash bench/run.sh --short

# 100,000 idle connections on a six-comet local cluster, then a room broadcast to all of them
# (bench/scale.sh; about ten minutes, most of it connecting).
bench-100k: build
	bash bench/scale.sh

CXX_SOURCES = $$(git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h' 'bench/*.cc' 'bench/*.h')

format:
	clang-format -i $(CXX_SOURCES)

# `make test` fails on any C++ file that clang-format would change.
format-check: deps
	clang-format --dry-run -Werror $(CXX_SOURCES)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

# Coverage-guided fuzzing of every parser of untrusted bytes (clang + libFuzzer); tests/fuzz/run.sh.
fuzz:
	bash scripts/install-deps.sh fuzz
	bash tests/fuzz/run.sh 600
