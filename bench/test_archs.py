"""The one benchmark case: train an architecture for N epochs and record everything.

pytest-benchmark times one round per epoch (the runner synchronizes before each round returns);
evaluation runs as the round's untimed teardown.
"""

import pytest

from bench.records import json_safe
from bench.runner import Runner


def test_train(case, benchmark, suspend_capture):
    runner = Runner(case.arch, case.config, suspend_capture=suspend_capture)
    benchmark.group = f"{case.config.dataset}-{case.config.precision}"
    try:
        runner.setup()
        if benchmark.disabled:  # --benchmark-disable: pedantic calls its target once, untimed
            benchmark.pedantic(runner.train_all_epochs)
        else:
            benchmark.pedantic(runner.train_epoch, teardown=runner.evaluate_pending,
                               rounds=runner.epochs, iterations=1, warmup_rounds=0)
        runner.finish()
    except Exception as exc:  # every failure is classified and recorded, then reported
        runner.fail(exc)
    finally:
        benchmark.extra_info.update(json_safe(runner.record))
        runner.save()
        runner.release()
    record = runner.record
    if record["status"] != "ok":
        pytest.fail(f"{case.id}: {record['status']}: {record['error']}", pytrace=False)
