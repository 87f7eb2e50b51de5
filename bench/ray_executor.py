"""Running the suite on Ray: one task per case, scheduled onto a cluster's GPUs (or CPUs).

    cnnbench run --executor ray [--ray-address ADDR] [--case-timeout S] [-- pytest args]

The driver collects the case ids with pytest, exactly as the local run selects them (``-k``,
``--archs``, ``--amp``, ``--repeats``, ``--shard``...). Each case then becomes one Ray task that
runs that one case through the same pytest entry point in a subprocess on its node, into a
private folder, and returns the case's record, its pytest-benchmark JSON and its pictures and
traces. The driver writes each record to ``<results-dir>/<run>.jsonl`` as it arrives (so a
killed driver keeps every finished case), unpacks the files under the results dir, and saves one
pytest-benchmark JSON for the run where ``--benchmark-save`` would have put it.

* Timing: a CUDA task asks for ``num_gpus=1``, so Ray runs one case per GPU at a time.
* Faults: a task whose worker process dies (node lost, killed) is retried ``max_retries``
  times; it wrote nothing to the results, so each case is recorded once. A case that fails
  (diverged, oom, error) returns its record like any other and is not retried. A case still
  running after ``case_timeout`` seconds is stopped (SIGTERM, then SIGKILL) and recorded as
  ``timeout``; the sweep goes on.
* Code on the nodes: Ray's ``runtime_env`` ships the ``cnnbench`` package alone
  (``py_modules``: a copy of its modules without tests, a few hundred KB), whether it is
  installed from a wheel or editable from a checkout; never the environment around it.
  Python packages (torch...) must be installed on every node.
* Device: the driver only collects case ids, on the CPU (ids do not depend on the device), so
  a CPU-only head node can drive a ``--device cuda`` sweep.
* Data: each node resolves it with the usual search order; a node without it records the case
  as an error with pytest's message and the node's name.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from cnnbench.record import (
    ARTIFACTS_DIR,
    BENCHMARKS_DIR,
    SCHEMA_VERSION,
    TRACES_DIR,
    append_jsonl,
    check_run_id,
    read_jsonl,
    records_file,
)

from . import child

PLUGIN = "cnnbench.bench.plugin"
CASES_MODULE = "cnnbench.bench.test_archs"
PACKAGES = ("cnnbench", "cnnbench.bench", "cnnbench.models", "cnnbench.data", "cnnbench.reports")
# A case of the full profile trains for minutes on a GPU; an hour means it hangs.
CASE_TIMEOUT = 3600.0
# After SIGTERM, the case's pytest gets this long to write its interrupted record and JSON.
TERM_GRACE = 30.0
# Test hook: a path; the first task that finds no file there creates it and kills its own
# worker mid-case, once, so the retry path runs for real.
KILL_ONCE_ENV = "CNNBENCH_RAY_TEST_KILL_ONCE"
# Folders of the per-case output the driver brings home (the JSONL line is returned as data).
FILE_FOLDERS = (ARTIFACTS_DIR, TRACES_DIR)
# pytest prints a usage error (bad option, no data on this node) as "ERROR: ..." lines.
ERROR_PREFIX = "ERROR: "


@dataclass(frozen=True)
class Suite:
    """What every task needs to run its case."""

    run_id: str
    pytest_args: tuple[str, ...]  # the profile's and the user's, as the local run gets them
    device: str = "auto"
    max_retries: int = 2
    cpus_per_case: int = 1
    case_timeout: float = CASE_TIMEOUT
    gpu: bool = False
    env: dict = field(default_factory=dict)  # extra environment for the pytest subprocess


# ---- collection (driver) ------------------------------------------------------------------

def cases_file(cwd: Path | None = None, env: dict | None = None) -> str:
    """The case module's file as a ``python`` started in ``cwd`` with ``env`` finds it: the
    plugin in that pytest only knows its own copy, and a Ray worker's sys.path (the driver's
    folder first) can resolve cnnbench elsewhere than its child, which sees Ray's py_modules."""
    code = f"import importlib.util; print(importlib.util.find_spec({CASES_MODULE!r}).origin)"
    proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True,
                          text=True, check=True)
    return proc.stdout.strip()


