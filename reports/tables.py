"""Per-case summary tables: a numeric frame (CSV), and a formatted one (Markdown, HTML).

A *case* is one configuration of one run (its case_id without the ``-rN`` repeat suffix); its
repeats are pooled: epoch times are pooled across repeats, test accuracy is a mean with a 95%
t-interval over repeats.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .comparable import CONDITIONS
from .fmt import mean, nan
from .load import TIMER_LABELS, epoch_times, is_missing, num
from .stats import accuracy_ci, epoch_stats, finite, interval_within
from .thresholds import LAUNCH_BOUND_BUSY

ACC_NOTE = ("Test accuracy: mean ± 95% t-interval over repeats (seeds); with fewer than 3 "
            "repeats no interval is shown (with 2 the t quantile is 12.7).")


def summarize_cases(df: pd.DataFrame) -> pd.DataFrame:
    """One numeric row per (run, case)."""
    out = []
    for (run, case), g in df.groupby(["run", "case"], sort=False, dropna=False):
        ok = g[g["status"].astype(str) == "ok"]
        timed = ok if len(ok) else g  # a diverged case still ran (and timed) its epochs
        first = g.iloc[0]
        e = epoch_stats(t for _, r in timed.iterrows() for t in epoch_times(r))
        if e.n:
            q1, t_med, q3 = e.q1, e.median, e.q3
        else:
            t_med = mean(timed["epoch_time_median_s"])
            q1, q3 = mean(timed["epoch_time_q1_s"]), mean(timed["epoch_time_q3_s"])
        t_iqr = q3 - q1 if math.isfinite(q3 - q1) else mean(timed["epoch_time_iqr_s"])
        # Fewer than 3 seeds: no interval (with 2, "66.50 ± 73.76 %"); clipped to [0, 100] %.
        acc = accuracy_ci(ok["test_accuracy"])
        acc_lo, acc_hi = interval_within(acc.low, acc.high)
        ttt = finite(ok["time_to_target_s"])
        # The conditions that make two cases comparable (reports/comparable.py), so the plots
        # hold them fixed without a list of their own.
        conds = {c: next((v for v in g[c] if not is_missing(v)), None)
                 for c in CONDITIONS if c in g.columns}
        out.append({
            "run": run, "case": case, "arch": first["arch"], "family": first["family"],
            "tags": ",".join(first["tags"]) if isinstance(first["tags"], list) else None,
            "depth": first["depth"], "kernel_sizes": _ints(first["kernel_sizes"]),
            "strides": _ints(first["strides"]), "padding": first["padding"],
            "pooling": first["pooling"], "width": first["width"], "params": first["params"],
            "mflops_per_image": first["mflops_per_image"],
            "receptive_field": first["receptive_field"], "dataset": first["dataset"],
            "precision": first["precision"], "mode": first["mode"],
            "loader": first.get("loader"), "device": first["device"],
            "timer": first["timer"],
            "kernel_max": first["kernel_max"], "stride_max": first["stride_max"],
            # --benchmark-disable: one untimed pass (records say timed: false; older: None)
            "timed": not any(isinstance(v, (bool, np.bool_)) and not v
                             for v in g.get("timed", ())),
            "epoch_time_median_s": t_med, "epoch_time_iqr_s": t_iqr,
            "epoch_time_q1_s": q1, "epoch_time_q3_s": q3, "epoch_time_n": e.n,
            "epoch_time_spread": t_iqr / t_med if t_med and not math.isnan(t_med) else math.nan,
            "train_time_s": mean(timed["train_time_s"]),
            "images_per_s": mean(timed["images_per_s"]),
            "test_acc_mean": acc.mean,
            "test_acc_ci95": acc.half_width if acc.half_width is not None else math.nan,
            "test_acc_low": math.nan if acc_lo is None else acc_lo,
            "test_acc_high": math.nan if acc_hi is None else acc_hi,
            "n_repeats": acc.n, "n_rows": len(g),
            "target_acc": mean(g["target_acc"]),
            "time_to_target_s": float(np.median(ttt)) if len(ttt) else math.nan,
            "reached_target": f"{len(ttt)}/{len(ok)}" if len(ok) else "0/0",
            "peak_memory_mib": _max(timed["peak_memory_mib"]),
            "gpu_busy_fraction": mean(timed["gpu_busy_fraction"]),
            "status": status_summary(g["status"]),
            "error": next((e for e in g["error"] if isinstance(e, str) and e), None),
        })
        for c, v in conds.items():  # after the table's own columns, those kept as they are
            out[-1].setdefault(c, v)
    return pd.DataFrame(out)


def status_summary(statuses) -> str:
    counts = Counter(str(s) for s in statuses)
    if len(counts) == 1:
        return next(iter(counts))
    n = sum(counts.values())
    ordered = sorted(counts.items(), key=lambda kv: kv[0] != "ok")
    return ", ".join(f"{k} {v}/{n}" for k, v in ordered)


def _max(s) -> float:
    x = finite(s)
    return float(x.max()) if len(x) else math.nan


def _ints(v) -> str | None:
    return ",".join(str(int(i)) for i in v) if isinstance(v, list) and v else None


# ---------------------------------------------------------------- formatted tables


@dataclass
class Cell:
    text: str
    sort: str | float | None = None  # the value the HTML table sorts by (numeric when it can)
    cls: str = ""


@dataclass
class Table:
    headers: list[str]
    rows: list[list[Cell]]
    numeric: list[bool]
    notes: list[str] = field(default_factory=list)
    id: str = "table"
    # A second header line (e.g. which clock timed the column); keeps the columns narrow.
    subheaders: list[str | None] | None = None

    def sub(self, i: int) -> str | None:
        return self.subheaders[i] if self.subheaders else None


def timer_label(timers) -> str | None:
    """The one timer label for these rows, or None when they mix timers."""
    kinds = {t for t in timers if not is_missing(t)}
    if len(kinds) == 1:
        t = kinds.pop()
        return TIMER_LABELS.get(t, str(t))
    return None if kinds else "unknown timer"


def _fmt(v, spec: str, missing: str = "—") -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return missing
    return missing if math.isnan(f) else format(f, spec)


def _si(v) -> str:
    f = num(v)
    if f is None:
        return "—"
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(f) >= div:
            return f"{f / div:.3g}{suffix}"
    return f"{f:.0f}"


def acc_text(mean: float, half: float | None, n: int) -> str:
    if n == 0 or mean is None or math.isnan(mean):
        return "—"
    if half is None or math.isnan(half) or n < 2:
        return f"{100 * mean:.2f} (n=1, no CI)" if n == 1 else f"{100 * mean:.2f}"
    return f"{100 * mean:.2f} ± {100 * half:.2f} (n={n})"


def mode_table(summary: pd.DataFrame, table_id: str = "modes") -> Table | None:
    """Epoch time per architecture under each (loader, mode) the run measured, side by side.

    Answers "what do the input pipeline and kernel-launch overhead cost?": the overhead share is
    1 − graphs / eager (resident loader), the part of an eager epoch that is not the kernels'
    own work. None when every case ran with one loader and one mode.
    """
    ok = summary[summary["status"].astype(str).str.startswith("ok")].copy()
    if ok.empty:
        return None
    ok["loader"] = ok["loader"].map(lambda v: "resident" if is_missing(v) else str(v))
    ok["mode"] = ok["mode"].map(lambda v: "eager" if is_missing(v) else str(v))
    ok["variant"] = ok["loader"] + " · " + ok["mode"]
    variants = sorted(ok["variant"].unique(),
                      key=lambda v: (not v.startswith("dataloader"), v.endswith("graphs"), v))
    if len(variants) < 2:
        return None
    keys = ["run", "arch", "dataset", "precision"]
    wide = ok.pivot_table(index=keys, columns="variant", values="epoch_time_median_s",
                          aggfunc="mean")
    label = timer_label(summary["timer"])
    headers = ["Run", "Arch", "Dataset", "Precision"] + [f"{v} (s)" for v in variants]
    numeric = [False] * 4 + [True] * len(variants)
    eager, graphs = "resident · eager", "resident · graphs"
    share = eager in wide.columns and graphs in wide.columns
    if share:
        headers.append("Overhead share")
        numeric.append(True)
    rows = []
    for key, r in wide.iterrows():
        row = [Cell(str(k)) for k in key]
        row += [Cell(_fmt(r[v], ".4g"), num(r[v])) for v in variants]
        if share:
            e, g = num(r[eager]), num(r[graphs])
            s = 1 - g / e if e and g is not None else None
            row.append(Cell("—" if s is None else f"{100 * s:.0f}%", s))
        rows.append(row)
    notes = [f"Median epoch time ({label or 'see Timer column'}) under each input path and mode."]
    if share:
        notes.append("Overhead share = 1 − graphs / eager on the resident loader: the part of an "
                     "eager epoch spent on kernel launches and Python rather than in kernels.")
    return Table(headers, rows, numeric, notes, id=table_id)


def case_table(summary: pd.DataFrame, table_id: str = "cases",
               hta_busy: dict[tuple[str, str], float] | None = None) -> Table:
    """The per-case table the page, the Markdown and ``python -m reports table`` show.

    ``hta_busy``: (run, case) -> the GPU's busy share by Holistic Trace Analysis (``hta_busy``
    of reports/traces.py); where given it replaces the share bench/profiling.py summed from
    the profiler's key averages, marked "(HTA)" so the two sources are not mixed unawares.
    """
    label = timer_label(summary["timer"]) if len(summary) else None
    time_hdr = "Epoch time, median (s)"
    multi_run = summary["run"].nunique() > 1
    cols: list[tuple[str, bool]] = []
    if multi_run:
        cols.append(("Run", False))
    cols += [("Case", False), ("Family", False), ("Depth", True), ("Kernels", False),
             ("Strides", False), ("Padding", False), ("Pooling", False), ("Width", True),
             ("Params", True), ("MFLOPs/img", True), ("RF (px)", True)]
    if not label:
        cols.append(("Timer", False))
    cols += [(time_hdr, True), ("Epoch IQR (%)", True), ("Images/s", True),
             ("Test acc (%)", True), ("Time to target (s)", True), ("Peak mem (MiB)", True),
             ("GPU busy", True), ("Status", False)]
    suffix = common_suffix(summary)
    rows = []
    for _, r in summary.iterrows():
        row = []
        if multi_run:
            row.append(Cell(str(r["run"])))
        busy = (hta_busy or {}).get((str(r["run"]), str(r["case"])))
        source = " (HTA)" if busy is not None else ""
        if busy is None:
            busy = num(r["gpu_busy_fraction"])
        if busy is None:
            busy_cell = Cell("—", None)
        elif busy < LAUNCH_BOUND_BUSY:
            busy_cell = Cell(f"{100 * busy:.0f}%{source} ⚠ launch/input-bound", busy, "warn")
        else:
            busy_cell = Cell(f"{100 * busy:.0f}%{source}", busy)
        ttt = num(r["time_to_target_s"])
        target = num(r["target_acc"])
        if ttt is not None:
            ttt_cell = Cell(f"{ttt:.2f}", ttt)
        elif target is not None and r["n_repeats"]:
            ttt_cell = Cell(f"not reached ({100 * target:.1f}%)", math.inf)
        else:
            ttt_cell = Cell("—", None)
        status = str(r["status"])
        case = str(r["case"])
        row += [
            Cell(case[: len(case) - len(suffix)] if suffix else case), Cell(_str(r["family"])),
            Cell(_fmt(r["depth"], ".0f"), num(r["depth"])),
            # A case that failed before setup has no architecture facts: NaN here, not text.
            Cell(_str(r["kernel_sizes"] or None)), Cell(_str(r["strides"] or None)),
            Cell(_str(r["padding"])), Cell(_str(r["pooling"])),
            Cell(_fmt(r["width"], ".0f"), num(r["width"])),
            Cell(_si(r["params"]), num(r["params"])),
            Cell(_fmt(r["mflops_per_image"], ".3g"), num(r["mflops_per_image"])),
            Cell(_fmt(r["receptive_field"], ".0f"), num(r["receptive_field"])),
        ]
        if not label:
            row.append(Cell(TIMER_LABELS.get(r["timer"], _str(r["timer"]))))
        row += [
            Cell(_fmt(r["epoch_time_median_s"], ".4g"), num(r["epoch_time_median_s"]))
            if r.get("timed", True) else Cell("untimed", None, "warn"),
            Cell(_fmt(100 * nan(r["epoch_time_spread"]), ".1f"),
                 num(r["epoch_time_spread"])),
            Cell(_fmt(r["images_per_s"], ",.0f"), num(r["images_per_s"])),
            Cell(acc_text(r["test_acc_mean"], num(r["test_acc_ci95"]),
                          int(r["n_repeats"])), num(r["test_acc_mean"])),
            ttt_cell,
            Cell(_fmt(r["peak_memory_mib"], ",.0f"), num(r["peak_memory_mib"])),
            busy_cell,
            Cell(status, status, "" if status == "ok" else "bad"),
        ]
        rows.append(row)
    notes = ([f"Every case id here is its architecture followed by “{suffix}”, left out of the "
              "Case column."] if suffix else [])
    notes += [ACC_NOTE,
             "Epoch time: median over all timed epochs of all repeats; IQR as % of the median. "
             + (f"Timed with {label}." if label else "Rows mix timers (see the Timer column)."),
             "GPU busy: share of the profiled steps' wall time with a kernel running; below "
             "50% the case is launch/input-bound. “—” on CPU, where there is no such measure."]
    if hta_busy and any((str(r["run"]), str(r["case"])) in hta_busy
                        for _, r in summary.iterrows()):
        notes.append("GPU busy marked (HTA): 100% minus the idle share of Holistic Trace "
                     "Analysis's temporal breakdown of the case's profiler trace (first to last "
                     "kernel of the traced steps); unmarked figures sum the profiler's kernel "
                     "times instead.")
    headers = [c for c, _ in cols]
    subs = [label if h == time_hdr else None for h in headers]
    return Table(headers, rows, [n for _, n in cols], notes, table_id, subs)


def common_suffix(summary: pd.DataFrame) -> str:
    """The part every case id adds to its arch (e.g. "-mnist-fp32"), when it is the same."""
    suffixes = set()
    for case, arch in zip(summary["case"].astype(str), summary["arch"].astype(str), strict=True):
        if not case.startswith(arch) or len(case) == len(arch):
            return ""
        suffixes.add(case[len(arch):])
    return suffixes.pop() if len(suffixes) == 1 else ""


def _str(v) -> str:
    return "—" if is_missing(v) else str(v)


def to_markdown(table: Table) -> str:
    def esc(s: str) -> str:
        # Markdown passes raw HTML through: a name like "<img onerror=...>" must stay text.
        s = html.escape(s, quote=False)
        return md_inert(s).replace("\n", " ")

    align = ["---:" if n else ":---" for n in table.numeric]
    heads = [f"{h} [{table.sub(i)}]" if table.sub(i) else h for i, h in enumerate(table.headers)]
    lines = ["| " + " | ".join(esc(h) for h in heads) + " |",
             "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(esc(c.text) for c in row) + " |" for row in table.rows]
    if table.notes:
        lines.append("")
        lines += [f"{esc(n)}  " for n in table.notes]  # notes quote data (a common suffix)
    return "\n".join(lines) + "\n"


# Markdown's active punctuation: the brackets of link and image syntax ``[text](url)`` and
# ``![alt](src)`` (without them, "(" and "!" are plain), code spans, table cells. A record's
# strings are data, so each is backslash-escaped (CommonMark shows the character itself).
_MD_ACTIVE = re.compile(r"([\\`|\[\]])")


def md_inert(s: str) -> str:
    """``s`` as literal Markdown text: no link, image, emphasis or cell break, and no bare
    ``scheme://`` or ``www.`` that GitHub would turn into a link."""
    s = _MD_ACTIVE.sub(r"\\\1", s)
    s = s.replace("://", ":\\/\\/")
    return re.sub(r"(?i)\b(www)\.", r"\1\\.", s)


