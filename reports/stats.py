"""Statistics for the reports: t-intervals, binomial intervals, two-sample differences, OLS slopes.

Quantiles come from scipy.stats; what is ours is which variances feed them (``difference``:
two means with their variances and degrees of freedom, independent or from one pooled estimate).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

LEVEL = 0.95


def t_ppf(p: float, df: float) -> float:
    """The p-quantile of Student's t (e.g. t_ppf(0.975, 4) == 2.776...)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"t_ppf: p must be in (0, 1), got {p}")
    if not df > 0:
        raise ValueError(f"t_ppf: df must be > 0, got {df}")
    return float(sps.t.ppf(p, df))


def finite(values: Iterable) -> np.ndarray:
    """The finite floats among ``values`` (None, NaN and non-numbers dropped)."""
    out = []
    for v in values:
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            out.append(f)
    return np.asarray(out, dtype=float)


@dataclass(frozen=True)
class MeanCI:
    mean: float
    half_width: float | None  # None when n < 2: one value has no spread to build a CI from
    n: int

    @property
    def low(self) -> float | None:
        return None if self.half_width is None else self.mean - self.half_width

    @property
    def high(self) -> float | None:
        return None if self.half_width is None else self.mean + self.half_width


def mean_ci(values: Iterable, level: float = LEVEL) -> MeanCI:
    """Mean and t-interval half-width over the finite values."""
    x = finite(values)
    n = len(x)
    if n == 0:
        return MeanCI(math.nan, None, 0)
    if n == 1:
        return MeanCI(float(x[0]), None, 1)
    sd = float(np.std(x, ddof=1))
    return MeanCI(float(np.mean(x)), t_ppf(0.5 + level / 2, n - 1) * sd / math.sqrt(n), n)


def iqr(values: Iterable) -> float:
    x = finite(values)
    if len(x) == 0:
        return math.nan
    q1, q3 = np.percentile(x, [25, 75])
    return float(q3 - q1)


def robust_sigma(values: Sequence[float]) -> float:
    """IQR / 1.349 (the normal's sigma), falling back to the stddev when the IQR is 0."""
    x = finite(values)
    if len(x) < 2:
        return 0.0
    s = iqr(x) / 1.349
    return s if s > 0 else float(np.std(x, ddof=1))


def binomial_se(p: float, n: float | None) -> float | None:
    """Standard error of an accuracy p measured on n test images."""
    if n is None or not math.isfinite(float(n)) or n <= 0 or not math.isfinite(p):
        return None
    return math.sqrt(max(p * (1.0 - p), 0.0) / float(n))


# ---------------------------------------------------------------- two-sample differences


@dataclass(frozen=True)
class SampleMean:
    """An estimated mean with its variance and the degrees of freedom behind that variance.

    ``dof`` is None when the variance is not estimated from spread in the data (one value), and
    ``inf`` when it is a known (e.g. binomial) variance.
    """

    mean: float
    var: float | None
    dof: float | None
    n: int  # values behind the mean (epochs or repeats)


@dataclass(frozen=True)
class Difference:
    """A difference of means (or a mean of differences) with its t-interval."""

    estimate: float
    se: float | None
    dof: float | None
    low: float | None
    high: float | None
    n: int  # measurements behind it (both sides)

    @property
    def conclusive(self) -> bool | None:
        """The CI excludes zero; None where there is no CI."""
        if self.low is None or self.high is None:
            return None
        return self.low > 0 or self.high < 0


def interval(est: float, parts: Sequence[tuple[float, float]], n: int, level: float = LEVEL,
             shared_dof: float | None = None) -> Difference:
    """est ± t·sqrt(Σ var) over independent (variance, dof) parts, Welch–Satterthwaite dof.

    ``shared_dof``: the parts' variances all come from one pooled estimate with that many
    degrees of freedom (they are not independent, so their dof do not add up).
    """
    var = sum(v for v, _ in parts)
    if var <= 0:  # identical values on every side: no spread to build an interval from
        return Difference(est, 0.0, None, None, None, n)
    denom = sum(v * v / d for v, d in parts if v > 0 and math.isfinite(d))
    dof = shared_dof if shared_dof is not None else var * var / denom if denom > 0 else math.inf
    q = float(sps.norm.ppf(0.5 + level / 2)) if math.isinf(dof) else t_ppf(0.5 + level / 2, dof)
    se = math.sqrt(var)
    return Difference(est, se, dof, est - q * se, est + q * se, n)


