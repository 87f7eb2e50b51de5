"""Run configuration: one frozen dataclass, filled from pytest options or by hand."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from cnnbench import record
from cnnbench.vocab import DEFAULT_LOADER, DEFAULT_MODE, LOADERS, MODES, PRECISIONS, RECIPES

# torch.compile's modes (torch._inductor.list_mode_options()); the default one is "default".
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


@dataclass(frozen=True)
class RunConfig:
    """Everything that conditions one training run; every field lands in the record.

    ``recipe="uniform"`` is the default because the suite compares architectures: one optimizer,
    lr, batch size and epoch count for all, so time and accuracy differences come from the
    architecture. ``recipe="seed"`` reproduces each study's own recipe instead.
    """

    epochs: int | None = None  # None: the recipe's epochs
    dataset: str = "fashion-mnist"
    data_dir: str | None = None
    download: bool = True
    device: str = "auto"  # auto | cuda | cpu
    precision: str = "fp32"  # fp32 | fp16 | bf16 (autocast; fp16 adds a GradScaler)
    tf32: bool = False  # off: "fp32" means fp32 matmuls and convolutions, not TF32
    channels_last: bool = False
    # eager; compile (torch.compile, mode below); graphs (the whole training step captured in
    # a CUDA graph and replayed: no per-kernel launch cost; falls back to eager, with the reason
    # recorded, where it cannot work).
    mode: str = DEFAULT_MODE
    compile: str | None = None  # torch.compile mode ("default", "max-autotune", ...); implies
    # mode="compile" when set with mode left at eager
    batch_size: int | None = None  # None: the recipe's
    lr: float | None = None  # None: the recipe's
    limit_train: int | None = None
    # Validation images carved from the training split; None: the dataset's default
    # (data.DatasetInfo.val_size).
    val_size: int | None = None
    recipe: str = "uniform"
    # None: not given (the plugin's --seed default); the plugin then gives each case
    # plan.case_seed, its recipe's own seed plus the repeat (seed000: 42, seed002: 1, else 0).
    # The runner needs an int.
    seed: int | None = 0
    repeat: int = 0
    target_acc: float | None = None
    loader: str = DEFAULT_LOADER
    num_workers: int = 2  # DataLoader workers for loader="dataloader"
    # Warm-up on a throwaway copy: enough steps for cuDNN autotune to try its algorithms for
    # each batch shape (10 was plenty on an H100 for these nets) and for compile to finish.
    warmup_steps: int = 10
    torch_profile: bool = True  # the untimed torch.profiler window after training
    # Profiler window after the timed epochs: skip 1 step, warm 2, record 5 (a 5-step trace of a
    # small CNN is a few MB, enough to see every kernel of a step).
    profile_wait: int = 1
    profile_warmup: int = 2
    profile_active: int = 5
    results_dir: str = "results"
    trace_dir: str | None = None  # None: <results_dir>/traces
    run_id: str = "run"
    artifacts: bool = True  # first-layer kernels and feature-map images
    save_checkpoint: bool = False
    progress: bool = True

    def __post_init__(self):
        if self.precision not in PRECISIONS.values():
            raise ValueError(f"precision {self.precision!r}: use one of fp32, fp16, bf16")
        if self.mode not in MODES:
            raise ValueError(f"mode {self.mode!r}: use one of {', '.join(MODES)}")
        if self.compile and self.mode == DEFAULT_MODE:
            object.__setattr__(self, "mode", "compile")
        if self.mode == "compile" and not self.compile:
            object.__setattr__(self, "compile", "default")
        if self.mode != "compile" and self.compile:
            raise ValueError(f"--compile {self.compile} contradicts mode {self.mode!r}")
        if self.loader not in LOADERS:
            raise ValueError(f"loader {self.loader!r}: use one of {', '.join(LOADERS)}")
        if self.recipe not in RECIPES:
            raise ValueError(f"recipe {self.recipe!r}: use one of {', '.join(RECIPES)}")
        if self.device not in ("auto", "cuda", "cpu") and not self.device.startswith("cuda:"):
            raise ValueError(f"device {self.device!r}: use auto, cuda, cuda:N or cpu")
        for name in ("epochs", "batch_size", "limit_train"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        self._check_values()
        if self.target_acc is not None and not 0 < self.target_acc <= 1:
            raise ValueError(f"target accuracy {self.target_acc} must be a fraction in (0, 1]")

    def _check_values(self) -> None:
        if self.compile is not None and self.compile not in COMPILE_MODES:
            raise ValueError(f"--compile {self.compile!r}: use one of {', '.join(COMPILE_MODES)}")
        if self.lr is not None and not self.lr > 0:  # also NaN
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.num_workers < 0:
            raise ValueError(f"num_workers must be >= 0, got {self.num_workers}")
        if self.val_size is not None and self.val_size < 0:
            raise ValueError(f"val_size must be >= 0, got {self.val_size}")
        # The run id names <results_dir>/<run_id>.jsonl and folders below results_dir; the one
        # rule for it (record.check_run_id) is the one the reports apply to records.
        record.check_run_id(self.run_id)

    def replace(self, **changes) -> RunConfig:
        return dataclasses.replace(self, **changes)

    def case_id(self, arch: str) -> str:
        """``<arch>-<dataset>-<precision>[-<loader>][-<mode>]-r<repeat>``: the test id."""
        return record.case_id(arch, self.dataset, self.precision, self.loader, self.mode,
                              self.repeat)


def parse_precision(value: str) -> str:
    try:
        return PRECISIONS[value.strip().lower()]
    except KeyError:
        raise ValueError(f"--amp {value!r}: use off, fp16 or bf16") from None
