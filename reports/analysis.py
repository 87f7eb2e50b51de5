"""One analysis of a selection of runs, built once: what tables, plots and the page render.

``analyse(df)`` loads nothing and renders nothing: it summarises the runs, groups them into cells,
computes every contrast, corrects each family, tests the claims, writes the findings and the
run-vs-run comparisons, once. The page (reports/html.py), findings.json and the CLI read the
``Analysis`` it returns; nothing downstream recomputes a summary, a cell or a contrast.

What a forest plot needs is ``Analysis.forest()``: one dict per contrast with

* ``family``: "time" | "accuracy" (each Holm-corrected on its own) — the claims family is in
  ``claims``;
* ``label``: e.g. "Kernel size k5 → k7" (trends: "Depth d1 → d3, per step");
* ``estimate``: a time ratio (1 = no change) or an accuracy difference in pp;
* ``low``/``high``: the corrected interval on the same scale (None without one: one run, or
  fewer than 3 seeds), at level ``level`` (two-sided; Holm's, see ``stats.corrected_level``);
* ``margin``: the practical margin, relative for time (0.03: ±3%), in pp for accuracy;
* ``verdict``: slower | faster | higher | lower | within margin | not resolved | one run each |
  too few seeds | not called: A/A control failed;
* ``unit``: "ratio" | "pp";
* ``method``: how an accuracy interval counted the test set — ``contrasts.PAIRED_IMAGES`` (the
  nets paired on the same test images, from the records' per-image correctness) or
  ``contrasts.BINOMIAL_BOUND`` (older records: the unpaired binomial bound); "" for time.

The interval clears the margin exactly when the verdict is called.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from . import contrasts as C
from .claims import ClaimResult, all_claims
from .thresholds import ACC_MARGIN, ACC_THRESHOLD, TIME_MARGIN, TIME_THRESHOLD


@dataclass
class Analysis:
    df: pd.DataFrame  # every row (run × case × repeat), as loaded
    summary: pd.DataFrame  # one row per (run, case): tables.summarize_cases
    cells: list[C.Cell]  # grid cells (case × conditions) with their runs
    contrasts: list[C.Contrast]  # steps and trends, corrected within their family
    controls: list[C.Control]  # the A/A control of each run that had one
    claims: list[ClaimResult]
    findings: list = field(default_factory=list)  # findings.Finding, in page order
    comparisons: list[dict] = field(default_factory=list)  # run vs the first run

    def forest(self) -> list[dict]:
        """One row per step contrast and trend (see the module docstring)."""
        rows = []
        for c in self.contrasts:
            time = c.metric == "time"
            scale = math.exp if time else (lambda v: 100 * v)
            name = C.FACTOR_NAMES.get(c.factor, c.factor)
            rows.append({
                "family": c.metric,
                "label": f"{name} {c.a} → {c.b}" + (", per step" if c.kind == "trend" else ""),
                "estimate": scale(c.diff.estimate),
                "low": None if c.low is None else scale(c.low),
                "high": None if c.high is None else scale(c.high),
                "level": c.level,
                "margin": TIME_MARGIN if time else 100 * ACC_MARGIN,
                "verdict": c.verdict, "unit": "ratio" if time else "pp", "method": c.method})
        return rows

    def by_family(self, family: str) -> list[C.Contrast]:
        return [c for c in self.contrasts if c.metric == family]


def grid_contrasts(cs: list[C.Cell]) -> list[C.Contrast]:
    """Every step contrast and every ordinal factor's trend, per metric, uncorrected."""
    out = [c for f in C.FACTORS for c in C.factor_contrasts(cs, f)]
    for f in C.ORDINAL:
        for metric in ("time", "accuracy"):
            t = C.trend(cs, f, metric)
            if t is not None:
                out.append(t)
    return out


def correct_families(contrasts: list[C.Contrast], controls: list[C.Control]) -> None:
    """Holm within the time family and within the accuracy family; a run whose A/A control
    failed gets no time verdict."""
    blocked = {ctl.conditions[0] for ctl in controls if ctl.failed and ctl.conditions}
    for metric in ("time", "accuracy"):
        fam = [c for c in contrasts if c.metric == metric]
        C.correct(fam)
        for c in fam:
            if metric == "time" and c.conclusive and c.conditions and c.conditions[0] in blocked:
                c.verdict = C.CONTROL_FAILED


def analyse(df: pd.DataFrame, *, summary: pd.DataFrame | None = None,
            comparisons: list[dict] | None = None, threshold: float = TIME_THRESHOLD,
            acc_threshold: float = ACC_THRESHOLD) -> Analysis:
    """The whole analysis of ``df`` (rows as ``load.load_runs`` gives them), once."""
    from . import findings as F
    from .tables import summarize_cases

    summary = summarize_cases(df) if summary is None else summary
    ok = df[df["status"].astype(str) == "ok"]
    grid = C.cells(ok)
    # The control may be any case (a grid point or a seed net): look for copies everywhere.
    controls = C.controls([c for c in C.cells(ok, family=None) if c.controls])
    contrasts = grid_contrasts(grid)
    correct_families(contrasts, controls)
    claims = all_claims(df)
    a = Analysis(df, summary, grid, contrasts, controls, claims)
    out: list = []
    out += F.failures(df)
    out += [F.claim_finding(c) for c in claims]
    if grid:
        out += F.noise_findings(grid, controls)
        if not controls:
            out.append(F.no_control_finding())
        out += F.effect_findings(contrasts)
    else:
        out.append(F.Finding("grid_missing", "note", "No finished grid cases: factor effects "
                             "(depth, kernel, stride, padding, pooling, width) were not "
                             "estimated."))
    out += F.pareto(summary)
    out += F.flops_scaling(df)
    out += F.launch_bound(summary)
    out += F.settings(df)
    a.findings = out
    if comparisons is None and df["run"].nunique() > 1:
        comparisons = run_comparisons(df, threshold, acc_threshold)
    a.comparisons = comparisons or []
    return a


def run_comparisons(df: pd.DataFrame, threshold: float, acc_threshold: float) -> list[dict]:
    """Each later run against the first, as the page's comparison sections."""
    from . import compare as cmp_mod
    from .plots import safe_id

    runs = list(dict.fromkeys(df["run"]))
    base = df[df["run"] == runs[0]]
    out = []
    for run in runs[1:]:
        new = df[df["run"] == run]
        c = cmp_mod.compare_frames(base, new, threshold, acc_threshold)
        out.append({"base": runs[0], "new": run, "table": cmp_mod.comparison_table(
                        c, f"compare-{safe_id(str(run))}"),
                    "summary": cmp_mod.summary_line(c), "caveats": cmp_mod.caveats(base, new),
                    "regressed": cmp_mod.exit_code(c) == 1})
    return out
