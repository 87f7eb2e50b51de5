"""The report's figures, rendered to inline SVG strings.

Figures are built with matplotlib's object API (``Figure``, no pyplot state) so that drawing a
report never touches a GUI backend or another caller's figures; seaborn draws into given axes.
Each plot function returns a Plot; one that lacks the data it needs returns a Plot with
``svg=None`` and a note saying why instead of raising.
"""

from __future__ import annotations

import html
import io
import math
import re
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import matplotlib

if "matplotlib.pyplot" not in sys.modules:
    # Headless: seaborn imports pyplot, which would otherwise pick a GUI backend if it found one.
    matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter  # noqa: E402,E501

from .comparable import CONDITIONS  # noqa: E402
from .contrasts import VERDICT_TONE  # noqa: E402
from .load import natural_key, num  # noqa: E402
from .pareto import pareto_front, short_labels  # noqa: E402
from .stats import finite, slope_fit  # noqa: E402
from .tables import summarize_cases, timer_label  # noqa: E402
from .thresholds import LAUNCH_BOUND_BUSY  # noqa: E402

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
    # The drawn figure, for tests that check what the SVG cannot say cheaply (tick labels,
    # overlapping text); the page uses only ``svg``.
    fig: Figure | None = field(default=None, repr=False, compare=False)


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


def compact_number(x: float) -> str:
    """A tick label: 0.05, 2, 300, 20k, 1.5M (no mathtext, no "1e+06")."""
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.3g}{suffix}"
    return f"{x:.3g}"


class LabelledLogLocator(LogLocator):
    """Major ticks on a log axis that always carry a label, whatever the span.

    matplotlib's default labels decades only: an epoch-time axis from 0.4 to 3 s then has one
    labelled tick (1), and nothing above it. Here ticks are 1-2-5 per decade up to 3 decades,
    decades beyond (a 5-inch axis holds about 10 labels), and a plain linear set when fewer than
    two 1-2-5 ticks fall in view (a 1.1-1.8 s axis).
    """

    def tick_values(self, vmin, vmax):
        if vmin > vmax:
            vmin, vmax = vmax, vmin
        if not (vmin > 0 and math.isfinite(vmax)):
            return super().tick_values(vmin, vmax)
        span = math.log10(vmax / vmin)
        self.set_params(subs=(1.0, 2.0, 5.0) if span <= 3 else (1.0,))
        ticks = super().tick_values(vmin, vmax)
        if ((ticks >= vmin) & (ticks <= vmax)).sum() < 2:
            ticks = MaxNLocator(4, steps=[1, 2, 2.5, 5, 10]).tick_values(vmin, vmax)
            ticks = ticks[ticks > 0]
        return ticks


def _log(ax, axis: str = "x") -> None:
    """Log scale whose every major tick is labelled, in plain text.

    The default log formatter writes mathtext ("$10^{0}$"), which needs text.parse_math; that
    stays off so a '$' in a case name is shown as is. Minor ticks stay unlabelled: labelling
    them is what made the parameters axis's labels overlap.
    """
    a = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    a.set_major_locator(LabelledLogLocator(base=10))
    a.set_major_formatter(FuncFormatter(lambda x, _pos: compact_number(x)))
    a.set_minor_formatter(NullFormatter())


def _acc_axis(ax, values, low=None, high=None, axis: str = "y") -> None:
    """An accuracy axis in %, never past [0, 100]: a 95% interval that spills over (few seeds,
    a wide t quantile) is cut at the bound, and the view leaves 3 pp of air around the data."""
    v = finite(pd.concat([pd.Series(values, dtype=float),
                          pd.Series(low if low is not None else [], dtype=float),
                          pd.Series(high if high is not None else [], dtype=float)]))
    if len(v) == 0:
        lo, hi = 0.0, 100.0
    else:
        lo, hi = max(0.0, float(v.min()) - 3), min(100.0, float(v.max()) + 3)
    (ax.set_ylim if axis == "y" else ax.set_xlim)(lo, hi)


