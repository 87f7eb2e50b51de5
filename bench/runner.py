"""The one runner: every case, every option, the only training loop in the project.

A case is (architecture, RunConfig), and its lifecycle exists once, in ``Runner.lifecycle``:

    setup (plan -> build -> warm-up -> capture -> arm) -> epochs -> finish | fail -> save -> release

``plan`` (bench/plan.py) decides everything without torch work; ``build`` makes the data,
model and optimizer from the plan; ``warmup`` trains a throwaway copy for every batch shape an
epoch will see (cuDNN autotune, compile); ``capture`` records the CUDA graph in graphs mode. The
epochs are timed (CUDA events on the GPU, the host clock on the CPU) and evaluated in between,
outside the timed region. ``finish`` measures test accuracy, runs a short untimed profiler window
and draws the pictures. The record (cnnbench/record.py) is filled from each phase's results.

Under pytest-benchmark, ``train_epoch`` is the timed function (one round per epoch) and
``evaluate_pending`` its untimed teardown; ``run()`` drives the same lifecycle without pytest.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import math
import signal
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from cnnbench import data, models
from cnnbench import record as records
from cnnbench.record import append_jsonl
from cnnbench.reports.stats import epoch_stats

from . import artifacts, profiling, training
from .child import Terminated, stop_on_sigterm
from .config import RunConfig
from .env import environment
from .plan import CasePlan, graphs_unsupported, normalization, plan  # noqa: F401 (re-exported)
from .progress import Progress
from .reuse import options_digest
from .timing import make_timer, percentile, synchronize

# Step losses kept in the record: averaged into at most this many points per epoch, enough for
# the report's curve and small enough that a 6,000-step epoch (batch 10) stays a few KB.
LOSS_POINTS_PER_EPOCH = 100

DTYPES = {"fp32": None, "fp16": torch.float16, "bf16": torch.bfloat16}


def _first_batch(loader):
    return next(iter(loader))


class Diverged(RuntimeError):
    """The training loss became NaN or infinite, or exploded (see EXPLODED)."""


# An epoch whose mean cross-entropy exceeds 100 × ln(classes) (230 for 10 classes; an untrained
# net starts at 2.3) has exploded even if it is still finite: at lr 1e3 seed000_net0 reaches
# 6e23 in its first epoch, then settles near 1,800 with every ReLU dead.
EXPLODED = 100


# What an allocation failure says: CUDA's "out of memory", the CPU allocator's
# "DefaultCPUAllocator: can't allocate memory: you tried to allocate N bytes", numpy/Python's
# MemoryError (as a type; its message is often empty).
OOM_MESSAGES = ("out of memory", "can't allocate memory")


def _is_oom(exc: BaseException) -> bool:
    oom = getattr(torch, "OutOfMemoryError", None) or torch.cuda.OutOfMemoryError
    text = str(exc).lower()
    return isinstance(exc, oom | MemoryError) or any(m in text for m in OOM_MESSAGES)


@contextlib.contextmanager
def signals_held():
    """SIGINT and SIGTERM wait while the record is written: a second Ctrl-C must not tear the
    line that records the first (they are delivered right after)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class Training:
    """What a training run holds: the model, the one it steps (compiled or not), its optimizer
    and the fp16 GradScaler (None otherwise)."""

    model: torch.nn.Module
    step_model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler | None


@dataclass
class Epoch:
    """One timed epoch, waiting for its untimed bookkeeping."""

    seconds: float
    step_ms: list[float]
    losses: list[torch.Tensor]
    images: int


