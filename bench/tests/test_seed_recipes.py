"""``--recipe seed`` trains as each study did: optimizer, lr, momentum and batch as BUILT (the
runner's optimizer object and loaders, not the record's echo), no held-out split, and the
study's evaluation schedule (which steps were scored, on which split).

Expected values are the studies' facts written out here, independently of models/seeds.py.
Synthetic data (2,048 training images) keeps each case to a second or two on a CPU.
"""

import dataclasses

import pytest

from cnnbench.bench import plan as plan_module
from cnnbench.bench import runner as runner_module
from cnnbench.bench.config import RunConfig
from cnnbench.bench.runner import Runner


def seed_cfg(tmp_path, **kw):
    base = dict(dataset="synthetic", device="cpu", epochs=1, torch_profile=False,
                artifacts=False, progress=False, results_dir=str(tmp_path), run_id="seed",
                warmup_steps=1, recipe="seed")
    return RunConfig(**{**base, **kw})


def steps(n, batch, drop_last=False):
    return n // batch if drop_last else -(-n // batch)


class Spy:
    """Wraps Runner.evaluate to note (step, split) of every call, then really evaluates."""

    def __init__(self, runner):
        self.calls, self.runner, self.inner = [], runner, runner.evaluate

    def __call__(self, loader):
        split = {id(self.runner.loaders.test): "test",
                 id(self.runner.loaders.val): "val"}[id(loader)]
        self.calls.append((self.runner.steps_done, split))
        return self.inner(loader)


def train(arch, tmp_path, **kw):
    """Set up, keep what was built, train, finish; returns (built, record, evaluations during
    training as (step, split))."""
    r = Runner(arch, seed_cfg(tmp_path, **kw))
    r.setup()
    opt = r.training.optimizer
    built = {"optimizer": type(opt).__name__, "lr": opt.param_groups[0]["lr"],
             "momentum": opt.param_groups[0].get("momentum", 0.0),
             "train_batch": next(iter(r.loaders.train))[0].shape[0],
             "eval_batch": (r.loaders.test.batch_size, next(iter(r.loaders.test))[0].shape[0]),
             "train_size": r.loaders.train.num_samples, "val": r.loaders.val}
    spy = r.evaluate = Spy(r)
    r.train_all_epochs()
    during_training = list(spy.calls)  # finish() then scores the test split if still due
    r.finish()
    rec = r.result()
    r.release()
    return built, rec, during_training


# arch, optimizer, lr, momentum, train batch, eval batch, drop_last, schedule
STUDIES = [
    ("seed000_net0", "SGD", 0.01, 0.5, 128, 1000, False, "epoch"),
    ("seed001_lab4_avgpool_softmax_nll", "Adam", 1e-3, 0.0, 10, 10, False, "end"),
    ("seed002_conv7", "SGD", 0.01, 0.9, 128, 128, False, "end"),
    ("seed003_lenet_dropout", "Adam", 0.01, 0.0, 64, 64, True, "end"),
    ("seed004_model_c", "SGD", 0.05, 0.0, 100, 100, False, "iterations"),
]


@pytest.mark.parametrize("study", STUDIES, ids=[s[0] for s in STUDIES])
def test_seed_recipe_as_built_and_evaluated(tmp_path, study):
    arch, optimizer, lr, momentum, batch, eval_batch, drop_last, schedule = study
    n, epochs = 200, 2
    built, rec, spy = train(arch, tmp_path, limit_train=n, epochs=epochs)
    assert rec["status"] == "ok", rec["error"]
    assert (built["optimizer"], built["lr"], built["momentum"]) == (optimizer, lr, momentum)
    # synthetic data has 512 test images: a 1,000-image eval batch serves all 512 at once
    assert (built["train_batch"], built["eval_batch"]) == (batch, (eval_batch, min(eval_batch,
                                                                                    512)))
    assert built["val"] is None and built["train_size"] == n and rec["val_size"] == 0
    per_epoch = steps(n, batch, drop_last)
    expected = {"epoch": [per_epoch, 2 * per_epoch], "end": [2 * per_epoch],
                "iterations": []}[schedule]  # 500 steps: more than this subset has
    assert spy == [(s, "test") for s in expected]
    assert rec["eval_steps"] == expected and rec["eval_split"] == "test"
    assert len(rec["eval_accuracies"]) == len(expected)
    assert rec["images_per_epoch"] == (per_epoch * batch if drop_last else n)
    assert rec["val_loss"] == [] and rec["test_accuracy"] is not None


def test_seed003_records_per_step_training_accuracy(tmp_path):
    _, rec, _ = train("seed003_lenet_dropout", tmp_path, limit_train=640)
    assert len(rec["train_accuracy_steps"]) == len(rec["train_loss_steps"]) == 10
    assert all(0.0 <= a <= 1.0 for a in rec["train_accuracy_steps"])
    # each a fraction of 64 images right: chance is ~10% on noise, so not all equal or zero
    assert all(round(a * 64) == a * 64 for a in rec["train_accuracy_steps"])
    assert len(set(rec["train_accuracy_steps"])) > 1
    _, other, _ = train("seed002_conv7", tmp_path, limit_train=640)
    assert other["train_accuracy_steps"] == []


def test_mid_epoch_evaluation_is_outside_the_timed_region(tmp_path, monkeypatch):
    """seed004's schedule with a 7-step interval (its 500 would need 50,000 images): the
    evaluations land mid-epoch, and the time they take is not in the epoch's time. A fake
    host clock advances 1,000 s per evaluation; the epoch's time must not see it."""
    real_plan = plan_module.plan

    def short_interval(arch, cfg, device_type=None):
        p = real_plan(arch, cfg, device_type)
        return dataclasses.replace(p, recipe=dataclasses.replace(p.recipe, eval_interval=7))

    monkeypatch.setattr(runner_module, "plan", short_interval)
    clock = [0.0]

    def tick():
        clock[0] += 0.001
        return clock[0]

    monkeypatch.setattr(runner_module.make_timer.__globals__["time"], "perf_counter", tick)
    r = Runner("seed004_model_a", seed_cfg(tmp_path, limit_train=2000, epochs=2))
    r.setup()
    inner = r.evaluate

    def slow_evaluate(loader):
        clock[0] += 1000.0
        return inner(loader)

    r.evaluate = slow_evaluate
    r.train_all_epochs()
    r.finish()
    rec = r.result()
    assert rec["eval_steps"] == [7, 14, 21, 28, 35]  # 20 steps per epoch, 40 in all
    assert len(rec["eval_losses"]) == 5
    assert sum(rec["epoch_times_s"]) < 1000
    assert len(rec["epoch_times_s"]) == 2 and rec["steps_per_epoch"] == 20


def test_uniform_recipe_keeps_its_validation_split(tmp_path):
    built, rec, spy = train("seed003_lenet_dropout", tmp_path, recipe="uniform", val_size=256,
                            limit_train=512, epochs=2)
    assert built["val"] is not None and rec["val_size"] == 256 and rec["eval_split"] == "val"
    per_epoch = steps(512, 128)
    assert spy == [(per_epoch, "val"), (2 * per_epoch, "val")]
    assert rec["val_loss"] == rec["eval_losses"] and rec["eval_steps"] == [4, 8]
    assert built["optimizer"] == "SGD"
