"""The report's figures, rendered to inline SVG strings.

Figures are built with matplotlib's object API (``Figure``, no pyplot state) so that drawing a
report never touches a GUI backend or another caller's figures; seaborn draws into given axes.
Each plot function returns a Plot; one that lacks the data it needs returns a Plot with
``svg=None`` and a note saying why instead of raising.
"""

from __future__ import annotations

import html
import io
import re
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib

if "matplotlib.pyplot" not in sys.modules:
    # Headless: seaborn imports pyplot, which would otherwise pick a GUI backend if it found one.
    matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import LogFormatter  # noqa: E402

from .analysis import pareto_front, short_labels  # noqa: E402
from .load import natural_key, num  # noqa: E402
from .stats import finite, slope_fit  # noqa: E402
from .tables import summarize_cases, timer_label  # noqa: E402

MAX_GROUP_LINES = 8  # lines per factor panel before the legend stops being readable
MAX_CURVE_HUES = 10  # cases per curve plot coloured individually; above, coloured by family
MAX_BARS = 80
MAX_STEP_POINTS = 150  # per curve; keeps the page small when every case logs every step


@dataclass
class Plot:
    key: str
    title: str
    svg: str | None = None
    note: str | None = None  # why it was skipped, or what was left out
    caption: str = ""


# ---------------------------------------------------------------- rendering helpers


def _rc(key: str) -> dict:
    rc = {**sns.axes_style("whitegrid"), **sns.plotting_context("notebook", font_scale=0.85)}
    rc.update({
        "svg.fonttype": "none",  # real <text>: small files, searchable labels
        "svg.hashsalt": key,  # stable ids, distinct per figure on the same page
        "text.parse_math": False,  # a '$' in a case name must not start mathtext
        "axes.titleweight": "bold",
        "figure.dpi": 100,
        # matplotlib ships DejaVu Sans, so text measures the same on every machine.
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans"],
    })
    return rc


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", dpi=150)  # dpi: rasterized parts
    text = buf.getvalue()
    start = text.find("<svg")
    # Inline SVG in HTML takes no XML prolog or doctype; CSS scales it to the column width.
    return text[start:] if start >= 0 else text


def _finish(fig: Figure, legend_ax=None, **legend) -> str:
    """The figure as SVG, with ``legend_ax``'s legend (if any) moved outside on the right."""
    if legend_ax is not None and legend_ax.get_legend():
        sns.move_legend(legend_ax, "upper left", bbox_to_anchor=(1.02, 1), fontsize=7,
                        frameon=False, **legend)
    fig.tight_layout()
    return _svg(fig)


def family_palette(families) -> dict:
    fams = sorted({str(f) for f in families}, key=lambda f: (f == "grid", natural_key(f)))
    colors = sns.color_palette("tab10", max(len(fams), 1))
    return {f: colors[i % len(colors)] for i, f in enumerate(fams)}


def _time_axis(summary: pd.DataFrame, what: str = "Epoch time") -> str:
    label = timer_label(summary["timer"]) if len(summary) else None
    return f"{what} (s, {label or 'mixed timers'})"


def _ok(summary: pd.DataFrame) -> pd.DataFrame:
    return summary[summary["status"].astype(str).str.startswith("ok")]


class _PlainLogFormatter(LogFormatter):
    """LogFormatter's choice of which ticks to label, with plain numbers: 0.6, 20, 1e+06."""

    def _num_to_string(self, x, vmin, vmax):
        return f"{x:.3g}"


def _log(ax, axis: str = "x") -> None:
    """Log scale with plain-text tick labels.

    The default log formatter writes mathtext ("$10^{0}$"), which needs text.parse_math; that
    stays off so a '$' in a case name is shown as is.
    """
    a = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    a.set_major_formatter(_PlainLogFormatter(base=10))
    a.set_minor_formatter(_PlainLogFormatter(base=10, labelOnlyBase=False))


def _log_if_wide(ax, values, axis: str = "x") -> None:
    v = finite(values)
    v = v[v > 0]
    if len(v) >= 2 and v.max() / v.min() > 20:
        _log(ax, axis)


# ---------------------------------------------------------------- the plots


