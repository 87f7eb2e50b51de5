"""How a network is trained and evaluated, as frozen data the runner applies.

Every field is one fact the runner looks up once: which optimizer, which batch sizes, whether a
validation split is held out, and when the evaluation split is scored. The seed recipes
(``models/seeds.py``) set them to what each study ran; ``UNIFORM_RECIPE`` is the shared recipe
that makes architectures comparable.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

OPTIMIZERS = ("sgd", "adam")
LOSSES = ("cross_entropy", "nll_on_softmax")
NORMALIZE_NAMES = ("dataset", "none")
# "epoch": after every epoch; "iterations": every `eval_interval` training steps; "end": once,
# after the last epoch.
EVAL_SCHEDULES = ("epoch", "iterations", "end")
# Per-step training metrics a study kept (see Recipe.batch_metrics).
BATCH_METRICS = ("loss", "accuracy")


@dataclass(frozen=True)
class Recipe:
    """A training recipe. Field by field (the runner reads each one in one place):

    ``optimizer``: "sgd" or "adam" (Adam's betas are PyTorch's defaults, as every study used).
    ``momentum``: SGD's momentum; 0 for Adam, which has none (seed003 sets ``momentum = 0.5``
    but never passes it to its Adam).
    ``batch_size`` / ``eval_batch_size``: the training loader's batch and the evaluation
    loader's (the studies' test loaders: 1000, 10, 128, 64, 100 for studies 000-004).
    ``normalize``: "dataset" uses the dataset's own mean/std (the studies used MNIST's
    0.1307/0.3081 on MNIST); "none" is ToTensor only (pixels in [0, 1]); a (mean, std) pair is
    used as given (seed003's 0.5/0.5).
    ``drop_last``: skip each epoch's last, incomplete training batch (seed003 skips any batch
    smaller than 64: 60,000 = 937 × 64 + 32, so 59,968 images per epoch). Evaluation always
    sees every image.
    ``loss``: "cross_entropy" on logits, or "nll_on_softmax", the Lab 4 bug (nll_loss applied
    to softmax probabilities, so the loss bottoms out at -1.0).
    ``holdout_val``: True holds out ``--val-size`` training images as a validation split, so
    the test split is read once, at the end (the uniform recipe). False trains on the whole
    training split (60,000 MNIST images), as every study did: none held out a validation set.
    ``eval_schedule``: when the evaluation split is scored during training, one of
    EVAL_SCHEDULES: seed000 validates after every epoch ("epoch", its val-loss curves), seed004
    every 500 iterations ("iterations"), the others once at the end ("end"). The split scored
    is ``eval_split``: the validation split when one is held out, else the test split
    (seed000's "valid_loader" is MNIST ``train=False``).
    ``eval_interval``: training steps between evaluations; > 0 exactly when eval_schedule is
    "iterations" (seed004: 500), else 0.
    ``batch_metrics``: the training metrics the study kept for every step, which the report
    draws as iteration-level curves: "loss" (seed000's ``train_losses``, seed003's ``loss``)
    and "accuracy", the fraction of each training batch classified right (seed003's
    ``accuracy`` list), which the runner must compute per step when asked.
    """

    optimizer: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.0
    batch_size: int = 128
    eval_batch_size: int = 1000
    epochs: int = 10
    normalize: str | tuple[float, float] = "dataset"
    drop_last: bool = False
    loss: str = "cross_entropy"
    holdout_val: bool = True
    eval_schedule: str = "epoch"
    eval_interval: int = 0
    batch_metrics: tuple[str, ...] = ()
    seed: int = 0
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_choice("loss", self.loss, LOSSES)
        _check_choice("eval_schedule", self.eval_schedule, EVAL_SCHEDULES)
        for metric in self.batch_metrics:
            _check_choice("batch_metrics entry", metric, BATCH_METRICS)
        for key in ("batch_size", "eval_batch_size", "epochs"):
            if getattr(self, key) < 1:
                raise ValueError(f"recipe: {key} {getattr(self, key)} must be >= 1")
        if self.lr <= 0 or self.momentum < 0:
            raise ValueError(f"recipe: lr {self.lr} must be > 0 and momentum "
                             f"{self.momentum} >= 0")
        if self.optimizer == "adam" and self.momentum:
            raise ValueError("recipe: Adam takes no momentum (set momentum=0)")
        if (self.eval_schedule == "iterations") != (self.eval_interval > 0):
            raise ValueError(f"recipe: eval_interval {self.eval_interval} must be > 0 for "
                             f"eval_schedule 'iterations' and 0 otherwise "
                             f"(got {self.eval_schedule!r})")
        if isinstance(self.normalize, str):
            _check_choice("normalize", self.normalize, NORMALIZE_NAMES)
        elif len(self.normalize) != 2 or self.normalize[1] <= 0:
            raise ValueError(f"recipe: normalize {self.normalize!r} must be "
                             f"{' or '.join(NORMALIZE_NAMES)} or a (mean, std > 0) pair")

    @property
    def eval_split(self) -> str:
        """The split the evaluation schedule scores: "val" when one is held out, else "test"."""
        return "val" if self.holdout_val else "test"

    def steps_per_epoch(self, n_train: int) -> int:
        """Training steps in one epoch of ``n_train`` images (469 for 60,000 at batch 128)."""
        return n_train // self.batch_size if self.drop_last else -(-n_train // self.batch_size)

    def images_per_epoch(self, n_train: int) -> int:
        """Images one epoch trains on: all of them, less the dropped tail with drop_last."""
        full = n_train // self.batch_size * self.batch_size
        return full if self.drop_last else n_train

    def eval_steps(self, n_train: int, epochs: int | None = None) -> list[int]:
        """The training steps (1-based, counted across epochs) after which the evaluation split
        is scored, for ``n_train`` training images and ``epochs`` (default: the recipe's)."""
        per_epoch = self.steps_per_epoch(n_train)
        total = per_epoch * (epochs or self.epochs)
        if self.eval_schedule == "iterations":
            return list(range(self.eval_interval, total + 1, self.eval_interval))
        if self.eval_schedule == "epoch":
            return list(range(per_epoch, total + 1, per_epoch))
        return [total]

    def eval_text(self) -> str:
        """In words: "test split every 500 iterations", "val split after every epoch", ..."""
        when = {"epoch": "after every epoch", "end": "once, at the end",
                "iterations": f"every {self.eval_interval} iterations"}[self.eval_schedule]
        return f"{self.eval_split} split {when}"

    def as_dict(self) -> dict:
        """JSON-ready: tuples become lists, and the derived ``eval_split`` is included."""
        d = asdict(self)
        if isinstance(self.normalize, tuple):
            d["normalize"] = list(self.normalize)
        d["batch_metrics"] = list(self.batch_metrics)
        d["notes"] = list(self.notes)
        d["eval_split"] = self.eval_split
        return d


def _check_choice(what: str, value, choices: tuple) -> None:
    if value not in choices:
        raise ValueError(f"recipe: unknown {what} {value!r} (use one of {', '.join(choices)})")


# One shared recipe so architectures compare fairly (`--recipe uniform`): SGD with momentum 0.9
# at lr 0.01 and batch 128 trains every seed and grid net here without diverging (Adam at 0.01,
# seed003's choice, is fragile for the deep grid nets). It holds out a validation split and
# scores it after every epoch; the test split is read once, at the end.
UNIFORM_RECIPE = Recipe(optimizer="sgd", lr=0.01, momentum=0.9, batch_size=128, epochs=5,
                        holdout_val=True, eval_schedule="epoch")
