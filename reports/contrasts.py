"""Level-to-level contrasts: what one step of one factor costs in time and gains in accuracy.

A contrast compares two *cells* (a case's repeats under one run's conditions) that differ in one
grid factor alone: matched on every other factor and on the run conditions. Uncertainty comes
from the measurements, never from misfit between levels:

* time: the ratio of mean log epoch times. Its variance is the spread of the repeats' mean log
  epoch times (the spread of single epochs when each case ran once), pooled over the run's
  cells: timing noise is relative and comes from the machine, which all cases of a run share,
  and one case's two repeats could not estimate it (1 degree of freedom).
* accuracy: the difference of mean test accuracies. The seed-to-seed variance is pooled the same
  way over the cells with two or more repeats, floored by the binomial variance of each
  accuracy on its test set. With one repeat everywhere there is no seed spread to use: the
  contrast carries the binomial resolution instead of an interval.

A step seen in several matched contexts (e.g. k5 → k7 at depth 1, 2 and 3) is reported as the
mean of its per-context estimates, with the range across them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats as sps

from .stats import (
    LEVEL,
    Difference,
    SampleMean,
    difference,
    finite,
    mean_difference,
)

# The grid's factors in report order. Ordinal factors step between adjacent levels present;
# categorical ones compare every level with the first present in this order (the reference).
FACTORS = ("depth", "kernel", "stride", "padding", "pooling", "width")
ORDINAL = {"depth": "d", "kernel": "k", "stride": "s", "width": "w"}
CATEGORICAL = {"padding": ("valid", "same"), "pooling": ("max", "avg", "none")}
FACTOR_NAMES = {"depth": "Depth", "kernel": "Kernel size", "stride": "Stride",
                "padding": "Padding", "pooling": "Pooling", "width": "Width"}
# Run conditions two cells must share to be compared at all (missing columns are ignored).
RUN_CONDITIONS = ("run", "dataset", "device", "device_name", "precision", "mode", "compile",
                  "channels_last", "loader", "recipe", "limit_train", "train_size", "test_size")
# Grid cells also share the training recipe's numbers. Seed nets under ``--recipe seed`` each
# keep their study's (seed004 model C: lr 0.05), so comparisons of a study's nets match on the
# run conditions alone, as the study did.
CONDITIONS = RUN_CONDITIONS + ("optimizer", "lr", "batch_size", "epochs")
Z = float(sps.norm.ppf(0.5 + LEVEL / 2))


@dataclass
class Cell:
    """One case under one run's conditions: its repeats' epoch times and test accuracies."""

    case: str
    arch: str
    conditions: tuple
    factors: dict
    times: list[list[float]]  # per repeat
    accs: list[float]  # per repeat, fractions
    test_size: float | None

    @property
    def log_times(self) -> list[np.ndarray]:
        """Log epoch times of each repeat that has any."""
        return [np.log(t) for t in self.times if len(t)]

    @property
    def acc(self) -> float:
        return float(np.mean(self.accs)) if self.accs else math.nan

    @property
    def binomial_var(self) -> float | None:
        p, n = self.acc, self.test_size
        if n is None or not n > 0 or not math.isfinite(p):
            return None
        return p * (1 - p) / n


@dataclass(frozen=True)
class Noise:
    """The variance of one unit (a repeat, or an epoch), pooled over cells, with its dof."""

    var: float
    dof: int
    cells: int
    unit: str = "repeat"  # repeat | epoch


@dataclass
class Contrast:
    factor: str
    metric: str  # time | accuracy
    a: str  # level labels, e.g. "k5" → "k7"
    b: str
    diff: Difference  # time: log(t_b / t_a); accuracy: acc_b − acc_a (fractions)
    pairs: int  # matched contexts averaged
    spread: tuple[float, float]  # min and max of the per-context estimates
    resolution: float | None = None  # accuracy without seed spread: smallest resolvable |diff|
    cases: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.factor}_{self.metric}_{self.a}_{self.b}"


# ---------------------------------------------------------------- cells


def _value(v):
    if isinstance(v, list | tuple):
        vals = finite(v)
        return int(vals.max()) if len(vals) else None
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return None
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return int(v)
    return v if isinstance(v, str) else v.item() if hasattr(v, "item") else v


def grid_factors(row) -> dict:
    """The six factor levels of a grid row (kernel and stride: the largest over its layers)."""
    get = row.get if hasattr(row, "get") else row.__getitem__
    return {"depth": _value(get("depth")), "kernel": _value(get("kernel_sizes")),
            "stride": _value(get("strides")), "padding": _value(get("padding")),
            "pooling": _value(get("pooling")), "width": _value(get("width"))}


def _times(row) -> list[float]:
    for key in ("epoch_times_s", "stats_data"):
        v = row.get(key)
        if isinstance(v, list | tuple | np.ndarray):
            t = finite(v)
            t = t[t > 0]
            if len(t):
                return [float(x) for x in t]
    return []


def cells(df: pd.DataFrame, family: str | None = "grid",
          conditions: Sequence[str] = CONDITIONS) -> list[Cell]:
    """Finished trainings grouped into cells (case × run conditions), optionally one family."""
    ok = df[df["status"].astype(str) == "ok"]
    if family is not None:
        ok = ok[ok["family"].astype(str) == family]
    conds = [c for c in conditions if c in ok.columns]
    groups: dict[tuple, Cell] = {}
    for _, r in ok.iterrows():
        cond = tuple(str(_value(r[c])) for c in conds)
        key = (str(r["case"]), cond)
        if key not in groups:
            groups[key] = Cell(str(r["case"]), str(r["arch"]), cond, grid_factors(r), [], [],
                               _value(r.get("test_size")))
        c = groups[key]
        c.times.append(_times(r))
        acc = finite([r.get("test_accuracy")])
        if len(acc):
            c.accs.append(float(acc[0]))
    return list(groups.values())


def pooled(groups: Iterable[np.ndarray], unit: str = "repeat") -> Noise | None:
    """Within-group variance pooled over the groups with two or more values."""
    ss, dof, n = 0.0, 0, 0
    for g in groups:
        if len(g) >= 2:
            ss += float(((g - g.mean()) ** 2).sum())
            dof += len(g) - 1
            n += 1
    return Noise(ss / dof, dof, n, unit) if dof else None


def seed_noise(pool: Sequence[Cell]) -> Noise | None:
    """Seed-to-seed variance of test accuracy over the cells with repeats."""
    return pooled(np.asarray(c.accs) for c in pool)


def time_noise(pool: Sequence[Cell]) -> Noise | None:
    """Variance of a repeat's mean log epoch time, or of one epoch's when no case repeated."""
    if any(len(c.log_times) >= 2 for c in pool):
        return pooled((np.array([t.mean() for t in c.log_times]) for c in pool), "repeat")
    return pooled((c.log_times[0] for c in pool if c.log_times), "epoch")


def time_mean(cell: Cell, noise: Noise | None) -> SampleMean:
    logs = cell.log_times
    units = [t.mean() for t in logs] if noise is None or noise.unit == "repeat" else \
        [v for t in logs for v in t]
    mean = float(np.mean(units)) if units else math.nan
    if noise is None or not units:
        return SampleMean(mean, None, None, len(units))
    return SampleMean(mean, noise.var / len(units), noise.dof, len(units))


def acc_mean(cell: Cell, noise: Noise | None) -> SampleMean:
    """A cell's mean accuracy; variance seed/R floored by the binomial one; None without seeds."""
    if noise is None or not cell.accs:
        return SampleMean(cell.acc, None, None, len(cell.accs))
    var = max(noise.var / len(cell.accs), cell.binomial_var or 0.0)
    return SampleMean(cell.acc, var, noise.dof, len(cell.accs))


