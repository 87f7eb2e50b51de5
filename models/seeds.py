"""The architectures of the five source studies (see ../shared/seeds/README.md), as specs.

Names are ``seed<study>_<net>``. Layer sizes are the studies'; flatten sizes are derived. Every
net outputs logits and trains with cross-entropy (log_softmax + nll_loss, as seed000 and seed002
wrote it, is the same function), except the two ``seed001_lab4_*_softmax_nll`` nets, which keep
the Lab 4 bug as the notebook ran it, so the study's own max-vs-average comparison can be rerun
and set beside the corrected pair.

Each net carries its study's recipe (``--recipe seed``) and, where the study printed figures for
it, those figures as ``Reported`` data.
"""

from __future__ import annotations

from dataclasses import replace

from cnnbench.studies import TIMING_NOTE_000

from .registry import register_model
from .reported import Reported, Timing
from .spec import ArchSpec, Conv, Dropout, Flatten, Linear, Pool, Recipe

MAX = Pool("max", 2)
AVG = Pool("avg", 2)
SHAPE = (1, 28, 28)


# Each study's recipe is built by a plain function, called whenever a spec is made, so that
# `make mutate` reaches its fields: mutmut 3 mutates only functions, never a
# module-level constant.
# Every field is stated, none left to Recipe's defaults (several of which equal a study's
# value, lr 0.01 for one): a recipe that lost a field must fail, not fall back to a default.
def _study_recipe(*, optimizer, lr, momentum, batch_size, eval_batch_size, epochs, normalize,
                  drop_last, eval_schedule, eval_interval, batch_metrics, seed,
                  notes) -> Recipe:
    # No study held out a validation split: each trained on all 60,000 MNIST training images.
    # The loss is left to the default, cross-entropy (seed001's buggy nets replace it).
    return Recipe(optimizer=optimizer, lr=lr, momentum=momentum, batch_size=batch_size,
                  eval_batch_size=eval_batch_size, epochs=epochs, normalize=normalize,
                  drop_last=drop_last, holdout_val=False,
                  eval_schedule=eval_schedule, eval_interval=eval_interval,
                  batch_metrics=batch_metrics, seed=seed, notes=notes)


# seed000: SGD lr 0.01 momentum 0.5, batch 128, 10 epochs, Normalize(0.1307, 0.3081) -- MNIST's
# own mean/std, so "dataset" here. validate() runs on the test split (batch 1000) after every
# epoch, and every step's training loss is kept (train_losses). torch.manual_seed(42).
# Its timing covered more than ours: TIMING_NOTE_000 (cnnbench/studies.py).


def recipe_000() -> Recipe:
    return _study_recipe(optimizer="sgd", lr=0.01, momentum=0.5, batch_size=128,
                         eval_batch_size=1000, epochs=10, normalize="dataset", drop_last=False,
                         eval_schedule="epoch", eval_interval=0, batch_metrics=("loss",),
                         seed=42, notes=(TIMING_NOTE_000,))


# seed001 (Lab 4): Adam lr 1e-3, batch 10 for training and testing, 3 epochs, ToTensor only;
# tested once at the end.
def recipe_001() -> Recipe:
    return _study_recipe(optimizer="adam", lr=1e-3, momentum=0.0, batch_size=10,
                         eval_batch_size=10, epochs=3, normalize="none", drop_last=False,
                         eval_schedule="end", eval_interval=0, batch_metrics=(), seed=0,
                         notes=())


# seed002: SGD lr 0.01 momentum 0.9, batch 128 (its test loader too), 1 epoch,
# Normalize(0.1307, 0.3081). Its test() call is commented out; "end" is where it would run.
# torch.manual_seed(1).
def recipe_002() -> Recipe:
    return _study_recipe(optimizer="sgd", lr=0.01, momentum=0.9, batch_size=128,
                         eval_batch_size=128, epochs=1, normalize="dataset", drop_last=False,
                         eval_schedule="end", eval_interval=0, batch_metrics=(), seed=1,
                         notes=())


# seed003: Adam lr 0.01, batch 64 (test too) with the incomplete last batch skipped, 3 epochs,
# Normalize(0.5, 0.5); per-step loss and training-batch accuracy kept; tested once at the end.
FEATURES_NOTE_003 = (
    "the text contradicts the code: it says the last conv gives 4x4x20, flattened to 320; the "
    "code's conv2 has 16 channels and fc1 takes 16*4*4 = 256, which is what ran and what we "
    "build")


def recipe_003() -> Recipe:
    return _study_recipe(optimizer="adam", lr=0.01, momentum=0.0, batch_size=64,
                         eval_batch_size=64, epochs=3, normalize=(0.5, 0.5), drop_last=True,
                         eval_schedule="end", eval_interval=0,
                         batch_metrics=("loss", "accuracy"), seed=0,
                         notes=(FEATURES_NOTE_003,))


