# ltx-monitoring — every target installs what it needs into .venv/ first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
DBT := $(BIN)/dbt
# the local BigQuery emulator's own venv (it pins its own duckdb / sqlglot)
EMU_VENV := .venv-bq

export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export LTX_RAW_DIR ?= data/raw
export LTX_DUCKDB_PATH ?= data/ltx_monitoring.duckdb
export DBT_PROFILES_DIR ?= $(CURDIR)

# the small, fixed data set `make test` builds (deterministic: seed + end date)
TEST_DIR := data/test
TEST_RAW_DIR := $(TEST_DIR)/raw
TEST_DUCKDB := $(TEST_DIR)/ltx_monitoring.duckdb
TEST_DATA_ARGS := --seed 7 --end-date 2026-11-22 --days 100 --users 2500 --gpu-requests-per-day 300
DEMO_DATA_ARGS := --seed 42 --days 120 --users 5000 --anomaly-on-last-day

.PHONY: help install demo build daily alerts report chromium test test-duckdb lint test-python test-dbt test-report test-bigquery bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --python $(BIN)/python --compile-bytecode requirements.lock
	touch $@

profiles.yml: profiles.example.yml
	cp profiles.example.yml profiles.yml

install: $(VENV)/.installed profiles.yml  ## create .venv/ with the pinned dependencies

# Generate the synthetic set into $(LTX_RAW_DIR) unless it already holds data.
# A directory with our ground_truth.json is synthetic and may be regenerated;
# anything else is somebody's own Parquet and is never overwritten.
define ensure_raw_data
	@if ! compgen -G "$(1)/ltxstudio_agg_user_date/*.parquet" >/dev/null; then \
		echo "no raw data under $(1): generating the synthetic set"; \
		$(BIN)/python -m ltx_synth --out "$(1)" $(2); \
	fi
endef

build: install  ## dbt build --full-refresh on DuckDB from $LTX_RAW_DIR into $LTX_DUCKDB_PATH
	$(call ensure_raw_data,$(LTX_RAW_DIR),$(DEMO_DATA_ARGS))
	mkdir -p "$$(dirname "$(LTX_DUCKDB_PATH)")"
	$(DBT) build --full-refresh --target duckdb

# the morning `make daily` stands on (the run_date var); RUN_DATE=YYYY-MM-DD replays one
RUN_DATE ?= $(shell date -u +%F)
# duckdb here; the scheduled workflow (.github/workflows/daily.yml) runs it with DAILY_TARGET=bigquery
DAILY_TARGET ?= duckdb
DAILY_VARS := --vars '{test_window_days: 7, run_date: "$(RUN_DATE)", check_freshness: true}'
# the freshness test's own result in the run (not any failure): it stopped the alert models
FRESHNESS_FAILED := $(BIN)/python -c "import json, sys; r = json.load(open('$${DBT_TARGET_PATH:-target}/run_results.json')); \
	sys.exit(0 if any(x['unique_id'].startswith('test.ltx_monitoring.assert_sources_fresh_for_run_date') \
	and x['status'] in ('fail', 'error') for x in r['results']) else 1)"
# a model or seed that errored (a warehouse 5xx, quota, a dropped connection): worth one `dbt retry`;
# a data test that fails is the data speaking, and a retry would say the same
NODE_ERRORED := $(BIN)/python -c "import json, sys; r = json.load(open('$${DBT_TARGET_PATH:-target}/run_results.json')); \
	sys.exit(0 if any(x['unique_id'].split('.')[0] in ('model', 'seed') and x['status'] == 'error' \
	for x in r['results']) else 1)"

daily: install  ## the scheduler's incremental run (RUN_DATE=YYYY-MM-DD replays a morning; DAILY_TARGET=bigquery): the `daily` selector, stopped at the freshness gate, one `dbt retry` after a model error; a stopped build is posted to the data channel
	@[[ "$(RUN_DATE)" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$$ ]] || { echo "RUN_DATE must be YYYY-MM-DD, got '$(RUN_DATE)'" >&2; exit 2; }
	@[[ "$(DAILY_TARGET)" =~ ^(duckdb|bigquery)$$ ]] || { echo "DAILY_TARGET must be duckdb or bigquery, got '$(DAILY_TARGET)'" >&2; exit 2; }
	mkdir -p "$$(dirname "$(LTX_DUCKDB_PATH)")"
	@$(DBT) build --target $(DAILY_TARGET) --selector daily $(DAILY_VARS) || { status=$$?; \
		if $(FRESHNESS_FAILED); then \
		echo "STALE SOURCE DATA for run date $(RUN_DATE): a raw source's last loaded day is older than its" >&2; \
		echo "freshness limit (models/staging/sources.yml). The alert models were not rebuilt; see main_marts.fct_data_health." >&2; \
		elif $(NODE_ERRORED); then echo "a model errored: dbt retry, once" >&2; $(DBT) retry --target $(DAILY_TARGET) && exit 0; status=$$?; fi; \
		$(BIN)/python -m alerting pipeline-health --date $(RUN_DATE) --target $(DAILY_TARGET) \
			--run-results "$${DBT_TARGET_PATH:-target}/run_results.json" $(if $(SLACK_BOT_TOKEN),,--dry-run) \
			|| echo "could not post the pipeline-health message (exit $$?): see above" >&2; \
		exit $$status; }

