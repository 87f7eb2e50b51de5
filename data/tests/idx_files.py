"""Small IDX sets written on the fly, and where the real data sets live on this machine."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cnnbench.data.idx import write_idx
from cnnbench.data.registry import IDX_STEMS

# The repo is <parent>/main and the read-only shared data sit at <parent>/shared/data
# (CI clones the repo the same way).
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


def write_idx_set(
    directory: Path,
    *,
    n_train: int = 100,
    n_test: int = 40,
    gz: bool = False,
    seed: int = 0,
    skip: tuple[str, ...] = (),
) -> dict[str, np.ndarray]:
    """Write the four IDX files (balanced labels, random pixels) into ``directory``."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        arrays[f"{split}_images"] = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        arrays[f"{split}_labels"] = rng.permutation(np.arange(n) % 10).astype(np.uint8)
    for (split, kind), stem in IDX_STEMS.items():
        if stem not in skip:
            write_idx(directory / (stem + (".gz" if gz else "")), arrays[f"{split}_{kind}"])
    return arrays
