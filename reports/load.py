"""Read runner output (pytest-benchmark JSON and the runner's JSONL) into one DataFrame.

One row per (run, case, repeat); its columns are the record's fields (``cnnbench.record.FIELDS``,
the schema's one definition), then the derived ones. A case's result is its line of
``results/<run_id>.jsonl``; pytest-benchmark's JSON adds the timing ``stats``, joined on
(run, case_id, repeat) (``_join``). Its ``extra_info`` holds the key and a few headline fields
(``record.BENCHMARK_FIELDS``); older ones held the whole record, which still loads on its own.

Everything read is untrusted: each record is validated field by field (``record.from_json``);
a bad line, entry or file is skipped with one warning naming the file, the line and the field,
and never stops the rest from loading.
"""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd

from cnnbench.record import (
    BENCHMARKS_DIR,
    FIELDS,
    MISSING,
    RecordError,
    from_json,
    jsonl_lines,
    loads,
    natural_key,
    num,
    short_repr,
    to_json,
)

from .stats import epoch_stats, finite


class NoRunsError(ValueError):
    """Nothing loadable was found in the paths given."""


# Fields holding paths: the runner writes them absolute; relative ones are read relative to the
# folder of the file they came from (``_resolve``), never to the working directory.
PATH_FIELDS = ("trace_dir", "kernels_image", "feature_maps_image", "checkpoint")

STATS_KEYS = ("min", "max", "mean", "stddev", "rounds", "median", "iqr", "q1", "q3",
              "iqr_outliers", "stddev_outliers", "outliers", "ld15iqr", "hd15iqr", "ops", "total",
              "iterations", "data")

DERIVED_FIELDS = (
    "run", "case", "source_file", "source_kind", "results_dir", "time_label",
    "epoch_time_median_s", "epoch_time_iqr_s", "epoch_time_mean_s", "epoch_time_std_s",
    "epoch_time_q1_s", "epoch_time_q3_s", "epoch_time_n", "train_time_s",
    "mflops_per_image", "train_mflops_per_image", "kernel_max", "kernel_first", "stride_max",
    "stride_first", "final_val_accuracy", "best_val_accuracy", "final_val_loss",
    "peak_memory_mib", "launch_bound",
)

LEAD_COLUMNS = ("run", "case", "case_id", "repeat", "arch", "family", "status")

TIMER_LABELS = {"cuda_event": "CUDA events", "host": "host timer (CPU)"}

from .thresholds import LAUNCH_BOUND_BUSY  # noqa: E402

SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".hypothesis",
             ".ruff_cache", ".pytest_cache", ".mypy_cache", "site-packages"}

_SAVE_PREFIX = re.compile(r"^\d{4}_")


def is_missing(v) -> bool:
    """None, NaN or pd.NA (lists and dicts are never missing, even when empty)."""
    if v is None or v is pd.NA:
        return True
    return isinstance(v, float) and math.isnan(v)


