"""history.html: every night's cases against date, as airspeed velocity (asv) users expect.

One series per case and machine (a night on another GPU model is another series, never joined
to this one), each point carrying its night, date and commit (a link to the commit when the
repository's address is known), a band for the between-night noise, and change points found by
``ruptures`` (PELT), marked on the plots and listed with the commit range they fall in.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd

from .load import NoRunsError, is_missing, load_runs
from .tables import summarize_cases
from .thresholds import ACC_THRESHOLD, TIME_THRESHOLD

TEMPLATES = Path(__file__).parent / "templates"
# Noise: the robust SD of night-to-night differences (1.4826 × MAD, ÷ √2 for a difference of
# two nights). Floors keep a synthetic or very quiet series from flagging every wobble: 1% of
# epoch time (an idle GPU's nights differ by about that) and 0.1 pp of accuracy (one image in
# MNIST's 10,000 is 0.01 pp; seeds move it by more).
TIME_NOISE_FLOOR = 0.01
ACC_NOISE_FLOOR_PP = 0.1
BAND_SIGMAS = 2  # the band is the running median ± 2 noise SDs: about 95% of quiet nights
BAND_WINDOW = 5  # nights in the running median
# PELT's penalty on the noise-scaled series is 2·log(n), the BIC-like choice for a mean shift.
# A level must last three nights (min_size) and is judged by its median: with two, one bad
# night and a normal one (1.5 s, 1.0 s) made a 1.25 s "level" 25% above the rest; with three,
# the blip's median is a normal night. So a regression shows on the third night after it.
MIN_SEGMENT = 3
METRICS = (("time", "Epoch time, median (s)"), ("acc", "Test accuracy (%)"))


@dataclass
class Change:
    case: str
    machine: str
    metric: str  # time | acc
    index: int  # the first night after the change, in the series' order
    night: str
    date: str
    before: float
    after: float
    commit_before: str | None
    commit_after: str | None
    link: str | None  # the commit range on the repository's site, when known

    @property
    def size(self) -> str:
        if self.metric == "time":
            return f"{self.after / self.before:.2f}×"
        return f"{self.after - self.before:+.2f} pp"


# ---------------------------------------------------------------- data


def points(nights: list[tuple[str, list[Path]]]) -> pd.DataFrame:
    """One row per (night, case, machine): date, commit, median epoch time, accuracy in %."""
    rows = []
    for night, files in nights:
        try:
            df = load_runs(files)
        except NoRunsError:
            continue
        summary = summarize_cases(df)
        per_case = df.groupby("case", sort=False)
        for _, s in summary.iterrows():
            g = per_case.get_group(s["case"])
            rows.append({
                "night": night, "case": str(s["case"]), "family": str(s["family"]),
                "machine": _first(g, "device_name") or _first(g, "device") or "?",
                "date": _date(_first(g, "started_at"), night),
                "commit": _first(g, "commit_id"), "status": str(s["status"]),
                "time": _num(s["epoch_time_median_s"]),
                "acc": 100 * _num(s["test_acc_mean"]),
            })
    return pd.DataFrame(rows)


def _first(g: pd.DataFrame, col: str):
    if col not in g:
        return None
    return next((str(v) for v in g[col] if not is_missing(v)), None)


def _num(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _date(started: str | None, night: str) -> pd.Timestamp:
    """When the night ran: its records' start, else the timestamp in its name."""
    if started:
        t = pd.to_datetime(started, utc=True, errors="coerce")
        if not pd.isna(t):
            return t
    m = re.search(r"(\d{8})-(\d{6})", night)
    if m:
        return pd.Timestamp(datetime.strptime("".join(m.groups()), "%Y%m%d%H%M%S"),
                            tz=timezone.utc)
    return pd.NaT


def noise(values: np.ndarray, metric: str) -> float:
    """Between-night noise of one series, in its own units (log time, or pp)."""
    v = values[np.isfinite(values)]
    floor = TIME_NOISE_FLOOR if metric == "time" else ACC_NOISE_FLOOR_PP
    if len(v) < 3:
        return floor
    d = np.diff(v)
    mad = 1.4826 * float(np.median(np.abs(d - np.median(d)))) / math.sqrt(2)
    return max(mad, floor)


def _signal(values: np.ndarray, metric: str) -> np.ndarray:
    return np.log(values) if metric == "time" else values


def change_points(values, metric: str) -> list[int]:
    """Indices where a new level starts (PELT on the noise-scaled series); a level must differ
    from the one before by more than the regression threshold (10% time, 1 pp accuracy)."""
    import ruptures

    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v) & ((v > 0) if metric == "time" else True)
    idx = np.flatnonzero(ok)
    if len(idx) < 2 * MIN_SEGMENT:
        return []
    x = _signal(v[idx], metric)
    x = (x / noise(x, metric)).reshape(-1, 1)
    bkps = ruptures.Pelt(model="l2", min_size=MIN_SEGMENT, jump=1).fit(x) \
        .predict(pen=2 * math.log(len(x)))[:-1]
    out, start = [], 0
    for i, b in enumerate(bkps):
        end = bkps[i + 1] if i + 1 < len(bkps) else len(x)
        before, after = np.median(v[idx][start:b]), np.median(v[idx][b:end])
        big = (abs(after / before - 1) > TIME_THRESHOLD if metric == "time"
               else abs(after - before) > 100 * ACC_THRESHOLD)
        if big:
            out.append(int(idx[b]))
        start = b
    return out


