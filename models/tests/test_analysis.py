"""Derived analysis: shapes by the formula, receptive field, FLOPs, and rejection of bad specs."""

import random

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnbench import models
from cnnbench.models import ArchSpec, Conv, Flatten, Linear, Pool, analyze, conv_out


def _formula_shape(info, layer):
    c, h, w = info.in_shape
    if isinstance(layer, Conv):
        k, s, p = layer.kernel, layer.stride, layer.pad()
        return (layer.out_channels, (h - k + 2 * p) // s + 1, (w - k + 2 * p) // s + 1)
    k = layer.kernel
    s = layer.stride or k
    return (c, (h - k) // s + 1, (w - k) // s + 1)


def test_derived_shapes_agree_with_the_formula_and_the_module_for_every_arch():
    for name in models.list_archs():
        spec = models.get_spec(name)
        net = models.build(spec).eval()
        infos = analyze(spec)
        for info, layer in zip(infos, spec.layers, strict=False):
            if isinstance(layer, (Conv, Pool)):
                assert info.out_shape == _formula_shape(info, layer), (name, info.index)
        # And the real module agrees, layer by layer: feed the layer outputs through hooks.
        shapes: list[tuple] = []
        record = shapes.append
        hooks = [m.register_forward_hook(lambda m, i, o, record=record: record(tuple(o.shape[1:])))
                 for m in net if isinstance(m, (torch.nn.Conv2d, torch.nn.MaxPool2d,
                                                torch.nn.AvgPool2d, torch.nn.Linear))]
        with torch.no_grad():
            net(torch.zeros(1, *spec.input_shape))
        for h in hooks:
            h.remove()
        want = [i.out_shape for i in infos if i.kind in ("conv", "maxpool", "avgpool", "linear")]
        assert shapes == want, name


def test_receptive_field_of_seed000_net0_is_16():
    d = models.describe("seed000_net0")
    assert d["receptive_field"] == 16
    assert [lay["rf"] for lay in d["layers"][:4]] == [5, 6, 14, 16]
    assert [lay["jump"] for lay in d["layers"][:4]] == [1, 2, 2, 4]


def test_flops_of_a_known_conv_layer():
    # seed000_net0's second conv: 20→50, 5×5, output 8×8.
    layer = models.describe("seed000_net0")["layers"][2]
    assert layer["out_shape"] == [50, 8, 8]
    assert layer["flops"] == 2 * 20 * 50 * 5**2 * 8 * 8


@pytest.mark.parametrize("name", ["seed000_net0", "seed002_conv7", "grid_d2_k7_s2_same_avg_w32"])
def test_formula_flops_equal_torch_flop_counter(name):
    d = models.describe(name)
    assert d["flops_per_image"] == d["formula_flops_per_image"] > 0
    # Backward of conv/linear costs about twice the forward (grad wrt input and weights), except
    # the first layer's input gradient, which is not needed.
    assert 2 * d["flops_per_image"] < d["train_flops_per_image"] <= 3 * d["flops_per_image"]


def test_formula_totals_and_measured_totals_have_their_own_keys():
    spec = models.get_spec("seed000_net0")
    formula = models.analysis.summarize(spec, analyze(spec))
    # summarize() gives the formulas; only describe() measures, under the plain keys.
    assert "params" not in formula and "flops_per_image" not in formula
    d = models.describe("seed000_net0")
    assert d["formula_params"] == formula["formula_params"] == d["params"] == 431_080
    assert d["formula_flops_per_image"] == sum(lay["flops"] for lay in d["layers"])


def test_padding_pooling_and_depth_summaries():
    d = models.describe("grid_d2_k3_s2_valid_avg_w16")
    assert (d["depth"], d["kernel_sizes"], d["strides"], d["padding"], d["pooling"], d["width"]) \
        == (2, [3, 3], [2, 2], "valid", "avg", 16)
    assert models.describe("seed000_net3")["padding"] == "mixed"
    assert models.describe("seed002_conv7")["pooling"] == "max"
    assert models.describe("grid_d2_k3_s1_same_none_w32")["pooling"] == "none"


@pytest.mark.parametrize(
    "overrides,match",
    [
        (dict(kernel=29, padding="valid"),
         r"layer 1 \(Conv\): kernel 29×29 is larger than its input 28×28"),
        (dict(stride=0), r"layer 1 \(Conv\): stride 0 must be >= 1"),
        (dict(width=-4), r"layer 1 \(Conv\): out_channels -4 must be >= 1"),
        (dict(pooling="median"), r"unknown pooling 'median'"),
        (dict(depth=0), r"depth 0"),
        (dict(input_shape=(1, 8, 8), depth=4), r"layer \d+ \(Pool\): pool kernel 2×2 is larger"),
        (dict(nonsense=1), r"bad override"),
    ],
)
def test_bad_overrides_raise_named_layer_errors(overrides, match):
    with pytest.raises(ValueError, match=match):
        models.create("grid_d2_k5_s1_same_max_w32", **overrides)


def test_seed_net_with_an_input_too_small_names_the_layer():
    msg = r"seed000_net0: layer 3 \(Conv\): kernel 5×5 is larger than its input 4×4"
    with pytest.raises(ValueError, match=msg):
        models.create("seed000_net0", input_shape=(1, 12, 12))


def test_stale_classifier_size_is_caught():
    # seed002 reads its 10 class scores off a 1×1 map; on 32×32 inputs that map is 2×2.
    with pytest.raises(ValueError, match=r"outputs 40, expected 10 class scores"):
        models.create("seed002_conv7", input_shape=(1, 32, 32))


def test_unknown_pooling_in_a_hand_written_spec():
    spec = ArchSpec("x", (Conv(4, 3), Pool("median"), Flatten(), Linear(10)), "test")
    with pytest.raises(ValueError, match=r"x: layer 2 \(Pool\): unknown pooling 'median'"):
        analyze(spec)


def test_conv_out_formula():
    assert conv_out(28, 5, 1, 0) == 24
    assert conv_out(28, 7, 3, 0) == 8
    assert conv_out(28, 5, 2, 2) == 14


layer_st = st.one_of(
    st.builds(Conv, out_channels=st.integers(-2, 12), kernel=st.integers(-1, 9),
              stride=st.integers(-1, 4), padding=st.one_of(st.integers(-1, 4), st.just("same"))),
    st.builds(Pool, kind=st.sampled_from(["max", "avg", "min"]), kernel=st.integers(0, 4)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layers=st.lists(layer_st, min_size=1, max_size=5), size=st.integers(1, 32))
def test_random_specs_build_and_run_or_raise_value_error(layers, size):
    spec = ArchSpec("fuzz", (*layers, Flatten(), Linear(10, act=None)), "test",
                    input_shape=(1, size, size))
    try:
        net = models.build(spec)
    except ValueError:
        return
    with torch.no_grad():
        assert net(torch.randn(2, 1, size, size)).shape == (2, 10)


def test_random_grid_overrides_build_or_raise_value_error():
    rng = random.Random(0)
    for _ in range(60):
        ov = dict(depth=rng.randint(0, 7), kernel=rng.randint(0, 9), stride=rng.randint(0, 4),
                  padding=rng.choice(["valid", "same", "full"]),
                  pooling=rng.choice(["max", "avg", "none", "l2"]), width=rng.randint(-1, 8))
        try:
            net = models.create("grid_d2_k5_s1_same_max_w32", **ov)
        except ValueError:
            continue
        with torch.no_grad():
            assert net(torch.randn(1, 1, 28, 28)).shape == (1, 10), ov
