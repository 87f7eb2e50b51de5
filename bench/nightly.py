"""The nightly runner: run the GPU profile, keep history, compare with last night, fail loudly.

    cnnbench nightly [--profile standard] [--history results/nightly] [--threshold 0.10]
                            [--acc-threshold 0.01] [--device auto] [-- extra pytest args]

Each night is saved as ``<history>/nightly-<UTC timestamp>.jsonl`` (the runner's records) plus
pytest-benchmark's JSON under ``<history>/benchmarks/``; nothing is overwritten, so the folder is
the history. After the suite it:

1. compares tonight with the most recent earlier night where a case tonight ran was ok (a
   night whose cases all failed is no baseline) using the report's noise-aware comparison
   (``reports.pages.compare_runs``) and writes ``<night>/compare.html``;
2. builds ``<night>/report.html`` over tonight, and ``<history>/history.html`` over every night
   (with each case's epoch time and accuracy across nights);
3. exits 0 when all is well, 1 on a regression beyond the thresholds (and for nothing else), 3
   when the comparison could not run (tonight's results do not load, the comparison failed, a
   full disk, an internal error), 2 when cases failed (diverged, OOM, error) or the suite did
   not run, 128+N when stopped by signal N (the finished cases are kept; no comparison), so a
   scheduler or CI job goes red. A bad record in any night is skipped with a warning.
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
import traceback
from pathlib import Path

from cnnbench.record import records_file
from cnnbench.reports.load import NoRunsError, load_runs
from cnnbench.reports.pages import compare_runs
from cnnbench.reports.thresholds import (
    ACC_THRESHOLD,
    BASELINE_NIGHTS,
    TIME_THRESHOLD,
    threshold_arg,
)

from . import __main__ as main_job

PREFIX = "nightly-"
EXIT_OK, EXIT_REGRESSION, EXIT_FAILED, EXIT_NO_COMPARISON = 0, 1, 2, 3


def night_inputs(history: Path, night: str) -> list[Path]:
    """The files that make up one night: its JSONL and its saved pytest-benchmark JSON."""
    return [f for f in main_job.run_files(history, night) if f.exists()]


def nights(history: Path) -> list[str]:
    """Every night in the history, oldest first (names sort by their UTC timestamp)."""
    return sorted(p.stem for p in history.glob(f"{PREFIX}*.jsonl"))


def ok_cases(history: Path, night: str) -> set[str]:
    """The cases that ran ok in a night (none when it has nothing loadable)."""
    try:
        df = load_runs(night_inputs(history, night))
    except NoRunsError:
        return set()
    return set(df.loc[df["status"] == "ok", "case"])


def baselines(history: Path, tonight: str, cases: set[str],
              count: int = BASELINE_NIGHTS) -> list[str]:
    """Up to ``count`` recent earlier nights where one of ``cases`` ran ok, newest first: a
    night whose cases all failed (or did not load) is never a baseline, so it cannot cause a
    false regression.

    Several nights, not one: their spread is the between-night noise a night is judged
    against (one night's within-night spread let two identical nights read −76.7%)."""
    out = []
    for night in reversed([n for n in nights(history) if n < tonight]):
        if ok_cases(history, night) & cases:
            out.append(night)
            if len(out) == count:
                break
        else:
            print(f"nightly: {night} has no ok case in common with {tonight}; not a baseline")
    return out


def compare_with_previous(history: Path, tonight: str, threshold: float,
                          acc_threshold: float) -> int:
    """EXIT_OK (no regression, or nothing earlier to compare with), EXIT_REGRESSION, or
    EXIT_NO_COMPARISON when tonight's results could not be compared; writes compare.html.

    The baseline is the recent nights (``baselines``); a regression must clear the threshold,
    the between-night noise and the control case's own change (reports/compare.py)."""
    try:
        tonight_df = load_runs(night_inputs(history, tonight))
    except NoRunsError as e:
        print(f"nightly: comparison could not run: {e}", file=sys.stderr)
        return EXIT_NO_COMPARISON
    prev = baselines(history, tonight, set(tonight_df["case"]))
    if not prev:
        print(f"nightly: no earlier night in {history} has an ok case {tonight} ran; "
              "nothing to compare with")
        return EXIT_OK
    print(f"nightly: comparing {tonight} with {', '.join(prev)}", flush=True)
    try:
        result = compare_runs([f for n in prev for f in night_inputs(history, n)],
                              night_inputs(history, tonight),
                              threshold=threshold, acc_threshold=acc_threshold,
                              html=history / tonight / "compare.html")
    except Exception as e:  # noqa: BLE001 - a crash here is reported as such, never as a regression
        print(f"nightly: comparison could not run: {type(e).__name__}: {e}", file=sys.stderr)
        return EXIT_NO_COMPARISON
    sys.stdout.write(result.text)
    return EXIT_REGRESSION if result.regressed else EXIT_OK


def build_history(history: Path) -> Path | None:
    """history.html over every night that loads (None, said, when none does): one series per
    case and machine against date, each point linked to its commit, change points listed
    (reports.history)."""
    from cnnbench.reports.history import build_history as build_history_page
    from cnnbench.reports.history import repo_url

    every_night = [(n, night_inputs(history, n)) for n in nights(history)]
    try:
        return build_history_page(every_night, history / "history.html",
                                  repo=repo_url(cwd=Path(__file__).parent),
                                  title=f"cnnbench nightly history ({len(every_night)} nights)")
    except NoRunsError as e:
        print(f"nightly: history.html not rebuilt: {e}", file=sys.stderr)
        return None


def finish_night(history: Path, tonight: str, suite_rc: int, threshold: float,
                 acc_threshold: float) -> int:
    """After the suite: compare, rebuild history.html (whatever the comparison did), and the
    exit code: a regression, a comparison that could not run, and failed cases each their own."""
    cmp_rc = compare_with_previous(history, tonight, threshold, acc_threshold)
    build_history(history)
    print(f"nightly: tonight's report: {history / tonight / 'report.html'}")
    print(f"nightly: history: {history / 'history.html'}")
    if cmp_rc == EXIT_REGRESSION:
        print("nightly: REGRESSION beyond the thresholds: see compare.html", file=sys.stderr)
    elif cmp_rc == EXIT_NO_COMPARISON:
        print("nightly: the comparison could not run (no verdict on regressions)",
              file=sys.stderr)
    if suite_rc:
        print(f"nightly: some cases failed or the suite did not finish (exit {suite_rc})",
              file=sys.stderr)
    return cmp_rc or (EXIT_FAILED if suite_rc else EXIT_OK)


def main(argv: list[str] | None = None, prog: str = "cnnbench nightly") -> int:
    """The nightly, whose exit code is never 1 for anything but a regression: a crash or a
    full disk after the suite is "no verdict" (3), with its traceback."""
    try:
        return _main(argv, prog)
    except OSError as e:
        print(f"nightly: could not finish: {e}", file=sys.stderr)
        return EXIT_NO_COMPARISON
    except Exception:  # noqa: BLE001 - a bug must not read as a regression
        traceback.print_exc()
        print("nightly: could not finish (an internal error, above); no verdict",
              file=sys.stderr)
        return EXIT_NO_COMPARISON


def _main(argv: list[str] | None, prog: str) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", default="standard",
                   help="the suite's profile (cnnbench run --help lists them) [standard]")
    p.add_argument("--history", default="results/nightly", help="folder that keeps every night")
    p.add_argument("--threshold", type=threshold_arg, default=TIME_THRESHOLD,
                   help=f"relative epoch-time change that counts as a regression "
                        f"[{TIME_THRESHOLD}]")
    p.add_argument("--acc-threshold", type=threshold_arg, default=ACC_THRESHOLD,
                   help=f"absolute test-accuracy drop that counts as a regression "
                        f"[{ACC_THRESHOLD}]")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N [auto]")
    p.add_argument("--name", default=None, help="night name [nightly-<UTC timestamp>]")
    p.add_argument("pytest_args", nargs="*", help="passed on to pytest (after --)")
    a = p.parse_args(argv)
    history = Path(a.history).resolve()
    history.mkdir(parents=True, exist_ok=True)
    tonight = a.name or PREFIX + dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")

    suite_rc = main_job.main(["--profile", a.profile, "--name", tonight, "--results-dir",
                              str(history), "--device", a.device, "--", *a.pytest_args])
    if suite_rc > 128:  # stopped by a signal: what finished is kept, a partial night is no verdict
        print(f"nightly: {tonight} stopped by {signal.Signals(suite_rc - 128).name}; its "
              "finished cases are kept, no comparison made", file=sys.stderr)
        return suite_rc
    if not records_file(history, tonight).exists():
        print(f"nightly: {tonight} produced no results (exit {suite_rc})", file=sys.stderr)
        return EXIT_FAILED
    return finish_night(history, tonight, suite_rc, a.threshold, a.acc_threshold)


if __name__ == "__main__":
    sys.exit(main())
