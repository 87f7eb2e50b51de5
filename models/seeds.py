"""The architectures of the five source studies (see ../shared/seeds/README.md), as specs.

Names are ``seed<study>_<net>``. Layer sizes are the studies'; flatten sizes are derived. Every
net outputs logits and trains with cross-entropy (log_softmax + nll_loss, as seed000 and seed002
wrote it, is the same function), except ``seed001_lab4_maxpool_softmax_nll``, which keeps the
Lab 4 bug so the report can show what it cost.
"""

from __future__ import annotations

from dataclasses import replace

from .registry import register_model
from .spec import ArchSpec, Conv, Dropout, Flatten, Linear, Pool, Recipe

MAX = Pool("max", 2)
AVG = Pool("avg", 2)

# seed000: SGD lr 0.01 momentum 0.5, batch 128 (eval 1000), 10 epochs, Normalize(0.1307, 0.3081)
# -- MNIST's own mean/std, so "dataset" here (each dataset's own constants).
RECIPE_000 = Recipe("sgd", lr=0.01, momentum=0.5, batch_size=128, eval_batch_size=1000,
                    epochs=10, normalize="dataset")
# seed001 (Lab 4): Adam lr 1e-3, batch 10, 3 epochs, ToTensor only.
RECIPE_001 = Recipe("adam", lr=1e-3, batch_size=10, epochs=3, normalize="none")
# seed002: SGD lr 0.01 momentum 0.9, batch 128, 1 epoch, Normalize(0.1307, 0.3081).
RECIPE_002 = Recipe("sgd", lr=0.01, momentum=0.9, batch_size=128, epochs=1, normalize="dataset")
# seed003: Adam lr 0.01, batch 64 with the incomplete last batch dropped, 3 epochs,
# Normalize(0.5, 0.5).
RECIPE_003 = Recipe("adam", lr=0.01, batch_size=64, epochs=3, normalize=(0.5, 0.5),
                    drop_last=True)
# seed004: SGD lr 0.01 (model C: 0.05), no momentum, batch 100, 3000 iterations = 5 epochs of
# 60,000 images, ToTensor only.
RECIPE_004 = Recipe("sgd", lr=0.01, batch_size=100, epochs=5, normalize="none")

SHAPE = (1, 28, 28)


def _seed000(name: str, layers: list, description: str, input_shape, num_classes) -> ArchSpec:
    return ArchSpec(name, tuple(layers) + (Linear(num_classes, act=None),), "seed000",
                    tuple(input_shape), num_classes, recipe=RECIPE_000, tags=("seed",),
                    description=description)


@register_model
def seed000_net0(input_shape=SHAPE, num_classes=10):
    return _seed000("seed000_net0",
                    [Conv(20, 5), MAX, Conv(50, 5), MAX, Flatten(), Linear(500)],
                    "2 conv 5×5 valid, max pooling: the study's default net",
                    input_shape, num_classes)


@register_model
def seed000_net1(input_shape=SHAPE, num_classes=10):
    return _seed000("seed000_net1",
                    [Conv(20, 3, 1, 1), MAX, Conv(50, 3, 1, 1), MAX, Flatten(), Linear(500)],
                    "2 conv 3×3 same padding", input_shape, num_classes)


@register_model
def seed000_net2(input_shape=SHAPE, num_classes=10):
    return _seed000("seed000_net2",
                    [Conv(20, 5), MAX, Conv(50, 3), MAX, Flatten(), Linear(500)],
                    "conv 5×5 then 3×3, valid", input_shape, num_classes)


@register_model
def seed000_net3(input_shape=SHAPE, num_classes=10):
    return _seed000("seed000_net3",
                    [Conv(20, 3, 1, 1), MAX, Conv(50, 5), MAX, Flatten(), Linear(500)],
                    "conv 3×3 same then 5×5 valid", input_shape, num_classes)


@register_model
def seed000_net4(input_shape=SHAPE, num_classes=10):
    return _seed000("seed000_net4",
                    [Conv(20, 7, 3), MAX, Flatten(), Linear(200)],
                    "1 conv 7×7 stride 3", input_shape, num_classes)


@register_model
def seed000_net5(input_shape=SHAPE, num_classes=10):
    return _seed000("seed000_net5",
                    [Conv(1, 13, 5), MAX, Flatten(), Linear(500)],
                    "1 conv 13×13 stride 5, 1 channel: built to underfit", input_shape, num_classes)


@register_model
def seed000_net6(input_shape=SHAPE, num_classes=10):
    return _seed000("seed000_net6",
                    [Conv(20, 5), MAX, Flatten(), Linear(500)],
                    "1 conv 5×5 stride 1", input_shape, num_classes)


@register_model
def seed000_net7(input_shape=SHAPE, num_classes=10):
    return _seed000("seed000_net7",
                    [Conv(20, 5, 3), MAX, Flatten(), Linear(500)],
                    "1 conv 5×5 stride 3", input_shape, num_classes)


@register_model
def seed000_net8(input_shape=SHAPE, num_classes=10):
    # The notebook defined this net but appended net7 a second time; this is the net it meant.
    return _seed000("seed000_net8",
                    [Conv(2, 13, 3), MAX, Flatten(), Linear(500)],
                    "1 conv 13×13 stride 3, 2 channels (never trained in the notebook)",
                    input_shape, num_classes)


