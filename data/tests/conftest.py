"""Fixtures: an isolated resolution environment and small IDX sets written on the fly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from data import resolve
from data.idx import write_idx
from data.registry import IDX_STEMS

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


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path_factory):
    """No env var, an empty private cache, no Debian copy, and a download that fails:
    tests never see the machine's data or the network unless they opt in."""
    root = tmp_path_factory.mktemp("iso")
    monkeypatch.delenv(resolve.DEFAULT_ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(root / "xdg"))
    monkeypatch.setitem(resolve.DEBIAN_DIRS, "fashion-mnist", root / "no-debian")
    calls = []

    def no_network(info, target):
        calls.append((info.name, target))
        raise OSError("network disabled in tests")

    monkeypatch.setattr(resolve, "_torchvision_download", no_network)
    return calls


@pytest.fixture
def idx_dir(tmp_path) -> Path:
    """A flat directory with a small valid IDX set (100 train / 40 test)."""
    write_idx_set(tmp_path / "idx")
    return tmp_path / "idx"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def fashion_dir() -> Path:
    """Debian's copy if installed, else the shared one."""
    if DEBIAN_FASHION.is_dir():
        return DEBIAN_FASHION
    d = SHARED_DATA / "FashionMNIST" / "raw"
    if not d.is_dir():
        pytest.skip(f"Fashion-MNIST not found at {DEBIAN_FASHION} or {d}")
    return d
