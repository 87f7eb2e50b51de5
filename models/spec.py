"""Architecture specs: plain frozen data that describes a CNN, layer by layer.

A spec says what the notebooks wrote as ``nn.Conv2d(1, 20, 5, 1)`` but without the numbers that
follow from the others: input channels and the flatten size are derived (see ``analysis.py``),
so changing a kernel size or the input shape can never leave a stale ``4*4*50`` behind.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Activation = Literal["relu"] | None


@dataclass(frozen=True)
class Conv:
    """2-D convolution. ``padding`` is a pixel count or "same" (= kernel // 2, so the output is
    ceil(W / stride) for odd kernels and any stride, unlike PyTorch's padding="same")."""

    out_channels: int
    kernel: int
    stride: int = 1
    padding: int | Literal["same"] = 0
    act: Activation = "relu"

    def pad(self) -> int:
        return self.kernel // 2 if self.padding == "same" else int(self.padding)


@dataclass(frozen=True)
class Pool:
    kind: str = "max"  # "max" or "avg"
    kernel: int = 2
    stride: int | None = None  # None: stride = kernel, as nn.MaxPool2d does


@dataclass(frozen=True)
class Dropout:
    p: float = 0.5  # nn.Dropout()'s default, which seed003 uses


@dataclass(frozen=True)
class Flatten:
    pass


@dataclass(frozen=True)
class Linear:
    out_features: int
    act: Activation = "relu"


Layer = Conv | Pool | Dropout | Flatten | Linear


@dataclass(frozen=True)
class Recipe:
    """How a study trained its network, as data the runner applies in "seed recipe" mode.

    ``normalize``: "dataset" uses the dataset's own mean/std (the studies used MNIST's
    0.1307/0.3081 on MNIST); "none" is ToTensor only (pixels in [0, 1]); a (mean, std) pair is
    used as given (seed003's 0.5/0.5).
    ``loss``: "cross_entropy" on logits, or "nll_on_softmax", the Lab 4 bug (nll_loss applied
    to softmax probabilities, so the loss bottoms out at -1.0).
    """

    optimizer: str = "sgd"  # "sgd" or "adam"
    lr: float = 0.01
    momentum: float = 0.0
    batch_size: int = 128
    eval_batch_size: int = 1000
    epochs: int = 10
    normalize: str | tuple[float, float] = "dataset"
    drop_last: bool = False
    loss: str = "cross_entropy"

    def as_dict(self) -> dict:
        d = asdict(self)
        if isinstance(self.normalize, tuple):
            d["normalize"] = list(self.normalize)
        return d


# One shared recipe so architectures compare fairly (`--recipe uniform`): SGD with momentum 0.9
# at lr 0.01 and batch 128 trains every seed and grid net here without diverging (Adam at 0.01,
# seed003's choice, is fragile for the deep grid nets).
UNIFORM_RECIPE = Recipe(optimizer="sgd", lr=0.01, momentum=0.9, batch_size=128, epochs=5)


@dataclass(frozen=True)
class ArchSpec:
    name: str
    layers: tuple[Layer, ...]
    family: str
    input_shape: tuple[int, int, int] = (1, 28, 28)
    num_classes: int = 10
    head: str = "logits"  # "logits", or "softmax" for the faithful Lab 4 bug
    recipe: Recipe = field(default_factory=Recipe)
    tags: tuple[str, ...] = ()
    description: str = ""
    # What the source study reported, for the report to put beside our numbers.
    reported: dict | None = None
