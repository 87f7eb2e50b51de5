"""pytest wiring for the suite: options, one case per registered architecture, machine info.

    pytest bench/ --benchmark-save=NAME [--epochs N] [--dataset fashion-mnist] [--amp off,bf16] ...

Test ids are ``<arch>-<dataset>-<precision>-r<repeat>``; select with ``-k`` or ``--archs``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parent
UNIT_TESTS = BENCH_DIR / "tests"


def pytest_addoption(parser):
    g = parser.getgroup("cnnbench", "cnnbench: training benchmark options")
    g.addoption("--archs", default="*", help="shell-style pattern(s), comma-separated [*]")
    g.addoption("--epochs", type=int, default=None, help="timed epochs [the recipe's]")
    g.addoption("--dataset", default="fashion-mnist",
                help="mnist, fashion-mnist, kmnist or synthetic; comma-separated [fashion-mnist]")
    g.addoption("--data-dir", default=None, help="directory holding the IDX files")
    g.addoption("--device", default="auto", help="auto, cuda, cuda:N or cpu [auto]")
    g.addoption("--amp", default="off", help="off, fp16, bf16; comma-separated [off]")
    g.addoption("--tf32", action=argparse_bool(), default=False,
                help="allow TF32 matmuls/convolutions on Ampere+ [--no-tf32]")
    g.addoption("--channels-last", action="store_true", default=False)
    g.addoption("--mode", default="eager",
                help="eager, compile or graphs (CUDA-graph-captured training step); "
                     "comma-separated [eager]")
    g.addoption("--compile", nargs="?", const="default", default=None, metavar="MODE",
                help="torch.compile mode (default, reduce-overhead, max-autotune); "
                     "implies --mode compile")
    g.addoption("--batch-size", type=int, default=None, help="override the recipe's batch size")
    g.addoption("--lr", type=float, default=None, help="override the recipe's learning rate")
    g.addoption("--limit-train", type=int, default=None,
                help="train on a stratified subset of N images")
    g.addoption("--val-size", type=int, default=None,
                help="validation images carved from the training split [5000; synthetic: 256]")
    g.addoption("--recipe", default="uniform", choices=["uniform", "seed"],
                help="uniform: one recipe for all (fair comparison, default); "
                     "seed: each study's own")
    g.addoption("--repeats", type=int, default=1, help="repeat each case with seeds seed..seed+K-1")
    g.addoption("--seed", type=int, default=0)
    g.addoption("--target-acc", type=float, default=None,
                help="validation accuracy for time-to-accuracy, e.g. 0.9")
    g.addoption("--profile", action=argparse_bool(), default=True,
                help="run the untimed profiler window after training [--profile]")
    g.addoption("--trace-dir", default=None, help="profiler traces [<results-dir>/traces]")
    g.addoption("--loader", default="resident",
                help="resident (data held on the device) or dataloader (notebook-style); "
                     "comma-separated [resident]")
    g.addoption("--num-workers", type=int, default=2, help="DataLoader workers [2]")
    g.addoption("--results-dir", default="results", help="JSONL records and pictures [results]")
    g.addoption("--run-id", default=None,
                help="name of this run [--benchmark-save NAME, else a timestamp]")
    g.addoption("--no-artifacts", action="store_true", default=False,
                help="skip the kernel and feature-map pictures")
    g.addoption("--save-checkpoint", action="store_true", default=False)
    g.addoption("--shard", default=None, metavar="K/N",
                help="run only the K-th of N interleaved slices of the cases (K = 1..N), to "
                     "spread a sweep over N machines")


def argparse_bool():
    import argparse

    return argparse.BooleanOptionalAction


def pytest_ignore_collect(collection_path, config):
    # `pytest bench/` runs the benchmark cases only; the runner's unit tests run when named
    # (the test command's testpaths name bench/tests).
    if collection_path == UNIT_TESTS:
        named = [Path(a.split("::")[0]).resolve() for a in config.args]
        return not any(p == UNIT_TESTS or UNIT_TESTS in p.parents for p in named)
    return None


def _run_id(config) -> str:
    worker = getattr(config, "workerinput", None)
    if worker and worker.get("cnnbench_run_id"):
        return worker["cnnbench_run_id"]
    return (config.getoption("--run-id") or config.getoption("benchmark_save", None)
            or dt.datetime.now().strftime("%Y%m%d-%H%M%S"))


@pytest.hookimpl(trylast=True)  # after pytest-benchmark has set up its session
def pytest_configure(config):
    config._cnnbench_run_id = _run_id(config)
    from bench import distributed

    if not config.pluginmanager.is_registered(distributed):
        config.pluginmanager.register(distributed, "cnnbench-distributed")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):  # pytest-xdist: every worker writes under the same run id
    node.workerinput["cnnbench_run_id"] = node.config._cnnbench_run_id


class Case(str):
    """One benchmark case: its id as a string (so pytest-benchmark's JSON params stay readable),
    carrying the architecture name and the RunConfig."""

    def __new__(cls, arch: str, config):
        from bench.runner import case_id

        self = super().__new__(cls, case_id(arch, config))
        self.arch, self.config = arch, config
        return self

    @property
    def id(self) -> str:
        return str(self)


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def build_config(config, **fields):
    from bench.config import RunConfig

    opt = config.getoption
    try:
        return RunConfig(
            epochs=opt("--epochs"), data_dir=opt("--data-dir"), device=opt("--device"),
            tf32=opt("--tf32"), channels_last=opt("--channels-last"), compile=opt("--compile"),
            batch_size=opt("--batch-size"), lr=opt("--lr"), limit_train=opt("--limit-train"),
            val_size=opt("--val-size"), recipe=opt("--recipe"), target_acc=opt("--target-acc"),
            profile=opt("--profile"), trace_dir=opt("--trace-dir"),
            num_workers=opt("--num-workers"), results_dir=opt("--results-dir"),
            run_id=config._cnnbench_run_id, artifacts=not opt("--no-artifacts"),
            save_checkpoint=opt("--save-checkpoint"), **fields)
    except ValueError as e:
        raise pytest.UsageError(str(e)) from None


def runs_cases(config) -> bool:
    """Whether this invocation collects the benchmark cases (not only the unit tests)."""
    return any(Path(a.split("::")[0]).resolve() in (BENCH_DIR, BENCH_DIR / "test_archs.py")
               for a in config.args)


def case_axes(config) -> dict[str, list[str]]:
    """The comma-separated options the cases are crossed over, parsed and checked
    (ValueError naming the option and the bad value)."""
    import data
    from bench.config import LOADERS, MODES, parse_precision

    axes = {"dataset": _split(config.getoption("--dataset")),
            "precision": [parse_precision(p) for p in _split(config.getoption("--amp"))],
            "loader": _split(config.getoption("--loader")),
            "mode": _split(config.getoption("--mode"))}
    for option, allowed in (("dataset", list(data.DATASETS)), ("loader", LOADERS),
                            ("mode", MODES)):
        for value in axes[option]:
            if value not in allowed:
                raise ValueError(f"--{option} {value!r}: choose from {', '.join(allowed)}")
    return axes


def pytest_sessionstart(session):
    """Check the options and the data once, before collection: one clear error (pytest's
    "ERROR: ..." and exit code 4) instead of the same failure in every case."""
    config = session.config
    if not runs_cases(config) or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    import data

    try:
        axes = case_axes(config)
        build_config(config, **{k: v[0] for k, v in axes.items()})  # the scalar options
        if config.getoption("--shard"):
            parse_shard(config.getoption("--shard"))
        for name in axes["dataset"]:
            if data.DATASETS[name].is_real:
                data.locate(name, config.getoption("--data-dir"))
    except (ValueError, data.DataNotFoundError) as e:
        raise pytest.UsageError(str(e)) from None


def pytest_generate_tests(metafunc):
    if "case" not in metafunc.fixturenames:
        return
    import models

    config = metafunc.config
    archs = models.list_archs(config.getoption("--archs"))
    axes = case_axes(config)
    seed, repeats = config.getoption("--seed"), config.getoption("--repeats")
    params = []
    for arch, ds, prec, loader, mode, rep in itertools.product(
            archs, axes["dataset"], axes["precision"], axes["loader"], axes["mode"],
            range(repeats)):
        case = Case(arch, build_config(config, dataset=ds, precision=prec, loader=loader,
                                       mode=mode, seed=seed + rep, repeat=rep))
        tags = models.get_spec(arch).tags
        marks = [getattr(pytest.mark, t) for t in ("seed", "grid") if t in tags]
        params.append(pytest.param(case, id=case.id, marks=marks))
    metafunc.parametrize("case", params)


def parse_shard(value: str) -> tuple[int, int]:
    try:
        k, n = (int(v) for v in value.split("/"))
    except ValueError:
        raise pytest.UsageError(f"--shard {value!r}: use K/N, e.g. 1/4") from None
    if not 1 <= k <= n:
        raise pytest.UsageError(f"--shard {value!r}: K must be between 1 and N")
    return k, n


def pytest_collection_modifyitems(config, items):
    value = config.getoption("--shard")
    if not value:
        return
    k, n = parse_shard(value)
    # Interleaved, in collection (registry) order: each shard gets a mix of cheap and costly
    # cases, and the same K/N always selects the same cases on every node.
    keep, drop = [], []
    for i, item in enumerate(items):
        (keep if i % n == k - 1 else drop).append(item)
    config.hook.pytest_deselected(items=drop)
    items[:] = keep


def pytest_benchmark_update_machine_info(config, machine_info):
    from bench.env import environment, resolve_device

    try:
        device = resolve_device(config.getoption("--device"))
    except RuntimeError:
        return
    machine_info["cnnbench"] = environment(device)


@pytest.fixture
def suspend_capture(request):
    """A context manager that lets the progress bar reach the terminal under pytest capture."""
    capman = request.config.pluginmanager.getplugin("capturemanager")
    if capman is None:
        return contextlib.nullcontext
    return capman.global_and_fixture_disabled


def pytest_report_header(config):
    if os.environ.get("PYTEST_XDIST_WORKER") or not runs_cases(config):
        return None
    return (f"cnnbench: run {config._cnnbench_run_id}, results in "
            f"{config.getoption('--results-dir')}/{config._cnnbench_run_id}.jsonl")