def _acc_bounds(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean test accuracy and its interval's bounds, in %: the summary's test_acc_low/high
    (already within [0, 100] %); no interval (fewer than 3 seeds) is the mean itself."""
    acc = 100 * pd.to_numeric(rows["test_acc_mean"], errors="coerce").to_numpy(dtype=float)
    low = 100 * pd.to_numeric(rows["test_acc_low"], errors="coerce").to_numpy(dtype=float)
    high = 100 * pd.to_numeric(rows["test_acc_high"], errors="coerce").to_numpy(dtype=float)
    return acc, np.where(np.isnan(low), acc, low), np.where(np.isnan(high), acc, high)


def _acc_err(rows: pd.DataFrame) -> list[np.ndarray]:
    """Error bars (below, above) in % from the interval's own bounds, not a ± half-width."""
    acc, low, high = _acc_bounds(rows)
    return [np.nan_to_num(acc - low).clip(0), np.nan_to_num(high - acc).clip(0)]


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
                     "both faster and more accurate — and its members are labelled where a "
                     "label fits without covering another (hover any point for its name).")
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
        # 6.6 in: half of the first screen at 1400 px, so the forest plot fits beside it.
        fig = Figure(figsize=(6.6, 4.6))
        ax = fig.subplots()
        multi = ok["run"].nunique() > 1
        sns.scatterplot(data=ok, x="train_time_s", y="acc_pct", hue="family", palette=palette,
                        style="run" if multi else None, s=60, ax=ax, zorder=3)
        _, acc_lo, acc_hi = _acc_bounds(ok)
        if (acc_hi > acc_lo).any():
            ax.errorbar(ok["train_time_s"], ok["acc_pct"], fmt="none", yerr=_acc_err(ok),
                        ecolor="0.6", elinewidth=1, zorder=2)
        to_label = []
        for i, (_, g) in enumerate(ok.groupby("run", sort=False)):
            front = pareto_front(g, "train_time_s", "acc_pct")
            ax.plot(front["train_time_s"], front["acc_pct"], drawstyle="steps-post",
                    color="0.25", lw=1.2, ls="--" if i else "-", zorder=1,
                    label="Pareto frontier" if i == 0 else None)
            to_label += [(r["label"], r["train_time_s"], r["acc_pct"])
                         for _, r in front.iterrows()]
        titles = _hover_markers(ax, ok, multi)
        _log_if_wide(ax, ok["train_time_s"])
        ax.set_xlabel(_time_axis(ok, "Training time, all timed epochs"))
        ax.set_ylabel("Test accuracy (%)")
        _acc_axis(ax, ok["acc_pct"], acc_lo, acc_hi)
        ax.legend(fontsize=8, loc="best")
        fig.tight_layout()
        # After the layout: label boxes are measured where the axes finally are.
        left_out = _place_labels(ax, to_label)
        p.svg, p.fig = _with_titles(_svg(fig), titles), fig
    notes = []
    if len(ok) == 1:
        notes.append("Only one finished case: the frontier is that single point.")
    if left_out:
        notes.append(f"{left_out} of {len(to_label)} frontier labels left out: no room beside "
                     "their points without covering another label; hover a point for its name.")
    p.note = " ".join(notes) or None
    return p


# Where a frontier label may go, in points from its point, nearest first: the four corners,
# then 12 pt further up or down per ring (one 8 pt line plus a gap), six rings (~1 inch). On
# two runs' 16 crowded frontier points (tests/test_plots.py) three rings left 4 labels out,
# six left 1. Beyond the first ring a thin leader line joins label and point.
LABEL_GAP_PT, LABEL_STEP_PT, LABEL_RINGS = 4, 12, 6
LABEL_SPOTS = [(sx * LABEL_GAP_PT, sy * (LABEL_GAP_PT + k * LABEL_STEP_PT), k)
               for k in range(LABEL_RINGS + 1) for sx, sy in ((1, 1), (1, -1), (-1, 1), (-1, -1))]


