"""The self-contained HTML report: one file, CSS/JS/figures/images inline, nothing fetched.

Every string from the data goes through jinja2 with autoescaping on; the only unescaped inserts
are the figures' SVG (written by matplotlib, which escapes its text) and the page's own CSS/JS.
"""

from __future__ import annotations

import base64
import dataclasses
import math
import mimetypes
import os
import urllib.parse
from datetime import datetime, timezone
from pathlib import Path

import jinja2
import pandas as pd

from . import compare as cmp_mod
from . import safe_paths
from .analysis import Analysis, analyse
from .caveats import device_caveats
from .contrasts import VERDICT_TONE
from .findings import write_findings
from .lab4 import lab4_rows
from .load import is_missing
from .plots import ForestRow, all_plots, plot_forest, safe_id
from .tables import (
    case_table,
    conditions,
    layer_table,
    mode_table,
    to_csv_frame,
    top_ops_table,
    write_tables,
)
from .thresholds import ACC_THRESHOLD, TIME_THRESHOLD
from .traces import PERFETTO_HOWTO, breakdowns, hta_busy

TEMPLATES = Path(__file__).parent / "templates"
MAX_IMAGE_BYTES = 5 * 2**20  # a larger "kernels image" is not worth bloating the page with
MAX_ARCH_OPEN = 6
BULKY_COLUMNS = ("train_loss_steps", "layers", "top_ops", "stats_data", "test_correct")
PROFILER_STEP_MARKER = "ProfilerStep"  # bench.profiling.STEP_MARKER (that module needs torch)
# The case table's columns shown at a glance: what a case is, its speed and its accuracy. The
# architecture's details (family, kernels, strides, ...) and the spread sit behind the table's
# "all columns" toggle, so at 1400 px test accuracy is beside epoch time without scrolling
# (reports/tests/test_browser.py measures it).
GLANCE_COLUMNS = ("Run", "Case", "Params", "Epoch time, median (s)", "Images/s", "Test acc (%)",
                  "Time to target (s)", "Peak mem (MiB)", "GPU busy", "Status")
EMPTY = "—"
# The conditions that identify a run at a glance, in the strip above the fold; the full list is
# one click away in a <details> (25 fields filled 1,600 px of a phone's screen before).
STRIP_FIELDS = ("Device", "torch", "CUDA", "Dataset", "Precision", "Mode", "Epochs", "Batch size",
                "Commit")


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters["sortattr"] = _sort_attr
    env.filters["anchor"] = safe_id
    return env


def _sort_attr(v) -> str | None:
    """A data-sort value the page's JS parses: numbers as JS literals, text as is."""
    if v is None:
        return None
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, int | float):
        if math.isnan(v):
            return None
        return "Infinity" if v == math.inf else "-Infinity" if v == -math.inf else repr(float(v))
    return str(v)


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _href(path: Path, page_dir: Path | None) -> str:
    """A link to a local file or folder: relative to the page's folder, so the page still links
    when the results folder is moved or downloaded as a CI artifact; absolute (file://) when the
    page's folder is unknown or on another drive."""
    if page_dir is not None:
        try:
            rel = os.path.relpath(path.resolve(), page_dir.resolve())
        except ValueError:  # another drive (Windows): no relative path exists
            return path.resolve().as_uri()
        return urllib.parse.quote(Path(rel).as_posix()) + ("/" if path.is_dir() else "")
    return path.resolve().as_uri()


def _image(path, page_dir: Path | None = None) -> dict | None:
    """An embeddable image for a path from a record, or why it is not shown."""
    if not isinstance(path, str) or not path:
        return None
    p = Path(path)
    if not p.is_file():
        return {"path": path, "uri": None, "href": None, "note": "file not found"}
    if p.stat().st_size > MAX_IMAGE_BYTES:
        return {"path": path, "uri": None, "href": _href(p, page_dir),
                "note": "too large to embed"}
    mime = mimetypes.guess_type(p.name)[0] or "image/png"
    if not mime.startswith("image/"):
        return {"path": path, "uri": None, "href": _href(p, page_dir),
                "note": f"not an image ({mime})"}
    return {"path": path, "uri": _data_uri(p.read_bytes(), mime), "href": None, "note": None}


