"""Finding a dataset's IDX files offline, in a fixed order, or downloading them.

Order: 1. ``data_dir`` argument, 2. ``$CNNBENCH_DATA``, 3. ``cache_dir()``, 4. system copies
(Debian's ``dataset-fashion-mnist``), 5. torchvision download into ``cache_dir()``.
Each place may hold the files flat or in torchvision's ``<root>/<Folder>/raw/`` layout.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .registry import IDX_STEMS, DatasetInfo, get_info

DEFAULT_ENV_VAR = "CNNBENCH_DATA"

# Where distribution packages install datasets (flat, gzipped). Tests monkeypatch this.
DEBIAN_DIRS: dict[str, Path] = {"fashion-mnist": Path("/usr/share/datasets/fashion-mnist")}
_DEBIAN_PACKAGES = {"fashion-mnist": "dataset-fashion-mnist"}


class DataNotFoundError(FileNotFoundError):
    """No complete set of IDX files anywhere we looked, and no download."""


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/cnnbench/data``, else ``~/.cache/cnnbench/data``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "cnnbench" / "data"


@dataclass(frozen=True)
class Place:
    """One resolution step: where it is (None: not given/not set) and how it was chosen."""

    origin: str  # "data_dir" | "env" | "cache" | "system" | "download"
    label: str
    path: Path | None


@dataclass(frozen=True)
class Found:
    place: Place
    directory: Path  # the directory that holds all four files
    files: dict[tuple[str, str], Path]  # (split, kind) -> file


def candidate_places(name: str, data_dir: str | Path | None = None) -> list[Place]:
    """Steps 1-4 in order, including unset ones (so error messages can list them)."""
    info = get_info(name)
    env = os.environ.get(DEFAULT_ENV_VAR) or None
    places = [
        Place("data_dir", "data_dir argument (--data-dir)", _path(data_dir)),
        Place("env", f"${DEFAULT_ENV_VAR}", _path(env)),
        Place("cache", "cache_dir()", cache_dir()),
    ]
    if info.name in DEBIAN_DIRS:
        pkg = _DEBIAN_PACKAGES.get(info.name, "system package")
        places.append(Place("system", f"Debian {pkg}", DEBIAN_DIRS[info.name]))
    return places


def _path(p: str | Path | None) -> Path | None:
    return None if p is None or str(p) == "" else Path(p).expanduser()


def layout_dirs(root: Path, info: DatasetInfo) -> list[Path]:
    """Directories under ``root`` that may hold the files: flat, torchvision's, by name."""
    dirs = [root]
    if info.folder:
        dirs += [root / info.folder / "raw", root / info.folder]
    dirs.append(root / info.name)  # e.g. CNNBENCH_DATA=/usr/share/datasets
    return list(dict.fromkeys(dirs))


def file_candidates(stem: str) -> list[str]:
    """File names accepted for ``stem``: raw first (no gunzip), then .gz; also the
    ``train-images.idx3-ubyte`` spelling some mirrors use."""
    dotted = stem.replace("-idx", ".idx")
    return [stem, f"{stem}.gz", dotted, f"{dotted}.gz"]


def find_in_dir(directory: Path) -> tuple[dict[tuple[str, str], Path], list[str]]:
    """(files found, stems missing) for the four IDX files in ``directory``."""
    found: dict[tuple[str, str], Path] = {}
    missing: list[str] = []
    for key, stem in IDX_STEMS.items():
        paths = (directory / n for n in file_candidates(stem))
        hit = next((p for p in paths if p.is_file()), None)
        if hit is None:
            missing.append(stem)
        else:
            found[key] = hit
    return found, missing


def _search(place: Place, info: DatasetInfo, notes: list[str]) -> Found | None:
    assert place.path is not None
    partial = False
    for d in layout_dirs(place.path, info):
        if not d.is_dir():
            continue
        found, missing = find_in_dir(d)
        if not missing:
            return Found(place, d, found)
        if found:
            partial = True
            have = ", ".join(p.name for p in found.values())
            notes.append(f"{d}: has {have}; missing {', '.join(m + '[.gz]' for m in missing)}")
    if not partial:
        notes.append(f"no IDX files there (flat or in {info.folder}/raw/)")
    return None


