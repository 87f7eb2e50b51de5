"""The nightly runner: run the GPU profile, keep history, compare with last night, fail loudly.

    python -m bench.nightly [--profile standard] [--history results/nightly] [--threshold 0.10]
                            [--acc-threshold 0.01] [--device auto] [-- extra pytest args]

Each night is saved as ``<history>/nightly-<UTC timestamp>.jsonl`` (the runner's records) plus
pytest-benchmark's JSON under ``<history>/benchmarks/``; nothing is overwritten, so the folder is
the history. After the suite it:

1. compares tonight with the most recent earlier night using the report's noise-aware
   comparison (``reports.pages.compare_runs``) and writes ``<night>/compare.html``;
2. builds ``<night>/report.html`` over tonight, and ``<history>/history.html`` over every night
   (with each case's epoch time and accuracy across nights);
3. exits 0 when all is well, 1 on a regression beyond the thresholds, 2 when cases failed
   (diverged, OOM, error) or the suite did not run, so a scheduler or CI job goes red.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from reports.pages import build_page, compare_runs
from reports.thresholds import ACC_THRESHOLD, TIME_THRESHOLD

from . import __main__ as main_job

PREFIX = "nightly-"
EXIT_OK, EXIT_REGRESSION, EXIT_FAILED = 0, 1, 2


def night_inputs(history: Path, night: str) -> list[Path]:
    """The files that make up one night: its JSONL and its saved pytest-benchmark JSON."""
    return [f for f in main_job.run_files(history, night) if f.exists()]


def nights(history: Path) -> list[str]:
    """Every night in the history, oldest first (names sort by their UTC timestamp)."""
    return sorted(p.stem for p in history.glob(f"{PREFIX}*.jsonl"))


def previous_night(history: Path, tonight: str) -> str | None:
    earlier = [n for n in nights(history) if n < tonight]
    return earlier[-1] if earlier else None


def compare_with_previous(history: Path, tonight: str, threshold: float,
                          acc_threshold: float) -> int:
    """0 if no regression (or no earlier night), 1 on a regression; writes compare.html."""
    prev = previous_night(history, tonight)
    if prev is None:
        print(f"nightly: {tonight} is the first night in {history}; nothing to compare with")
        return EXIT_OK
    print(f"nightly: comparing {tonight} with {prev}", flush=True)
    result = compare_runs(night_inputs(history, prev), night_inputs(history, tonight),
                          threshold=threshold, acc_threshold=acc_threshold,
                          html=history / tonight / "compare.html")
    sys.stdout.write(result.text)
    return EXIT_REGRESSION if result.regressed else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.nightly", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", default="standard")
    p.add_argument("--history", default="results/nightly", help="folder that keeps every night")
    p.add_argument("--threshold", type=float, default=TIME_THRESHOLD,
                   help=f"relative epoch-time change that counts as a regression "
                        f"[{TIME_THRESHOLD}]")
    p.add_argument("--acc-threshold", type=float, default=ACC_THRESHOLD,
                   help=f"absolute test-accuracy drop that counts as a regression "
                        f"[{ACC_THRESHOLD}]")
    p.add_argument("--device", default="auto")
    p.add_argument("--name", default=None, help="night name [nightly-<UTC timestamp>]")
    p.add_argument("pytest_args", nargs="*", help="passed on to pytest (after --)")
    a = p.parse_args(argv)
    history = Path(a.history).resolve()
    history.mkdir(parents=True, exist_ok=True)
    tonight = a.name or PREFIX + dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")

    suite_rc = main_job.main(["--profile", a.profile, "--name", tonight, "--results-dir",
                              str(history), "--device", a.device, "--", *a.pytest_args])
    if not (history / f"{tonight}.jsonl").exists():
        print(f"nightly: {tonight} produced no results (exit {suite_rc})", file=sys.stderr)
        return EXIT_FAILED
    cmp_rc = compare_with_previous(history, tonight, a.threshold, a.acc_threshold)
    every_night = [f for n in nights(history) for f in night_inputs(history, n)]
    build_page(every_night, history / "history.html",
               title=f"cnnbench nightly history ({len(nights(history))} nights)")
    print(f"nightly: tonight's report: {history / tonight / 'report.html'}")
    print(f"nightly: history: {history / 'history.html'}")
    if cmp_rc == EXIT_REGRESSION:
        print("nightly: REGRESSION beyond the thresholds: see compare.html", file=sys.stderr)
        return EXIT_REGRESSION
    if suite_rc or cmp_rc:
        print("nightly: some cases failed or the comparison could not run", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