def _traces(df: pd.DataFrame, page_dir: Path | None = None) -> dict:
    """Trace folders per training, shown relative to each run's common trace root.

    One ``tensorboard --logdir ROOT`` then opens every trace of the run side by side. Only
    folders inside the run's results folder, found by its layout, are linked or listed
    (reports/safe_paths.py); a record's own ``trace_dir`` is shown as text at most.
    """
    rows, roots = [], []
    for run, g in df.groupby("run", sort=False):
        found = [(r, safe_paths.trace_folder(r)) for _, r in g.iterrows()]
        found = [(r, p) for r, p in found
                 if p is not None or (isinstance(r["trace_dir"], str) and r["trace_dir"])]
        if not found:
            continue
        dirs = [p for _, p in found if p is not None]
        root = (Path(os.path.commonpath(dirs)) if len(dirs) > 1 else dirs[0].parent) \
            if dirs else None
        if root is not None:
            roots.append({"run": run, "path": str(root), "exists": True})
        for r, p in found:
            if p is None:  # named by the record, not in the run's results folder
                rows.append({"run": run, "case_id": r["case_id"], "path": r["trace_dir"],
                             "shown": r["trace_dir"], "uri": None, "exists": False,
                             "files": [], "more": 0})
                continue
            traces = safe_paths.trace_files(p, safe_paths.results_root(r))
            files = [{"name": f.name, "href": _href(f, page_dir)} for f in traces]
            rows.append({"run": run, "case_id": r["case_id"], "path": str(p),
                         "shown": str(p.relative_to(root)), "uri": _href(p, page_dir),
                         "exists": True, "files": files[:5], "more": max(len(files) - 5, 0)})
    return {"rows": rows, "roots": roots}


def _ops(ops):
    """A record's top ops without the profiler's step markers, which records written before
    bench/profiling.py dropped them (its STEP_MARKER) still hold: a marker spans a whole step."""
    if not isinstance(ops, list):
        return ops
    return [op for op in ops if not str(op.get("name", "")).startswith(PROFILER_STEP_MARKER)]


def _top_ops(df: pd.DataFrame) -> list[dict]:
    out = []
    for (run, case), g in df.groupby(["run", "case"], sort=False):
        for _, r in g.iterrows():  # the first repeat that profiled
            t = top_ops_table(_ops(r["top_ops"]))
            if t is not None:
                out.append({"run": run, "case": case, "case_id": r["case_id"], "table": t})
                break
    return out


ARCH_FIELDS = [("Family", "family"), ("Tags", "tags"), ("Depth", "depth"),
               ("Kernels", "kernel_sizes"), ("Strides", "strides"), ("Padding", "padding"),
               ("Pooling", "pooling"), ("Width", "width"), ("Params", "params"),
               ("Forward FLOPs / image", "flops_per_image"),
               ("Training FLOPs / image", "train_flops_per_image"),
               ("Receptive field (px)", "receptive_field"),
               ("Activations / image (bytes)", "activation_bytes_per_image")]


def _fmt_value(v) -> str:
    if is_missing(v):
        return "—"
    if isinstance(v, list):
        return ", ".join(str(i) for i in v) or "—"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int | float) and float(v).is_integer():
        return f"{int(v):,}"
    return str(v)