demo: install  ## synthetic data -> dbt build on DuckDB -> dry-run Slack messages for the latest day (ALERT_DATE=...)
	@if [ -f "$(LTX_RAW_DIR)/ground_truth.json" ] || ! compgen -G "$(LTX_RAW_DIR)/ltxstudio_agg_user_date/*.parquet" >/dev/null; then \
		$(BIN)/python -m ltx_synth --out "$(LTX_RAW_DIR)" $(DEMO_DATA_ARGS); \
	else echo "$(LTX_RAW_DIR) holds your own data: using it as is"; fi
	mkdir -p "$$(dirname "$(LTX_DUCKDB_PATH)")"
	$(DBT) build --full-refresh --target duckdb
	$(DBT) show --quiet --target duckdb --select gpu_cost_day --limit 10
	$(DBT) show --quiet --target duckdb --select gpu_cost_top_customers --limit 20
	$(BIN)/python -m alerting run --dry-run --target duckdb $(if $(ALERT_DATE),--date $(ALERT_DATE))
	@report=$$($(BIN)/python -m alerting report --target duckdb $(if $(ALERT_DATE),--date $(ALERT_DATE))); \
		echo "HTML report: $$report"

alerts: install  ## post the Slack digests for yesterday (ALERT_DATE=YYYY-MM-DD for another day; needs SLACK_BOT_TOKEN)
	$(BIN)/python -m alerting run $(if $(ALERT_DATE),--date $(ALERT_DATE))

report: install  ## the HTML report of the latest day (REPORT_DATE=YYYY-MM-DD for another) -> reports/<day>/index.html
	@if [ ! -f "$(LTX_DUCKDB_PATH)" ]; then $(MAKE) --no-print-directory build; fi
	@report=$$($(BIN)/python -m alerting report --target duckdb $(if $(REPORT_DATE),--date $(REPORT_DATE))); \
		echo "HTML report: $$report"

# Debian's chromium for the report's browser test (CI runs as root; elsewhere sudo is needed once)
chromium:  ## install headless Chromium where it is missing
	@command -v chromium >/dev/null 2>&1 || { apt-get update && apt-get install -y --no-install-recommends chromium; }

lint: install  ## ruff, sqlfluff, mypy, alerting/ within 5,000 lines and no function over 60 (ltx_reports/ too), actionlint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	LTX_DUCKDB_PATH=:memory: $(BIN)/sqlfluff lint models tests/dbt
	$(BIN)/mypy
	$(BIN)/python scripts/check_code_budget.py alerting --max-lines 5000
	$(BIN)/python scripts/check_code_budget.py ltx_reports
	$(BIN)/actionlint

$(TEST_RAW_DIR)/ground_truth.json: ltx_synth/generate.py | $(VENV)/.installed
	$(BIN)/python -m ltx_synth --out $(TEST_RAW_DIR) $(TEST_DATA_ARGS)

test-dbt: install $(TEST_RAW_DIR)/ground_truth.json  ## dbt build (models + unit + data tests) on the test set; fails on a dbt deprecation warning
	rm -f $(TEST_DUCKDB)
	LTX_RAW_DIR=$(TEST_RAW_DIR) LTX_DUCKDB_PATH=$(TEST_DUCKDB) $(DBT) build --target duckdb --show-all-deprecations \
		--target-path target/test-dbt --log-path logs/test-dbt \
		| tee $(TEST_DIR)/dbt_build.log
	@if grep -i "deprecat" $(TEST_DIR)/dbt_build.log; then \
		echo "dbt deprecation warnings (above): what the next dbt release refuses; fix them" >&2; exit 1; fi

