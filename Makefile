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

clean:
	rm -rf $(VENV) .dagster_home data/demo
