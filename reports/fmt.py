"""Formatting and number helpers the report modules share (one copy of each).

``num``, ``natural_key`` and ``json_safe`` live in ``cnnbench.record`` (below every package) and
are re-exported here; the rest are the helpers that pages, tables and findings share.
"""

from __future__ import annotations

import math

from cnnbench.record import json_safe, natural_key, num

from .stats import finite

__all__ = ["json_safe", "mean", "nan", "natural_key", "num", "signed"]


def mean(values) -> float:
    """Mean of the finite values; NaN when there are none."""
    x = finite(values)
    return float(x.mean()) if len(x) else math.nan


def nan(v) -> float:
    """A finite float, or NaN for anything else."""
    f = num(v)
    return math.nan if f is None else f


def signed(v: float, digits: int) -> str:
    """+1.5 / −1.5 with a true minus sign."""
    return f"{v:+.{digits}f}".replace("-", "−")

