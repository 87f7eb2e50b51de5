"""The Pareto front and short case labels (plots and findings share them)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def pareto_front(df: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Rows not dominated in (min x, max y), sorted by x.

    A row is dominated when another has x <= and y >= with at least one strict. Rows with a
    missing x or y are left out; exact duplicates on the front are all kept.
    """
    xs = pd.to_numeric(df[x], errors="coerce")
    ys = pd.to_numeric(df[y], errors="coerce")
    valid = df[np.isfinite(xs) & np.isfinite(ys)]
    order = sorted(valid.index, key=lambda i: (float(xs[i]), -float(ys[i])))
    keep, best, last = [], -math.inf, None
    for i in order:
        xi, yi = float(xs[i]), float(ys[i])
        if yi > best or (yi == best and last == (xi, yi)):
            keep.append(i)
            best, last = yi, (xi, yi)
    return valid.loc[keep]


def short_labels(summary: pd.DataFrame) -> pd.Series:
    """Arch name where it identifies the case within its run, else the case id."""
    counts = summary.groupby(["run", "arch"], dropna=False)["case"].transform("nunique")
    label = summary["arch"].astype(str).where(counts == 1, summary["case"].astype(str))
    if summary["run"].nunique() > 1:
        label = label + " (" + summary["run"].astype(str) + ")"
    return label
