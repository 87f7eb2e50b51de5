"""Turn a checked spec into an ``nn.Sequential`` with children named conv1, relu1, pool1, ..."""

from __future__ import annotations

import torch
from torch import nn

from .analysis import analyze
from .spec import ArchSpec, Conv, Dropout, Flatten, Linear, Pool


class SpecNet(nn.Sequential):
    """The Sequential a spec builds, children named conv1, relu1, pool1, ..., fc1."""

    def __init__(self, modules: dict[str, nn.Module]):
        super().__init__()
        for name, module in modules.items():
            self.add_module(name, module)

    def first_conv(self) -> nn.Conv2d | None:
        return next((m for m in self.modules() if isinstance(m, nn.Conv2d)), None)


def build(spec: ArchSpec) -> SpecNet:
    infos = analyze(spec)  # raises ValueError before any parameter is allocated
    modules: dict[str, nn.Module] = {}
    counts: dict[str, int] = {}

    def add(prefix: str, module: nn.Module) -> None:
        counts[prefix] = counts.get(prefix, 0) + 1
        modules[f"{prefix}{counts[prefix]}"] = module

    for layer, info in zip(spec.layers, infos, strict=False):
        if isinstance(layer, Conv):
            add("conv", nn.Conv2d(info.in_shape[0], layer.out_channels, layer.kernel,
                                  layer.stride, layer.pad()))
            if layer.act == "relu":
                add("relu", nn.ReLU())
        elif isinstance(layer, Pool):
            cls = nn.MaxPool2d if layer.kind == "max" else nn.AvgPool2d
            add("pool", cls(layer.kernel, layer.stride))
        elif isinstance(layer, Dropout):
            add("drop", nn.Dropout(layer.p))
        elif isinstance(layer, Flatten):
            modules["flatten"] = nn.Flatten()
        elif isinstance(layer, Linear):
            add("fc", nn.Linear(info.in_shape[0], layer.out_features))
            if layer.act == "relu":
                add("relu", nn.ReLU())
    if spec.head == "softmax":
        # The faithful Lab 4 bug: probabilities out, then fed to nll_loss by the recipe.
        modules["softmax"] = nn.Softmax(dim=1)
    elif spec.head != "logits":
        raise ValueError(f"{spec.name}: unknown head {spec.head!r} (use 'logits' or 'softmax')")
    return SpecNet(modules)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def measured_flops(model: nn.Module, input_shape: tuple[int, ...]) -> tuple[int, int]:
    """(forward, training-step) FLOPs for one image, counted by torch's FlopCounterMode.

    The training step is forward + backward of a summed output (the optimizer's elementwise
    update is not a matmul/conv and FlopCounterMode does not count it).
    """
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros(1, *input_shape)
    was_training = model.training
    model.eval()  # dropout off: FLOPs are the same, but no RNG is consumed
    try:
        with FlopCounterMode(display=False) as fwd:
            model(x)
        with FlopCounterMode(display=False) as step:
            model(x).float().sum().backward()
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    return int(fwd.get_total_flops()), int(step.get_total_flops())