class Runner:
    def __init__(self, arch: str, config: RunConfig, suspend_capture=None, suite=None):
        self.arch = arch
        self.suite = suite  # a progress.SuiteProgress: the bar's cases done/left
        self.cfg = config
        self.case_id = config.case_id(arch)
        self._suspend = suspend_capture
        self._t_start = time.perf_counter()
        self._pending: Epoch | None = None
        self._step_ms: list[float] = []
        self._saved = False
        self.epochs_done = 0
        self.steps_done = 0  # training steps so far, across epochs (the eval schedule's clock)
        # Which images the last evaluation classified right, in loader order (None before one).
        self.last_correct: torch.Tensor | None = None
        self.plan: CasePlan | None = None
        self.record = records.Record(case=records.Case(
            arch=arch, dataset=config.dataset, precision=config.precision, loader=config.loader,
            mode_requested=config.mode, repeat=config.repeat, seed=config.seed,
            recipe=config.recipe, run_id=config.run_id, case_id=self.case_id,
            started_at=_now(), options_digest=options_digest(config)))
        stop_on_sigterm()

    @property
    def epochs(self) -> int:
        return self.plan.recipe.epochs

    # ---- the lifecycle ---------------------------------------------------------------------

    def lifecycle(self, train: Callable[[], None]) -> dict:
        """setup -> ``train()`` -> finish, or fail; then save and release, exactly once each.
        Never raises for a failed case: the record's ``status`` says what happened."""
        try:
            self.setup()
            train()
            self.finish()
        except Exception as exc:  # noqa: BLE001 - every failure is recorded, not lost
            self.fail(exc)
        except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM: recorded, then passed on
            self.interrupted(exc)
            raise
        finally:
            try:
                with signals_held():
                    self.save()  # raises when the record could not be written (disk full)
            finally:
                self.release()
        return self.result()

    def run(self) -> dict:
        """Train and measure without pytest (the same lifecycle the benchmark case uses)."""
        return self.lifecycle(self.train_all_epochs)

    def result(self) -> dict:
        """The record as JSON: flat, one key per field (a fresh copy)."""
        return records.to_json(self.record)

    # ---- setup: plan, build, warm-up, capture ------------------------------------------------

    def setup(self) -> None:
        """Everything before the timed epochs."""
        self.plan = plan(self.arch, self.cfg)
        self.record.conditions = self.plan.conditions()
        self.build()
        self.warmup()
        torch.manual_seed(self.cfg.seed)  # the measured model starts from the seed
        self.training = self._make_training()
        self._step = self._eager_step
        if self.plan.mode == "graphs":
            self.capture()
        torch.manual_seed(self.cfg.seed)  # and dropout draws the same numbers on every run
        self._arm()

    def build(self) -> None:
        """The device, the architecture's facts, the data and the precision settings."""
        cfg, p = self.cfg, self.plan
        self.device = data.resolve_device(cfg.device)
        self.record.environment = records.pick(records.Environment, environment(self.device),
                                               strict=True)
        desc = models.describe(self.arch, input_shape=p.spec.input_shape,
                               num_classes=p.spec.num_classes)
        self.record.architecture = records.pick(records.Architecture, desc)
        self.loaders = data.make_loaders(
            cfg.dataset, batch_size=p.recipe.batch_size, eval_batch_size=p.recipe.eval_batch_size,
            device=self.device, data_dir=cfg.data_dir, download=cfg.download, seed=cfg.seed,
            limit_train=cfg.limit_train, val_size=p.val_size, loader=cfg.loader,
            normalize=normalization(p.recipe.normalize), drop_last=p.recipe.drop_last,
            channels_last=cfg.channels_last, num_workers=cfg.num_workers)
        self.record.data = records.pick(records.Data, self.loaders.info, strict=True)
        self._plan_evaluations()
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # autotune per shape; the warm-up pays for it
            torch.backends.cuda.matmul.allow_tf32 = cfg.tf32
            torch.backends.cudnn.allow_tf32 = cfg.tf32
        self._amp_dtype = DTYPES[cfg.precision]

    def _plan_evaluations(self) -> None:
        """Which loader the recipe's schedule scores, and after which steps (recipe.eval_steps:
        every epoch's last step, every ``eval_interval`` steps, or the last step only)."""
        recipe = self.plan.recipe
        self._eval_loader = self.loaders.val if recipe.eval_split == "val" else self.loaders.test
        n_train = self.loaders.train.num_samples
        at = recipe.eval_steps(n_train, self.epochs) if self._eval_loader is not None else []
        self._eval_at = set(at)
        per_epoch = recipe.steps_per_epoch(n_train)
        # Steps inside an epoch (seed004's 500 of 600): train_epoch pauses its timer for them.
        self._eval_mid = {s for s in at if s % per_epoch}
        self._track_accuracy = "accuracy" in recipe.batch_metrics

    def warmup(self) -> None:
        """Untimed steps on a throwaway copy, for every batch shape the epoch will see."""
        t0 = time.perf_counter()
        torch.manual_seed(self.cfg.seed + 1)
        t = self._make_training()
        x, y = self._to_device(*_first_batch(self.loaders.train))
        shapes = [x.shape[0]]
        remainder = self.loaders.train.num_samples % self.plan.recipe.batch_size
        if remainder and not self.plan.recipe.drop_last:
            shapes.append(remainder)  # the last, smaller batch: cuDNN autotunes per shape
        compile_s = None
        for i, n in enumerate([shapes[0]] * max(1, self.cfg.warmup_steps) + shapes[1:]):
            t_step = time.perf_counter()
            self._train_step(t, x[:n], y[:n])
            if i == 0 and self.cfg.compile:
                synchronize(self.device)
                compile_s = time.perf_counter() - t_step
        with torch.no_grad(), self._autocast():
            xe, _ = self._to_device(*_first_batch(self.loaders.test))
            t.step_model.eval()(xe)
        synchronize(self.device)
        self.record.timing.warmup_s = time.perf_counter() - t0
        self.record.timing.compile_s = compile_s

    def capture(self) -> None:
        """Capture forward, loss, backward and optimizer step in one CUDA graph.

        Follows PyTorch's whole-network recipe: static input/label buffers, three warm-up steps
        on a side stream, gradients set to None before capture so backward allocates them from
        the graph's pool. The warm-up steps change the weights and create optimizer state, so
        both are put back afterwards (weights copied in place, state zeroed: a zero momentum
        buffer or Adam moment at step 0 is exactly the fresh state) and the measured training
        starts from the seed like every other mode.
        """
        t0 = time.perf_counter()
        t = self.training
        x0, y0 = self._to_device(*_first_batch(self.loaders.train))
        static_x, static_y = x0.clone(memory_format=torch.preserve_format), y0.clone()
        saved = [p.detach().clone() for p in t.model.parameters()]
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):
            for _ in range(3):
                self._train_step(t, static_x, static_y)
        torch.cuda.current_stream(self.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        t.optimizer.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph):
            static_loss = self._train_step(t, static_x, static_y, capturing=True)
        _restore(t, saved)
        torch.cuda.synchronize(self.device)

        def step(x, y) -> torch.Tensor:
            static_x.copy_(x, non_blocking=True)
            static_y.copy_(y, non_blocking=True)
            graph.replay()
            return static_loss.clone()

        self._graph = graph  # keep the graph (and its memory pool) alive with the runner
        self._step = step
        self.record.timing.capture_s = time.perf_counter() - t0

    def _arm(self) -> None:
        """Timer, peak-memory counter and progress bar, just before the first timed epoch."""
        self.timer = make_timer(self.device, len(self.loaders.train))
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        self.progress = Progress(self.case_id, self.epochs, enabled=self.cfg.progress,
                                 suspend=self._suspend, suite=self.suite)

    # ---- training ----------------------------------------------------------------------------

    def _autocast(self, cache: bool = True):
        """The one place precision is applied; fp32 is the do-nothing path. Inside a CUDA
        graph capture autocast must not cache casted weights (``cache=False``)."""
        if self._amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self._amp_dtype, cache_enabled=cache)

    def _make_training(self) -> Training:
        model = models.build(self.plan.spec).to(self.device)
        if self.cfg.channels_last:
            model = model.to(memory_format=torch.channels_last)
        step_model = torch.compile(model, mode=self.cfg.compile) if self.cfg.compile else model
        opt = training.make_optimizer(self.plan.recipe, model.parameters(), self.plan.mode)
        # fp16 needs loss scaling to keep small gradients representable; bf16 and fp32 do not.
        scaler = torch.amp.GradScaler(self.device.type) if self.cfg.precision == "fp16" else None
        return Training(model, step_model, opt, scaler)

    def _train_step(self, t: Training, x, y, capturing: bool = False) -> torch.Tensor:
        """One step. While a CUDA graph is being captured the gradients stay as they are
        (set to None before capture, so backward writes rather than accumulates), autocast
        must not cache casted weights, and there is no scaler (fp16 never captures)."""
        with self._autocast(cache=not capturing):
            out = t.step_model(x)
            loss = training.loss(self.plan.recipe.loss, out, y)
        if not capturing:
            t.optimizer.zero_grad(set_to_none=True)
        if t.scaler is None:
            loss.backward()
            t.optimizer.step()
        else:
            t.scaler.scale(loss).backward()
            t.scaler.step(t.optimizer)
            t.scaler.update()
        stats = loss.detach()
        if self._track_accuracy:  # seed003's per-batch accuracy: [loss, accuracy], no sync
            stats = torch.stack((stats.float(), (out.argmax(1) == y).float().mean()))
        return stats

    def _eager_step(self, x, y) -> torch.Tensor:
        return self._train_step(self.training, x, y)

    def _to_device(self, x, y):
        if x.device != self.device:  # the DataLoader path yields CPU tensors
            x = x.to(self.device, non_blocking=True)
            y = y.to(self.device, non_blocking=True)
            if self.cfg.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
        return x, y

    # ---- the timed part ----------------------------------------------------------------------

    def train_epoch(self) -> None:
        """One epoch of training: the timed region. Returns after the device has finished.

        A scheduled evaluation inside the epoch (seed004: every 500 of 600 steps) is kept out
        of the timed region: the timer stops at that step's mark (waiting for the device), the
        evaluation runs, and a fresh timer segment starts before the next step; the epoch's
        time is the sum of its segments. (pytest-benchmark's own round time, which wraps this
        whole function, does include such evaluations; the record's epoch_times_s does not.)
        """
        step, loader = self._step, self.loaders.train
        if hasattr(loader, "set_epoch"):
            loader.set_epoch(self.epochs_done)  # epoch k's order depends on (seed, k) only
        self.training.step_model.train()
        losses, n_images, epoch_s, step_ms = [], 0, 0.0, []
        self.timer.start()
        for x, y in loader:
            x, y = self._to_device(x, y)
            losses.append(step(x, y))
            n_images += x.shape[0]
            self.timer.step()
            self.steps_done += 1
            if self.steps_done in self._eval_mid:
                seconds, ms = self.timer.stop()
                epoch_s, step_ms = epoch_s + seconds, step_ms + ms
                self._evaluate_scheduled()
                self.timer.start()
        seconds, ms = self.timer.stop()
        synchronize(self.device)
        self._pending = Epoch(epoch_s + seconds, step_ms + ms, losses, n_images)

    def _evaluate_scheduled(self) -> tuple[float, float]:
        """Score the recipe's evaluation split now, recording the step it follows."""
        loss, acc = self.evaluate(self._eval_loader)
        out = self.record.outcome
        out.eval_steps.append(self.steps_done)
        out.eval_losses.append(loss)
        out.eval_accuracies.append(acc)
        return loss, acc

    def evaluate_pending(self) -> None:
        """Untimed bookkeeping after an epoch: divergence check, validation, progress."""
        epoch, self._pending = self._pending, None
        if epoch is None:
            return
        self.epochs_done += 1
        timing, out = self.record.timing, self.record.outcome
        timing.epoch_times_s.append(epoch.seconds)
        timing.images_per_epoch = epoch.images
        timing.steps_per_epoch = len(epoch.losses)
        self._step_ms.extend(epoch.step_ms)
        stats = torch.stack(epoch.losses).float().cpu() if epoch.losses else torch.zeros(0)
        step_losses = stats[:, 0] if stats.dim() == 2 else stats  # [loss, accuracy] rows
        out.train_loss.append(self._check_losses(step_losses))
        chunk = max(1, math.ceil(len(step_losses) / LOSS_POINTS_PER_EPOCH))
        out.train_loss_steps.extend(float(c.mean()) for c in torch.split(step_losses, chunk))
        if stats.dim() == 2:
            out.train_accuracy_steps.extend(float(c.mean())
                                            for c in torch.split(stats[:, 1], chunk))
        if self.steps_done in self._eval_at:
            vl, va = self._evaluate_scheduled()
            if self.plan.recipe.eval_split == "val":
                out.val_loss.append(vl)
                out.val_accuracy.append(va)
            target = self.cfg.target_acc
            if target is not None and timing.time_to_target_s is None and va >= target:
                timing.time_to_target_s = sum(timing.epoch_times_s)
        self.progress.update(epoch=self.epochs_done, loss=out.train_loss[-1],
                             val_acc=out.val_accuracy[-1] if out.val_accuracy else None,
                             s_per_epoch=epoch.seconds)

    def _check_losses(self, step_losses: torch.Tensor) -> float | None:
        """The epoch's mean loss; raises Diverged on a NaN/inf step or an exploded mean."""
        lr = self.plan.recipe.lr
        bad = (~torch.isfinite(step_losses)).nonzero()
        if len(bad):
            step = int(bad[0]) + 1
            raise Diverged(f"training loss became {float(step_losses[step - 1])} at epoch "
                           f"{self.epochs_done}, step {step} (lr {lr})")
        mean_loss = float(step_losses.mean()) if len(step_losses) else None
        limit = EXPLODED * math.log(self.plan.spec.num_classes)
        if mean_loss is not None and self.plan.recipe.loss == "cross_entropy" \
                and mean_loss > limit:
            raise Diverged(f"training loss exploded to {mean_loss:.3g} (> {limit:.0f}) in epoch "
                           f"{self.epochs_done} (lr {lr})")
        return mean_loss

    def evaluate(self, loader) -> tuple[float, float]:
        """(mean loss, accuracy) over a loader; one host-device sync at the end. No gradients:
        the forward runs under no_grad, so nothing downstream of it records any (a with block,
        not the @torch.no_grad() decorator, which would hide this method from `make mutate`)."""
        model = self.training.step_model
        model.eval()
        total = torch.zeros((), device=self.device, dtype=torch.float64)
        hits = []  # per image, kept on the device: the accuracy and the record's test_correct
        for x, y in loader:
            x, y = self._to_device(x, y)
            with torch.no_grad(), self._autocast():
                out = model(x)
            summed, right = training.score_batch(self.plan.recipe.loss, out, y)
            total += summed
            hits.append(right)
        model.train()
        self.last_correct = torch.cat(hits) if hits else None
        if self.last_correct is None:  # no images
            return 0.0, 0.0
        n = len(self.last_correct)
        return float(total) / n, int(self.last_correct.sum()) / n

    def train_all_epochs(self) -> None:
        for _ in range(self.epochs):
            self.train_epoch()
            self.evaluate_pending()

    # ---- after training ----------------------------------------------------------------------

    def finish(self) -> None:
        """Test accuracy, timing summary, profiler window, pictures; marks the case ok."""
        self.evaluate_pending()
        self.progress.close()
        timing, out = self.record.timing, self.record.outcome
        # The CUDA caching allocator's peak over the timed epochs; the CPU has no per-run
        # equivalent (the process's max RSS mixes in data loading and earlier cases).
        if self.device.type == "cuda":
            timing.peak_memory_bytes = torch.cuda.max_memory_allocated(self.device)
        if self.plan.recipe.eval_split == "test" and out.eval_steps \
                and out.eval_steps[-1] == self.steps_done:  # scored the test split just now
            out.test_loss, out.test_accuracy = out.eval_losses[-1], out.eval_accuracies[-1]
        else:
            out.test_loss, out.test_accuracy = self.evaluate(self.loaders.test)
        # The evaluation just made was the test split's, in loader order (never shuffled).
        if self.last_correct is not None:
            out.test_correct = records.pack_correct(self.last_correct.cpu().tolist())
        times = timing.epoch_times_s
        if times:
            timing.epoch_time_median_s = epoch_stats(times).median  # the reports' own summary
            timing.images_per_s = timing.images_per_epoch / timing.epoch_time_median_s
        timing.step_time_ms_p50 = percentile(self._step_ms, 0.5)
        timing.step_time_ms_p90 = percentile(self._step_ms, 0.9)
        timing.train_time_s = sum(times)
        # A case's trace and pictures come from its first repeat only (_save_artifacts skips
        # the pictures after it): later repeats (and the A/A control's copies) train the same
        # net again, and the 0.4 s profiler window and 0.65 s of pictures per run were a fifth
        # of the quick profile (70 runs, 6 min 6 s).
        if self.cfg.torch_profile and self.cfg.repeat == 0:
            self._profile()
        self._save_artifacts()
        out.status = "ok"

    def _stored(self, path: Path | str | None) -> str | None:
        """A path as the record stores it: relative to the results folder (the reports find
        files there by the layout, and a moved folder stays whole); absolute when outside it
        (a --trace-dir elsewhere), never relative to the working directory."""
        if path is None:
            return None
        path = Path(path).absolute()
        try:
            return path.relative_to(Path(self.cfg.results_dir).absolute()).as_posix()
        except ValueError:
            return str(path)

    def _profile(self) -> None:
        root = Path(self.cfg.trace_dir or Path(self.cfg.results_dir) / records.TRACES_DIR)
        trace_dir = root.absolute() / self.cfg.run_id / self.case_id
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
        summary["trace_files"] = [self._stored(f) for f in summary["trace_files"]]
        self.record.profile = records.pick(records.Profile, {
            **summary, "trace_dir": self._stored(trace_dir)})

    def _save_artifacts(self) -> None:
        out = (Path(self.cfg.results_dir) / records.ARTIFACTS_DIR / self.cfg.run_id
               / self.case_id).absolute()
        model, a = self.training.model, self.record.artifacts
        if self.cfg.artifacts and self.cfg.repeat == 0:
            x, _ = self._to_device(*_first_batch(self.loaders.test))
            images = artifacts.save_images(model, x[0], out)
            a.kernels_image = self._stored(images["kernels_image"])
            a.feature_maps_image = self._stored(images["feature_maps_image"])
        if self.cfg.save_checkpoint:
            out.mkdir(parents=True, exist_ok=True)
            path = out / records.ARTIFACT_FILES["checkpoint"]
            torch.save(model.state_dict(), path)
            a.checkpoint = self._stored(path)

    def fail(self, exc: BaseException) -> None:
        """Classify a failure into the record (release comes after, in the lifecycle)."""
        out = self.record.outcome
        if isinstance(exc, Diverged):
            out.status = "diverged"
        elif _is_oom(exc):
            out.status = "oom"
        else:
            out.status = "error"
        out.error = str(exc) if isinstance(exc, Diverged) else f"{type(exc).__name__}: {exc}"
        if out.status == "oom":  # which memory ran out: the GPU's or the host's
            out.error = f"out of memory on {getattr(self, 'device', self.cfg.device)}: {out.error}"
        if out.status == "error":
            out.traceback = "".join(traceback.format_exception(exc))[-4000:]
        progress = getattr(self, "progress", None)
        if progress is not None:
            progress.close()

    def interrupted(self, exc: BaseException | None = None) -> None:
        """Ctrl-C or SIGTERM during the case: say so, with how far training got."""
        out = self.record.outcome
        out.status = "interrupted"
        total = self.plan.recipe.epochs if self.plan else "?"
        what = "SIGTERM" if isinstance(exc, Terminated) else "KeyboardInterrupt"
        out.error = (f"{what}: interrupted during epoch {self.epochs_done + 1} of "
                     f"{total} ({self.epochs_done} finished)")
        progress = getattr(self, "progress", None)
        if progress is not None:
            progress.close()

    def save(self) -> Path:
        """Append the record to <results_dir>/<run_id>.jsonl (once)."""
        path = records.records_file(self.cfg.results_dir, self.cfg.run_id)
        if not self._saved:
            self.record.case.finished_at = _now()
            self.record.case.wall_s = time.perf_counter() - self._t_start
            append_jsonl(path, self.result())
            self._saved = True
        return path

    def release(self) -> None:
        """Drop everything the case holds on the device (once per case, by the lifecycle)."""
        for name in ("training", "loaders", "_graph", "_step"):
            if hasattr(self, name):
                delattr(self, name)
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def _restore(t: Training, saved: list[torch.Tensor]) -> None:
    """Put back the weights saved before graph capture and zero the optimizer's state."""
    with torch.no_grad():
        for p, s in zip(t.model.parameters(), saved, strict=True):
            p.copy_(s)
        for state in t.optimizer.state.values():
            for value in state.values():
                if torch.is_tensor(value):
                    value.zero_()