def _archs(df: pd.DataFrame, page_dir: Path | None = None) -> list[dict]:
    out = []
    for arch, g in df.groupby("arch", sort=False):
        # Prefer a row that has the per-layer table and the images.
        def score(r):
            return sum(not is_missing(r[c]) and r[c] != [] for c in
                       ("layers", "kernels_image", "feature_maps_image"))
        r = max((r for _, r in g.iterrows()), key=score)
        # Found by the layout inside the run's results folder, never at the record's path.
        images = [(label, _image(safe_paths.artifact(r, col), page_dir)) for label, col in
                  (("First-layer kernels", "kernels_image"),
                   ("Feature maps", "feature_maps_image"))]
        desc = r["description"] if "description" in r.index else None
        fields = [(label, _fmt_value(r[col])) for label, col in ARCH_FIELDS]
        reported = r["reported"] if "reported" in r.index else None
        if isinstance(reported, dict) and reported.get("test_accuracy") is not None:
            # The source study's own number, for comparison when this run used its dataset.
            text = (f"{100 * reported['test_accuracy']:.1f}% test accuracy on "
                    f"{reported.get('dataset', '?')}")
            if reported.get("note"):
                text += f" ({reported['note']})"
            fields.append(("Reported by the study", text))
        out.append({"arch": str(arch), "anchor": "arch-" + safe_id(str(arch)),
                    "description": desc if isinstance(desc, str) and desc else None,
                    "fields": fields,
                    "layers": layer_table(r["layers"]),
                    "images": [(label, im) for label, im in images if im is not None],
                    "cases": sorted(set(g["case"].astype(str)))})
    with_images = [a for a in out if any(im["uri"] for _, im in a["images"])]
    for a in out:
        a["open"] = len(out) <= MAX_ARCH_OPEN or (a in with_images
                                                   and len(with_images) <= MAX_ARCH_OPEN)
    return out


def _failed(df: pd.DataFrame) -> list[dict]:
    bad = df[df["status"].astype(str) != "ok"]
    return [{"run": r["run"], "case_id": r["case_id"], "status": r["status"],
             "error": r["error"] if isinstance(r["error"], str) else ""}
            for _, r in bad.iterrows()]


def _drop_empty_columns(t):
    """The table without the columns whose every cell is "—" (a CPU run has no peak GPU memory
    or GPU busy time, a short run may reach no target accuracy), and the names dropped."""
    keep = [i for i in range(len(t.headers))
            if not t.rows or any(row[i].text.strip() not in ("", EMPTY) for row in t.rows)]
    dropped = [h for i, h in enumerate(t.headers) if i not in keep]
    if dropped:
        t.headers = [t.headers[i] for i in keep]
        t.numeric = [t.numeric[i] for i in keep]
        t.rows = [[row[i] for i in keep] for row in t.rows]
        if t.subheaders:
            t.subheaders = [t.subheaders[i] for i in keep]
    return t, dropped


# The Analysis's forest rows carry these fields (and a level the plot does not draw).
_FOREST = tuple(f.name for f in dataclasses.fields(ForestRow))


def effect_verdicts(findings) -> dict[str, dict]:
    """Each step table row's verdict chip, the Analysis's corrected verdict: finding key ->
    {text, cls}."""
    return {f.key: {"text": f.verdict, "cls": VERDICT_TONE.get(f.verdict, "neutral")}
            for f in findings if f.kind == "effect" and f.metric in ("time", "accuracy")}


def _noise_line(findings) -> str | None:
    """The one sentence on timing noise (and the A/A control, where the statistics give one):
    the first noise finding; the statistics side defines the figure once."""
    first = [next((f.statement for f in findings if f.kind == kind), None)
             for kind in ("noise", "control")]
    return " ".join(t for t in first if t) or None


def _strip(conds: list[dict]) -> list[tuple[str, str]]:
    if not conds:
        return []
    items = {label: value for label, value, _ in conds[0]["items"]}
    return [(k, items[k]) for k in STRIP_FIELDS if items.get(k) not in (None, EMPTY)]


def _hta(df: pd.DataFrame) -> dict:
    rows, skipped = breakdowns(df)
    return {"rows": rows, "skipped": skipped}


