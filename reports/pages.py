"""The reports as a library: build a page from run files, compare two sets of runs.

``python -m reports`` and bench's main and nightly jobs all call these; nothing runs the reports
in a subprocess.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .load import load_runs
from .thresholds import ACC_THRESHOLD, TIME_THRESHOLD

Paths = Iterable[str | os.PathLike]


def build_page(runs: Paths, output: str | os.PathLike, *, csv_dir=None, title: str | None = None,
               threshold: float = TIME_THRESHOLD, acc_threshold: float = ACC_THRESHOLD) -> Path:
    """The self-contained HTML page over ``runs`` (files or folders); returns its path.
    Raises NoRunsError when nothing loadable is found. An existing folder as ``output`` gets
    ``report.html`` inside it."""
    from .html import build_report

    if Path(output).is_dir():
        output = Path(output) / "report.html"
    return build_report(load_runs(runs), output, csv_dir=csv_dir, title=title,
                        threshold=threshold, acc_threshold=acc_threshold)


@dataclass
class Comparison:
    table: pd.DataFrame  # one row per case present in both sides, with its verdict
    text: str  # the plain-text summary the CLI prints
    regressed: bool  # some case is slower or less accurate beyond the thresholds and the noise
    page: Path | None = None  # the HTML page, when one was asked for


def compare_runs(base: Paths, new: Paths, *, threshold: float = TIME_THRESHOLD,
                 acc_threshold: float = ACC_THRESHOLD, html: str | os.PathLike | None = None,
                 title: str | None = None) -> Comparison:
    """Noise-aware per-case comparison of two sets of run files (each side: files or folders)."""
    from . import compare

    b_df, n_df = load_runs(base), load_runs(new)
    cmp = compare.compare_frames(b_df, n_df, threshold, acc_threshold)
    notes = compare.caveats(b_df, n_df)
    result = Comparison(cmp, compare.format_text(cmp, threshold, acc_threshold, notes),
                        bool((cmp["verdict"] == compare.REGRESSED).any()))
    if html:
        from .html import build_report, comparison_sections

        b, n = compare.relabel_runs(b_df, n_df)
        result.page = build_report(pd.concat([b, n], ignore_index=True), html,
                                   comparisons=comparison_sections(b, n, cmp),
                                   threshold=threshold, acc_threshold=acc_threshold, title=title)
    return result
