"""The pytest plugin: options checked as they are parsed, the RunConfig built by name."""

import dataclasses
import subprocess
import sys

import pytest

from bench.config import RunConfig
from bench.plugin import AXES, GROUP

from .conftest import REPO


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
    not_config = {"archs", "repeats", "shard"}
    assert ours - not_config <= fields, ours - not_config - fields
    assert set(AXES) <= ours and "torch_profile" in ours and "profile" not in ours