def difference(a: SampleMean, b: SampleMean, level: float = LEVEL,
               shared_dof: float | None = None) -> Difference:
    """b − a with a Welch t-interval; no interval when either side has no variance."""
    est = b.mean - a.mean
    if a.var is None or b.var is None or a.dof is None or b.dof is None:
        return Difference(est, None, None, None, None, a.n + b.n)
    return interval(est, [(a.var, a.dof), (b.var, b.dof)], a.n + b.n, level, shared_dof)


def mean_difference(diffs: Sequence[Difference], level: float = LEVEL,
                    shared_dof: float | None = None) -> Difference:
    """The average of independent differences, its variance Σ se² / k² (Welch dof)."""
    k = len(diffs)
    if k == 0:
        raise ValueError("mean_difference: no differences")
    est = float(np.mean([d.estimate for d in diffs]))
    n = sum(d.n for d in diffs)
    if any(d.se is None or d.dof is None for d in diffs):
        return Difference(est, None, None, None, None, n)
    return interval(est, [(d.se ** 2 / k ** 2, d.dof) for d in diffs], n, level, shared_dof)


# ---------------------------------------------------------------- least squares


@dataclass(frozen=True)
class SlopeFit:
    """A least-squares slope with its t-interval."""

    slope: float
    se: float
    ci_low: float
    ci_high: float
    n: int  # observations used
    groups: int  # fixed-effect groups (1 for a plain regression with intercept)
    dof: int

    @property
    def conclusive(self) -> bool:
        """The CI excludes zero."""
        return self.ci_low > 0 or self.ci_high < 0


def ols(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Coefficients, their standard errors and residual degrees of freedom."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    coef, _, rank, _ = np.linalg.lstsq(X, y, rcond=None)
    dof = len(y) - int(rank)
    resid = y - X @ coef
    s2 = float(resid @ resid) / dof if dof > 0 else math.nan
    cov = s2 * np.linalg.pinv(X.T @ X)
    return coef, np.sqrt(np.clip(np.diag(cov), 0, None)), dof


def slope_fit(x: Sequence[float], y: Sequence[float], groups: Sequence | None = None,
              level: float = LEVEL) -> SlopeFit | None:
    """Slope of y on x with one intercept per group (other factors held fixed by grouping).

    Groups where x does not vary say nothing about the slope and are dropped, so ``n`` counts
    only observations that inform it. Returns None when the slope cannot be estimated with a
    CI (no variation, or no residual degrees of freedom).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    g = np.zeros(len(x), dtype=int) if groups is None else _codes(groups)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y, g = x[ok], y[ok], g[ok]
    keep = np.zeros(len(x), dtype=bool)
    for code in np.unique(g):
        sel = g == code
        if np.ptp(x[sel]) > 0:
            keep |= sel
    x, y, g = x[keep], y[keep], g[keep]
    levels = np.unique(g)
    if len(levels) == 0:
        return None
    dummies = (g[:, None] == levels[None, :]).astype(float)
    coef, se, dof = ols(np.column_stack([x, dummies]), y)
    if dof < 1 or not math.isfinite(se[0]):
        return None
    half = t_ppf(0.5 + level / 2, dof) * float(se[0])
    b = float(coef[0])
    return SlopeFit(b, float(se[0]), b - half, b + half, len(x), len(levels), dof)


def _codes(groups: Sequence) -> np.ndarray:
    index: dict = {}
    return np.asarray([index.setdefault(_hashable(v), len(index)) for v in groups], dtype=int)


def _hashable(v):
    if isinstance(v, list | tuple | np.ndarray):
        return tuple(_hashable(i) for i in v)
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    return v