# OWASP's CSV injection rule: a cell starting with one of these is a formula to a spreadsheet
# (=HYPERLINK(...), +cmd|..., @SUM, and tab/CR, which some importers strip before looking).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_inert(v):
    """A text cell a spreadsheet shows as text: a leading formula character gets a ``'``."""
    return "'" + v if isinstance(v, str) and v.startswith(FORMULA_START) else v


def to_csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The frame as CSV writes it: list/dict cells JSON-encoded, so the CSV round-trips them,
    and every text cell and header inert to spreadsheets (``csv_inert``)."""
    out = df.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]):  # object, or pandas' own str dtype
            out[col] = out[col].map(
                lambda v: csv_inert(json.dumps(v) if isinstance(v, list | dict) else v))
    out.columns = [csv_inert(str(c)) for c in out.columns]
    return out


def write_tables(df: pd.DataFrame, out_dir: str | Path) -> list[Path]:
    """cases.csv and cases.md (per case), runs.csv (every row, all columns)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summarize_cases(df)
    paths = [out_dir / "cases.csv", out_dir / "cases.md", out_dir / "runs.csv"]
    to_csv_frame(summary).to_csv(paths[0], index=False)
    paths[1].write_text(to_markdown(case_table(summary)), encoding="utf-8")
    to_csv_frame(df).to_csv(paths[2], index=False)
    return paths


