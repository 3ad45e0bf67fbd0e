# soc2kit — the two commands of the README's Quick start, and a few for maintainers.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO   ?= demo-workspace
EXAMPLE ?= genai-platform

.PHONY: demo test golden lint bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

## demo: create a virtual environment, install the kit, build the policy set of an example company
demo: $(VENV)/.installed
	rm -rf $(DEMO)
	$(BIN)/soc2kit init $(DEMO) --example $(EXAMPLE)
	$(BIN)/soc2kit --workspace $(DEMO) build
	@echo
	@echo "Demo workspace: $(abspath $(DEMO))"
	@echo "Open $(abspath $(DEMO))/dist/html/index.html in a browser; the policies are in $(abspath $(DEMO))/policies/"

## test: install the test dependencies and run the whole suite
test: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -W error

## golden: refresh the golden rendered documents (review the diff before committing)
golden: $(VENV)/.installed-test
	SOC2KIT_UPDATE_GOLDEN=1 $(BIN)/python -m pytest -W error tests/test_golden.py

## docs: regenerate the generated parts of docs/ (command reference, profile reference)
docs: $(VENV)/.installed
	$(BIN)/python -m soc2kit._docgen

lint: $(VENV)/.installed
	$(BIN)/soc2kit lint --strict

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_build.py

clean:
	rm -rf $(VENV) $(DEMO) build *.egg-info src/*.egg-info
