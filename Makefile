# Two commands on a fresh machine: `make demo` (install + run the default scenario) and
# `make test` (install + every test, slow ones included). Both build .venv themselves.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint clean catalog

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

# The default study: Hữu Nghị conventional vs smart gate over a fruit-season month, with
# common random numbers; ends by printing the path of report.html.
demo: $(STAMP)
	$(BIN)/gatesim compare scenarios/huu_nghi.yaml scenarios/huu_nghi_smart_gate.yaml \
		--replications 10 --force --out results/demo

test: $(STAMP)
	$(BIN)/ruff check gatesim tests
	$(BIN)/pytest -q

test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check gatesim tests

# Messages of the code and the report templates into gatesim/locale/*/LC_MESSAGES/gatesim.po
# (translations kept), then the .mo the package ships; translate what it lists, run it again.
catalog: $(STAMP)
	$(BIN)/python scripts/catalog.py

clean:
	rm -rf $(VENV) results
