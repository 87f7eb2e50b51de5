"""The recipe facts the runner carries out, as small plain functions: the optimizer a recipe
names, its loss, and how an evaluation batch is scored.

They live here, undecorated and outside the Runner, so that `make mutate` reaches
them: mutmut 3 mutates plain functions only (it skips decorated ones, such as a method under
``@torch.no_grad()``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def make_optimizer(recipe, params, mode: str) -> torch.optim.Optimizer:
    """The recipe's optimizer over ``params``: PyTorch's defaults plus the recipe's lr (and
    SGD's momentum), as every study passed them. ``mode`` is the case's mode as run."""
    if recipe.optimizer == "sgd":
        return torch.optim.SGD(params, lr=recipe.lr, momentum=recipe.momentum)
    if recipe.optimizer == "adam":
        # capturable keeps Adam's step counter on the device, so a graph can replay it.
        return torch.optim.Adam(params, lr=recipe.lr, capturable=mode == "graphs")
    raise ValueError(f"unknown optimizer {recipe.optimizer!r}")


def loss(kind: str, out: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """The recipe's loss: "cross_entropy" on logits, or "nll_on_softmax" (the Lab 4 bug:
    nll_loss on probabilities, i.e. minus the true class's probability)."""
    if kind == "nll_on_softmax":
        return F.nll_loss(out.float(), y, reduction=reduction)
    return F.cross_entropy(out, y, reduction=reduction)


def score_batch(kind: str, out: torch.Tensor, y: torch.Tensor):
    """One evaluation batch: (its summed loss in float64, which images it classified right).
    The loss is computed in float32 whatever the precision, and summed (the studies' sum over
    the test set, divided by its length at the end)."""
    summed = loss(kind, out.float(), y, reduction="sum").double()
    return summed, out.argmax(1) == y
