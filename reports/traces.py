"""GPU trace breakdowns by Holistic Trace Analysis (HTA), for the page's traces section.

torch-tb-profiler, TensorBoard's trace plugin, is deprecated upstream; PyTorch points users to
HTA (``pip install holistictraceanalysis``, the ``hta`` extra) for the numbers and to Perfetto
(https://ui.perfetto.dev) for the timeline. HTA's temporal breakdown (idle / compute /
non-compute share of the GPU's time) and kernel breakdown (time per kernel and per kernel type)
are the page's GPU figures wherever a trace has them; the profiler's key averages are the
fallback.

HTA is imported lazily, inside ``analyse``: the reports package stays importable without it and
without torch (HTA itself needs no torch; tests/test_no_torch.py guards the rest). A CPU-only
run has no kernels to break down and is skipped with that reason, without opening its files.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import safe_paths
from .load import is_missing

TRACE_SUFFIXES = (".pt.trace.json.gz", ".pt.trace.json")
TOP_KERNELS = 10  # rows of the kernel table per case; HTA's own default is 10 as well
PERFETTO_URL = "https://ui.perfetto.dev"
PERFETTO_HOWTO = (f"Open {PERFETTO_URL} and drag this file onto the page (or “Open trace file”): "
                  "the trace is read in the browser and never uploaded.")


@dataclass
class Breakdown:
    """What the page shows for one case's trace."""

    run: str
    case: str
    trace_file: str | None
    # idle / compute / non-compute share of the GPU's time (%), and the kernel time (µs)
    temporal: dict | None = None
    kernel_types: list[dict] = field(default_factory=list)  # COMPUTATION, MEMORY, COMMUNICATION
    kernels: list[dict] = field(default_factory=list)  # the longest kernels, by total time
    skipped: str | None = None  # why HTA did not run on this case


def hta_missing() -> str | None:
    """None when HTA can be imported, else the reason (and how to install it)."""
    try:
        import hta.trace_analysis  # noqa: F401
    except ImportError as e:
        return (f"Holistic Trace Analysis is not installed ({e.name}): pip install "
                "'cnnbench[hta]'")
    return None


def trace_files(row) -> list[Path]:
    """The profiler's trace files of one record, sorted by name.

    Found by the results layout (``traces/<run>/<case>/`` inside the run's results folder,
    reports/safe_paths.py), never at the record's own ``trace_dir``: a record is input, and a
    ``trace_dir`` of ``/`` would have HTA's caller walk the whole filesystem. The listing is
    bounded (safe_paths.MAX_TRACE_ENTRIES, MAX_TRACE_DEPTH) and follows no symlink out.
    """
    folder, root = safe_paths.trace_folder(row), safe_paths.results_root(row)
    if folder is None or root is None:
        return []
    # safe_paths also lists plain .json.gz; HTA reads only the profiler's own trace files.
    return [f for f in safe_paths.trace_files(folder, root) if f.name.endswith(TRACE_SUFFIXES)]


def analyse(trace_file: str | os.PathLike) -> tuple[dict, list[dict], list[dict]]:
    """(temporal, kernel types, top kernels) of one Kineto trace, by HTA.

    The trace is given as rank 0 explicitly: a single-GPU trace has no ``distributedInfo`` and
    HTA would otherwise refuse it. Every profiler step counts, the last one included: the bench
    records whole steps (bench/profiling.py's schedule), so none is cut short.
    """
    from hta.trace_analysis import TraceAnalysis

    path = Path(trace_file).resolve()
    # HTA logs each parse at INFO and prints progress; a page build should stay quiet.
    logging.getLogger("hta").setLevel(logging.WARNING)
    # HTA 0.5 uses pandas' deprecated inplace=; its warnings are not the page's to show.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = TraceAnalysis(trace_files={0: str(path)}, trace_dir=str(path.parent),
                                 include_last_profiler_step=True)
        temporal = analysis.get_temporal_breakdown(visualize=False)
        types, kernels = analysis.get_gpu_kernel_breakdown(visualize=False,
                                                           num_kernels=TOP_KERNELS)
    row = temporal.iloc[0]
    t = {"idle_pct": float(row["idle_time_pctg"]), "compute_pct": float(row["compute_time_pctg"]),
         "non_compute_pct": float(row["non_compute_time_pctg"]),
         "kernel_time_us": float(row["kernel_time(us)"]), "idle_us": float(row["idle_time(us)"])}
    type_rows = [{"type": str(r["kernel_type"]).capitalize(), "sum_us": float(r["sum"]),
                  "pct": float(r["percentage"])} for _, r in types.iterrows()]
    total = float(kernels["sum (us)"].sum()) or 1.0
    kernel_rows = [{"name": str(r["name"]), "type": str(r["kernel_type"]).capitalize(),
                    "sum_us": float(r["sum (us)"]), "mean_us": float(r["mean (us)"]),
                    "pct": 100 * float(r["sum (us)"]) / total}
                   for _, r in kernels.sort_values("sum (us)", ascending=False)
                   .head(TOP_KERNELS).iterrows()]
    return t, type_rows, kernel_rows


def _is_gpu(device) -> bool:
    return not is_missing(device) and str(device).startswith("cuda")


def breakdowns(df: pd.DataFrame) -> tuple[list[Breakdown], str | None]:
    """One Breakdown per (run, case) that has a GPU trace, from its first repeat with one; and
    the one reason HTA did not run at all (no GPU run, or HTA not installed), else None."""
    gpu = df[df["device"].map(_is_gpu)] if "device" in df else df.iloc[0:0]
    if gpu.empty:
        return [], ("CPU-only run: Holistic Trace Analysis breaks down GPU kernel time, which a "
                    "CPU trace does not have; the profiler's own operator table is shown "
                    "instead.")
    missing = hta_missing()
    if missing:
        return [], missing
    out = []
    for (run, case), g in gpu.groupby(["run", "case"], sort=False):  # first repeat with a trace
        files = next((fs for fs in (trace_files(r) for _, r in g.iterrows()) if fs), [])
        b = Breakdown(str(run), str(case), str(files[0]) if files else None)
        if not files:
            b.skipped = "no trace file recorded"
        else:
            try:
                b.temporal, b.kernel_types, b.kernels = analyse(files[0])
            except Exception as e:  # noqa: BLE001 - one unreadable trace must not stop the page
                b.skipped = f"HTA could not read the trace: {type(e).__name__}: {e}"
        out.append(b)
    return out, None


def hta_busy(rows: list[Breakdown]) -> dict[tuple[str, str], float]:
    """(run, case) -> the GPU's busy share (0..1) by HTA: 1 minus its idle share, for the cases
    table's "GPU busy" column; cases HTA skipped are left out (the table keeps the profiler's
    own figure for them)."""
    return {(b.run, b.case): 1 - b.temporal["idle_pct"] / 100 for b in rows if b.temporal}
