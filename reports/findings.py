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

from .analysis import pareto_front, short_labels
from .claims import ClaimResult, all_claims
from .contrasts import FACTOR_NAMES, FACTORS, Contrast, all_contrasts, cells, noise_by_conditions
from .load import is_missing
from .stats import finite, mean_ci, slope_fit
from .tables import summarize_cases
from .thresholds import LAUNCH_BOUND_BUSY

# Conditions two rows must share to be compared at all.
CONDITION_COLS = ["run", "dataset", "device", "precision", "mode", "batch_size", "epochs",
                  "recipe"]
SETTINGS = [("precision", "fp32"), ("mode", "eager"), ("channels_last", False),
            ("loader", "resident")]
# The fields every object of findings.json has, first and in this order (the rest follow).
FIELDS_JSON = ("key", "kind", "factor", "metric", "statement", "estimate", "ci_low", "ci_high",
               "n", "conclusive", "study")
# Above this relative spread of repeats' (or epochs') times the machine was busy: the contrasts
# assume the noise hits every case alike, which a load that comes and goes does not (an idle
# 2-core machine: about 1%; the same machine shared by five jobs: 20-30%).
HIGH_TIME_NOISE = 0.05
# What the report tells a user whose run has one seed per case.
REPEATS_HINT = "run --repeats 3"


@dataclass
class Finding:
    key: str  # stable id, e.g. "kernel_time_k5_k7"
    # effect | trend | claim | resolution | scaling | launch_bound | failures | pareto | noise |
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

    def as_dict(self) -> dict:
        return asdict(self)


def _pct(b: float, step: float) -> float:
    return 100.0 * (math.exp(b * step) - 1.0)


def _signed(v: float, digits: int) -> str:
    return f"{v:+.{digits}f}".replace("-", "−")


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    return df[name] if name in df.columns else pd.Series([None] * len(df), index=df.index)


def _keys(df: pd.DataFrame, cols: list[str]) -> list[tuple]:
    parts = [_col(df, c).map(lambda v: "∅" if is_missing(v) else str(v)) for c in cols]
    return list(zip(*parts, strict=True)) if parts else [()] * len(df)


# ---------------------------------------------------------------- factor contrasts


def _ratio_words(r: float, lo: float | None, hi: float | None) -> str:
    """1.52 → "1.52× slower (95% CI 1.49–1.56×)"; 0.5 → "2.00× faster (…)"."""
    if r >= 1:
        ci = "" if lo is None else f" (95% CI {lo:.2f}–{hi:.2f}×)"
        return f"{r:.2f}× slower{ci}"
    ci = "" if lo is None else f" (95% CI {1 / hi:.2f}–{1 / lo:.2f}×)"
    return f"{1 / r:.2f}× faster{ci}"


def _pairs_words(c: Contrast, scale) -> str:
    if c.pairs == 1:
        return f"1 matched pair: {', '.join(c.cases)}"
    lo, hi = (scale(v) for v in c.spread)
    return f"mean of {c.pairs} matched pairs, {lo} to {hi} across them"


def time_finding(c: Contrast) -> Finding:
    d = c.diff
    r = math.exp(d.estimate)
    lo, hi = (None, None) if d.low is None else (math.exp(d.low), math.exp(d.high))
    step = f"{c.a} → {c.b}"
    where = _pairs_words(c, lambda v: f"{math.exp(v):.2f}×")
    if d.conclusive:
        text = f"{step}: {_ratio_words(r, lo, hi)} per epoch; {where}."
    elif lo is None:
        text = (f"{step}: epoch time {r:.2f}×, no interval — one timed epoch per case (run "
                f"--epochs 2 or more); {where}.")
    else:
        text = (f"{step}: no resolvable change in epoch time ({r:.2f}×, 95% CI {lo:.2f}–"
                f"{hi:.2f}×); {where}.")
    return Finding(f"{c.factor}_time_{c.a}_{c.b}", "effect", text, r, lo, hi, d.n, "×",
                   d.conclusive if lo is not None else False, cases=c.cases, factor=c.factor,
                   metric="time", step=step, pairs=c.pairs,
                   spread=[math.exp(v) for v in c.spread])


def acc_finding(c: Contrast) -> Finding:
    d = c.diff
    est = 100 * d.estimate
    lo, hi = (None, None) if d.low is None else (100 * d.low, 100 * d.high)
    step = f"{c.a} → {c.b}"
    where = _pairs_words(c, lambda v: f"{_signed(100 * v, 1)} pp")
    head = f"{step}: test accuracy {_signed(est, 2)} pp"
    if lo is None:
        res = f"below about {100 * c.resolution:.1f} pp " if c.resolution else ""
        text = (f"{head} — one seed per case: accuracy differences {res}are not resolvable "
                f"({REPEATS_HINT}); {where}.")
    else:
        verdict = "" if d.conclusive else "not resolvable, "
        text = f"{head} ({verdict}95% CI {_signed(lo, 2)} to {_signed(hi, 2)} pp); {where}."
    return Finding(f"{c.factor}_accuracy_{c.a}_{c.b}", "effect", text, est, lo, hi, d.n, "pp",
                   bool(d.conclusive), cases=c.cases, factor=c.factor, metric="accuracy",
                   step=step, pairs=c.pairs, spread=[100 * v for v in c.spread])