# seed004: SGD lr 0.01 (model C: 0.05), no momentum, batch 100 (test too), n_iters 3000 =
# 5 epochs of 600 steps, ToTensor only; the whole test split scored every 500 iterations.
def recipe_004() -> Recipe:
    return _study_recipe(optimizer="sgd", lr=0.01, momentum=0.0, batch_size=100,
                         eval_batch_size=100, epochs=5, normalize="none", drop_last=False,
                         eval_schedule="iterations", eval_interval=500, batch_metrics=(),
                         seed=0, notes=())


# ---- seed000: ten nets, one table ---------------------------------------------------------

# name: (layers before the 10-way classifier, description)
SEED000_NETS = {
    "seed000_net0": ((Conv(20, 5), MAX, Conv(50, 5), MAX, Flatten(), Linear(500)),
                     "2 conv 5×5 valid, max pooling: the study's default net"),
    "seed000_net1": ((Conv(20, 3, 1, 1), MAX, Conv(50, 3, 1, 1), MAX, Flatten(), Linear(500)),
                     "2 conv 3×3 same padding"),
    "seed000_net2": ((Conv(20, 5), MAX, Conv(50, 3), MAX, Flatten(), Linear(500)),
                     "conv 5×5 then 3×3, valid"),
    "seed000_net3": ((Conv(20, 3, 1, 1), MAX, Conv(50, 5), MAX, Flatten(), Linear(500)),
                     "conv 3×3 same then 5×5 valid"),
    "seed000_net4": ((Conv(20, 7, 3), MAX, Flatten(), Linear(200)), "1 conv 7×7 stride 3"),
    "seed000_net5": ((Conv(1, 13, 5), MAX, Flatten(), Linear(500)),
                     "1 conv 13×13 stride 5, 1 channel: built to underfit"),
    "seed000_net6": ((Conv(20, 5), MAX, Flatten(), Linear(500)), "1 conv 5×5 stride 1"),
    "seed000_net7": ((Conv(20, 5, 3), MAX, Flatten(), Linear(500)), "1 conv 5×5 stride 3"),
    # The notebook defined this net but appended net7 a second time; this is the net it meant.
    "seed000_net8": ((Conv(2, 13, 3), MAX, Flatten(), Linear(500)),
                     "1 conv 13×13 stride 3, 2 channels (never trained in the notebook)"),
    # Seven 3×3 valid convs; the last has no ReLU before the flatten, as in the notebook.
    "seed000_net9": ((Conv(20, 3), Conv(50, 3), MAX, Conv(50, 3), Conv(50, 3), Conv(50, 3),
                      Conv(50, 3), Conv(80, 3, act=None), Flatten(), Linear(500)),
                     "7 conv 3×3 valid, one max pool"),
}


def _register_seed000(name: str, layers: tuple, description: str) -> None:
    def make(input_shape=SHAPE, num_classes=10) -> ArchSpec:
        return ArchSpec(name, layers + (Linear(num_classes, act=None),), "seed000",
                        tuple(input_shape), num_classes, recipe=recipe_000(), tags=("seed",),
                        description=description)

    register_model(make, name=name)


for _name, (_layers, _description) in SEED000_NETS.items():
    _register_seed000(_name, _layers, _description)


# ---- seed001: Lab 4, max vs average pooling, as run (the bug) and corrected ------------------

_LAB4_NOTE = ("softmax output fed to nll_loss (the bug): the loss is -p(true class), so it "
              "bottoms out at -1.0; each printed loss is an epoch's last batch of 10 images")
# What Lab 4 printed for each pooling kind; both nets ran with the bug.
LAB4_REPORTED = {
    "max": Reported(test_accuracy=0.875, printed_as="round(correct / total, 3)",
                    resolution=0.001, epoch_losses=(-0.997342586517334, -1.0, -1.0),
                    note=_LAB4_NOTE),
    "avg": Reported(test_accuracy=0.894, printed_as="round(correct / total, 3)",
                    resolution=0.001,
                    epoch_losses=(-0.9991691708564758, -0.800000011920929, -0.9100052118301392),
                    note=_LAB4_NOTE),
}


def _register_lab4(pool: Pool, bug: bool) -> None:
    kind = "maxpool" if pool.kind == "max" else "avgpool"
    name = f"seed001_lab4_{kind}" + ("_softmax_nll" if bug else "")
    how = "softmax + nll_loss, as the notebook ran it" if bug else "corrected: logits + CE"
    description = f"Lab 4: 2 conv 5×5 pad 2, {pool.kind} pooling, fc 128; {how}"

    def make(input_shape=SHAPE, num_classes=10) -> ArchSpec:
        layers = (Conv(32, 5, 1, 2), pool, Conv(64, 5, 1, 2), pool, Flatten(), Linear(128),
                  Linear(num_classes, act=None))
        return ArchSpec(
            name, layers, "seed001", tuple(input_shape), num_classes,
            head="softmax" if bug else "logits",
            recipe=replace(recipe_001(), loss="nll_on_softmax") if bug else recipe_001(),
            tags=("seed", "faithful-bug") if bug else ("seed",), description=description,
            # The study's figures were measured on the buggy nets only.
            reported=LAB4_REPORTED[pool.kind] if bug else None)

    register_model(make, name=name)


