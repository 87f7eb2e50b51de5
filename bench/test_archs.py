"""The one benchmark case: train an architecture for N epochs and record everything.

pytest-benchmark times one round per epoch (the runner synchronizes before each round returns);
evaluation runs as the round's untimed teardown. The case's lifecycle is the runner's own.
"""

import pytest

from bench.runner import Runner


def test_train(case, benchmark, suspend_capture):
    runner = Runner(case.arch, case.config, suspend_capture=suspend_capture)
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
    benchmark.extra_info.update(record)
    if record["status"] != "ok":
        pytest.fail(f"{case.id}: {record['status']}: {record['error']}", pytrace=False)
