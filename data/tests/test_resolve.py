"""The resolution order, every file layout, and the all-missing error message."""

from __future__ import annotations

import pytest

from cnnbench.data import DataNotFoundError, cache_dir, candidate_places, load_arrays, locate
from cnnbench.data import resolve as resolve_mod
from cnnbench.data.registry import IDX_STEMS
from cnnbench.data.tests.idx_files import write_idx_set


def _load(name="fashion-mnist", **kw):
    return load_arrays(name, strict=False, **kw)


def test_cache_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "cnnbench" / "data"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir().parts[-3:] == (".cache", "cnnbench", "data")


def test_candidate_places_in_order(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNBENCH_DATA", str(tmp_path / "env"))
    places = candidate_places("fashion-mnist", data_dir=tmp_path / "arg")
    assert [p.origin for p in places] == ["data_dir", "env", "cache", "system"]
    assert [p.path for p in places][:3] == [tmp_path / "arg", tmp_path / "env", cache_dir()]
    # Only Fashion-MNIST has a Debian package.
    assert [p.origin for p in candidate_places("mnist")] == ["data_dir", "env", "cache"]
    assert candidate_places("mnist")[0].path is None


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("layout", ["flat", "torchvision", "raw-folder", "by-name"])
def test_layouts(tmp_path, gz, layout):
    root = tmp_path / "root"
    sub = {"flat": root, "torchvision": root / "FashionMNIST" / "raw",
           "raw-folder": root / "FashionMNIST" / "raw", "by-name": root / "fashion-mnist"}[layout]
    written = write_idx_set(sub, gz=gz)
    arg = sub if layout == "raw-folder" else root  # pointing straight at the raw folder
    a = _load(data_dir=arg)
    assert a.source == str(sub) and a.origin == "data_dir"
    assert a.train_labels.tolist() == written["train_labels"].tolist()
    assert all(f.endswith(".gz") == gz for f in a.files)


def test_raw_preferred_over_gz_and_dotted_names(tmp_path):
    d = tmp_path / "d"
    write_idx_set(d, gz=True, seed=1)
    write_idx_set(d, gz=False, seed=2)
    assert not any(f.endswith(".gz") for f in _load(data_dir=d).files)
    e = tmp_path / "e"
    write_idx_set(e)
    for stem in IDX_STEMS.values():  # the train-images.idx3-ubyte spelling
        (e / stem).rename(e / stem.replace("-idx", ".idx"))
    assert _load(data_dir=e).train_images.shape == (100, 28, 28)


def _four_places(tmp_path, monkeypatch):
    """Distinct small sets at data_dir, env, cache and Debian; returns their dirs."""
    dirs = {
        "data_dir": tmp_path / "arg",
        "env": tmp_path / "env",
        "cache": cache_dir() / "FashionMNIST" / "raw",
        "system": tmp_path / "debian",
    }
    for seed, d in enumerate(dirs.values()):
        write_idx_set(d, seed=seed, gz=True)
    monkeypatch.setenv("CNNBENCH_DATA", str(dirs["env"]))
    monkeypatch.setitem(resolve_mod.DEBIAN_DIRS, "fashion-mnist", dirs["system"])
    return dirs


def test_each_step_in_priority_order(tmp_path, monkeypatch, isolated):
    dirs = _four_places(tmp_path, monkeypatch)
    a = _load(data_dir=dirs["data_dir"])
    assert (a.origin, a.source) == ("data_dir", str(dirs["data_dir"]))
    checksums = {a.checksum}
    for step in ["env", "cache", "system"]:
        a = _load()
        assert (a.origin, a.source) == (step, str(dirs[step]))
        checksums.add(a.checksum)
        # Remove this step's data so the next one is used.
        for f in dirs[step].iterdir():
            f.unlink()
    assert len(checksums) == 4  # four different data sets were really read
    assert isolated == []  # nothing tried to download
    with pytest.raises(DataNotFoundError):
        _load()
    assert isolated == [("fashion-mnist", cache_dir())]


def test_download_is_last_and_may_succeed(monkeypatch):
    def fake_download(info, target):
        write_idx_set(target / info.folder / "raw", gz=True)

    monkeypatch.setattr(resolve_mod, "_torchvision_download", fake_download)
    a = _load("kmnist")
    assert a.origin == "download"
    assert a.source == f"torchvision-download:{cache_dir() / 'KMNIST' / 'raw'}"
    # The next call finds it in the cache without downloading.
    monkeypatch.setattr(resolve_mod, "_torchvision_download", None)
    assert _load("kmnist").origin == "cache"


def test_all_missing_lists_every_place(tmp_path, monkeypatch, isolated):
    monkeypatch.setenv("CNNBENCH_DATA", str(tmp_path / "env"))
    debian = tmp_path / "no-such-debian"
    monkeypatch.setitem(resolve_mod.DEBIAN_DIRS, "fashion-mnist", debian)
    partial = tmp_path / "env" / "FashionMNIST" / "raw"
    write_idx_set(partial, gz=True, skip=("train-images-idx3-ubyte",))
    with pytest.raises(DataNotFoundError) as e:
        _load()
    msg = str(e.value)
    for expected in [
        "1. data_dir argument (--data-dir): not set",
        f"2. $CNNBENCH_DATA: {tmp_path / 'env'}",
        f"{partial}: has train-labels-idx1-ubyte.gz",
        "missing train-images-idx3-ubyte[.gz]",
        f"3. cache_dir(): {cache_dir()} (does not exist)",
        f"4. Debian dataset-fashion-mnist: {debian} (does not exist)",
        f"5. torchvision download into {cache_dir()}: failed (OSError: network disabled",
        "apt-get install dataset-fashion-mnist",
        "--data-dir",
        "CNNBENCH_DATA=DIR",
        f"copy the four IDX files into {cache_dir() / 'FashionMNIST' / 'raw'}",
    ]:
        assert expected in msg, f"{expected!r} not in:\n{msg}"
    assert isinstance(e.value, FileNotFoundError)


@pytest.mark.parametrize("state, expected", [
    ("missing", "does not exist"),
    ("file", "is not a directory"),
    ("empty", "no IDX files there"),
    ("partial", "missing train-images-idx3-ubyte[.gz]"),
])
def test_explicit_data_dir_never_falls_back(tmp_path, monkeypatch, isolated, state, expected):
    """A --data-dir without the files is an error naming it, even with a good copy elsewhere
    (it was silently replaced by the system copy)."""
    dirs = _four_places(tmp_path, monkeypatch)
    arg = tmp_path / "given"
    if state == "file":
        arg.write_text("not a folder")
    elif state == "empty":
        arg.mkdir()
    elif state == "partial":
        write_idx_set(arg, gz=True, skip=("train-images-idx3-ubyte",))
    with pytest.raises(DataNotFoundError) as e:
        _load(data_dir=arg)
    assert f"--data-dir {arg}" in str(e.value) and expected in str(e.value)
    assert _load().origin == "env" and dirs  # the other copies were there all along
    assert isolated == []


def test_download_off_is_not_attempted(isolated):
    with pytest.raises(DataNotFoundError, match=r"2. \$CNNBENCH_DATA: not set") as e:
        locate("mnist", download=False)
    assert "torchvision download into" in str(e.value) and "off (download=False)" in str(e.value)
    assert "apt-get" not in str(e.value)  # no Debian package for MNIST
    assert isolated == []


def test_synthetic_is_not_resolved():
    with pytest.raises(ValueError, match="generated"):
        locate("synthetic")