for _pool in (MAX, AVG):
    for _bug in (False, True):
        _register_lab4(_pool, _bug)


# ---- seed002 and seed003: one net each ----------------------------------------------------

SEED002_REPORTED = Reported(
    epoch_losses=(0.6927734017372131,),
    timing=Timing(iterations=469, seconds=12, device="Tesla T4", it_per_s=36.63,
                  printed_as="tqdm: 469/469 [00:12<00:00, 36.63it/s] (whole seconds, "
                             "truncated; DataLoader with 1 worker included)"),
    note="test() is commented out, so no accuracy was printed; the loss is the last batch's "
         "(96 images), from the tqdm bar")


@register_model
def seed002_conv7(input_shape=SHAPE, num_classes=10):
    # The last conv's 10 channels at 1×1 are the class scores (the blog's x.view(-1, 10)); a
    # ReLU follows it there too, kept as written.
    layers = (Conv(32, 3, 1, 1), Conv(64, 3, 1, 1), MAX, Conv(128, 3, 1, 1), Conv(256, 3, 1, 1),
              MAX, Conv(512, 3), Conv(1024, 3), Conv(num_classes, 3), Flatten())
    return ArchSpec("seed002_conv7", layers, "seed002", tuple(input_shape), num_classes,
                    recipe=recipe_002(), tags=("seed",),
                    description="7 conv 3×3, 32→1024 channels, 2 max pools, no FC",
                    reported=SEED002_REPORTED)


@register_model
def seed003_lenet_dropout(input_shape=SHAPE, num_classes=10):
    # Dropout (nn.Dropout(), p = 0.5) after the first pool; fc1 → fc2 with no ReLU between
    # them, as in the tutorial. The tutorial printed no figures (its cells have no outputs).
    layers = (Conv(6, 5), MAX, Dropout(0.5), Conv(16, 5), MAX, Flatten(), Linear(30, act=None),
              Linear(num_classes, act=None))
    return ArchSpec("seed003_lenet_dropout", layers, "seed003", tuple(input_shape), num_classes,
                    recipe=recipe_003(), tags=("seed",),
                    description="conv 6/16 5×5, dropout, fc 256→30→10 without ReLU (256 = "
                                "16·4·4 as coded; the text says 4×4×20 = 320)")


# ---- seed004: models A, B, C --------------------------------------------------------------

# The iterations at which seed004 printed test accuracy and the training batch's loss.
SEED004_PRINTED_ITERATIONS = (500, 1000, 1500, 2000, 2500, 3000)
_SEED004_PRINTED_AS = ("100 * correct / total on integer tensors (division truncates: 98 "
                       "means [98, 99) %)")


def _seed004_reported(percents: tuple[int, ...], losses: tuple[float, ...]) -> Reported:
    curve = tuple((i, p / 100) for i, p in zip(SEED004_PRINTED_ITERATIONS, percents, strict=True))
    return Reported(test_accuracy=curve[-1][1], printed_as=_SEED004_PRINTED_AS,
                    resolution=0.01, lower_bound=True, eval_accuracy=curve,
                    step_losses=tuple(zip(SEED004_PRINTED_ITERATIONS, losses, strict=True)))


# name: (padding, pooling, lr where it differs from recipe_004's, printed accuracies in %,
# printed losses, description)
SEED004_MODELS = {
    "seed004_model_a": (2, MAX, None, (98, 98, 98, 98, 98, 98),
                        (0.04247228056192398, 0.12507490813732147, 0.10888931155204773,
                         0.025883041322231293, 0.053134769201278687, 0.021015744656324387),
                        "conv 16/32 5×5 same padding, max pooling, 1 FC"),
    "seed004_model_b": (2, AVG, None, (86, 89, 89, 91, 92, 93),
                        (0.6524097919464111, 0.6030823588371277, 0.2930809259414673,
                         0.29460909962654114, 0.28996703028678894, 0.2284603714942932),
                        "model A with average pooling"),
    # The text says max pooling; the code uses AvgPool2d, and we follow the code.
    "seed004_model_c": (0, AVG, 0.05, (92, 95, 96, 96, 97, 97),
                        (0.15751191973686218, 0.11110392212867737, 0.2289888560771942,
                         0.1407839059829712, 0.0230003260076046, 0.03644980862736702),
                        "valid padding, average pooling (as coded), lr 0.05"),
}


def _register_seed004(name, pad, pool, lr, percents, losses, description) -> None:
    reported = _seed004_reported(percents, losses)

    def make(input_shape=SHAPE, num_classes=10) -> ArchSpec:
        layers = (Conv(16, 5, 1, pad), pool, Conv(32, 5, 1, pad), pool, Flatten(),
                  Linear(num_classes, act=None))
        return ArchSpec(name, layers, "seed004", tuple(input_shape), num_classes,
                        recipe=recipe_004() if lr is None else replace(recipe_004(), lr=lr),
                        tags=("seed",),
                        description=description, reported=reported)

    register_model(make, name=name)


for _name, _row in SEED004_MODELS.items():
    _register_seed004(_name, *_row)
