"""Level-to-level contrasts: what one step of one factor costs in time and gains in accuracy.

A contrast compares two *cells* (a case's runs under one run's conditions) that differ in one
grid factor alone: matched on every other factor and on the run conditions. The design behind
the numbers (README, "Experiments you can defend"):

* The replicate is a run, never an epoch: epochs of one run share its offset (a 3% run-to-run
  offset makes a nominal 95% interval over 2 pooled epochs cover 39%). Each run is summarised by
  the median of its log epoch times (``stats.run_log_time``).
* Runs come in blocks: every case runs once per block, in a seeded random order (the plugin
  records ``block`` and ``position``). A time contrast is the mean over blocks of the
  within-block log ratio (b − a), so drift between blocks cancels; its interval is a t-interval
  over the blocks (k − 1 dof). Records without a block (older runs) are paired by repeat.
* Variance is the contrast's own: never pooled across cells (one noisy cell among quiet ones
  widened nothing and its contrasts covered 50–67% when pooled). A step seen in several matched
  contexts averages them within each block first, then takes the spread over blocks.
* With one run per case there is no interval: the contrast is an estimate only.
* Accuracy: the per-block (same seed) difference of test accuracies. Every block scores the
  SAME test images, so the test set's part of the variance does not shrink with the seeds. Where
  the records carry per-image correctness (``test_correct``), the two nets are paired on the
  images: with X[k, i] the per-image difference in block k (−1, 0, 1; averaged over contexts),
  the variance of the mean is a two-way (block × image) decomposition,
  var(row means)/K + max(0, var(column means) − MSₑ/K)/N: the seed part over the blocks (K − 1
  dof) plus the image part (the McNemar discordances; MSₑ/K takes out the per-image noise the
  seed part already holds: left in, it made the variance 4–20% larger in the simulations).
  The seed part alone covered 73% where the images' own difficulty for each net dominates.
  Older records (no per-image field): the seed part plus the unpaired binomial bound
  p(1 − p)/N of each side (conservative: two nets agree on most images). ``Contrast.method``
  says which. Fewer than ``MIN_SEEDS`` seeds per case: an estimate, no interval.

Each contrast is then tested against the practical margin (``thresholds.TIME_MARGIN`` /
``ACC_MARGIN``) and Holm-corrected within its family (``correct``).
"""

from __future__ import annotations

import base64
import binascii
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .comparable import CONDITIONS
from .stats import (
    LEVEL,
    Difference,
    SampleMean,
    at_level,
    corrected_level,
    difference,
    finite,
    holm,
    interval,
    margin_p,
    mean_difference,
    one_sample,
    run_log_time,
)
from .thresholds import (
    ACC_MARGIN,
    ALPHA,
    MIN_SEEDS,
    NOISY_CELL_FACTOR,
    TIME_MARGIN,
    TIME_NOISE_FLOOR,
)

# The grid's factors in report order. Ordinal factors step between adjacent levels present;
# categorical ones compare every level with the first present in this order (the reference).
FACTORS = ("depth", "kernel", "stride", "padding", "pooling", "width")
ORDINAL = {"depth": "d", "kernel": "k", "stride": "s", "width": "w"}
CATEGORICAL = {"padding": ("valid", "same"), "pooling": ("max", "avg", "none")}
FACTOR_NAMES = {"depth": "Depth", "kernel": "Kernel size", "stride": "Stride",
                "padding": "Padding", "pooling": "Pooling", "width": "Width"}

# Verdicts of a contrast after correction.
SLOWER, FASTER, HIGHER, LOWER = "slower", "faster", "higher", "lower"
EQUIVALENT = "within margin"  # the corrected interval lies inside ±margin
OPEN = "not resolved"  # the corrected interval reaches past the margin on either side
ONE_RUN = "one run each"  # no interval: repeat for one
FEW_SEEDS = "too few seeds"
# Which way a verdict goes, for the forest plot's colours and the step tables' chips: a cost is
# bad, a gain good; anything else (within margin, not resolved, no interval) is neutral.
VERDICT_TONE = {SLOWER: "bad", LOWER: "bad", FASTER: "good", HIGHER: "good"}
CONTROL_FAILED = "not called: A/A control failed"

