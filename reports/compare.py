"""Compare two selections of runs case by case, with noise-aware verdicts.

The base may be several runs (the nightly passes its recent nights): then the case's level is
the mean over those nights of each night's run summary (``stats.run_log_time``, median over the
night's runs), and the *between-night* spread of those values is the noise a new night is
judged against (a prediction interval: t·sd·√(1 + 1/n)). Within-night spread alone let two
identical CPU nights read "improved −76.7%, noise ±5.8%" when the machine's load changed.

A change counts only if it clears all of:

* the threshold (``--threshold``, relative);
* the noise: the between-night prediction interval with two or more base nights; with one, the
  run-to-run spread of both sides (runs, not epochs, are the replicates), never less than the
  old epoch-level term 2·sqrt(σ_base² + σ_new²)/median (σ = IQR/1.349 of epoch times);
* the control: where both sides ran the A/A control case (records with ``control`` set), every
  case's change is also taken relative to the control's; a change the control shares (all cases
  incl. the control 3× slower) is "machine slower", not a regression.

Test accuracy: absolute change of the mean over repeats; noise is the two sides' 95% half-widths
combined in quadrature, each a t-interval over repeats (3 or more), else 1.96 binomial standard
errors from test_size. Status: ok → diverged or oom is a regression (training itself failed),
and the reverse an improvement. A side whose case ran to no measurement for reasons outside the
case (``NO_MEASUREMENT``: an error, Ctrl-C/SIGTERM, the time limit) is "not comparable": a
nightly cut short by its time limit is no regression of the cases it never reached.

Cases trained under different conditions (``comparable.COMPARABLE_ON``) are not compared: their
verdict is "not comparable", naming what differs, and they never fail the comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .comparable import COMPARABLE_ON
from .fmt import mean as _mean
from .fmt import nan as _nan
from .fmt import num as _f
from .load import epoch_times, is_missing
from .stats import (
    accuracy_ci,
    binomial_se,
    epoch_stats,
    quantile,
    robust_sigma,
    run_log_time,
)
from .tables import Cell, Table, status_summary
from .thresholds import ACC_THRESHOLD, TIME_THRESHOLD

IMPROVED, REGRESSED, NOISE = "improved", "regressed", "within noise"
MACHINE_SLOWER, MACHINE_FASTER = "machine slower", "machine faster"
ADDED, REMOVED, FAILED_BOTH = "added", "removed", "failed in both"
NOT_COMPARABLE = "not comparable"
# Statuses that measured nothing about the case: the harness failed, or it was stopped.
NO_MEASUREMENT = ("error", "interrupted", "timeout")
Z95 = 1.959963984540054


@dataclass(frozen=True)
class SideStats:
    status: str
    ok: bool
    time_median: float
    time_sigma: float  # robust sigma of single epochs (the old, within-run term)
    n_epochs: int
    acc_mean: float
    acc_half: float  # 95% half-width of this side's mean accuracy; nan when unknown
    n_repeats: int
    timer: str | None
    device_name: str | None
    log_level: float  # mean over runs/nights of the log run summary
    level_sd: float | None  # between nights (several runs) or between runs (one run), log
    level_n: int  # nights (or runs) behind log_level
    nights: int


def _run_values(recs: list[dict]) -> dict:
    """Run (night) → its runs' log summaries (``stats.run_log_time``); runs without one are
    left out, and so is a night without any."""
    out: dict = {}
    for r in recs:
        v = run_log_time(epoch_times(r))
        if v is not None:
            out.setdefault(r["run"], []).append(v)
    return out


def side_stats(rows: pd.DataFrame) -> SideStats:
    ok = rows[rows["status"].astype(str) == "ok"]
    ok = ok[~ok["control"].map(is_true)] if "control" in ok.columns else ok
    recs = ok.to_dict("records")
    times = [t for r in recs for t in epoch_times(r)]
    if times:
        med, sigma = epoch_stats(times).median, robust_sigma(times)
    else:
        med = _mean(ok["epoch_time_median_s"])
        sigma = _mean(ok["epoch_time_iqr_s"]) / 1.349
        sigma = 0.0 if math.isnan(sigma) else sigma
    nights = _run_values(recs)
    if len(nights) >= 2:  # several nights: each night's median run is one replicate
        vals = [float(np.median(v)) for v in nights.values()]
    else:  # one night: its runs are the replicates
        vals = [v for runs in nights.values() for v in runs]
    level = float(np.mean(vals)) if vals else (math.log(med) if med > 0 else math.nan)
    sd = float(np.std(vals, ddof=1)) if len(vals) >= 2 else None
    acc = accuracy_ci(ok["test_accuracy"])
    if acc.half_width is not None:
        half = acc.half_width
    else:
        se = binomial_se(acc.mean, _mean(ok["test_size"])) if acc.n >= 1 else None
        half = Z95 * se if se is not None else math.nan
    return SideStats(status_summary(rows["status"]), len(ok) > 0, med, sigma, len(times),
                     acc.mean, half, acc.n, _first(rows["timer"]), _first(rows["device_name"]),
                     level, sd, len(vals), len(nights))


def is_true(v) -> bool:
    """A record flag that is set (True; numpy's True after a frame round trip)."""
    return isinstance(v, bool | np.bool_) and bool(v)


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


def time_noise(b: SideStats, n: SideStats) -> float:
    """The relative change a new side must exceed to be more than noise (see the docstring)."""
    floor = 2 * math.hypot(b.time_sigma, n.time_sigma) / b.time_median \
        if b.time_median > 0 else math.nan
    if b.nights >= 2 and b.level_sd is not None:
        # A prediction interval for one new night's value from n base nights.
        log_noise = quantile(0.975, b.level_n - 1) * b.level_sd * math.sqrt(1 + 1 / b.level_n)
    else:
        sds = [x.level_sd for x in (b, n) if x.level_sd is not None]
        log_noise = 2 * math.sqrt(sum(v * v for v in sds)) if sds else 0.0
    noise = math.expm1(log_noise)
    return max(noise, floor) if not math.isnan(floor) else noise


def control_case(*sides: pd.DataFrame) -> str | None:
    """The A/A control case both sides ran (its copies carry ``control``), if any."""
    found = None
    for df in sides:
        if "control" not in df.columns:
            return None
        cases = set(df.loc[df["control"].map(is_true), "case"])
        found = cases if found is None else found & cases
    return sorted(found)[0] if found else None


def compare_frames(base: pd.DataFrame, new: pd.DataFrame, threshold: float = TIME_THRESHOLD,
                   acc_threshold: float = ACC_THRESHOLD) -> pd.DataFrame:
    """One row per case found in either side (matched on ``case``: case_id less ``-rN``)."""
    base_cases = list(dict.fromkeys(base["case"]))
    new_cases = list(dict.fromkeys(new["case"]))
    ctl = control_case(base, new)
    ctl_change = math.nan
    if ctl is not None:
        cb, cn = side_stats(base[base["case"] == ctl]), side_stats(new[new["case"] == ctl])
        if cb.ok and cn.ok:
            ctl_change = cn.log_level - cb.log_level
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
        stopped = [f"{side} {why}" for side, x, rs in (("base", b, b_rows), ("new", n, n_rows))
                   if not x.ok and (why := _stopped(rs))]
        if stopped and (b.ok or n.ok):
            row.update(verdict=NOT_COMPARABLE,
                       status=f"{'; '.join(stopped)}: no measurement on that side",
                       base_time_s=b.time_median, new_time_s=n.time_median, base_acc=b.acc_mean,
                       new_acc=n.acc_mean, time_verdict="", acc_verdict="")
            rows.append(row)
            continue
        log_change = n.log_level - b.log_level
        t_change = math.expm1(log_change) if math.isfinite(log_change) else math.nan
        t_noise = time_noise(b, n)
        norm = math.expm1(log_change - ctl_change) if math.isfinite(ctl_change) else math.nan
        a_change = n.acc_mean - b.acc_mean
        a_noise = math.hypot(b.acc_half, n.acc_half)
        t_verdict = ""
        if b.ok and n.ok:
            t_verdict = _verdict(t_change, t_noise, threshold, higher_is_better=False)
            if t_verdict != NOISE and math.isfinite(norm) and case != ctl:
                # The control moved too: only what is left after it can be the case's own.
                own = _verdict(norm, t_noise, threshold, higher_is_better=False)
                if own == NOISE:
                    t_verdict = MACHINE_SLOWER if t_change > 0 else MACHINE_FASTER
            elif t_verdict != NOISE and case == ctl:
                t_verdict = MACHINE_SLOWER if t_change > 0 else MACHINE_FASTER
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
        elif t_verdict in (MACHINE_SLOWER, MACHINE_FASTER):
            verdict = t_verdict
        else:
            verdict = NOISE
        status = b.status if b.status == n.status else f"{b.status} → {n.status}"
        row.update(
            verdict=verdict, status=status,
            base_time_s=b.time_median, new_time_s=n.time_median, time_change=t_change,
            time_noise=t_noise, time_verdict=t_verdict, time_vs_control=norm,
            base_acc=b.acc_mean, new_acc=n.acc_mean, acc_change=a_change, acc_noise=a_noise,
            acc_verdict=a_verdict, base_repeats=b.n_repeats, new_repeats=n.n_repeats,
            base_epochs=b.n_epochs, new_epochs=n.n_epochs, base_nights=b.nights)
        rows.append(row)
    cols = ["case", "verdict", "status", "base_time_s", "new_time_s", "time_change", "time_noise",
            "time_verdict", "time_vs_control", "base_acc", "new_acc", "acc_change", "acc_noise",
            "acc_verdict", "base_repeats", "new_repeats", "base_epochs", "new_epochs",
            "base_nights"]
    out = pd.DataFrame(rows)
    for c in cols:
        if c not in out.columns:
            out[c] = np.nan
    out = out[cols]
    out.attrs["control"] = ctl
    out.attrs["control_change"] = math.expm1(ctl_change) if math.isfinite(ctl_change) else None
    return out


def _stopped(rows: pd.DataFrame) -> str:
    """The NO_MEASUREMENT statuses among a side's rows ("timeout", "error/interrupted"), or
    "" when none: the side then failed in training (diverged, oom), a verdict of its own."""
    return "/".join(sorted({str(v) for v in rows["status"]} & set(NO_MEASUREMENT)))


def exit_code(cmp: pd.DataFrame) -> int:
    """1 when any case regressed beyond the threshold and the noise, else 0."""
    return int((cmp["verdict"] == REGRESSED).any())


def caveats(base: pd.DataFrame, new: pd.DataFrame) -> list[str]:
    out = []
    differs = incomparable(base, new)
    if differs:
        out.append("The runs were trained under different conditions (" + "; ".join(differs)
                   + "): cases that differ are marked \"not comparable\" and not judged.")
    if control_case(base, new) is None:
        out.append("No A/A control case ran on both sides: a change the whole machine shares "
                   "(load, clocks) cannot be told from a regression.")
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
               NOT_COMPARABLE: "warn", MACHINE_SLOWER: "warn", MACHINE_FASTER: "warn"}.get(v, "")
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


def summary_line(cmp: pd.DataFrame) -> str:
    counts = cmp["verdict"].value_counts()
    order = [REGRESSED, IMPROVED, MACHINE_SLOWER, MACHINE_FASTER, NOISE, NOT_COMPARABLE,
             FAILED_BOTH, ADDED, REMOVED]
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
