"""Statistics for the reports: t-intervals, binomial intervals, two-sample differences, OLS slopes,
tests against a practical margin and Holm's correction.

Quantiles come from scipy.stats; what is ours is which variances feed them (``difference``:
two means with their variances and degrees of freedom, independent or from one pooled estimate;
``one_sample``: per-block paired values) and how a family of tests is corrected (``holm``).

The one place for timing statistics: a run's summary is ``run_log_time`` (the median of its log
epoch times: robust to one slow epoch), and ``epoch_stats`` gives the per-case figures the
tables and the comparison quote.
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


def accuracy_ci(values: Iterable, level: float = LEVEL, min_n: int = 3) -> MeanCI:
    """Mean test accuracy (fractions) with a t-interval over seeds, or none below ``min_n``
    seeds (with 2 the t quantile is 12.7: "66.50 ± 73.76 %"). ``interval_within`` clips it."""
    ci = mean_ci(values, level)
    if ci.n < min_n:
        return MeanCI(ci.mean, None, ci.n)
    return ci


def interval_within(low: float | None, high: float | None, lo: float = 0.0,
                    hi: float = 1.0) -> tuple[float | None, float | None]:
    """An interval clipped to what the quantity can be (an accuracy lies in [0, 1])."""
    if low is None or high is None:
        return low, high
    return max(lo, low), min(hi, high)


def run_log_time(times: Iterable) -> float | None:
    """One run's summary: the median of its log epoch times (None without a positive time).

    The run, not the epoch, is the replicate: epochs of one run share its offset (in a quick run
    repeat means differed 10.6% while epochs within a repeat differed 3.5%)."""
    t = finite(times)
    t = t[t > 0]
    return float(np.median(np.log(t))) if len(t) else None


@dataclass(frozen=True)
class EpochStats:
    median: float
    q1: float
    q3: float
    mean: float
    std: float
    n: int
    total: float = math.nan  # the sum: a run's training time

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1


def epoch_stats(times: Iterable) -> EpochStats:
    """Median, quartiles (numpy's linear interpolation), mean, SD and sum of epoch times (NaN
    where there are none). The runner's ``epoch_time_median_s``, the loader's derived
    ``epoch_time_*`` columns, the per-case table (epochs pooled over repeats) and the comparison
    all take their figures from here."""
    t = finite(times)
    if not len(t):
        return EpochStats(math.nan, math.nan, math.nan, math.nan, math.nan, 0)
    q1, med, q3 = (float(v) for v in np.percentile(t, [25, 50, 75]))
    return EpochStats(med, q1, q3, float(t.mean()), float(t.std(ddof=1)) if len(t) > 1 else 0.0,
                      len(t), float(t.sum()))


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


def one_sample(values: Sequence[float], level: float = LEVEL,
               extra: tuple[float, float] | None = None) -> Difference:
    """Mean of per-block paired values with its t-interval over the blocks (dof k − 1).

    ``extra``: an independent (variance, dof) part added to the mean's variance, e.g. the test
    set's sampling variance of an accuracy difference (dof inf); Welch–Satterthwaite dof."""
    x = finite(values)
    k = len(x)
    if k == 0:
        return Difference(math.nan, None, None, None, None, 0)
    est = float(x.mean())
    if k < 2:
        return Difference(est, None, None, None, None, k)
    parts = [(float(np.var(x, ddof=1)) / k, k - 1)]
    if extra is not None:
        parts.append(extra)
    return interval(est, parts, k, level)


def at_level(d: Difference, level: float) -> tuple[float | None, float | None]:
    """The interval of ``d`` at another two-sided level (same se and dof)."""
    if d.se is None or d.dof is None or d.low is None or d.se == 0:
        return d.low, d.high
    q = quantile(0.5 + level / 2, d.dof)
    return d.estimate - q * d.se, d.estimate + q * d.se


def quantile(p: float, dof: float) -> float:
    return float(sps.norm.ppf(p)) if math.isinf(dof) else t_ppf(p, dof)


def margin_p(d: Difference, margin: float) -> float | None:
    """Two-sided p-value of "the effect lies beyond ±margin, on the estimate's side".

    p ≤ α exactly when the (1 − α) interval clears the margin, so a corrected interval and a
    corrected p-value always agree. None without an interval; 0 when the spread is nil."""
    if d.se is None or d.dof is None:
        return None
    stat = abs(d.estimate) - margin
    if d.se == 0:
        return 0.0 if stat > 0 else 1.0
    dist = sps.norm if math.isinf(d.dof) else sps.t(d.dof)
    return float(min(1.0, 2 * dist.sf(stat / d.se)))


def holm(ps: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjusted p-values (None stays None and does not count in the family).

    Holm controls the family-wise error rate under any dependence; it rejects everything
    Bonferroni does, and more."""
    idx = [i for i, p in enumerate(ps) if p is not None]
    m = len(idx)
    out: list[float | None] = [None] * len(ps)
    running = 0.0
    for rank, i in enumerate(sorted(idx, key=lambda i: ps[i])):
        running = max(running, min(1.0, (m - rank) * ps[i]))
        out[i] = running
    return out


def corrected_level(p: float | None, p_adj: float | None, alpha: float) -> float | None:
    """The two-sided level at which an interval clears the margin exactly when Holm rejects:
    1 − α·p/p_adj (p_adj/p is Holm's multiplier for this test, at most the family size)."""
    if p is None or p_adj is None:
        return None
    if p <= 0 or p_adj <= 0:
        return 1 - alpha
    return 1 - alpha * min(1.0, p / p_adj)


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
