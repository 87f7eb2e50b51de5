#!/usr/bin/env bash
# Runs the checks that need a GPU and records the numbers the issues ask for. Use a Python that
# already has torch with CUDA (e.g. the H100/H200 image's python3); nothing is installed.
#
#   OUT=/some/dir CNNBENCH_DATA=/path/to/fashion-mnist scripts/gpu-check.sh [STAGE...]
#
# Stages (default: all, in this order; each takes minutes, so pick a few per call):
#   tests     the gpu-marked unit tests (CUDA events, busy fraction, graphs == eager losses)
#   zoo       every seed case, 3 epochs, fp32 and bf16          -> zoo.jsonl, zoo.json
#   overhead  runner vs a bare loop, and graphs mode            -> overhead.json
#   loaders   resident loader vs DataLoader images/s            -> throughput.json
#   modes     seed cases in eager, compile and graphs, 10 epochs -> modes.jsonl
#   standard  the standard profile end to end, with its report  -> standard/report.html
#   report    one page over everything above                    -> report.html
set -uo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
OUT="${OUT:-results/gpu-check}"
PY="${PYTHON:-python3}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(tests zoo overhead loaders modes standard report)
export PYTHONUNBUFFERED=1
# The checkout as the installed package lays it out (cnnbench.bench is ./bench, ...), through
# symlinks in a temporary folder: this Python gets cnnbench importable with nothing installed.
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
mkdir "$STAGE/cnnbench"
cp cnnbench/*.py "$STAGE/cnnbench/"
for p in bench models data reports; do ln -s "$REPO/$p" "$STAGE/cnnbench/$p"; done
export PYTHONPATH="$STAGE${PYTHONPATH:+:$PYTHONPATH}"
# From there, not the checkout: `python -m` puts the working directory first on sys.path, and the
# checkout's own cnnbench/ (the core modules alone) would shadow the staged package.
cd "$STAGE"
log() { echo "gpu-check: $*" | tee -a "$OUT/summary.txt"; }

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
  | tee -a "$OUT/summary.txt"
for stage in "${stages[@]}"; do
  start=$(date +%s)
  case "$stage" in
    tests)
      $PY -m pytest "$REPO/bench/tests" -m gpu -p no:cacheprovider -q -rs 2>&1 | tail -5 \
        | tee -a "$OUT/summary.txt" ;;
    zoo)
      $PY -m pytest "$REPO/bench/test_archs.py" -m seed --epochs 3 --dataset fashion-mnist --amp off,bf16 \
        -p no:cacheprovider -q --results-dir "$OUT" --run-id zoo \
        --benchmark-json "$OUT/zoo.json" --trace-dir "$OUT/traces" > "$OUT/zoo.log" 2>&1
      tail -3 "$OUT/zoo.log" | tee -a "$OUT/summary.txt" ;;
    overhead)
      $PY -m cnnbench.bench.overhead --epochs 5 --json "$OUT/overhead.json" --results-dir "$OUT" \
        | tee -a "$OUT/summary.txt" ;;
    loaders)
      $PY -m cnnbench.data.throughput --dataset fashion-mnist --workers 0,4 --epochs 3 \
        --json "$OUT/throughput.json" | tee -a "$OUT/summary.txt" ;;
    modes)
      $PY -m pytest "$REPO/bench/test_archs.py" -m seed --epochs 10 --mode eager,compile,graphs \
        -p no:cacheprovider -q --results-dir "$OUT" --run-id modes --no-torch-profile \
        --benchmark-disable > "$OUT/modes.log" 2>&1
      tail -3 "$OUT/modes.log" | tee -a "$OUT/summary.txt" ;;
    standard)
      $PY -m cnnbench.bench --profile standard --name standard --results-dir "$OUT/standard" \
        > "$OUT/standard.log" 2>&1
      tail -3 "$OUT/standard.log" | tee -a "$OUT/summary.txt" ;;
    report)
      inputs=("$OUT"/*.jsonl)
      $PY -m cnnbench.reports build "${inputs[@]}" -o "$OUT/report.html" --csv-dir "$OUT" \
        | tee -a "$OUT/summary.txt"
      $PY -m cnnbench.reports table "${inputs[@]}" > "$OUT/cases.md" ;;
    *) echo "unknown stage $stage" >&2; exit 2 ;;
  esac
  log "$stage took $(( $(date +%s) - start )) s"
done