# How an accuracy contrast's test-set variance was found (``Contrast.method``).
PAIRED_IMAGES = "paired on the same test images (McNemar) + seed variance"
BINOMIAL_BOUND = "seed variance + unpaired binomial bound (no per-image record)"


@dataclass
class Run:
    """One training run of a case: the replicate."""

    block: int
    position: int | None
    log_time: float | None  # stats.run_log_time of its epochs
    acc: float | None  # test accuracy, a fraction
    control: bool = False  # the A/A control's second copy in its block
    correct: np.ndarray | None = None  # per test image: classified right (bool), in order


@dataclass
class Cell:
    """One case under one run's conditions: its runs (control copies apart)."""

    case: str
    arch: str
    conditions: tuple
    factors: dict
    runs: list[Run] = field(default_factory=list)
    controls: list[Run] = field(default_factory=list)
    test_size: float | None = None

    def _per_block(self, attr: str) -> dict[int, float]:
        """Block → the first run's ``attr`` in that block that has one (control copies apart)."""
        out: dict[int, float] = {}
        for r in self.runs:
            value = getattr(r, attr)
            if value is not None:
                out.setdefault(r.block, value)
        return out

    def times(self) -> dict[int, float]:
        """Block → the run's log time."""
        return self._per_block("log_time")

    def accs(self) -> dict[int, float]:
        """Block → the run's test accuracy."""
        return self._per_block("acc")

    def masks(self) -> dict[int, np.ndarray]:
        """Block → per-image correctness of the run ``accs`` takes (absent without a record)."""
        out: dict[int, np.ndarray] = {}
        seen: set[int] = set()
        for r in self.runs:
            if r.acc is not None and r.block not in seen:
                seen.add(r.block)
                if r.correct is not None:
                    out[r.block] = r.correct
        return out

    @property
    def acc(self) -> float:
        a = list(self.accs().values())
        return float(np.mean(a)) if a else math.nan

    @property
    def time_sd(self) -> float | None:
        """Run-to-run SD of log time (≈ relative SD), None with fewer than 2 runs."""
        t = list(self.times().values())
        return float(np.std(t, ddof=1)) if len(t) >= 2 else None

    @property
    def binomial_var(self) -> float | None:
        p, n = self.acc, self.test_size
        if n is None or not n > 0 or not math.isfinite(p):
            return None
        return p * (1 - p) / n


@dataclass
class Contrast:
    factor: str
    metric: str  # time | accuracy
    a: str  # level labels, e.g. "k5" → "k7"
    b: str
    diff: Difference  # time: log(t_b / t_a); accuracy: acc_b − acc_a (fractions)
    pairs: int  # matched contexts averaged
    spread: tuple[float, float]  # min and max of the per-context estimates
    cases: list[str] = field(default_factory=list)
    per_block: dict = field(default_factory=dict)  # block → paired value (when paired)
    runs: int = 0  # runs per case (the smallest over the cells involved)
    paired: bool = True  # within-block pairs (False: Welch between independent runs)
    kind: str = "step"  # step | trend | extremes | control
    conditions: tuple = ()  # the run conditions (one context's)
    method: str = ""  # accuracy: PAIRED_IMAGES or BINOMIAL_BOUND (how the test set counted)
    # Filled by ``correct``:
    p: float | None = None  # against the margin, uncorrected
    p_adj: float | None = None  # Holm-adjusted within the family
    family_size: int = 0
    low: float | None = None  # the corrected interval (log ratio or fraction)
    high: float | None = None
    level: float | None = None  # its two-sided level
    verdict: str = OPEN

    @property
    def key(self) -> str:
        return f"{self.factor}_{self.metric}_{self.a}_{self.b}"

    @property
    def margin(self) -> float:
        """The practical margin on this contrast's scale (log ratio or fraction)."""
        return math.log1p(TIME_MARGIN) if self.metric == "time" else ACC_MARGIN

    @property
    def conclusive(self) -> bool:
        return self.verdict in (SLOWER, FASTER, HIGHER, LOWER)


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