# ---------------------------------------------------------------- smaller tables


CONDITION_FIELDS = [
    ("Device", "device_name"), ("Device kind", "device"), ("Timer", "time_label"),
    ("torch", "torch_version"), ("CUDA", "cuda_version"), ("cuDNN", "cudnn_version"),
    ("Python", "python_version"), ("Host", "hostname"),
    ("Dataset", "dataset"), ("Data source", "data_source"), ("Data checksum", "data_checksum"),
    ("Train / val / test size", None), ("Loader", "loader"),
    ("Recipe", "recipe"), ("Optimizer", "optimizer"), ("Learning rate", "lr"),
    ("Momentum", "momentum"), ("Batch size", "batch_size"), ("Eval batch size", "eval_batch_size"),
    ("Epochs", "epochs"), ("Loss", "loss_fn"), ("Precision", "precision"),
    ("Mode", "mode"), ("torch.compile", "compile"), ("TF32", "tf32"),
    ("Channels last", "channels_last"), ("Commit", "commit_id"),
    ("Started", "started_at"), ("Finished", "finished_at"),
]


def _values(s: pd.Series) -> str:
    vals = []
    for v in s:
        if is_missing(v):
            continue
        t = json.dumps(v) if isinstance(v, list | dict) else str(v)
        if t not in vals:
            vals.append(t)
    if not vals:
        return "—"
    return " / ".join(vals[:6]) + (f" (+{len(vals) - 6} more)" if len(vals) > 6 else "")


