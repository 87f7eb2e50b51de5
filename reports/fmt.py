"""Formatting and number helpers the report modules share (one copy of each).

``num`` and ``natural_key`` live in ``cnnbench.record`` (below every package) and are re-exported
here; the rest are the small helpers pages, tables and findings used to keep private copies of.
"""

from __future__ import annotations

import math

import numpy as np

from cnnbench.record import json_safe as _record_json_safe
from cnnbench.record import natural_key, num

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


def json_safe(v):
    """JSON-safe values (NaN → None, numpy scalars → Python), recursively."""
    if isinstance(v, np.bool_):
        return bool(v)
    return _record_json_safe(v)
