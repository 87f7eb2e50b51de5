"""The cnnbench pytest plugin: options, one session object, one case per registered architecture.

    pytest bench/ --benchmark-save=NAME [--epochs N] [--dataset fashion-mnist] [--amp off,bf16] ...

Options are parsed and checked by argparse as pytest reads them (each has a ``type`` that
raises on a bad value), and every option that is a RunConfig field has that field's name as its
``dest``, so the RunConfig is built by name. A session holding benchmark cases is recognised by
what it collected (the ``case`` parametrization of bench/test_archs.py), never by its argv;
such a session runs only the cases.

The plugin loads only where it is asked for: the checkout's conftest.py, ``cnnbench run`` and
the nightly (``-p cnnbench.bench.plugin``), or a user's own ``-p cnnbench.bench.plugin``. Even
loaded, it acts only on its own case module: it imports no torch until a case is collected,
parametrizes no other test, and adds no fixture (the case's fixtures live in test_archs.py).

Test ids are ``<arch>-<dataset>-<precision>[-loader][-mode]-r<repeat>``; select with ``-k`` or
``--archs``. Each case is also parametrized by its ``arch``, ``dataset``, ``precision``,
``loader``, ``mode`` and ``repeat`` (``PARAMS``), so ``--benchmark-group-by=param:arch`` works.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import itertools
import os
import random
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from cnnbench.bench.config import RunConfig
from cnnbench.record import NAME_MAX, check_run_id, records_file
from cnnbench.vocab import LOADERS, MODES, PRECISIONS, RECIPES

if TYPE_CHECKING:
    from cnnbench.bench.progress import SuiteProgress

AXES = ("dataset", "precision", "loader", "mode")  # comma-separated options crossed into cases
SESSION = pytest.StashKey["BenchSession"]()
GROUP = "cnnbench"
# The one module holding cases, imported by its one name: pytest's own import of a file under
# bench/ would name it bench.test_archs and run bench/__init__.py a second time.
CASES_MODULE = "cnnbench.bench.test_archs"
CASES_FILE = Path(__file__).resolve().with_name("test_archs.py")
# A case's pytest parameters besides ``case`` itself: what --benchmark-group-by=param:NAME reads.
PARAMS = ("arch", "dataset", "precision", "loader", "mode", "repeat")
MARKERS = {  # registered here, so an installed plugin needs no ini file (--strict-markers)
    "seed": "an architecture from the source studies",
    "grid": "a point of the parametric grid",
}


# ---------------------------------------------------------------- option types (parse time)


def _choices(option: str, allowed, parse=str):
    def convert(value: str) -> list[str]:
        out = [parse(v.strip()) for v in value.split(",") if v.strip()]
        bad = [v for v in out if v not in allowed]
        if bad or not out:
            raise argparse.ArgumentTypeError(
                f"{option} {value!r}: choose from {', '.join(dict.fromkeys(allowed))}")
        return out
    return convert


def _precision(value: str) -> str:
    return PRECISIONS.get(value.lower(), value)


def _datasets(value: str) -> list[str]:
    from cnnbench import data

    return _choices("--dataset", list(data.DATASETS))(value)


def parse_shard(value: str) -> tuple[int, int]:
    try:
        k, n = (int(v) for v in value.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard {value!r}: use K/N, e.g. 1/4") from None
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"--shard {value!r}: K must be between 1 and N")
    return k, n


def _add_axes(g) -> None:
    # Defaults are given parsed (lists): argparse converts a string default only when it parses
    # the command line, and `pytest --help` configures without parsing ours.
    g.addoption("--dataset", dest="dataset", type=_datasets, default=["fashion-mnist"],
                help="mnist, fashion-mnist, kmnist or synthetic; comma-separated [fashion-mnist]")
    g.addoption("--amp", dest="precision", default=["fp32"],
                type=_choices("--amp", list(PRECISIONS.values()), _precision),
                help="off, fp16, bf16; comma-separated [off]")
    g.addoption("--loader", dest="loader", default=[LOADERS[0]],
                type=_choices("--loader", LOADERS),
                help="resident (data held on the device) or dataloader (notebook-style); "
                     f"comma-separated [{LOADERS[0]}]")
    g.addoption("--mode", dest="mode", default=[MODES[0]], type=_choices("--mode", MODES),
                help="eager, compile or graphs (CUDA-graph-captured training step); "
                     f"comma-separated [{MODES[0]}]")


def _add_run_options(g) -> None:
    """Options whose dest is a RunConfig field: they reach every case's config by name."""
    g.addoption("--epochs", type=int, default=None, help="timed epochs [the recipe's]")
    g.addoption("--data-dir", default=None, help="directory holding the IDX files")
    g.addoption("--device", default="auto", help="auto, cuda, cuda:N or cpu [auto]")
    g.addoption("--tf32", action=argparse.BooleanOptionalAction, default=False,
                help="allow TF32 matmuls/convolutions on Ampere+ [--no-tf32]")
    g.addoption("--channels-last", action="store_true", default=False)
    g.addoption("--compile", nargs="?", const="default", default=None, metavar="MODE",
                help="torch.compile mode (default, reduce-overhead, max-autotune); "
                     "implies --mode compile")
    g.addoption("--batch-size", type=int, default=None, help="override the recipe's batch size")
    g.addoption("--lr", type=float, default=None, help="override the recipe's learning rate")
    g.addoption("--limit-train", type=int, default=None,
                help="train on a stratified subset of N images")
    g.addoption("--val-size", type=int, default=None,
                help="validation images carved from the training split [the dataset's: 5000; "
                     "synthetic: 256]")
    g.addoption("--recipe", default=RECIPES[0], choices=RECIPES,
                help="uniform: one recipe for all (fair comparison, default); "
                     "seed: each study's own")
    g.addoption("--seed", type=int, default=None,
                help="seed of repeat 0 [the recipe's: 0; --recipe seed: the study's own, "
                     "42 for seed000, 1 for seed002, else 0]")
    g.addoption("--target-acc", type=float, default=None,
                help="validation accuracy for time-to-accuracy, e.g. 0.9")
    g.addoption("--torch-profile", action=argparse.BooleanOptionalAction, default=True,
                help="run the untimed torch.profiler window after training [--torch-profile]")
    g.addoption("--trace-dir", default=None, help="profiler traces [<results-dir>/traces]")
    g.addoption("--num-workers", type=int, default=2, help="DataLoader workers [2]")
    g.addoption("--results-dir", default="results", help="JSONL records and pictures [results]")
    g.addoption("--run-id", default=None,
                help="name of this run [--benchmark-save NAME, else a timestamp]")
    g.addoption("--no-artifacts", dest="artifacts", action="store_false", default=True,
                help="skip the kernel and feature-map pictures")
    g.addoption("--save-checkpoint", action="store_true", default=False)