def load_runs(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> pd.DataFrame:
    """Load runner output files or directories (scanned recursively) into one frame.

    Unreadable or foreign files are skipped with a warning naming them; raises NoRunsError when
    nothing loadable remains.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    paths = list(paths)
    files = list(_expand(paths))
    records: list[dict] = []
    for f in files:
        records.extend(r for r in _read_file(f) if r is not None)
    if not records:
        shown = ", ".join(str(p) for p in paths) or "(no paths)"
        raise NoRunsError(
            f"no cnnbench runs found in {shown}: give pytest-benchmark JSON saved by "
            "`pytest bench/ --benchmark-save=NAME` (.benchmarks/), results/<run_id>.jsonl, or a "
            "directory holding them")
    rows = [_derive(r) for r in _join(records)]
    return _frame(rows)


# ---------------------------------------------------------------- finding and reading files


def input_files(paths) -> Iterator[Path]:
    """The files ``load_runs`` would read for ``paths`` (files, and folders scanned)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # load_runs says what is missing; this only looks
        yield from _expand([paths] if isinstance(paths, str | os.PathLike) else list(paths))


def _expand(paths: list) -> Iterator[Path]:
    seen: set[Path] = set()
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = sorted(_scan(p))
        elif p.is_file():
            found = [p]
        else:
            warnings.warn(f"{p}: no such file or directory, skipped", stacklevel=3)
            continue
        for f in found:
            key = f.resolve()
            if key not in seen:  # the same file named twice, or via a dir and by name
                seen.add(key)
                yield f


def _scan(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        # Environments and caches hold thousands of JSON files that are never runs.
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        for name in filenames:
            # Profiler traces can be uncompressed *.pt.trace.json files of hundreds of MB that
            # are not runs: skip them when scanning (an explicitly named file is still read).
            if name.endswith((".json", ".jsonl")) and not name.endswith(".trace.json"):
                yield Path(dirpath) / name


def _read_file(path: Path) -> list[dict]:
    if path.suffix == ".jsonl":
        return _read_jsonl(path)
    try:
        text = path.read_text(encoding="utf-8")
        doc = loads(text)
    except (OSError, UnicodeDecodeError) as e:
        warnings.warn(f"{path}: unreadable ({e}), skipped", stacklevel=4)
        return []
    except ValueError as e:
        if path.suffix != ".json" and "\n" in text.strip():
            return _read_jsonl(path)
        where = f" at line {e.lineno}" if isinstance(e, json.JSONDecodeError) else ""
        warnings.warn(f"{path}: not valid JSON ({getattr(e, 'msg', e)}{where}), skipped",
                      stacklevel=4)
        return []
    base = results_dir_of(path)
    if isinstance(doc, dict) and isinstance(doc.get("benchmarks"), list):
        return _read_benchmark(path, doc, base)
    if isinstance(doc, dict) and _is_record(doc):
        return [r for r in [_normalize(doc, f"{path}", base, "json", path)] if r]
    if isinstance(doc, list) and doc and all(isinstance(d, dict) and _is_record(d) for d in doc):
        return [r for i, d in enumerate(doc, start=1)
                if (r := _normalize(d, f"{path}: item {i}", base, "json", path))]
    warnings.warn(f"{path}: not pytest-benchmark JSON or a cnnbench record, skipped",
                  stacklevel=4)
    return []


def results_dir_of(path: Path) -> Path:
    """The results folder a file belongs to: a JSONL's own folder; for pytest-benchmark's
    ``<results>/benchmarks/<machine>/NNNN_<run>.json``, the folder above ``benchmarks``."""
    folder = path.parent.resolve()
    if path.suffix == ".json" and folder.parent.name == BENCHMARKS_DIR:
        return folder.parent.parent
    return folder


def _resolve(v, base: Path):
    """A record's path, for display: relative ones (as the runner writes them) are relative to
    the results folder. The report embeds and links files found by the layout only
    (reports/safe_paths.py), never these."""
    if isinstance(v, str) and v and not os.path.isabs(v):
        return os.path.normpath(os.path.join(base, v))
    return v


def _is_record(d: dict) -> bool:
    return isinstance(d, dict) and bool(d.get("case_id") or d.get("arch"))


def _read_jsonl(path: Path) -> list[dict]:
    base = path.parent.resolve()
    out = []
    try:
        for lineno, rec, problem in jsonl_lines(path):
            where = f"{path}:{lineno}"
            if problem:
                warnings.warn(f"{where}: {problem}", stacklevel=5)
            if rec is MISSING:
                continue
            if not isinstance(rec, dict) or not _is_record(rec):
                warnings.warn(f"{where}: not a cnnbench record, line skipped", stacklevel=5)
                continue
            row = _normalize(rec, where, base, "jsonl", path)
            if row is not None:
                out.append(row)
    except OSError as e:
        warnings.warn(f"{path}: unreadable ({e}), skipped", stacklevel=4)
    if not out:
        warnings.warn(f"{path}: no cnnbench records, skipped", stacklevel=4)
    return out


def _text(v) -> str | None:
    return v if isinstance(v, str) else None


def _stats_problem(stats) -> str | None:
    """Why a benchmark entry's ``stats`` are not pytest-benchmark's numbers, or None."""
    if not isinstance(stats, dict):
        return "'stats' is not an object"
    for k, v in stats.items():
        if k == "outliers":  # "1;0": pytest-benchmark's text
            ok = v is None or isinstance(v, str)
        else:
            values = v if k == "data" and isinstance(v, list) else [v]
            ok = all(x is None or (type(x) in (int, float) and num(x) is not None)
                     for x in values)
        if not ok:
            return f"field 'stats.{k}': {short_repr(v)} is not pytest-benchmark's"
    return None


def _read_benchmark(path: Path, doc: dict, base: Path) -> list[dict]:
    machine, commit = doc.get("machine_info"), doc.get("commit_info")
    for name, value in (("machine_info", machine), ("commit_info", commit)):
        if value is not None and not isinstance(value, dict):
            warnings.warn(f"{path}: field {name!r} is not an object, ignored", stacklevel=5)
    machine = machine if isinstance(machine, dict) else {}
    commit = commit if isinstance(commit, dict) else {}
    cpu = machine.get("cpu") if isinstance(machine.get("cpu"), dict) else {}
    out, foreign = [], 0
    for i, b in enumerate(doc["benchmarks"], start=1):
        extra = b.get("extra_info") if isinstance(b, dict) else None
        if not isinstance(extra, dict) or not _is_record(extra):
            foreign += 1
            continue
        where = f"{path}: benchmark {i}"
        stats = b.get("stats", {})
        problem = _stats_problem(stats)
        if problem:
            warnings.warn(f"{where}: {problem}, skipped", stacklevel=5)
            continue
        rec = dict(extra)
        if not rec.get("case_id"):
            rec["case_id"] = _text(b.get("param")) or _text(b.get("name"))
        joined = {f"stats_{k}": v for k, v in stats.items()}
        joined.update({
            "bench_name": _text(b.get("name")), "bench_fullname": _text(b.get("fullname")),
            "bench_group": _text(b.get("group")), "bench_param": _text(b.get("param")),
            "bench_params": b.get("params") if isinstance(b.get("params"), dict) else None,
            "bench_datetime": _text(doc.get("datetime")),
            "bench_version": _text(doc.get("version")),
            "machine_node": _text(machine.get("node")),
            "machine_cpu": _text(cpu.get("brand_raw")),
            "commit_id": _text(commit.get("id")), "commit_branch": _text(commit.get("branch")),
            "commit_dirty": commit.get("dirty") if isinstance(commit.get("dirty"), bool) else None,
        })
        row = _normalize(rec, where, base, "pytest-benchmark", path)
        if row is not None:
            row["_joined"] = joined
            out.append(row)
    if foreign:
        warnings.warn(f"{path}: {foreign} benchmark entr{'y' if foreign == 1 else 'ies'} "
                      "without a cnnbench record in extra_info skipped", stacklevel=5)
    if not out:
        warnings.warn(f"{path}: no cnnbench records, skipped", stacklevel=5)
    return out


def _normalize(raw: dict, where: str, base: Path, kind: str, path: Path) -> dict | None:
    """The record validated and upgraded (every schema field present), plus where it came
    from and its case key; None, with one warning naming the place and the field, for what is
    no record this code can read."""
    try:
        record = from_json(raw)
    except RecordError as e:
        name = raw.get("case_id") or raw.get("arch")
        label = f" {short_repr(name)}:" if isinstance(name, str) else ""
        warnings.warn(f"{where}:{label} {e}, skipped", stacklevel=6)
        return None
    rec = to_json(record)
    rec["case"] = record.case_key
    for field in PATH_FIELDS:
        rec[field] = _resolve(rec.get(field), base)
    rec["trace_files"] = [_resolve(v, base) for v in rec["trace_files"]]
    rec["source_file"] = str(path)
    rec["source_kind"] = kind
    rec["results_dir"] = str(base)
    rec["run"] = rec.get("run_id") or _SAVE_PREFIX.sub("", path.stem)
    return rec


# ---------------------------------------------------------------- derived columns


def _derive(rec: dict) -> dict:
    e = epoch_stats(epoch_times(rec))  # the one definition (reports/stats.py)
    if e.n:
        rec.update(epoch_time_median_s=e.median, epoch_time_iqr_s=e.iqr,
                   epoch_time_q1_s=e.q1, epoch_time_q3_s=e.q3, epoch_time_mean_s=e.mean,
                   epoch_time_std_s=e.std, epoch_time_n=e.n, train_time_s=e.total)
    else:  # pytest-benchmark stats are over the same timed epochs
        rec.update(epoch_time_median_s=num(rec.get("stats_median")),
                   epoch_time_iqr_s=num(rec.get("stats_iqr")),
                   epoch_time_q1_s=num(rec.get("stats_q1")),
                   epoch_time_q3_s=num(rec.get("stats_q3")),
                   epoch_time_mean_s=num(rec.get("stats_mean")),
                   epoch_time_std_s=num(rec.get("stats_stddev")),
                   epoch_time_n=num(rec.get("stats_rounds")) or 0,
                   train_time_s=num(rec.get("stats_total")))

    rec["mflops_per_image"] = _scaled(rec.get("flops_per_image"), 1e-6)
    rec["train_mflops_per_image"] = _scaled(rec.get("train_flops_per_image"), 1e-6)
    rec["peak_memory_mib"] = _scaled(rec.get("peak_memory_bytes"), 1 / 2**20)
    kernels = [int(k) for k in finite(_list(rec.get("kernel_sizes")))]
    strides = [int(s) for s in finite(_list(rec.get("strides")))]
    rec["kernel_max"] = max(kernels) if kernels else None
    rec["kernel_first"] = kernels[0] if kernels else None
    rec["stride_max"] = max(strides) if strides else None
    rec["stride_first"] = strides[0] if strides else None
    acc = finite(_list(rec.get("val_accuracy")))
    rec["final_val_accuracy"] = float(acc[-1]) if len(acc) else None
    rec["best_val_accuracy"] = float(acc.max()) if len(acc) else None
    loss = finite(_list(rec.get("val_loss")))
    rec["final_val_loss"] = float(loss[-1]) if len(loss) else None
    timer = rec.get("timer")
    rec["time_label"] = TIMER_LABELS.get(timer, timer or "unknown timer")
    busy = num(rec.get("gpu_busy_fraction"))
    rec["launch_bound"] = None if busy is None else bool(busy < LAUNCH_BOUND_BUSY)
    return rec


def epoch_times(row) -> list[float]:
    """A row's timed epochs: ``epoch_times_s``, else pytest-benchmark's ``stats_data``."""
    for key in ("epoch_times_s", "stats_data"):
        t = finite(_list(_get(row, key)))
        if len(t):
            return [float(v) for v in t]
    return []


def _get(row, key):
    try:
        return row[key]
    except (KeyError, IndexError):
        return None


def _list(v) -> list:
    return list(v) if isinstance(v, list | tuple) else []


def _scaled(v, factor: float) -> float | None:
    f = num(v)
    return None if f is None else f * factor


# ---------------------------------------------------------------- joining the two files


def _join(records: list[dict]) -> list[dict]:
    """One row per (run, case_id, repeat). The JSONL line is the case's result: a
    pytest-benchmark entry with the same key adds its timing ``stats`` (and where it ran) and
    nothing else. A benchmark entry with no JSONL line (the JSONL was not given, or an old
    JSON whose ``extra_info`` held the whole record) stands as the record. Two records of one
    key from the same kind of file are two measurements (a reused run id, before reuse was
    refused): the newest wins whole, never mixed."""
    lines: dict[tuple, dict] = {}
    benches: dict[tuple, dict] = {}
    for rec in records:
        key = (rec["run"], rec["case_id"], rec["repeat"])
        held = lines if rec["source_kind"] != "pytest-benchmark" else benches
        if key not in held or _measured_at(rec) >= _measured_at(held[key]):
            held[key] = rec
    rows = []
    for key in dict.fromkeys((r["run"], r["case_id"], r["repeat"]) for r in records):
        row, bench = lines.get(key), benches.get(key)
        if row is None:
            row, bench = bench, None
        joined = dict(row.pop("_joined", None) or {})
        files = [row["source_file"]]
        if bench is not None:
            joined.update(bench.get("_joined") or {})
            files.append(bench["source_file"])
        row.update(joined)
        row["source_files"] = files
        rows.append(row)
    return rows


def _measured_at(rec: dict) -> tuple[str, str]:
    """(started_at, finished_at), "" where unknown: ISO 8601 UTC text sorts in time order."""
    return tuple(v if isinstance(v := rec.get(k), str) else ""
                 for k in ("started_at", "finished_at"))


def _frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame.from_records(rows)
    for col in FIELDS + DERIVED_FIELDS:
        if col not in df.columns:
            df[col] = None
    stats_cols = [f"stats_{k}" for k in STATS_KEYS if f"stats_{k}" in df.columns]
    stats_cols += sorted(c for c in df.columns if c.startswith("stats_") and c not in stats_cols)
    known = set(LEAD_COLUMNS) | set(FIELDS) | set(DERIVED_FIELDS) | set(stats_cols)
    extras = [c for c in df.columns if c not in known]
    cols = dict.fromkeys([*LEAD_COLUMNS, *FIELDS, *DERIVED_FIELDS, *stats_cols, *extras])
    df = df[list(cols)]
    # Runs stay in the order they were given (the first is the base of comparisons).
    run_order = {r: i for i, r in enumerate(dict.fromkeys(df["run"]))}
    df = df.sort_values(["run", "family", "case", "repeat"], kind="stable",
                        key=lambda s: s.map(run_order) if s.name == "run" else _sort_key(s))
    return df.reset_index(drop=True)


def _sort_key(s: pd.Series) -> pd.Series:
    if s.name == "repeat":
        return pd.to_numeric(s, errors="coerce")
    # Seeds first, then the grid, then cases that never learned their family (failed before
    # setup); natural order so d10 sorts after d9.
    text = s.map(lambda v: "" if is_missing(v) else str(v))
    return text.map(lambda v: (v == "", v == "grid") + natural_key(v))
