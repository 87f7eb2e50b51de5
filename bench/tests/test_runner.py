"""The runner in-process on the CPU: determinism, options, failure isolation, timers."""

from pathlib import Path

import pytest
import torch

from cnnbench.bench import profiling, training
from cnnbench.bench.config import RunConfig, parse_precision
from cnnbench.bench.plan import plan
from cnnbench.bench.runner import Runner
from cnnbench.bench.tests.common import cfg
from cnnbench.bench.timing import CudaEventTimer, HostTimer, percentile
from cnnbench.data.loaders import TorchDataLoader


def run(arch, tmp_path, **kw):
    return Runner(arch, cfg(tmp_path, **kw)).run()


def test_same_seed_gives_identical_loss_curves(tmp_path):
    a = run("seed003_lenet_dropout", tmp_path)  # dropout: the RNG must be seeded too
    b = run("seed003_lenet_dropout", tmp_path)
    c = run("seed003_lenet_dropout", tmp_path, seed=1)
    assert a["status"] == b["status"] == "ok"
    assert a["train_loss_steps"] == b["train_loss_steps"]
    assert a["val_loss"] == b["val_loss"]
    assert a["train_loss_steps"] != c["train_loss_steps"]


def test_record_has_epochs_and_host_timer(tmp_path):
    r = run("seed000_net4", tmp_path, epochs=3)
    assert r["status"] == "ok", r["error"]
    assert r["timer"] == "host" and len(r["epoch_times_s"]) == 3
    assert all(t > 0 for t in r["epoch_times_s"])
    assert r["step_time_ms_p50"] <= r["step_time_ms_p90"]
    assert r["images_per_s"] > 0 and r["warmup_s"] > 0 and r["compile_s"] is None
    assert r["mode"] == "eager" and r["recipe"] == "uniform" and r["optimizer"] == "sgd"


def test_seed_recipe_uses_the_studys_optimizer_and_batch(tmp_path):
    r = run("seed003_lenet_dropout", tmp_path, recipe="seed", epochs=1)
    assert (r["optimizer"], r["lr"], r["batch_size"], r["drop_last"]) == ("adam", 0.01, 64, True)
    assert r["normalize_mean"] == 0.5 and r["normalize_std"] == 0.5


def test_faithful_bug_keeps_its_loss_under_the_uniform_recipe(tmp_path):
    r = run("seed001_lab4_maxpool_softmax_nll", tmp_path, epochs=1, limit_train=500)
    assert r["loss_fn"] == "nll_on_softmax" and r["status"] == "ok"



def test_faithful_bug_loss_is_minus_the_probability_of_the_right_class(tmp_path):
    """The Lab 4 bug: nll_loss on softmax outputs is -p(correct), so a net sure of the right
    class scores -1.0 (the study's final loss) and a uniform guess -0.1, where cross-entropy on
    the same outputs would be positive. Training to -0.9 takes the study's full 3 epochs on
    60,000 images, too long for CI, so the loss itself is pinned here."""
    kind = plan("seed001_lab4_maxpool_softmax_nll", cfg(tmp_path)).recipe.loss
    assert kind == "nll_on_softmax"
    y = torch.tensor([3, 7])
    sure = torch.nn.functional.one_hot(y, 10).float()  # the softmax head's saturated output
    guess = torch.full((2, 10), 0.1)
    assert training.loss(kind, sure, y).item() == pytest.approx(-1.0)
    assert training.loss(kind, guess, y).item() == pytest.approx(-0.1)


def _first_conv(model):
    return next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))


def train_watching_first_conv(tmp_path, **kw):
    """Train one epoch with a forward hook on the first conv; returns (runner, record, seen)
    where seen holds the (input, output) tensors of every training forward."""
    runner = Runner("seed000_net0", cfg(tmp_path, epochs=1, limit_train=512, **kw))
    runner.setup()
    seen = []
    _first_conv(runner.training.model).register_forward_hook(
        lambda m, inp, out: seen.append((inp[0], out)) if m.training else None)
    runner.train_all_epochs()
    runner.finish()
    return runner, runner.result(), seen


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_amp_on_cpu(tmp_path, precision):
    runner, r, seen = train_watching_first_conv(tmp_path, precision=precision)
    assert r["status"] == "ok", r["error"]
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    # autocast ran: the conv computed in the low precision, on every training step.
    assert seen and all(out.dtype == dtype for _, out in seen)
    # fp16 needs loss scaling; bf16 keeps fp32's exponent range and has none.
    scaler = runner.training.scaler
    assert isinstance(scaler, torch.amp.GradScaler) if precision == "fp16" else scaler is None


