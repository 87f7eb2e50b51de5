"""Read runner output (pytest-benchmark JSON and the runner's JSONL) into one DataFrame.

One row per (run, case, repeat); its columns are the record's fields (``bench.records.FIELDS``,
the schema's one definition), then the derived ones. The runner writes the same record twice: as the
benchmark's ``extra_info`` in pytest-benchmark's JSON (with timing ``stats``) and as a line of
``results/<run_id>.jsonl`` (which also has the failed cases pytest-benchmark may not save). When
both are given, rows with the same (run, case_id, repeat) are merged, the richer one winning.
"""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from bench.records import (
    FIELDS,
    MISSING,
    RecordError,
    from_json,
    natural_key,
    num,
    parse_jsonl_line,
    to_json,
)

from .stats import finite


class NoRunsError(ValueError):
    """Nothing loadable was found in the paths given."""


# Fields holding paths: the runner writes them absolute; relative ones are read relative to the
# folder of the file they came from (``_resolve``), never to the working directory.
PATH_FIELDS = ("trace_dir", "kernels_image", "feature_maps_image", "checkpoint")

STATS_KEYS = ("min", "max", "mean", "stddev", "rounds", "median", "iqr", "q1", "q3",
              "iqr_outliers", "stddev_outliers", "outliers", "ld15iqr", "hd15iqr", "ops", "total",
              "iterations", "data")

