"""What makes two measurements comparable: the one definition of "comparable conditions".

Two cells of one run are compared only when they share every ``RUN_CONDITIONS`` column; grid
cells also share the recipe's numbers (``CONDITIONS``). Two runs (a comparison, a nightly) are
compared case by case only where ``COMPARABLE_ON`` agree: a different subset, batch size, epoch
count, recipe, dataset, loader, mode or precision changes time or accuracy by design (a
4,096-image run vs a 60,000-image one reads as "+731% regressed" otherwise).
"""

from __future__ import annotations

# Column → what a reader calls it. The order is the order differences are named in.
CONDITION_NAMES = {
    "dataset": "dataset", "limit_train": "training subset (--limit-train)",
    "train_size": "training-set size", "test_size": "test-set size",
    "batch_size": "batch size", "epochs": "epochs", "recipe": "recipe",
    "optimizer": "optimizer", "lr": "learning rate", "precision": "precision",
    "mode": "execution mode", "loader": "input loader", "compile": "torch.compile mode",
    "channels_last": "channels-last layout", "device": "device kind",
    "device_name": "device",
}
# Within one run: the run itself, the machine, and what the case ran under.
RUN_CONDITIONS = ("run", "dataset", "device", "device_name", "precision", "mode", "compile",
                  "channels_last", "loader", "recipe", "limit_train", "train_size", "test_size")
# Grid cells also share the training recipe's numbers. Seed nets under ``--recipe seed`` each
# keep their study's (seed004 model C: lr 0.05), so comparisons of a study's nets match on the
# run conditions alone, as the study did.
CONDITIONS = RUN_CONDITIONS + ("optimizer", "lr", "batch_size", "epochs")
# Across runs (compare, nightly): every condition but the run and the machine, which are what a
# comparison of runs is about.
COMPARABLE_ON = tuple((c, CONDITION_NAMES[c]) for c in (
    "dataset", "limit_train", "train_size", "test_size", "batch_size", "epochs", "recipe",
    "optimizer", "lr", "precision", "mode", "loader"))
