#!/usr/bin/env bash
# The README's images, from real data: the page over the recorded CPU run in
# reports/tests/fixtures (a real `cnnbench run`), screenshotted in headless Chromium at
# 1,400×900 (a laptop's first screen) and 390×844 (a phone), and a history page over three
# nights made from that run, the third 30% slower (a change point needs three nights on each
# side, so this page shows the points, the noise band and the dates, and lists no change yet).
#
#   scripts/screenshots.sh [OUT_DIR=docs] [RUN FILES...]   (e.g. a quick run's results/NAME.jsonl
#                                                          results/benchmarks: the page's data)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs}
shift || true
PY=${PYTHON:-.venv/bin/python}
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || { echo "chromium not found: apt-get install -y chromium" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"

"$PY" - "$WORK" "$@" <<'PY'
import json, sys
from pathlib import Path

from cnnbench.reports.history import build_history
from cnnbench.reports.pages import build_page
from cnnbench.reports.tests.fixture_files import BENCH_JSON, RUNNER_JSONL

work = Path(sys.argv[1])
build_page(sys.argv[2:] or [BENCH_JSON, RUNNER_JSONL], work / "report.html")
# Three nights from the recorded run: the same records, dated a day apart, the third slower.
lines = [json.loads(x) for x in RUNNER_JSONL.read_text().splitlines() if x.strip()]
nights = []
for i, slow in enumerate((1.0, 1.0, 1.3), start=1):
    name = f"nightly-202611{i:02d}-021700"
    recs = []
    for r in lines:
        r = dict(r, run_id=name, started_at=f"2026-11-{i:02d}T02:17:00+00:00")
        if isinstance(r.get("epoch_times_s"), list):
            r["epoch_times_s"] = [slow * t for t in r["epoch_times_s"]]
        recs.append(r)
    f = work / "nights" / f"{name}.jsonl"
    f.parent.mkdir(exist_ok=True)
    f.write_text("".join(json.dumps(r) + "\n" for r in recs))
    nights.append((name, [f]))
build_history(nights, work / "history.html")
PY

shot() {  # shot PAGE OUT.png WIDTH HEIGHT
  "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$WORK/profile" --window-size="$3,$4" --screenshot="$2" \
    "file://$1" >/dev/null 2>&1
  echo "$2"
}
shot "$WORK/report.html" "$OUT/report-top.png" 1400 900
shot "$WORK/report.html" "$OUT/report-phone.png" 390 844
shot "$WORK/report.html" "$OUT/report.png" 1400 3000
shot "$WORK/history.html" "$OUT/history.png" 1400 900