def locate(name: str, data_dir: str | Path | None = None, *, download: bool = True) -> Found:
    """Run the resolution order; raise DataNotFoundError listing every place looked."""
    info = get_info(name)
    if not info.is_real:
        raise ValueError(f"{info.name} is generated, not read from files")
    report: list[str] = []
    places = candidate_places(name, data_dir)
    if places[0].path is not None:
        return _explicit(places[0], info)
    for i, place in enumerate(places, 1):
        if place.path is None:
            report.append(f"  {i}. {place.label}: not set")
            continue
        if not place.path.is_dir():
            state = "not a directory" if place.path.exists() else "does not exist"
            report.append(f"  {i}. {place.label}: {place.path} ({state})")
            continue
        notes: list[str] = []
        found = _search(place, info, notes)
        if found:
            return found
        report.append(f"  {i}. {place.label}: {place.path}")
        report += [f"       {n}" for n in notes]
    step = len(places) + 1
    target = cache_dir()
    if not download:
        report.append(f"  {step}. torchvision download into {target}: off (download=False)")
    elif not info.torchvision_cls:
        report.append(f"  {step}. torchvision download: not available for {info.name}")
    else:
        try:
            _torchvision_download(info, target)
        except Exception as e:  # URLError, RuntimeError("Error downloading ..."), OSError, ...
            why = " ".join(str(e).split())  # torchvision's messages span lines
            report.append(
                f"  {step}. torchvision download into {target}: failed ({type(e).__name__}: {why})"
            )
        else:
            place = Place("download", "torchvision download", target)
            d = target / str(info.folder) / "raw"
            files, missing = find_in_dir(d)
            if not missing:
                return Found(place, d, files)
            report.append(f"  {step}. torchvision download into {target}: {d} lacks {missing}")
    raise DataNotFoundError(_message(info, report))


def _explicit(place: Place, info: DatasetInfo) -> Found:
    """An explicit data_dir is what the user meant: never fall back to another copy."""
    assert place.path is not None
    if not place.path.is_dir():
        state = "is not a directory" if place.path.exists() else "does not exist"
        raise DataNotFoundError(f"{info.name}: --data-dir {place.path} {state}")
    notes: list[str] = []
    found = _search(place, info, notes)
    if found:
        return found
    names = ", ".join(IDX_STEMS.values())
    raise DataNotFoundError("\n".join(
        [f"{info.name}: --data-dir {place.path} lacks the IDX files ({names}, raw or .gz, "
         f"flat or in {info.folder}/raw/):"] + [f"  {n}" for n in notes]))


def _message(info: DatasetInfo, report: list[str]) -> str:
    names = ", ".join(IDX_STEMS.values())
    how = [
        f"  - pass data_dir=DIR (CLI --data-dir DIR) or set {DEFAULT_ENV_VAR}=DIR, where DIR holds",
        f"    the four files flat or in torchvision's layout DIR/{info.folder}/raw/;",
        f"  - or copy the four IDX files into {cache_dir() / str(info.folder) / 'raw'}/;",
    ]
    if info.name in _DEBIAN_PACKAGES:
        how.append(
            f"  - or apt-get install {_DEBIAN_PACKAGES[info.name]} "
            f"(installs to {DEBIAN_DIRS[info.name]}/);"
        )
    how.append("  - or allow the torchvision download (download=True, network access).")
    return "\n".join(
        [f"{info.name}: IDX files not found. Looked for {names} (raw or .gz) in:"]
        + report
        + ["To provide the data:"]
        + how
    )


def _torchvision_download(info: DatasetInfo, root: Path) -> None:
    """Let torchvision fetch (and md5-check) the four .gz files into root/<Folder>/raw/."""
    import torchvision.datasets

    cls = getattr(torchvision.datasets, str(info.torchvision_cls))
    root.mkdir(parents=True, exist_ok=True)
    cls(root=str(root), train=True, download=True)
