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

# Mutation testing, never part of `make test`: mutmut runs in build/mutate/, a copy
# laid out as the installed package, so no file of the checkout is mutated. It mutates the code
# that holds the studies' recipes and carries them out: the seed recipes (models/seeds.py), the
# recipe's schedule arithmetic (models/recipe.py), the plan (bench/plan.py: the recipe as
# trained, its seed, its normalization), the optimizer, loss and evaluation scoring
# (bench/training.py) and the runner's training step and evaluation, against only the tests that
# pin them ([tool.mutmut] in pyproject.toml). Left out, with why, in README.md's development
# section. mutmut 3 mutates only functions, not code run at import, and skips decorated ones.
MUTANTS := 'cnnbench.bench.plan.x_plan__mutmut_*' 'cnnbench.bench.plan.x_case_seed__mutmut_*' \
	'cnnbench.bench.plan.x_normalization__mutmut_*' \
	'cnnbench.bench.training.*' \
	'cnnbench.bench.runner.*Runner*_train_step__mutmut_*' \
	'cnnbench.bench.runner.*Runner*evaluate__mutmut_*' \
	'cnnbench.models.seeds.x_recipe_00*' 'cnnbench.models.seeds.x__study_recipe__mutmut_*' \
	'cnnbench.models.recipe.*Recipe*steps_per_epoch__mutmut_*' \
	'cnnbench.models.recipe.*Recipe*eval_steps__mutmut_*'

mutate: setup
	rm -rf build/mutate && mkdir -p build/mutate/cnnbench
	cp cnnbench/*.py build/mutate/cnnbench/ && cp pyproject.toml build/mutate/
	for p in models data bench reports; do cp -r $$p build/mutate/cnnbench/; done
	find build/mutate -name __pycache__ -prune -exec rm -rf {} +
	printf 'torch\nnumpy\npytest\n' > build/mutate/preload.txt
	cd build/mutate && $(abspath $(VENV))/bin/mutmut run --max-children 2 $(MUTANTS)
	cd build/mutate && $(abspath $(VENV))/bin/mutmut results