def _block(row) -> int:
    """The recorded block; older records (no block) are paired by their repeat."""
    for key in ("block", "repeat"):
        v = _value(row.get(key))
        if isinstance(v, int):
            return v
    return 0


def unpack_correct(text, n, acc=None) -> np.ndarray | None:
    """A record's ``test_correct`` (``cnnbench.record.pack_correct``) as n booleans, or None
    when it is absent or does not fit: wrong length, stray padding bits, or a share right that
    is not the recorded test accuracy (beyond half an image of rounding)."""
    if not isinstance(text, str) or not isinstance(n, int) or n <= 0:
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != -(-n // 8):
        return None
    bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8), bitorder="little")
    if bits[n:].any():
        return None
    right = bits[:n].astype(bool)
    if acc is not None and abs(float(right.mean()) - acc) > 0.5 / n + 1e-12:
        return None
    return right


def cells(df: pd.DataFrame, family: str | None = "grid",
          conditions: Sequence[str] = CONDITIONS) -> list[Cell]:
    """Finished trainings grouped into cells (case × run conditions), optionally one family."""
    ok = df[df["status"].astype(str) == "ok"]
    if family is not None and "family" in ok.columns:
        ok = ok[ok["family"].astype(str) == family]
    conds = [c for c in conditions if c in ok.columns]
    groups: dict[tuple, Cell] = {}
    for r in ok.to_dict("records"):
        cond = tuple(str(_value(r[c])) for c in conds)
        key = (str(r["case"]), cond)
        if key not in groups:
            groups[key] = Cell(str(r["case"]), str(r["arch"]), cond, grid_factors(r),
                               test_size=_value(r.get("test_size")))
        acc = finite([r.get("test_accuracy")])
        a = float(acc[0]) if len(acc) else None
        run = Run(_block(r), _value(r.get("position")), run_log_time(_times(r)), a,
                  bool(_value(r.get("control")) or False),
                  unpack_correct(r.get("test_correct"), _value(r.get("test_size")), a))
        (groups[key].controls if run.control else groups[key].runs).append(run)
    return list(groups.values())


# ---------------------------------------------------------------- one contrast


def _paired(pairs: Sequence[tuple[Cell, Cell]], metric: str) -> dict[int, float]:
    """Block → the mean over contexts of (b − a) in that block; blocks where every pair ran."""
    get = Cell.times if metric == "time" else Cell.accs
    per = [(get(a), get(b)) for a, b in pairs]
    blocks = set.intersection(*(set(x) & set(y) for x, y in per)) if per else set()
    return {k: float(np.mean([y[k] - x[k] for x, y in per])) for k in sorted(blocks)}


def _unpaired(pairs: Sequence[tuple[Cell, Cell]], metric: str) -> Difference:
    """Welch between the two cells' independent runs (blocks not shared), averaged over
    contexts; no interval where a side has one run."""
    diffs = []
    for a, b in pairs:
        xa = np.array(list((a.times() if metric == "time" else a.accs()).values()))
        xb = np.array(list((b.times() if metric == "time" else b.accs()).values()))
        if len(xa) == 0 or len(xb) == 0:
            continue
        if len(xa) < 2 or len(xb) < 2:
            diffs.append(Difference(float(xb.mean() - xa.mean()), None, None, None, None,
                                    len(xa) + len(xb)))
            continue
        diffs.append(difference(SampleMean(float(xa.mean()), float(xa.var(ddof=1)) / len(xa),
                                           len(xa) - 1, len(xa)),
                                SampleMean(float(xb.mean()), float(xb.var(ddof=1)) / len(xb),
                                           len(xb) - 1, len(xb))))
    if not diffs:
        return Difference(math.nan, None, None, None, None, 0)
    return mean_difference(diffs)


def _terms(pairs: Sequence[tuple[Cell, Cell]]) -> list[tuple[float, Cell]]:
    """The mean over contexts of (b − a) as weighted cells."""
    m = len(pairs)
    return [(w / m, c) for a, b in pairs for w, c in ((-1.0, a), (1.0, b))]


