"""Small statistics helpers: Student-t quantiles, mean ± CI, least squares with standard errors.

scipy and statsmodels are not dependencies of the suite, and the few numbers the reports need
(a t quantile, an OLS slope with its standard error) are short to compute with numpy alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    ln_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                + a * math.log(x) + b * math.log1p(-x))
    front = math.exp(ln_front)
    # The continued fraction converges fast only on one side of the mean; use the symmetry.
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


def t_ppf(p: float, df: float) -> float:
    """The p-quantile of Student's t (e.g. t_ppf(0.975, 4) == 2.776...)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"t_ppf: p must be in (0, 1), got {p}")
    if df <= 0:
        raise ValueError(f"t_ppf: df must be > 0, got {df}")
    if p < 0.5:
        return -t_ppf(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:  # df=1 needs hi ~ 64 for 0.995; grow until bracketed
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


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


def mean_ci(values: Iterable, level: float = 0.95) -> MeanCI:
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
              level: float = 0.95) -> SlopeFit | None:
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