def plot_pareto(summary: pd.DataFrame) -> Plot:
    p = Plot("pareto", "Accuracy vs training time",
             caption="One point per case: total of the timed epochs (mean over repeats) against "
                     "mean test accuracy. The line joins the Pareto frontier — no other case is "
                     "both faster and more accurate — and its members are labelled.")
    ok = _ok(summary).copy()
    ok = ok[np.isfinite(pd.to_numeric(ok["train_time_s"], errors="coerce"))
            & np.isfinite(pd.to_numeric(ok["test_acc_mean"], errors="coerce"))]
    if ok.empty:
        p.note = "Skipped: no case finished with both a training time and a test accuracy."
        return p
    ok["label"] = short_labels(ok)
    ok["acc_pct"] = 100 * ok["test_acc_mean"]
    palette = family_palette(summary["family"])
    with matplotlib.rc_context(_rc(p.key)):
        fig = Figure(figsize=(8.5, 5.2))
        ax = fig.subplots()
        multi = ok["run"].nunique() > 1
        sns.scatterplot(data=ok, x="train_time_s", y="acc_pct", hue="family", palette=palette,
                        style="run" if multi else None, s=60, ax=ax, zorder=3)
        err = 100 * pd.to_numeric(ok["test_acc_ci95"], errors="coerce")
        if np.isfinite(err).any():
            ax.errorbar(ok["train_time_s"], ok["acc_pct"], yerr=err.fillna(0), fmt="none",
                        ecolor="0.6", elinewidth=1, zorder=2)
        for i, (_, g) in enumerate(ok.groupby("run", sort=False)):
            front = pareto_front(g, "train_time_s", "acc_pct")
            ax.plot(front["train_time_s"], front["acc_pct"], drawstyle="steps-post",
                    color="0.25", lw=1.2, ls="--" if i else "-", zorder=1,
                    label="Pareto frontier" if i == 0 else None)
            for j, (_, r) in enumerate(front.iterrows()):
                ax.annotate(r["label"], (r["train_time_s"], r["acc_pct"]),
                            xytext=(6, 6 if j % 2 == 0 else -12), textcoords="offset points",
                            fontsize=8, color="0.15")
        titles = _hover_markers(ax, ok, multi)
        _log_if_wide(ax, ok["train_time_s"])
        ax.set_xlabel(_time_axis(ok, "Training time, all timed epochs"))
        ax.set_ylabel("Test accuracy (%)")
        ax.legend(fontsize=8, loc="best")
        p.svg = _with_titles(_svg(fig), titles)
    if len(ok) == 1:
        p.note = "Only one finished case: the frontier is that single point."
    return p


def _hover_markers(ax, ok: pd.DataFrame, multi_run: bool) -> dict[str, str]:
    """An invisible marker over each point, each its own SVG group; returns the groups' ids with
    the text that identifies the point (``_with_titles`` makes it the browser's hover title)."""
    titles = {}
    for k, (_, r) in enumerate(ok.iterrows()):
        gid = f"pareto-point-{k}"
        # alpha 0 still paints (pointer events reach it); zorder above the visible scatter.
        ax.plot([r["train_time_s"]], [r["acc_pct"]], ls="none", marker="o", ms=9, alpha=0,
                gid=gid, zorder=4)
        run = f" ({r['run']})" if multi_run else ""
        titles[gid] = (f"{r['case']}{run}: {r['acc_pct']:.2f}% test accuracy, "
                       f"{r['train_time_s']:.3g} s training")
    return titles


def _with_titles(svg: str, titles: dict[str, str]) -> str:
    """Give each SVG group ``<g id="GID">`` a ``<title>`` child: its tooltip on hover."""
    for gid, text in titles.items():
        tag = f'<g id="{gid}">'
        svg = svg.replace(tag, f"{tag}\n   <title>{html.escape(text)}</title>", 1)
    return svg


FACTORS = [("depth", "Depth (conv blocks)"), ("kernel_max", "Kernel size"),
           ("stride_max", "Stride")]
GRID_FACTORS = ["depth", "kernel_max", "stride_max", "padding", "pooling", "width"]
# Conditions that must also match for two grid cases to be comparable.
CONDITIONS = ["run", "dataset", "precision", "mode", "device"]


