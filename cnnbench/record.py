"""The case record: its schema (defined once, here), its JSON form, and its JSONL file.

Torch-free on purpose, and below every package: ``cnnbench.bench`` writes records with it,
``cnnbench.reports`` reads them with it, and reports must load without torch (``import
cnnbench.record`` pulls in nothing but the standard library).

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

import base64
import dataclasses
import json
import math
import os
import re
import reprlib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from cnnbench.vocab import DEFAULT_LOADER, DEFAULT_MODE, LOADERS, MODES, STATUSES

# 2: every field below is present in every record (failed cases included, as null); the reader
#    upgrades schema 1 (which left out whatever a failed case had not reached) by filling them.
SCHEMA_VERSION = 2

class RecordError(ValueError):
    """A JSON object that is not a cnnbench record this code can read."""


def _list():
    return field(default_factory=list)


# The shapes of the record's nested values. Only the keys the reports read are typed; others
# are kept as they are (a TypedDict's annotations are what ``from_json`` checks).
class Reported(TypedDict, total=False):
    dataset: str | None
    test_accuracy: float | None
    note: str | None


class Layer(TypedDict, total=False):
    index: int | None
    kind: str | None
    desc: str | None
    in_shape: list[int] | None
    out_shape: list[int] | None
    params: int | None
    flops: int | None
    rf: int | None
    jump: int | None


class _Named(TypedDict):
    name: str  # required: the report's kernel table is keyed by it


class TopOp(_Named, total=False):
    calls: int | None
    self_device_ms: float | None
    self_cpu_ms: float | None
    total_ms: float | None


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
    # The interleaved design (bench/plugin.py): the block this run belongs to (every case runs
    # once per block), its 0-based position in the block's seeded random order, that order's
    # seed, and whether it is the A/A control's second copy in its block.
    block: int | None = None
    position: int | None = None
    order_seed: int | None = None
    control: bool = False
    # A digest of the invocation's options (bench/reuse.py): a reused run id whose options
    # differ is refused, so one run's file never mixes two sets of conditions.
    options_digest: str | None = None


@dataclass
class Architecture:
    """Facts derived from the spec (``models.describe``)."""

    family: str | None = None
    tags: list[str] = _list()
    description: str | None = None
    reported: Reported | None = None
    depth: int | None = None
    kernel_sizes: list[int] = _list()
    strides: list[int] = _list()
    paddings: list[int] = _list()
    padding: str | None = None
    pooling: str | None = None
    width: int | None = None
    params: int | None = None
    flops_per_image: int | None = None
    train_flops_per_image: int | None = None
    receptive_field: int | None = None
    activation_bytes_per_image: int | None = None
    layers: list[Layer] = _list()


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
    batch_metrics: list[str] = _list()


@dataclass
class Timing:
    timed: bool = True  # False under --benchmark-disable: the times are one untimed pass's
    warmup_s: float | None = None
    compile_s: float | None = None
    capture_s: float | None = None
    epoch_times_s: list[float] = _list()
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
    train_loss: list[float | None] = _list()
    val_loss: list[float | None] = _list()
    val_accuracy: list[float | None] = _list()
    train_loss_steps: list[float | None] = _list()
    # Per-step training-batch accuracy (recipes with "accuracy" in batch_metrics), averaged
    # into the same points as train_loss_steps.
    train_accuracy_steps: list[float | None] = _list()
    # The scheduled evaluations: the training step (1-based, across epochs) after which the
    # eval_split was scored, and its loss and accuracy there.
    eval_steps: list[int] = _list()
    eval_losses: list[float | None] = _list()
    eval_accuracies: list[float | None] = _list()
    test_loss: float | None = None
    test_accuracy: float | None = None
    # Which test images the final evaluation classified right, in loader order: bit i of byte
    # i // 8 (least significant first), base64 (``pack_correct``). 10,000 images take 1,668
    # characters; the reports pair two nets on the same images with it (McNemar-style). None:
    # older records, or a test set over MAX_CORRECT_IMAGES.
    test_correct: str | None = None


@dataclass
class Profile:
    """The untimed profiler window's summary (``bench.profiling``)."""

    top_ops: list[TopOp] = _list()
    gpu_busy_fraction: float | None = None
    profile_step_ms: float | None = None
    trace_dir: str | None = None
    trace_files: list[str] = _list()


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
                              "cnnbench/record.py")
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
    None (or empty lists). Raises RecordError, naming the field, for what is no record of ours:
    every field's type and range is checked here (``validate``), so no reader trips over a
    hand-edited or hostile line later."""
    if not isinstance(d, dict) or not (d.get("arch") or d.get("case_id")):
        raise RecordError("not a cnnbench record (no arch or case_id)")
    d = dict(d)
    version = d.get("schema_version")
    version = 1 if version is None else version
    if type(version) is not int or not 1 <= version <= SCHEMA_VERSION:
        raise RecordError(f"schema_version {short_repr(version)}: this cnnbench reads "
                          f"1..{SCHEMA_VERSION}; update it if the record is newer")
    validate(d)  # schema 1's fields are a subset of 2's, with the same types
    while version < SCHEMA_VERSION:
        d = UPGRADES[version](d)
        version += 1
    d["arch"] = d.get("arch") or d["case_id"].split("-")[0]
    d["status"] = d.get("status") or "ok"  # pytest-benchmark saved only cases that passed
    groups = {name: pick(cls, {k: v for k, v in d.items() if v is not None})
              for name, cls in GROUPS.items()}
    rec = Record(**groups, extra={k: v for k, v in d.items() if k not in _GROUP_OF})
    rec.case.case_id = rec.case.case_id or case_id_of(rec)
    return rec


# ---------------------------------------------------------------- validation
# Derived from the dataclasses' annotations: the schema above is the only statement of a field's
# type. Ranges are the one thing annotations cannot say; they are listed here by field.

MAX_DEPTH = 16  # a record nests 4 deep (layers[i].in_shape[j]); extra keys get some room
MAX_INT = 2**63  # beyond it a count is no count, and float() of it overflows in the reports
_NON_NEGATIVE = (
    "repeat", "wall_s", "depth", "width", "params", "flops_per_image", "train_flops_per_image",
    "receptive_field", "activation_bytes_per_image", "kernel_sizes", "strides", "paddings",
    "device_memory_bytes", "cpu_threads", "train_size", "val_size", "test_size",
    "resident_bytes", "num_workers", "lr", "momentum", "batch_size", "eval_batch_size", "epochs",
    "limit_train", "eval_interval", "warmup_s", "compile_s", "capture_s", "epoch_times_s",
    "images_per_epoch", "steps_per_epoch", "epoch_time_median_s", "images_per_s",
    "step_time_ms_p50", "step_time_ms_p90", "train_time_s", "time_to_target_s",
    "peak_memory_bytes", "eval_steps", "profile_step_ms")
_FRACTIONS = ("val_accuracy", "test_accuracy", "eval_accuracies", "train_accuracy_steps",
              "gpu_busy_fraction", "target_acc")
RANGES: dict[str, tuple[float | None, float | None]] = {
    **dict.fromkeys(_NON_NEGATIVE, (0, None)), **dict.fromkeys(_FRACTIONS, (0, 1))}
CHOICES = {"status": STATUSES, "loader": LOADERS, "mode": MODES, "mode_requested": MODES}
# Per-image correctness is kept for test sets up to this size (2**17 = 131,072 images: 21,848
# base64 characters, well under MAX_LINE_BYTES); a longer field is no record of ours.
MAX_CORRECT_IMAGES = 2**17
MAX_CHARS = {"test_correct": 4 * math.ceil(MAX_CORRECT_IMAGES / 8 / 3)}
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def pack_correct(bits) -> str | None:
    """Per-image correctness (truthy = right) as base64 bits, or None above
    MAX_CORRECT_IMAGES images. ``reports.contrasts.unpack_correct`` reads it back."""
    bits = list(bits)
    if len(bits) > MAX_CORRECT_IMAGES:
        return None
    buf = bytearray((len(bits) + 7) // 8)
    for i, b in enumerate(bits):
        if b:
            buf[i >> 3] |= 1 << (i & 7)
    return base64.b64encode(bytes(buf)).decode("ascii")


def _types() -> dict[str, Any]:
    hints: dict[str, Any] = {}
    for cls in GROUPS.values():
        hints.update(typing.get_type_hints(cls))
    return hints


TYPES = _types()  # field -> its annotation, e.g. list[int] or float | None


def validate(d: dict) -> None:
    """Raise RecordError for the first field (in schema order) whose value has the wrong type,
    range or choice, or for a value nested deeper than MAX_DEPTH (extra keys included)."""
    for name, value in d.items():
        if _too_deep(value):
            raise RecordError(f"field {name!r}: nested deeper than {MAX_DEPTH} levels")
    for name in FIELDS:
        value = d.get(name)
        if value is None:
            continue
        problem = _type_problem(value, TYPES[name]) or _range_problem(name, value)
        if problem:
            raise RecordError(f"field {name!r}: {problem}")
        if name in MAX_CHARS and (len(value) > MAX_CHARS[name] or len(value) % 4
                                  or not _BASE64.fullmatch(value)):
            raise RecordError(f"field {name!r}: not base64 of at most {MAX_CHARS[name]} "
                              "characters")
        if name in CHOICES and value not in CHOICES[name]:
            raise RecordError(f"{name} {short_repr(value)}: expected one of "
                              f"{', '.join(CHOICES[name])}")


def _too_deep(value) -> bool:
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, dict | list):
            if depth > MAX_DEPTH:
                return True
            stack.extend((c, depth + 1) for c in (v.values() if isinstance(v, dict) else v))
    return False


def _type_problem(value, tp) -> str | None:
    """Why ``value`` is not of annotation ``tp``, or None when it is."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        return None
    if origin in (typing.Union, types.UnionType):
        others = [a for a in args if a is not type(None)]
        if value is not None and len(others) == 1:  # X | None: say what is wrong as an X
            return _type_problem(value, others[0])
        problems = [_type_problem(value, a) for a in args]
        return None if None in problems else f"{short_repr(value)} is not {_name(tp)}"
    if tp is type(None):
        return None if value is None else f"{short_repr(value)} is not null"
    if origin is list or tp is list:
        if not isinstance(value, list):
            return f"{short_repr(value)} is not a list"
        for i, v in enumerate(value):
            problem = args and _type_problem(v, args[0])
            if problem:
                return f"item {i}: {problem}"
        return None
    if typing.is_typeddict(tp):
        if not isinstance(value, dict):
            return f"{short_repr(value)} is not an object"
        for key, sub in typing.get_type_hints(tp).items():
            if key in value:
                problem = _type_problem(value[key], sub)
                if problem:
                    return f"key {key!r}: {problem}"
        missing = [k for k in tp.__required_keys__ if k not in value]
        return f"key {missing[0]!r} missing" if missing else None
    if tp is bool:
        return None if isinstance(value, bool) else f"{short_repr(value)} is not true/false"
    if tp is int:
        if type(value) is not int:
            return f"{short_repr(value)} is not an integer"
        return None if abs(value) < MAX_INT else "an integer out of range"
    if tp is float:
        if type(value) not in (int, float):
            return f"{short_repr(value)} is not a number"
        if abs(value) >= MAX_INT and type(value) is int or not math.isfinite(value):
            return f"{short_repr(value)} is not a finite number"
        return None
    if tp is str:
        return None if isinstance(value, str) else f"{short_repr(value)} is not text"
    raise TypeError(f"record.py: no check for annotation {tp!r}")  # a new kind of field


