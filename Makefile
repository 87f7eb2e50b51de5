# The two commands of the README:  `make bench`  (suite + HTML report)  and  `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= auto

.PHONY: setup bench test lint report clean mutate

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/setup.sh
	PYTHON=$(PYTHON) VENV=$(VENV) bash scripts/setup.sh
	touch $@

bench: setup
	$(VENV)/bin/cnnbench run --profile $(PROFILE)

test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest

lint: setup
	$(VENV)/bin/ruff check .

clean:
	rm -rf results .benchmarks .pytest_cache

# Mutation testing of the recipe code, never part of `make test` (scripts/mutate.sh says what).
mutate: setup
	VENV=$(VENV) bash scripts/mutate.sh
