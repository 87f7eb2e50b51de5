"""Loading a dataset into CPU tensors: verified IDX files, or seeded synthetic noise."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .idx import DataIntegrityError, idx_sha256, read_idx
from .registry import IDX_STEMS, PUBLISHED_SHA256, DatasetInfo, get_info, identify
from .resolve import locate


@dataclass(frozen=True)
class Arrays:
    """Both splits of a dataset on the CPU, with provenance.

    ``checksum``: first 16 hex digits of sha256 over the sha256s of the four arrays, each
    hashed as its decompressed IDX file (header + bytes) in the order train images, train
    labels, test images, test labels; so it identifies exactly the pixels and labels used.
    """

    train_images: torch.Tensor  # (N, 28, 28) uint8
    train_labels: torch.Tensor  # (N,) int64
    test_images: torch.Tensor
    test_labels: torch.Tensor
    source: str  # directory read, "torchvision-download:<dir>", or "synthetic"
    checksum: str
    origin: str = ""  # resolution step: data_dir, env, cache, system, download, synthetic
    files: tuple[str, ...] = ()
    # Files not compared with a published sha256 (none known, or strict=False).
    unverified: tuple[str, ...] = ()


def load_arrays(
    name: str,
    *,
    data_dir: str | Path | None = None,
    download: bool = True,
    synthetic_sizes: tuple[int, int] = (2048, 512),
    seed: int = 0,
    strict: bool = True,
) -> Arrays:
    """Load ``name`` ("mnist", "fashion-mnist", "kmnist", "synthetic") as CPU tensors.

    Real datasets are found with ``resolve.locate`` (raises DataNotFoundError) and checked
    (raises DataIntegrityError). ``strict=True`` also requires the published split sizes
    (60,000/10,000) and, where we know it, the published content sha256; ``strict=False``
    accepts any structurally valid, consistent IDX set (tests write 100-image files).
    ``synthetic`` is seeded uniform noise with balanced labels: for tests and timing only,
    never for accuracy.
    """
    info = get_info(name)
    if not info.is_real:
        return _synthetic(info, synthetic_sizes, seed)
    found = locate(info.name, data_dir, download=download)
    parsed = {
        key: read_idx(path, key[1], image_hw=info.image_shape[1:], num_classes=info.num_classes)
        for key, path in found.files.items()
    }
    for split in ("train", "test"):
        imgs, labs = parsed[split, "images"], parsed[split, "labels"]
        n_img, n_lab = len(imgs.array), len(labs.array)
        if n_img != n_lab:
            raise DataIntegrityError(
                f"{imgs.path}: {n_img} images but {labs.path} has {n_lab} labels"
            )
        expected = info.train_size if split == "train" else info.test_size
        if strict and expected is not None and n_img != expected:
            raise DataIntegrityError(
                f"{imgs.path}: {n_img} {split} images, {info.name} has {expected} "
                "(load with strict=False to accept other sizes)"
            )
    # Sizes first (the clearer message), then content.
    unverified = [
        IDX_STEMS[key] for key, f in parsed.items()
        if _check_content(info, IDX_STEMS[key], f.path, f.sha256, strict)
    ]
    order = [parsed[k] for k in (("train", "images"), ("train", "labels"),
                                 ("test", "images"), ("test", "labels"))]
    source = str(found.directory)
    if found.place.origin == "download":
        source = f"torchvision-download:{source}"
    return Arrays(
        train_images=torch.from_numpy(order[0].array.copy()),
        train_labels=torch.from_numpy(order[1].array.astype(np.int64)),
        test_images=torch.from_numpy(order[2].array.copy()),
        test_labels=torch.from_numpy(order[3].array.astype(np.int64)),
        source=source,
        checksum=_combine([f.sha256 for f in order]),
        origin=found.place.origin,
        files=tuple(str(f.path) for f in order),
        unverified=tuple(unverified),
    )


def _check_content(info: DatasetInfo, stem: str, path: Path, sha: str, strict: bool) -> bool:
    """Raise if the file is another dataset's or (strict) not the published one.
    Returns True when it could not be verified."""
    other = identify(sha)
    if other is not None and other != (info.name, stem):
        raise DataIntegrityError(
            f"{path}: this is {other[0]}'s {other[1]}, not {info.name}'s {stem}"
        )
    published = PUBLISHED_SHA256.get(info.name, {}).get(stem)
    if strict and published is not None and sha != published:
        raise DataIntegrityError(
            f"{path}: decompressed sha256 {sha[:16]}... differs from published {info.name} "
            f"{stem} ({published[:16]}...) (load with strict=False to accept other content)"
        )
    return published is None or sha != published


def _combine(digests: list[str]) -> str:
    return hashlib.sha256("\n".join(digests).encode()).hexdigest()[:16]


def _synthetic(info: DatasetInfo, sizes: tuple[int, int], seed: int) -> Arrays:
    # numpy's PCG64 so the data are identical on every machine and torch version.
    rng = np.random.default_rng(seed)
    c, h, w = info.image_shape
    out = []
    for n in sizes:
        if n < 1:
            raise ValueError(f"synthetic_sizes must be positive, got {sizes}")
        images = rng.integers(0, 256, size=(n, h, w), dtype=np.uint8)
        labels = rng.permutation(np.arange(n) % info.num_classes).astype(np.uint8)
        out += [images, labels]
    return Arrays(
        train_images=torch.from_numpy(out[0]),
        train_labels=torch.from_numpy(out[1].astype(np.int64)),
        test_images=torch.from_numpy(out[2]),
        test_labels=torch.from_numpy(out[3].astype(np.int64)),
        source="synthetic",
        checksum=_combine([idx_sha256(a) for a in out]),
        origin="synthetic",
        unverified=(),
    )