def band(values, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """The running median ± BAND_SIGMAS noise SDs (multiplicative for time)."""
    v = np.asarray(values, dtype=float)
    x = pd.Series(_signal(np.where(v > 0, v, np.nan), metric) if metric == "time" else v)
    centre = x.rolling(BAND_WINDOW, center=True, min_periods=1).median().to_numpy()
    s = BAND_SIGMAS * noise(x.to_numpy(), metric)
    lo, hi = centre - s, centre + s
    if metric == "time":
        return np.exp(lo), np.exp(hi)
    return np.clip(lo, 0, 100), np.clip(hi, 0, 100)


# ---------------------------------------------------------------- links


def repo_url(env=os.environ, cwd: str | os.PathLike | None = None) -> str | None:
    """The repository's web address: the CI's (GitHub Actions sets both variables), else the
    checkout's ``origin`` remote turned into https; None when neither is known."""
    if env.get("GITHUB_SERVER_URL") and env.get("GITHUB_REPOSITORY"):
        return f"{env['GITHUB_SERVER_URL'].rstrip('/')}/{env['GITHUB_REPOSITORY']}"
    try:
        url = subprocess.run(["git", "remote", "get-url", "origin"], capture_output=True,
                             text=True, timeout=10, cwd=cwd).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.match(r"(?:git@|ssh://git@)([^:/]+)[:/](.+?)(?:\.git)?$", url)
    if m:
        return f"https://{m.group(1)}/{m.group(2)}"
    m = re.match(r"(https?://.+?)(?:\.git)?$", url)
    return m.group(1) if m else None


def commit_link(repo: str | None, commit: str | None) -> str | None:
    return f"{repo}/commit/{commit}" if repo and commit else None


def range_link(repo: str | None, a: str | None, b: str | None) -> str | None:
    if not (repo and a and b):
        return None
    return commit_link(repo, b) if a == b else f"{repo}/compare/{a}...{b}"


# ---------------------------------------------------------------- the page


def series(pts: pd.DataFrame) -> list[tuple[tuple[str, str], pd.DataFrame]]:
    """(case, machine) -> its nights in date order; machines are never mixed."""
    if pts.empty:
        return []
    out = []
    for key, g in pts.groupby(["case", "machine"], sort=False):
        out.append(((str(key[0]), str(key[1])), g.sort_values(["date", "night"])
                    .reset_index(drop=True)))
    out.sort(key=lambda kg: (kg[0][0], kg[0][1]))
    return out


def all_changes(pts: pd.DataFrame, repo: str | None = None) -> list[Change]:
    out = []
    for (case, machine), g in series(pts):
        for metric, _ in METRICS:
            for i in change_points(g[metric].to_numpy(dtype=float), metric):
                prev, cur = g.iloc[i - 1], g.iloc[i]
                seg_b = g[metric].iloc[max(0, i - BAND_WINDOW):i]
                seg_a = g[metric].iloc[i:i + BAND_WINDOW]
                out.append(Change(case, machine, metric, i, str(cur["night"]),
                                  _fmt_date(cur["date"]), float(seg_b.median()),
                                  float(seg_a.median()), prev["commit"], cur["commit"],
                                  range_link(repo, prev["commit"], cur["commit"])))
    return out


def _fmt_date(t) -> str:
    return "?" if t is None or pd.isna(t) else pd.Timestamp(t).strftime("%Y-%m-%d %H:%M")


def build_history(nights: list[tuple[str, list[Path]]], out: str | Path, *,
                  repo: str | None = None, title: str | None = None) -> Path:
    """Write history.html over ``nights`` ((name, files) oldest first); return its path.
    Raises NoRunsError when no night loads."""
    from .history_plots import series_plot

    pts = points(nights)
    if pts.empty:
        raise NoRunsError("no night of the history has loadable results")
    changes = all_changes(pts, repo)
    figures = []
    for (case, machine), g in series(pts):
        mine = [c for c in changes if c.case == case and c.machine == machine]
        figures.append({"case": case, "machine": machine, "family": g["family"].iloc[0],
                        "n": len(g), "svg": series_plot(g, mine, repo, f"{case}-{machine}"),
                        "changes": mine})
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    machines = sorted(set(pts["machine"]))
    # Every night, failed ones included: a night whose cases all failed has no point to plot
    # but must still be seen in the history.
    night_rows = [{"night": n, "date": _fmt_date(g["date"].min()), "commit": _first(g, "commit"),
                   "link": commit_link(repo, _first(g, "commit")),
                   "machines": ", ".join(sorted(set(g["machine"]))), "cases": len(g),
                   "ok": int(g["status"].str.startswith("ok").sum())}
                  for n, g in pts.groupby("night", sort=False)]
    page = env.get_template("history.html.j2").render(
        title=title or f"cnnbench nightly history ({pts['night'].nunique()} nights)",
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        n_nights=pts["night"].nunique(), machines=machines, figures=figures, changes=changes,
        nights=sorted(night_rows, key=lambda r: (r["date"], r["night"]), reverse=True),
        repo=repo, first=_fmt_date(pts["date"].min()), last=_fmt_date(pts["date"].max()),
        families=sorted(set(pts["family"])), band_sigmas=BAND_SIGMAS, band_window=BAND_WINDOW,
        css=(TEMPLATES / "report.css").read_text(encoding="utf-8"))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
