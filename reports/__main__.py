"""``python -m reports {build,compare,table}``: pages, run comparisons and Markdown tables.

Exit codes (README, "Exit codes"): 0 fine; 1 ``compare`` found a regression, and nothing else
is ever 1; 2 bad input (a bad option, nothing loadable, an output that would overwrite an
input); 3 the command could not finish (a page could not be written: disk full, read-only
folder; or a bug, with its traceback); 130/143 stopped by SIGINT/SIGTERM. Pages are written to
a temporary file and renamed, so a failure leaves the old page whole.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import traceback
import warnings
from pathlib import Path

from .load import NoRunsError, input_files, load_runs
from .pages import build_page, compare_runs
from .safe_paths import page_path, replaced_atomically
from .thresholds import ACC_THRESHOLD, TIME_THRESHOLD, threshold_arg

EXIT_OK, EXIT_REGRESSION, EXIT_BAD_INPUT, EXIT_NOT_FINISHED = 0, 1, 2, 3


class BadOutput(ValueError):
    """An output path that would destroy an input."""


def _show_warning(message, category, filename, lineno, file=None, line=None):
    # Skipped files are expected in a scanned directory: one line each, no source excerpt.
    print(f"warning: {message}", file=sys.stderr)


def _page(output: str, runs: list[str]) -> Path:
    try:
        return page_path(output, list(input_files(runs)))
    except ValueError as e:
        raise BadOutput(str(e)) from None


def cmd_build(args) -> int:
    out = _page(args.output, args.runs)
    with replaced_atomically(out) as tmp:
        build_page(args.runs, tmp, csv_dir=args.csv_dir, title=args.title,
                   threshold=args.threshold, acc_threshold=args.acc_threshold)
    print(out)
    return 0


def cmd_table(args) -> int:
    from .tables import case_table, summarize_cases, to_markdown

    df = load_runs(args.runs)
    sys.stdout.write(to_markdown(case_table(summarize_cases(df))))
    return 0


def cmd_compare(args) -> int:
    out = _page(args.html, [args.base, args.new]) if args.html else None
    with replaced_atomically(out) if out else contextlib.nullcontext() as tmp:
        result = compare_runs([args.base], [args.new], threshold=args.threshold,
                              acc_threshold=args.acc_threshold, html=tmp, title=args.title)
    if out:
        result.page = out
    sys.stdout.write(result.text)
    if result.page:
        print(result.page)
    return 1 if result.regressed else 0


def parser(progs: dict[str, str] | None = None) -> argparse.ArgumentParser:
    """``progs``: a usage name per subcommand (``cnnbench report`` for build)."""
    progs = progs or {}
    p = argparse.ArgumentParser(prog="python -m cnnbench.reports",
                                description="Reports on cnnbench runs (pytest-benchmark JSON "
                                            "and results/*.jsonl).")
    sub = p.add_subparsers(dest="command", required=True)

    def add(name: str, help: str, func, *args: tuple[tuple[str, ...], dict]):
        sp = sub.add_parser(name, help=help, **({"prog": progs[name]} if name in progs else {}))
        for flags, kw in args:
            sp.add_argument(*flags, **kw)
        sp.add_argument("--title", help="the page's title [cnnbench report: RUN names]")
        sp.add_argument("--threshold", type=threshold_arg, default=TIME_THRESHOLD,
                        help=f"relative epoch-time change that counts [{TIME_THRESHOLD}]")
        sp.add_argument("--acc-threshold", type=threshold_arg, default=ACC_THRESHOLD,
                        help=f"absolute test-accuracy change that counts [{ACC_THRESHOLD}]")
        sp.set_defaults(func=func)

    add("build", "write the self-contained HTML report", cmd_build,
        (("runs",), dict(nargs="+", metavar="RUN",
                      help="pytest-benchmark JSON, results/*.jsonl, or directories to scan")),
        (("-o", "--output"), dict(required=True, metavar="PATH.html",
                                  help="the page; a folder gets report.html inside it")),
        (("--csv-dir",), dict(metavar="DIR", help="also write cases.csv, cases.md, runs.csv")))
    add("compare", "per-case changes between two runs; exit 1 on regression", cmd_compare,
        (("base",), dict(metavar="BASE", help="file or directory")),
        (("new",), dict(metavar="NEW", help="file or directory")),
        (("--html",), dict(metavar="PATH", help="also write an HTML page with both runs")))

    t = sub.add_parser("table", help="print the per-case Markdown table",
                       **({"prog": progs["table"]} if "table" in progs else {}))
    t.add_argument("runs", nargs="+", metavar="RUN",
                   help="pytest-benchmark JSON, results/*.jsonl, or directories to scan")
    t.set_defaults(func=cmd_table)
    return p


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser({argv[0]: prog} if prog and argv else None).parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return args.func(args)
        except (NoRunsError, BadOutput) as e:
            print(f"error: {e}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except OSError as e:  # a full disk, a read-only folder: no verdict, and never "1"
            print(f"error: could not finish: {e}", file=sys.stderr)
            return EXIT_NOT_FINISHED
        except KeyboardInterrupt:
            return 128 + signal.SIGINT
        except Exception:  # noqa: BLE001 - a bug must not read as "regression" (exit 1)
            traceback.print_exc()
            print("error: could not finish (an internal error, above)", file=sys.stderr)
            return EXIT_NOT_FINISHED


if __name__ == "__main__":
    sys.exit(main())
