"""How the runner carries out a recipe, read off what it built and ran: the tensors the model
was fed, the optimizer object, the loss the training step returned, each module's mode while
scored. Not the record's echo of the recipe.

Expected values are the studies' facts, written here again from ../shared/seeds/*.txt:
  000  optim.SGD(lr=0.01, momentum=0.5), Normalize((0.1307,), (0.3081,)), F.nll_loss on
       log_softmax (= cross-entropy on the scores), torch.manual_seed(42)
  001  optim.Adam(lr=0.001), ToTensor only, F.nll_loss on softmax (the bug), no seed
  002  optim.SGD(lr=0.01, momentum=0.9), Normalize((0.1307,), (0.3081,)), torch.manual_seed(1)
  003  torch.optim.Adam(lr=0.01), Normalize((0.5,), (0.5,)), nn.CrossEntropyLoss, no seed
  004  SGD(lr=0.01; model C 0.05), ToTensor only, nn.CrossEntropyLoss, no seed
Every optimizer argument a study did not pass is PyTorch's default.

Synthetic data (uniform noise, so every batch holds pixels 0 and 255) keeps a case to a few
seconds on a CPU; the studies' "dataset" normalization is checked on Fashion-MNIST too.
"""

import inspect
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from cnnbench import data, models
from cnnbench.bench.config import RunConfig
from cnnbench.bench.plan import case_seed, plan
from cnnbench.bench.plugin import BenchSession
from cnnbench.bench.runner import Runner
from cnnbench.bench.training import make_optimizer

SYNTHETIC = (0.5, 0.2898)  # the synthetic dataset's own mean/std (data/registry.py)
TO_TENSOR = (0.0, 1.0)

# arch: (optimizer class, the study's own arguments, (mean, std) applied on synthetic data,
# loss, seed). Seed = None: the study set none, so 0.
STUDIES = {
    "seed000_net0": (torch.optim.SGD, dict(lr=0.01, momentum=0.5), SYNTHETIC, "ce", 42),
    "seed001_lab4_maxpool_softmax_nll": (torch.optim.Adam, dict(lr=0.001), TO_TENSOR, "nll_p", 0),
    "seed001_lab4_avgpool": (torch.optim.Adam, dict(lr=0.001), TO_TENSOR, "ce", 0),
    "seed002_conv7": (torch.optim.SGD, dict(lr=0.01, momentum=0.9), SYNTHETIC, "ce", 1),
    "seed003_lenet_dropout": (torch.optim.Adam, dict(lr=0.01), (0.5, 0.5), "ce", 0),
    "seed004_model_a": (torch.optim.SGD, dict(lr=0.01), TO_TENSOR, "ce", 0),
    "seed004_model_c": (torch.optim.SGD, dict(lr=0.05), TO_TENSOR, "ce", 0),
}


def seed_cfg(tmp_path, **kw) -> RunConfig:
    # 64 images: one full batch for seed003, whose drop_last would skip a smaller one.
    base = dict(dataset="synthetic", device="cpu", epochs=1, torch_profile=False,
                artifacts=False, progress=False, results_dir=str(tmp_path), run_id="exec",
                warmup_steps=1, recipe="seed", limit_train=64, seed=None)
    return RunConfig(**{**base, **kw})


class Ran:
    """One case set up and trained for one epoch, with what the model saw on the way."""

    def __init__(self, arch: str, cfg: RunConfig):
        cfg = cfg.replace(seed=case_seed(arch, cfg))  # what the plugin hands the runner
        self.runner = r = Runner(arch, cfg)
        r.setup()
        self.model = r.training.model
        self.initial = [p.detach().clone() for p in self.model.parameters()]
        self.inputs, self.modes = [], set()
        hooks = [self.model.register_forward_pre_hook(
            lambda _m, args: self.inputs.append(args[0].detach().clone()))]
        hooks += [m.register_forward_hook(lambda m, *_: self.modes.add(m.training))
                  for m in self.model.modules()]
        r.train_epoch()
        for h in hooks:
            h.remove()

    def affine(self, x: torch.Tensor, mean: float, std: float) -> torch.Tensor:
        """The pixel values 0..255 that ``x`` holds if it is (pixel/255 - mean) / std."""
        return (x.double() * std + mean) * 255


