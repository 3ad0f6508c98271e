# One venv, made on first use; every target below depends on it.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test ui bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/assurance demo

test: $(STAMP)
	$(BIN)/python -m pytest

ui: $(STAMP)
	test -f data/demo/standard/authorization.yaml || $(BIN)/assurance demo
	DAGSTER_HOME=$${DAGSTER_HOME:-$(CURDIR)/.dagster_home} sh -c 'mkdir -p "$$DAGSTER_HOME" && $(BIN)/dagster dev -w workspace.yaml'

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
