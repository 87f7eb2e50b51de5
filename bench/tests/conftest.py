import os
from pathlib import Path

import pytest

from cnnbench.bench.tests.common import REPO  # noqa: F401
from cnnbench.data.tests.idx_files import DEBIAN_FASHION, SHARED_DATA


def fashion_mnist_dir() -> Path | None:
    if DEBIAN_FASHION.is_dir():
        return DEBIAN_FASHION
    if (SHARED_DATA / "FashionMNIST").is_dir():
        return SHARED_DATA
    return None


@pytest.fixture
def fashion_dir():
    d = fashion_mnist_dir()
    if d is None:
        pytest.skip(f"Fashion-MNIST not found in {DEBIAN_FASHION} or {SHARED_DATA}: "
                    "apt-get install dataset-fashion-mnist")
    return d


@pytest.fixture
def bench_env():
    """Environment for a `pytest bench/` subprocess: no GPU, no progress bar, quiet torch."""
    env = dict(os.environ)
    env["CUDA_VISIBLE_DEVICES"] = ""
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    return env
