"""pytest-benchmark's own flags on the suite, from the checkout, and the plugin leaving alone what
is not its own (a fixture named ``case``, ``--help``)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cnnbench.bench.tests.common import REPO

TINY = [
    "-k",
    "seed003_lenet_dropout",
    "--dataset",
    "synthetic",
    "--epochs",
    "1",
    "--limit-train",
    "128",
    "--val-size",
    "64",
    "--no-torch-profile",
    "--no-artifacts",
    "--device",
    "cpu",
]


def _pytest(cwd, *args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


@pytest.fixture
def case():
    return "mine"


def test_a_fixture_named_case_is_not_parametrized_by_the_plugin(case):
    assert case == "mine"


def test_help_works_in_the_checkout():
    """`pytest --help` configures without parsing the plugin's options: a string default that
    argparse never converted once made it exit 4 ("precision 'off'")."""
    proc = _pytest(REPO, "--help")
    assert proc.returncode == 0, proc.stderr
    assert "--amp" in proc.stdout and "--benchmark-compare" in proc.stdout


@pytest.mark.slow
def test_save_json_group_histogram_then_compare_and_compare_fail(tmp_path, bench_env):
    storage = f"file://{tmp_path / 'storage'}"
    first = _pytest(
        tmp_path,
        str(REPO / "bench" / "test_archs.py"),
        *TINY,
        "--benchmark-storage",
        storage,
        "--benchmark-save=a",
        f"--benchmark-json={tmp_path / 'a.json'}",
        "--benchmark-group-by=param:arch",
        f"--benchmark-histogram={tmp_path / 'hist'}",
        env=bench_env,
    )
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    (bench,) = json.loads((tmp_path / "a.json").read_text())["benchmarks"]
    assert bench["params"]["arch"] == "seed003_lenet_dropout"
    assert "hist-arch=seed003_lenet_dropout.svg" in first.stdout + first.stderr  # by the param
    assert (tmp_path / "hist-arch=seed003_lenet_dropout.svg").is_file()
    saved = list((tmp_path / "storage").rglob("0001_a.json"))
    assert saved, "nothing saved"

    second = _pytest(
        tmp_path,
        str(REPO / "bench" / "test_archs.py"),
        *TINY,
        "--benchmark-storage",
        storage,
        "--benchmark-compare",
        "--benchmark-compare-fail=mean:1000%",
        env=bench_env,
    )
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert "0001_a" in second.stdout
