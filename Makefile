# ridp — every target sets up what it needs on a fresh machine and prints each stage's duration.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TIMED := scripts/timed
DEMO_ROWS ?= 200000
DEMO_DIR ?= demo-city
# The demo has a workspace of its own, so `make demo` never touches a real one ($RIDP_HOME).
DEMO_HOME ?= $(CURDIR)/ridp-demo
RIDP_DEMO := env RIDP_HOME=$(DEMO_HOME) $(BIN)/ridp
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
export TEST_DATABASE_URL

.PHONY: setup demo test test-fast bench bench-setup stress lint format clean audit

$(BIN)/.installed: pyproject.toml
	@$(TIMED) "system packages" scripts/system-deps
	@$(TIMED) "virtual environment" bash -c '[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)'
	@# pip on this machine kind warns about every missing local index folder; keep the real errors
	@# One retry: a download from the registry can fail once on this machine kind and then work.
	@$(TIMED) "python packages" bash -o pipefail -c "for try in 1 2; do $(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]' 2>&1 | grep -v 'is ignored: it is neither a file nor a directory'; test \$${PIPESTATUS[0]} -eq 0 && exit 0; echo 'pip failed; trying once more'; done; exit 1"
	@touch $@

setup: $(BIN)/.installed

demo: setup
	@$(TIMED) "charts in the browser: Vega and its CSP-safe interpreter (npm)" scripts/vega-js
	@rm -rf "$(DEMO_HOME)"
	@$(TIMED) "workspace" $(RIDP_DEMO) init --admin admin
	@$(TIMED) "demo city ($(DEMO_ROWS) requests)" $(RIDP_DEMO) demo city $(DEMO_DIR) --rows $(DEMO_ROWS)
	@$(TIMED) "city" $(RIDP_DEMO) city add "Demo City" --slug demo --timezone America/New_York --cohort 2026
	@$(TIMED) "ingest requests" $(RIDP_DEMO) data add $(DEMO_DIR)/service_requests.csv --city demo --name service_requests
	@$(TIMED) "ingest population" $(RIDP_DEMO) data add $(DEMO_DIR)/population.csv --city demo --name population
	@$(TIMED) "ingest neighbourhood boundaries" $(RIDP_DEMO) data add $(DEMO_DIR)/neighbourhoods.geojson --city demo --name neighbourhoods
	@$(TIMED) "catalog" $(RIDP_DEMO) data list --city demo
	@$(TIMED) "programme (3 cities, teams, agreements, demo logins)" $(RIDP_DEMO) demo programme --city-dir $(DEMO_DIR)
	@$(TIMED) "data readiness of the requests (report: $(DEMO_DIR)/readiness.html)" $(RIDP_DEMO) readiness service_requests --city demo --html $(DEMO_DIR)/readiness.html
	@# Serves until Ctrl-C; DEMO_PORT=8001 make demo picks another port.
	@$(RIDP_DEMO) serve --host 127.0.0.1 --port $(or $(DEMO_PORT),8000)

