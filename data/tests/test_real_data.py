"""The real files: Fashion-MNIST (Debian or shared copy) and MNIST's test split.

Skipped, with the path in the reason, where the shared data are absent.
"""

from __future__ import annotations

import gzip

import numpy as np
import pytest
import torch

from cnnbench.data import DataIntegrityError, DataNotFoundError, load_arrays, make_loaders
from cnnbench.data.idx import write_idx
from cnnbench.data.tests.idx_files import DEBIAN_FASHION, SHARED_DATA

MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(scope="module")
def fashion(fashion_dir):
    return load_arrays("fashion-mnist", data_dir=fashion_dir)


def test_fashion_mnist_shapes_counts_and_range(fashion, fashion_dir):
    a = fashion
    assert a.train_images.shape == (60_000, 28, 28) and a.train_images.dtype == torch.uint8
    assert a.test_images.shape == (10_000, 28, 28) and a.test_labels.dtype == torch.int64
    assert torch.bincount(a.train_labels).tolist() == [6000] * 10
    assert torch.bincount(a.test_labels).tolist() == [1000] * 10
    assert (int(a.train_images.min()), int(a.train_images.max())) == (0, 255)
    assert a.unverified == () and a.source == str(fashion_dir)  # all four sha256 known


def test_fashion_mnist_statistics(fashion):
    # The registry's mean/std are these numbers rounded to 4 places.
    x = fashion.train_images.double() / 255
    assert abs(x.mean().item() - 0.286041) < 1e-6
    assert abs(x.std(correction=0).item() - 0.353024) < 1e-6


def test_fashion_mnist_normalized_training_split(fashion_dir):
    ld = make_loaders("fashion-mnist", batch_size=10_000, data_dir=fashion_dir, val_size=0)
    total = sq = n = 0.0
    for x, _ in ld.train:
        total += x.double().sum().item()
        sq += x.double().square().sum().item()
        n += x.numel()
    mean = total / n
    std = (sq / n - mean**2) ** 0.5
    assert abs(mean) < 0.01 and abs(std - 1) < 0.01, (mean, std)
    assert ld.info["train_size"] == 60_000 and ld.info["data_unverified"] == ""


def test_shared_root_resolves_torchvision_layout(shared_data, fashion):
    a = load_arrays("fashion-mnist", data_dir=shared_data)
    assert a.source == str(shared_data / "FashionMNIST" / "raw")
    # The recompressed Debian copy and the shared copy hold identical arrays.
    assert a.checksum == fashion.checksum


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason=f"{DEBIAN_FASHION} not installed")
def test_debian_copy_is_found_without_arguments(monkeypatch, fashion):
    from cnnbench.data import resolve

    monkeypatch.setitem(resolve.DEBIAN_DIRS, "fashion-mnist", DEBIAN_FASHION)
    a = load_arrays("fashion-mnist", download=False)
    assert (a.origin, a.source, a.checksum) == ("system", str(DEBIAN_FASHION), fashion.checksum)


@pytest.fixture
def mnist_dir(shared_data, tmp_path):
    """Real MNIST test files (symlinked) beside a small train set we write."""
    raw = shared_data / "MNIST" / "raw"
    if not (raw / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"MNIST test split not found in {raw}")
    d = tmp_path / "mnist"
    d.mkdir()
    for stem in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (d / f"{stem}.gz").symlink_to(raw / f"{stem}.gz")
    rng = np.random.default_rng(0)
    write_idx(d / "train-images-idx3-ubyte", rng.integers(0, 256, (200, 28, 28), np.uint8))
    write_idx(d / "train-labels-idx1-ubyte", np.arange(200, dtype=np.uint8) % 10)
    return d


def test_mnist_test_split(mnist_dir):
    a = load_arrays("mnist", data_dir=mnist_dir, strict=False)
    assert a.test_images.shape == (10_000, 28, 28)
    assert torch.bincount(a.test_labels).tolist() == MNIST_TEST_COUNTS
    assert (int(a.test_images.min()), int(a.test_images.max())) == (0, 255)
    # Only the train files we wrote are unverified; the real test files match.
    assert a.unverified == ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
    ld = make_loaders("mnist", batch_size=50, data_dir=mnist_dir, strict=False, val_size=0)
    assert [len(y) for _, y in ld.test] == [1000] * 10
    x, _ = next(iter(ld.test))
    assert abs(x.mean().item()) < 0.05  # 0.1307/0.3081 fit MNIST's test split too
    with pytest.raises(DataIntegrityError, match="200 train images, mnist has 60000"):
        load_arrays("mnist", data_dir=mnist_dir)


def test_mnist_without_train_images_is_not_found(shared_data):
    raw = shared_data / "MNIST" / "raw"
    if any(raw.glob("train-images*")) or not raw.is_dir():
        pytest.skip(f"{raw} is not the partial MNIST copy (test split + train labels)")
    with pytest.raises(DataNotFoundError, match=r"MNIST/raw: has .*missing train-images"):
        load_arrays("mnist", data_dir=shared_data, download=False)


def test_another_datasets_files_are_refused(fashion_dir):
    with pytest.raises(DataIntegrityError, match="this is fashion-mnist's"):
        load_arrays("kmnist", data_dir=fashion_dir, strict=False)


def test_altered_content_fails_strict_check(fashion_dir, tmp_path):
    d = tmp_path / "fm"
    d.mkdir()
    for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte"):
        (d / f"{stem}.gz").symlink_to(fashion_dir / f"{stem}.gz")
    labels = np.frombuffer(gzip.open(fashion_dir / "t10k-labels-idx1-ubyte.gz").read()[8:],
                           np.uint8).copy()
    labels[0] = (labels[0] + 1) % 10  # one wrong label
    write_idx(d / "t10k-labels-idx1-ubyte.gz", labels)
    with pytest.raises(DataIntegrityError, match="t10k-labels-idx1-ubyte.gz: decompressed sha256"):
        load_arrays("fashion-mnist", data_dir=d)
    assert load_arrays("fashion-mnist", data_dir=d, strict=False).unverified == (
        "t10k-labels-idx1-ubyte",
    )


def test_shared_data_location():
    assert SHARED_DATA.name == "data" and SHARED_DATA.parent.name == "shared"
