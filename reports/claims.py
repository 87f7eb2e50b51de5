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

from cnnbench.studies import TIMING_NOTE_000

from .comparable import RUN_CONDITIONS
from .contrasts import (
    BINOMIAL_BOUND,
    FACTOR_NAMES,
    PAIRED_IMAGES,
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
# Study 000's claims on time rest on its own timings, which measured more than ours: its
# TIMING_NOTE_000 goes beside each of these verdicts.
TIMING_CLAIMS_000 = ("claim_000_depth", "claim_000_kernel", "claim_000_kernel_vs_depth")
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


def _ci(d: Difference | None, level: float) -> tuple[float | None, float | None]:
    if d is None or d.low is None or d.high is None:
        return None, None
    return at_level(d, level)


def above(d: Difference | None, threshold: float, level: float = LEVEL) -> str:
    """Is the difference above ``threshold``: yes when the CI is, no when the CI is below."""
    lo, hi = _ci(d, level)
    if lo is None:
        return UNRESOLVED
    return SUPPORTED if lo > threshold else CONTRADICTED if hi < threshold else UNRESOLVED


def below(d: Difference | None, threshold: float, level: float = LEVEL) -> str:
    """Is the difference below ``threshold``: yes when the CI is, no when the CI is above."""
    lo, hi = _ci(d, level)
    if lo is None:
        return UNRESOLVED
    return SUPPORTED if hi < threshold else CONTRADICTED if lo > threshold else UNRESOLVED


def within(d: Difference | None, bound: float, level: float = LEVEL) -> str:
    """Is |difference| below ``bound`` (two-sided): yes when the whole CI is inside ±bound, no
    when the CI lies wholly beyond it on either side (a large loss contradicts "little gain"
    as much as a large gain does)."""
    lo, hi = _ci(d, level)
    if lo is None:
        return UNRESOLVED
    if -bound < lo and hi < bound:
        return SUPPORTED
    return CONTRADICTED if lo > bound or hi < -bound else UNRESOLVED


def overall(*parts: str) -> str:
    if CONTRADICTED in parts:
        return CONTRADICTED
    return SUPPORTED if parts and all(p == SUPPORTED for p in parts) else UNRESOLVED


# ---------------------------------------------------------------- wording


def _pct(level: float) -> str:
    return f"{100 * level:.2f}".rstrip("0").rstrip(".") + "%"


def ratio_text(c: Contrast, level: float = LEVEL) -> str:
    d = c.diff
    lo, hi = _ci(d, level)
    ci = "" if lo is None else f", {_pct(level)} CI {math.exp(lo):.2f}–{math.exp(hi):.2f}×"
    runs = "" if lo is not None else " (one run each: repeat for an interval)"
    return f"{c.a} → {c.b}: epoch time {math.exp(d.estimate):.2f}×{ci}{runs}"


def direction(d: Difference) -> str:
    return "a gain" if d.estimate > 0 else "a loss" if d.estimate < 0 else "no change"


def pp_text(c: Contrast | None, head: str | None = None, level: float = LEVEL) -> str:
    if c is None:
        return "accuracy: no matched cases"
    d = c.diff
    head = (head or f"{c.a} → {c.b}: accuracy") + f" {100 * d.estimate:+.1f} pp".replace("-", "−")
    lo, hi = _ci(d, level)
    if lo is not None:
        how = {PAIRED_IMAGES: "; paired on the same test images",
               BINOMIAL_BOUND: "; test set as a binomial bound"}.get(c.method, "")
        return head + (f" ({direction(d)}; {_pct(level)} CI {100 * lo:+.1f} to {100 * hi:+.1f}"
                       " pp").replace("-", "−") + how + ")"
    return head + (f" ({direction(d)}; {c.runs} seed{'s' * (c.runs != 1)} per case: an "
                   "estimate, no interval below 3 seeds)")


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
    found = factor_contrasts(cs, factor, extremes=True, metrics=(metric,))
    return max(found, key=lambda c: (c.pairs, c.cases[-1]), default=None)


def _missing(key, claim, factor, add) -> ClaimResult:
    return ClaimResult(key, "000", claim, UNRESOLVED,
                       f"No cases in this run differ in {FACTOR_NAMES[factor].lower()} alone; "
                       f"add them with -k '{add}'.", "time", factor, add=add)


def _from(key, claim, verdict, statement, c: Contrast, factor, level, ratio=True) -> ClaimResult:
    d = c.diff
    lo, hi = _ci(d, level)
    f = (lambda v: None if v is None else float(np.exp(v))) if ratio else \
        (lambda v: None if v is None else 100 * v)
    return ClaimResult(key, "000", claim, verdict, statement, "time" if ratio else "accuracy",
                       factor, f(d.estimate), f(lo), f(hi), d.n, cases=c.cases,
                       level=level if lo is not None else None)


DEPTH_K = "_k5_s1_same_max_w32 and (_d1_ or _d4_)"
KERNEL_K = "_d2_ and _s1_same_max_w32"
STRIDE_K = "_d2_k5_ and _same_max_w32"


def _time_up_accuracy_flat(cs: list[Cell], key: str, claim: str, factor: str, add: str,
                          log_floor: float, time_words: str, acc_words: str, level: float,
                          count_pairs: bool) -> ClaimResult:
    """A claim that ``factor``'s span raises epoch time beyond ``log_floor`` (a log ratio) and
    leaves accuracy within ±LITTLE_PP, tested two-sided: a large loss is no "little gain"."""
    t, a = _extreme(cs, factor, "time"), _extreme(cs, factor, "accuracy")
    if t is None:
        return _missing(key, claim, factor, add)
    parts = (above(t.diff, log_floor, level),
             within(a.diff if a else None, LITTLE_PP / 100, level))
    pairs = f", {t.pairs} matched pair{'s' * (t.pairs != 1)}" if count_pairs else ""
    text = (f"{ratio_text(t, level)} ({time_words}); {pp_text(a, level=level)} ({acc_words}); "
            f"over the span {t.a}–{t.b} this run measured{pairs}.")
    return _from(key, claim, overall(*parts), text, t, factor, level)


def claim_000_depth(cs: list[Cell], level: float = LEVEL) -> ClaimResult:
    return _time_up_accuracy_flat(
        cs, "claim_000_depth",
        "More conv layers raise training time steeply but gain little accuracy.", "depth",
        DEPTH_K, math.log(STEEP), f"steep: ≥{STEEP}×",
        f"little: within ±{LITTLE_PP:g} pp either way", level, count_pairs=True)


def claim_000_kernel(cs: list[Cell], level: float = LEVEL) -> ClaimResult:
    return _time_up_accuracy_flat(
        cs, "claim_000_kernel", "A larger kernel raises training time but not accuracy.",
        "kernel", KERNEL_K, math.log1p(TIME_MARGIN), f"raises: beyond +{100 * TIME_MARGIN:g}%",
        f"no change: within ±{LITTLE_PP:g} pp", level, count_pairs=False)


def claim_000_kernel_vs_depth(cs: list[Cell], level: float = LEVEL) -> ClaimResult:
    claim = "Enlarging the kernel costs less time than adding layers."
    k, d = _extreme(cs, "kernel", "time"), _extreme(cs, "depth", "time")
    if k is None or d is None:
        return _missing("claim_000_kernel_vs_depth", claim, "kernel" if k is None else "depth",
                        KERNEL_K if k is None else DEPTH_K)
    # Paired within blocks: log(kernel ratio) − log(depth ratio) per block, its own spread
    # over the blocks (two variances from one pooled estimate are not independent: no Welch).
    common = sorted(set(k.per_block) & set(d.per_block))
    diff = block_contrast("kernel", "time", "depth span", "kernel span",
                          {b: k.per_block[b] - d.per_block[b] for b in common},
                          sorted(set(k.cases + d.cases)), "difference")
    spans = (f"the spans this run measured, kernel {k.a}–{k.b} vs depth {d.a}–{d.b}; the "
             "answer changes with them")
    if diff is None:
        est = k.diff.estimate - d.diff.estimate
        return ClaimResult("claim_000_kernel_vs_depth", "000", claim, UNRESOLVED,
                           f"kernel {ratio_text(k)} vs depth {ratio_text(d)}: the kernel span "
                           f"costs {math.exp(est):.2f}× the depth span (no blocks in common: "
                           f"no interval); {spans}.", "time", "kernel", float(np.exp(est)),
                           cases=sorted(set(k.cases + d.cases)))
    lo, hi = _ci(diff.diff, level)
    text = (f"kernel {ratio_text(k, level)} vs depth {ratio_text(d, level)}: the kernel span "
            f"costs {math.exp(diff.diff.estimate):.2f}× the depth span"
            + ("" if lo is None else
               f" ({_pct(level)} CI {math.exp(lo):.2f}–{math.exp(hi):.2f}×, paired within "
               f"{len(common)} blocks)") + f"; {spans}.")
    return ClaimResult("claim_000_kernel_vs_depth", "000", claim,
                       below(diff.diff, 0.0, level), text, "time", "kernel",
                       float(np.exp(diff.diff.estimate)),
                       None if lo is None else float(np.exp(lo)),
                       None if hi is None else float(np.exp(hi)), diff.diff.n,
                       cases=diff.cases, level=level if lo is not None else None)


def claim_000_stride(cs: list[Cell], level: float = LEVEL) -> ClaimResult:
    """A note, not a test: the study itself called its stride test inconclusive."""
    claim = "Stride: the study's own test was inconclusive."
    a, t = _extreme(cs, "stride", "accuracy"), _extreme(cs, "stride", "time")
    if a is None and t is None:
        return ClaimResult("claim_000_stride", "000", claim, NOTE,
                           f"Study 000: {STRIDE_QUOTE} No cases in this run differ in stride "
                           f"alone; add them with -k '{STRIDE_K}'.", "accuracy", "stride",
                           add=STRIDE_K)
    text = (f"Study 000: {STRIDE_QUOTE} This run: "
            + "; ".join(x for x in (pp_text(a, level=LEVEL) if a else None,
                                    ratio_text(t) if t else None) if x)
            + " (95%, uncorrected: a description, not a verdict).")
    c = a or t
    r = _from("claim_000_stride", claim, NOTE, text, c, "stride", LEVEL, ratio=a is None)
    r.level = None
    return r


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
    # How the claim reads when tested on the fallback pair (Lab 4: the study's buggy nets).
    fallback_claim: str | None = None


NET_CLAIMS = (
    NetClaim("claim_001_avg_beats_max", "001",
             "Average pooling beat max pooling (Lab 4 nets, fixed: logits + cross-entropy).",
             "seed001_lab4_avgpool", "seed001_lab4_maxpool", "seed001_lab4 and not softmax",
             ("seed001_lab4_avgpool_softmax_nll", "seed001_lab4_maxpool_softmax_nll"),
             "Average pooling beat max pooling (Lab 4 nets as the study ran them, with its bug: "
             "softmax fed to nll_loss)."),
    NetClaim("claim_004_max_beats_avg", "004",
             "Same padding with max pooling (model A) beat average pooling (model B).",
             "seed004_model_a", "seed004_model_b", "seed004"),
    NetClaim("claim_004_same_beats_valid", "004",
             "Model A (same padding, max pooling) beat model C (valid padding; its code uses "
             "AvgPool2d, so padding and pooling both differ: not a padding contrast alone).",
             "seed004_model_a", "seed004_model_c", "seed004"),
)


def _pairs(cs: list[Cell], better: str, worse: str) -> list[tuple[Cell, Cell]]:
    by = {(c.arch, c.conditions): c for c in cs}
    return [(by[(worse, cond)], c) for (arch, cond), c in by.items()
            if arch == better and (worse, cond) in by]


def net_claim(cs: list[Cell], nc: NetClaim, reported: Callable,
              level: float = LEVEL) -> ClaimResult:
    better, worse, claim = nc.better, nc.worse, nc.claim
    pairs = _pairs(cs, better, worse)
    if not pairs and nc.fallback:
        better, worse = nc.fallback
        claim = nc.fallback_claim or claim
        pairs = _pairs(cs, better, worse)
    if not pairs:
        return ClaimResult(nc.key, nc.study, claim, UNRESOLVED,
                           f"{nc.better} and {nc.worse} are not both in this run (under the same "
                           f"conditions); add them with -k '{nc.add}'.", "accuracy", add=nc.add)
    c = contrast("architecture", "accuracy", worse, better, pairs)
    d = c.diff
    lo, hi = _ci(d, level)
    text = pp_text(c, f"test accuracy {better} − {worse}:", level) + "."
    figures = [t for cell in (pairs[0][1], pairs[0][0]) if (t := reported(cell)) is not None]
    pct = (lambda v: None if v is None else 100 * v)
    return ClaimResult(nc.key, nc.study, claim, above(d, 0.0, level), text, "accuracy",
                       "architecture", pct(d.estimate), pct(lo), pct(hi), d.n,
                       reported=figures, cases=c.cases, level=level if lo is not None else None)


def _reported_lookup(df: pd.DataFrame) -> Callable[[Cell], str | None]:
    cols = [c for c in ("reported", "dataset", "recipe") if c in df.columns]
    first = {}
    if "reported" in cols:
        for r in df.to_dict("records"):
            first.setdefault(str(r["case"]), r)

    def lookup(cell: Cell) -> str | None:
        r = first.get(cell.case)
        if r is None:
            return None
        return reported_text(r["reported"], r.get("dataset"), r.get("recipe"), cell.acc,
                             cell.arch)
    return lookup


def setting_text(rows: pd.DataFrame) -> str | None:
    """What a verdict was measured on: "Fashion-MNIST, 4,096 images, 2 epochs"."""
    ok = rows[rows["status"].astype(str) == "ok"] if "status" in rows.columns else rows
    if ok.empty:
        return None

    def one(col):
        vals = {v for v in (num(x) if col != "dataset" else x for x in ok.get(col, []))
                if v is not None and not (isinstance(v, float) and math.isnan(v))}
        return vals.pop() if len(vals) == 1 else None

    parts = [dataset_name(one("dataset")) if one("dataset") else None]
    images = one("limit_train") or one("train_size")
    parts.append(f"{int(images):,} images" if images else None)
    ep = one("epochs")
    parts.append(f"{int(ep)} epoch{'s' * (ep != 1)}" if ep else None)
    return ", ".join(p for p in parts if p) or None


def all_claims(df: pd.DataFrame) -> list[ClaimResult]:
    """Every claim, its intervals at the claims family's corrected level."""
    grid = cells(df)
    own = cells(df, family=None, conditions=RUN_CONDITIONS)
    lookup = _reported_lookup(df)

    def run(level):
        out = [claim_000_depth(grid, level), claim_000_kernel(grid, level),
               claim_000_kernel_vs_depth(grid, level), claim_000_stride(grid, level)]
        return out + [net_claim(own, nc, lookup, level) for nc in NET_CLAIMS]

    # Bonferroni over the claims that carry an interval (the note on stride is no test).
    m = sum(c.ci_low is not None and c.verdict != NOTE for c in run(LEVEL))
    out = run(1 - ALPHA / max(m, 1))
    for c in out:
        rows = df[df["arch"].astype(str).isin(c.cases)] if c.cases else df.iloc[0:0]
        c.setting = setting_text(rows)
        if c.key in TIMING_CLAIMS_000 and c.estimate is not None:
            c.reported.append(f"Study 000's {TIMING_NOTE_000}")
    return out
