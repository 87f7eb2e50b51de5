"""The one benchmark case: train an architecture for N epochs and record everything.

pytest-benchmark times one round per epoch (the runner synchronizes before each round returns);
evaluation runs as the round's untimed teardown. The case's lifecycle is the runner's own.
Rounds are epochs, so --benchmark-min-rounds, --benchmark-max-time and --benchmark-warmup do not
apply (the runner warms up on its own); --benchmark-disable trains once, untimed, and the record
says so (``timing.timed``).
"""

import contextlib

import pytest

from cnnbench.bench.plugin import session
from cnnbench.bench.progress import SuiteProgress
from cnnbench.bench.runner import Runner
from cnnbench.record import headline


@pytest.fixture
def suspend_capture(request):
    """A context manager that lets the progress bar reach the terminal under pytest capture."""
    capman = request.config.pluginmanager.getplugin("capturemanager")
    if capman is None:
        return contextlib.nullcontext
    return capman.global_and_fixture_disabled


@pytest.fixture
def suite_progress(request) -> SuiteProgress | None:
    """The session's cases done/left, for the case's progress bar (None outside a suite run)."""
    return session(request.config).suite


# arch .. repeat are the case's own parameters (bench/plugin.py PARAMS), taken only so that
# pytest-benchmark can group by them (--benchmark-group-by=param:arch); ``case`` carries them all.
def test_train(case, arch, dataset, precision, loader, mode, repeat, benchmark, suspend_capture,
               suite_progress):
    runner = Runner(case.arch, case.config, suspend_capture=suspend_capture, suite=suite_progress)
    runner.record.timing.timed = not benchmark.disabled
    # The case's place in the interleaved design (bench/plugin.py block_order).
    for name in ("block", "position", "order_seed", "control"):
        setattr(runner.record.case, name, getattr(case, name))
    benchmark.group = f"{case.config.dataset}-{case.config.precision}"

    def train():
        if benchmark.disabled:  # --benchmark-disable: pedantic calls its target once, untimed
            benchmark.pedantic(runner.train_all_epochs)
        else:
            benchmark.pedantic(runner.train_epoch, teardown=runner.evaluate_pending,
                               rounds=runner.epochs, iterations=1, warmup_rounds=0)

    try:
        record = runner.lifecycle(train)
    except KeyboardInterrupt:  # recorded as interrupted; its few rounds are no benchmark result
        benchmark.has_error = True
        raise
    # The JSONL line is the case's result; pytest-benchmark's JSON gets the key the reports join
    # on and a few headline fields (cnnbench.record.BENCHMARK_FIELDS), not a second copy.
    benchmark.extra_info.update(headline(record))
    if record["status"] != "ok":
        pytest.fail(f"{case.id}: {record['status']}: {record['error']}", pytrace=False)
