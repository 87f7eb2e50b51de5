"""The case record: its schema (defined once, here), its JSON form, and its JSONL file.

Torch-free on purpose: ``bench/`` writes records with it and ``reports/`` reads them with it,
and reports must load without torch (``import bench.records`` pulls in nothing but the standard
library; ``bench/__init__.py`` is empty).

A record is grouped dataclasses (case, architecture, environment, data, conditions, timing,
outcome, profile, artifacts). On disk it is FLAT: one JSON key per field, as pandas and
pytest-benchmark's ``extra_info`` want it. ``to_json`` flattens, ``from_json`` validates,
upgrades older schema versions and fills every missing field with None (a case that failed
before setup has no architecture facts; it still loads).

Each record is written with ``os.write`` on an ``O_APPEND`` descriptor (looping over short
writes, raising when the disk takes nothing) and fsynced, so a killed run keeps every case that
finished, parallel workers appending to the same file never interleave lines, and a torn write is
an error, not a silent loss.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# 2: every field below is present in every record (failed cases included, as null); the reader
#    upgrades schema 1 (which left out whatever a failed case had not reached) by filling them.
SCHEMA_VERSION = 2
STATUSES = ("ok", "diverged", "oom", "error", "interrupted")
# The input paths and execution modes a case can use (data/ and the runner implement them).
# A case id names them only when they differ from the first, the default, so that ids of plain
# runs stay comparable across versions.
LOADERS = ("resident", "dataloader")
MODES = ("eager", "compile", "graphs")
DEFAULT_LOADER, DEFAULT_MODE = LOADERS[0], MODES[0]


class RecordError(ValueError):
    """A JSON object that is not a cnnbench record this code can read."""


def _list():
    return field(default_factory=list)


@dataclass
class Case:
    """What identifies the case: the test id's parts, the run, when it ran."""

    arch: str
    dataset: str | None = None
    precision: str | None = None
    loader: str | None = None
    mode_requested: str | None = None
    repeat: int = 0
    seed: int | None = None
    recipe: str | None = None
    run_id: str | None = None
    case_id: str | None = None
    schema_version: int = SCHEMA_VERSION
    started_at: str | None = None
    finished_at: str | None = None
    wall_s: float | None = None


@dataclass
class Architecture:
    """Facts derived from the spec (``models.describe``)."""

    family: str | None = None
    tags: list = _list()
    description: str | None = None
    reported: Any = None
    depth: int | None = None
    kernel_sizes: list = _list()
    strides: list = _list()
    paddings: list = _list()
    padding: str | None = None
    pooling: str | None = None
    width: int | None = None
    params: int | None = None
    flops_per_image: int | None = None
    train_flops_per_image: int | None = None
    receptive_field: int | None = None
    activation_bytes_per_image: int | None = None
    layers: list = _list()


@dataclass
class Environment:
    """The machine and software (``bench.env.environment``)."""

    device: str | None = None
    device_name: str | None = None
    device_memory_bytes: int | None = None
    device_capability: str | None = None
    torch_version: str | None = None
    cuda_version: str | None = None
    cudnn_version: int | None = None
    driver_version: str | None = None
    python_version: str | None = None
    hostname: str | None = None
    cpu_threads: int | None = None


@dataclass
class Data:
    """What the loaders actually served (``data.make_loaders(...).info``)."""

    data_source: str | None = None
    data_origin: str | None = None
    data_checksum: str | None = None
    data_unverified: str | None = None
    train_size: int | None = None
    val_size: int | None = None
    test_size: int | None = None
    normalize_mean: float | None = None
    normalize_std: float | None = None
    resident_bytes: int | None = None
    num_workers: int | None = None
    pin_memory: bool | None = None
    split_seed: int | None = None


@dataclass
class Conditions:
    """How the case trains, as decided by the runner's plan."""

    optimizer: str | None = None
    lr: float | None = None
    momentum: float | None = None
    batch_size: int | None = None
    eval_batch_size: int | None = None
    epochs: int | None = None
    loss_fn: str | None = None
    drop_last: bool | None = None
    limit_train: int | None = None
    channels_last: bool | None = None
    compile: str | None = None
    mode: str | None = None
    mode_fallback_reason: str | None = None
    tf32: bool | None = None
    target_acc: float | None = None
    timer: str | None = None
    # The evaluation plan (models.Recipe): whether a validation split was held out, which
    # split the schedule scores, when ("epoch" | "iterations" | "end"), in words.
    holdout_val: bool | None = None
    eval_split: str | None = None
    eval_schedule: str | None = None
    eval_interval: int | None = None
    eval_text: str | None = None
    batch_metrics: list = _list()


