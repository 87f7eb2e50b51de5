"""Every seed's recipe is its study's, field by field; the schedule arithmetic is right.

The expected values are read off the notebooks (../shared/seeds/), written here once more on
purpose: a recipe edited in models/seeds.py must disagree with this table.
"""

import dataclasses
import json

import pytest

from cnnbench import data, models
from cnnbench.models import UNIFORM_RECIPE, Recipe

MNIST_TRAIN = data.get_info("mnist").train_size  # 60,000: every study trained on all of it

# Per study, every Recipe field. No study held out a validation split.
STUDIES = {
    # optim.SGD(lr=0.01, momentum=0.5); train batch 128, valid_loader (MNIST train=False) batch
    # 1000; 10 epochs; Normalize((0.1307,), (0.3081,)); log_softmax + nll_loss; validate()
    # after every epoch; train_losses keeps every step's loss; seed = 42, torch.manual_seed(seed).
    "seed000": dict(optimizer="sgd", lr=0.01, momentum=0.5, batch_size=128,
                    eval_batch_size=1000, epochs=10, normalize="dataset", drop_last=False,
                    loss="cross_entropy", holdout_val=False, eval_schedule="epoch",
                    eval_interval=0, batch_metrics=["loss"], seed=42),
    # optim.Adam(lr=0.001); trainset and testset loaders batch 10; 3 epochs; ToTensor only;
    # accuracy once after training.
    "seed001": dict(optimizer="adam", lr=0.001, momentum=0.0, batch_size=10,
                    eval_batch_size=10, epochs=3, normalize="none", drop_last=False,
                    loss="cross_entropy", holdout_val=False, eval_schedule="end",
                    eval_interval=0, batch_metrics=[], seed=0),
    # optim.SGD(lr=0.01, momentum=0.9); train and test loaders batch 128; range(1, 2): one
    # epoch; Normalize((0.1307,), (0.3081,)); log_softmax + nll_loss; torch.manual_seed(1).
    "seed002": dict(optimizer="sgd", lr=0.01, momentum=0.9, batch_size=128,
                    eval_batch_size=128, epochs=1, normalize="dataset", drop_last=False,
                    loss="cross_entropy", holdout_val=False, eval_schedule="end",
                    eval_interval=0, batch_metrics=[], seed=1),
    # Adam(lr=0.01) (its momentum = 0.5 is never used); batch 64 for both loaders; batches
    # under 64 skipped; 3 epochs; Normalize((0.5,), (0.5,)); CrossEntropyLoss; per-step loss
    # and accuracy lists.
    "seed003": dict(optimizer="adam", lr=0.01, momentum=0.0, batch_size=64,
                    eval_batch_size=64, epochs=3, normalize=[0.5, 0.5], drop_last=True,
                    loss="cross_entropy", holdout_val=False, eval_schedule="end",
                    eval_interval=0, batch_metrics=["loss", "accuracy"], seed=0),
    # SGD(lr=0.01), no momentum; batch 100 for both loaders; n_iters 3000 → 5 epochs;
    # ToTensor only; CrossEntropyLoss; test accuracy when iter % 500 == 0.
    "seed004": dict(optimizer="sgd", lr=0.01, momentum=0.0, batch_size=100,
                    eval_batch_size=100, epochs=5, normalize="none", drop_last=False,
                    loss="cross_entropy", holdout_val=False, eval_schedule="iterations",
                    eval_interval=500, batch_metrics=[], seed=0),
}
# Where one net's recipe differs from its study's.
NET_OVERRIDES = {
    "seed001_lab4_maxpool_softmax_nll": dict(loss="nll_on_softmax"),
    "seed001_lab4_avgpool_softmax_nll": dict(loss="nll_on_softmax"),
    "seed004_model_c": dict(lr=0.05),
}


def _expected(name: str) -> dict:
    return {**STUDIES[name[:7]], **NET_OVERRIDES.get(name, {})}


def test_the_table_pins_every_recipe_field():
    fields = {f.name for f in dataclasses.fields(Recipe)} - {"notes"}  # words: test_notes_*
    for study, expected in STUDIES.items():
        assert set(expected) == fields, study


@pytest.mark.parametrize("name", models.list_archs("seed*"))
def test_seed_recipe_is_the_studys(name):
    got = models.describe(name)["recipe"]
    assert got.pop("eval_split") == "test"  # no held-out split: the test split is scored
    got.pop("notes")
    assert got == _expected(name)
    json.dumps(got)  # it lands in the records as is


# What each study's notes must name: 003's text says 4x4x20 → 320 while its code flattens
# 16*4*4 = 256; 000 timed each net around training and validate(), with the DataLoader.
NOTES = {"seed000": ("validate()", "DataLoader", "evaluation excluded"),
         "seed003": ("4x4x20", "320", "16*4*4 = 256")}