def trend(factor: str, metric: str, fs: list[Finding]) -> Finding | None:
    """One line per factor and metric, stating a direction only where every step shows it."""
    if not fs:
        return None
    name = FACTOR_NAMES[factor]
    what = "epoch time" if metric == "time" else "test accuracy"
    ref = 1.0 if metric == "time" else 0.0
    ups = [f.conclusive and f.estimate > ref for f in fs]
    downs = [f.conclusive and f.estimate < ref for f in fs]
    steps = ", ".join(f"{f.step} {f.estimate:.2f}×" if metric == "time"
                      else f"{f.step} {_signed(f.estimate, 1)} pp" for f in fs)
    if all(ups) or all(downs):
        word = "raises" if all(ups) else "lowers"
        text = f"{name}: every step {word} {what} ({steps})."
        conclusive = True
    else:
        open_ = [f.step for f in fs if not f.conclusive]
        text = (f"{name}: no single trend in {what} — {steps}; "
                f"{', '.join(open_) or 'none'} not resolvable" if open_ else
                f"{name}: no single trend in {what}, the steps go both ways ({steps})")
        text += "."
        conclusive = False
    return Finding(f"{factor}_{metric}_trend", "trend", text, None, None, None,
                   sum(f.n or 0 for f in fs), "", conclusive, factor=factor, metric=metric)


def factor_effects(df: pd.DataFrame) -> list[Finding]:
    """Level-to-level contrasts of depth, kernel, stride, padding, pooling and width."""
    ok = df[(df["status"].astype(str) == "ok") & (df["family"].astype(str) == "grid")]
    if ok.empty:
        return [Finding("grid_missing", "note", "No finished grid cases: factor effects (depth, "
                        "kernel size, stride, padding, pooling, width) were not estimated.")]
    contrasts = all_contrasts(ok)
    out: list[Finding] = []
    for factor in FACTORS:
        mine = [c for c in contrasts if c.factor == factor]
        times = [time_finding(c) for c in mine if c.metric == "time"]
        accs = [acc_finding(c) for c in mine if c.metric == "accuracy"]
        if not times and not accs:
            continue
        out += [t for t in (trend(factor, "time", times), trend(factor, "accuracy", accs)) if t]
        out += times + accs
    out[:0] = busy_machine(ok)
    res = [c.resolution for c in contrasts if c.resolution]
    if res:
        out.insert(0, Finding(
            "accuracy_resolution", "resolution",
            f"One seed per case: accuracy differences below about {100 * min(res):.1f}–"
            f"{100 * max(res):.1f} pp are not resolvable from the test sets alone, and seed-to-"
            f"seed variation adds to that; {REPEATS_HINT} for accuracy intervals.",
            100 * float(np.median(res)), None, None, len(res), "pp", None, "warn",
            metric="accuracy"))
    return out


def busy_machine(ok: pd.DataFrame) -> list[Finding]:
    """A warning where the pooled timing noise says the machine was busy during the run."""
    out = []
    for noise in noise_by_conditions(cells(ok)).values():
        t = noise["time"]
        if t is None or math.sqrt(t.var) <= HIGH_TIME_NOISE:
            continue
        sd = 100 * math.sqrt(t.var)
        out.append(Finding(
            "time_noise_high", "noise",
            f"Timing noise is high: one {t.unit}'s mean epoch time varies by ±{sd:.0f}% (SD, "
            f"pooled over {t.cells} cases), against about 1% on an idle machine. The time "
            "intervals assume that noise struck every case alike; a load that came and went "
            "during the run can make a case look faster or slower than it is. Rerun on an idle "
            "machine before trusting small time differences.", sd, None, None, t.dof, "%", None,
            "warn", metric="time"))
    return out[:1]


def claim_findings(df: pd.DataFrame) -> list[Finding]:
    return [claim_finding(c) for c in all_claims(df)]


def claim_finding(c: ClaimResult) -> Finding:
    text = f"Study {c.study}: {c.claim} — {c.verdict}: {c.statement}"
    if c.reported:
        text += " " + "; ".join(c.reported) + "."
    return Finding(c.key, "claim", text, c.estimate, c.ci_low, c.ci_high, c.n,
                   "×" if c.metric == "time" else "pp", c.verdict != "not resolvable",
                   "warn" if c.verdict == "contradicted" else "info", c.cases, c.factor,
                   c.metric, c.study, c.verdict, c.claim, c.add, c.reported,
                   evidence=c.statement)


def write_findings(findings: list[Finding], path: str | Path) -> Path:
    """``findings.json``: the list the report shows, one object per finding."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for f in findings:
        d = f.as_dict()
        rows.append(_json_safe({**{k: d[k] for k in FIELDS_JSON}, **d}))
    path.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _json_safe(v):
    if isinstance(v, dict):
        return {k: _json_safe(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_json_safe(x) for x in v]
    if isinstance(v, float | np.floating):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


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


def timing_noise(summary: pd.DataFrame) -> list[Finding]:
    spread = finite(summary["epoch_time_spread"])
    n_epochs = finite(summary["epoch_time_n"])
    if len(spread) == 0 or (len(n_epochs) and n_epochs.max() < 2):
        return []
    med = 100 * float(np.median(spread))
    worst = summary.loc[pd.to_numeric(summary["epoch_time_spread"], errors="coerce").idxmax()]
    text = (f"Timing noise: epoch times within a case spread by {med:.1f}% (median IQR/median "
            f"over {len(spread)} cases; widest {100 * worst['epoch_time_spread']:.1f}% for "
            f"{worst['case']}). Time differences smaller than this are not meaningful.")
    return [Finding("timing_noise", "noise", text, med, None, None, len(spread), "%")]


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
    summary = summarize_cases(df) if summary is None else summary
    out: list[Finding] = []
    out += failures(df)
    out += claim_findings(df)
    out += factor_effects(df)
    out += pareto(summary)
    out += flops_scaling(df)
    out += launch_bound(summary)
    out += settings(df)
    out += timing_noise(summary)
    return out