def collect(suite: Suite, cwd: Path | None = None, results_dir: Path | None = None) -> list[str]:
    """The case ids the local run would execute, in its order; CollectError with pytest's
    message and exit code when the options or the data are wrong, or nothing is selected.
    With ``results_dir``, the plugin's start checks (writable, file names fit, a reused run id)
    run against the folder the driver will write, before any task starts."""
    where = ["--results-dir", str(results_dir), "--run-id", suite.run_id] if results_dir else []
    env = {**os.environ, **suite.env}
    cmd = [sys.executable, "-m", "pytest", cases_file(cwd, env), "--collect-only", "-q",
           "-p", PLUGIN, "-p", "no:cacheprovider", *suite.pytest_args, *where, "--device", "cpu"]
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    ids = [line.strip() for line in proc.stdout.splitlines() if "::" in line]
    if proc.returncode != 0 or not ids:
        why = _errors(proc.stdout + proc.stderr) or (proc.stdout + proc.stderr).strip()[-2000:]
        raise CollectError(f"pytest selected no cases (exit {proc.returncode}): {why}",
                           proc.returncode or 5)
    return ids


class CollectError(ValueError):
    def __init__(self, message: str, returncode: int):
        super().__init__(message)
        self.returncode = returncode


def _errors(output: str) -> str:
    """pytest's usage error, all its lines (a missing data set lists every place looked)."""
    lines = output.splitlines()
    first = next((i for i, line in enumerate(lines) if line.startswith(ERROR_PREFIX)), None)
    if first is None:
        return ""
    return "\n".join([lines[first].removeprefix(ERROR_PREFIX), *lines[first + 1:]]).strip()


def worker_args(args: tuple[str, ...]) -> list[str]:
    """The pass-through arguments without ``--shard``: the driver's collection already applied
    it, and a one-case session would otherwise shard that one case away."""
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a == "--shard":
            skip = True
        elif not a.startswith("--shard="):
            out.append(a)
    return out


def case_id_of(nodeid: str) -> str:
    return nodeid[nodeid.index("[") + 1:-1] if "[" in nodeid else nodeid


# ---- the task (worker) --------------------------------------------------------------------

def node_info() -> dict:
    info = {"hostname": socket.gethostname(), "ray_node_id": None, "ray_node_ip": None}
    try:
        import ray

        ctx = ray.get_runtime_context()
        info["ray_node_id"] = ctx.get_node_id()
        info["ray_node_ip"] = ray.util.get_node_ip_address()
    except Exception:  # noqa: BLE001 - outside a Ray worker (tests call run_case directly)
        pass
    return info


def run_case(nodeid: str, suite: Suite) -> dict:
    """Run one case (by its id) with pytest on this node, with the cnnbench Ray shipped;
    return its record, benchmark JSON and files."""
    with tempfile.TemporaryDirectory(prefix="cnnbench-ray-") as tmp:
        out = Path(tmp)
        env = {**os.environ, **suite.env}
        cmd = [sys.executable, "-m", "pytest", f"{cases_file(out, env)}::test_train[{nodeid}]",
               "-p", PLUGIN, "-p", "no:cacheprovider", "-q",
               "--device", suite.device, "--results-dir", str(out / "results"),
               "--run-id", suite.run_id, "--benchmark-json", str(out / "bench.json"),
               *worker_args(suite.pytest_args)]
        # child.spawn: the case's pytest dies with this worker (PR_SET_PDEATHSIG), so a killed
        # worker never leaves it training on a GPU the next task is given.
        proc = child.spawn(cmd, cwd=out, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, env=env)
        _maybe_kill_once(proc, out)
        try:
            output, _ = proc.communicate(timeout=suite.case_timeout)
        except BaseException as exc:  # ray.cancel raises KeyboardInterrupt in the task
            if not isinstance(exc, subprocess.TimeoutExpired):
                _stop(proc)  # the case records itself as interrupted, then stops
                raise
            output = _stop(proc)
            result = _collect_result(nodeid, suite, out, output, proc.returncode)
            result["record"].update(status="timeout", error=(
                f"still running after {suite.case_timeout:g} s (--case-timeout): stopped"))
            return result
        return _collect_result(nodeid, suite, out, output, proc.returncode)