def pytest_addoption(parser):
    g = parser.getgroup(GROUP, "cnnbench: training benchmark options")
    g.addoption("--archs", default="*", help="shell-style pattern(s), comma-separated [*]")
    _add_axes(g)
    _add_run_options(g)
    g.addoption("--repeats", type=int, default=1, help="repeat each case with seeds seed..seed+K-1")
    g.addoption("--shard", default=None, metavar="K/N", type=parse_shard,
                help="run only the K-th of N interleaved slices of the cases (K = 1..N), to "
                     "spread a sweep over N machines")
    g.addoption("--control", default=None, metavar="ARCH",
                help="A/A control: run this architecture twice in every block (a second copy "
                     "at another position), so the report can check the timing is unbiased")
    g.addoption("--order-seed", type=int, default=None, metavar="N",
                help="seed of each block's random running order [derived from the run id]; "
                     "recorded with every case")


# ---------------------------------------------------------------- the session


class Case(str):
    """One benchmark case: its id as a string (so pytest-benchmark's JSON params stay readable),
    carrying the architecture name and the RunConfig, and its place in the design: its block,
    its position in the block's running order (set once the selection is final), the order's
    seed, and whether it is the A/A control's second copy."""

    def __new__(cls, arch: str, config: RunConfig, block: int | None = None,
                control: bool = False):
        self = super().__new__(cls, config.case_id(arch))
        self.arch, self.config = arch, config
        self.block = config.repeat if block is None else block
        self.control = control
        self.position: int | None = None
        self.order_seed: int | None = None
        return self

    @property
    def id(self) -> str:
        return str(self)


