"""IDX parsing: round trips, and every kind of damage raises DataIntegrityError naming the file."""

from __future__ import annotations

import gzip
import os
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnbench.data import DataIntegrityError, load_arrays, read_idx, write_idx
from cnnbench.data.idx import idx_sha256, parse_idx
from cnnbench.data.tests.idx_files import write_idx_set


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_round_trip_raw_and_gz(tmp_path, suffix):
    images = np.arange(3 * 28 * 28, dtype=np.uint64).astype(np.uint8).reshape(3, 28, 28)
    labels = np.array([0, 9, 4], dtype=np.uint8)
    fi = read_idx(write_idx(tmp_path / f"i{suffix}", images), "images")
    fl = read_idx(write_idx(tmp_path / f"l{suffix}", labels), "labels")
    np.testing.assert_array_equal(fi.array, images)
    np.testing.assert_array_equal(fl.array, labels)
    # The digest is of the decompressed bytes, so raw and gz files agree.
    assert fi.sha256 == idx_sha256(images) and fl.sha256 == idx_sha256(labels)


def _valid_images(n=4) -> bytes:
    return struct.pack(">IIII", 0x803, n, 28, 28) + bytes(n * 784)


@settings(max_examples=40, deadline=None, database=None)
@given(cut=st.integers(min_value=0, max_value=16 + 4 * 784 - 1))
def test_any_truncation_is_detected(cut):
    with pytest.raises(DataIntegrityError, match="f.idx"):
        parse_idx(_valid_images()[:cut], "images", name="f.idx")


@pytest.mark.parametrize(
    "payload, kind, message",
    [
        (b"\x00\x00", "labels", "too short"),
        (_valid_images(), "labels", "wrong magic 0x00000803.*that is an IDX images"),
        (struct.pack(">II", 0x802, 1) + b"\x00", "labels", "wrong magic 0x00000802"),
        (struct.pack(">IIII", 0x803, 1, 32, 32) + bytes(1024), "images", "32x32, expected 28x28"),
        (_valid_images() + b"\x00", "images", "1 unexpected trailing bytes"),
        (_valid_images()[:-1], "images", "truncated: header says 4 images"),
        (struct.pack(">II", 0x801, 3) + bytes([1, 10, 2]), "labels", "label 10 at index 1"),
    ],
)
def test_damage_is_named(tmp_path, payload, kind, message):
    path = tmp_path / "bad-idx"
    path.write_bytes(payload)
    with pytest.raises(DataIntegrityError, match=message) as e:
        read_idx(path, kind)
    assert str(path) in str(e.value)


def test_bad_gzip_and_cut_gzip(tmp_path):
    garbage = tmp_path / "garbage.gz"
    garbage.write_bytes(b"this is not gzip")
    with pytest.raises(DataIntegrityError, match="garbage.gz: bad gzip stream"):
        read_idx(garbage, "images")
    cut = tmp_path / "cut.gz"
    cut.write_bytes(gzip.compress(_valid_images())[:-30])
    with pytest.raises(DataIntegrityError, match="cut.gz: bad gzip stream"):
        read_idx(cut, "images")


def test_truncated_file_in_a_set_fails_load(idx_dir):
    f = idx_dir / "train-images-idx3-ubyte"
    f.write_bytes(f.read_bytes()[:-100])
    with pytest.raises(DataIntegrityError, match="train-images-idx3-ubyte: truncated"):
        load_arrays("mnist", data_dir=idx_dir, strict=False)


def test_image_and_label_counts_must_agree(tmp_path):
    d = tmp_path / "d"
    write_idx_set(d, n_train=100)
    write_idx(d / "train-labels-idx1-ubyte", np.zeros(99, dtype=np.uint8))
    with pytest.raises(DataIntegrityError, match="100 images but .*has 99 labels"):
        load_arrays("mnist", data_dir=d, strict=False)


def test_strict_requires_published_sizes(idx_dir):
    with pytest.raises(DataIntegrityError, match="100 train images, mnist has 60000"):
        load_arrays("mnist", data_dir=idx_dir)
    assert len(load_arrays("mnist", data_dir=idx_dir, strict=False).train_labels) == 100


def test_cache_sees_rewritten_files(idx_dir):
    first = load_arrays("kmnist", data_dir=idx_dir, strict=False)
    f = idx_dir / "train-labels-idx1-ubyte"
    write_idx(f, np.full(100, 3, dtype=np.uint8))
    st_ = f.stat()
    os.utime(f, ns=(st_.st_atime_ns, st_.st_mtime_ns + 10**9))  # coarse-mtime filesystems
    second = load_arrays("kmnist", data_dir=idx_dir, strict=False)
    assert second.checksum != first.checksum
    assert second.train_labels.unique().tolist() == [3]
