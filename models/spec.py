"""Architecture specs: plain frozen data that describes a CNN, layer by layer.

A spec says what the notebooks wrote as ``nn.Conv2d(1, 20, 5, 1)`` but without the numbers that
follow from the others: input channels and the flatten size are derived (see ``analysis.py``),
so changing a kernel size or the input shape can never leave a stale ``4*4*50`` behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .recipe import UNIFORM_RECIPE, Recipe
from .reported import Reported

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
class ArchSpec:
    name: str
    layers: tuple[Layer, ...]
    family: str
    input_shape: tuple[int, int, int] = (1, 28, 28)
    num_classes: int = 10
    head: str = "logits"  # "logits", or "softmax" for the faithful Lab 4 bug
    # How the net trains under `--recipe seed`: its study's recipe; a net from no study (the
    # grid) trains the uniform way under either recipe.
    recipe: Recipe = UNIFORM_RECIPE
    tags: tuple[str, ...] = ()
    description: str = ""
    # What the source study printed for this very net (on MNIST, with its own recipe), for the
    # report to put beside our numbers; None when the study printed no figure for it.
    reported: Reported | None = None