def _binomial_part(terms: Sequence[tuple[float, Cell]]) -> float | None:
    """Σ w² p(1 − p)/N: the test set's variance of Σ w·acc with the cells taken as independent.

    Each side's mean over R seeds is scored on the SAME test images: the test-set part does not
    shrink with R, so it is the single-run variance. Two nets agree on most images, which lowers
    the variance of their difference: as a bound it is conservative."""
    vs = [w * w * c.binomial_var if c.binomial_var is not None else None for w, c in terms]
    return None if not vs or None in vs else float(sum(vs))


def _image_part(terms: Sequence[tuple[float, Cell]],
                blocks: Sequence[int]) -> tuple[float, float] | None:
    """(variance, dof) of the test images' part of Σ w·acc averaged over ``blocks``, from
    per-image correctness; None where any run lacks it or the test sets differ in length.

    X[k, i] = Σ w·correct in block k on image i (the per-image discordances, McNemar's counts).
    Its mean's variance is σ²_seed/K + σ²_image/N + σ²ₑ/(NK); the seed part's t-interval over
    the blocks (``one_sample``) holds σ²_seed/K + σ²ₑ/(NK); var of X's column means over N
    holds σ²_image + σ²ₑ/K, and MSₑ (the block × image residual) estimates σ²ₑ, so the image
    part is max(0, var(columns) − MSₑ/K)/N, with N − 1 dof."""
    if len(blocks) < 2:
        return None
    masks = [(w, c.masks()) for w, c in terms]
    rows = []
    for k in blocks:
        x = None
        for w, by_block in masks:
            m = by_block.get(k)
            if m is None or (x is not None and len(m) != len(x)):
                return None
            x = w * m if x is None else x + w * m
        rows.append(x)
    X = np.vstack(rows).astype(float)
    K, N = X.shape
    if N < 2:
        return None
    cols, rows_m = X.mean(axis=0), X.mean(axis=1)
    resid = X - rows_m[:, None] - cols[None, :] + X.mean()
    ms_e = float((resid ** 2).sum()) / ((K - 1) * (N - 1))
    return max(0.0, float(cols.var(ddof=1)) - ms_e / K) / N, float(N - 1)


def acc_extra(terms: Sequence[tuple[float, Cell]],
              blocks: Sequence[int]) -> tuple[tuple[float, float] | None, str]:
    """The test set's (variance, dof) for an accuracy contrast, and how it was found."""
    part = _image_part(terms, blocks)
    if part is not None:
        return part, PAIRED_IMAGES
    tv = _binomial_part(terms)
    return ((tv, math.inf) if tv else None), BINOMIAL_BOUND


def contrast(factor: str, metric: str, la: str, lb: str, pairs: list[tuple[Cell, Cell]],
             kind: str = "step") -> Contrast | None:
    """The contrast of cells b against cells a over matched contexts (one pair per context)."""
    if not pairs:
        return None
    get = Cell.times if metric == "time" else Cell.accs
    runs = min(min(len(get(a)), len(get(b))) for a, b in pairs)
    if runs == 0:
        return None
    per_ctx = []
    for a, b in pairs:
        xa, xb = get(a), get(b)
        per_ctx.append(float(np.mean(list(xb.values())) - np.mean(list(xa.values()))))
    per_block = _paired(pairs, metric)
    paired = len(per_block) >= 2
    method = ""
    if metric == "accuracy" and runs < MIN_SEEDS:
        est = float(np.mean(per_ctx))
        d = Difference(est, None, None, None, None, 2 * runs * len(pairs))
    elif paired:
        extra = None
        if metric == "accuracy":
            extra, method = acc_extra(_terms(pairs), list(per_block))
        # Estimate and interval both from the blocks every pair ran in.
        d = one_sample(list(per_block.values()), extra=extra)
    else:
        d = _unpaired(pairs, metric)
        if metric == "accuracy" and d.se is not None:
            method = BINOMIAL_BOUND  # no shared blocks: no pairs of runs to pair images in
            tv = _binomial_part(_terms(pairs))
            if tv:
                d = interval(d.estimate, [(d.se ** 2, d.dof), (tv, math.inf)], d.n)
    if not math.isfinite(d.estimate):
        return None
    return Contrast(factor, metric, la, lb, d, len(pairs), (min(per_ctx), max(per_ctx)),
                    sorted({c.arch for p in pairs for c in p}), per_block, runs, paired, kind,
                    pairs[0][0].conditions, method=method)


