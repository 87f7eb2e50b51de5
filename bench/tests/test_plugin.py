"""The pytest plugin: options checked as they are parsed, the RunConfig built by name."""

import dataclasses
import subprocess
import sys

import pytest

from cnnbench.bench.config import RunConfig
from cnnbench.bench.plugin import AXES, GROUP
from cnnbench.bench.tests.common import REPO


@pytest.mark.parametrize("args, message", [
    (["--amp", "fp8"], "--amp 'fp8': choose from fp32, fp16, bf16"),
    (["--mode", "jit"], "--mode 'jit': choose from eager, compile, graphs"),
    (["--dataset", "cifar"], "--dataset 'cifar': choose from"),
    (["--shard", "3/2"], "--shard '3/2': K must be between 1 and N"),
])
def test_bad_option_values_stop_pytest_with_a_usage_error(args, message, bench_env):
    proc = subprocess.run([sys.executable, "-m", "pytest", "bench/", "--collect-only", "-q",
                           "-p", "no:cacheprovider", *args], cwd=REPO, env=bench_env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert message in proc.stderr


def test_every_run_option_is_a_runconfig_field_by_name(pytestconfig):
    """The options reach RunConfig by their dest; a renamed field would silently drop one."""
    ours = {a.dest for a in pytestconfig._parser.getgroup(GROUP).options}
    fields = {f.name for f in dataclasses.fields(RunConfig)}
    not_config = {"archs", "repeats", "shard", "control", "order_seed"}
    assert ours - not_config <= fields, ours - not_config - fields
    assert set(AXES) <= ours and "torch_profile" in ours and "profile" not in ours


def test_no_option_of_ours_takes_dest_profile():
    """pytest-profiling's ``--profile`` (dest ``profile``) must load beside cnnbench:
    argparse refuses a second option with a used dest. The plugin's options alone, installs
    nothing."""
    from _pytest.config.argparsing import Parser

    from cnnbench.bench import plugin

    parser = Parser(_ispytest=True)
    plugin.pytest_addoption(parser)
    options = [o for group in parser._groups for o in group.options] + parser._anonymous.options
    assert len(options) > 20  # the plugin's options were read, not an empty parser
    assert [o.names() for o in options if o.dest == "profile" or "--profile" in o.names()] == []


def _pytest_outside_the_repo(tmp_path, env, *args):
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_plugin_by_name_brings_its_options_and_markers_outside_the_repo(tmp_path, bench_env):
    """``-p cnnbench.bench.plugin``: a project with no cnnbench conftest and no ini markers
    gets ``--epochs`` and the ``seed`` marker, under --strict-markers."""
    (tmp_path / "test_user.py").write_text(
        "import pytest\n\n\n@pytest.mark.seed\ndef test_x(pytestconfig):\n"
        "    assert pytestconfig.getoption('epochs') == 3\n")
    proc = _pytest_outside_the_repo(tmp_path, bench_env, "-p", "cnnbench.bench.plugin",
                                    "--strict-markers", "--epochs", "3",
                                    "-W", "error::pytest.PytestUnknownMarkWarning",
                                    "test_user.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout


def test_cases_collect_by_pyargs_with_their_grouping_parameters(tmp_path, bench_env):
    """``pytest -p cnnbench.bench.plugin --pyargs cnnbench.bench.test_archs`` from elsewhere."""
    proc = _pytest_outside_the_repo(tmp_path, bench_env, "-p", "cnnbench.bench.plugin",
                                    "--pyargs", "cnnbench.bench.test_archs",
                                    "--collect-only", "-q", "-k", "seed003",
                                    "--dataset", "synthetic", "--amp", "off,bf16")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ids = sorted(line.split("[", 1)[1].rstrip("]") for line in proc.stdout.splitlines()
                 if "::test_train[" in line)
    assert ids == ["seed003_lenet_dropout-synthetic-bf16-r0",
                   "seed003_lenet_dropout-synthetic-fp32-r0"]


# Issue 13 item 7: each bad command line is one usage error at session start (exit code 4, no
# record written), not a failure per case, a traceback, or "1 skipped". "{tmp}" is a folder
# holding "file" (a plain file) and "small" (a 100-image IDX set).
BAD_COMMAND_LINES = [
    (["--device", "cuda"], "--device cuda: CUDA is not available"),
    (["--device", "cuda:7"], "--device cuda:7"),
    (["--val-size", "2048"], "--val-size 2048 leaves no training images of synthetic's 2048"),
    (["--limit-train", "5000"], "--limit-train 5000 > the 1792 training images of synthetic"),
    (["--limit-train", "5"], "--limit-train 5 < 10 classes"),
    (["--recipe", "seed", "-k", "seed003", "--limit-train", "20"],
     "20 training images make no full batch of 64"),
    (["--lr", "0"], "lr must be > 0, got 0.0"),
    (["--num-workers", "-1"], "num_workers must be >= 0, got -1"),
    (["--compile", "bogus"], "--compile 'bogus': use one of default,"),
    (["--results-dir", "{tmp}/file"], "--results-dir {tmp}/file: is a file, not a folder"),
    (["--trace-dir", "{tmp}/file"], "--trace-dir {tmp}/file: is a file, not a folder"),
    (["--run-id", "../x"], "run id '../x': use a plain name"),
    (["--dataset", ""], "--dataset '': choose from"),
    (["--amp", ","], "--amp ',': choose from"),
    (["--mode", "eager,graphs", "--compile"], "--compile default contradicts mode 'graphs'"),
    (["--archs", "no_such_net*"], "--archs 'no_such_net*' matches no architecture"),
    (["--dataset", "mnist", "--data-dir", "{tmp}/small"], "100 train images, mnist has 60000"),
]


@pytest.mark.parametrize("args, message", BAD_COMMAND_LINES,
                         ids=[" ".join(a) for a, _ in BAD_COMMAND_LINES])
def test_bad_command_lines_are_one_usage_error_before_any_case(args, message, bench_env,
                                                               tmp_path):
    from cnnbench.data.tests.idx_files import write_idx_set

    (tmp_path / "file").write_text("a file where a folder belongs")
    write_idx_set(tmp_path / "small")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    results = tmp_path / "results"
    # Without --collect-only: were a check missing, the case would really run (1 tiny epoch).
    # bench/test_archs.py, not bench/: the same plugin (the root conftest.py), without importing
    # every unit-test module when a data check needs collection.
    proc = subprocess.run([sys.executable, "-m", "pytest", "bench/test_archs.py", "-q", "-p",
                           "no:cacheprovider", "--device", "cpu", "--dataset", "synthetic",
                           "-k", "seed000_net0", "--epochs", "1", "--no-torch-profile",
                           "--no-artifacts", "--results-dir", str(results), *args],
                          cwd=REPO, env=bench_env, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 4, out
    assert "ERROR:" in proc.stderr and message.replace("{tmp}", str(tmp_path)) in proc.stderr, out
    assert "Traceback" not in out and "INTERNALERROR" not in out
    assert not list(results.glob("*.jsonl")), "a case ran and wrote a record"
