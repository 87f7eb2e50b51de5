"""The plan of one case: every decision about how it trains, made once, before any torch work.

``plan(arch, cfg)`` turns (architecture, RunConfig) into a CasePlan: the recipe as it will be
trained (study or uniform recipe, the command line's overrides, the architecture's own loss),
the mode after any fallback, whether the last batch is dropped, the validation size. The runner
then builds, warms up and captures from the plan, and the record's conditions are the plan's.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from cnnbench import data, models
from cnnbench import record as records

from .config import RunConfig


def graphs_unsupported(device_type: str, precision: str) -> str | None:
    """Why the graphs mode cannot run here (the runner then falls back to eager), or None."""
    if device_type != "cuda":
        return f"CUDA graphs need a CUDA device; ran eager on {device_type}"
    if precision == "fp16":
        return ("fp16 needs a GradScaler, whose inf/NaN check reads a flag back to the host "
                "every step, which a CUDA graph cannot capture; ran eager (bf16 needs no scaler "
                "and works with graphs)")
    return None


def normalization(spec) -> tuple[float, float] | None:
    """A recipe's normalization as make_loaders takes it: None means the dataset's mean/std."""
    if spec == "dataset":
        return None
    if spec == "none":
        return (0.0, 1.0)  # ToTensor only: pixels in [0, 1]
    return tuple(spec)


def case_seed(arch: str, cfg: RunConfig) -> int:
    """The case's random seed: ``cfg.seed`` when given, else its recipe's own seed plus the
    repeat (``--recipe seed``: seed000's 42, seed002's 1, 0 for the studies that set none;
    the uniform recipe: 0), so repeat k of seed000 trains with seed 42 + k."""
    if cfg.seed is not None:
        return cfg.seed
    base = models.get_spec(arch).recipe if cfg.recipe == "seed" else models.UNIFORM_RECIPE
    return base.seed + cfg.repeat


@dataclass(frozen=True)
class CasePlan:
    arch: str
    cfg: RunConfig
    spec: models.ArchSpec
    # The recipe as trained: overrides applied, the architecture's loss, drop_last decided.
    recipe: models.Recipe
    mode: str  # what runs: cfg.mode, or eager where graphs cannot work
    mode_fallback_reason: str | None
    device_type: str  # "cuda" or "cpu"
    val_size: int

    def conditions(self) -> records.Conditions:
        """The record's conditions: the recipe's fields, then the run's, by name."""
        facts = {**self.recipe.as_dict(), **dataclasses.asdict(self.cfg),
                 "eval_text": self.recipe.eval_text(), "loss_fn": self.recipe.loss,
                 "mode": self.mode,
                 "mode_fallback_reason": self.mode_fallback_reason,
                 "timer": "cuda_event" if self.device_type == "cuda" else "host"}
        for key in ("lr", "batch_size", "epochs"):  # the overrides are already in the recipe
            facts[key] = getattr(self.recipe, key)
        return records.pick(records.Conditions, facts)

def plan(arch: str, cfg: RunConfig, device_type: str | None = None) -> CasePlan:
    """Decide how the case trains. ``device_type`` defaults to where ``cfg.device`` resolves."""
    info = data.DATASETS[cfg.dataset]
    spec = models.get_spec(arch, input_shape=tuple(info.image_shape),
                           num_classes=info.num_classes)
    device_type = device_type or data.resolve_device(cfg.device).type
    mode, fallback = cfg.mode, None
    if cfg.mode == "graphs":
        fallback = graphs_unsupported(device_type, cfg.precision)
        mode = "eager" if fallback else "graphs"
    base = spec.recipe if cfg.recipe == "seed" else models.UNIFORM_RECIPE
    recipe = dataclasses.replace(
        base, batch_size=cfg.batch_size or base.batch_size,
        lr=cfg.lr if cfg.lr is not None else base.lr, epochs=cfg.epochs or base.epochs,
        # The loss belongs to the architecture: the Lab 4 bug variant keeps nll-on-softmax
        # whatever the recipe, since that bug is what it exists to show.
        loss=spec.recipe.loss,
        # A graph replays fixed shapes: the last, smaller batch of an epoch is dropped.
        drop_last=base.drop_last or mode == "graphs")
    # A recipe without a held-out split (every study's) trains on the whole training split.
    if not recipe.holdout_val:
        val_size = 0
    else:
        val_size = cfg.val_size if cfg.val_size is not None else info.val_size
    return CasePlan(arch, cfg, spec, recipe, mode, fallback, device_type, val_size)
