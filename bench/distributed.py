"""Running the suite with pytest-xdist: one worker per GPU, and one saved result for all workers.

pytest-benchmark turns itself off under xdist ("cannot be performed reliably in a parallelized
environment"): true when workers share one device, not when each worker owns a GPU. So:

* worker gwN pins itself to GPU N mod (number of GPUs) through CUDA_VISIBLE_DEVICES, once it
  has collected cases and before any touches CUDA (on the CPU there is nothing to pin; ``-n 2``
  on a 2-core machine still runs two cases at once, which is fine for tests and useless for
  timing);
* each worker that collected cases re-enables pytest-benchmark, skips its own saving, and
  rewrites its JSON to its own file in a folder the controller made, after every case (so a
  worker that crashes, or is killed, has still left every case it finished);
* the controller merges those files into one saved exactly where pytest-benchmark would have
  put it (``--benchmark-save``/``--benchmark-autosave``/``--benchmark-json``).
The runner's JSONL needs nothing: every worker appends whole lines to the same file.

Registered as a plugin by ``bench/plugin.py``, whose session object holds its state. A worker
that collected no case changes nothing: pytest-benchmark's own xdist rule stands, no GPU is
pinned and no torch is imported.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from cnnbench.bench import plugin

KEY_DIR = "cnnbench_benchmark_dir"
JSON_DIR = pytest.StashKey[str]()  # controller: where the workers write their JSON
# Fault injection for the tests: the worker with this id (e.g. gw1) exits hard, as a crash would,
# right after its first case.
CRASH_ENV = "CNNBENCH_TEST_CRASH_WORKER"


def _benchmark_session(config):
    return getattr(config, "_benchmarksession", None)


def visible_gpus() -> list[str]:
    """The GPUs this process may use, without initialising CUDA (which would freeze
    CUDA_VISIBLE_DEVICES): the variable's own list, else nvidia-smi's."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return [g.strip() for g in listed.split(",") if g.strip()]
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [str(i) for i, line in enumerate(out.stdout.splitlines()) if line.startswith("GPU")]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """Controller, once per worker: the folder the workers write their JSON to."""
    config = node.config
    if JSON_DIR not in config.stash:
        config.stash[JSON_DIR] = tempfile.mkdtemp(prefix="cnnbench-xdist-")
    node.workerinput[KEY_DIR] = config.stash[JSON_DIR]


def pytest_collection_finish(session):
    """Worker, once it knows it has cases (before the first one touches CUDA): its GPU, and
    benchmarks back on."""
    config = session.config
    worker = getattr(config, "workerinput", None)
    if worker is None or not plugin.session(config).case_items:
        return
    gpus = [] if config.getoption("--device") == "cpu" else visible_gpus()
    if gpus:
        index = int(worker["workerid"].removeprefix("gw"))
        os.environ["CUDA_VISIBLE_DEVICES"] = gpus[index % len(gpus)]
    bs = _benchmark_session(config)
    if bs is not None and bs.xdist_warning:
        # Re-enable what pytest-benchmark switched off for xdist, and leave saving to the
        # controller (else each worker would write its own NNNN_name.json).
        bs.disabled = False
        bs.xdist_warning = False
        plugin.session(config).held_save = (bs.save, bs.autosave, bs.json)
        bs.save, bs.autosave, bs.json = None, None, None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Worker, after each test (teardown done, so its stats are complete): rewrite its JSON."""
    yield
    config = item.config
    worker = getattr(config, "workerinput", None)
    if worker is None or KEY_DIR not in worker:
        return
    bs = _benchmark_session(config)
    if bs is not None and bs.benchmarks and plugin.session(config).held_save:
        path = Path(worker[KEY_DIR]) / f"{worker['workerid']}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(_generate_json(config, bs), default=repr))
        os.replace(tmp, path)  # whole or not at all, even if the worker dies mid-write
    if os.environ.get(CRASH_ENV) == worker["workerid"]:
        os._exit(3)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session):
    config = session.config
    folder = config.stash.get(JSON_DIR, None)
    if getattr(config, "workerinput", None) is not None or folder is None:
        return
    outputs = [json.loads(p.read_text()) for p in sorted(Path(folder).glob("*.json"))]
    shutil.rmtree(folder, ignore_errors=True)
    bs = _benchmark_session(config)
    if bs is not None and outputs:
        _save_merged(config, bs, outputs)


def _generate_json(config, bs) -> dict:
    machine_info = bs.get_machine_info()
    commit_info = config.hook.pytest_benchmark_generate_commit_info(config=config)
    config.hook.pytest_benchmark_update_commit_info(config=config, commit_info=commit_info)
    return config.hook.pytest_benchmark_generate_json(
        config=config, benchmarks=bs.benchmarks, include_data=True,
        machine_info=machine_info, commit_info=commit_info)


def merge(outputs: list[dict]) -> dict:
    """One pytest-benchmark JSON from several: the first's header, every benchmark, sorted."""
    merged = dict(outputs[0])
    merged["benchmarks"] = sorted((b for o in outputs for b in o.get("benchmarks", [])),
                                  key=lambda b: b.get("fullname", ""))
    workers = [o.get("machine_info", {}).get("cnnbench", {}) for o in outputs]
    merged.setdefault("machine_info", {})["cnnbench_workers"] = workers
    return merged


def _save_merged(config, bs, outputs: list[dict]) -> None:
    merged = merge(outputs)
    save = bs.save or bs.autosave
    if save:
        bs.storage.save(merged, save)
    if bs.json:
        bs.save_json(merged)
    tr = config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None:
        tr.write_line(f"cnnbench: merged {len(merged['benchmarks'])} benchmarks from "
                      f"{len(outputs)} xdist workers")