# pytest-xdist: one worker process per core (PYTEST_WORKERS=0: one process). A test file runs whole
# on one worker, so its module-scoped builds are made once; the slow files are handed out first
# and the builds shared by several files once for all workers (tests/python/conftest.py).
PYTEST_WORKERS ?= auto

test-python: install $(TEST_RAW_DIR)/ground_truth.json  ## pytest (all but the browser tests), one worker per core
	LTX_TEST_RAW_DIR=$(TEST_RAW_DIR) LTX_TEST_DUCKDB=$(TEST_DUCKDB) $(BIN)/python -m pytest -m "not browser" \
		-n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=12

test-report: install chromium $(TEST_RAW_DIR)/ground_truth.json  ## the HTML report in headless Chromium (needs test-dbt's build)
	@test -f $(TEST_DUCKDB) || $(MAKE) --no-print-directory test-dbt
	LTX_TEST_RAW_DIR=$(TEST_RAW_DIR) LTX_TEST_DUCKDB=$(TEST_DUCKDB) $(BIN)/python -m pytest -m browser tests/python

$(EMU_VENV)/.installed: requirements-emulator.lock | $(VENV)/.installed
	rm -rf $(EMU_VENV)
	$(BIN)/uv venv --quiet --python $(BIN)/python $(EMU_VENV)
	$(BIN)/uv pip sync --quiet --python $(EMU_VENV)/bin/python --compile-bytecode requirements-emulator.lock
	touch $@

# BQ_UNIT_TESTS=no: the emulator leaves out dbt's unit tests (`make test`: test-dbt runs them on DuckDB,
# and the pull-request workflow's bigquery-emulator job runs this target whole)
BQ_UNIT_TESTS ?= yes

test-bigquery: install $(EMU_VENV)/.installed $(TEST_RAW_DIR)/ground_truth.json  ## dbt-bigquery + BigQuery client against a local emulator; marts == DuckDB's (BQ_UNIT_TESTS=no: without the unit tests)
	@[[ "$(BQ_UNIT_TESTS)" =~ ^(yes|no)$$ ]] || { echo "BQ_UNIT_TESTS must be yes or no, got '$(BQ_UNIT_TESTS)'" >&2; exit 2; }
	$(BIN)/python -m bigquery_ci.run --raw-dir $(TEST_RAW_DIR) --work-dir $(TEST_DIR)/bigquery \
		$(if $(filter no,$(BQ_UNIT_TESTS)),--no-unit-tests)

# make test: test-bigquery keeps one core busy for about 4 minutes (the emulator answers every query
# in one Python process), so it runs from the start beside the rest, its output printed whole when
# both are done: lint beside test-dbt (test-dbt writes its own target/ and logs/ folders, sqlfluff's
# dbt templater the default ones), then pytest on every core, then the browser test.
test: install $(TEST_RAW_DIR)/ground_truth.json $(EMU_VENV)/.installed  ## everything CI runs: lint, test-dbt, test-python, test-report, test-bigquery
	@$(MAKE) --no-print-directory test-bigquery BQ_UNIT_TESTS=no > $(TEST_DIR)/test-bigquery.log 2>&1 & bq=$$!; \
	duck=0; $(MAKE) --no-print-directory test-duckdb || duck=$$?; \
	bigquery=0; wait $$bq || bigquery=$$?; \
	echo "=== make test-bigquery (ran beside the rest; $(TEST_DIR)/test-bigquery.log) ==="; \
	cat $(TEST_DIR)/test-bigquery.log; \
	echo "make test: lint + test-dbt + test-python + test-report exit $$duck, test-bigquery exit $$bigquery"; \
	[ $$duck -eq 0 ] && [ $$bigquery -eq 0 ]

# the part of `make test` on the DuckDB test set, in order (`make -j2 --output-sync=target`: side
# by side, each target's output printed whole when it ends)
test-duckdb: install $(TEST_RAW_DIR)/ground_truth.json
	$(MAKE) --no-print-directory -j2 --output-sync=target lint test-dbt
	$(MAKE) --no-print-directory test-python
	$(MAKE) --no-print-directory test-report

# Not part of `make test`: minutes of CPU. BENCH_ARGS="--quick" for a small run, see docs/benchmark.md.
bench: install  ## benchmark full refresh vs daily incremental vs raw-scan floor vs one-query reference -> bench/results.json
	$(BIN)/python -m bench.run_bench $(BENCH_ARGS)

clean:  ## remove generated data, dbt output and the venv
	rm -rf data target logs $(VENV) $(EMU_VENV) profiles.yml