def binomial_resolution(pairs: Sequence[tuple[Cell, Cell]]) -> float | None:
    """Smallest |difference| the test sets alone could resolve, for the mean over pairs."""
    vs = [(a.binomial_var, b.binomial_var) for a, b in pairs]
    if not vs or any(va is None or vb is None for va, vb in vs):
        return None
    return Z * math.sqrt(sum(va + vb for va, vb in vs)) / len(vs)


def cell_difference(a: Cell, b: Cell, metric: str, noise: Noise | None) -> Difference:
    mean = time_mean if metric == "time" else acc_mean
    # Both sides' variances come from the one pooled estimate: its dof, not Welch's.
    return difference(mean(a, noise), mean(b, noise),
                      shared_dof=None if noise is None else noise.dof)


def combine(factor: str, metric: str, la: str, lb: str, pairs: list[tuple[Cell, Cell]],
            noise: Noise | None) -> Contrast | None:
    diffs = [cell_difference(a, b, metric, noise) for a, b in pairs]
    diffs = [d for d in diffs if math.isfinite(d.estimate)]
    if not diffs:
        return None
    est = [d.estimate for d in diffs]
    res = binomial_resolution(pairs) if metric == "accuracy" and noise is None else None
    shared = None if noise is None else noise.dof
    return Contrast(factor, metric, la, lb, mean_difference(diffs, shared_dof=shared), len(diffs),
                    (min(est), max(est)), res,
                    sorted({c.arch for p in pairs for c in p}))