def block_contrast(factor: str, metric: str, la: str, lb: str, per_block: dict[int, float],
                   cases: list[str], kind: str, conditions: tuple = (),
                   terms: Sequence[tuple[float, Cell]] | None = None) -> Contrast | None:
    """A contrast given as its per-block values (trends, differences of contrasts).

    ``terms``: an accuracy contrast's weighted cells, so the test set's variance is added
    (``acc_extra``), as for a step."""
    if not per_block:
        return None
    extra, method = acc_extra(terms, list(per_block)) if terms else (None, "")
    d = one_sample(list(per_block.values()), extra=extra)
    v = list(per_block.values())
    return Contrast(factor, metric, la, lb, d, 1, (min(v), max(v)), cases, dict(per_block),
                    len(per_block), True, kind, conditions, method=method)


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


def factor_contrasts(cs: Sequence[Cell], factor: str, extremes: bool = False,
                     metrics: Sequence[str] = ("time", "accuracy")) -> list[Contrast]:
    """Time and accuracy contrasts of every step of ``factor`` found in matched contexts."""
    out = []
    for (a, b), pairs in sorted(pairs_by_step(cs, factor, extremes).items(),
                                key=lambda kv: (_order(factor, kv[0][0]),
                                                _order(factor, kv[0][1]))):
        for metric in metrics:
            c = contrast(factor, metric, label(factor, a), label(factor, b), pairs,
                         "extremes" if extremes else "step")
            if c is not None:
                out.append(c)
    return out


def trend(cs: Sequence[Cell], factor: str, metric: str = "time") -> Contrast | None:
    """One joint test of an ordinal factor over three or more levels: the least-squares slope
    of the metric on the level's rank (per adjacent step), computed within each block and
    context, averaged over contexts, t-interval over blocks. Not stacked step verdicts."""
    if factor not in ORDINAL:
        return None
    get = Cell.times if metric == "time" else Cell.accs
    best: list[dict] = []
    for levels in matched(cs, factor).values():
        if len(levels) >= 3:
            best.append(levels)
    if not best:
        return None
    # The most common level set: contexts measured over the same span.
    spans = defaultdict(list)
    for lv in best:
        spans[tuple(sorted(lv, key=lambda v: _order(factor, v)))].append(lv)
    span, ctxs = max(spans.items(), key=lambda kv: (len(kv[1]), len(kv[0])))
    x = np.arange(len(span), dtype=float)
    w = (x - x.mean()) / ((x - x.mean()) ** 2).sum()
    per_block: dict[int, list[float]] = defaultdict(list)
    for lv in ctxs:
        series = [get(lv[v]) for v in span]
        for k in set.intersection(*(set(s) for s in series)):
            per_block[k].append(float(sum(wi * s[k] for wi, s in zip(w, series, strict=True))))
    n_ctx = len(ctxs)
    blocks = {k: float(np.mean(v)) for k, v in per_block.items() if len(v) == n_ctx}
    if metric == "accuracy" and len(blocks) < MIN_SEEDS:
        return None
    cases = sorted({lv[v].arch for lv in ctxs for v in span})
    terms = [(float(wi) / n_ctx, lv[v]) for lv in ctxs for wi, v in zip(w, span, strict=True)] \
        if metric == "accuracy" else None
    c = block_contrast(factor, metric, label(factor, span[0]), label(factor, span[-1]), blocks,
                       cases, "trend", ctxs[0][span[0]].conditions, terms)
    if c is not None:
        c.pairs = n_ctx
    return c


# ---------------------------------------------------------------- cells that stand out


@dataclass(frozen=True)
class NoisyCell:
    case: str
    sd: float  # run-to-run SD of log time
    median_sd: float  # the median cell's


