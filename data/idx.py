"""Reading and writing IDX files (the MNIST format), with structural checks.

Layout (big-endian): magic 0x00000801 + count + count label bytes, or
magic 0x00000803 + count + rows + cols + count*rows*cols pixel bytes.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LABELS_MAGIC = 0x00000801
IMAGES_MAGIC = 0x00000803
_MAGIC = {"labels": LABELS_MAGIC, "images": IMAGES_MAGIC}
_HEADER = {"labels": 8, "images": 16}


class DataIntegrityError(ValueError):
    """An IDX file is truncated, corrupt or not what it claims to be."""


@dataclass(frozen=True)
class IdxFile:
    """One parsed IDX file: a read-only uint8 array and the sha256 of its decompressed bytes."""

    path: Path
    array: np.ndarray  # (N,) labels or (N, rows, cols) images, uint8, read-only
    sha256: str


def read_idx(
    path: str | Path, kind: str, *, image_hw: tuple[int, int] = (28, 28), num_classes: int = 10
) -> IdxFile:
    """Parse ``path`` (raw or .gz) as an IDX ``kind`` ("images"/"labels") file.

    Results are cached per process on (resolved path, mtime, size): the Fashion-MNIST
    training images take ~0.3 s to gunzip and we load them once per test session.
    """
    path = Path(path).resolve()
    try:
        st = path.stat()
    except OSError as e:
        raise DataIntegrityError(f"{path}: cannot stat ({e})") from e
    return _read_cached(str(path), kind, tuple(image_hw), num_classes, st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=32)  # 8 real files + small test files
def _read_cached(
    path: str, kind: str, image_hw: tuple[int, int], num_classes: int, _mtime: int, _size: int
) -> IdxFile:
    buf = _read_bytes(Path(path))
    array = parse_idx(buf, kind, name=path, image_hw=image_hw, num_classes=num_classes)
    return IdxFile(Path(path), array, hashlib.sha256(buf).hexdigest())


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    # BadGzipFile is an OSError; a cut-off gzip stream raises EOFError.
    except (OSError, EOFError, zlib.error) as e:
        what = "bad gzip stream" if path.suffix == ".gz" else "cannot read"
        raise DataIntegrityError(f"{path}: {what} ({type(e).__name__}: {e})") from e


def parse_idx(
    buf: bytes,
    kind: str,
    *,
    name: str = "<bytes>",
    image_hw: tuple[int, int] = (28, 28),
    num_classes: int = 10,
) -> np.ndarray:
    """Check and parse decompressed IDX bytes; errors name ``name`` and what was wrong."""
    if kind not in _MAGIC:
        raise ValueError(f"kind must be 'images' or 'labels', not {kind!r}")
    header = _HEADER[kind]
    if len(buf) < header:
        raise DataIntegrityError(
            f"{name}: {len(buf)} bytes, too short for an IDX {kind} header ({header} bytes)"
        )
    magic, count = struct.unpack(">II", buf[:8])
    if magic != _MAGIC[kind]:
        other = {v: k for k, v in _MAGIC.items()}.get(magic)
        hint = f" (that is an IDX {other} file)" if other else ""
        raise DataIntegrityError(
            f"{name}: wrong magic 0x{magic:08x}, expected 0x{_MAGIC[kind]:08x} for IDX {kind}{hint}"
        )
    shape: tuple[int, ...] = (count,)
    if kind == "images":
        rows, cols = struct.unpack(">II", buf[8:16])
        if (rows, cols) != tuple(image_hw):
            raise DataIntegrityError(
                f"{name}: images are {rows}x{cols}, expected {image_hw[0]}x{image_hw[1]}"
            )
        shape = (count, rows, cols)
    need = int(np.prod(shape))
    have = len(buf) - header
    if have < need:
        raise DataIntegrityError(
            f"{name}: truncated: header says {count} {kind} = {need} bytes, payload has {have}"
        )
    if have > need:
        raise DataIntegrityError(
            f"{name}: {have - need} unexpected trailing bytes after {count} {kind}"
        )
    array = np.frombuffer(buf, dtype=np.uint8, count=need, offset=header).reshape(shape)
    if kind == "labels" and count and int(array.max()) >= num_classes:
        bad = int(np.argmax(array >= num_classes))
        raise DataIntegrityError(
            f"{name}: label {int(array[bad])} at index {bad} is outside 0..{num_classes - 1}"
        )
    return array


def write_idx(path: str | Path, array: np.ndarray) -> Path:
    """Write a uint8 (N,) labels or (N, H, W) images array as IDX; gzip if path ends in .gz."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    if array.ndim == 1:
        head = struct.pack(">II", LABELS_MAGIC, array.shape[0])
    elif array.ndim == 3:
        head = struct.pack(">IIII", IMAGES_MAGIC, *array.shape)
    else:
        raise ValueError(f"IDX arrays are (N,) or (N, H, W), got shape {array.shape}")
    path = Path(path)
    payload = head + array.tobytes()
    if path.suffix == ".gz":
        # mtime=0 keeps the bytes reproducible.
        path.write_bytes(gzip.compress(payload, compresslevel=1, mtime=0))
    else:
        path.write_bytes(payload)
    return path


def idx_sha256(array: np.ndarray) -> str:
    """sha256 of ``array`` as a decompressed IDX file would hold it (header + bytes)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    magic = LABELS_MAGIC if array.ndim == 1 else IMAGES_MAGIC
    h = hashlib.sha256(struct.pack(f">{1 + array.ndim}I", magic, *array.shape))
    h.update(memoryview(array).cast("B"))
    return h.hexdigest()