@pytest.mark.parametrize("arch", sorted(STUDIES))
def test_the_runner_carries_out_the_studys_recipe(tmp_path, arch):
    # One test per study, checking each fact in turn on one trained case: `make mutate` runs,
    # for each mutant, the tests that called the mutated function, and the plan, the recipe
    # and the optimizer are made while the case is set up, so every check of them must be in
    # the test that sets it up (a module-scoped fixture would credit the first test only).
    r = Ran(arch, seed_cfg(tmp_path))
    try:
        for check in (check_plan, check_normalization, check_optimizer,
                      check_training_step_loss, check_evaluation, check_start_from_seed):
            check(arch, r)
    finally:
        r.runner.release()


def check_plan(arch: str, r: Ran) -> None:
    """The plan trains the study's recipe with the command line's one override (1 epoch), on
    the whole training split (no study held out a validation split), eagerly on the CPU."""
    p = r.runner.plan
    assert (p.arch, p.spec.name) == (arch, arch)
    assert p.recipe == replace(models.get_spec(arch).recipe, epochs=1)
    assert (p.val_size, p.mode, p.mode_fallback_reason, p.device_type) == (0, "eager", None,
                                                                            "cpu")
    # seed003 alone drops the last, incomplete batch (60,000 = 937 x 64 + 32).
    assert p.recipe.drop_last == arch.startswith("seed003")


def check_normalization(arch: str, r: Ran) -> None:
    """The first training batch is normalized as the study did."""
    mean, std = STUDIES[arch][2]
    x = r.inputs[0]
    assert x.shape[1:] == (1, 28, 28) and x.dtype == torch.float32
    pixels = r.affine(x, mean, std)
    # An affine map of whole pixel values: a std off in the 3rd decimal moves pixel 255 by 0.7,
    # a mean off by 0.001 moves every pixel by 0.26; float32 rounding stays under 1e-3.
    torch.testing.assert_close(pixels, pixels.round(), atol=0.01, rtol=0)
    assert pixels.round().min() == 0 and pixels.round().max() == 255  # noise: both present
    assert x.min().item() == pytest.approx(-mean / std, abs=1e-6)
    assert x.max().item() == pytest.approx((1 - mean) / std, abs=1e-5)
    # Evaluation batches get the same normalization.
    xt, _ = next(iter(r.runner.loaders.test))
    assert xt.min().item() == pytest.approx(-mean / std, abs=1e-6)


@pytest.mark.parametrize("arch,mean,std", [("seed000_net0", 0.2860, 0.3530),
                                           ("seed004_model_a", 0.0, 1.0)])
def test_dataset_normalization_uses_the_datasets_own_constants(tmp_path, fashion_dir, arch,
                                                               mean, std):
    # seed000 normalized MNIST by MNIST's own mean/std; on Fashion-MNIST "the dataset's own" is
    # its computed 0.2860/0.3530. seed004 used ToTensor only.
    r = Ran(arch, seed_cfg(tmp_path, dataset="fashion-mnist", data_dir=str(fashion_dir)))
    try:
        pixels = r.affine(r.inputs[0], mean, std)
        torch.testing.assert_close(pixels, pixels.round(), atol=0.01, rtol=0)
        assert pixels.round().min() == 0 and pixels.round().max() >= 200
    finally:
        r.runner.release()


def test_dataset_constants_are_pinned():
    # MNIST: PyTorch examples/mnist's 0.1307/0.3081, which studies 000 and 002 typed in.
    # Fashion-MNIST: 0.286041/0.353024 computed over all 47,040,000 training pixels, to 4 places.
    # Synthetic: uniform 0..255, mean 127.5/255, std sqrt((256**2 - 1)/12)/255 = 0.28979.
    got = {n: (i.mean, i.std) for n, i in data.DATASETS.items()}
    assert got == {"mnist": (0.1307, 0.3081), "fashion-mnist": (0.2860, 0.3530),
                   "kmnist": (0.1918, 0.3483), "synthetic": (0.5, 0.2898)}
    assert round(((256**2 - 1) / 12) ** 0.5 / 255, 4) == 0.2898


def _pytorch_defaults(cls) -> dict:
    return {k: p.default for k, p in inspect.signature(cls).parameters.items() if k != "params"}