@pytest.mark.parametrize("name", models.list_archs("seed*"))
def test_notes_name_each_known_deviation(name):
    notes = " ".join(models.describe(name)["recipe"]["notes"])
    for words in NOTES.get(name[:7], ()):
        assert words in notes, (name, words)
    assert bool(notes) == (name[:7] in NOTES)
    assert UNIFORM_RECIPE.notes == ()


def test_uniform_recipe_holds_out_a_validation_split():
    r = UNIFORM_RECIPE.as_dict()
    assert (r["holdout_val"], r["eval_split"], r["eval_schedule"]) == (True, "val", "epoch")
    # A grid net has no study: its recipe under --recipe seed is the uniform one.
    assert models.get_spec("grid_d2_k5_s1_same_max_w32").recipe == UNIFORM_RECIPE


def _recipe(name: str) -> Recipe:
    return models.get_spec(name).recipe


def test_seed003_trains_on_59968_images_per_epoch():
    # 60,000 = 937 × 64 + 32: the tutorial skips the last batch of 32.
    assert _recipe("seed003_lenet_dropout").images_per_epoch(MNIST_TRAIN) == 59_968
    assert _recipe("seed003_lenet_dropout").steps_per_epoch(MNIST_TRAIN) == 937
    assert _recipe("seed000_net0").images_per_epoch(MNIST_TRAIN) == MNIST_TRAIN


def test_seed002_epoch_is_the_469_iterations_its_bar_showed():
    r, rep = _recipe("seed002_conv7"), models.describe("seed002_conv7")["reported"]
    assert r.steps_per_epoch(MNIST_TRAIN) * r.epochs == rep["timing"]["iterations"] == 469


@pytest.mark.parametrize("name", ["seed004_model_a", "seed004_model_b", "seed004_model_c"])
def test_seed004_evaluates_where_it_printed_accuracy(name):
    steps = _recipe(name).eval_steps(MNIST_TRAIN)
    assert steps == [i for i, _ in models.describe(name)["reported"]["eval_accuracy"]]
    assert steps[-1] == 3000  # n_iters


def test_seed000_validates_after_each_of_its_10_epochs():
    assert _recipe("seed000_net0").eval_steps(MNIST_TRAIN) == [469 * k for k in range(1, 11)]
    # --epochs overrides the count, not the schedule.
    assert _recipe("seed000_net0").eval_steps(MNIST_TRAIN, epochs=2) == [469, 938]


@pytest.mark.parametrize("name", ["seed001_lab4_maxpool_softmax_nll",
                                  "seed001_lab4_avgpool_softmax_nll", "seed002_conv7"])
def test_one_printed_loss_per_epoch(name):
    rep = models.describe(name)["reported"]
    assert len(rep["epoch_losses"]) == _recipe(name).epochs


@pytest.mark.parametrize("schedule,interval,epochs,want", [
    ("epoch", 0, 3, [1, 2, 3]),  # 100 images at batch 128: one step per epoch
    ("iterations", 2, 1, [2]),   # 300 images: 3 steps, the next evaluation would be step 4
])
def test_no_evaluation_is_scheduled_past_the_last_step(schedule, interval, epochs, want):
    # A scheduled step that never comes is an evaluation silently missing from the record.
    recipe = dataclasses.replace(UNIFORM_RECIPE, batch_size=128, epochs=epochs,
                                 eval_schedule=schedule, eval_interval=interval)
    assert recipe.eval_steps(100 if schedule == "epoch" else 300) == want


def test_evaluating_at_the_end_is_one_step():
    assert _recipe("seed001_lab4_maxpool").eval_steps(MNIST_TRAIN) == [3 * 6000]


def test_eval_text_names_split_and_schedule():
    assert _recipe("seed004_model_a").eval_text() == "test split every 500 iterations"
    assert UNIFORM_RECIPE.eval_text() == "val split after every epoch"


@pytest.mark.parametrize("fields,match", [
    (dict(optimizer="rmsprop"), "unknown optimizer 'rmsprop'"),
    (dict(eval_schedule="iterations"), "eval_interval 0 must be > 0"),
    (dict(eval_interval=500), "eval_interval 500 must be > 0 for eval_schedule 'iterations' "
                              "and 0 otherwise"),
    (dict(batch_metrics=("f1",)), "unknown batch_metrics entry 'f1'"),
    (dict(batch_size=0), "batch_size 0 must be >= 1"),
    (dict(optimizer="adam", momentum=0.9), "Adam takes no momentum"),
    (dict(normalize="imagenet"), "unknown normalize 'imagenet'"),
    (dict(normalize=(0.5, 0.0)), r"normalize \(0.5, 0.0\) must be"),
    (dict(loss="mse"), "unknown loss 'mse'"),
])
def test_bad_recipes_are_rejected_with_the_field_named(fields, match):
    with pytest.raises(ValueError, match=match):
        Recipe(**fields)
