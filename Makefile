# Two commands on a fresh machine: `make demo` (install + run the default scenario) and
# `make test` (install + every test, slow ones included). Both build .venv themselves.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint clean

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/gatesim run scenarios/huu_nghi.yaml --replications 10 --force

test: $(STAMP)
	$(BIN)/ruff check gatesim tests
	$(BIN)/pytest -q

test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check gatesim tests

clean:
	rm -rf $(VENV) results