@dataclass
class Timing:
    timed: bool = True  # False under --benchmark-disable: the times are one untimed pass's
    warmup_s: float | None = None
    compile_s: float | None = None
    capture_s: float | None = None
    epoch_times_s: list = _list()
    images_per_epoch: int | None = None
    steps_per_epoch: int | None = None
    epoch_time_median_s: float | None = None
    images_per_s: float | None = None
    step_time_ms_p50: float | None = None
    step_time_ms_p90: float | None = None
    train_time_s: float | None = None
    time_to_target_s: float | None = None
    peak_memory_bytes: int | None = None


@dataclass
class Outcome:
    status: str = "error"  # until finish() says otherwise: a crash leaves it failed
    error: str | None = None
    traceback: str | None = None
    train_loss: list = _list()
    val_loss: list = _list()
    val_accuracy: list = _list()
    train_loss_steps: list = _list()
    # Per-step training-batch accuracy (recipes with "accuracy" in batch_metrics), averaged
    # into the same points as train_loss_steps.
    train_accuracy_steps: list = _list()
    # The scheduled evaluations: the training step (1-based, across epochs) after which the
    # eval_split was scored, and its loss and accuracy there.
    eval_steps: list = _list()
    eval_losses: list = _list()
    eval_accuracies: list = _list()
    test_loss: float | None = None
    test_accuracy: float | None = None


@dataclass
class Profile:
    """The untimed profiler window's summary (``bench.profiling``)."""

    top_ops: list = _list()
    gpu_busy_fraction: float | None = None
    profile_step_ms: float | None = None
    trace_dir: str | None = None
    trace_files: list = _list()


@dataclass
class Artifacts:
    kernels_image: str | None = None
    feature_maps_image: str | None = None
    checkpoint: str | None = None


GROUPS = {"case": Case, "architecture": Architecture, "environment": Environment, "data": Data,
          "conditions": Conditions, "timing": Timing, "outcome": Outcome, "profile": Profile,
          "artifacts": Artifacts}


@dataclass
class Record:
    case: Case
    architecture: Architecture = field(default_factory=Architecture)
    environment: Environment = field(default_factory=Environment)
    data: Data = field(default_factory=Data)
    conditions: Conditions = field(default_factory=Conditions)
    timing: Timing = field(default_factory=Timing)
    outcome: Outcome = field(default_factory=Outcome)
    profile: Profile = field(default_factory=Profile)
    artifacts: Artifacts = field(default_factory=Artifacts)
    extra: dict = field(default_factory=dict)  # keys of a newer writer, kept, never dropped

    @property
    def case_key(self) -> str:
        return case_key_of(self)


def group_fields(cls) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


# Every flat key of a record, in group order: the one list of record fields in the project.
FIELDS: tuple[str, ...] = tuple(name for cls in GROUPS.values() for name in group_fields(cls))
_GROUP_OF = {name: group for group, cls in GROUPS.items() for name in group_fields(cls)}
assert len(_GROUP_OF) == len(FIELDS), "a field name is used by two groups"


def pick(cls, mapping: dict, strict: bool = False):
    """A group filled from the matching keys of a flat mapping; with ``strict``, a key that is
    no record field at all is an error (a writer added a fact the schema does not know)."""
    if strict:
        unknown = sorted(k for k in mapping if k not in _GROUP_OF)
        if unknown:
            raise RecordError(f"not record fields: {', '.join(unknown)}; add them to "
                              "bench/records.py")
    names = group_fields(cls)
    return cls(**{k: mapping[k] for k in names if k in mapping})


# ---------------------------------------------------------------- case ids and keys


def case_key(arch: str, dataset: str, precision: str, loader: str | None = None,
             mode: str | None = None) -> str:
    """``<arch>-<dataset>-<precision>[-<loader>][-<mode>]``: one case over its repeats. The
    loader and mode appear only when not the defaults."""
    extra = [v for v, default in ((loader, DEFAULT_LOADER), (mode, DEFAULT_MODE))
             if v and v != default]
    return "-".join([arch, dataset, precision, *extra])


def case_id(arch: str, dataset: str, precision: str, loader: str | None = None,
            mode: str | None = None, repeat: int = 0) -> str:
    """The test id: the case key and ``-r<repeat>``."""
    return f"{case_key(arch, dataset, precision, loader, mode)}-r{repeat}"


def case_key_of(rec: Record) -> str:
    c = rec.case
    if c.dataset and c.precision:
        return case_key(c.arch, c.dataset, c.precision, c.loader, c.mode_requested)
    suffix = f"-r{c.repeat}"  # an old or partial record: its id less the repeat suffix
    cid = c.case_id or c.arch
    return cid[: -len(suffix)] if cid.endswith(suffix) else cid


# ---------------------------------------------------------------- JSON form