def render_report(df: pd.DataFrame, *, title: str | None = None, threshold: float = TIME_THRESHOLD,
                  acc_threshold: float = ACC_THRESHOLD, comparisons: list[dict] | None = None,
                  page_dir: str | Path | None = None, analysis: Analysis | None = None) -> str:
    """The page as a string. ``comparisons`` overrides the run-vs-first-run sections;
    ``page_dir``, the folder the page will be written to, makes file links relative to it;
    ``analysis``: the one analysis of ``df`` (built here when not given)."""
    page_dir = Path(page_dir) if page_dir is not None else None
    if analysis is None:
        analysis = analyse(df, comparisons=comparisons, threshold=threshold,
                           acc_threshold=acc_threshold)
    summary = analysis.summary
    runs = [str(r) for r in dict.fromkeys(df["run"])]
    hta = _hta(df)  # once: HTA parses each trace, and the cases table shows its busy share
    table, hidden = _drop_empty_columns(case_table(summary, hta_busy=hta_busy(hta["rows"])))
    findings = analysis.findings
    noise = _noise_line(findings)
    # One noise figure on the page: the glance line; the other noise findings are left out.
    findings = [f for f in findings if f.kind != "noise"]
    plots = all_plots(df, summary)
    pareto = next((p for p in plots if p.key == "pareto"), None)
    conds = conditions(df)
    # Through the inert writer, as write_tables' cases.csv: a run id like "=HYPERLINK(..)"
    # would otherwise be a live formula in the spreadsheet that opens the download.
    csv_cases = to_csv_frame(summary).to_csv(index=False).encode("utf-8")
    # The embedded runs.csv leaves out the bulky per-step/per-layer/per-op lists; --csv-dir
    # writes everything.
    csv_rows = to_csv_frame(df.drop(columns=[c for c in BULKY_COLUMNS if c in df.columns])) \
        .to_csv(index=False).encode("utf-8")
    ctx = {
        "title": title or f"cnnbench report — {', '.join(runs[:3])}"
                          + (f" and {len(runs) - 3} more" if len(runs) > 3 else ""),
        "generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "runs": runs, "n_rows": len(df), "n_cases": len(summary),
        "conditions": conds,
        "strip": _strip(conds),
        "caveats": device_caveats(df),
        "findings": findings,
        "glance": {"forest": plot_forest([ForestRow(**{k: r[k] for k in _FOREST})
                                          for r in analysis.forest()]),
                   "pareto": pareto, "noise": noise,
                   "claims": [f for f in findings if f.kind == "claim"]},
        "hidden_columns": hidden,
        "effect_verdicts": effect_verdicts(findings),
        "lab4": lab4_rows(df),
        "cases": table,
        "cases_detail": [h not in GLANCE_COLUMNS for h in table.headers],
        "modes": mode_table(summary),
        "csv_cases": _data_uri(csv_cases, "text/csv"),
        "csv_rows": _data_uri(csv_rows, "text/csv"),
        "plots": [p for p in plots if p.key != "pareto"],
        "traces": _traces(df, page_dir),
        "hta": hta,
        "perfetto_howto": PERFETTO_HOWTO,
        "top_ops": _top_ops(df),
        "archs": _archs(df, page_dir),
        "failed": _failed(df),
        "comparisons": analysis.comparisons,
        "threshold": threshold, "acc_threshold": acc_threshold,
    }
    ctx["css"] = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    ctx["js"] = (TEMPLATES / "report.js").read_text(encoding="utf-8")
    return _env().get_template("report.html.j2").render(**ctx)


def build_report(df: pd.DataFrame, out: str | Path, *, csv_dir: str | Path | None = None,
                 **kw) -> Path:
    """Write the page, findings.json beside it (and, with csv_dir, cases.csv, cases.md and
    runs.csv); return the page's path."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    analysis = analyse(df, comparisons=kw.get("comparisons"),
                       threshold=kw.get("threshold", TIME_THRESHOLD),
                       acc_threshold=kw.get("acc_threshold", ACC_THRESHOLD))
    out.write_text(render_report(df, page_dir=out.parent, analysis=analysis, **kw),
                   encoding="utf-8")
    write_findings(analysis.findings, out.parent / "findings.json")
    if csv_dir is not None:
        write_tables(df, csv_dir)
    return out


def comparison_sections(base: pd.DataFrame, new: pd.DataFrame, cmp: pd.DataFrame) -> list[dict]:
    """The compare section for ``python -m reports compare --html``."""
    b = ", ".join(str(r) for r in dict.fromkeys(base["run"]))
    n = ", ".join(str(r) for r in dict.fromkeys(new["run"]))
    return [{"base": b, "new": n, "table": cmp_mod.comparison_table(cmp),
             "summary": cmp_mod.summary_line(cmp), "caveats": cmp_mod.caveats(base, new),
             "regressed": cmp_mod.exit_code(cmp) == 1}]


__all__ = ["build_report", "comparison_sections", "render_report"]
