"""The one runner: every case, every option, the only training loop in the project.

A case is (architecture, RunConfig). The runner builds the model from the registry and the data
from ``data/``, warms up on a throwaway copy (cuDNN autotune, compile), then trains exactly N
epochs from the seed, timing each epoch (CUDA events on the GPU, the host clock on the CPU) and
evaluating between epochs outside the timed region. After training it measures test accuracy,
runs a short untimed profiler window and writes the record.

Under pytest-benchmark, ``train_epoch`` is the timed function (one round per epoch) and
``evaluate_pending`` its untimed setup; ``run()`` drives the same methods without pytest.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import gc
import math
import statistics
import time
import traceback
from pathlib import Path

import torch
import torch.nn.functional as F

import data
import models

from . import artifacts, profiling
from .config import RunConfig
from .env import environment, resolve_device
from .progress import Progress
from .records import SCHEMA_VERSION, append_jsonl
from .timing import make_timer, percentile, synchronize, timer_name

# Step losses kept in the record: averaged into at most this many points per epoch, enough for
# the report's curve and small enough that a 6,000-step epoch (batch 10) stays a few KB.
LOSS_POINTS_PER_EPOCH = 100

DTYPES = {"fp32": None, "fp16": torch.float16, "bf16": torch.bfloat16}


def _normalization(spec) -> tuple[float, float] | None:
    """A recipe's normalization as make_loaders takes it: None means the dataset's mean/std."""
    if spec == "dataset":
        return None
    if spec == "none":
        return (0.0, 1.0)  # ToTensor only: pixels in [0, 1]
    return tuple(spec)


def _first_batch(loader):
    return next(iter(loader))


def _num_samples(loader) -> int:
    n = getattr(loader, "num_samples", None)
    return n if n is not None else len(loader.dataset)


def graphs_unsupported(device: torch.device, precision: str) -> str | None:
    """Why the graphs mode cannot run here (the runner then falls back to eager), or None."""
    if device.type != "cuda":
        return f"CUDA graphs need a CUDA device; ran eager on {device.type}"
    if precision == "fp16":
        return ("fp16 needs a GradScaler, whose inf/NaN check reads a flag back to the host "
                "every step, which a CUDA graph cannot capture; ran eager (bf16 needs no scaler "
                "and works with graphs)")
    return None


class Diverged(RuntimeError):
    """The training loss became NaN or infinite, or exploded (see EXPLODED)."""


# An epoch whose mean cross-entropy exceeds 100 × ln(classes) (230 for 10 classes; an untrained
# net starts at 2.3) has exploded even if it is still finite: at lr 1e3 seed000_net0 reaches
# 6e23 in its first epoch, then settles near 1,800 with every ReLU dead.
EXPLODED = 100


def case_id(arch: str, cfg: RunConfig) -> str:
    """``<arch>-<dataset>-<precision>[-<loader>][-<mode>]-r<repeat>``: the loader and mode
    appear only when not the defaults, so ids of plain runs stay comparable across versions."""
    extra = [v for v, default in ((cfg.loader, "resident"), (cfg.mode, "eager")) if v != default]
    return "-".join([arch, cfg.dataset, cfg.precision, *extra, f"r{cfg.repeat}"])


def _is_oom(exc: BaseException) -> bool:
    oom = getattr(torch, "OutOfMemoryError", None) or torch.cuda.OutOfMemoryError
    return isinstance(exc, oom) or "out of memory" in str(exc).lower()


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class Runner:
    def __init__(self, arch: str, config: RunConfig, suspend_capture=None):
        self.arch = arch
        self.cfg = config
        self.case_id = case_id(arch, config)
        self._suspend = suspend_capture
        self._t_start = time.perf_counter()
        self._pending_eval = False
        self._saved = False
        self.epochs_done = 0
        self.record: dict = {
            "schema_version": SCHEMA_VERSION,
            "run_id": config.run_id,
            "case_id": self.case_id,
            "arch": arch,
            "dataset": config.dataset,
            "precision": config.precision,
            "recipe": config.recipe,
            "seed": config.seed,
            "repeat": config.repeat,
            "status": "error",
            "error": None,
            "started_at": _now(),
            "epoch_times_s": [],
            "train_loss": [],
            "val_loss": [],
            "val_accuracy": [],
            "train_loss_steps": [],
        }

    # ---- setup -----------------------------------------------------------------------------

    def setup(self) -> None:
        """Everything before the timed epochs: data, model, optimizer, precision, warm-up."""
        cfg = self.cfg
        self.device = resolve_device(cfg.device)
        self.record.update(environment(self.device))
        info = data.DATASETS[cfg.dataset]
        self.spec = models.get_spec(self.arch, input_shape=tuple(info.image_shape),
                                    num_classes=info.num_classes)
        desc = models.describe(self.arch, input_shape=tuple(info.image_shape),
                               num_classes=info.num_classes)
        recipe = self.spec.recipe if cfg.recipe == "seed" else models.UNIFORM_RECIPE
        self.batch_size = cfg.batch_size or recipe.batch_size
        self.lr = cfg.lr if cfg.lr is not None else recipe.lr
        self.epochs = cfg.epochs or recipe.epochs
        # The loss belongs to the architecture: the Lab 4 bug variant keeps nll-on-softmax
        # whatever the recipe, since that bug is what it exists to show.
        self.loss_name = self.spec.recipe.loss
        normalize = _normalization(recipe.normalize)
        self.mode, fallback = cfg.mode, None
        if cfg.mode == "graphs":
            fallback = graphs_unsupported(self.device, cfg.precision)
            self.mode = "eager" if fallback else "graphs"
        # A graph replays fixed shapes: the last, smaller batch of an epoch is dropped.
        drop_last = recipe.drop_last or self.mode == "graphs"
        self.record.update({k: desc[k] for k in (
            "family", "tags", "depth", "kernel_sizes", "strides", "paddings", "padding", "pooling",
            "width", "params", "flops_per_image", "train_flops_per_image", "receptive_field",
            "activation_bytes_per_image", "layers", "description", "reported")})
        self.record.update(
            optimizer=recipe.optimizer, lr=self.lr, momentum=recipe.momentum,
            batch_size=self.batch_size, eval_batch_size=recipe.eval_batch_size,
            epochs=self.epochs, loss_fn=self.loss_name, drop_last=drop_last,
            channels_last=cfg.channels_last, compile=cfg.compile,
            mode=self.mode, mode_requested=cfg.mode, mode_fallback_reason=fallback,
            tf32=cfg.tf32,
            limit_train=cfg.limit_train, target_acc=cfg.target_acc,
            timer=timer_name(self.device),
        )
        self.loaders = data.make_loaders(
            cfg.dataset, batch_size=self.batch_size, eval_batch_size=recipe.eval_batch_size,
            device=self.device, data_dir=cfg.data_dir, download=cfg.download, seed=cfg.seed,
            limit_train=cfg.limit_train, val_size=self._val_size(info), loader=cfg.loader,
            normalize=normalize, drop_last=drop_last, channels_last=cfg.channels_last,
            num_workers=cfg.num_workers)
        # The loaders' "device" is "cuda:0"-style; the record keeps the environment's type.
        self.record.update({k: v for k, v in self.loaders.info.items() if k != "device"})
        self.recipe = recipe

        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # autotune per shape; the warm-up pays for it
            torch.backends.cuda.matmul.allow_tf32 = cfg.tf32
            torch.backends.cudnn.allow_tf32 = cfg.tf32
        self._amp_dtype = DTYPES[cfg.precision]

        self._warmup()
        torch.manual_seed(cfg.seed)  # the measured model starts from the seed, not after warm-up
        self.model, self.step_model, self.optimizer, self.scaler = self._make_training()
        self._step = self._eager_step
        if self.mode == "graphs":
            t0 = time.perf_counter()
            self._step = self._capture_graph()
            self.record["capture_s"] = time.perf_counter() - t0
        torch.manual_seed(cfg.seed)  # and dropout draws the same numbers on every run
        self.timer = make_timer(self.device, len(self.loaders.train))
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        self.progress = Progress(self.case_id, self.epochs, enabled=cfg.progress,
                                 suspend=self._suspend)

    def _val_size(self, info) -> int:
        if self.cfg.val_size is not None:
            return self.cfg.val_size
        return 5000 if info.train_size else 256  # synthetic data has no fixed size

    def _autocast(self, cache: bool = True):
        """The one place precision is applied; fp32 is the do-nothing path. Inside a CUDA
        graph capture autocast must not cache casted weights (``cache=False``)."""
        if self._amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self._amp_dtype, cache_enabled=cache)

    def _make_training(self):
        model = models.build(self.spec).to(self.device)
        if self.cfg.channels_last:
            model = model.to(memory_format=torch.channels_last)
        step_model = torch.compile(model, mode=self.cfg.compile) if self.cfg.compile else model
        if self.recipe.optimizer == "sgd":
            opt = torch.optim.SGD(model.parameters(), lr=self.lr, momentum=self.recipe.momentum)
        elif self.recipe.optimizer == "adam":
            # capturable keeps Adam's step counter on the device, so a graph can replay it.
            opt = torch.optim.Adam(model.parameters(), lr=self.lr,
                                   capturable=self.mode == "graphs")
        else:
            raise ValueError(f"unknown optimizer {self.recipe.optimizer!r}")
        # fp16 needs loss scaling to keep small gradients representable; bf16 and fp32 do not.
        scaler = torch.amp.GradScaler(self.device.type) if self.cfg.precision == "fp16" else None
        return model, step_model, opt, scaler

    def _loss(self, out: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
        if self.loss_name == "nll_on_softmax":
            return F.nll_loss(out.float(), y, reduction=reduction)
        return F.cross_entropy(out, y, reduction=reduction)

    def _train_step(self, model, opt, scaler, x, y, capturing: bool = False) -> torch.Tensor:
        """One step. While a CUDA graph is being captured the gradients stay as they are
        (set to None before capture, so backward writes rather than accumulates) and autocast
        must not cache casted weights."""
        with self._autocast(cache=not capturing):
            loss = self._loss(model(x), y)
        if not capturing:
            opt.zero_grad(set_to_none=True)
        if scaler is None:
            loss.backward()
            opt.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        return loss.detach()

    def _eager_step(self, x, y) -> torch.Tensor:
        return self._train_step(self.step_model, self.optimizer, self.scaler, x, y)

    def _capture_graph(self):
        """Capture forward, loss, backward and optimizer step in one CUDA graph.

        Follows PyTorch's whole-network recipe: static input/label buffers, three warm-up steps
        on a side stream, gradients set to None before capture so backward allocates them from
        the graph's pool. The warm-up steps change the weights and create optimizer state, so
        both are put back afterwards (weights copied in place, state zeroed: a zero momentum
        buffer or Adam moment at step 0 is exactly the fresh state) and the measured training
        starts from the seed like every other mode.
        """
        model, opt = self.model, self.optimizer
        x0, y0 = self._to_device(*_first_batch(self.loaders.train))
        static_x = x0.clone(memory_format=torch.preserve_format)
        static_y = y0.clone()
        saved = [p.detach().clone() for p in model.parameters()]
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):
            for _ in range(3):
                self._train_step(model, opt, None, static_x, static_y)
        torch.cuda.current_stream(self.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        opt.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph):
            static_loss = self._train_step(model, opt, None, static_x, static_y,
                                           capturing=True)
        with torch.no_grad():
            for p, s in zip(model.parameters(), saved, strict=True):
                p.copy_(s)
            for state in opt.state.values():
                for value in state.values():
                    if torch.is_tensor(value):
                        value.zero_()
        torch.cuda.synchronize(self.device)

        def step(x, y) -> torch.Tensor:
            static_x.copy_(x, non_blocking=True)
            static_y.copy_(y, non_blocking=True)
            graph.replay()
            return static_loss.clone()

        self._graph = graph  # keep the graph (and its memory pool) alive with the runner
        return step

    def _to_device(self, x, y):
        if x.device != self.device:  # the DataLoader path yields CPU tensors
            x = x.to(self.device, non_blocking=True)
            y = y.to(self.device, non_blocking=True)
            if self.cfg.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
        return x, y

    def _warmup(self) -> None:
        """Untimed steps on a throwaway copy, for every batch shape the epoch will see."""
        t0 = time.perf_counter()
        torch.manual_seed(self.cfg.seed + 1)
        model, step_model, opt, scaler = self._make_training()
        x, y = self._to_device(*_first_batch(self.loaders.train))
        shapes = [x.shape[0]]
        remainder = _num_samples(self.loaders.train) % self.batch_size
        if remainder and not self.recipe.drop_last:
            shapes.append(remainder)  # the last, smaller batch: cuDNN autotunes per shape
        compile_s = None
        for i, n in enumerate([shapes[0]] * max(1, self.cfg.warmup_steps) + shapes[1:]):
            t = time.perf_counter()
            self._train_step(step_model, opt, scaler, x[:n], y[:n])
            if i == 0 and self.cfg.compile:
                synchronize(self.device)
                compile_s = time.perf_counter() - t
        with torch.no_grad(), self._autocast():
            xe, _ = self._to_device(*_first_batch(self.loaders.test))
            step_model.eval()(xe)
        synchronize(self.device)
        self.record.update(warmup_s=time.perf_counter() - t0, compile_s=compile_s)
        del model, step_model, opt, scaler

    # ---- the timed part --------------------------------------------------------------------

    def train_epoch(self) -> None:
        """One epoch of training: the timed region. Returns after the device has finished."""
        model, step = self.step_model, self._step
        loader = self.loaders.train
        if hasattr(loader, "set_epoch"):
            loader.set_epoch(self.epochs_done)  # epoch k's order depends on (seed, k) only
        model.train()
        losses, n_images = [], 0
        self.timer.start()
        for x, y in loader:
            x, y = self._to_device(x, y)
            losses.append(step(x, y))
            n_images += x.shape[0]
            self.timer.step()
        epoch_s, step_ms = self.timer.stop()
        synchronize(self.device)
        self._last = (epoch_s, step_ms, losses, n_images)
        self._pending_eval = True

    def evaluate_pending(self) -> None:
        """Untimed bookkeeping after an epoch: divergence check, validation, progress."""
        if not self._pending_eval:
            return
        self._pending_eval = False
        epoch_s, step_ms, losses, n_images = self._last
        self.epochs_done += 1
        step_losses = torch.stack(losses).float().cpu() if losses else torch.zeros(0)
        r = self.record
        r["epoch_times_s"].append(epoch_s)
        r.setdefault("_step_ms", []).extend(step_ms)
        r["images_per_epoch"] = n_images
        bad = (~torch.isfinite(step_losses)).nonzero()
        if len(bad):
            step = int(bad[0]) + 1
            raise Diverged(f"training loss became {float(step_losses[step - 1])} at epoch "
                           f"{self.epochs_done}, step {step} (lr {self.lr})")
        mean_loss = float(step_losses.mean()) if len(step_losses) else None
        limit = EXPLODED * math.log(self.spec.num_classes)
        if mean_loss is not None and self.loss_name == "cross_entropy" and mean_loss > limit:
            raise Diverged(f"training loss exploded to {mean_loss:.3g} (> {limit:.0f}) in epoch "
                           f"{self.epochs_done} (lr {self.lr})")
        r["train_loss"].append(mean_loss)
        chunk = max(1, math.ceil(len(step_losses) / LOSS_POINTS_PER_EPOCH))
        r["train_loss_steps"].extend(
            float(c.mean()) for c in torch.split(step_losses, chunk))
        if self.loaders.val is not None:
            vl, va = self.evaluate(self.loaders.val)
            r["val_loss"].append(vl)
            r["val_accuracy"].append(va)
            target = self.cfg.target_acc
            if target is not None and r.get("time_to_target_s") is None and va >= target:
                r["time_to_target_s"] = sum(r["epoch_times_s"])
        self.progress.update(epoch=self.epochs_done, loss=r["train_loss"][-1],
                             val_acc=r["val_accuracy"][-1] if r["val_accuracy"] else None,
                             s_per_epoch=epoch_s)

    @torch.no_grad()
    def evaluate(self, loader) -> tuple[float, float]:
        """(mean loss, accuracy) over a loader; one host-device sync at the end."""
        model = self.step_model
        model.eval()
        total = torch.zeros((), device=self.device, dtype=torch.float64)
        correct = torch.zeros((), device=self.device, dtype=torch.int64)
        n = 0
        for x, y in loader:
            x, y = self._to_device(x, y)
            with self._autocast():
                out = model(x)
            total += self._loss(out.float(), y, reduction="sum").double()
            correct += (out.argmax(1) == y).sum()
            n += y.shape[0]
        model.train()
        return float(total) / max(n, 1), int(correct) / max(n, 1)

    # ---- after training --------------------------------------------------------------------

    def finish(self) -> None:
        """Test accuracy, peak memory, profiler window, pictures; marks the case ok."""
        self.evaluate_pending()
        r = self.record
        self.progress.close()
        # The CUDA caching allocator's peak over the timed epochs; the CPU has no per-run
        # equivalent (the process's max RSS mixes in data loading and earlier cases).
        r["peak_memory_bytes"] = torch.cuda.max_memory_allocated(self.device) \
            if self.device.type == "cuda" else None
        r["test_loss"], r["test_accuracy"] = self.evaluate(self.loaders.test)
        times = r["epoch_times_s"]
        steps = r.pop("_step_ms", [])
        r["epoch_time_median_s"] = statistics.median(times) if times else None
        r["images_per_s"] = r["images_per_epoch"] / r["epoch_time_median_s"] if times else None
        r["step_time_ms_p50"] = percentile(steps, 0.5)
        r["step_time_ms_p90"] = percentile(steps, 0.9)
        r["train_time_s"] = sum(times)
        r.setdefault("time_to_target_s", None)
        if self.cfg.profile:
            self._profile()
        else:
            r.update(top_ops=[], gpu_busy_fraction=None, trace_dir=None, trace_files=[])
        out = Path(self.cfg.results_dir) / "artifacts" / self.cfg.run_id / self.case_id
        if self.cfg.artifacts:
            x, _ = self._to_device(*_first_batch(self.loaders.test))
            r.update(artifacts.save_images(self.model, x[0], out))
        if self.cfg.save_checkpoint:
            out.mkdir(parents=True, exist_ok=True)
            torch.save(self.model.state_dict(), out / "model.pt")
            r["checkpoint"] = str(out / "model.pt")
        r["status"] = "ok"

    def _profile(self) -> None:
        root = Path(self.cfg.trace_dir or Path(self.cfg.results_dir) / "traces")
        trace_dir = root / self.cfg.run_id / self.case_id
        batches = iter(())

        def step():
            nonlocal batches
            try:
                x, y = next(batches)
            except StopIteration:
                batches = iter(self.loaders.train)
                x, y = next(batches)
            self._step(*self._to_device(x, y))

        summary = profiling.run_window(step, self.device, trace_dir, self.case_id,
                                       self.cfg.profile_wait, self.cfg.profile_warmup,
                                       self.cfg.profile_active)
        self.record.update(summary, trace_dir=str(trace_dir))

    def fail(self, exc: BaseException) -> None:
        """Classify a failure into the record and release what the case held."""
        r = self.record
        if isinstance(exc, Diverged):
            r["status"] = "diverged"
        elif _is_oom(exc):
            r["status"] = "oom"
        else:
            r["status"] = "error"
        r["error"] = str(exc) if isinstance(exc, Diverged) else f"{type(exc).__name__}: {exc}"
        if r["status"] == "error":
            r["traceback"] = "".join(traceback.format_exception(exc))[-4000:]
        r.pop("_step_ms", None)
        progress = getattr(self, "progress", None)
        if progress is not None:
            progress.close()
        self.release()

    def release(self) -> None:
        for name in ("model", "step_model", "optimizer", "scaler", "loaders", "_graph", "_step"):
            if hasattr(self, name):
                delattr(self, name)
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def save(self) -> Path:
        """Append the record to <results_dir>/<run_id>.jsonl (once)."""
        path = Path(self.cfg.results_dir) / f"{self.cfg.run_id}.jsonl"
        if not self._saved:
            self.record["finished_at"] = _now()
            self.record["wall_s"] = time.perf_counter() - self._t_start
            append_jsonl(path, self.record)
            self._saved = True
        return path

    def train_all_epochs(self) -> None:
        for _ in range(self.epochs):
            self.train_epoch()
            self.evaluate_pending()

    def run(self) -> dict:
        """Train and measure without pytest; never raises for a failed case (see ``status``)."""
        try:
            self.setup()
            self.train_all_epochs()
            self.finish()
        except Exception as exc:  # noqa: BLE001 - every failure is recorded, not lost
            self.fail(exc)
        finally:
            self.save()
        self.release()
        return copy.deepcopy(self.record)