def _factor_groups(grid: pd.DataFrame, factor: str) -> list[tuple[str, pd.DataFrame]]:
    others = [f for f in GRID_FACTORS if f != factor] + CONDITIONS
    keyed = grid.copy()
    for c in others:
        keyed[c] = keyed[c].astype(str)
    groups = []
    for key, g in keyed.groupby(others, sort=False):
        if g[factor].nunique() >= 2:
            parts = dict(zip(others, key, strict=True))
            label = " ".join(_factor_text(f, parts[f]) for f in GRID_FACTORS if f in parts)
            if grid["run"].nunique() > 1:
                label += f" ({parts['run']})"
            groups.append((label, grid.loc[g.index].sort_values(factor)))
    # Most levels first: those lines say the most about the factor.
    groups.sort(key=lambda lg: (-lg[1][factor].nunique(), -len(lg[1])))
    return groups


def _factor_text(f: str, v) -> str:
    prefix = {"depth": "d", "kernel_max": "k", "stride_max": "s", "width": "w"}.get(f, "")
    try:
        v = f"{float(v):g}"
    except ValueError:
        pass
    return f"{prefix}{v}"


FACTORS_CAPTION = ("Grid cases only. Each line holds every other factor (padding, pooling, "
                   "width, the other two of depth/kernel/stride) and the run conditions fixed. "
                   "Time error bars: IQR of epoch times; accuracy error bars: 95% CI over "
                   "repeats (none for a single repeat).")


def plot_factors(summary: pd.DataFrame) -> Plot:
    p = Plot("factors", "Time and accuracy against depth, kernel size and stride (grid)",
             caption=FACTORS_CAPTION)
    grid = _ok(summary)
    grid = grid[grid["family"].astype(str) == "grid"].copy()
    if grid.empty:
        p.note = "Skipped: no finished grid cases in this selection."
        return p
    panels = [(f, label, _factor_groups(grid, f)) for f, label in FACTORS]
    panels = [pn for pn in panels if pn[2]]
    if not panels:
        p.note = ("Skipped: no two finished grid cases differ in only depth, kernel size or "
                  "stride, so no factor can be shown with the others held fixed.")
        return p
    notes = []
    with matplotlib.rc_context(_rc(p.key)):
        fig = Figure(figsize=(4.3 * len(panels), 7.4))
        axes = fig.subplots(2, len(panels), squeeze=False)
        colors = sns.color_palette("tab10", MAX_GROUP_LINES)
        for col, (factor, label, groups) in enumerate(panels):
            shown = groups[:MAX_GROUP_LINES]
            if len(groups) > len(shown):
                notes.append(f"{label}: showing {len(shown)} of {len(groups)} groups.")
            t_ax, a_ax = axes[0][col], axes[1][col]
            for i, (glabel, g) in enumerate(shown):
                x = g[factor].astype(float)
                med = g["epoch_time_median_s"].astype(float)
                lo = (med - g["epoch_time_q1_s"].astype(float)).clip(lower=0).fillna(0)
                hi = (g["epoch_time_q3_s"].astype(float) - med).clip(lower=0).fillna(0)
                t_ax.errorbar(x, med, yerr=[lo, hi], marker="o", ms=4, lw=1.4, capsize=3,
                              color=colors[i], label=glabel)
                acc = 100 * g["test_acc_mean"].astype(float)
                ci = (100 * g["test_acc_ci95"].astype(float)).fillna(0)
                a_ax.errorbar(x, acc, yerr=ci, marker="o", ms=4, lw=1.4, capsize=3,
                              color=colors[i], label=glabel)
            levels = sorted(grid[factor].dropna().astype(float).unique())
            for ax in (t_ax, a_ax):
                ax.set_xticks(levels)
                ax.set_xlabel(label)
            _log(t_ax, "y")
            t_ax.set_ylabel(_time_axis(grid))
            a_ax.set_ylabel("Test accuracy (%)")
            t_ax.set_title(f"vs {label.split(' (')[0].lower()}")
            t_ax.legend(fontsize=7, title="held fixed", title_fontsize=7, loc="best")
        p.svg = _finish(fig)
    missing = [label for f, label in FACTORS if f not in {pn[0] for pn in panels}]
    if missing:
        notes.append("No comparable grid cases for: " + ", ".join(missing) + ".")
    p.note = " ".join(notes) or None
    return p