@dataclass
class BenchSession:
    """What the plugin knows about this pytest session; one per config (``config.stash``)."""

    run_id: str
    base: RunConfig  # every scalar option; the axes' first values
    axes: dict[str, list[str]]
    archs: str = "*"
    repeats: int = 1
    shard: tuple[int, int] | None = None
    control: str | None = None  # the A/A control's architecture (runs twice per block)
    order_seed: int | None = None  # None: derived from the run id (order_seed())
    case_items: int = 0  # benchmark cases collected: > 0 means this session runs the suite
    held_save: tuple | None = None  # xdist worker: pytest-benchmark's save targets, held back
    suite: SuiteProgress | None = None  # cases done/left for the progress bar, once collected

    @classmethod
    def from_config(cls, config) -> BenchSession:
        opts = vars(config.option)
        ours = {a.dest for a in config._parser.getgroup(GROUP).options}
        names = {f.name for f in dataclasses.fields(RunConfig)} & ours
        fields = {k: opts[k] for k in names if k not in AXES}
        axes = {k: opts[k] if isinstance(opts[k], list) else [opts[k]] for k in AXES}
        fields["run_id"] = _run_id(config)
        try:
            base = RunConfig(**fields, **{k: v[0] for k, v in axes.items()})
        except ValueError as e:
            raise pytest.UsageError(str(e)) from None
        return cls(fields["run_id"], base, axes, opts["archs"], opts["repeats"], opts["shard"],
                   opts.get("control"), opts.get("order_seed"))

    def cases(self, archs: list[str]) -> list[Case]:
        from cnnbench.bench.plan import case_seed

        out = []
        for arch, ds, prec, loader, mode, rep in itertools.product(
                archs, *(self.axes[a] for a in AXES), range(self.repeats)):
            try:
                given = None if self.base.seed is None else self.base.seed + rep
                cfg = self.base.replace(dataset=ds, precision=prec, loader=loader, mode=mode,
                                        seed=given, repeat=rep)
                cfg = cfg.replace(seed=case_seed(arch, cfg))
            except ValueError as e:
                raise pytest.UsageError(str(e)) from None
            out.append(Case(arch, cfg))
            if arch == self.control:
                # The A/A control's second copy in block ``rep``: the same config and seed
                # (the same work), a distinct test id (repeat ``repeats + rep``).
                out.append(Case(arch, cfg.replace(repeat=self.repeats + rep), block=rep,
                                control=True))
        return out

    def seed(self) -> int:
        """The running order's seed: --order-seed, else one derived from the run id (so a
        rerun under the same id runs in the same order)."""
        if self.order_seed is not None:
            return self.order_seed
        return zlib.crc32(self.run_id.encode()) % 2**31


def block_order(cases: list[Case], seed: int) -> list[Case]:
    """The cases block by block (block 0 first), each block in a seeded random order.

    Run in a fixed arch-major order, repeats put the machine's drift on the factor levels
    (nominal 95% intervals covered 57–75%); in randomised blocks the drift between blocks
    cancels in within-block contrasts, and the drift within one is noise that the contrasts'
    own spread measures. Sets each case's ``position`` and ``order_seed``."""
    blocks: dict[int, list[Case]] = {}
    for c in cases:
        blocks.setdefault(c.block, []).append(c)
    out = []
    for b in sorted(blocks):
        todo = list(blocks[b])
        random.Random(f"{seed}:{b}").shuffle(todo)
        for pos, c in enumerate(todo):
            c.position, c.order_seed = pos, seed
        out += todo
    return out