test: setup
	@$(TIMED) "system packages (PostgreSQL, Chromium)" bash -c "scripts/system-deps --with-postgres --with-browser && scripts/ensure-postgres"
	@$(TIMED) "axe-core (accessibility checks in the browser tests)" scripts/axe-core
	@$(TIMED) "charts in the browser: Vega and its CSP-safe interpreter (npm)" scripts/vega-js
	@$(TIMED) "lint" $(MAKE) --no-print-directory lint
	@# Every test runs on the SQLite store, and the store, web and browser tests again on PostgreSQL, in two
	@# stages side by side (each is mostly one busy core): the workspace and browser tests on SQLite run in the
	@# second stage, after PostgreSQL's, so the two stages take about as long as each other. The API schema test
	@# (schemathesis, minutes) asks what each operation answers, which does not depend on the store: it runs once,
	@# on PostgreSQL.
	@$(TIMED) "tests: every test on the SQLite store, and the store, web and browser tests on PostgreSQL, side by side" \
	  scripts/side-by-side \
	    "tests on the SQLite store (DuckDB, PostgreSQL, Spark engines), but the workspace and browser tests" \
	      "$(BIN)/pytest -q --ignore=tests/workspace --ignore=tests/e2e --deselect tests/web/test_api_schemathesis.py" \
	    "store, web and browser tests on PostgreSQL; then the workspace and browser tests on SQLite" \
	      "env DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest -q -m store; pg=\$$?; $(BIN)/pytest -q tests/workspace tests/e2e && exit \$$pg"
	@$(TIMED) "demo check: every demo persona over HTTP" $(BIN)/ridp demo --check --rows 20000
	@$(TIMED) "benchmark smoke (10,000 rows)" $(BIN)/python benchmarks/ingest.py --rows 10000 --repeat 1
	@$(TIMED) "benchmark smoke: web (3 cities, 5 sessions)" $(BIN)/python benchmarks/web.py --smoke
	@$(TIMED) "benchmark smoke: readiness (10,000 rows)" $(BIN)/python benchmarks/readiness.py --smoke
	@$(TIMED) "benchmark smoke: service-level cube and places (10,000 rows)" $(BIN)/python benchmarks/analysis.py --smoke
	@$(TIMED) "benchmark smoke: power simulation (1,000 draws) and TWFE (500 units × 20 weeks)" $(BIN)/python benchmarks/evaluation.py --smoke

test-fast: setup
	@$(BIN)/pytest -q -m "not spark and not slow and not browser"

# Known vulnerabilities in the installed packages (needs PyPI's JSON API or OSV on the network).
audit: setup
	@$(TIMED) "pip-audit" $(BIN)/pip-audit --progress-spinner off --skip-editable --strict

# The heavy references of the readiness benchmark (Great Expectations, ydata-profiling, polars) conflict with
# ridp's pins, so they live in a virtual environment of their own, never in ridp's dependencies.
.venv-bench/.installed: benchmarks/requirements-bench.txt
	@$(TIMED) "benchmark references: virtual environment (.venv-bench)" bash -c '[ -x .venv-bench/bin/python ] || $(PYTHON) -m venv .venv-bench'
	@$(TIMED) "benchmark references: GE, ydata-profiling, polars" .venv-bench/bin/pip install --quiet --disable-pip-version-check -r benchmarks/requirements-bench.txt
	@touch $@

bench-setup: .venv-bench/.installed

bench: setup bench-setup
	@$(TIMED) "benchmark: ingest" $(BIN)/python benchmarks/ingest.py
	@$(TIMED) "benchmark: readiness, heavy references (1,000,000 rows)" $(BIN)/python benchmarks/readiness.py --rows 1000000
	@$(TIMED) "benchmark: readiness (10,000,000 rows)" $(BIN)/python benchmarks/readiness.py
	@$(TIMED) "benchmark: service-level cube (10,000,000 rows)" $(BIN)/python benchmarks/analysis.py
	@$(TIMED) "benchmark: power simulation (10,000 draws) and TWFE (1,040,000 rows) against pyfixest and linearmodels" $(BIN)/python benchmarks/evaluation.py
	@$(TIMED) "benchmark: web on SQLite" $(BIN)/python benchmarks/web.py
	@$(TIMED) "benchmark: web on PostgreSQL" $(BIN)/python benchmarks/web.py --database postgresql

stress: setup
	@$(TIMED) "stress: kill -9 during ingest, 100 runs" env KILL_RUNS=100 $(BIN)/pytest -q -m kill tests/workspace/test_kill_ingest.py

lint: setup
	@$(BIN)/ruff check src tests benchmarks
	@$(BIN)/ruff format --check src tests benchmarks
	@$(BIN)/mypy

format: setup
	@$(BIN)/ruff format src tests benchmarks
	@$(BIN)/ruff check --fix src tests benchmarks

clean:
	rm -rf $(VENV) $(DEMO_HOME) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache .cache