def test_channels_last_and_dataloader_paths(tmp_path):
    runner, r, seen = train_watching_first_conv(tmp_path, channels_last=True,
                                                loader="dataloader", num_workers=0)
    assert r["status"] == "ok", r["error"]
    assert isinstance(runner.loaders.train, TorchDataLoader)
    assert isinstance(runner.loaders.train.dataloader, torch.utils.data.DataLoader)
    cl = torch.channels_last
    conv = _first_conv(runner.training.model)
    assert conv.weight.is_contiguous(memory_format=cl)
    # 20 output channels: channels_last and the default layout differ. (The 1-channel input
    # is both at once, so its layout proves nothing.)
    assert seen and all(out.is_contiguous(memory_format=cl) and not out.is_contiguous()
                        for _, out in seen)


def test_divergence_is_a_status_not_a_crash(tmp_path):
    r = run("seed000_net0", tmp_path, lr=1e3, epochs=3)
    assert r["status"] == "diverged"
    assert "training loss" in r["error"]
    assert len(r["epoch_times_s"]) == 1  # stopped after the first epoch


def test_oom_is_recorded_and_memory_released(tmp_path, monkeypatch):
    def boom(self, *a, **kw):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(Runner, "train_epoch", boom)
    runner = Runner("seed000_net0", cfg(tmp_path))
    r = runner.run()
    assert r["status"] == "oom" and "out of memory" in r["error"]
    assert not hasattr(runner, "training")


def _cpu_alloc(self, *a, **kw):
    # The real CPU allocator failure: 1 PiB is beyond any host's address space (x86-64: 128 TiB).
    torch.empty(2**50, dtype=torch.uint8)


def _memory_error(self, *a, **kw):
    raise MemoryError


@pytest.mark.parametrize("fault", [_cpu_alloc, _memory_error])
def test_cpu_allocation_failure_is_oom_naming_the_device(tmp_path, monkeypatch, fault):
    monkeypatch.setattr(Runner, "train_epoch", fault)
    runner = Runner("seed000_net0", cfg(tmp_path))
    r = runner.run()
    assert r["status"] == "oom", r["error"]
    assert r["error"].startswith("out of memory on cpu: ")
    assert not hasattr(runner, "training")


def test_unexpected_error_is_recorded_with_a_traceback(tmp_path):
    r = run("seed000_net0", tmp_path, dataset="synthetic", batch_size=None, epochs=1,
            data_dir=str(tmp_path / "nowhere"), loader="resident", val_size=10**7)
    assert r["status"] == "error" and "val_size=10000000" in r["error"]
    tb = r["traceback"]
    assert tb.startswith("Traceback (most recent call last)") and "ValueError" in tb
    # the frames from the lifecycle down to where the bad value was refused
    assert all(f"in {fn}\n" in tb for fn in ("lifecycle", "setup", "build", "split_validation"))


def test_profiler_window_writes_a_trace_and_a_summary_on_cpu(tmp_path):
    r = run("seed000_net4", tmp_path, epochs=1, torch_profile=True, trace_dir=str(tmp_path / "tr"))
    assert r["status"] == "ok", r["error"]
    assert r["gpu_busy_fraction"] is None  # CPU: no device kernels to count
    assert r["top_ops"] and all(op["self_cpu_ms"] >= 0 for op in r["top_ops"])
    assert r["trace_files"] and r["trace_files"][0].endswith(".pt.trace.json.gz")
    assert r["trace_dir"].endswith("unit/seed000_net4-synthetic-fp32-r0")


def test_artifacts_are_written(tmp_path):
    r = run("seed000_net0", tmp_path, epochs=1, artifacts=True, save_checkpoint=True)
    # Stored relative to the results folder: the reports find them by the layout.
    for key in ("kernels_image", "feature_maps_image", "checkpoint"):
        assert not Path(r[key]).is_absolute() and (tmp_path / r[key]).is_file(), r[key]
    state = torch.load(tmp_path / r["checkpoint"], weights_only=True)
    assert state["conv1.weight"].shape == (20, 1, 5, 5)