def to_json(rec: Record) -> dict:
    """The flat, JSON-safe record (one key per field, then any extra keys)."""
    flat: dict = {}
    for group in GROUPS:
        flat.update(dataclasses.asdict(getattr(rec, group)))
    flat.update({k: v for k, v in rec.extra.items() if k not in flat})
    return json_safe(flat)


def _upgrade_1(d: dict) -> dict:
    """Schema 1 wrote what a case had reached; a repeat left out is in its id's suffix."""
    if d.get("repeat") is None:
        m = re.search(r"-r(\d+)$", str(d.get("case_id") or ""))
        d["repeat"] = int(m.group(1)) if m else 0
    d["mode_requested"] = d.get("mode_requested") or d.get("mode")
    d["schema_version"] = 2
    return d


UPGRADES = {1: _upgrade_1}  # version -> function to the next version


def from_json(d: dict) -> Record:
    """Validate a flat record, upgrade it to SCHEMA_VERSION, and group it; fields it lacks are
    None (or empty lists). Raises RecordError for what is no record of ours."""
    if not isinstance(d, dict) or not (d.get("arch") or d.get("case_id")):
        raise RecordError("not a cnnbench record (no arch or case_id)")
    d = dict(d)
    version = d.get("schema_version") or 1
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise RecordError(f"schema_version {version!r}: this cnnbench reads 1..{SCHEMA_VERSION}"
                          "; update it")
    while version < SCHEMA_VERSION:
        d = UPGRADES[version](d)
        version += 1
    d["arch"] = d.get("arch") or str(d["case_id"]).split("-")[0]
    d["status"] = d.get("status") or "ok"  # pytest-benchmark saved only cases that passed
    if d["status"] not in STATUSES:
        raise RecordError(f"status {d['status']!r}: expected one of {', '.join(STATUSES)}")
    groups = {name: pick(cls, {k: v for k, v in d.items() if v is not None})
              for name, cls in GROUPS.items()}
    rec = Record(**groups, extra={k: v for k, v in d.items() if k not in _GROUP_OF})
    rec.case.case_id = rec.case.case_id or case_id_of(rec)
    return rec


def case_id_of(rec: Record) -> str:
    return f"{case_key_of(rec)}-r{rec.case.repeat}" if rec.case.dataset else rec.case.arch


# ---------------------------------------------------------------- the JSONL file


def json_safe(value):
    """Recursively make ``value`` JSON-safe: NaN/inf become None, tuples lists, paths strings."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if hasattr(value, "item"):  # numpy / torch scalars
        return json_safe(value.item())
    return str(value)


def append_jsonl(path: Path, record: dict) -> None:
    """Append one record as one line, fsynced; raise OSError when it is not all on disk.

    ``os.write`` may write fewer bytes than asked (a full disk, ``ulimit -f``): the rest is
    written in a loop, and a write that makes no progress raises. A record is started on a fresh
    line when the file does not end with one (an earlier write was torn), so the torn line costs
    only itself.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(json_safe(record), allow_nan=False) + "\n").encode()
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            line = b"\n" + line
        view = memoryview(line)
        while view:
            try:
                n = os.write(fd, view)
            except OSError as e:
                raise OSError(e.errno, f"{path}: record not written ({len(line) - len(view)} "
                                       f"of {len(line)} bytes): {e.strerror}") from e
            if n <= 0:
                raise OSError(f"{path}: record not written ({len(line) - len(view)} of "
                              f"{len(line)} bytes): write made no progress")
            view = view[n:]
        os.fsync(fd)
    finally:
        os.close(fd)


MISSING = object()


def parse_jsonl_line(line: str) -> tuple[Any, int]:
    """The JSON value on one physical line and how many torn bytes before it were skipped;
    ``(MISSING, len)`` when there is none. After a torn write, a complete record glued onto the
    torn line is still found (by decoding from each later ``{"``)."""
    line = line.strip()
    try:
        return json.loads(line), 0
    except json.JSONDecodeError:
        pass
    decoder = json.JSONDecoder()
    for m in re.finditer(r'\{"', line):
        if m.start() == 0:
            continue
        try:
            value, end = decoder.raw_decode(line, m.start())
        except json.JSONDecodeError:
            continue
        if not line[end:].strip():
            return value, m.start()
    return MISSING, len(line)


def read_jsonl(path: Path) -> list:
    """Every complete record of a JSONL file: a torn line (a crash, a full disk) is skipped,
    and a record written after it on the same line is still read."""
    values = (parse_jsonl_line(line)[0] for line in Path(path).read_text().splitlines())
    return [v for v in values if v is not MISSING]


# ---------------------------------------------------------------- numbers in loaded records


def num(v) -> float | None:
    """A finite float, or None for anything else (None, NaN, text, lists)."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def natural_key(v: str) -> tuple:
    """Sort key with numbers compared as numbers: grid_d10 after grid_d9."""
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", v))