def _stop(proc: subprocess.Popen) -> str:
    """SIGTERM, so the case records itself as interrupted; SIGKILL if it does not stop."""
    proc.terminate()
    try:
        output, _ = proc.communicate(timeout=TERM_GRACE)
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
    return output or ""


def _maybe_kill_once(proc: subprocess.Popen, tmp: Path) -> None:
    marker = os.environ.get(KILL_ONCE_ENV)
    if not marker:
        return
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)  # atomically: once
    except FileExistsError:
        return
    os.close(fd)
    time.sleep(1.0)  # let the case start: the kill lands mid-case, not before it
    proc.kill()
    proc.wait()
    shutil.rmtree(tmp, ignore_errors=True)  # os._exit skips the TemporaryDirectory cleanup
    os._exit(1)


def _collect_result(nodeid: str, suite: Suite, out: Path, output: str, rc: int) -> dict:
    node = node_info()
    jsonl = records_file(out / "results", suite.run_id)
    records = read_jsonl(jsonl) if jsonl.exists() else []
    if len(records) > 1:
        raise RuntimeError(f"{nodeid}: pytest wrote {len(records)} records for one case")
    record = records[0] if records else failure_record(
        nodeid, suite.run_id, f"pytest exit {rc} without a record on {node['hostname']}: "
        + (_errors(output) or output.strip()[-2000:]))
    record.update(node)
    bench = json.loads((out / "bench.json").read_text()) if (out / "bench.json").exists() \
        else None
    return {"nodeid": nodeid, "record": record, "benchmark": bench, "worker_root":
            str(out / "results"), "files": _pack(out / "results")}


def failure_record(nodeid: str, run_id: str, error: str) -> dict:
    """The record of a case the runner never got to (no data on the node, a lost worker)."""
    from cnnbench import models

    case = case_id_of(nodeid)
    archs = [a for a in models.list_archs("*") if case.startswith(a + "-")]
    record = {"schema_version": SCHEMA_VERSION, "run_id": run_id, "case_id": case,
              "arch": None, "status": "error", "error": error}
    if archs:  # the report sorts and groups by the architecture's family
        spec = models.get_spec(max(archs, key=len))
        record.update(arch=spec.name, family=spec.family, tags=list(spec.tags))
    return record


def _pack(root: Path) -> bytes | None:
    """The case's pictures and traces, as a gzipped tar (relative to ``root``)."""
    folders = [root / f for f in FILE_FOLDERS if (root / f).is_dir()]
    if not folders:
        return None
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for f in folders:
            tar.add(f, arcname=f.name)
    return buf.getvalue()


# ---- results (driver) ---------------------------------------------------------------------

def rehome(result: dict, results_dir: Path) -> dict:
    """Unpack the task's files under ``results_dir`` and point the record's paths there."""
    if not result["worker_root"]:
        return result
    if result["files"]:
        with tarfile.open(fileobj=io.BytesIO(result["files"]), mode="r:gz") as tar:
            # The "data" filter refuses links and paths out of results_dir (Python >= 3.11.4).
            safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tar.extractall(results_dir, **safe)
    old, new = json.dumps(result["worker_root"])[1:-1], json.dumps(str(results_dir))[1:-1]
    for key in ("record", "benchmark"):
        if result[key] is not None:
            result[key] = json.loads(json.dumps(result[key]).replace(old, new))
    return result


def _node_fields(result: dict) -> dict:
    return {k: result["record"].get(k) for k in ("hostname", "ray_node_id", "ray_node_ip")}


