"""Independent plain-PyTorch definitions of every seed net, from the notebooks' facts.

Written without ``models``: layer types, sizes, paddings, activations, dropout and head, with the
flatten sizes the notebooks hard-coded (4*4*50, 64*7*7, ...). ``test_notebook_nets.py`` copies
each one's weights into ``models.create(name)`` and requires the same outputs, so any change to
a seed net's layers, activations, pooling, dropout or head fails there.

Heads: seed000 and seed002 end in log_softmax and train with nll_loss, which is cross-entropy on
the scores before it; the nets here return those scores, as the registered nets do. Lab 4's
buggy nets return softmax probabilities, as the notebook's did.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn


def _relu_max(conv: nn.Conv2d) -> list[nn.Module]:
    return [conv, nn.ReLU(), nn.MaxPool2d(2, 2)]


def _seed000(features: list[nn.Module], flat: int, hidden: int = 500) -> nn.Sequential:
    # Study 000's Net(layers): the features, Flatten, fc(flat → hidden), ReLU, fc(hidden → 10).
    return nn.Sequential(*features, nn.Flatten(), nn.Linear(flat, hidden), nn.ReLU(),
                         nn.Linear(hidden, 10))


def _seed000_net9() -> nn.Sequential:
    # Seven 3×3 valid convs, 20 → 50 → (pool) → 50 ×4 → 80; no ReLU after the 80-channel conv.
    convs = [nn.Conv2d(1, 20, 3), nn.ReLU(), nn.Conv2d(20, 50, 3), nn.ReLU(), nn.MaxPool2d(2)]
    for _ in range(4):
        convs += [nn.Conv2d(50, 50, 3), nn.ReLU()]
    return _seed000([*convs, nn.Conv2d(50, 80, 3)], 2 * 2 * 80)


class Lab4(nn.Module):
    """Study 001: conv 32 and 64 (5×5, pad 2) each with ReLU and 2×2 pooling, fc 128 + ReLU,
    fc 10; ``bug``: softmax on the output, as the notebook ran it."""

    def __init__(self, pool: Callable, bug: bool):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 32, 5, padding=2), nn.Conv2d(32, 64, 5, padding=2)
        self.f1, self.f2 = nn.Linear(64 * 7 * 7, 128), nn.Linear(128, 10)
        self.pool, self.bug = pool, bug

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(F.relu(self.c1(x)), 2)
        x = self.pool(F.relu(self.c2(x)), 2)
        x = self.f2(F.relu(self.f1(torch.flatten(x, 1))))
        return F.softmax(x, dim=1) if self.bug else x


class Conv7(nn.Module):
    """Study 002: 3×3 convs 32, 64 (pad 1), pool, 128, 256 (pad 1), pool, 512, 1024, 10
    (valid), every one followed by ReLU, the last included; its 1×1 map is the 10 scores."""

    def __init__(self):
        super().__init__()
        chans = [1, 32, 64, 128, 256, 512, 1024, 10]
        pads = [1, 1, 1, 1, 0, 0, 0]
        self.convs = nn.ModuleList(nn.Conv2d(chans[i], chans[i + 1], 3, padding=pads[i])
                                   for i in range(7))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, conv in enumerate(self.convs):
            x = F.relu(conv(x))
            if i in (1, 3):
                x = F.max_pool2d(x, 2, 2)
        return x.reshape(-1, 10)


class LeNetDropout(nn.Module):
    """Study 003: conv 6 (5×5) + ReLU + pool, dropout p=0.5, conv 16 (5×5) + ReLU + pool,
    fc 256 → 30, fc 30 → 10, with nothing between the two fc layers."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5)
        self.fc30, self.fc10 = nn.Linear(16 * 4 * 4, 30), nn.Linear(30, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.a(x)), 2)
        x = F.dropout(x, p=0.5, training=self.training)
        x = F.max_pool2d(F.relu(self.b(x)), 2)
        return self.fc10(self.fc30(x.flatten(1)))


class ModelABC(nn.Module):
    """Study 004: conv 16 and 32 (5×5, padding ``pad``) each with ReLU and 2×2 pooling
    (``pool``), then one fc layer from the flattened map to the 10 scores."""

    def __init__(self, pad: int, pool: type[nn.Module], side: int):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 16, 5, 1, pad), nn.ReLU(), pool(2),
                                  nn.Conv2d(16, 32, 5, 1, pad), nn.ReLU(), pool(2))
        self.readout = nn.Linear(32 * side * side, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.readout(self.body(x).flatten(1))


NOTEBOOK_NETS: dict[str, Callable[[], nn.Module]] = {
    "seed000_net0": lambda: _seed000(_relu_max(nn.Conv2d(1, 20, 5))
                                     + _relu_max(nn.Conv2d(20, 50, 5)), 4 * 4 * 50),
    "seed000_net1": lambda: _seed000(_relu_max(nn.Conv2d(1, 20, 3, 1, 1))
                                     + _relu_max(nn.Conv2d(20, 50, 3, 1, 1)), 7 * 7 * 50),
    "seed000_net2": lambda: _seed000(_relu_max(nn.Conv2d(1, 20, 5))
                                     + _relu_max(nn.Conv2d(20, 50, 3)), 5 * 5 * 50),
    "seed000_net3": lambda: _seed000(_relu_max(nn.Conv2d(1, 20, 3, 1, 1))
                                     + _relu_max(nn.Conv2d(20, 50, 5)), 5 * 5 * 50),
    "seed000_net4": lambda: _seed000(_relu_max(nn.Conv2d(1, 20, 7, 3)), 4 * 4 * 20, 200),
    "seed000_net5": lambda: _seed000(_relu_max(nn.Conv2d(1, 1, 13, 5)), 2 * 2 * 1),
    "seed000_net6": lambda: _seed000(_relu_max(nn.Conv2d(1, 20, 5, 1)), 12 * 12 * 20),
    "seed000_net7": lambda: _seed000(_relu_max(nn.Conv2d(1, 20, 5, 3)), 4 * 4 * 20),
    "seed000_net8": lambda: _seed000(_relu_max(nn.Conv2d(1, 2, 13, 3)), 3 * 3 * 2),
    "seed000_net9": _seed000_net9,
    "seed001_lab4_maxpool": lambda: Lab4(F.max_pool2d, bug=False),
    "seed001_lab4_avgpool": lambda: Lab4(F.avg_pool2d, bug=False),
    "seed001_lab4_maxpool_softmax_nll": lambda: Lab4(F.max_pool2d, bug=True),
    "seed001_lab4_avgpool_softmax_nll": lambda: Lab4(F.avg_pool2d, bug=True),
    "seed002_conv7": Conv7,
    "seed003_lenet_dropout": LeNetDropout,
    "seed004_model_a": lambda: ModelABC(2, nn.MaxPool2d, 7),
    "seed004_model_b": lambda: ModelABC(2, nn.AvgPool2d, 7),
    "seed004_model_c": lambda: ModelABC(0, nn.AvgPool2d, 4),
}
