"""The source studies' claims, each tested against a run's cases with a verdict.

Study 000 compared nets that differ in several things at once, so its claims are tested on the
grid's matched contrasts (lowest vs highest level of a factor in the run: the verdict holds for
that span, and says so). Studies 001 and 004 are tested on their own nets (seed001_lab4_*,
seed004_model_*) trained under this run's conditions. A claim is *supported* or *contradicted*
only when its interval settles it, at a level corrected for the claims family (Bonferroni over
the claims with an interval: each claim is a compound of tests, so Holm's ordering by a single
p-value does not apply); otherwise it is *not resolvable* with this run, and where the cases
are absent the verdict names the ``-k`` expression that adds them. A claim the study itself
called inconclusive (stride) gets a *note*: the study's words beside this run's estimate, no
verdict. Every verdict carries its setting ("Fashion-MNIST, 4,096 images, 2 epochs").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .comparable import RUN_CONDITIONS
from .contrasts import (
    FACTOR_NAMES,
    Cell,
    Contrast,
    block_contrast,
    cells,
    contrast,
    factor_contrasts,
)
from .fmt import num
from .stats import LEVEL, Difference, at_level
from .thresholds import ALPHA, TIME_MARGIN

SUPPORTED, CONTRADICTED, UNRESOLVED = "supported", "contradicted", "not resolvable"
NOTE = "note (no verdict)"
# An accuracy change smaller than this (percentage points) is the studies' "little" / "not".
# On a 10,000-image test set the binomial spread alone makes a difference of two accuracies
# near 85% uncertain by ±1 pp (95%), so a smaller margin could never be shown to hold.
LITTLE_PP = 2.0
# "Raises time steeply": at least this ratio between the run's shallowest and deepest nets.
STEEP = 1.5
DATASET_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "synthetic": "synthetic",
                 "kmnist": "KMNIST"}
# Study 000's own words on stride (its "Conclusions", item 3).
STRIDE_QUOTE = ("\u201cThe tests performed on the stride were not conclusive due to the "
                "simplicity of the dataset.\u201d")


@dataclass
class ClaimResult:
    key: str
    study: str
    claim: str  # the study's claim in our words
    verdict: str
    statement: str  # the numbers behind the verdict
    metric: str  # time | accuracy (the part the estimate is)
    factor: str | None = None
    estimate: float | None = None  # ratio (time) or pp (accuracy)
    ci_low: float | None = None
    ci_high: float | None = None
    n: int | None = None
    add: str | None = None  # -k expression that adds the missing cases
    reported: list[str] = field(default_factory=list)  # study vs run figures, comparability
    cases: list[str] = field(default_factory=list)
    setting: str | None = None  # "Fashion-MNIST, 4,096 images, 2 epochs"
    level: float | None = None  # the (corrected) two-sided level of its intervals


# ---------------------------------------------------------------- verdict parts


def above(d: Difference | None, threshold: float) -> str:
    """Is the difference above ``threshold``: yes when the CI is, no when the CI is below."""
    if d is None or d.low is None or d.high is None:
        return UNRESOLVED
    return SUPPORTED if d.low > threshold else CONTRADICTED if d.high < threshold else UNRESOLVED


def below(d: Difference | None, threshold: float) -> str:
    """Is the difference below ``threshold``: yes when the CI is, no when the CI is above."""
    if d is None or d.low is None or d.high is None:
        return UNRESOLVED
    return SUPPORTED if d.high < threshold else CONTRADICTED if d.low > threshold else UNRESOLVED


def within(d: Difference | None, bound: float) -> str:
    """Is |difference| below ``bound``: yes when the whole CI is, no when the CI is beyond."""
    if d is None or d.low is None or d.high is None:
        return UNRESOLVED
    if -bound < d.low and d.high < bound:
        return SUPPORTED
    return CONTRADICTED if d.low > bound or d.high < -bound else UNRESOLVED


def overall(*parts: str) -> str:
    if CONTRADICTED in parts:
        return CONTRADICTED
    return SUPPORTED if parts and all(p == SUPPORTED for p in parts) else UNRESOLVED


# ---------------------------------------------------------------- wording


def ratio_text(c: Contrast) -> str:
    d = c.diff
    ci = "" if d.low is None else f", 95% CI {math.exp(d.low):.2f}–{math.exp(d.high):.2f}×"
    return f"{c.a} → {c.b}: epoch time {math.exp(d.estimate):.2f}×{ci}"


def pp_text(c: Contrast | None, head: str | None = None) -> str:
    if c is None:
        return "accuracy: no matched cases"
    d = c.diff
    head = (head or f"{c.a} → {c.b}: accuracy") + f" {100 * d.estimate:+.1f} pp".replace("-", "−")
    if d.low is not None:
        return head + f" (95% CI {100 * d.low:+.1f} to {100 * d.high:+.1f} pp)".replace("-", "−")
    res = f" below about {100 * c.resolution:.1f} pp" if c.resolution else ""
    return head + f" (one seed per case: differences{res} are not resolvable)"


def dataset_name(v) -> str:
    return DATASET_NAMES.get(str(v).lower(), str(v)) if v is not None else "unknown data"


def reported_text(reported, run_dataset, run_recipe=None, ours: float | None = None,
                  label: str = "") -> str | None:
    """The study's printed accuracy beside this run's, or why they are not comparable.

    ``reported`` is the record's ``reported`` field (a dict: dataset, test_accuracy, and where
    known recipe, lower_bound, accuracy_range); comparable only on the same dataset and recipe.
    """
    if not isinstance(reported, dict) or reported.get("test_accuracy") is None:
        return None
    acc = 100 * float(reported["test_accuracy"])
    fig = f"{acc:.1f}%"
    rng = reported.get("accuracy_range")
    if reported.get("lower_bound"):
        hi = 100 * float(rng[1]) if isinstance(rng, list | tuple) and len(rng) == 2 else None
        fig = f"≥{acc:.0f}%" + (f" (printed with integer division: a lower bound, "
                                f"[{acc:.0f}, {hi:.0f})%)" if hi is not None else
                                " (printed with integer division: a lower bound)")
    study = f"study: {dataset_name(reported.get('dataset'))} {fig}"
    same_data = str(reported.get("dataset", "")).lower() == str(run_dataset).lower()
    rec = reported.get("recipe")
    same_recipe = rec is None or run_recipe is None or str(rec) == str(run_recipe)
    head = f"{label}: " if label else ""
    if same_data and same_recipe:
        return f"{head}{study}; this run: " + (f"{100 * ours:.1f}%" if ours is not None else
                                               "same dataset and recipe, comparable")
    why = (f"{dataset_name(run_dataset)}, not comparable" if not same_data
           else f"{run_recipe} recipe (study: {rec}), not comparable")
    return f"{head}{study}; this run: {why}"


# ---------------------------------------------------------------- study 000: grid contrasts


def _extreme(cs: list[Cell], factor: str, metric: str) -> Contrast | None:
    """Lowest vs highest level of ``factor`` over matched contexts, the most common span."""
    found = [c for c in factor_contrasts(cs, factor, extremes=True) if c.metric == metric]
    return max(found, key=lambda c: (c.pairs, c.cases[-1]), default=None)


def _missing(key, claim, factor, add) -> ClaimResult:
    return ClaimResult(key, "000", claim, UNRESOLVED,
                       f"No cases in this run differ in {FACTOR_NAMES[factor].lower()} alone; "
                       f"add them with -k '{add}'.", "time", factor, add=add)


def _from(key, claim, verdict, statement, c: Contrast, factor, ratio=True) -> ClaimResult:
    d = c.diff
    f = (lambda v: None if v is None else float(np.exp(v))) if ratio else \
        (lambda v: None if v is None else 100 * v)
    return ClaimResult(key, "000", claim, verdict, statement, "time" if ratio else "accuracy",
                       factor, f(d.estimate), f(d.low), f(d.high), d.n, cases=c.cases)


DEPTH_K = "_k5_s1_same_max_w32 and (_d1_ or _d4_)"
KERNEL_K = "_d2_ and _s1_same_max_w32"
STRIDE_K = "_d2_k5_ and _same_max_w32"


def claim_000_depth(cs: list[Cell]) -> ClaimResult:
    claim = ("More conv layers raise training time steeply but gain little accuracy.")
    t, a = _extreme(cs, "depth", "time"), _extreme(cs, "depth", "accuracy")
    if t is None:
        return _missing("claim_000_depth", claim, "depth", DEPTH_K)
    parts = (above(t.diff, math.log(STEEP)), below(a.diff if a else None, LITTLE_PP / 100))
    text = (f"{ratio_text(t)} (steep: ≥{STEEP}×); {pp_text(a)} (little: < {LITTLE_PP:g} pp); "
            f"{t.pairs} matched pair{'s' * (t.pairs != 1)}.")
    return _from("claim_000_depth", claim, overall(*parts), text, t, "depth")


def claim_000_kernel(cs: list[Cell]) -> ClaimResult:
    claim = "A larger kernel raises training time but not accuracy."
    t, a = _extreme(cs, "kernel", "time"), _extreme(cs, "kernel", "accuracy")
    if t is None:
        return _missing("claim_000_kernel", claim, "kernel", KERNEL_K)
    parts = (above(t.diff, 0.0), within(a.diff if a else None, LITTLE_PP / 100))
    text = f"{ratio_text(t)}; {pp_text(a)} (no change: within ±{LITTLE_PP:g} pp)."
    return _from("claim_000_kernel", claim, overall(*parts), text, t, "kernel")


def claim_000_kernel_vs_depth(cs: list[Cell]) -> ClaimResult:
    claim = "Enlarging the kernel costs less time than adding layers."
    k, d = _extreme(cs, "kernel", "time"), _extreme(cs, "depth", "time")
    if k is None or d is None:
        return _missing("claim_000_kernel_vs_depth", claim, "kernel" if k is None else "depth",
                        KERNEL_K if k is None else DEPTH_K)
    as_mean = [SampleMean(x.diff.estimate, None if x.diff.se is None else x.diff.se ** 2,
                          x.diff.dof, x.diff.n) for x in (d, k)]
    diff = difference(*as_mean)  # log(kernel ratio) − log(depth ratio)
    text = (f"kernel {ratio_text(k)} vs depth {ratio_text(d)}: the kernel range costs "
            f"{math.exp(diff.estimate):.2f}× the depth range"
            + ("" if diff.low is None else
               f" (95% CI {math.exp(diff.low):.2f}–{math.exp(diff.high):.2f}×)") + ".")
    r = ClaimResult("claim_000_kernel_vs_depth", "000", claim, below(diff, 0.0), text, "time",
                    "kernel", float(np.exp(diff.estimate)),
                    None if diff.low is None else float(np.exp(diff.low)),
                    None if diff.high is None else float(np.exp(diff.high)), diff.n,
                    cases=sorted(set(k.cases + d.cases)))
    return r


def claim_000_stride(cs: list[Cell]) -> ClaimResult:
    claim = "Stride made no clear difference to accuracy."
    a, t = _extreme(cs, "stride", "accuracy"), _extreme(cs, "stride", "time")
    if a is None:
        return _missing("claim_000_stride", claim, "stride", STRIDE_K)
    text = (f"{pp_text(a)} (no clear difference: within ±{LITTLE_PP:g} pp)"
            + (f"; for reference, {ratio_text(t)}" if t is not None else "") + ".")
    return _from("claim_000_stride", claim, within(a.diff, LITTLE_PP / 100), text, a, "stride",
                 ratio=False)


# ---------------------------------------------------------------- studies 001 and 004: own nets


@dataclass(frozen=True)
class NetClaim:
    key: str
    study: str
    claim: str
    better: str  # arch expected to reach the higher test accuracy
    worse: str
    add: str  # -k expression adding both nets
    fallback: tuple[str, str] | None = None  # the same pair as the study ran it, if different


NET_CLAIMS = (
    NetClaim("claim_001_avg_beats_max", "001", "Average pooling beat max pooling (Lab 4 nets).",
             "seed001_lab4_avgpool", "seed001_lab4_maxpool", "seed001_lab4 and not softmax",
             ("seed001_lab4_avgpool_softmax_nll", "seed001_lab4_maxpool_softmax_nll")),
    NetClaim("claim_004_max_beats_avg", "004",
             "Same padding with max pooling (model A) beat average pooling (model B).",
             "seed004_model_a", "seed004_model_b", "seed004"),
    NetClaim("claim_004_same_beats_valid", "004",
             "Same padding with max pooling (model A) beat valid padding (model C).",
             "seed004_model_a", "seed004_model_c", "seed004"),
)


def _pairs(cs: list[Cell], better: str, worse: str) -> list[tuple[Cell, Cell]]:
    by = {(c.arch, c.conditions): c for c in cs}
    return [(by[(worse, cond)], c) for (arch, cond), c in by.items()
            if arch == better and (worse, cond) in by]


def net_claim(cs: list[Cell], nc: NetClaim, reported: Callable) -> ClaimResult:
    better, worse = nc.better, nc.worse
    pairs = _pairs(cs, better, worse)
    if not pairs and nc.fallback:
        better, worse = nc.fallback
        pairs = _pairs(cs, better, worse)
    if not pairs:
        return ClaimResult(nc.key, nc.study, nc.claim, UNRESOLVED,
                           f"{nc.better} and {nc.worse} are not both in this run (under the same "
                           f"conditions); add them with -k '{nc.add}'.", "accuracy", add=nc.add)
    involved = [c for c in cs if c.arch.startswith(f"seed{nc.study}_")
                and c.conditions in {p[0].conditions for p in pairs}]
    c = combine("architecture", "accuracy", worse, better, pairs, seed_noise(involved))
    d = c.diff
    text = pp_text(c, f"test accuracy {better} − {worse}:") + "."
    figures = [t for cell in (pairs[0][1], pairs[0][0]) if (t := reported(cell)) is not None]
    pct = (lambda v: None if v is None else 100 * v)
    return ClaimResult(nc.key, nc.study, nc.claim, above(d, 0.0), text, "accuracy",
                       "architecture", pct(d.estimate), pct(d.low), pct(d.high), d.n,
                       reported=figures, cases=c.cases)


def _reported_lookup(df: pd.DataFrame) -> Callable[[Cell], str | None]:
    cols = [c for c in ("reported", "dataset", "recipe") if c in df.columns]
    first = {}
    if "reported" in cols:
        for _, r in df.iterrows():
            first.setdefault(str(r["case"]), r)

    def lookup(cell: Cell) -> str | None:
        r = first.get(cell.case)
        if r is None:
            return None
        return reported_text(r["reported"], r.get("dataset"), r.get("recipe"), cell.acc,
                             cell.arch)
    return lookup


def all_claims(df: pd.DataFrame) -> list[ClaimResult]:
    grid = cells(df)
    own = cells(df, family=None, conditions=RUN_CONDITIONS)
    out = [claim_000_depth(grid), claim_000_kernel(grid), claim_000_kernel_vs_depth(grid),
           claim_000_stride(grid)]
    lookup = _reported_lookup(df)
    out += [net_claim(own, nc, lookup) for nc in NET_CLAIMS]
    return out