def test_time_to_target(tmp_path):
    r = run("seed000_net0", tmp_path, target_acc=0.0001)
    assert r["time_to_target_s"] == r["epoch_times_s"][0]
    r = run("seed000_net0", tmp_path, target_acc=1.0, epochs=1)
    assert r["time_to_target_s"] is None


@pytest.mark.slow
def test_compile_on_cpu_records_compile_time(tmp_path):
    r = run("seed000_net4", tmp_path, compile="default", epochs=1, limit_train=256)
    assert r["status"] == "ok", r["error"]
    assert r["mode"] == "compile" and r["compile_s"] > 0


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="precision"):
        RunConfig(precision="fp8")
    with pytest.raises(ValueError, match="loader"):
        RunConfig(loader="magic")
    with pytest.raises(ValueError, match="epochs"):
        RunConfig(epochs=0)
    with pytest.raises(ValueError, match="--amp"):
        parse_precision("int8")
    assert parse_precision("off") == "fp32"


def test_host_timer_and_percentiles():
    t = HostTimer()
    t.start()
    for _ in range(3):
        t.step()
    total, steps = t.stop()
    assert len(steps) == 3 and total >= 0 and abs(sum(steps) / 1e3 - total) < 1e-6
    assert percentile([1, 2, 3, 4], 0.5) == 2.5 and percentile([], 0.5) is None


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(),
                    reason="CUDA events need a GPU; CI has none (the host-timer twin runs above)")
def test_cuda_event_timer_on_gpu():
    t = CudaEventTimer(2)
    a = torch.randn(2048, 2048, device="cuda")
    t.start()
    for _ in range(2):
        a = a @ a / 2048
        t.step()
    total, steps = t.stop()
    assert len(steps) == 2 and total > 0


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(),
                    reason="the GPU-busy fraction needs CUDA kernels; CI has no GPU")
def test_gpu_runner_records_events_memory_and_busy_fraction(tmp_path):
    r = Runner("seed000_net0", cfg(tmp_path, device="cuda", torch_profile=True, epochs=1,
                                   precision="bf16")).run()
    assert r["status"] == "ok", r["error"]
    assert r["timer"] == "cuda_event" and r["peak_memory_bytes"] > 0
    assert 0 < r["gpu_busy_fraction"] <= 1


def test_profiling_module_summary_without_gpu(tmp_path):
    model = torch.nn.Linear(8, 2)
    x = torch.randn(4, 8)
    out = profiling.run_window(lambda: model(x).sum().backward(), torch.device("cpu"),
                               tmp_path, "w", wait=0, warmup=1, active=2)
    assert out["gpu_busy_fraction"] is None and out["trace_files"]


@pytest.mark.parametrize("recipe", ["uniform", "seed"])  # test split scored apart, or last
def test_the_record_says_which_test_images_were_right(tmp_path, recipe):
    """Outcome.test_correct: one bit per test image, in loader order, agreeing with
    test_accuracy (the reports pair two nets on the same images with it)."""
    import base64

    r = run("seed000_net4", tmp_path, epochs=1, recipe=recipe)
    assert r["status"] == "ok", r["error"]
    raw = base64.b64decode(r["test_correct"], validate=True)
    n = r["test_size"]
    assert len(raw) == -(-n // 8)
    right = sum(bin(b).count("1") for b in raw)
    assert right == round(r["test_accuracy"] * n)
    assert r["epoch_time_median_s"] == sorted(r["epoch_times_s"])[0]  # one epoch: its time


def test_pictures_and_trace_come_from_a_cases_first_repeat_only(tmp_path):
    first = run("seed003_lenet_dropout", tmp_path, epochs=1, torch_profile=True, artifacts=True)
    again = run("seed003_lenet_dropout", tmp_path, epochs=1, torch_profile=True, artifacts=True,
                repeat=1, seed=1)
    assert first["kernels_image"] and first["trace_files"]
    assert (tmp_path / first["kernels_image"]).is_file()
    assert again["kernels_image"] is None and not again["trace_files"]
    assert again["status"] == "ok" and again["epoch_times_s"]
    assert not (tmp_path / "artifacts" / "unit" / again["case_id"]).exists()
