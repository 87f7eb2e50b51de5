"""Generated statements, each backed by a comparison in the data, and ``findings.json``.

Every Finding carries the numbers its sentence quotes (estimate, CI, n) so a test can recompute
them. Factor effects are level-to-level contrasts between grid cases that differ in one factor
alone (``contrasts``); the studies' claims are tested in ``claims``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .claims import CONTRADICTED, SUPPORTED, ClaimResult
from .contrasts import (
    CONTROL_FAILED,
    EQUIVALENT,
    FACTOR_NAMES,
    FACTORS,
    FASTER,
    FEW_SEEDS,
    HIGHER,
    LOWER,
    ONE_RUN,
    SLOWER,
    Cell,
    Contrast,
    Control,
    noisy_cells,
    run_noise,
)
from .fmt import json_safe, signed
from .load import is_missing
from .pareto import pareto_front, short_labels
from .stats import LEVEL, mean_ci, slope_fit
from .thresholds import (
    ACC_MARGIN,
    HIGH_TIME_NOISE,
    LAUNCH_BOUND_BUSY,
    MIN_SEEDS,
    TIME_MARGIN,
)

# Conditions two rows must share to be compared at all.
CONDITION_COLS = ["run", "dataset", "device", "precision", "mode", "batch_size", "epochs",
                  "recipe"]
SETTINGS = [("precision", "fp32"), ("mode", "eager"), ("channels_last", False),
            ("loader", "resident")]
# The fields every object of findings.json has, first and in this order (the rest follow).
FIELDS_JSON = ("key", "kind", "factor", "metric", "statement", "estimate", "ci_low", "ci_high",
               "n", "conclusive", "study")
# What the report tells a user whose run has one seed per case.
REPEATS_HINT = "run --repeats 3"


@dataclass
class Finding:
    key: str  # stable id, e.g. "kernel_time_k5_k7"
    # effect | trend | claim | control | scaling | launch_bound | failures | pareto | noise |
    # setting | note
    kind: str
    statement: str
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int | None = None
    unit: str = ""
    conclusive: bool | None = None  # None where no interval applies
    level: str = "info"  # info | warn
    cases: list[str] = field(default_factory=list)
    factor: str | None = None
    metric: str | None = None  # time | accuracy
    study: str | None = None  # claims: the source study ("000", "001", "004")
    verdict: str | None = None  # claims: supported | contradicted | not resolvable
    claim: str | None = None  # claims: the study's claim in our words
    add: str | None = None  # claims: -k expression that adds the missing cases
    reported: list[str] = field(default_factory=list)  # claims: study vs run figures
    evidence: str | None = None  # claims: the numbers behind the verdict
    step: str | None = None  # effects: "k5 → k7"
    pairs: int | None = None  # effects: matched contexts averaged
    spread: list[float] | None = None  # effects: min and max over those contexts
    family: str | None = None  # the Holm family: time | accuracy | claims (control: none)
    margin: float | None = None  # practical margin: relative (time) or pp (accuracy)
    ci_level: float | None = None  # the two-sided level of [ci_low, ci_high] (corrected)
    p_adj: float | None = None  # Holm-adjusted p against the margin

    def as_dict(self) -> dict:
        return asdict(self)


def _pct(b: float, step: float) -> float:
    return 100.0 * (math.exp(b * step) - 1.0)


_signed = signed


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    return df[name] if name in df.columns else pd.Series([None] * len(df), index=df.index)


def _keys(df: pd.DataFrame, cols: list[str]) -> list[tuple]:
    parts = [_col(df, c).map(lambda v: "∅" if is_missing(v) else str(v)) for c in cols]
    return list(zip(*parts, strict=True)) if parts else [()] * len(df)


# ---------------------------------------------------------------- factor contrasts


def _ratio_words(r: float, lo: float | None, hi: float | None, level: str) -> str:
    """1.52 → "1.52× slower (99.4% CI 1.49–1.56×)"; 0.5 → "2.00× faster (…)"."""
    if r >= 1:
        ci = "" if lo is None else f" ({level} CI {lo:.2f}–{hi:.2f}×)"
        return f"{r:.2f}× slower{ci}"
    ci = "" if lo is None else f" ({level} CI {1 / hi:.2f}–{1 / lo:.2f}× faster)"
    return f"{1 / r:.2f}× faster{ci}"


def _pairs_words(c: Contrast, scale) -> str:
    runs = f"{c.runs} run{'s' * (c.runs != 1)} per case" + (
        ", paired within blocks" if c.paired and c.runs > 1 else "")
    if c.pairs == 1:
        return f"{runs}; 1 matched pair: {', '.join(c.cases)}"
    lo, hi = (scale(v) for v in c.spread)
    return f"{runs}; mean of {c.pairs} matched pairs, {lo} to {hi} across them"


def _level_words(c: Contrast) -> str:
    """"Holm-corrected 99.3%" — the level the shown interval is at."""
    if c.level is None:
        return ""
    pct = f"{100 * c.level:.2f}".rstrip("0").rstrip(".")
    return f"{pct}% Holm-corrected" if c.family_size > 1 else f"{pct}%"


def time_finding(c: Contrast) -> Finding:
    """A time contrast (a step, or a factor's trend) in words, with its verdict."""
    r = math.exp(c.diff.estimate)
    lo, hi = (None, None) if c.low is None else (math.exp(c.low), math.exp(c.high))
    trend_ = c.kind == "trend"
    step = f"{c.a} → {c.b}"
    head = f"{FACTOR_NAMES[c.factor]} {step}, per step (one joint test)" if trend_ else step
    where = _pairs_words(c, lambda v: f"{math.exp(v):.2f}×")
    margin = f"±{100 * TIME_MARGIN:g}%"
    lvl = _level_words(c)
    if c.verdict in (SLOWER, FASTER):
        text = f"{head}: {_ratio_words(r, lo, hi, lvl)} per epoch, beyond the {margin} margin"
    elif c.verdict == ONE_RUN:
        text = (f"{head}: epoch time {r:.2f}× (estimate) — one run each: repeat for an "
                f"interval ({REPEATS_HINT})")
    elif c.verdict == CONTROL_FAILED:
        text = (f"{head}: epoch time {r:.2f}× ({lvl} CI {lo:.2f}–{hi:.2f}×) — not called: "
                "this run's A/A control failed, so its timings are not trusted")
    elif c.verdict == EQUIVALENT:
        text = (f"{head}: no practical change in epoch time ({r:.2f}×, {lvl} CI {lo:.2f}–"
                f"{hi:.2f}×, within {margin})")
    else:
        text = (f"{head}: not resolved ({r:.2f}×, {lvl} CI {lo:.2f}–{hi:.2f}×, reaches past "
                f"{margin} or 1)")
    key = f"{c.factor}_time_trend" if trend_ else f"{c.factor}_time_{c.a}_{c.b}"
    return Finding(key, "trend" if trend_ else "effect", f"{text}; {where}.", r, lo, hi,
                   c.diff.n, "×", c.conclusive, cases=c.cases, factor=c.factor, metric="time",
                   verdict=c.verdict, step=step, pairs=c.pairs,
                   spread=[math.exp(v) for v in c.spread], family="time", margin=TIME_MARGIN,
                   ci_level=c.level, p_adj=c.p_adj)


def acc_finding(c: Contrast, cells_by_arch: dict | None = None) -> Finding:
    """An accuracy contrast in words: a corrected interval with 3+ seeds, else what was
    measured (no "resolution" claims)."""
    d = c.diff
    est = 100 * d.estimate
    lo, hi = (None, None) if c.low is None else (100 * c.low, 100 * c.high)
    trend_ = c.kind == "trend"
    step = f"{c.a} → {c.b}"
    head = (f"{FACTOR_NAMES[c.factor]} {step}, per step (one joint test): test accuracy "
            f"{_signed(est, 2)} pp" if trend_ else f"{step}: test accuracy {_signed(est, 2)} pp")
    where = _pairs_words(c, lambda v: f"{_signed(100 * v, 1)} pp")
    lvl = _level_words(c)
    margin = f"±{100 * ACC_MARGIN:g} pp"
    if c.verdict == FEW_SEEDS:
        text = (f"{head} — {c.runs} seed{'s' * (c.runs != 1)} per case: an estimate, no "
                f"interval (a finding needs {MIN_SEEDS}; {REPEATS_HINT})")
    elif c.verdict in (HIGHER, LOWER):
        text = f"{head} ({lvl} CI {_signed(lo, 2)} to {_signed(hi, 2)} pp, beyond {margin})"
    elif c.verdict == EQUIVALENT:
        text = f"{head} ({lvl} CI {_signed(lo, 2)} to {_signed(hi, 2)} pp: within {margin})"
    else:
        text = (f"{head} (not resolved: {lvl} CI {_signed(lo, 2)} to {_signed(hi, 2)} pp)")
    key = f"{c.factor}_accuracy_trend" if trend_ else f"{c.factor}_accuracy_{c.a}_{c.b}"
    return Finding(key, "trend" if trend_ else "effect", f"{text}; {where}.", est, lo, hi, d.n,
                   "pp", c.conclusive, cases=c.cases, factor=c.factor, metric="accuracy",
                   verdict=c.verdict, step=step, pairs=c.pairs,
                   spread=[100 * v for v in c.spread], family="accuracy",
                   margin=100 * ACC_MARGIN, ci_level=c.level, p_adj=c.p_adj)


def effect_findings(contrasts: list[Contrast]) -> list[Finding]:
    """Per factor: its trend (one joint test) then its steps, time then accuracy."""
    out: list[Finding] = []
    for factor in FACTORS:
        mine = [c for c in contrasts if c.factor == factor]
        for metric in ("time", "accuracy"):
            make = time_finding if metric == "time" else acc_finding
            out += [make(c) for c in mine if c.metric == metric and c.kind == "trend"]
        for metric in ("time", "accuracy"):
            make = time_finding if metric == "time" else acc_finding
            out += [make(c) for c in mine if c.metric == metric and c.kind == "step"]
    return out


def factor_effects(df: pd.DataFrame) -> list[Finding]:
    """Level-to-level contrasts of depth, kernel, stride, padding, pooling and width, with the
    run's noise and control findings first (the Analysis's share of the findings)."""
    from .analysis import analyse

    a = analyse(df)
    return [f for f in a.findings if f.kind in ("effect", "trend", "noise", "control")
            or f.key == "grid_missing"]


def noise_findings(cs: list[Cell], controls: list[Control]) -> list[Finding]:
    """The run's timing noise (run to run, the replicate's), the cells whose spread stands
    out, and the A/A control's verdict."""
    out = []
    sd = run_noise(cs)
    if sd is not None:
        busy = sd > HIGH_TIME_NOISE
        text = (f"Timing noise: a run's epoch time varies by ±{100 * sd:.1f}% run to run (SD, "
                f"median over {sum(c.time_sd is not None for c in cs)} cases); "
                f"{'above' if busy else 'within'} the ±{100 * HIGH_TIME_NOISE:.0f}% an idle "
                "machine stays within.")
        if busy:
            text += (" The machine was busy: each contrast carries its own variance, but a "
                     "load that came and went can still mislead; rerun on an idle machine.")
        out.append(Finding("time_noise_high" if busy else "timing_noise", "noise", text,
                           100 * sd, None, None, len(cs), "%", None,
                           "warn" if busy else "info", metric="time"))
    loud = noisy_cells(cs)
    if loud:
        names = ", ".join(f"{n.case} (±{100 * n.sd:.0f}%)" for n in loud)
        out.append(Finding(
            "noisy_cells", "noise",
            f"{len(loud)} case{'s' * (len(loud) != 1)} varied far more run to run than the "
            f"median case (±{100 * loud[0].median_sd:.1f}%): {names}. Their contrasts use "
            "their own spread (no pooling), so they are wide rather than wrong.",
            float(len(loud)), None, None, len(cs), "cases", None, "warn",
            [n.case for n in loud], metric="time"))
    for ctl in controls:
        out.append(control_finding(ctl))
    return out


def control_finding(ctl: Control) -> Finding:
    c = ctl.contrast
    if c is None or c.diff.low is None:
        return Finding("aa_control", "control",
                       f"A/A control {ctl.case}: fewer than two blocks with both copies; no "
                       "interval, so it checks nothing this run.", None, None, None, 0, "×",
                       None, "warn", [ctl.case], metric="time", verdict=ONE_RUN)
    r, lo, hi = math.exp(c.diff.estimate), math.exp(c.diff.low), math.exp(c.diff.high)
    body = (f"A/A control {ctl.case} (the same case twice per block, at different positions): "
            f"second copy / first {r:.3f}× (95% CI {lo:.3f}–{hi:.3f}×, {c.runs} blocks)")
    if ctl.failed:
        text = (f"{body}: beyond the ±{100 * TIME_MARGIN:g}% margin. Two runs of one case "
                "differed, so the run's order or machine biased its timings: no time finding "
                "of this run is called conclusive.")
    else:
        text = f"{body}: passes (its interval does not lie beyond ±{100 * TIME_MARGIN:g}%)."
    return Finding("aa_control", "control", text, r, lo, hi, c.diff.n, "×", ctl.failed,
                   "warn" if ctl.failed else "info", [ctl.case], metric="time",
                   verdict="failed" if ctl.failed else "passed", family="control",
                   margin=TIME_MARGIN, ci_level=LEVEL)


def no_control_finding() -> Finding:
    return Finding("aa_control", "control",
                   "No A/A control in this run (a case run twice per block): nothing checks "
                   "that the running order or the machine did not bias the time contrasts. "
                   "The profiles add one with --control.", level="warn", metric="time")


def claim_finding(c: ClaimResult) -> Finding:
    evidence = c.statement + (f" Setting: {c.setting}." if c.setting else "")
    text = f"Study {c.study}: {c.claim} — {c.verdict}: {evidence}"
    if c.reported:
        text += " " + "; ".join(c.reported) + "."
    return Finding(c.key, "claim", text, c.estimate, c.ci_low, c.ci_high, c.n,
                   "×" if c.metric == "time" else "pp", c.verdict in (SUPPORTED, CONTRADICTED),
                   "warn" if c.verdict == CONTRADICTED else "info", c.cases, c.factor,
                   c.metric, c.study, c.verdict, c.claim, c.add, c.reported,
                   evidence=evidence, family="claims", ci_level=c.level)


def write_findings(findings: list[Finding], path: str | Path) -> Path:
    """``findings.json``: the list the report shows, one object per finding."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for f in findings:
        d = f.as_dict()
        rows.append(json_safe({**{k: d[k] for k in FIELDS_JSON}, **d}))
    path.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def flops_scaling(df: pd.DataFrame) -> list[Finding]:
    """Elasticity of epoch time in forward FLOPs: is time explained by the arithmetic?"""
    ok = df[df["status"].astype(str) == "ok"]
    flops = pd.to_numeric(ok["flops_per_image"], errors="coerce")
    t = pd.to_numeric(ok["epoch_time_median_s"], errors="coerce")
    sel = (flops > 0) & (t > 0)
    ok, flops, t = ok[sel], flops[sel], t[sel]
    fit = slope_fit(np.log(flops), np.log(t), _keys(ok, CONDITION_COLS))
    if fit is None:
        return []
    b, lo, hi = fit.slope, fit.ci_low, fit.ci_high
    if hi < 0.5:
        why = ("well below 1: most of the epoch is fixed per-step cost (kernel launches, Python, "
               "input), not arithmetic")
    elif lo <= 1.0 <= hi or lo > 0.8:
        why = "close to proportional: time is explained by the arithmetic"
    else:
        why = "sub-linear: part arithmetic, part fixed per-step overhead"
    text = (f"Across {fit.n} finished trainings, epoch time scales as FLOPs^{b:.2f} (95% CI "
            f"{lo:.2f} to {hi:.2f}) — {why}.")
    if not fit.conclusive:
        text = f"Not conclusive: {text[0].lower()}{text[1:]} The interval spans zero."
    return [Finding("flops_scaling", "scaling", text, b, lo, hi, fit.n, "exponent",
                    fit.conclusive)]


def launch_bound(summary: pd.DataFrame) -> list[Finding]:
    # A failed training's busy share describes how it failed, not how the case runs.
    summary = summary[summary["status"].astype(str).str.startswith("ok")]
    busy = pd.to_numeric(summary["gpu_busy_fraction"], errors="coerce")
    have = summary[np.isfinite(busy)]
    if have.empty:
        return []
    busy = busy[np.isfinite(busy)]
    low = have[busy < LAUNCH_BOUND_BUSY]
    labels = list(short_labels(low)) if len(low) else []
    n = len(have)
    if len(low):
        shown = ", ".join(labels[:12]) + (f" and {len(labels) - 12} more" if len(labels) > 12
                                          else "")
        text = (f"{len(low)} of {n} cases kept the GPU busy less than "
                f"{LAUNCH_BOUND_BUSY:.0%} of the time (median "
                f"{busy[busy < LAUNCH_BOUND_BUSY].median():.0%}): launch/input-bound, so their "
                f"epoch time reflects per-step overhead more than FLOPs — {shown}.")
        return [Finding("launch_bound", "launch_bound", text, float(len(low)), None, None, n,
                        "cases", None, "warn", labels)]
    i = busy.idxmin()
    text = (f"All {n} cases kept the GPU busy at least {LAUNCH_BOUND_BUSY:.0%} of the time "
            f"(lowest {busy[i]:.0%}, {short_labels(have.loc[[i]]).iloc[0]}).")
    return [Finding("launch_bound", "launch_bound", text, 0.0, None, None, n, "cases")]


def failures(df: pd.DataFrame) -> list[Finding]:
    bad = df[df["status"].astype(str) != "ok"]
    if bad.empty:
        return []
    parts = []
    multi = df["run"].nunique() > 1
    for status, g in bad.groupby(bad["status"].astype(str)):
        ids = [f"{c} ({r})" if multi else str(c) for c, r in zip(g["case_id"], g["run"],
                                                                   strict=True)]
        parts.append(f"{len(g)} {status} ({', '.join(ids[:8])}"
                     + (f" and {len(ids) - 8} more" if len(ids) > 8 else "") + ")")
    text = (f"{len(bad)} of {len(df)} trainings did not finish: " + "; ".join(parts)
            + ". They are left out of the accuracy statistics and the fits.")
    return [Finding("failures", "failures", text, float(len(bad)), None, None, len(df), "trainings",
                    None, "warn", list(bad["case_id"].astype(str)))]


def pareto(summary: pd.DataFrame) -> list[Finding]:
    ok = summary[summary["status"].astype(str).str.startswith("ok")]
    out = []
    for run, g in ok.groupby("run", sort=False):
        front = pareto_front(g.assign(label=short_labels(g)), "train_time_s", "test_acc_mean")
        if front.empty:
            continue
        items = ", ".join(f"{r['label']} ({r['train_time_s']:.3g} s, "
                          f"{100 * r['test_acc_mean']:.2f}%)" for _, r in front.head(10).iterrows())
        if len(front) > 10:
            items += f" and {len(front) - 10} more (see the plot)"
        where = f" in run {run}" if summary["run"].nunique() > 1 else ""
        text = (f"{len(front)} of {len(g)} finished cases{where} are Pareto-optimal in "
                f"training time vs test accuracy (none is both faster and more accurate): "
                f"{items}.")
        out.append(Finding(f"pareto_{run}", "pareto", text, float(len(front)), None, None, len(g),
                           "cases", None, "info", list(front["label"])))
    return out


def settings(df: pd.DataFrame) -> list[Finding]:
    """Paired comparisons of settings (precision, mode, …) on the same architectures."""
    ok = df[df["status"].astype(str) == "ok"].copy()
    out = []
    for col, ref_default in SETTINGS:
        levels = [v for v in ok[col].map(lambda v: None if is_missing(v) else str(v)).unique()
                  if v is not None]
        if len(levels) < 2:
            continue
        ref = str(ref_default) if str(ref_default) in levels else levels[0]
        pair_cols = ["arch", "dataset", "device", "batch_size", "epochs", "recipe"] + [
            c for c, _ in SETTINGS if c != col]
        ok["_pair"] = _keys(ok, pair_cols)
        ok["_level"] = ok[col].map(str)
        ok["_logt"] = np.log(pd.to_numeric(ok["epoch_time_median_s"], errors="coerce"))
        means = ok.groupby(["_pair", "_level"])["_logt"].mean().unstack()
        for level in levels:
            if level == ref or level not in means:
                continue
            diff = (means[level] - means[ref]).dropna()
            ci = mean_ci(diff)
            if ci.n == 0:
                continue
            est = _pct(ci.mean, 1)
            if ci.half_width is None:
                text = (f"{col} {level} vs {ref}: epoch time {_signed(est, 1)}% on the one "
                        "architecture run both ways (n=1, no CI).")
                out.append(Finding(f"setting_{col}_{level}", "setting", text, est, None, None, 1,
                                   "%"))
                continue
            lo, hi = _pct(ci.low, 1), _pct(ci.high, 1)
            conclusive = lo > 0 or hi < 0
            text = (f"{col} {level} vs {ref}: epoch time {_signed(est, 1)}% (95% CI "
                    f"{_signed(lo, 1)}% to {_signed(hi, 1)}%, {ci.n} architectures run both ways)"
                    + ("." if conclusive else " — not conclusive, the interval spans zero."))
            out.append(Finding(f"setting_{col}_{level}", "setting", text, est, lo, hi, ci.n, "%",
                               conclusive))
    return out


def all_findings(df: pd.DataFrame, summary: pd.DataFrame | None = None) -> list[Finding]:
    """Every finding of the page, in page order (``reports.analysis.analyse`` builds them)."""
    from .analysis import analyse

    return analyse(df, summary=summary).findings
