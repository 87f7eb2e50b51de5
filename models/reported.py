"""What a source study printed, kept as data with where and how it was measured.

A figure is only comparable with ours when the conditions match: every study measured on MNIST
with its own recipe (``recipe="seed"``, the spec's ``recipe``), and some printed values are
rounded or truncated. ``Reported.as_dict()`` is what ``models.describe`` returns as
``reported`` and what the runner copies into every record. Its keys:

- ``dataset``, ``recipe``: where it was measured ("mnist", "seed").
- ``test_accuracy``: the final test accuracy as a fraction, or None when none was printed.
- ``printed_as``: the expression that printed it; ``resolution``: the step of the printed
  value (0.001 for ``round(x, 3)``, 0.01 for an integer percent); ``lower_bound``: True when
  the value was truncated, not rounded (seed004's integer division: 98 means [98, 99) %);
  ``accuracy_range``: [low, high], the true values the print allows, derived from those.
- ``eval_accuracy``: [[iteration, accuracy], ...] printed during training (seed004).
- ``step_losses``: [[iteration, loss], ...], the training batch's loss printed beside them.
- ``epoch_losses``: the loss of each epoch's last training batch, as printed (Lab 4's
  "Epoch k: loss"; seed002's tqdm bar); ``final_loss``: the last printed training loss.
- ``timing``: {iterations, seconds, it_per_s, device, printed_as} or None (seed002's bar).
- ``note``: anything else a reader needs.
"""

from __future__ import annotations

from dataclasses import dataclass

# Printed accuracies carry float noise once shifted by half a step; 10 decimals keep them exact.
_DECIMALS = 10


@dataclass(frozen=True)
class Timing:
    """A wall-clock figure a study printed: ``iterations`` steps in ``seconds`` on ``device``."""

    iterations: int
    seconds: float
    device: str
    it_per_s: float | None = None
    printed_as: str = ""

    def as_dict(self) -> dict:
        return {"iterations": self.iterations, "seconds": self.seconds, "device": self.device,
                "it_per_s": self.it_per_s, "printed_as": self.printed_as}


@dataclass(frozen=True)
class Reported:
    dataset: str = "mnist"
    recipe: str = "seed"
    test_accuracy: float | None = None
    printed_as: str = ""
    resolution: float | None = None
    lower_bound: bool = False
    eval_accuracy: tuple[tuple[int, float], ...] = ()
    step_losses: tuple[tuple[int, float], ...] = ()
    epoch_losses: tuple[float, ...] = ()
    timing: Timing | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.test_accuracy is not None and not 0.0 <= self.test_accuracy <= 1.0:
            raise ValueError(f"reported: test_accuracy {self.test_accuracy} must be a fraction")
        if self.test_accuracy is not None and not self.resolution:
            raise ValueError("reported: a printed accuracy needs its resolution")
        if self.eval_accuracy and self.test_accuracy != self.eval_accuracy[-1][1]:
            raise ValueError(f"reported: test_accuracy {self.test_accuracy} is not the last "
                             f"accuracy printed during training, {self.eval_accuracy[-1][1]}")

    @property
    def accuracy_range(self) -> tuple[float, float] | None:
        """The true test accuracies the printed one allows: [v, v + step) when truncated,
        [v - step/2, v + step/2] when rounded."""
        if self.test_accuracy is None or self.resolution is None:
            return None
        v, step = self.test_accuracy, self.resolution
        low, high = (v, v + step) if self.lower_bound else (v - step / 2, v + step / 2)
        return round(low, _DECIMALS), round(high, _DECIMALS)

    @property
    def final_loss(self) -> float | None:
        """The last training loss the study printed (Lab 4: -1.0 for max, -0.91 for avg)."""
        if self.step_losses:
            return self.step_losses[-1][1]
        return self.epoch_losses[-1] if self.epoch_losses else None

    def as_dict(self) -> dict:
        rng = self.accuracy_range
        return {
            "dataset": self.dataset,
            "recipe": self.recipe,
            "test_accuracy": self.test_accuracy,
            "printed_as": self.printed_as,
            "resolution": self.resolution,
            "lower_bound": self.lower_bound,
            "accuracy_range": list(rng) if rng else None,
            "eval_accuracy": [list(p) for p in self.eval_accuracy],
            "step_losses": [list(p) for p in self.step_losses],
            "epoch_losses": list(self.epoch_losses),
            "final_loss": self.final_loss,
            "timing": self.timing.as_dict() if self.timing else None,
            "note": self.note,
        }
