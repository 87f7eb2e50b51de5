"""The main job: run the suite with a profile, save it, build the HTML report, print its path.

    cnnbench run [--profile auto|quick|standard|full] [--name NAME] [-- extra pytest args]
    cnnbench run --executor ray [--ray-address ADDR] ...   (a Ray cluster; README)

Exit codes (README, "Exit codes"): 0 every case ok; 1 some case failed (diverged, oom, error:
the report is still built); 2 a bad command line; 3 the report could not be built or written
(nothing loadable, disk full, an internal error), or pytest's internal error; 4 pytest refused
the options or the data; 5 no case selected; 128+N stopped by signal N (130 Ctrl-C, 143
SIGTERM): the finished cases, their benchmark JSON and the interrupted case's record are kept,
and no report is built.

The pytest options (--epochs, --dataset, --amp, -k, ...) go after ``--``; ``pytest -p
cnnbench.bench.plugin --help`` lists them under "cnnbench".
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
import traceback
from pathlib import Path

from cnnbench import record as layout
from cnnbench.record import check_run_id
from cnnbench.reports.load import NoRunsError
from cnnbench.reports.pages import build_page
from cnnbench.reports.safe_paths import replaced_atomically

from . import child
from .profiles import PROFILES, Profile

# The cases' test file, wherever bench lives (a checkout or an installed wheel). Naming the file,
# not bench/, collects only the cases: an installed bench/tests may lack its dev dependencies.
CASES = Path(__file__).resolve().with_name("test_archs.py")
PLUGIN = "cnnbench.bench.plugin"  # loaded by name: an installed cnnbench has no entry point


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def choose_profile(name: str, device: str) -> Profile:
    """The profile to run: ``auto`` is standard on a GPU and quick without one (said aloud)."""
    gpu = cuda_available() if device == "auto" else device.startswith("cuda")
    if name == "auto":
        name = "standard" if gpu else "quick"
        print(f"cnnbench: profile {name} ({'a GPU is' if gpu else 'no GPU'} available; "
              f"choose with --profile)")
    profile = PROFILES[name]
    if profile.needs_gpu and not gpu:
        print(f"cnnbench: warning: profile {name} is meant for a GPU ({profile.duration}); "
              "running it on the CPU will take far longer", file=sys.stderr)
    return profile


EXIT_REPORT_FAILED = 3  # never 1: that is "some case failed" here and "regression" elsewhere


def run_suite(profile: Profile, run: str, results: Path, device: str,
              extra: list[str]) -> int:
    """Run the profile's cases with pytest; its exit code (1: some case failed), or 128+N
    when this process got signal N (passed on to pytest, which then saved what finished)."""
    cmd = [sys.executable, "-m", "pytest", str(CASES), "-p", PLUGIN, "-p", "no:cacheprovider",
           "-q", "--benchmark-save", run,
           "--benchmark-storage", f"file://{results / layout.BENCHMARKS_DIR}",
           "--results-dir", str(results), "--run-id", run, "--device", device,
           *profile.pytest_args, *extra]
    print("cnnbench: " + " ".join(cmd[1:]), flush=True)
    rc, received = child.run(cmd)  # in the caller's directory: results stay there
    if received:
        return 128 + received[0]
    if rc < 0:  # pytest killed by a signal (not from us)
        return 128 - rc
    return 128 + signal.SIGINT if rc == 2 else rc  # pytest's 2: interrupted


def run_files(results: Path, run: str) -> list[Path]:
    """One run's files: the runner's JSONL and pytest-benchmark's saved JSON."""
    return [layout.records_file(results, run), *layout.benchmark_files(results, run)]


def build_report(results: Path, run: str) -> Path:
    """The run's page and tables in <results>/<run>/ (reports, called as a library); the page
    is renamed into place only once whole."""
    page = layout.report_folder(results, run) / "report.html"
    with replaced_atomically(page) as tmp:
        build_page(run_files(results, run), tmp, csv_dir=layout.report_folder(results, run))
    return page


