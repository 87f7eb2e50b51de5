"""Which files of a run the report may embed or link: only those inside the run's own results
folder, found by the layout (``cnnbench.record``: ``artifacts/<run>/<case>/kernels.png``,
``traces/<run>/<case>/``), never by a path a record names.

A record is data from anywhere (a hand-edited JSONL, a downloaded CI artifact): a
``kernels_image`` of ``/proc/self/environ`` would otherwise be base64-embedded in the page, and
a ``trace_dir`` of ``/`` would make the report walk the whole filesystem. Here the run and case
ids must be plain names (``record.name_problem``), every candidate is resolved (symlinks
followed) and must still lie inside the results folder, and a trace folder is listed to a fixed
depth and count.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from cnnbench.record import ARTIFACT_FILES, ARTIFACTS_DIR, TRACES_DIR, name_problem

TRACE_SUFFIXES = (".pt.trace.json.gz", ".pt.trace.json", ".json.gz")
MAX_TRACE_ENTRIES = 200  # a case writes one trace file; a huge folder is not ours to walk
MAX_TRACE_DEPTH = 2


def _get(row, key):
    try:
        v = row[key]
    except (KeyError, IndexError):
        return None
    return v if isinstance(v, str) and v else None


def results_root(row) -> Path | None:
    """The folder holding the row's run (where its JSONL was read), resolved."""
    root = _get(row, "results_dir")
    return Path(root).resolve() if root else None


def _inside(path: Path, root: Path) -> Path | None:
    """``path`` resolved, when it is still inside ``root`` (a symlink out of it is not)."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return None
    return resolved if resolved == root or resolved.is_relative_to(root) else None


def _ids(row) -> tuple[Path, str, str] | None:
    root = results_root(row)
    run, case = _get(row, "run_id") or _get(row, "run"), _get(row, "case_id")
    if root is None or name_problem(run) or name_problem(case):
        return None
    return root, run, case


def artifact(row, field: str) -> str | None:
    """The row's picture or checkpoint (``field``: a key of ``ARTIFACT_FILES``), as an existing
    regular file inside the results folder; None when there is none."""
    ids = _ids(row)
    if ids is None:
        return None
    root, run, case = ids
    name = ARTIFACT_FILES[field]
    # The runner's layout, then the flat one of the test fixtures (make_fixtures.py), which
    # is keyed by the case id too.
    for candidate in (root / ARTIFACTS_DIR / run / case / name,
                      root / "images" / f"{case}_{name}"):
        path = _inside(candidate, root)
        if path is not None and path.is_file():
            return str(path)
    return None


def trace_folder(row) -> Path | None:
    """The row's profiler trace folder (``traces/<run>/<case>``, or the fixtures'
    ``traces/<case>``), when it exists inside the results folder."""
    ids = _ids(row)
    if ids is None:
        return None
    root, run, case = ids
    for candidate in (root / TRACES_DIR / run / case, root / TRACES_DIR / case):
        path = _inside(candidate, root)
        if path is not None and path.is_dir():
            return path
    return None


def trace_files(folder: Path, root: Path) -> list[Path]:
    """Trace files under ``folder``: at most MAX_TRACE_DEPTH levels down and MAX_TRACE_ENTRIES
    entries looked at, symlinks not followed, each file inside ``root``; sorted by name."""
    found: list[Path] = []
    seen = 0
    stack = [(folder, 0)]
    while stack and seen < MAX_TRACE_ENTRIES:
        current, depth = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries[: MAX_TRACE_ENTRIES - seen]:
            seen += 1
            if entry.is_dir(follow_symlinks=False) and depth + 1 < MAX_TRACE_DEPTH:
                stack.append((Path(entry.path), depth + 1))
            elif entry.is_file(follow_symlinks=False) and entry.name.endswith(TRACE_SUFFIXES) \
                    and _inside(Path(entry.path), root) is not None:
                found.append(Path(entry.path))
    return sorted(found, key=lambda p: p.name)


# ---------------------------------------------------------------- where a page is written

RECORD_SUFFIXES = (".json", ".jsonl")


def page_path(output: str, inputs: list[Path]) -> Path:
    """The file a page goes to: ``output``, or ``report.html`` inside it when it is a folder
    or ends with ``/`` (created). ValueError when it would overwrite a file read as input or
    any record file (a page written over ``RUN.jsonl`` destroys the run)."""
    path = Path(output)
    if output.endswith(("/", os.sep)) or path.is_dir():
        path = path / "report.html"
    target = path.resolve()
    if any(target == Path(f).resolve() for f in inputs):
        raise ValueError(f"{output}: is one of the inputs; refusing to write the page over it")
    if target.suffix in RECORD_SUFFIXES:
        raise ValueError(f"{output}: a {target.suffix} name is for records, not a page; "
                         "refusing to write HTML there (use .html)")
    return path


@contextlib.contextmanager
def replaced_atomically(path: Path):
    """Yields a temporary name beside ``path``; when the block succeeds, it is renamed to
    ``path`` (one rename: a reader sees the old file or the whole new one, and a full disk
    leaves the old page, never a truncated one). On failure the temporary file is removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the page from a web server
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