def conditions(df: pd.DataFrame) -> list[dict]:
    """Per run: its label and a list of (field, value) pairs; varying values are joined."""
    out = []
    for run, g in df.groupby("run", sort=False):
        items = []
        for label, col in CONDITION_FIELDS:
            if col is None:
                sizes = [_values(g[c]) for c in ("train_size", "val_size", "test_size")]
                items.append((label, " / ".join(sizes)))
            elif col == "started_at":
                items.append((label, _first_last(g[col], min)))
            elif col == "finished_at":
                items.append((label, _first_last(g[col], max)))
            elif col in g.columns:
                items.append((label, _values(g[col])))
        cases = g["case"].nunique()
        statuses = status_summary(g["status"])
        items.append(("Cases / rows", f"{cases} cases, {len(g)} rows (repeats), status {statuses}"))
        items.append(("Source files", _values(g["source_file"])))
        out.append({"run": str(run), "items": items})
    # Mark the fields whose values differ between runs: those are what a reader compares.
    for i in range(len(out[0]["items"]) if out else 0):
        values = {c["items"][i][1] for c in out}
        for c in out:
            label, value = c["items"][i][:2]
            c["items"][i] = (label, value, len(values) > 1)
    return out


def _first_last(s: pd.Series, pick) -> str:
    vals = [str(v) for v in s if not is_missing(v)]
    return pick(vals) if vals else "—"


