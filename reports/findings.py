"""Generated statements, each backed by a fit or a comparison in the data.

Every Finding carries the numbers its sentence quotes (estimate, CI, n) so a test can recompute
them. Factor effects are fitted within the grid family on per-repeat rows, with one intercept per
combination of the other factors (a fixed-effects regression): the slope then compares only
cases that differ in that one factor.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from .load import LAUNCH_BOUND_BUSY, is_missing
from .plots import pareto_front, short_labels
from .stats import finite, mean_ci, slope_fit
from .tables import summarize_cases

# factor key -> (column, transform of x, step the sentence speaks of, phrase)
FACTORS = {
    "depth": ("depth", float, 1.0, "each extra conv block"),
    "kernel": ("kernel_max", float, 2.0, "each +2 px of kernel size"),
    "stride": ("stride_max", float, 1.0, "each +1 of stride"),
    "width": ("width", math.log2, 1.0, "each doubling of width"),
}
GRID_FACTOR_COLS = ["depth", "kernel_max", "stride_max", "padding", "pooling", "width"]
# Conditions two rows must share to be compared at all.
CONDITION_COLS = ["run", "dataset", "device", "precision", "mode", "batch_size", "epochs",
                  "recipe"]
SETTINGS = [("precision", "fp32"), ("mode", "eager"), ("channels_last", False),
            ("loader", "resident")]


@dataclass
class Finding:
    key: str  # stable id, e.g. "depth_time"
    kind: str  # effect | scaling | launch_bound | failures | pareto | noise | setting | note
    statement: str
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int | None = None
    unit: str = ""
    conclusive: bool | None = None  # None where no interval applies
    level: str = "info"  # info | warn
    cases: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _pct(b: float, step: float) -> float:
    return 100.0 * (math.exp(b * step) - 1.0)


def _signed(v: float, digits: int) -> str:
    return f"{v:+.{digits}f}".replace("-", "−")


def _pct_digits(*vals: float) -> int:
    return 1 if max(abs(v) for v in vals) < 10 else 0


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    return df[name] if name in df.columns else pd.Series([None] * len(df), index=df.index)


def _keys(df: pd.DataFrame, cols: list[str]) -> list[tuple]:
    parts = [_col(df, c).map(lambda v: "∅" if is_missing(v) else str(v)) for c in cols]
    return list(zip(*parts, strict=True)) if parts else [()] * len(df)


def factor_effects(df: pd.DataFrame) -> list[Finding]:
    """Effect of depth, kernel size, stride and width on epoch time and test accuracy."""
    ok = df[(df["status"].astype(str) == "ok") & (df["family"].astype(str) == "grid")]
    if ok.empty:
        return [Finding("grid_missing", "note", "No finished grid cases: factor effects (depth, "
                        "kernel size, stride, width) were not estimated.")]
    out = []
    for key, (col, transform, step, phrase) in FACTORS.items():
        x = pd.to_numeric(ok[col], errors="coerce").map(
            lambda v, t=transform: t(v) if v is not None and np.isfinite(v) and v > 0 else np.nan)
        others = [c for c in GRID_FACTOR_COLS if c != col] + CONDITION_COLS
        groups = _keys(ok, others)
        t = pd.to_numeric(ok["epoch_time_median_s"], errors="coerce")
        logt = np.log(t.where(t > 0))
        acc = 100 * pd.to_numeric(ok["test_accuracy"], errors="coerce")
        fits = [("time", slope_fit(x, logt, groups)), ("acc", slope_fit(x, acc, groups))]
        if all(f is None for _, f in fits):
            if x.nunique() > 1:
                out.append(Finding(
                    f"{key}_missing", "note",
                    f"{key.capitalize()}: no effect estimated — too few finished grid trainings "
                    f"differ in {key} alone to fit it with an interval."))
            continue
        for what, fit in fits:
            if fit is None:
                continue
            if what == "time":
                est, lo, hi = (_pct(v, step) for v in (fit.slope, fit.ci_low, fit.ci_high))
                d = _pct_digits(est, lo, hi)
                body = (f"{phrase} changes epoch time by {_signed(est, d)}% (95% CI "
                        f"{_signed(lo, d)}% to {_signed(hi, d)}%")
                unit = "%"
            else:
                est, lo, hi = (v * step for v in (fit.slope, fit.ci_low, fit.ci_high))
                body = (f"{phrase} changes test accuracy by {_signed(est, 2)} pp (95% CI "
                        f"{_signed(lo, 2)} to {_signed(hi, 2)} pp")
                unit = "pp"
            groups = f"{fit.groups} group{'s' * (fit.groups != 1)}"
            body += f"; {fit.n} grid trainings in {groups} with the other factors held fixed)"
            if fit.conclusive:
                text = body[0].upper() + body[1:] + "."
            else:
                text = f"Not conclusive: {body} — the interval spans zero."
            out.append(Finding(f"{key}_{what}", "effect", text, est, lo, hi, fit.n, unit,
                               fit.conclusive))
    return out


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
    out += pareto(summary)
    out += factor_effects(df)
    out += flops_scaling(df)
    out += launch_bound(summary)
    out += settings(df)
    out += timing_noise(summary)
    return out