@register_model
def seed000_net9(input_shape=SHAPE, num_classes=10):
    # Seven 3×3 valid convs; the last has no ReLU before the flatten, as in the notebook.
    return _seed000("seed000_net9",
                    [Conv(20, 3), Conv(50, 3), MAX, Conv(50, 3), Conv(50, 3), Conv(50, 3),
                     Conv(50, 3), Conv(80, 3, act=None), Flatten(), Linear(500)],
                    "7 conv 3×3 valid, one max pool", input_shape, num_classes)


def _lab4(name, pool, head, input_shape, num_classes, tags=("seed",), loss="cross_entropy"):
    layers = (Conv(32, 5, 1, 2), pool, Conv(64, 5, 1, 2), pool, Flatten(), Linear(128),
              Linear(num_classes, act=None))
    kind = "max" if pool is MAX else "average"
    reported = {"dataset": "mnist", "test_accuracy": 0.875 if pool is MAX else 0.894,
                "note": "trained with softmax + nll_loss (the bug)"}
    return ArchSpec(name, layers, "seed001", tuple(input_shape), num_classes, head=head,
                    recipe=replace(RECIPE_001, loss=loss),
                    tags=tags, description=f"Lab 4: 2 conv 5×5 pad 2, {kind} pooling, fc 128",
                    reported=reported)


@register_model
def seed001_lab4_maxpool(input_shape=SHAPE, num_classes=10):
    return _lab4("seed001_lab4_maxpool", MAX, "logits", input_shape, num_classes)


@register_model
def seed001_lab4_avgpool(input_shape=SHAPE, num_classes=10):
    return _lab4("seed001_lab4_avgpool", AVG, "logits", input_shape, num_classes)


@register_model
def seed001_lab4_maxpool_softmax_nll(input_shape=SHAPE, num_classes=10):
    # As the notebook ran it: softmax output fed to nll_loss, so the loss is -p(correct class)
    # and bottoms out at -1.0 with vanishing gradients.
    return _lab4("seed001_lab4_maxpool_softmax_nll", MAX, "softmax", input_shape, num_classes,
                 tags=("seed", "faithful-bug"), loss="nll_on_softmax")


@register_model
def seed002_conv7(input_shape=SHAPE, num_classes=10):
    # The last conv's 10 channels at 1×1 are the class scores (the blog's x.view(-1, 10)); a
    # ReLU follows it there too, kept as written.
    layers = (Conv(32, 3, 1, 1), Conv(64, 3, 1, 1), MAX, Conv(128, 3, 1, 1), Conv(256, 3, 1, 1),
              MAX, Conv(512, 3), Conv(1024, 3), Conv(num_classes, 3), Flatten())
    return ArchSpec("seed002_conv7", layers, "seed002", tuple(input_shape), num_classes,
                    recipe=RECIPE_002, tags=("seed",),
                    description="7 conv 3×3, 32→1024 channels, 2 max pools, no FC")


@register_model
def seed003_lenet_dropout(input_shape=SHAPE, num_classes=10):
    # fc1 → fc2 with no ReLU between them, as in the tutorial.
    layers = (Conv(6, 5), MAX, Dropout(0.5), Conv(16, 5), MAX, Flatten(), Linear(30, act=None),
              Linear(num_classes, act=None))
    return ArchSpec("seed003_lenet_dropout", layers, "seed003", tuple(input_shape), num_classes,
                    recipe=RECIPE_003, tags=("seed",),
                    description="conv 6/16 5×5, dropout, fc 256→30→10 without ReLU")


def _seed004(name, pad, pool, lr, reported_acc, description, input_shape, num_classes):
    layers = (Conv(16, 5, 1, pad), pool, Conv(32, 5, 1, pad), pool, Flatten(),
              Linear(num_classes, act=None))
    recipe = RECIPE_004 if lr == RECIPE_004.lr else Recipe("sgd", lr=lr, batch_size=100,
                                                            epochs=5, normalize="none")
    return ArchSpec(name, layers, "seed004", tuple(input_shape), num_classes, recipe=recipe,
                    tags=("seed",), description=description,
                    reported={"dataset": "mnist", "test_accuracy": reported_acc})


@register_model
def seed004_model_a(input_shape=SHAPE, num_classes=10):
    return _seed004("seed004_model_a", 2, MAX, 0.01, 0.98,
                    "conv 16/32 5×5 same padding, max pooling, 1 FC", input_shape, num_classes)


@register_model
def seed004_model_b(input_shape=SHAPE, num_classes=10):
    return _seed004("seed004_model_b", 2, AVG, 0.01, 0.93,
                    "model A with average pooling", input_shape, num_classes)


@register_model
def seed004_model_c(input_shape=SHAPE, num_classes=10):
    # The text says max pooling; the code uses AvgPool2d, and we follow the code.
    return _seed004("seed004_model_c", 0, AVG, 0.05, 0.97,
                    "valid padding, average pooling (as coded), lr 0.05", input_shape,
                    num_classes)
