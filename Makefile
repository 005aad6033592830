# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install run run-distributed test lint typecheck unit integration e2e browser screenshots chromium simulate chaos bench bench-speed bench-web bench-distributed clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## Start the web pages (http://127.0.0.1:8700, printed first) and exercises, hiring and bonus on
## the embedded defaults (SQLite + embedded event log).
run: install
	$(BIN)/teacher-hiring run

## The same on Apache Kafka and PostgreSQL (started by scripts/), two instances of every service
## and of the web pages, each behind one address (8700-8703) by the platform's proxy.
run-distributed: install
	$(BIN)/teacher-hiring run --distributed

## Lint, type-check and run every test, on WORKERS processes (a test file's tests stay on one;
## the workers share the tests' PostgreSQL and Kafka, tests/shared_server.py). WORKERS=0: none.
## The browser tests drive Debian's chromium (scripts/chromium.sh installs it, as root); without
## it they are skipped, and in CI they fail.
WORKERS ?= 2
PYTEST  := $(BIN)/pytest -n $(WORKERS) --dist loadfile
test: install lint typecheck chromium
	$(PYTEST)

chromium:
	@scripts/chromium.sh install || echo "no chromium: the browser tests will be skipped (in CI: fail)"

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy src/teacher_hiring

unit: install
	$(PYTEST) tests/unit

integration: install
	$(PYTEST) tests/integration

e2e: install
	$(PYTEST) tests/e2e

browser: install chromium
	$(PYTEST) tests/browser

## Each main page at desktop and phone width, into docs/screenshots/ (starts its own platform).
screenshots: install chromium
	$(BIN)/python scripts/screenshots.py

## Drive a running platform (`make run` in another terminal) with simulated users.
simulate: install
	$(BIN)/teacher-hiring simulate

## Break a platform of its own while simulated users work, on each deployment in turn, and check
## that nothing was lost or doubled (docs/chaos.md). CHAOS_SECONDS of faults each, CHAOS_SEED.
CHAOS_SECONDS ?= 240
CHAOS_SEED    ?= 1
chaos: install
	@status=0; for deployment in embedded distributed; do \
	  $(BIN)/teacher-hiring chaos --deployment $$deployment --seconds $(CHAOS_SECONDS) \
	    --seed $(CHAOS_SEED) || status=1; \
	done; exit $$status

## The business problems measured, `before` vs `after`; writes docs/benchmarks.md and its charts
## (starts its own platform; ~10-15 min). ARGS=--quick (~2-3 min), ARGS=--distributed, ARGS=--help.
bench: install
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench $(ARGS)

## The platform on one machine at 300 submissions/s: p99 with all up and with exercises and bonus
## stopped, the ledger's drain against raw SQLite; then its headroom against the same work done
## raw (bench/raw_submission.py): CPU per submission, sustained rate at p99 <= 50 ms, relay and
## ledger against raw SQLite; 3 fresh platforms, writes docs/speed.md (~10 min).
bench-speed: install
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench.speed $(ARGS)

## A candidate's answer through the web pages against the same answer straight to hiring, in
## one run at 100 answers/s: p50/p95/p99 of each; writes docs/web-speed.md (~1-2 min).
bench-web: install
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench.web $(ARGS)

## Events/s from the outbox through Kafka into the ledger, against raw confluent-kafka and raw
## psycopg in the same run, then again on a sasl_ssl broker as ratios to plaintext (starts the
## two brokers and PostgreSQL with scripts/ if they are not running; `--profile` for py-spy).
bench-distributed: install
	$(BIN)/python -m bench.distributed $(ARGS)

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
