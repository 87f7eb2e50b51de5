"""Splits, subsets, epoch orders and the two loader kinds, on small synthetic data."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cnnbench.data import DATASETS, ResidentLoader, load_arrays, make_loaders, stratified_subset
from cnnbench.data.loaders import split_validation

# 2048/512 synthetic images: every test here runs in well under a second.
SYN = dict(val_size=0, num_workers=0)


def _epoch(loader, epoch=None):
    if epoch is not None:
        loader.set_epoch(epoch)
    xs, ys = zip(*loader, strict=True)
    return torch.cat(xs), torch.cat(ys)


def test_synthetic_arrays_are_seeded_and_balanced():
    a, b, c = (load_arrays("synthetic", seed=s) for s in (0, 0, 1))
    assert a.source == "synthetic" and a.checksum == b.checksum != c.checksum
    assert a.train_images.shape == (2048, 28, 28) and a.train_images.dtype == torch.uint8
    assert a.test_images.shape == (512, 28, 28) and a.train_labels.dtype == torch.int64
    assert torch.bincount(a.train_labels).tolist() == [205] * 8 + [204] * 2
    assert torch.equal(a.train_images, b.train_images)


def test_batches_shape_dtype_and_info_is_json():
    ld = make_loaders("synthetic", batch_size=100, eval_batch_size=200, val_size=48)
    x, y = next(iter(ld.train))
    assert x.shape == (100, 1, 28, 28) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert (len(ld.train), len(ld.val), len(ld.test)) == (20, 1, 3)  # 2000/100, 48/200, 512/200
    info = json.loads(json.dumps(ld.info))
    assert info["train_size"] == 2000 and info["val_size"] == 48 and info["test_size"] == 512
    assert info["normalize_mean"] == DATASETS["synthetic"].mean
    assert info["data_source"] == "synthetic" and info["loader"] == "resident"
    assert info["resident_bytes"] == 2560 * (784 + 8)


def test_no_validation_split_gives_none():
    ld = make_loaders("synthetic", batch_size=64, **SYN)
    assert ld.val is None and ld.info["val_size"] == 0 and ld.info["train_size"] == 2048


def test_val_size_must_fit():
    with pytest.raises(ValueError, match="val_size=5000 must be in"):
        make_loaders("synthetic", batch_size=64, val_size=5000)  # > 2048 synthetic images
    # None: the dataset's own default, which fits (256 of synthetic's 2,048).
    assert make_loaders("synthetic", batch_size=64).info["val_size"] == 256


def test_validation_split_disjoint_covering_and_seeded():
    tr, va = split_validation(1000, 100, seed=0)
    assert len(va) == 100 and len(tr) == 900
    assert set(tr.tolist()).isdisjoint(va.tolist())
    assert sorted(tr.tolist() + va.tolist()) == list(range(1000))
    assert torch.equal(va, split_validation(1000, 100, seed=0)[1])
    assert not torch.equal(va, split_validation(1000, 100, seed=1)[1])


def test_validation_images_not_in_train_loader():
    ld = make_loaders("synthetic", batch_size=512, val_size=256, num_workers=0)
    train_x, _ = _epoch(ld.train)
    val_x, _ = _epoch(ld.val)
    # Random 784-pixel images are unique, so compare them as rows.
    train_rows = {r.numpy().tobytes() for r in train_x.flatten(1)}
    assert not any(r.numpy().tobytes() in train_rows for r in val_x.flatten(1))
    assert len(train_rows) + len(val_x) == 2048


@pytest.mark.parametrize("limit", [10, 25, 137, 1000])
def test_stratified_subset_keeps_every_class(limit):
    ld = make_loaders("synthetic", batch_size=64, limit_train=limit, val_size=100, num_workers=0)
    _, y = _epoch(ld.train)
    counts = torch.bincount(y, minlength=10)
    assert len(y) == limit and (counts > 0).all()
    assert counts.max() - counts.min() <= 1  # equal as far as possible
    assert ld.info["limit_train"] == limit


def test_stratified_subset_with_a_scarce_class():
    labels = torch.tensor([0] * 3 + [1] * 50 + [2] * 50)
    idx = stratified_subset(labels, 60, num_classes=3, seed=0)
    assert torch.bincount(labels[idx]).tolist() == [3, 29, 28] or \
        torch.bincount(labels[idx]).tolist() == [3, 28, 29]
    assert len(set(idx.tolist())) == 60


def test_stratified_subset_errors():
    with pytest.raises(ValueError, match="limit_train=9 < 10 classes"):
        make_loaders("synthetic", batch_size=8, limit_train=9, **SYN)
    with pytest.raises(ValueError, match="limit_train=3000 > 2048"):
        make_loaders("synthetic", batch_size=8, limit_train=3000, **SYN)


def test_epoch_orders_depend_only_on_seed_and_epoch():
    def labels(seed, epoch):
        ld = make_loaders("synthetic", batch_size=256, seed=seed, split_seed=0,
                          synthetic_sizes=(512, 64), **SYN)
        return _epoch(ld.train, epoch)[1]

    assert torch.equal(labels(0, 0), labels(0, 0))  # same seed, two runs
    assert not torch.equal(labels(0, 0), labels(1, 0))  # different seeds
    assert not torch.equal(labels(0, 0), labels(0, 1))  # different epochs


def test_iterating_advances_the_epoch_and_set_epoch_rewinds():
    ld = make_loaders("synthetic", batch_size=256, **SYN).train
    x0, _ = _epoch(ld)
    x1, _ = _epoch(ld)
    assert not torch.equal(x0, x1)
    assert torch.equal(_epoch(ld, 0)[0], x0) and torch.equal(_epoch(ld, 1)[0], x1)
    assert torch.equal(ld.epoch_order(1), ld.epoch_order(1))


def test_eval_loaders_are_in_order():
    ld = make_loaders("synthetic", batch_size=64, eval_batch_size=100, **SYN)
    arrays = load_arrays("synthetic")
    _, y = _epoch(ld.test)
    assert torch.equal(y, arrays.test_labels)


@pytest.mark.parametrize("drop_last", [False, True])
def test_drop_last_applies_to_train_only(drop_last):
    ld = make_loaders("synthetic", batch_size=300, eval_batch_size=300, drop_last=drop_last, **SYN)
    sizes = [len(y) for _, y in ld.train]
    assert sizes == ([300] * 6 if drop_last else [300] * 6 + [248])
    assert len(ld.train) == len(sizes)
    assert sum(len(y) for _, y in ld.test) == 512


@pytest.mark.parametrize("kind", ["resident", "dataloader"])
def test_channels_last(kind):
    ld = make_loaders("synthetic", batch_size=32, channels_last=True, loader=kind, **SYN)
    x, _ = next(iter(ld.train))
    assert x.stride() == (784, 1, 28, 1)
    conv = torch.nn.Conv2d(1, 4, 3)
    assert conv(x).is_contiguous(memory_format=torch.channels_last)
    plain, _ = next(iter(make_loaders("synthetic", batch_size=32, loader=kind, **SYN).train))
    assert torch.equal(x, plain)  # same values, different strides


def test_nbytes_counts_uint8_images_and_int64_labels():
    a = load_arrays("synthetic")
    ld = ResidentLoader(a.train_images, a.train_labels, batch_size=10)
    assert ld.nbytes == 2048 * 28 * 28 + 2048 * 8 and ld.num_samples == 2048
    dl = make_loaders("synthetic", batch_size=10, loader="dataloader", **SYN)
    assert dl.info["resident_bytes"] == 0 and dl.train.nbytes == 0


@pytest.mark.parametrize("normalize", [None, (0.0, 1.0), (0.5, 0.25)])
def test_both_loader_kinds_yield_the_same_batches(normalize):
    kw = dict(batch_size=128, normalize=normalize, val_size=100, seed=3, num_workers=0,
              synthetic_sizes=(500, 300))
    res = make_loaders("synthetic", loader="resident", **kw)
    dlo = make_loaders("synthetic", loader="dataloader", **kw)
    for split in ("train", "val", "test"):
        for epoch in (0, 1):  # on CPU the shuffled orders agree too
            xr, yr = _epoch(getattr(res, split), epoch)
            xd, yd = _epoch(getattr(dlo, split), epoch)
            assert torch.equal(yr, yd)
            torch.testing.assert_close(xr, xd, rtol=0, atol=1e-6)
    x, _ = _epoch(res.test)
    if normalize == (0.0, 1.0):
        assert x.min() >= 0 and x.max() <= 1 and x.max() == 1.0
    mean, std = normalize or (DATASETS["synthetic"].mean, DATASETS["synthetic"].std)
    assert res.info["normalize_mean"] == mean and res.info["normalize_std"] == std
    # The synthetic data are drawn with the split seed (= seed here).
    test_images = load_arrays("synthetic", seed=3, synthetic_sizes=(500, 300)).test_images
    expected = (test_images.float() / 255 - mean) / std
    torch.testing.assert_close(x.squeeze(1), expected, rtol=0, atol=1e-5)


def test_dataloader_with_workers():
    ld = make_loaders("synthetic", batch_size=256, loader="dataloader", val_size=0,
                      num_workers=2, synthetic_sizes=(512, 256))
    dl = ld.train.dataloader
    assert dl.num_workers == 2 and dl.persistent_workers and not dl.pin_memory
    _, y0 = _epoch(ld.train)
    _, y1 = _epoch(ld.train)
    assert len(y0) == 512 and not torch.equal(y0, y1)
    assert torch.equal(torch.sort(y0).values, torch.sort(y1).values)


def test_bad_arguments():
    with pytest.raises(ValueError, match="loader must be one of"):
        make_loaders("synthetic", batch_size=8, loader="fast", **SYN)
    with pytest.raises(KeyError, match="unknown dataset 'cifar'"):
        make_loaders("cifar", batch_size=8)
    with pytest.raises(ValueError, match="std must be > 0"):
        make_loaders("synthetic", batch_size=8, normalize=(0.0, 0.0), **SYN)


def test_dataset_names_and_aliases():
    from cnnbench.data import get_info

    assert set(DATASETS) == {"mnist", "fashion-mnist", "kmnist", "synthetic"}
    assert get_info("FashionMNIST").name == get_info("fashion_mnist").name == "fashion-mnist"
    for info in DATASETS.values():
        assert info.num_classes == 10 and info.image_shape == (1, 28, 28)
        assert 0 < info.mean < 1 and 0 < info.std < 1 and info.stats_source
    assert np.isclose(DATASETS["synthetic"].std, np.sqrt((256**2 - 1) / 12) / 255, atol=1e-4)