def check_optimizer(arch: str, r: Ran) -> None:
    """The optimizer is PyTorch's defaults plus the study's own arguments."""
    cls, given, *_ = STUDIES[arch]
    opt = r.runner.training.optimizer
    assert type(opt) is cls and len(opt.param_groups) == 1
    group = dict(opt.param_groups[0])
    assert [id(p) for p in group.pop("params")] == [id(p) for p in r.model.parameters()]
    assert group == {**_pytorch_defaults(cls), **given}
    # The defaults the studies got, in case a torch release changes one.
    if cls is torch.optim.SGD:
        assert (group["dampening"], group["nesterov"], group["weight_decay"]) == (0, False, 0)
    else:
        assert (group["betas"], group["eps"], group["weight_decay"], group["amsgrad"],
                group["capturable"]) == ((0.9, 0.999), 1e-8, 0, False, False)


def _formula(kind: str, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-image loss, written out: cross-entropy is -log softmax(scores)[y]; the Lab 4 bug
    fed probabilities to nll_loss, which returns -p[y]."""
    picked = out if kind == "nll_p" else out - out.logsumexp(1, keepdim=True)
    return -picked.gather(1, y[:, None]).squeeze(1)


def check_training_step_loss(arch: str, r: Ran) -> None:
    """The training step's loss is the study's formula."""
    kind = STUDIES[arch][3]
    x = r.inputs[0]
    y = torch.arange(len(x)) % 10
    params = list(r.model.parameters())
    torch.manual_seed(7)  # the same dropout mask (seed003) for both forwards
    out = r.model(x)
    want = _formula(kind, out, y).mean()
    grads = torch.autograd.grad(want, params)
    out, want = out.detach(), want.detach()
    stale = [torch.full_like(p, 1e3) for p in params]  # which the step must replace, not add to
    for p, s in zip(params, stale, strict=True):
        p.grad = s
    torch.manual_seed(7)
    stats = r.runner._train_step(r.runner.training, x, y)
    for p, g in zip(params, grads, strict=True):  # float32 noise is ~1e-7; stale adds 1e3
        torch.testing.assert_close(p.grad, g, rtol=1e-4, atol=1e-5)
    # Set to None, not zero-filled in place: zero_grad(set_to_none=False) would add a memset
    # per parameter to every timed step.
    assert not any(p.grad is s for p, s in zip(params, stale, strict=True))
    if arch.startswith("seed003"):  # [loss, fraction of the batch right] per step
        assert stats[1].item() == pytest.approx((out.argmax(1) == y).float().mean().item())
        stats = stats[0]
    assert stats.item() == pytest.approx(want.item(), rel=1e-5)
    assert kind != "nll_p" or -1 <= stats.item() < 0  # the bug's loss: minus a probability


def check_evaluation(arch: str, r: Ran) -> None:
    """Evaluation scores in eval mode, with the same loss."""
    kind = STUDIES[arch][3]
    x = r.inputs[0]
    y = torch.arange(len(x)) % 10
    # Uneven batches (3 + 2 + 5, 21 + 14 + 29, ...), as a last partial batch makes them.
    cuts = [0, len(x) // 3, len(x) // 3 + len(x) // 5, len(x)]
    batches = [(x[a:b], y[a:b]) for a, b in zip(cuts, cuts[1:], strict=False)]
    model = r.model
    assert r.modes == {True}  # every module trained in training mode
    with torch.no_grad():  # eval mode: dropout off, so the scores are deterministic
        outs = [model.eval()(xb) for xb, _ in batches]  # batch by batch, as the runner does
    model.train()
    want = torch.cat(outs)
    seen = set()
    hooks = [m.register_forward_hook(lambda m, *_: seen.add(m.training))
             for m in model.modules()]
    try:
        loss, acc = r.runner.evaluate(batches)
    finally:
        for h in hooks:
            h.remove()
    assert seen == {False}
    assert model.training  # back to training mode for the next epoch
    # Mean over images, as the studies' sum / len(dataset).
    assert loss == pytest.approx(_formula(kind, want, y).double().mean().item(), rel=1e-5)
    assert acc == (want.argmax(1) == y).sum().item() / len(x)
    # The batches' float32 sums are added in float64, exactly; a float32 running total would
    # round at every batch (10,000 test images at batch 10: 1,000 roundings).
    reduce = F.nll_loss if kind == "nll_p" else F.cross_entropy
    sums = [reduce(o.float(), yb, reduction="sum").double()
            for o, (_, yb) in zip(outs, batches, strict=True)]
    assert loss == float(sum(sums)) / len(x)
    # Which images it got right, in order: the record's test_correct.
    assert torch.equal(r.runner.last_correct, want.argmax(1) == y)
    # One image, labelled as the net classifies it: its own loss and accuracy 1; no images:
    # zeros, and no per-image record.
    label = want[:1].argmax(1)
    one = r.runner.evaluate([(x[:1], label)])
    assert one == (pytest.approx(_formula(kind, want[:1], label).item(), rel=1e-5), 1.0)
    assert r.runner.evaluate([]) == (0.0, 0.0) and r.runner.last_correct is None


def check_start_from_seed(arch: str, r: Ran) -> None:
    """The measured model started from the case's seed."""
    torch.manual_seed(STUDIES[arch][4])
    fresh = models.build(r.runner.plan.spec)
    for got, want in zip(r.initial, fresh.parameters(), strict=True):
        torch.testing.assert_close(got, want.detach(), rtol=0, atol=0)


SESSION_AXES = {"dataset": ["synthetic"], "precision": ["fp32"], "loader": ["resident"],
                "mode": ["eager"]}


@pytest.mark.parametrize("recipe,seed,want", [
    # No --seed: each study's own seed, repeat k adds k; the uniform recipe's is 0.
    ("seed", None, {"seed000_net0": [42, 43], "seed002_conv7": [1, 2],
                    "seed001_lab4_maxpool": [0, 1], "seed003_lenet_dropout": [0, 1],
                    "seed004_model_b": [0, 1], "grid_d1_k3_s1_same_max_w32": [0, 1]}),
    ("uniform", None, {"seed000_net0": [0, 1], "seed002_conv7": [0, 1]}),
    # --seed 5: every case, every recipe, seeds 5 and 6.
    ("seed", 5, {"seed000_net0": [5, 6], "seed002_conv7": [5, 6]}),
])
def test_the_plugin_gives_each_case_its_seed(tmp_path, recipe, seed, want):
    base = seed_cfg(tmp_path, recipe=recipe, seed=seed)
    cases = BenchSession("exec", base, SESSION_AXES, repeats=2).cases(sorted(want))
    got = {}
    for case in cases:
        got.setdefault(case.arch, []).append(case.config.seed)
        assert case.config.repeat == got[case.arch].index(case.config.seed)
    assert got == want


@pytest.mark.parametrize("recipe,val_size,want", [
    # The uniform recipe holds out a validation split: --val-size, else the dataset's (256 for
    # the synthetic set); a study's recipe trains on everything.
    ("uniform", None, 256), ("uniform", 100, 100), ("seed", 100, 0)])
def test_the_plan_holds_out_a_validation_split_only_for_the_uniform_recipe(tmp_path, recipe,
                                                                         val_size, want):
    cfg = seed_cfg(tmp_path, recipe=recipe, val_size=val_size, epochs=None, batch_size=32,
                   lr=0.5)
    p = plan("seed000_net0", cfg)
    assert p.val_size == want
    base = models.UNIFORM_RECIPE if recipe == "uniform" else models.get_spec("seed000_net0").recipe
    assert p.recipe == replace(base, batch_size=32, lr=0.5)  # no --epochs: the recipe's own


@pytest.mark.parametrize("device,precision,mode,reason", [
    ("cuda", "fp32", "graphs", None),
    ("cuda", "fp16", "eager", "fp16 needs a GradScaler"),
    ("cpu", "fp32", "eager", "CUDA graphs need a CUDA device"),
])
def test_the_plan_falls_back_from_graphs_and_drops_the_last_batch_for_them(
        tmp_path, device, precision, mode, reason):
    # No torch work: the plan is decided for a device type without one.
    p = plan("seed000_net0", seed_cfg(tmp_path, mode="graphs", precision=precision), device)
    assert (p.mode, p.device_type) == (mode, device)
    assert (p.mode_fallback_reason or "").startswith(reason or "")
    assert (reason is None) == (p.mode_fallback_reason is None)
    # A graph replays fixed shapes, so its epochs drop the last, smaller batch.
    assert p.recipe.drop_last == (mode == "graphs")


def test_an_unknown_optimizer_is_refused_by_name():
    class NotARecipe:  # Recipe itself refuses the name; this reaches the runner's own check
        optimizer, lr, momentum = "rmsprop", 0.01, 0.0

    with pytest.raises(ValueError, match="^unknown optimizer 'rmsprop'$"):
        make_optimizer(NotARecipe, [torch.zeros(1, requires_grad=True)], "eager")


@pytest.mark.parametrize("mode,capturable", [("graphs", True), ("eager", False)])
def test_adam_keeps_its_step_count_on_the_device_only_for_graphs(mode, capturable):
    # A CUDA graph replays Adam's update, so its step counter must be a device tensor
    # (capturable); eager Adam keeps PyTorch's default, as the studies had it.
    recipe = models.get_spec("seed003_lenet_dropout").recipe
    opt = make_optimizer(recipe, [torch.zeros(1, requires_grad=True)], mode)
    assert opt.param_groups[0]["capturable"] is capturable


def _stale_grads(params) -> None:
    for p in params:
        p.grad = torch.full_like(p, 1e3)


def test_an_fp16_step_unscales_its_gradients_before_the_update(tmp_path):
    # fp16 runs through the GradScaler on the CPU as on CUDA: the loss is scaled (65,536 at
    # the start) for backward, the gradients unscaled before SGD's update.
    r = Ran("seed004_model_a", seed_cfg(tmp_path, precision="fp16"))
    try:
        t, params = r.runner.training, list(r.model.parameters())
        x, y = r.inputs[0], torch.arange(len(r.inputs[0])) % 10
        assert isinstance(t.scaler, torch.amp.GradScaler)
        with torch.autocast("cpu", dtype=torch.float16):
            plain = torch.autograd.grad(F.cross_entropy(r.model(x), y), params)
        before = [p.detach().clone() for p in params]
        _stale_grads(params)
        r.runner._train_step(t, x, y)
        for p, b, g in zip(params, before, plain, strict=True):
            # fp16 activations: gradients agree to about 1%, not to float32's 1e-6.
            torch.testing.assert_close(p.grad, g, rtol=0.05, atol=1e-3)
            torch.testing.assert_close(p.detach(), b - 0.01 * p.grad)  # SGD, lr 0.01, no momentum
    finally:
        r.runner.release()


def test_a_step_under_graph_capture_keeps_gradients_and_caches_no_casts(tmp_path):
    # What a CUDA graph capture needs of the step, checked on the CPU twin (bf16 autocast, the
    # same code): no weight-cast cache while capturing (a graph would replay a stale cast) and
    # no zero_grad inside the graph (the runner sets gradients to None before capture).
    r = Ran("seed004_model_a", seed_cfg(tmp_path, precision="bf16"))
    seen = []
    hook = r.model.register_forward_pre_hook(lambda *_: seen.append(
        (torch.is_autocast_enabled("cpu"), torch.is_autocast_cache_enabled())))
    try:
        t, params = r.runner.training, list(r.model.parameters())
        x, y = r.inputs[0], torch.arange(len(r.inputs[0])) % 10
        _stale_grads(params)
        r.runner._train_step(t, x, y, capturing=True)
        kept = [p.grad.clone() for p in params]
        _stale_grads(params)
        r.runner._train_step(t, x, y)
        assert seen == [(True, False), (True, True)]
        # A fresh net's gradients are far below 1e3: kept means added to the stale 1e3.
        assert all((k - 1e3).abs().max() < 100 for k in kept)
        assert all(p.grad.abs().max() < 100 for p in params)
    finally:
        hook.remove()
        r.runner.release()


def test_the_plan_builds_the_net_for_the_datasets_images(tmp_path, monkeypatch):
    info = data.DATASETS["synthetic"]
    monkeypatch.setitem(data.DATASETS, "synthetic",
                        replace(info, image_shape=(3, 32, 32), num_classes=7))
    for arch in ("seed000_net0", "grid_d1_k3_s1_same_max_w32"):
        spec = plan(arch, seed_cfg(tmp_path)).spec
        assert (spec.input_shape, spec.num_classes) == ((3, 32, 32), 7)


@pytest.mark.parametrize("arch,loss", [("seed001_lab4_maxpool_softmax_nll", "nll_on_softmax"),
                                       ("seed001_lab4_maxpool", "cross_entropy")])
def test_the_architecture_keeps_its_loss_under_the_uniform_recipe(tmp_path, arch, loss):
    # The Lab 4 bug variant exists to show its loss; the uniform recipe must not replace it.
    assert plan(arch, seed_cfg(tmp_path, recipe="uniform")).recipe.loss == loss