def _range_problem(name: str, value) -> str | None:
    lo, hi = RANGES.get(name, (None, None))
    for v in value if isinstance(value, list) else [value]:
        if isinstance(v, int | float) and not isinstance(v, bool) \
                and ((lo is not None and v < lo) or (hi is not None and v > hi)):
            return f"{short_repr(v)} is outside [{lo}, {'∞' if hi is None else hi}]"
    return None


def _name(tp) -> str:
    return re.sub(r"\b[\w.]+\.(\w+)", r"\1", str(tp))  # cnnbench.record.Layer -> Layer


def short_repr(value) -> str:
    """A value as an error message shows it: at most 60 characters of its repr."""
    text = _REPR.repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_REPR = reprlib.Repr()
_REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict = 40, 40, 4, 4


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
# A record is a few KB to a few hundred KB (its per-step losses); a longer line is no record of
# ours and is not parsed at all (json would happily build a 1 GB object from it).
MAX_LINE_BYTES = 4 * 2**20


def loads(text: str):
    """json.loads, with every way it can fail as ValueError: a number of more than 4,300
    digits raises a plain ValueError, 100k nested brackets a RecursionError."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def parse_jsonl_line(line: str) -> tuple[Any, int]:
    """The JSON value on one physical line and how many torn bytes before it were skipped;
    ``(MISSING, len)`` when there is none. After a torn write, a complete record glued onto the
    torn line is still found (by decoding from each later ``{"``)."""
    line = line.strip()
    if len(line) > MAX_LINE_BYTES:
        return MISSING, len(line)
    try:
        return loads(line), 0
    except ValueError:
        pass
    decoder = json.JSONDecoder()
    for m in re.finditer(r'\{"', line):
        if m.start() == 0:
            continue
        try:
            value, end = decoder.raw_decode(line, m.start())
        except (ValueError, RecursionError):
            continue
        if not line[end:].strip():
            return value, m.start()
    return MISSING, len(line)


def jsonl_lines(path: Path):
    """``(line number, value, problem)`` for each non-blank line of a JSONL file: ``value`` is
    MISSING when the line is not JSON, and ``problem`` says why a line was (partly) skipped.
    Lines are decoded one by one, so a non-UTF-8 byte costs its own line only."""
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            if len(raw) > MAX_LINE_BYTES:
                yield lineno, MISSING, f"line longer than {MAX_LINE_BYTES} bytes, skipped"
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                yield lineno, MISSING, f"not UTF-8 (byte {e.start}), line skipped"
                continue
            value, torn = parse_jsonl_line(line)
            problem = None
            if value is MISSING:
                problem = "not JSON (a torn write, or not a record), line skipped"
            elif torn:
                problem = f"{torn} bytes of a torn write skipped, record read"
            yield lineno, value, problem


def read_jsonl(path: Path) -> list:
    """Every complete JSON value of a JSONL file: a torn line (a crash, a full disk), a
    non-UTF-8 or oversized line is skipped, and a record written after a torn one on the same
    line is still read."""
    return [v for _, v, _ in jsonl_lines(path) if v is not MISSING]


# ---------------------------------------------------------------- names and the results layout
# A run's files, all under its results folder (the one holding <run_id>.jsonl):
#   <run_id>.jsonl, artifacts/<run_id>/<case_id>/{kernels,feature_maps}.png and model.pt,
#   traces/<run_id>/<case_id>/*.pt.trace.json.gz, benchmarks/<machine>/NNNN_<run_id>.json.
# Records store these paths relative to the results folder; the reports find the files by this
# layout (run and case id), never by a path a record names.

ARTIFACTS_DIR, TRACES_DIR, BENCHMARKS_DIR = "artifacts", "traces", "benchmarks"


def records_file(results: Path, run_id: str) -> Path:
    """The run's JSONL: one record per case, the run's result."""
    return Path(results) / f"{run_id}.jsonl"


def benchmark_files(results: Path, run_id: str) -> list[Path]:
    """pytest-benchmark's saved JSON for the run (``--benchmark-storage <results>/benchmarks``),
    oldest first."""
    return sorted((Path(results) / BENCHMARKS_DIR).rglob(f"*_{run_id}.json"))


def report_folder(results: Path, run_id: str) -> Path:
    """Where the run's report.html and its tables go."""
    return Path(results) / run_id


ARTIFACT_FILES = {"kernels_image": "kernels.png", "feature_maps_image": "feature_maps.png",
                  "checkpoint": "model.pt"}
NAME_MAX = 255  # the usual file-name limit (ext4, xfs, tmpfs); checked against the real one


def name_problem(name) -> str | None:
    """Why ``name`` cannot name a file or folder under the results folder, or None. The one
    check for run ids (every entry point) and for the ids the reports turn into paths."""
    if not isinstance(name, str) or not name:
        return "empty"
    if name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        return "use a plain name (no '/', not '..')"
    if len(name.encode()) > NAME_MAX - 16:  # room for "NNNN_" and ".jsonl"/".json"
        return f"longer than {NAME_MAX - 16} bytes"
    if any(ord(c) < 32 for c in name):
        return "control characters"
    return None


def check_run_id(run_id) -> str:
    """``run_id``, or ValueError saying why it cannot name files under the results folder."""
    problem = name_problem(run_id)
    if problem:
        raise ValueError(f"run id {run_id!r}: {problem}; it names files under the results "
                         "folder")
    return run_id


# ---------------------------------------------------------------- pytest-benchmark's copy
# The JSONL line is a case's result. pytest-benchmark's JSON (its ``extra_info``) carries only
# the key the reports join on and a few headline fields, for people reading that JSON alone.
BENCHMARK_FIELDS = ("schema_version", "run_id", "case_id", "arch", "repeat", "status",
                    "device_name", "test_accuracy", "epoch_time_median_s", "images_per_s")


def headline(record: dict) -> dict:
    """What a case's pytest-benchmark ``extra_info`` holds (BENCHMARK_FIELDS)."""
    return {k: record.get(k) for k in BENCHMARK_FIELDS}


# ---------------------------------------------------------------- numbers in loaded records


def num(v) -> float | None:
    """A finite float, or None for anything else (None, NaN, text, lists)."""
    try:
        f = float(v)
    except (TypeError, ValueError, OverflowError):
        return None
    return f if math.isfinite(f) else None


def natural_key(v: str) -> tuple:
    """Sort key with numbers compared as numbers: grid_d10 after grid_d9."""
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", v))
