"""One history series (a case on one machine) as a small SVG: epoch time and accuracy by date."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from .history import METRICS, Change, band, commit_link
from .plots import _acc_axis, _rc, _svg, _with_titles, safe_id

COLOUR = "#2f5d9e"
CHANGE_COLOUR = "#b42318"


def series_plot(g: pd.DataFrame, changes: list[Change], repo: str | None, key: str) -> str:
    """Two stacked panels sharing the date axis; each point links to its commit (when the
    repository is known) and has a hover title with its night, date, commit and value; the
    shaded band is the between-night noise; dashed red lines mark change points."""
    key = safe_id(key)
    titles = {}
    with matplotlib.rc_context(_rc(f"history-{key}")):
        # 4.2 × 3.6 in: three across at 1400 px, one (scrolling sideways) on a phone.
        fig = Figure(figsize=(4.2, 3.6))
        axes = fig.subplots(2, 1, sharex=True)
        x = pd.to_datetime(g["date"], utc=True)
        for ax, (metric, label) in zip(axes, METRICS, strict=True):
            y = g[metric].to_numpy(dtype=float)
            lo, hi = band(y, metric)
            ax.fill_between(x, lo, hi, color=COLOUR, alpha=0.12, lw=0, step=None)
            ax.plot(x, y, color=COLOUR, lw=1, zorder=2)
            for i, (_, r) in enumerate(g.iterrows()):
                if not np.isfinite(y[i]):
                    continue
                gid = f"h-{key}-{metric}-{i}"
                (pt,) = ax.plot([x.iloc[i]], [y[i]], "o", ms=4, color=COLOUR, zorder=3, gid=gid)
                url = commit_link(repo, r["commit"])
                if url:
                    pt.set_url(url)
                value = f"{y[i]:.3g} s" if metric == "time" else f"{y[i]:.2f}%"
                titles[gid] = (f"{r['night']} · {pd.Timestamp(r['date']):%Y-%m-%d %H:%M} · "
                               f"commit {str(r['commit'] or '?')[:10]} · {value}")
            for c in changes:
                if c.metric == metric:
                    ax.axvline(x.iloc[c.index], color=CHANGE_COLOUR, ls="--", lw=1.2, zorder=1)
            ax.set_ylabel(label.replace(", median", ""), fontsize=8)
            if metric == "acc":
                _acc_axis(ax, y, lo, hi)
        if x.nunique() == 1:  # one night: give the date axis a day either side
            axes[-1].set_xlim(x.iloc[0] - pd.Timedelta(days=1), x.iloc[0] + pd.Timedelta(days=1))
        loc = AutoDateLocator(maxticks=5)
        axes[-1].xaxis.set_major_locator(loc)
        axes[-1].xaxis.set_major_formatter(ConciseDateFormatter(loc))
        fig.tight_layout()
        return _with_titles(_svg(fig), titles)