def main(argv: list[str] | None = None, prog: str = "cnnbench run") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="auto", choices=["auto", *PROFILES],
                        help="auto: standard on a GPU, quick without one")
    parser.add_argument("--name", default=None, help="run name [<profile>-<timestamp>]")
    parser.add_argument("--results-dir", default="results",
                        help="where the run's records, benchmark JSON and report go [results]")
    parser.add_argument("--device", default="auto",
                        help="auto, cpu, cuda or cuda:N; auto picks a GPU when there is one "
                             "[auto]")
    parser.add_argument("--executor", default="local", choices=["local", "ray"],
                        help="local: pytest on this machine; ray: one Ray task per case on a "
                             "Ray cluster (pip install -e '.[ray]') [local]")
    parser.add_argument("--ray-address", default=None,
                        help="the cluster to join (e.g. HEAD:6379 or auto) [an embedded local "
                             "Ray cluster]")
    parser.add_argument("--cpus-per-case", type=int, default=1,
                        help="with --executor ray on the CPU: the CPUs (torch threads) each "
                             "case gets; cases share a node's cores [1]")
    parser.add_argument("--case-timeout", type=float, default=None, metavar="SECONDS",
                        help="with --executor ray: a case still running after this long is "
                             "stopped and recorded as timeout, and the sweep goes on [3600]")
    parser.add_argument("pytest_args", nargs="*",
                        help="passed on to pytest, after `--` (the cnnbench options are listed "
                             "by `pytest -p cnnbench.bench.plugin --help`)")
    args = parser.parse_args(argv)

    profile = choose_profile(args.profile, args.device)
    run = args.name or f"{profile.name}-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
    try:  # the one run-id check, before any executor (Ray's too) writes a file
        check_run_id(run)
    except ValueError as e:
        parser.error(f"--name: {e}")
    results = Path(args.results_dir).resolve()
    print(f"cnnbench: {profile.description}; expect {profile.duration}")
    if args.executor == "ray":
        from .ray_executor import run_on_ray

        suite_rc = run_on_ray(run, results, args.device, args.ray_address,
                              [*profile.pytest_args, *args.pytest_args],
                              cpus_per_case=args.cpus_per_case,
                              **({"case_timeout": args.case_timeout}
                                 if args.case_timeout else {}))
    else:
        suite_rc = run_suite(profile, run, results, args.device, args.pytest_args)
    if suite_rc > 128:
        name = signal.Signals(suite_rc - 128).name
        print(f"cnnbench: stopped by {name}; the finished cases are kept in "
              f"{layout.records_file(results, run)} and {results / layout.BENCHMARKS_DIR} "
              "(no report built)",
              file=sys.stderr)
        return suite_rc
    if suite_rc not in (0, 1):  # 1: some case failed (diverged/oom/error); still report it
        print(f"cnnbench: the suite did not run (pytest exit {suite_rc})", file=sys.stderr)
        return suite_rc
    try:
        page = build_report(results, run)
    except NoRunsError as e:
        print(f"cnnbench: the report could not be built: {e}", file=sys.stderr)
        return EXIT_REPORT_FAILED
    except OSError as e:  # disk full, read-only folder
        print(f"cnnbench: the report could not be written: {e}", file=sys.stderr)
        return EXIT_REPORT_FAILED
    except Exception:  # noqa: BLE001 - a bug in the report must not read as "cases failed"
        traceback.print_exc()
        print("cnnbench: the report could not be built (an internal error, above)",
              file=sys.stderr)
        return EXIT_REPORT_FAILED
    print(f"cnnbench: report: {page}")
    if suite_rc:
        print("cnnbench: some cases failed; see the report's status column", file=sys.stderr)
    return suite_rc


if __name__ == "__main__":
    sys.exit(main())
