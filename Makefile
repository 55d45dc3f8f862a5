# Accord: build, test and run. `make test` and `make run` install the Debian packages they need
# when run as root and otherwise say what to install.
SWIFT ?= swift
RELEASE_FLAGS := -c release
BIN := $(shell $(SWIFT) build $(RELEASE_FLAGS) --show-bin-path 2>/dev/null)
RUNTIME_PACKAGES := libprotobuf-c-dev zlib1g-dev libsqlite3-dev
GENERATE_PACKAGES := protobuf-c-compiler
POSTGRES_PACKAGES := postgresql-15

.PHONY: build test test-postgres run cluster demo backup generate check-generated lint format deps deps-generate deps-postgres bench fuzz clean help

help:
	@echo "make build     release build of every executable"
	@echo "make test      install what is missing, build, lint, check generated code, run every test"
	@echo "               (the store-level suites twice: on SQLite, then on a private PostgreSQL server)"
	@echo "make run       build (release) and run the whole set in the foreground; Ctrl-C stops it"
	@echo "make cluster   like make run, on a private PostgreSQL with two replicas of each service"
	@echo "make demo      walk through the whole lifecycle with the accord CLI (against make run or make cluster)"
	@echo "make backup    back up every store of make run or make cluster, while it runs, into backups/<UTC time>/"
	@echo "make generate  regenerate C and Swift code from proto/accord/v1/*.proto"
	@echo "make bench     release benchmarks, results into docs/PERFORMANCE.md"
	@echo "make fuzz      libFuzzer over the frame, message, ICE sheet and inflate decoders"
	@echo "               (FUZZ_RUNS=N executions each, default 10000000; stops by itself)"

deps:
	@Tools/install-packages.sh $(RUNTIME_PACKAGES)

deps-generate:
	@Tools/install-packages.sh $(GENERATE_PACKAGES)

deps-postgres:
	@Tools/install-packages.sh $(POSTGRES_PACKAGES)

build: deps
	$(SWIFT) build $(RELEASE_FLAGS)

generate: deps-generate
	proto/generate.sh

check-generated: deps-generate
	proto/generate.sh --check
	python3 Fuzz/make-corpus.py --check

# Generated code (Shared/AccordMessages/Generated) is left as the generator writes it.
SWIFT_SOURCES = Package.swift Benchmarks/Package.swift $$(find Shared Services Tools Tests Benchmarks Fuzz -name '*.swift' -not -path '*/Generated/*' -not -path '*/.build*' -not -name Package.swift)

lint:
	$(SWIFT) format lint --strict $(SWIFT_SOURCES)
	python3 Tools/check-sizes.py --limits-only

format:
	$(SWIFT) format --in-place $(SWIFT_SOURCES)

test: deps deps-postgres check-generated lint
	$(SWIFT) build --build-tests
	# In-process suites, then the suites over real processes on their own, one at a time: they
	# wait for processes synchronously, which holds the threads other tests' clients need.
	ACCORD_BIN_DIR=$$($(SWIFT) build --show-bin-path) $(SWIFT) test --skip-build --parallel --num-workers 2 \
		--skip EndToEndTests
	ACCORD_BIN_DIR=$$($(SWIFT) build --show-bin-path) $(SWIFT) test --skip-build --no-parallel \
		--filter EndToEndTests
	SWIFT=$(SWIFT) Tools/test-postgres.sh
	# Each fuzz target for a few seconds (make fuzz runs them long).
	SWIFT=$(SWIFT) FUZZ_MAX_SECONDS=10 Tools/fuzz.sh 20000

# The store-level suites on PostgreSQL only (after a build with tests).
test-postgres: deps-postgres
	SWIFT=$(SWIFT) Tools/test-postgres.sh

FUZZ_RUNS ?= 10000000
fuzz: deps
	SWIFT=$(SWIFT) FUZZ_CONFIG=release Tools/fuzz.sh $(FUZZ_RUNS)

run: build
	Tools/run-local.sh "$(BIN)"

cluster: build deps-postgres
	Tools/run-local.sh "$(BIN)" --cluster

demo:
	Tools/demo.sh "$(BIN)"

backup:
	Tools/backup.sh "$(BIN)"

bench: build
	Tools/bench.sh "$(BIN)"

clean:
	rm -rf .build