# ---------------------------------------------------------------- matching


def label(factor: str, level) -> str:
    return f"{ORDINAL[factor]}{level}" if factor in ORDINAL else str(level)


def _order(factor: str, level):
    if factor in CATEGORICAL:
        order = CATEGORICAL[factor]
        return (order.index(level) if level in order else len(order), str(level))
    return (level, "")


def steps(levels: list, factor: str) -> list[tuple]:
    """Adjacent steps (ordinal) or reference-vs-each (categorical) among the levels present."""
    lv = sorted(set(levels), key=lambda v: _order(factor, v))
    if factor in CATEGORICAL:
        return [(lv[0], b) for b in lv[1:]]
    return list(zip(lv[:-1], lv[1:], strict=True))


def matched(cs: Sequence[Cell], factor: str) -> dict[tuple, dict]:
    """Cells grouped by context: the run conditions and every factor but ``factor``."""
    ctx: dict[tuple, dict] = defaultdict(dict)
    for c in cs:
        if any(v is None for v in c.factors.values()):
            continue
        others = tuple((k, c.factors[k]) for k in FACTORS if k != factor)
        ctx[(c.conditions, others)][c.factors[factor]] = c
    return ctx


def pairs_by_step(cs: Sequence[Cell], factor: str, extremes: bool = False) -> dict:
    """{(level a, level b): [(cell a, cell b), ...]} over matched contexts.

    ``extremes``: the lowest vs the highest level present in each context, instead of steps.
    """
    out: dict[tuple, list] = defaultdict(list)
    for levels in matched(cs, factor).values():
        if len(levels) < 2:
            continue
        if extremes:
            lv = sorted(levels, key=lambda v: _order(factor, v))
            todo = [(lv[0], lv[-1])]
        else:
            todo = steps(list(levels), factor)
        for a, b in todo:
            out[(a, b)].append((levels[a], levels[b]))
    return out


def noise_by_conditions(cs: Sequence[Cell]) -> dict[tuple, dict[str, Noise | None]]:
    by: dict[tuple, list] = defaultdict(list)
    for c in cs:
        by[c.conditions].append(c)
    return {k: {"time": time_noise(v), "accuracy": seed_noise(v)} for k, v in by.items()}


def factor_contrasts(cs: Sequence[Cell], factor: str, extremes: bool = False) -> list[Contrast]:
    """Time and accuracy contrasts of every step of ``factor`` found in matched contexts."""
    noise = noise_by_conditions(cs)
    out = []
    for (a, b), pairs in sorted(pairs_by_step(cs, factor, extremes).items(),
                                key=lambda kv: (_order(factor, kv[0][0]),
                                                _order(factor, kv[0][1]))):
        for metric in ("time", "accuracy"):
            # One noise estimate per contrast: that of its pairs' run conditions (usually one).
            nz = _merge([noise[p[0].conditions][metric] for p in pairs])
            c = combine(factor, metric, label(factor, a), label(factor, b), pairs, nz)
            if c is not None:
                out.append(c)
    return out


def _merge(noises: list[Noise | None]) -> Noise | None:
    uniq = list({id(n): n for n in noises}.values())
    if len(uniq) == 1 or any(n is None for n in uniq) or len({n.unit for n in uniq}) > 1:
        return uniq[0] if len(uniq) == 1 else None
    dof = sum(n.dof for n in uniq)
    return Noise(sum(n.var * n.dof for n in uniq) / dof, dof, sum(n.cells for n in uniq),
                 uniq[0].unit)


def all_contrasts(df: pd.DataFrame) -> list[Contrast]:
    cs = cells(df)
    return [c for f in FACTORS for c in factor_contrasts(cs, f)]
