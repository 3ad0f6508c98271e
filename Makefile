# One venv, made on first use; every target below depends on it.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test ui bench clean

$(STAMP): pyproject.toml
	@echo "== creating $(VENV) and installing assurance-pipeline with its dependencies (a few minutes the first time)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	set -o pipefail; $(BIN)/python -m pip install --progress-bar off -e '.[dev]' 2>&1 | awk '/^(Collecting|Successfully|ERROR)/ {print; fflush()}'
	touch $(STAMP)
	@echo "== installed"

# The demo records its cycle in the Dagster instance `make ui` shows (DAGSTER_HOME, default .dagster_home).
UI_HOME := $(or $(DAGSTER_HOME),$(CURDIR)/.dagster_home)

# `make demo UNTIL=today`: the demo log moved to end today, so the schedules find decisions in their windows.
demo: $(STAMP)
	mkdir -p "$(UI_HOME)" && DAGSTER_HOME="$(UI_HOME)" $(BIN)/assurance demo $(if $(UNTIL),--until $(UNTIL))

# Headless Chromium for the browser tests: Debian's package, installed once (needs root and apt-get); where it cannot
# be, those tests are skipped and say why.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; } \
			|| echo "could not install chromium: the browser tests will be skipped"; \
	else echo "chromium is missing and cannot be installed here (not root, or no apt-get): the browser tests will be skipped"; fi

# On every core (pytest-xdist): 5 min on 2 cores, 9 serially; `.venv/bin/python -m pytest` alone runs serially.
test: $(STAMP) $(CHROMIUM)
	$(BIN)/python -m pytest -n auto

ui: $(STAMP)
	test -f data/demo/standard/authorization.yaml || $(MAKE) demo
	mkdir -p "$(UI_HOME)" && DAGSTER_HOME="$(UI_HOME)" $(BIN)/dagster dev -w workspace.yaml

# Benchmarks in their own venv: Evidently (the comparison) must never leak into the runtime one.
BENCH := .venv-bench
$(BENCH)/.installed: pyproject.toml
	test -x $(BENCH)/bin/python || $(PYTHON) -m venv $(BENCH)
	$(BENCH)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH)/bin/python -m pip install --quiet -e '.[bench]'
	touch $(BENCH)/.installed

bench: $(STAMP) $(BENCH)/.installed
	$(BIN)/python benchmarks/finite_population.py
	$(BIN)/python benchmarks/outcome_evidence.py
	$(BIN)/python benchmarks/cycle_scaling.py
	$(BIN)/python benchmarks/false_alarms.py
	$(BIN)/python benchmarks/trend_run_length.py
	$(BIN)/python benchmarks/decision_drift.py
	$(BIN)/python benchmarks/hostile_standards.py
	$(BIN)/python benchmarks/startup.py
	$(BENCH)/bin/python benchmarks/drift_power.py

clean:
	rm -rf $(VENV) $(BENCH) .dagster_home data/demo