OP_FIELDS = [("name", "Op"), ("calls", "Calls"), ("self_device_ms", "Self device (ms)"),
             ("self_cpu_ms", "Self CPU (ms)"), ("total_ms", "Total (ms)")]

LAYER_FIELDS = ["index", "kind", "desc", "in_shape", "out_shape", "params", "flops", "rf",
                "jump"]


def records_table(records, preferred: list[str], headers: dict | None = None) -> Table | None:
    """A table of a list of dicts (top_ops, layers): preferred keys first, unknown keys kept."""
    if not isinstance(records, list) or not records:
        return None
    records = [r for r in records if isinstance(r, dict)]
    if not records:
        return None
    keys = [k for k in preferred if any(k in r for r in records)]
    keys += [k for r in records for k in r if k not in keys]
    keys = list(dict.fromkeys(keys))
    headers = headers or {}
    rows = []
    numeric = []
    for k in keys:
        numeric.append(all(isinstance(r.get(k), int | float) or r.get(k) is None
                           for r in records) and k != "name")
    for r in records:
        row = []
        for k in keys:
            v = r.get(k)
            if isinstance(v, list):
                row.append(Cell("×".join(str(i) for i in v)))
            elif isinstance(v, float):
                row.append(Cell(f"{v:,.3f}", v))
            elif isinstance(v, int) and not isinstance(v, bool):
                row.append(Cell(f"{v:,}", v))
            else:
                row.append(Cell(_str(v)))
        rows.append(row)
    return Table([headers.get(k, k) for k in keys], rows, numeric)


def top_ops_table(ops) -> Table | None:
    return records_table(ops, [k for k, _ in OP_FIELDS], dict(OP_FIELDS))


def layer_table(layers) -> Table | None:
    return records_table(layers, LAYER_FIELDS, {"rf": "RF", "flops": "FLOPs", "out_shape": "out",
                                                "in_shape": "in"})
