"""``python -m reports {build,compare,table}``: pages, run comparisons and Markdown tables.

Exit codes: 0 fine; 1 ``compare`` found a regression; 2 bad input (nothing loadable).
"""

from __future__ import annotations

import argparse
import sys
import warnings

from .load import NoRunsError, load_runs


def _show_warning(message, category, filename, lineno, file=None, line=None):
    # Skipped files are expected in a scanned directory: one line each, no source excerpt.
    print(f"warning: {message}", file=sys.stderr)


def cmd_build(args) -> int:
    from .html import build_report

    df = load_runs(args.runs)
    out = build_report(df, args.output, csv_dir=args.csv_dir, title=args.title,
                       threshold=args.threshold, acc_threshold=args.acc_threshold)
    print(out)
    return 0


def cmd_table(args) -> int:
    from .tables import case_table, summarize_cases, to_markdown

    df = load_runs(args.runs)
    sys.stdout.write(to_markdown(case_table(summarize_cases(df))))
    return 0


def cmd_compare(args) -> int:
    from . import compare

    base = load_runs([args.base])
    new = load_runs([args.new])
    cmp = compare.compare_frames(base, new, args.threshold, args.acc_threshold)
    notes = compare.caveats(base, new)
    sys.stdout.write(compare.format_text(cmp, args.threshold, args.acc_threshold, notes))
    if args.html:
        import pandas as pd

        from .html import build_report, comparison_sections

        b, n = compare.relabel_runs(base, new)
        path = build_report(pd.concat([b, n], ignore_index=True), args.html,
                            comparisons=comparison_sections(b, n, cmp),
                            threshold=args.threshold, acc_threshold=args.acc_threshold,
                            title=args.title)
        print(path)
    return compare.exit_code(cmp)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m reports",
                                description="Reports on cnnbench runs (pytest-benchmark JSON "
                                            "and results/*.jsonl).")
    sub = p.add_subparsers(dest="command", required=True)

    def thresholds(sp):
        sp.add_argument("--threshold", type=float, default=0.10,
                        help="relative epoch-time change that counts (default 0.10 = 10%%)")
        sp.add_argument("--acc-threshold", type=float, default=0.01,
                        help="absolute test-accuracy change that counts (default 0.01 = 1 pp)")

    b = sub.add_parser("build", help="write the self-contained HTML report")
    b.add_argument("runs", nargs="+", metavar="RUN",
                   help="pytest-benchmark JSON, results/*.jsonl, or directories to scan")
    b.add_argument("-o", "--output", required=True, metavar="PATH.html")
    b.add_argument("--csv-dir", metavar="DIR", help="also write cases.csv, cases.md, runs.csv")
    b.add_argument("--title")
    thresholds(b)
    b.set_defaults(func=cmd_build)

    c = sub.add_parser("compare", help="per-case changes between two runs; exit 1 on regression")
    c.add_argument("base", metavar="BASE", help="file or directory")
    c.add_argument("new", metavar="NEW", help="file or directory")
    c.add_argument("--html", metavar="PATH", help="also write an HTML page with both runs")
    c.add_argument("--title")
    thresholds(c)
    c.set_defaults(func=cmd_compare)

    t = sub.add_parser("table", help="print the per-case Markdown table")
    t.add_argument("runs", nargs="+", metavar="RUN")
    t.set_defaults(func=cmd_table)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return args.func(args)
        except NoRunsError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2


if __name__ == "__main__":
    sys.exit(main())