def as_saved(result: dict, suite: Suite, nodeid: str) -> dict:
    """The task's benchmark JSON as ``--benchmark-save`` would store it: named by the node id
    the driver collected (the task's own names the copy Ray unpacked), its extra_info gets the
    node too, and the per-round timings only with --benchmark-save-data (the task wrote them
    with --benchmark-json, which always includes them)."""
    keep_data = "--benchmark-save-data" in suite.pytest_args
    for b in result["benchmark"]["benchmarks"]:
        b["fullname"] = nodeid
        b.setdefault("extra_info", {}).update(_node_fields(result))
        if not keep_data:
            b.get("stats", {}).pop("data", None)
    return result["benchmark"]


def save_benchmarks(outputs: list[dict], storage: Path, name: str) -> Path | None:
    """One pytest-benchmark JSON for the run, at ``<storage>/<machine id>/NNNN_<name>.json``
    (where ``--benchmark-save NAME --benchmark-storage file://STORAGE`` puts it)."""
    from pytest_benchmark.storage.file import FileStorage
    from pytest_benchmark.utils import get_machine_id

    from .distributed import merge

    if not outputs:
        return None
    merged = merge(outputs)
    store = FileStorage(storage, logger=_QuietLogger(), default_machine_id=get_machine_id())
    store.save(merged, name)  # returns nothing; the newest NNNN_<name>.json is ours
    return max(store.path.joinpath(store.default_machine_id).glob(f"[0-9]*_{name}.json"))


class _QuietLogger:
    def info(self, *a, **k):
        pass

    warning = debug = error = info


# ---- the driver ---------------------------------------------------------------------------

def connect(address: str | None = None, **init_options) -> None:
    """Join the cluster at ``address`` (None: start an embedded local one) for this job.

    working_dir ships this source tree to every node (git-ignored files such as results/ and
    .venv/ stay home), so a node needs the Python packages but not a checkout. Ray takes a
    local folder only here, for the whole job, not per task."""
    import ray

    with tempfile.TemporaryDirectory(prefix="cnnbench-ray-pkg-") as tmp:
        # Ray zips and uploads the folder during init; the copy is not needed after it.
        staged = stage_package(Path(tmp))
        ray.init(address=address, runtime_env={"py_modules": [str(staged)]},
                 log_to_driver=False, **init_options)


def stage_package(into: Path) -> Path:
    """A copy of the cnnbench package as a wheel lays it out, without tests or caches: from a
    checkout its subpackages live in four top-level folders, so shipping ``cnnbench/`` alone
    would leave them behind."""
    import importlib.util

    root = into / "cnnbench"
    for name in PACKAGES:
        src = Path(importlib.util.find_spec(name).submodule_search_locations[0])
        dest = root.joinpath(*name.split(".")[1:])
        shutil.copytree(src, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
            "tests", "__pycache__", "*.pyc", *(p.split(".")[1] for p in PACKAGES[1:])
            if name == "cnnbench" else ()))
    return root


def submit(suite: Suite, nodeids: list[str]) -> dict:
    """One Ray task per case: a whole GPU each on CUDA (one case per GPU at a time)."""
    import ray

    resources = {"num_gpus": 1, "num_cpus": 1} if suite.gpu else \
        {"num_gpus": 0, "num_cpus": suite.cpus_per_case}
    task = ray.remote(run_case).options(max_retries=suite.max_retries,
                                         runtime_env={"env_vars": dict(suite.env)}, **resources)
    return {task.remote(case_id_of(nodeid), suite): nodeid for nodeid in nodeids}


def lost_result(nodeid: str, suite: Suite, exc: BaseException) -> dict:
    """A task that raised or whose worker died more than ``max_retries`` times."""
    why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    record = failure_record(nodeid, suite.run_id,
                            f"Ray task failed ({type(exc).__name__}, after up to "
                            f"{suite.max_retries} retries): {why}")
    record.update(hostname=getattr(exc, "ip", None), ray_node_id=None, ray_node_ip=None)
    return {"nodeid": nodeid, "record": record, "benchmark": None, "worker_root": "",
            "files": None}