def session(config) -> BenchSession:
    """The session object, made on first use: pytest-benchmark's own pytest_configure calls
    pytest_benchmark_update_machine_info before this plugin's configure has run."""
    if SESSION not in config.stash:
        config.stash[SESSION] = BenchSession.from_config(config)
    return config.stash[SESSION]


def _run_id(config) -> str:
    worker = getattr(config, "workerinput", None)
    if worker and worker.get("cnnbench_run_id"):
        return worker["cnnbench_run_id"]
    return (config.getoption("run_id") or config.getoption("benchmark_save", None)
            or dt.datetime.now().strftime("%Y%m%d-%H%M%S"))


# ---------------------------------------------------------------- checks at session start
# Each bad option or data set is one usage error (pytest's "ERROR:", exit code 4) before any
# case runs, not the same failure (or a traceback) in every case.


def validate_options(config) -> None:
    """Options against each other and this machine: no data read, no case built. On the
    controller only: an xdist worker must not touch CUDA before it is pinned to its GPU."""
    if hasattr(config, "workerinput") or config.option.help or config.option.version:
        return
    s = session(config)
    for ds, prec, loader, mode in itertools.product(*(s.axes[a] for a in AXES)):
        try:
            s.base.replace(dataset=ds, precision=prec, loader=loader, mode=mode)
        except ValueError as e:
            raise pytest.UsageError(str(e)) from None
    try:  # the one run-id check (cnnbench.record), also applied by the main job and Ray
        check_run_id(s.run_id)
    except ValueError as e:
        raise pytest.UsageError(str(e)) from None
    for option, path in (("--results-dir", s.base.results_dir), ("--trace-dir", s.base.trace_dir)):
        if path is not None and os.path.exists(path) and not os.path.isdir(path):
            raise pytest.UsageError(f"{option} {path}: is a file, not a folder")
    if s.base.device not in ("auto", "cpu"):
        _check_device(s.base.device)
    if s.archs != "*":
        from cnnbench import models

        if not models.list_archs(s.archs):
            raise pytest.UsageError(f"--archs {s.archs!r} matches no architecture "
                                    "(cnnbench models list shows them)")


def _check_device(name: str) -> None:
    import torch

    from cnnbench import data

    try:
        device = data.resolve_device(name)
    except RuntimeError as e:
        raise pytest.UsageError(str(e)) from None
    count = torch.cuda.device_count()
    if device.type == "cuda" and device.index >= count:
        raise pytest.UsageError(f"--device {name}: this machine has {count} CUDA device(s)")


def validate_output(config, s: BenchSession, cases: list[Case]) -> None:
    """Before any case trains, where its files go: each output folder can be created and
    written (by writing a file: permission bits do not stop root, a read-only mount does), the
    longest file name the run will create fits the file system, and a reused run id's file
    holds no records written with other options. Called once cases are collected, so a unit
    test session never creates a results folder."""
    from cnnbench.bench.reuse import options_digest, reuse_problem

    longest = _longest_name(config, s, cases)
    for option, path in (("--results-dir", s.base.results_dir), ("--trace-dir", s.base.trace_dir)):
        if path is None:
            continue
        problem = _write_problem(Path(path))
        if problem:
            raise pytest.UsageError(f"{option} {path}: {problem}; nothing was run")
        limit = _name_max(Path(path))
        if longest[1] > limit:
            raise pytest.UsageError(
                f"{option} {path}: the run would create the file name {longest[0]!r} "
                f"({longest[1]} bytes), longer than this file system allows ({limit}): "
                "choose a shorter --run-id (or --name)")
    problem = reuse_problem(s.base.results_dir, s.run_id,
                            {options_digest(c.config) for c in cases})
    if problem:
        raise pytest.UsageError(problem)


# What the profiler appends to a case id in a trace file's name: ".<19-digit id>" and the suffix.
TRACE_NAME_TAIL = ".1795421619225401066.pt.trace.json.gz"