def _curve_frame(df: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, r in df.iterrows():
        loss = r["val_loss"] if isinstance(r["val_loss"], list) else []
        acc = r["val_accuracy"] if isinstance(r["val_accuracy"], list) else []
        for e in range(max(len(loss), len(acc))):
            rows.append({"label": r["_label"], "family": r["family"], "unit": r["_unit"],
                         "epoch": e + 1,
                         "val_loss": loss[e] if e < len(loss) else None,
                         "val_acc": acc[e] if e < len(acc) else None})
    frame = pd.DataFrame(rows)
    if len(frame):
        frame["val_loss"] = pd.to_numeric(frame["val_loss"], errors="coerce")
        frame["val_acc"] = 100 * pd.to_numeric(frame["val_acc"], errors="coerce")
    return frame


def _with_labels(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["_label"] = short_labels(df)
    df["_unit"] = df["run"].astype(str) + "/" + df["case_id"].astype(str)
    return df


def _hue_args(data: pd.DataFrame, palette: dict) -> dict:
    if data["label"].nunique() <= MAX_CURVE_HUES:
        return {"hue": "label", "palette": "tab10"}
    return {"hue": "family", "palette": palette, "units": "unit", "estimator": None,
            "alpha": 0.55, "lw": 0.9}


def plot_curves(df: pd.DataFrame) -> Plot:
    p = Plot("curves", "Validation loss and accuracy per epoch",
             caption="Mean over repeats per case (each repeat drawn separately when there are "
                     f"more than {MAX_CURVE_HUES} cases, coloured by family). Failed cases are "
                     "included up to where they stopped.")
    data = _curve_frame(_with_labels(df))
    if data.empty or data[["val_loss", "val_acc"]].notna().sum().sum() == 0:
        p.note = "Skipped: no per-epoch validation loss or accuracy recorded."
        return p
    palette = family_palette(df["family"])
    with matplotlib.rc_context(_rc(p.key)):
        fig = Figure(figsize=(11, 4.4))
        ax1, ax2 = fig.subplots(1, 2)
        kw = _hue_args(data, palette)
        few = data["label"].nunique() <= MAX_CURVE_HUES
        for ax, y, ylabel in ((ax1, "val_loss", "Validation loss"),
                              (ax2, "val_acc", "Validation accuracy (%)")):
            d = data[np.isfinite(data[y])]
            if d.empty:
                ax.text(0.5, 0.5, "not recorded", ha="center", transform=ax.transAxes)
                continue
            sns.lineplot(data=d, x="epoch", y=y, marker="o" if few else None, ms=4, errorbar=None,
                     ax=ax, **kw)
            ax.set_ylabel(ylabel)
            ax.set_xlabel("Epoch")
            ax.xaxis.get_major_locator().set_params(integer=True)
        _log(ax1, "y")
        if ax1.get_legend():
            ax1.get_legend().remove()
        p.svg = _finish(fig, ax2, title=None)
    return p


STEPS_CAPTION = ("Step losses as recorded (the runner may average them into fewer points); x is "
                 "the position in training in epochs.")


def plot_steps(df: pd.DataFrame) -> Plot:
    p = Plot("steps", "Training loss per step", caption=STEPS_CAPTION)
    rows = []
    for _, r in _with_labels(df).iterrows():
        steps = finite(r["train_loss_steps"]) if isinstance(r["train_loss_steps"], list) else []
        if len(steps) == 0:
            continue
        n_ep = len(r["epoch_times_s"]) if isinstance(r["epoch_times_s"], list) else None
        n_ep = n_ep or num(r["epochs"]) or 1
        xs = np.arange(1, len(steps) + 1) * (float(n_ep) / len(steps))
        if len(steps) > MAX_STEP_POINTS:  # thin out: hundreds of curves × thousands of points
            keep = np.linspace(0, len(steps) - 1, MAX_STEP_POINTS).round().astype(int)
            xs, steps = xs[keep], steps[keep]
        rows += [{"label": r["_label"], "family": r["family"], "unit": r["_unit"], "x": x,
                  "loss": v} for x, v in zip(xs, steps, strict=True)]
    data = pd.DataFrame(rows)
    if data.empty:
        p.note = "Skipped: no step-level losses (train_loss_steps) recorded."
        return p
    data = data[data["loss"] > 0]
    palette = family_palette(df["family"])
    with matplotlib.rc_context(_rc(p.key)):
        fig = Figure(figsize=(11, 4.0))
        ax = fig.subplots()
        kw = _hue_args(data, palette)
        if "units" in kw:  # hundreds of long lines: raster them (axes and text stay vector)
            kw["rasterized"] = True
        kw.setdefault("units", "unit")
        kw["estimator"] = None
        kw.setdefault("lw", 0.9)
        sns.lineplot(data=data, x="x", y="loss", errorbar=None, ax=ax, **kw)
        _log(ax, "y")
        ax.set_xlabel("Training progress (epochs)")
        ax.set_ylabel("Training loss")
        p.svg = _finish(fig, ax, title=None)
    return p


STUDY_CAPTION = ("Where a recipe scored its evaluation split during training (study 000: the "
                 "test split after every epoch; study 004: every 500 iterations) and kept "
                 "per-step training-batch accuracy (study 003). x is the position in training "
                 "in epochs (step ÷ steps per epoch); the split is named in each label.")


def _progress(steps, per_epoch) -> np.ndarray:
    return np.asarray(steps, dtype=float) / float(per_epoch)


def _study_frames(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(evaluation points, training-batch accuracy points), one row per point."""
    evals, batch = [], []
    for _, r in _with_labels(df).iterrows():
        per_epoch = num(r.get("steps_per_epoch"))
        if not per_epoch:
            continue
        base = {"family": r["family"], "unit": r["_unit"]}
        steps, accs = r.get("eval_steps"), r.get("eval_accuracies")
        if isinstance(steps, list) and isinstance(accs, list) and len(steps) > 1:
            label = f"{r['_label']} ({r.get('eval_split') or '?'})"
            evals += [{**base, "label": label, "x": x, "acc": 100 * a} for x, a in
                      zip(_progress(steps, per_epoch), accs, strict=False) if num(a) is not None]
        acc_steps = r.get("train_accuracy_steps")
        if isinstance(acc_steps, list) and acc_steps:
            n_ep = len(r["epoch_times_s"]) if isinstance(r["epoch_times_s"], list) else 1
            xs = np.arange(1, len(acc_steps) + 1) * (max(n_ep, 1) / len(acc_steps))
            batch += [{**base, "label": r["_label"], "x": x, "acc": 100 * a}
                      for x, a in zip(xs, acc_steps, strict=True) if num(a) is not None]
    return pd.DataFrame(evals), pd.DataFrame(batch)


def plot_study_curves(df: pd.DataFrame) -> Plot:
    p = Plot("study_curves", "Evaluations during training and per-step batch accuracy",
             caption=STUDY_CAPTION)
    evals, batch = _study_frames(df)
    if evals.empty and batch.empty:
        p.note = ("Skipped: no evaluation schedule with more than one point (eval_steps) and no "
                  "per-step training accuracy (train_accuracy_steps) recorded.")
        return p
    palette = family_palette(df["family"])
    with matplotlib.rc_context(_rc(p.key)):
        fig = Figure(figsize=(11, 4.2))
        axes = fig.subplots(1, 2)
        for ax, data, ylabel, marker in ((axes[0], evals, "Evaluation accuracy (%)", "o"),
                                         (axes[1], batch, "Training-batch accuracy (%)", None)):
            if data.empty:
                ax.text(0.5, 0.5, "not recorded", ha="center", transform=ax.transAxes)
                continue
            kw = _hue_args(data, palette)
            kw.setdefault("units", "unit")
            kw["estimator"] = None
            sns.lineplot(data=data, x="x", y="acc", marker=marker, ms=4, errorbar=None, ax=ax,
                         **kw)
            ax.set_xlabel("Training progress (epochs)")
            ax.set_ylabel(ylabel)
        p.svg = _finish(fig, legend_ax=axes[0] if not evals.empty else axes[1], title=None)
    return p


def plot_epoch_bars(summary: pd.DataFrame) -> Plot:
    p = Plot("epoch_bars", "Epoch time per case",
             caption="Median epoch time; whiskers span the interquartile range of the timed "
                     "epochs (all repeats). Coloured by family.")
    d = summary[np.isfinite(pd.to_numeric(summary["epoch_time_median_s"], errors="coerce"))]
    if d.empty:
        p.note = "Skipped: no timed epochs in this selection."
        return p
    d = d.assign(label=short_labels(d)).sort_values("epoch_time_median_s")
    omitted = 0
    if len(d) > MAX_BARS:
        half = MAX_BARS // 2
        omitted = len(d) - MAX_BARS
        p.note = f"{len(d)} cases: showing the {half} fastest and the {half} slowest."
        d = pd.concat([d.head(half), d.tail(half)])
    d = d.assign(label=[lab if str(s) == "ok" else f"{lab} [{s}]"
                        for lab, s in zip(d["label"], d["status"], strict=True)])
    palette = family_palette(summary["family"])
    with matplotlib.rc_context(_rc(p.key)):
        fig = Figure(figsize=(9, 1.2 + 0.26 * len(d)))
        ax = fig.subplots()
        y = np.arange(len(d))
        med = d["epoch_time_median_s"].astype(float).to_numpy()
        lo = np.nan_to_num(med - d["epoch_time_q1_s"].astype(float).to_numpy()).clip(0)
        hi = np.nan_to_num(d["epoch_time_q3_s"].astype(float).to_numpy() - med).clip(0)
        colors = [palette[str(f)] for f in d["family"]]
        ax.barh(y, med, color=colors, height=0.7, xerr=[lo, hi],
                error_kw={"elinewidth": 1, "capsize": 2, "ecolor": "0.3"})
        ax.set_yticks(y, d["label"], fontsize=8)
        ax.set_ylim(len(d) - 0.5, -0.5)  # top to bottom, without the default 5% margins
        if omitted:
            ax.axhline(MAX_BARS // 2 - 0.5, color="0.2", ls="--", lw=1)
            ax.text(0.99, MAX_BARS // 2 - 0.5, f"{omitted} cases omitted", ha="right",
                    va="center", fontsize=8, transform=ax.get_yaxis_transform(),
                    bbox={"facecolor": "white", "edgecolor": "0.6", "pad": 2})
        ax.set_xlabel(_time_axis(d))
        _log_if_wide(ax, med)
        handles = [Patch(color=c, label=f) for f, c in palette.items()]
        ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1),
                  frameon=False)
        ax.grid(axis="y", visible=False)
        p.svg = _finish(fig)
    return p


COST_CAPTION = ("Log–log. The dashed line is a least-squares fit of log time on log cost; "
                "its slope b says time ∝ cost^b. b near 1: time follows the arithmetic; "
                "b near 0: fixed per-step costs (kernel launches, Python, input) dominate. "
                "Crosses mark cases with the GPU busy under 50% of the time.")


def plot_cost(summary: pd.DataFrame) -> Plot:
    p = Plot("cost", "Parameters and FLOPs against epoch time", caption=COST_CAPTION)
    d = _ok(summary).copy()
    d["t"] = pd.to_numeric(d["epoch_time_median_s"], errors="coerce")
    d = d[d["t"] > 0]
    if d.empty:
        p.note = "Skipped: no finished case with a timed epoch."
        return p
    palette = family_palette(summary["family"])
    panels = [("params", "Parameters"), ("mflops_per_image", "Forward MFLOPs per image")]
    notes = []
    with matplotlib.rc_context(_rc(p.key)):
        fig = Figure(figsize=(11, 4.6))
        axes = fig.subplots(1, 2)
        for ax, (col, label) in zip(axes, panels, strict=True):
            x = pd.to_numeric(d[col], errors="coerce")
            sel = d[x > 0].assign(x=x[x > 0])
            if sel.empty:
                ax.text(0.5, 0.5, f"{label}: not recorded", ha="center", transform=ax.transAxes)
                continue
            sns.scatterplot(data=sel, x="x", y="t", hue="family", palette=palette, s=50, ax=ax,
                            legend=ax is axes[-1])
            busy = pd.to_numeric(sel["gpu_busy_fraction"], errors="coerce")
            lb = sel[busy < 0.5]
            if len(lb):
                ax.scatter(lb["x"], lb["t"], marker="x", s=90, color="crimson", lw=1.5,
                           label="GPU busy < 50%", zorder=4)
            _log(ax, "x")
            _log(ax, "y")
            fit = slope_fit(np.log(sel["x"].astype(float)), np.log(sel["t"].astype(float)))
            if fit is not None:
                xs = np.geomspace(sel["x"].min(), sel["x"].max(), 50)
                lx, ly = np.log(sel["x"].astype(float)), np.log(sel["t"].astype(float))
                icpt = ly.mean() - fit.slope * lx.mean()
                ax.plot(xs, np.exp(icpt) * xs ** fit.slope, ls="--", color="0.3", lw=1,
                        label=f"fit: b = {fit.slope:.2f} [{fit.ci_low:.2f}, {fit.ci_high:.2f}]")
                ax.legend(fontsize=7, loc="upper left")
            else:
                notes.append(f"{label}: too few distinct points for a fit.")
            ax.set_xlabel(f"{label} (log)")
            ax.set_ylabel(_time_axis(d))
        p.svg = _finish(fig, axes[-1])
    p.note = " ".join(notes) or None
    return p


def _run_order(df: pd.DataFrame) -> list[str]:
    """Runs by when they started (the nightly history's x axis); given order breaks ties."""
    start = df.groupby("run", sort=False)["started_at"].min() if "started_at" in df else None
    runs = list(dict.fromkeys(df["run"].astype(str)))
    if start is None:
        return runs
    when = {str(r): str(v) if isinstance(v, str) else "" for r, v in start.items()}
    return sorted(runs, key=lambda r: (when.get(r, ""), runs.index(r)))


def plot_history(summary: pd.DataFrame, df: pd.DataFrame) -> Plot:
    """Each case's median epoch time and test accuracy across runs (nights), oldest first."""
    p = Plot("history", "History across runs",
             caption="One line per case, runs in the order they started. A step up in time or "
                     "down in accuracy that persists is a regression; single blips are noise.")
    runs = _run_order(df)
    if len(runs) < 2:
        p.note = "Skipped: one run only (history needs two or more)."
        return p
    d = _ok(summary).copy()
    d["run"] = d["run"].astype(str)
    d["x"] = d["run"].map({r: i for i, r in enumerate(runs)})
    cases = list(dict.fromkeys(d["case"]))
    hue = "case" if len(cases) <= MAX_CURVE_HUES else "family"
    if hue == "family":
        p.note = f"{len(cases)} cases: lines are family medians."
        d = (d.groupby(["family", "x"], as_index=False)
             [["epoch_time_median_s", "test_acc_mean"]].median())
    with matplotlib.rc_context(_rc(p.key)):
        fig = Figure(figsize=(11, 4.2))
        axes = fig.subplots(1, 2)
        for ax, (col, label) in zip(axes, [("epoch_time_median_s", _time_axis(summary)),
                                           ("test_acc_mean", "Test accuracy")], strict=True):
            sns.lineplot(data=d, x="x", y=col, hue=hue, marker="o", ax=ax,
                         legend=ax is axes[-1])
            ax.set_xticks(range(len(runs)), [short_run(r) for r in runs], rotation=30,
                          ha="right", fontsize=7)
            ax.set_xlabel("run")
            ax.set_ylabel(label)
        p.svg = _finish(fig, axes[-1])
    return p


def short_run(run: str, width: int = 22) -> str:
    return run if len(run) <= width else "…" + run[-(width - 1):]


def all_plots(df: pd.DataFrame, summary: pd.DataFrame | None = None) -> list[Plot]:
    """Every figure for the page, in page order; one that fails becomes a note, not a crash."""
    summary = summarize_cases(df) if summary is None else summary
    makers: list[tuple[str, str, Callable[[], Plot]]] = [
        ("pareto", "Accuracy vs training time", lambda: plot_pareto(summary)),
        ("factors", "Time and accuracy against grid factors", lambda: plot_factors(summary)),
        ("curves", "Validation curves", lambda: plot_curves(df)),
        ("steps", "Training loss per step", lambda: plot_steps(df)),
        ("study_curves", "Evaluations during training", lambda: plot_study_curves(df)),
        ("epoch_bars", "Epoch time per case", lambda: plot_epoch_bars(summary)),
        ("cost", "Parameters and FLOPs against epoch time", lambda: plot_cost(summary)),
    ]
    if df["run"].nunique() > 1:
        makers.append(("history", "History across runs", lambda: plot_history(summary, df)))
    out = []
    for key, title, make in makers:
        try:
            out.append(make())
        except Exception as e:  # noqa: BLE001 - a bad record must not take the page down
            warnings.warn(f"plot {key!r} failed: {type(e).__name__}: {e}", stacklevel=2)
            out.append(Plot(key, title, note=f"Could not draw: {type(e).__name__}: {e}"))
    return out


def safe_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "x"
