"""Compare two selections of runs case by case, with noise-aware verdicts.

A change counts only if it exceeds both the threshold and the noise:

* epoch time: relative change of the median over all timed epochs (repeats pooled); noise is
  2·sqrt(σ_base² + σ_new²) / median_base with σ = IQR/1.349 of each side's epoch times (the
  stddev where the IQR is 0). That is the spread of single epochs, not of the medians: benchmark
  machines drift between runs more than within one, so this errs on the side of "within noise".
* test accuracy: absolute change of the mean over repeats; noise is the two sides' 95%
  half-widths combined in quadrature, each a t-interval over repeats, or 1.96 binomial standard
  errors from test_size when a side has a single repeat.
* status: ok → failed is a regression, failed → ok an improvement.

Cases trained under different conditions (dataset, training subset, batch size, epochs,
recipe, ...: ``COMPARABLE_ON``) are not compared at all: their verdict is "not comparable",
naming what differs, and they never fail the comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .load import epoch_times, is_missing
from .stats import binomial_se, finite, mean_ci, robust_sigma
from .tables import Cell, Table, status_summary
from .thresholds import ACC_THRESHOLD, TIME_THRESHOLD

IMPROVED, REGRESSED, NOISE = "improved", "regressed", "within noise"
ADDED, REMOVED, FAILED_BOTH = "added", "removed", "failed in both"
NOT_COMPARABLE = "not comparable"
# What two trainings of a case must share for their times and accuracies to be compared: a
# different subset, batch size, epoch count, recipe or dataset changes both by design (a 4,096-
# image run vs a 60,000-image one reads as "+731% regressed" otherwise).
COMPARABLE_ON = (("dataset", "dataset"), ("limit_train", "training subset (--limit-train)"),
                 ("train_size", "training-set size"), ("test_size", "test-set size"),
                 ("batch_size", "batch size"), ("epochs", "epochs"), ("recipe", "recipe"),
                 ("optimizer", "optimizer"), ("lr", "learning rate"),
                 ("precision", "precision"), ("mode", "execution mode"),
                 ("loader", "input loader"))
Z95 = 1.959963984540054


@dataclass(frozen=True)
class SideStats:
    status: str
    ok: bool
    time_median: float
    time_sigma: float
    n_epochs: int
    acc_mean: float
    acc_half: float  # 95% half-width of this side's mean accuracy; nan when unknown
    n_repeats: int
    timer: str | None
    device_name: str | None


def side_stats(rows: pd.DataFrame) -> SideStats:
    ok = rows[rows["status"].astype(str) == "ok"]
    times = [t for _, r in ok.iterrows() for t in epoch_times(r)]
    if times:
        med, sigma = float(np.median(times)), robust_sigma(times)
    else:
        med = _mean(ok["epoch_time_median_s"])
        sigma = _mean(ok["epoch_time_iqr_s"]) / 1.349
        sigma = 0.0 if math.isnan(sigma) else sigma
    acc = mean_ci(ok["test_accuracy"])
    if acc.half_width is not None:
        half = acc.half_width
    else:
        se = binomial_se(acc.mean, _mean(ok["test_size"])) if acc.n == 1 else None
        half = Z95 * se if se is not None else math.nan
    return SideStats(status_summary(rows["status"]), len(ok) > 0, med, sigma, len(times),
                     acc.mean, half, acc.n, _first(rows["timer"]), _first(rows["device_name"]))


def _mean(s) -> float:
    x = finite(s)
    return float(x.mean()) if len(x) else math.nan


def _first(s):
    for v in s:
        if not is_missing(v):
            return str(v)
    return None


def _values(rows: pd.DataFrame, col: str) -> set[str]:
    if col not in rows.columns:
        return set()
    # A column with gaps turns 4096 into 4096.0: the same value, spelt the same.
    return {str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
            for v in rows[col] if not is_missing(v)}


def incomparable(base: pd.DataFrame, new: pd.DataFrame) -> list[str]:
    """What differs between two sides in the conditions that make their numbers comparable.

    A condition recorded on one side only (an older record without the field) is not counted.
    """
    out = []
    for col, what in COMPARABLE_ON:
        b, n = _values(base, col), _values(new, col)
        if b and n and b != n:
            out.append(f"{what} {'/'.join(sorted(b))} vs {'/'.join(sorted(n))}")
    return out


def _verdict(change: float, noise: float, threshold: float, higher_is_better: bool) -> str:
    if math.isnan(change):
        return NOISE
    if abs(change) <= threshold or abs(change) <= (0.0 if math.isnan(noise) else noise):
        return NOISE
    return IMPROVED if (change > 0) == higher_is_better else REGRESSED


def compare_frames(base: pd.DataFrame, new: pd.DataFrame, threshold: float = TIME_THRESHOLD,
                   acc_threshold: float = ACC_THRESHOLD) -> pd.DataFrame:
    """One row per case found in either side (matched on ``case``: case_id less ``-rN``)."""
    base_cases = list(dict.fromkeys(base["case"]))
    new_cases = list(dict.fromkeys(new["case"]))
    rows = []
    for case in base_cases + [c for c in new_cases if c not in set(base_cases)]:
        in_b, in_n = case in set(base_cases), case in set(new_cases)
        row: dict = {"case": case}
        if not (in_b and in_n):
            side = side_stats((base if in_b else new)[(base if in_b else new)["case"] == case])
            row.update(verdict=REMOVED if in_b else ADDED, status=side.status,
                       time_verdict="", acc_verdict="")
            prefix = "base" if in_b else "new"
            row.update({f"{prefix}_time_s": side.time_median, f"{prefix}_acc": side.acc_mean})
            rows.append(row)
            continue
        b_rows, n_rows = base[base["case"] == case], new[new["case"] == case]
        b, n = side_stats(b_rows), side_stats(n_rows)
        differs = incomparable(b_rows, n_rows)
        if differs:
            row.update(verdict=NOT_COMPARABLE, status=f"differs: {'; '.join(differs)}",
                       base_time_s=b.time_median, new_time_s=n.time_median, base_acc=b.acc_mean,
                       new_acc=n.acc_mean, time_verdict="", acc_verdict="")
            rows.append(row)
            continue
        t_change = n.time_median / b.time_median - 1 if b.time_median > 0 else math.nan
        t_noise = 2 * math.hypot(b.time_sigma, n.time_sigma) / b.time_median \
            if b.time_median > 0 else math.nan
        a_change = n.acc_mean - b.acc_mean
        a_noise = math.hypot(b.acc_half, n.acc_half)
        t_verdict = _verdict(t_change, t_noise, threshold, higher_is_better=False) \
            if b.ok and n.ok else ""
        a_verdict = _verdict(a_change, a_noise, acc_threshold, higher_is_better=True) \
            if b.ok and n.ok else ""
        if b.ok and not n.ok:
            verdict = REGRESSED
        elif n.ok and not b.ok:
            verdict = IMPROVED
        elif not b.ok and not n.ok:
            verdict = FAILED_BOTH
        elif REGRESSED in (t_verdict, a_verdict):
            verdict = REGRESSED
        elif IMPROVED in (t_verdict, a_verdict):
            verdict = IMPROVED
        else:
            verdict = NOISE
        status = b.status if b.status == n.status else f"{b.status} → {n.status}"
        row.update(
            verdict=verdict, status=status,
            base_time_s=b.time_median, new_time_s=n.time_median, time_change=t_change,
            time_noise=t_noise, time_verdict=t_verdict,
            base_acc=b.acc_mean, new_acc=n.acc_mean, acc_change=a_change, acc_noise=a_noise,
            acc_verdict=a_verdict, base_repeats=b.n_repeats, new_repeats=n.n_repeats,
            base_epochs=b.n_epochs, new_epochs=n.n_epochs)
        rows.append(row)
    cols = ["case", "verdict", "status", "base_time_s", "new_time_s", "time_change", "time_noise",
            "time_verdict", "base_acc", "new_acc", "acc_change", "acc_noise", "acc_verdict",
            "base_repeats", "new_repeats", "base_epochs", "new_epochs"]
    out = pd.DataFrame(rows)
    for c in cols:
        if c not in out.columns:
            out[c] = np.nan
    return out[cols]


def exit_code(cmp: pd.DataFrame) -> int:
    """1 when any case regressed beyond the threshold and the noise, else 0."""
    return int((cmp["verdict"] == REGRESSED).any())


def caveats(base: pd.DataFrame, new: pd.DataFrame) -> list[str]:
    out = []
    differs = incomparable(base, new)
    if differs:
        out.append("The runs were trained under different conditions (" + "; ".join(differs)
                   + "): cases that differ are marked \"not comparable\" and not judged.")
    for col, what in (("timer", "timers"), ("device_name", "devices"),
                      ("torch_version", "torch versions")):
        b = {str(v) for v in base[col] if not is_missing(v)}
        n = {str(v) for v in new[col] if not is_missing(v)}
        if b and n and b != n:
            out.append(f"The runs differ in {what}: base {', '.join(sorted(b))} vs new "
                       f"{', '.join(sorted(n))}; time changes mix that difference in.")
    return out


def _pct(v) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:+.1f}%"


def _num(v, spec) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def _pp(v) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:+.2f}"


def comparison_table(cmp: pd.DataFrame, table_id: str = "compare") -> Table:
    headers = ["Case", "Verdict", "Base time (s)", "New time (s)", "Δ time", "Time noise",
               "Time verdict", "Base acc (%)", "New acc (%)", "Δ acc (pp)", "Acc noise (pp)",
               "Acc verdict", "Status"]
    numeric = [False, False, True, True, True, True, False, True, True, True, True, False, False]
    rows = []
    for _, r in cmp.iterrows():
        v = str(r["verdict"])
        cls = {"regressed": "bad", "improved": "good", "removed": "warn",
               NOT_COMPARABLE: "warn"}.get(v, "")
        rows.append([
            Cell(str(r["case"])), Cell(v, v, cls),
            Cell(_num(r["base_time_s"], ".4g"), _f(r["base_time_s"])),
            Cell(_num(r["new_time_s"], ".4g"), _f(r["new_time_s"])),
            Cell(_pct(r["time_change"]), _f(r["time_change"]),
                 {"regressed": "bad", "improved": "good"}.get(str(r["time_verdict"]), "")),
            Cell("±" + _pct(r["time_noise"]).lstrip("+") if _f(r["time_noise"]) is not None
                 else "—", _f(r["time_noise"])),
            Cell(str(r["time_verdict"] or "—")),
            Cell(_num(100 * _nan(r["base_acc"]), ".2f"), _f(r["base_acc"])),
            Cell(_num(100 * _nan(r["new_acc"]), ".2f"), _f(r["new_acc"])),
            Cell(_pp(r["acc_change"]), _f(r["acc_change"]),
                 {"regressed": "bad", "improved": "good"}.get(str(r["acc_verdict"]), "")),
            Cell("±" + _num(100 * _nan(r["acc_noise"]), ".2f") if _f(r["acc_noise"]) is not None
                 else "—", _f(r["acc_noise"])),
            Cell(str(r["acc_verdict"] or "—")),
            Cell(str(r["status"])),
        ])
    return Table(headers, rows, numeric, [], table_id)


def _f(v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _nan(v) -> float:
    f = _f(v)
    return math.nan if f is None else f


def summary_line(cmp: pd.DataFrame) -> str:
    counts = cmp["verdict"].value_counts()
    order = [REGRESSED, IMPROVED, NOISE, NOT_COMPARABLE, FAILED_BOTH, ADDED, REMOVED]
    return ", ".join(f"{counts[k]} {k}" for k in order if k in counts) or "no cases"


def format_text(cmp: pd.DataFrame, threshold: float, acc_threshold: float,
                notes: list[str] | None = None) -> str:
    """A plain-text report for the terminal."""
    table = comparison_table(cmp)
    keep = [0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12]  # verdict columns folded into the cells' marks
    headers = [table.headers[i] for i in keep]
    body = [[row[i].text for i in keep] for row in table.rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h)
              for i, h in enumerate(headers)]
    right = [table.numeric[i] for i in keep]

    def line(cells):
        return "  ".join(c.rjust(w) if r else c.ljust(w)
                         for c, w, r in zip(cells, widths, right, strict=True)).rstrip()

    out = [line(headers), line(["-" * w for w in widths])] + [line(r) for r in body]
    out.append("")
    out.append(f"Thresholds: epoch time ±{100 * threshold:.0f}% and test accuracy "
               f"±{100 * acc_threshold:.1f} pp, each also beyond its noise.")
    out += notes or []
    out.append(f"Summary: {summary_line(cmp)}.")
    return "\n".join(out) + "\n"


def relabel_runs(base: pd.DataFrame, new: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Make run labels distinct when both sides use the same names (e.g. the same run id)."""
    overlap = set(base["run"]) & set(new["run"])
    if not overlap:
        return base, new
    base = base.assign(run=["base:" + str(r) if r in overlap else r for r in base["run"]])
    new = new.assign(run=["new:" + str(r) if r in overlap else r for r in new["run"]])
    return base, new