def _longest_name(config, s: BenchSession, cases: list[Case]) -> tuple[str, int]:
    names = [records_file(".", s.run_id).name]
    save = config.getoption("benchmark_save", None)
    if save:
        names.append(f"0001_{save}.json")  # pytest-benchmark's NNNN_<name>.json
    for c in cases:
        names.append(c.id)  # artifacts/<run>/<case>/, traces/<run>/<case>/
        if c.config.torch_profile:
            names.append(c.id + TRACE_NAME_TAIL)
    longest = max(names, key=lambda n: len(n.encode()))
    return longest, len(longest.encode())


def _existing(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _name_max(path: Path) -> int:
    try:
        return os.pathconf(_existing(path), "PC_NAME_MAX")
    except (OSError, ValueError):
        return NAME_MAX


def _write_problem(folder: Path) -> str | None:
    """Why no file can be written in ``folder`` (created if missing), or None."""
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        return f"not writable ({e.strerror or e})"
    return None


def validate_data(s: BenchSession, cases: list[Case]) -> None:
    """Each dataset read once (headers, counts, checksums: later reads hit read_idx's cache),
    then every case's split sizes against it."""
    from cnnbench import data

    train_sizes = {}
    for name in s.axes["dataset"]:
        try:
            arrays = data.load_arrays(name, data_dir=s.base.data_dir, download=s.base.download)
        except (data.DataNotFoundError, data.DataIntegrityError) as e:
            raise pytest.UsageError(str(e)) from None
        train_sizes[name] = len(arrays.train_labels)
    for case in cases:
        problem = _split_problem(case, train_sizes[case.config.dataset])
        if problem:
            raise pytest.UsageError(f"{case.id}: {problem}")


def _split_problem(case: Case, n: int) -> str | None:
    """Why the case's training split cannot work on ``n`` training images, or None."""
    from cnnbench import data
    from cnnbench.bench.plan import plan

    cfg = case.config
    p = plan(case.arch, cfg, data.resolve_device(cfg.device).type)
    if p.val_size >= n:
        return f"--val-size {p.val_size} leaves no training images of {cfg.dataset}'s {n}"
    left = n - p.val_size
    if cfg.limit_train is not None and cfg.limit_train > left:
        return (f"--limit-train {cfg.limit_train} > the {left} training images of "
                f"{cfg.dataset} ({n} less {p.val_size} for validation)")
    classes = data.DATASETS[cfg.dataset].num_classes
    if cfg.limit_train is not None and cfg.limit_train < classes:
        return f"--limit-train {cfg.limit_train} < {classes} classes: some class would be absent"
    images = cfg.limit_train or left
    if p.recipe.drop_last and images < p.recipe.batch_size:
        return (f"{images} training images make no full batch of {p.recipe.batch_size} "
                f"(this recipe drops the last, partial batch): raise --limit-train")
    return None


# ---------------------------------------------------------------- hooks


@pytest.hookimpl(trylast=True)  # after pytest-benchmark has set up its session
def pytest_configure(config):
    _register_markers(config)
    validate_options(config)
    from cnnbench.bench import distributed

    if not config.pluginmanager.is_registered(distributed):
        config.pluginmanager.register(distributed, "cnnbench-distributed")


def _register_markers(config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):  # pytest-xdist: every worker writes under the same run id
    node.workerinput["cnnbench_run_id"] = session(node.config).run_id


def _in_cases_file(path) -> bool:
    return Path(path).resolve() == CASES_FILE


def pytest_collect_directory(path, parent):
    """The package folders of the checkout (bench/, models/, ...) are plain folders to pytest:
    as a Package it would import their __init__.py under a second name."""
    if (path / "__init__.py").is_file() and path.resolve() in _package_dirs():
        return pytest.Dir.from_parent(parent, path=path)
    return None


def _package_dirs() -> set[Path]:
    import cnnbench

    return {Path(cnnbench.__file__).resolve().parent, CASES_FILE.parent,
            *(Path(p).resolve() for name in ("models", "data", "reports")
              for p in _search_locations(f"cnnbench.{name}"))}


def _search_locations(name: str) -> list[str]:
    import importlib.util

    spec = importlib.util.find_spec(name)  # imports `cnnbench` only, not the package itself
    return list(spec.submodule_search_locations or ()) if spec else []


class CasesModule(pytest.Module):
    def _getobj(self):
        import importlib

        return importlib.import_module(CASES_MODULE)


def pytest_pycollect_makemodule(module_path, parent):
    if _in_cases_file(module_path):
        return CasesModule.from_parent(parent, path=module_path)
    return None


def pytest_generate_tests(metafunc):
    if "case" not in metafunc.fixturenames or not _in_cases_file(metafunc.definition.path):
        return
    from cnnbench import models

    s = session(metafunc.config)
    params = []
    for case in s.cases(models.list_archs(s.archs)):
        tags = models.get_spec(case.arch).tags
        marks = [getattr(pytest.mark, t) for t in ("seed", "grid") if t in tags]
        params.append(pytest.param(case, *_case_params(case), id=case.id, marks=marks))
    metafunc.parametrize(("case", *PARAMS), params)


def _case_params(case: Case) -> tuple:
    cfg = case.config
    return case.arch, cfg.dataset, cfg.precision, cfg.loader, cfg.mode, cfg.repeat


def _is_case(item) -> bool:
    return "case" in getattr(item, "fixturenames", ()) and _in_cases_file(item.path)


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected: order what will run
def pytest_collection_modifyitems(config, items):
    """A session that collected benchmark cases runs only them (``pytest bench/`` also finds
    the unit tests in bench/tests), sharded when asked, then block by block in each block's
    seeded random order (``block_order``)."""
    s = session(config)
    cases = [i for i in items if _is_case(i)]
    s.case_items = len(cases)
    if not cases:
        return
    params = [c.callspec.params["case"] for c in cases]
    validate_data(s, params)  # here: exit code 4
    validate_output(config, s, params)
    keep, drop = cases, [i for i in items if not _is_case(i)]
    if s.shard:
        k, n = s.shard
        # Interleaved, in collection (registry) order: each shard gets a mix of cheap and
        # costly cases, and the same K/N always selects the same cases on every node.
        drop += [c for i, c in enumerate(cases) if i % n != k - 1]
        keep = [c for i, c in enumerate(cases) if i % n == k - 1]
    if drop:
        config.hook.pytest_deselected(items=drop)
    by_case = {id(c.callspec.params["case"]): c for c in keep}
    order = block_order([c.callspec.params["case"] for c in keep], s.seed())
    items[:] = [by_case[id(case)] for case in order]


def pytest_collection_finish(session):
    """The cases left after every deselection (-k, --archs, --shard): the bar counts them."""
    s = session.config.stash[SESSION]  # the hook's argument shadows session() here
    if s.case_items:
        from cnnbench.bench.progress import SuiteProgress

        s.suite = SuiteProgress(sum(1 for i in session.items if _is_case(i)))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    suite = session(item.config).suite
    if suite is None or not _is_case(item):
        return (yield)
    suite.start_case(item.callspec.id, suite.done + 1)
    try:
        return (yield)
    finally:
        suite.end_case()


def pytest_report_collectionfinish(config, start_path, items):
    s = session(config)
    if not s.case_items:
        return None
    return (f"cnnbench: run {s.run_id}, results in "
            f"{records_file(s.base.results_dir, s.run_id)}")


def pytest_benchmark_update_json(config, benchmarks, output_json):
    """The saved JSON names the device the cases ran on (pytest-benchmark's machine_info is
    gathered at configure time, before anyone knows whether a case will run)."""
    if not session(config).case_items:  # nothing of ours ran: no torch, no device facts
        return
    from cnnbench import data
    from cnnbench.bench.env import environment

    try:
        device = data.resolve_device(session(config).base.device)
    except RuntimeError:
        return
    output_json.setdefault("machine_info", {})["cnnbench"] = environment(device)
