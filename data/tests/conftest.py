"""Fixtures: an isolated resolution environment and small IDX sets written on the fly."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnnbench.data import resolve
from cnnbench.data.tests.idx_files import DEBIAN_FASHION, SHARED_DATA, write_idx_set  # noqa: F401


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