def _place_labels(ax, points: list[tuple[str, float, float]]) -> int:
    """Annotate each (text, x, y) at the first of LABEL_SPOTS where its box lies inside the
    figure and overlaps no label placed before it; a label with no such spot is left out (its
    point keeps its hover title). Returns how many were left out.

    Two runs share the plot with their labels ("arch (run)", ~30 characters): the old fixed
    offsets (6, ±6 pt) put them on top of each other whenever two frontier points were closer
    than a label is long."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = ax.figure
    renderer = FigureCanvasAgg(fig).get_renderer()  # the figure's dpi: as the SVG, scaled
    frame = fig.bbox
    placed, left_out = [], 0
    for text, x, y in points:
        for dx, dy, ring in LABEL_SPOTS:
            a = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points",
                            ha="left" if dx > 0 else "right",
                            va="bottom" if dy > 0 else "top", fontsize=8, color="0.15",
                            arrowprops={"arrowstyle": "-", "color": "0.6", "lw": 0.6}
                            if ring else None)
            # The text's own box (Text's method): an Annotation's would add its leader line,
            # and a line 40 pt long would claim the whole column between label and point.
            a.update_positions(renderer)  # what Annotation's own method does first
            box = Text.get_window_extent(a, renderer).padded(1)  # 1 px apart, not touching
            inside = (frame.x0 <= box.x0 and box.x1 <= frame.x1
                      and frame.y0 <= box.y0 and box.y1 <= frame.y1)
            if inside and not any(box.overlaps(b) for b in placed):
                placed.append(box)
                break
            a.remove()
        else:
            left_out += 1
    return left_out


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


@dataclass
class ForestRow:
    """One contrast for the forest plot: plain numbers, whoever computed them.

    ``unit`` "ratio": estimate and interval are time ratios (1 = no change) and ``margin`` is
    relative (0.10: ±10% is practically nothing); "pp": accuracy differences in percentage
    points, ``margin`` in pp. ``low``/``high`` are the corrected interval, None when there is
    none (one seed, one epoch)."""

    family: str
    label: str
    estimate: float
    low: float | None
    high: float | None
    margin: float
    verdict: str
    unit: str  # ratio | pp


# A verdict's colour by its tone (contrasts.VERDICT_TONE); neutral verdicts are grey.
TONE_COLOURS = {"bad": "#b42318", "good": "#1a7f37"}
FOREST_CAPTION = ("Every contrast of the run: a point is the estimate, the bar its corrected 95% "
                  "interval, the shaded band the practical margin (a change inside it is too "
                  "small to matter). Time as a ratio of epoch times on a log axis (right of 1: "
                  "slower); accuracy as a difference in percentage points (right of 0: more "
                  "accurate). Colour: the verdict.")


def verdict_colour(verdict: str) -> str:
    return TONE_COLOURS.get(VERDICT_TONE.get(verdict), "0.45")


def plot_forest(rows: list[ForestRow]) -> Plot:
    """One forest plot of every contrast: a time-ratio panel and an accuracy-pp panel, stacked
    (so it stays one column wide: 5 in, readable on a phone without scrolling)."""
    p = Plot("forest", "Every contrast at a glance", caption=FOREST_CAPTION)
    panels = [(u, [r for r in rows if r.unit == u]) for u in ("ratio", "pp")]
    panels = [(u, rs) for u, rs in panels if rs]
    if not panels:
        p.note = "Skipped: no contrasts (no two finished cases differ in one factor alone)."
        return p
    heights = [len(rs) + 1.5 for _, rs in panels]
    with matplotlib.rc_context(_rc(p.key)):
        fig = Figure(figsize=(5.0, 0.9 + 0.27 * sum(heights)))
        axes = fig.subplots(len(panels), 1, squeeze=False,
                            gridspec_kw={"height_ratios": heights})[:, 0]
        for ax, (unit, rs) in zip(axes, panels, strict=True):
            _forest_panel(ax, unit, rs)
        fig.tight_layout()
        p.svg, p.fig = _svg(fig), fig
    return p


def _forest_panel(ax, unit: str, rows: list[ForestRow]) -> None:
    ref = 1.0 if unit == "ratio" else 0.0
    margin = max((r.margin for r in rows), default=0.0)
    if unit == "ratio":
        ax.axvspan(1 / (1 + margin), 1 + margin, color="0.88", zorder=0)
    else:
        ax.axvspan(-margin, margin, color="0.88", zorder=0)
    ax.axvline(ref, color="0.35", lw=0.8, zorder=1)
    y = np.arange(len(rows))
    values = []
    for i, r in enumerate(rows):
        colour = verdict_colour(r.verdict)
        if r.low is not None and r.high is not None:
            ax.plot([r.low, r.high], [i, i], color=colour, lw=2, solid_capstyle="butt", zorder=2)
            values += [r.low, r.high]
        ax.plot([r.estimate], [i], "o", color=colour, ms=5, zorder=3,
                mfc=colour if r.low is not None else "white")
        values.append(r.estimate)
    labels = [f"{r.family}: {r.label}" for r in rows]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    if unit == "ratio":
        v = [x for x in values if x > 0] + [1 / (1 + margin), 1 + margin]
        ax.set_xlim(min(v) / 1.15, max(v) * 1.15)
        _log(ax, "x")
        ax.set_xlabel("Epoch-time ratio (log; >1 slower)")
    else:
        half = max([abs(x) for x in values] + [margin]) * 1.1
        ax.set_xlim(-half, half)
        ax.set_xlabel("Test-accuracy difference (pp)")


FACTORS = [("depth", "Depth (conv blocks)"), ("kernel_max", "Kernel size"),
           ("stride_max", "Stride")]
GRID_FACTORS = ["depth", "kernel_max", "stride_max", "padding", "pooling", "width"]


def _factor_groups(grid: pd.DataFrame, factor: str) -> list[tuple[str, pd.DataFrame]]:
    # Held fixed besides the other factors: comparable.CONDITIONS, the one definition (loader,
    # recipe, subset size, ...), those the summary has.
    others = [f for f in GRID_FACTORS if f != factor] + [c for c in CONDITIONS
                                                         if c in grid.columns]
    keyed = grid.copy()
    for c in others:
        keyed[c] = keyed[c].astype(str)
    groups = []
    # dropna=False: a condition no record set (limit_train on a full run) is one group.
    for key, g in keyed.groupby(others, sort=False, dropna=False):
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
                   "repeats, within [0, 100] % (none below 3 repeats).")


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
                a_ax.errorbar(x, acc, yerr=_acc_err(g), marker="o", ms=4, lw=1.4,
                              capsize=3, color=colors[i], label=glabel)
            levels = sorted(grid[factor].dropna().astype(float).unique())
            for ax in (t_ax, a_ax):
                ax.set_xticks(levels)
                ax.set_xlabel(label)
            _log(t_ax, "y")
            t_ax.set_ylabel(_time_axis(grid))
            a_ax.set_ylabel("Test accuracy (%)")
            _acc_axis(a_ax, *_acc_bounds(grid))
            t_ax.set_title(f"vs {label.split(' (')[0].lower()}")
            t_ax.legend(fontsize=7, title="held fixed", title_fontsize=7, loc="best")
        p.svg, p.fig = _finish(fig), fig
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
    panels = [(y, label) for y, label in (("val_loss", "Validation loss"),
                                          ("val_acc", "Validation accuracy (%)"))
              if not data.empty and np.isfinite(data[y]).any()]
    if not panels:
        p.note = "Skipped: no per-epoch validation loss or accuracy recorded."
        return p
    palette = family_palette(df["family"])
    with matplotlib.rc_context(_rc(p.key)):
        # A panel per recorded metric only: an empty "not recorded" panel says nothing.
        fig = Figure(figsize=(5.5 * len(panels), 4.4))
        axes = fig.subplots(1, len(panels), squeeze=False)[0]
        kw = _hue_args(data, palette)
        few = data["label"].nunique() <= MAX_CURVE_HUES
        for ax, (y, ylabel) in zip(axes, panels, strict=True):
            d = data[np.isfinite(data[y])]
            sns.lineplot(data=d, x="epoch", y=y, marker="o" if few else None, ms=4, errorbar=None,
                         ax=ax, **kw)
            ax.set_ylabel(ylabel)
            ax.set_xlabel("Epoch")
            ax.xaxis.get_major_locator().set_params(integer=True)
            if y == "val_loss":
                _log(ax, "y")
            else:
                _acc_axis(ax, d[y])
            if ax is not axes[-1] and ax.get_legend():
                ax.get_legend().remove()
        p.svg, p.fig = _finish(fig, axes[-1], title=None), fig
    missing = [label for y, label in (("val_loss", "validation loss"),
                                      ("val_acc", "validation accuracy"))
               if y not in {y for y, _ in panels}]
    if missing:
        p.note = f"Not recorded: {', '.join(missing)}."
    return p


STEPS_CAPTION = ("One panel per family; each case's recorded step losses smoothed by a running "
                 "median over 1/10 of its points (thin lines), the family's median over cases "
                 "thick. x is the position in training in epochs.")
STEP_PANEL_COLS = 3
# A running median over this share of a curve's points: wide enough to flatten batch-to-batch
# noise (a 64-image batch's loss varies by about ±20%), narrow enough to keep the first epoch's
# fast drop.
STEP_SMOOTH_SHARE = 0.1


def _smooth(v: np.ndarray) -> np.ndarray:
    w = max(1, int(round(len(v) * STEP_SMOOTH_SHARE)))
    return pd.Series(v).rolling(w, center=True, min_periods=1).median().to_numpy()


def _step_frame(df: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, r in _with_labels(df).iterrows():
        steps = finite(r["train_loss_steps"]) if isinstance(r["train_loss_steps"], list) else []
        if len(steps) == 0:
            continue
        n_ep = len(r["epoch_times_s"]) if isinstance(r["epoch_times_s"], list) else None
        n_ep = n_ep or num(r["epochs"]) or 1
        xs = np.arange(1, len(steps) + 1) * (float(n_ep) / len(steps))
        steps = _smooth(steps)
        if len(steps) > MAX_STEP_POINTS:  # thin out: hundreds of curves × thousands of points
            keep = np.linspace(0, len(steps) - 1, MAX_STEP_POINTS).round().astype(int)
            xs, steps = xs[keep], steps[keep]
        rows += [{"label": r["_label"], "family": str(r["family"]), "unit": r["_unit"], "x": x,
                  "loss": v} for x, v in zip(xs, steps, strict=True)]
    data = pd.DataFrame(rows)
    return data[data["loss"] > 0] if len(data) else data


def plot_steps(df: pd.DataFrame) -> Plot:
    p = Plot("steps", "Training loss per step, by family", caption=STEPS_CAPTION)
    data = _step_frame(df)
    if data.empty:
        p.note = "Skipped: no step-level losses (train_loss_steps) recorded."
        return p
    palette = family_palette(df["family"])
    fams = [f for f in palette if f in set(data["family"])]
    ncols = min(STEP_PANEL_COLS, len(fams))
    nrows = math.ceil(len(fams) / ncols)
    with matplotlib.rc_context(_rc(p.key)):
        fig = Figure(figsize=(3.8 * ncols, 3.0 * nrows + 0.4))
        axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True).ravel()
        for ax, fam in zip(axes, fams, strict=False):
            d = data[data["family"] == fam]
            for _, g in d.groupby("unit", sort=False):
                ax.plot(g["x"], g["loss"], color=palette[fam], lw=0.7, alpha=0.35,
                        rasterized=d["unit"].nunique() > 20)
            # The family's median curve on a common grid of training progress.
            grid_x = np.linspace(d["x"].min(), d["x"].max(), 60)
            curves = [np.interp(grid_x, g["x"], g["loss"], left=np.nan, right=np.nan)
                      for _, g in d.groupby("unit", sort=False) if len(g) > 1]
            if curves:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
                    med = np.nanmedian(np.vstack(curves), axis=0)
                ax.plot(grid_x, med, color=palette[fam], lw=2.2)
            n = d["unit"].nunique()
            ax.set_title(f"{fam} ({n} training{'s' if n != 1 else ''})", fontsize=9)
            ax.set_xlabel("Training progress (epochs)")
        for ax in axes[len(fams):]:
            ax.remove()  # no empty panels
        _log(axes[0], "y")
        for row in range(nrows):
            axes[row * ncols].set_ylabel("Training loss")
        p.svg, p.fig = _finish(fig), fig
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
    panels = [(data, ylabel, marker) for data, ylabel, marker in
              ((evals, "Evaluation accuracy (%)", "o"), (batch, "Training-batch accuracy (%)",
                                                         None)) if not data.empty]
    palette = family_palette(df["family"])
    with matplotlib.rc_context(_rc(p.key)):
        fig = Figure(figsize=(5.5 * len(panels), 4.2))
        axes = fig.subplots(1, len(panels), squeeze=False)[0]
        for ax, (data, ylabel, marker) in zip(axes, panels, strict=True):
            kw = _hue_args(data, palette)
            kw.setdefault("units", "unit")
            kw["estimator"] = None
            sns.lineplot(data=data, x="x", y="acc", marker=marker, ms=4, errorbar=None, ax=ax,
                         **kw)
            ax.set_xlabel("Training progress (epochs)")
            ax.set_ylabel(ylabel)
            _acc_axis(ax, data["acc"])
        p.svg, p.fig = _finish(fig, legend_ax=axes[0], title=None), fig
    if evals.empty or batch.empty:
        p.note = "Not recorded: " + ("evaluations during training." if evals.empty
                                     else "per-step training-batch accuracy.")
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
        p.svg, p.fig = _finish(fig), fig
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
    notes = [f"{label}: not recorded." for col, label in panels
             if not (pd.to_numeric(d[col], errors="coerce") > 0).any()]
    panels = [(col, label) for col, label in panels
              if (pd.to_numeric(d[col], errors="coerce") > 0).any()]
    if not panels:
        p.note = "Skipped: neither parameters nor FLOPs recorded."
        return p
    with matplotlib.rc_context(_rc(p.key)):
        fig = Figure(figsize=(5.5 * len(panels), 4.6))
        axes = fig.subplots(1, len(panels), squeeze=False)[0]
        for ax, (col, label) in zip(axes, panels, strict=True):
            x = pd.to_numeric(d[col], errors="coerce")
            sel = d[x > 0].assign(x=x[x > 0])
            sns.scatterplot(data=sel, x="x", y="t", hue="family", palette=palette, s=50, ax=ax,
                            legend=ax is axes[-1])
            busy = pd.to_numeric(sel["gpu_busy_fraction"], errors="coerce")
            lb = sel[busy < LAUNCH_BOUND_BUSY]
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
        p.svg, p.fig = _finish(fig, axes[-1]), fig
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
        p.note = (f"{len(cases)} cases: lines are family medians; history.html (cnnbench "
                  "nightly) has one series per case.")
        d = (d.groupby(["family", "x"], as_index=False)
             [["epoch_time_median_s", "test_acc_mean"]].median())
    d["test_acc_pct"] = 100 * pd.to_numeric(d["test_acc_mean"], errors="coerce")
    with matplotlib.rc_context(_rc(p.key)):
        fig = Figure(figsize=(11, 4.2))
        axes = fig.subplots(1, 2)
        for ax, (col, label) in zip(axes, [("epoch_time_median_s", _time_axis(summary)),
                                           ("test_acc_pct", "Test accuracy (%)")],
                                   strict=True):
            sns.lineplot(data=d, x="x", y=col, hue=hue, marker="o", ax=ax,
                         legend=ax is axes[-1])
            ax.set_xticks(range(len(runs)), [short_run(r) for r in runs], rotation=30,
                          ha="right", fontsize=7)
            ax.set_xlabel("run")
            ax.set_ylabel(label)
            if col == "test_acc_pct":
                _acc_axis(ax, d[col])
        p.svg, p.fig = _finish(fig, axes[-1]), fig
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