def noisy_cells(cs: Sequence[Cell]) -> list[NoisyCell]:
    """Cells whose run-to-run spread stands out: above NOISY_CELL_FACTOR × the median cell's
    and above TIME_NOISE_FLOOR. Their contrasts carry their own (wide) variance; a pooled
    estimate would have narrowed them."""
    sds = {c.case: c.time_sd for c in cs if c.time_sd is not None}
    if len(sds) < 3:
        return []
    med = float(np.median(list(sds.values())))
    return [NoisyCell(case, sd, med) for case, sd in sds.items()
            if sd > max(NOISY_CELL_FACTOR * med, TIME_NOISE_FLOOR)]


def run_noise(cs: Sequence[Cell]) -> float | None:
    """The median cell's run-to-run SD of log time: the machine's typical noise this run."""
    sds = [c.time_sd for c in cs if c.time_sd is not None]
    return float(np.median(sds)) if sds else None


# ---------------------------------------------------------------- the A/A control


@dataclass
class Control:
    """The A/A control of one run: the same case twice per block, at different positions."""

    case: str
    contrast: Contrast | None  # log(second copy / first copy), per block
    failed: bool  # its interval lies beyond the margin: the run's timing is not trustworthy
    conditions: tuple = ()

    @property
    def ratio(self) -> float | None:
        return None if self.contrast is None else math.exp(self.contrast.diff.estimate)


def controls(cs: Sequence[Cell]) -> list[Control]:
    """Every cell with control copies: the per-block log ratio of the copy to the first run.

    It fails when its (uncorrected, 95%) interval excludes 1 beyond the time margin: a gate,
    tested at α without correction so that it errs towards stopping verdicts."""
    out = []
    for c in cs:
        if not c.controls:
            continue
        first = c.times()
        copy: dict[int, float] = {}
        for r in c.controls:
            if r.log_time is not None:
                copy.setdefault(r.block, r.log_time)
        per_block = {k: copy[k] - first[k] for k in sorted(set(first) & set(copy))}
        con = block_contrast("control", "time", "copy 1", "copy 2", per_block, [c.arch],
                             "control", c.conditions)
        failed = False
        if con is not None:
            p = margin_p(con.diff, con.margin)
            con.p = con.p_adj = p
            con.low, con.high, con.level = con.diff.low, con.diff.high, LEVEL
            failed = p is not None and p <= ALPHA
            con.verdict = (SLOWER if con.diff.estimate > 0 else FASTER) if failed else (
                ONE_RUN if p is None else EQUIVALENT if _inside(con) else OPEN)
        out.append(Control(c.case, con, failed, c.conditions))
    return out


def _inside(c: Contrast) -> bool:
    return c.low is not None and -c.margin < c.low and c.high < c.margin


# ---------------------------------------------------------------- verdicts


def correct(family: Sequence[Contrast], alpha: float = ALPHA,
            blocked: bool = False) -> None:
    """Test each contrast against its margin and Holm-correct within ``family`` (in place).

    A contrast is called (slower/faster, higher/lower) when its Holm-adjusted p ≤ α; its shown
    interval is at the level where that happens exactly (``stats.corrected_level``), so the
    interval clears the margin iff the verdict is called. ``blocked``: the run's A/A control
    failed, so no time contrast is called."""
    ps = [margin_p(c.diff, c.margin) for c in family]
    adj = holm(ps)
    m = sum(p is not None for p in ps)
    for c, p, pa in zip(family, ps, adj, strict=True):
        c.p, c.p_adj, c.family_size = p, pa, m
        if p is None:
            c.low = c.high = c.level = None
            c.verdict = ONE_RUN if c.metric == "time" else FEW_SEEDS
            continue
        c.level = corrected_level(p, pa, alpha)
        c.low, c.high = at_level(c.diff, c.level)
        if pa <= alpha:
            up = c.diff.estimate > 0
            c.verdict = (SLOWER if up else FASTER) if c.metric == "time" else \
                (HIGHER if up else LOWER)
            if blocked and c.metric == "time":
                c.verdict = CONTROL_FAILED
        else:
            c.verdict = EQUIVALENT if _inside(c) else OPEN


def all_contrasts(df: pd.DataFrame) -> list[Contrast]:
    """Every step contrast of the grid, uncorrected (``correct`` applies the family)."""
    cs = cells(df)
    return [c for f in FACTORS for c in factor_contrasts(cs, f)]