DERIVED_FIELDS = (
    "run", "case", "source_file", "source_kind", "time_label",
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
    rows = _dedupe([_derive(r) for r in records])
    return _frame(rows)


# ---------------------------------------------------------------- finding and reading files


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
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        warnings.warn(f"{path}: unreadable ({e}), skipped", stacklevel=4)
        return []
    if path.suffix == ".jsonl":
        return _read_jsonl(path, text)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        if path.suffix != ".json" and "\n" in text.strip():
            return _read_jsonl(path, text)
        warnings.warn(f"{path}: not valid JSON ({e.msg} at line {e.lineno}), skipped",
                      stacklevel=4)
        return []
    base = path.parent.resolve()
    if isinstance(doc, dict) and isinstance(doc.get("benchmarks"), list):
        return _read_benchmark(path, doc, base)
    if isinstance(doc, dict) and _is_record(doc):
        return [_normalize(doc, path, base, "json")]
    if isinstance(doc, list) and doc and all(isinstance(d, dict) and _is_record(d) for d in doc):
        return [_normalize(d, path, base, "json") for d in doc]
    warnings.warn(f"{path}: not pytest-benchmark JSON or a cnnbench record, skipped",
                  stacklevel=4)
    return []


def _resolve(v, base: Path):
    """A record's path: absolute as the runner writes it; a relative one (hand-made or moved
    fixtures) is relative to the folder of the file it came from."""
    if isinstance(v, str) and v and not os.path.isabs(v):
        return os.path.normpath(os.path.join(base, v))
    return v


def _is_record(d: dict) -> bool:
    return isinstance(d, dict) and bool(d.get("case_id") or d.get("arch"))


def _read_jsonl(path: Path, text: str) -> list[dict]:
    base = path.parent.resolve()
    out = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        rec, torn = parse_jsonl_line(line)
        if torn:
            what = "line skipped" if rec is MISSING else "torn start skipped, record read"
            warnings.warn(f"{path}:{lineno}: {torn} bytes of a torn write, {what}",
                          stacklevel=5)
        if rec is MISSING:
            continue
        if not isinstance(rec, dict) or not _is_record(rec):
            warnings.warn(f"{path}:{lineno}: not a cnnbench record, line skipped", stacklevel=5)
            continue
        out.append(_normalize(rec, path, base, "jsonl"))
    if not out:
        warnings.warn(f"{path}: no cnnbench records, skipped", stacklevel=4)
    return out


def _read_benchmark(path: Path, doc: dict, base: Path) -> list[dict]:
    machine = doc.get("machine_info") or {}
    commit = doc.get("commit_info") or {}
    out, foreign = [], 0
    for b in doc["benchmarks"]:
        if not isinstance(b, dict):
            foreign += 1
            continue
        extra = b.get("extra_info")
        if not isinstance(extra, dict) or not _is_record(extra):
            foreign += 1
            continue
        rec = dict(extra)
        if not rec.get("case_id"):
            rec["case_id"] = b.get("param") or b.get("name")
        stats = b.get("stats") if isinstance(b.get("stats"), dict) else {}
        for k, v in stats.items():
            rec[f"stats_{k}"] = v
        rec.update({
            "bench_name": b.get("name"), "bench_fullname": b.get("fullname"),
            "bench_group": b.get("group"), "bench_param": b.get("param"),
            "bench_params": b.get("params"),
            "bench_datetime": doc.get("datetime"), "bench_version": doc.get("version"),
            "machine_node": machine.get("node"),
            "machine_cpu": (machine.get("cpu") or {}).get("brand_raw")
            if isinstance(machine.get("cpu"), dict) else None,
            "commit_id": commit.get("id"), "commit_branch": commit.get("branch"),
            "commit_dirty": commit.get("dirty"),
        })
        out.append(_normalize(rec, path, base, "pytest-benchmark"))
    if foreign:
        warnings.warn(f"{path}: {foreign} benchmark entr{'y' if foreign == 1 else 'ies'} "
                      "without a cnnbench record in extra_info skipped", stacklevel=5)
    if not out:
        warnings.warn(f"{path}: no cnnbench records, skipped", stacklevel=5)
    return out


def _normalize(raw: dict, path: Path, base: Path, kind: str) -> dict | None:
    """The record validated and upgraded (every schema field present), plus where it came
    from and its case key; None, with a warning, for what is no record this code can read."""
    try:
        record = from_json(raw)
    except RecordError as e:
        warnings.warn(f"{path}: {raw.get('case_id') or raw.get('arch')}: {e}, skipped",
                      stacklevel=5)
        return None
    rec = to_json(record)
    rec["case"] = record.case_key
    for field in PATH_FIELDS:
        rec[field] = _resolve(rec.get(field), base)
    if isinstance(rec.get("trace_files"), list):
        rec["trace_files"] = [_resolve(v, base) for v in rec["trace_files"]]
    rec["source_file"] = str(path)
    rec["source_kind"] = kind
    rec["run"] = rec.get("run_id") or _SAVE_PREFIX.sub("", path.stem)
    return rec


# ---------------------------------------------------------------- derived columns


def _derive(rec: dict) -> dict:
    t = np.asarray(epoch_times(rec))
    if len(t):
        q1, med, q3 = np.percentile(t, [25, 50, 75])
        rec.update(epoch_time_median_s=float(med), epoch_time_iqr_s=float(q3 - q1),
                   epoch_time_q1_s=float(q1), epoch_time_q3_s=float(q3),
                   epoch_time_mean_s=float(t.mean()),
                   epoch_time_std_s=float(t.std(ddof=1)) if len(t) > 1 else 0.0,
                   epoch_time_n=len(t), train_time_s=float(t.sum()))
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


# ---------------------------------------------------------------- de-duplication


def _info(rec: dict) -> int:
    return sum(1 for v in rec.values() if not is_missing(v) and v != [] and v != {})


def _dedupe(records: list[dict]) -> list[dict]:
    """Merge records of the same (run, case_id, repeat): the same measurement from two files is
    merged (the richer one wins, gaps filled); of two measurements (a reused run id) the newest
    wins."""
    by_key: dict[tuple, dict] = {}
    order: list[tuple] = []
    for rec in records:
        key = (rec["run"], rec["case_id"], rec["repeat"])
        if key not in by_key:
            by_key[key] = rec
            order.append(key)
            continue
        old = by_key[key]
        if _two_measurements(old, rec):
            # Two measurements (a reused run id): the newest wins whole; mixing them would
            # show numbers no run produced.
            by_key[key] = max(old, rec, key=_measured_at)
            continue
        first, second = (rec, old) if _rank(rec) > _rank(old) else (old, rec)
        merged = dict(first)
        for k, v in second.items():
            if k not in merged or is_missing(merged[k]) or merged[k] in ([], {}):
                merged[k] = v
        # Each file resolved relative paths against its own directory; keep the one that exists.
        for field in PATH_FIELDS:
            a, b = first.get(field), second.get(field)
            if isinstance(a, str) and isinstance(b, str) and not os.path.exists(a) \
                    and os.path.exists(b):
                merged[field] = b
        files = [first["source_file"], second["source_file"]]
        merged["source_files"] = sorted(set(files + list(first.get("source_files") or [])
                                            + list(second.get("source_files") or [])))
        by_key[key] = merged
    return [by_key[k] for k in order]


def _measured_at(rec: dict) -> tuple[str, str]:
    """(started_at, finished_at), "" where unknown: ISO 8601 UTC text sorts in time order."""
    return tuple(v if isinstance(v := rec.get(k), str) else ""
                 for k in ("started_at", "finished_at"))


def _two_measurements(a: dict, b: dict) -> bool:
    """Whether two records of one key are two runs, not one run read from two files (the
    JSONL and pytest-benchmark's JSON carry the same started_at; finished_at tells two runs
    that started in the same second apart)."""
    return any(x and y and x != y for x, y in zip(_measured_at(a), _measured_at(b), strict=True))


def _rank(rec: dict) -> tuple:
    # Ties go to the pytest-benchmark row: its stats are what the JSONL lacks.
    return (_info(rec), rec.get("source_kind") == "pytest-benchmark")


def _frame(rows: list[dict]) -> pd.DataFrame:
    for r in rows:
        r.setdefault("source_files", [r["source_file"]])
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
