#!/usr/bin/env bash
# `make mutate`: mutation testing of the code that holds the studies' recipes and carries them
# out, never part of `make test`. mutmut works in build/mutate/, a copy laid out as the
# installed package, so no file of the checkout is mutated. It mutates the seed recipes
# (models/seeds.py), the recipe's schedule arithmetic (models/recipe.py), the plan
# (bench/plan.py: the recipe as trained, its seed, its normalization), the optimizer, loss and
# evaluation scoring (bench/training.py) and the runner's training step and evaluation, and runs
# against each mutant only the tests that called the mutated function ([tool.mutmut] in
# pyproject.toml). What is left out, and why: README.md's development section.
# Exit status: 0 when at least MIN_KILLED percent of the mutants were killed, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="$(realpath "${VENV:-.venv}")"
MIN_KILLED="${MIN_KILLED:-90}"

# mutmut 3 mutates only functions, never code run at import, and skips decorated ones.
MUTANTS=(
  'cnnbench.bench.plan.x_plan__mutmut_*' 'cnnbench.bench.plan.x_case_seed__mutmut_*'
  'cnnbench.bench.plan.x_normalization__mutmut_*'
  'cnnbench.bench.training.*'
  'cnnbench.bench.runner.*Runner*_train_step__mutmut_*'
  'cnnbench.bench.runner.*Runner*evaluate__mutmut_*'
  'cnnbench.models.seeds.x_recipe_00*' 'cnnbench.models.seeds.x__study_recipe__mutmut_*'
  'cnnbench.models.recipe.*Recipe*steps_per_epoch__mutmut_*'
  'cnnbench.models.recipe.*Recipe*eval_steps__mutmut_*'
)

# Imported once by mutmut's fork server, before any mutant runs: each mutant's pytest then
# starts in about 0.7 s instead of 3 s (torch, and our modules' own imports, 1.2 + 2 s on 2
# cores). Importing runs no torch op, so the forks stay safe (an OpenMP pool started before a
# fork would hang the child). Our modules come from mutants/, which mutmut puts first on
# sys.path; the mutant to run is chosen when a function is called, not when it is imported.
PRELOAD=(torch numpy pytest cnnbench cnnbench.data cnnbench.models cnnbench.bench.config
         cnnbench.bench.plan cnnbench.bench.training cnnbench.bench.runner)

rm -rf build/mutate
mkdir -p build/mutate/cnnbench
cp cnnbench/*.py build/mutate/cnnbench/
cp pyproject.toml build/mutate/
for p in models data bench reports; do cp -r "$p" build/mutate/cnnbench/; done
find build/mutate -name __pycache__ -prune -exec rm -rf {} +
printf '%s\n' "${PRELOAD[@]}" > build/mutate/preload.txt
cd build/mutate

# No entry-point plugins (hypothesis, anyio, xdist, pytest-benchmark): these tests use none,
# and loading them cost each mutant about 1 s. One thread per child: two children share 2 cores.
export PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 OMP_NUM_THREADS=1
start=$SECONDS
"$VENV/bin/mutmut" run --max-children "${MAX_CHILDREN:-2}" "${MUTANTS[@]}" > run.log 2>&1 || {
  tail -c 4000 run.log; exit 2; }
"$VENV/bin/mutmut" results --all true > results.txt
killed=$(grep -c ': killed$' results.txt || true)
tried=$(grep -vc ': not checked$' results.txt || true)
echo "mutmut: $killed of $tried mutants killed in $(( (SECONDS - start) / 60 )) min" \
     "$(( (SECONDS - start) % 60 )) s (build/mutate/results.txt; \`mutmut show NAME\` there)"
grep -v ': killed$\|: not checked$' results.txt || echo "no survivors"
(( tried > 0 && killed * 100 >= MIN_KILLED * tried ))
