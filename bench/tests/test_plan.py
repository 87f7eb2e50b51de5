"""The plan: every decision about how a case trains, made before any torch work."""

from cnnbench.bench.config import RunConfig
from cnnbench.bench.plan import plan


def test_uniform_recipe_with_overrides_and_the_architectures_loss():
    p = plan("seed001_lab4_maxpool_softmax_nll", RunConfig(lr=0.5, epochs=2), "cpu")
    assert (p.recipe.optimizer, p.recipe.lr, p.recipe.epochs, p.recipe.batch_size) \
        == ("sgd", 0.5, 2, 128)
    assert p.recipe.loss == "nll_on_softmax"  # the bug variant keeps its loss
    c = p.conditions()
    assert (c.loss_fn, c.lr, c.epochs, c.mode, c.timer) == ("nll_on_softmax", 0.5, 2, "eager",
                                                           "host")


def test_seed_recipe_is_the_studys():
    p = plan("seed003_lenet_dropout", RunConfig(recipe="seed"), "cpu")
    assert (p.recipe.optimizer, p.recipe.batch_size, p.recipe.drop_last) == ("adam", 64, True)


def test_graphs_drop_the_last_batch_on_cuda_and_fall_back_on_cpu():
    on_gpu = plan("seed000_net0", RunConfig(mode="graphs"), "cuda")
    assert on_gpu.mode == "graphs" and on_gpu.recipe.drop_last is True
    on_cpu = plan("seed000_net0", RunConfig(mode="graphs"), "cpu")
    assert on_cpu.mode == "eager" and on_cpu.recipe.drop_last is False
    assert "CUDA device" in on_cpu.conditions().mode_fallback_reason
    fp16 = plan("seed000_net0", RunConfig(mode="graphs", precision="fp16"), "cuda")
    assert fp16.mode == "eager" and "GradScaler" in fp16.mode_fallback_reason


def test_validation_size_defaults_per_dataset():
    assert plan("seed000_net0", RunConfig(), "cpu").val_size == 5000
    assert plan("seed000_net0", RunConfig(dataset="synthetic"), "cpu").val_size == 256
    assert plan("seed000_net0", RunConfig(val_size=10), "cpu").val_size == 10
