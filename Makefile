# itx: the two set-up commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
# the machine's interpreter, resolved before the venv goes first on PATH (below): a re-install
# after a change of the lock must not run the venv's own python, which has neither pip nor uv
SYSTEM_PYTHON := $(shell command -v $(PYTHON))
VENV := .venv
BIN := $(VENV)/bin
UV := $(SYSTEM_PYTHON) -m uv

export UV_PYTHON_DOWNLOADS := never
# Compile every installed module to bytecode once, at install: with PYTHONDONTWRITEBYTECODE set
# (as on these machines) Python would otherwise compile GX, dbt and Dagster from source at every
# start (GX's import: 15 s from source, 7 s from bytecode).
export UV_COMPILE_BYTECODE := 1
export DAGSTER_HOME := $(CURDIR)/dagster_home
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := False
# dagster-dbt looks for `dbt` on PATH (dagster dev prepares the manifest with it)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: install browser run test test-fast ui docs manifest lint clean bench

# Install the locked environment (uv.lock) with the machine's Python 3.11.
$(BIN)/itx: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(SYSTEM_PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen --python $(SYSTEM_PYTHON)
	@touch $@

install: $(BIN)/itx

# Build the whole warehouse through Dagster from data/releases and the inbox.
run: install
	$(BIN)/itx build

# Debian's Chromium, in which a test renders the brief (Playwright drives it; its own browser
# download is not reachable here). Installed once, with apt, when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "make: installing Debian's chromium (for the brief's browser test)"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; } \
	  || { echo "make: could not install chromium: run 'apt-get install chromium' as root" >&2; exit 1; }; }

# The whole suite, in random order (pytest-randomly prints the seed); its time printed last.
test: install browser
	@start=$$(date +%s); $(BIN)/pytest $(PYTEST_ARGS); status=$$?; \
	  echo "make test: $$(( $$(date +%s) - start )) s"; exit $$status

# The inner loop (under 30 s): the unit tests, without Dagster, dbt or Great Expectations (the
# markers in pyproject.toml; importing Dagster alone takes seconds).
test-fast: install
	@start=$$(date +%s); $(BIN)/pytest tests/unit -m "not e2e and not dagster and not gx" $(PYTEST_ARGS); status=$$?; \
	  echo "make test-fast: $$(( $$(date +%s) - start )) s"; exit $$status

manifest: install
	$(BIN)/itx manifest

# The Dagster UI on http://localhost:$(ITX_UI_PORT) (3000 unless set); refused at once if the port is taken
ITX_UI_PORT ?= 3000
export ITX_UI_PORT
ui: manifest
	@$(BIN)/python -m orchestration.ui_port
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(ITX_UI_PORT)

# dbt's documentation site of the published warehouse, as one page (data/docs/static_index.html)
docs: install
	$(BIN)/itx docs

# Benchmark: build times, memory and warehouse size as the record grows along its vintages
# (benchmarks/README.md). Fewer scales: make bench BENCH_ARGS="--scales 1,10"
bench: install
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check orchestration tests

clean:
	rm -rf data/warehouse.duckdb data/.warehouse.duckdb.build data/.warehouse.duckdb.lock data/gx data/reports data/docs dbt_project/target dbt_project/logs
