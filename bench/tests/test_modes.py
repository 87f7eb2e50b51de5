"""Execution modes: eager, compile and CUDA graphs (the graphs path itself needs a GPU)."""

import pytest
import torch

from cnnbench.bench.config import RunConfig
from cnnbench.bench.runner import Runner, graphs_unsupported
from cnnbench.bench.tests.common import cfg

# 14 steps per epoch on synthetic data (1,792 images, batch 128): 4 epochs give 56 raw step
# losses (the record keeps every step below 100 per epoch).
STEPS = 50


def losses(tmp_path, **kw):
    r = Runner("seed000_net0", cfg(tmp_path, epochs=4, **kw)).run()
    assert r["status"] == "ok", r.get("traceback") or r["error"]
    return r, r["train_loss_steps"][:STEPS]


def test_mode_options_and_defaults():
    assert RunConfig().mode == "eager"
    assert RunConfig(compile="max-autotune").mode == "compile"
    assert RunConfig(mode="compile").compile == "default"
    with pytest.raises(ValueError, match="mode 'jit'"):
        RunConfig(mode="jit")
    with pytest.raises(ValueError, match="contradicts"):
        RunConfig(mode="graphs", compile="default")


def test_case_ids_name_non_default_loader_and_mode():
    assert RunConfig().case_id("a") == "a-fashion-mnist-fp32-r0"
    assert RunConfig(mode="graphs", loader="dataloader", precision="bf16").case_id("a") \
        == "a-fashion-mnist-bf16-dataloader-graphs-r0"


def test_graphs_refusals_say_why():
    assert "CUDA device" in graphs_unsupported("cpu", "fp32")
    assert "GradScaler" in graphs_unsupported("cuda", "fp16")
    assert graphs_unsupported("cuda", "bf16") is None
    assert graphs_unsupported("cuda", "fp32") is None


def test_graphs_on_cpu_falls_back_to_eager_with_the_reason_recorded(tmp_path):
    r, graph_losses = losses(tmp_path, mode="graphs")
    assert (r["mode"], r["mode_requested"]) == ("eager", "graphs")
    assert "CUDA graphs need a CUDA device" in r["mode_fallback_reason"]
    assert r["case_id"].endswith("-graphs-r0")
    _, eager = losses(tmp_path)
    assert graph_losses == eager  # the fallback is plain eager, bit for bit


def test_compile_matches_eager_losses_on_cpu(tmp_path):
    _, eager = losses(tmp_path)
    r, compiled = losses(tmp_path, mode="compile")
    assert r["mode"] == "compile" and r["compile_s"] > 0
    assert len(eager) == len(compiled) == STEPS
    # Inductor fuses and reorders float arithmetic: equal within float tolerance, not bitwise.
    torch.testing.assert_close(torch.tensor(compiled), torch.tensor(eager), rtol=1e-3, atol=1e-4)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(),
                    reason="CUDA graphs need a GPU; CI has none (the CPU tests above cover the "
                           "fallback, the options and the records)")
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_graphs_match_eager_losses_on_gpu(tmp_path, precision):
    _, eager = losses(tmp_path, device="cuda", precision=precision)
    r, graphs = losses(tmp_path, device="cuda", precision=precision, mode="graphs")
    assert r["mode"] == "graphs" and r["mode_fallback_reason"] is None
    assert r["drop_last"] is True and r["capture_s"] > 0
    tol = dict(rtol=2e-2, atol=2e-2) if precision == "bf16" else dict(rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(torch.tensor(graphs), torch.tensor(eager), **tol)