def run_on_ray(run_id: str, results_dir: Path, device: str, address: str | None,
               pytest_args: list[str], **options) -> int:
    """The main job's "run the suite" step on Ray. pytest's exit codes: 0 every case ok,
    1 some case failed (recorded), 4 the options or the data were refused, 5 nothing selected.
    ``options``: the other Suite fields (max_retries, cpus_per_case, env)."""
    try:  # the one run-id check, as every entry point applies it (it names files below)
        check_run_id(run_id)
    except ValueError as e:
        print(f"cnnbench: {e}", file=sys.stderr)
        return 4
    import ray

    started = not ray.is_initialized()
    if started:  # no address: an embedded local cluster with this machine's CPUs and GPUs
        connect(address)
    try:
        gpu = device.startswith("cuda") or (device == "auto"
                                            and ray.cluster_resources().get("GPU", 0) > 0)
        suite = Suite(run_id, tuple(pytest_args), device, gpu=gpu, **options)
        try:
            nodeids = collect(suite, results_dir=Path(results_dir))
        except CollectError as e:
            print(f"cnnbench: {e}", file=sys.stderr)
            return e.returncode
        where = "GPU" if gpu else f"{suite.cpus_per_case} CPU(s)"
        res = ray.cluster_resources()
        print(f"cnnbench: {len(nodeids)} cases on Ray ({len(ray.nodes())} node(s), "
              f"{res.get('GPU', 0):g} GPUs, {res.get('CPU', 0):g} CPUs), one task per case "
              f"with {where} each", flush=True)
        return _drive(suite, nodeids, Path(results_dir))
    finally:
        if started:
            ray.shutdown()


def _drive(suite: Suite, nodeids: list[str], results_dir: Path) -> int:
    import ray

    from .ray_progress import Tracker

    pending = submit(suite, nodeids)
    tracker = Tracker(len(nodeids), slots=_slots(suite))
    jsonl = records_file(results_dir, suite.run_id)
    outputs, failed, stopped = [], 0, None
    results_dir.mkdir(parents=True, exist_ok=True)
    child.stop_on_sigterm()  # SIGTERM to the driver: like Ctrl-C, cancel and keep what finished
    try:
        while pending:
            (ref,), _ = ray.wait(list(pending), num_returns=1)
            nodeid = pending.pop(ref)
            try:
                result = ray.get(ref)
            except Exception as exc:  # noqa: BLE001 - RayTaskError, WorkerCrashedError, ...
                result = lost_result(nodeid, suite, exc)
            result = rehome(result, results_dir)
            append_jsonl(jsonl, result["record"])
            if result["benchmark"] is not None:
                outputs.append(as_saved(result, suite, nodeid))
            failed += result["record"]["status"] != "ok"
            tracker.finished(result["record"], running=len(pending))
    except KeyboardInterrupt as exc:
        # Each cancelled task stops its pytest (run_case); the finished cases are saved below.
        stopped = 143 if isinstance(exc, child.Terminated) else 130
        for ref in pending:
            ray.cancel(ref)
        print(f"cnnbench: stopped; {len(pending)} running or waiting cases cancelled",
              file=sys.stderr, flush=True)
    tracker.close()
    path = save_benchmarks(outputs, results_dir / BENCHMARKS_DIR, suite.run_id)
    print(f"cnnbench: {len(nodeids)} cases, {failed} failed; records in {jsonl}"
          + (f"; benchmarks in {path}" if path else ""), flush=True)
    return stopped or (1 if failed else 0)


def _slots(suite: Suite) -> int:
    """How many cases the cluster runs at once (for the running count and the ETA)."""
    import ray

    res = ray.cluster_resources()
    if suite.gpu:
        return max(int(res.get("GPU", 0)), 1)
    return max(int(res.get("CPU", 1)) // suite.cpus_per_case, 1)
