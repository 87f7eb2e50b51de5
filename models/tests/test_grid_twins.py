"""The grid's nets against plain-PyTorch twins written out by hand, one per factor level.

A grid point is ``depth`` × [conv(width, kernel, stride, padding) → ReLU → 2×2 pooling unless
"none"] → flatten → one linear layer to 10 logits (README, "The grid"). Each twin below spells
its layers and its flatten size as numbers worked out here, O = (W − K + 2P) / S + 1, then
⌊O / 2⌋ per pooling; the weights are copied across and the outputs must agree.
"""

import pytest
import torch
from torch import nn

from cnnbench import models

R, MP, AP = nn.ReLU, nn.MaxPool2d, nn.AvgPool2d


def _conv(cin, cout, k, s, p):
    return nn.Conv2d(cin, cout, k, s, p)


# Together these cover every level: depth 1-6, kernel 3/5/7, stride 1/2/3, padding valid/same,
# pooling max/avg/none, width 8/16/32/64.
TWINS = {
    # 28 → 28 (pad 1) → pool 14: 32·14·14
    "grid_d1_k3_s1_same_max_w32": lambda: nn.Sequential(
        _conv(1, 32, 3, 1, 1), R(), MP(2), nn.Flatten(), nn.Linear(32 * 14 * 14, 10)),
    # (28 + 4 − 5) // 2 + 1 = 14 → pool 7 → (7 + 4 − 5) // 2 + 1 = 4 → pool 2: 32·2·2
    "grid_d2_k5_s2_same_avg_w32": lambda: nn.Sequential(
        _conv(1, 32, 5, 2, 2), R(), AP(2), _conv(32, 32, 5, 2, 2), R(), AP(2), nn.Flatten(),
        nn.Linear(32 * 2 * 2, 10)),
    # (28 − 7) // 3 + 1 = 8 → pool 4: 32·4·4
    "grid_d1_k7_s3_valid_max_w32": lambda: nn.Sequential(
        _conv(1, 32, 7, 3, 0), R(), MP(2), nn.Flatten(), nn.Linear(32 * 4 * 4, 10)),
    # three 7×7 pad-3 convs keep 28×28: 32·28·28
    "grid_d3_k7_s1_same_none_w32": lambda: nn.Sequential(
        _conv(1, 32, 7, 1, 3), R(), _conv(32, 32, 7, 1, 3), R(), _conv(32, 32, 7, 1, 3), R(),
        nn.Flatten(), nn.Linear(32 * 28 * 28, 10)),
    # 28 → 14 → 7 → 3 → 1 by pooling alone: 32·1·1
    "grid_d4_k3_s1_same_avg_w32": lambda: nn.Sequential(
        _conv(1, 32, 3, 1, 1), R(), AP(2), _conv(32, 32, 3, 1, 1), R(), AP(2),
        _conv(32, 32, 3, 1, 1), R(), AP(2), _conv(32, 32, 3, 1, 1), R(), AP(2), nn.Flatten(),
        nn.Linear(32, 10)),
    # five valid 3×3 convs take 2 pixels each: 28 − 10 = 18, 32·18·18
    "grid_d5_k3_s1_valid_none_w32": lambda: nn.Sequential(
        _conv(1, 32, 3, 1, 0), R(), *[m for _ in range(4) for m in (_conv(32, 32, 3, 1, 0), R())],
        nn.Flatten(), nn.Linear(32 * 18 * 18, 10)),
    # six 5×5 pad-2 convs keep 28×28: 32·28·28
    "grid_d6_k5_s1_same_none_w32": lambda: nn.Sequential(
        _conv(1, 32, 5, 1, 2), R(), *[m for _ in range(5) for m in (_conv(32, 32, 5, 1, 2), R())],
        nn.Flatten(), nn.Linear(32 * 28 * 28, 10)),
    # the width sweep at the centre d2 k5 s1 same max: 28 → 14 → 7, width·7·7
    **{f"grid_d2_k5_s1_same_max_w{w}": (lambda w=w: nn.Sequential(
        _conv(1, w, 5, 1, 2), R(), MP(2), _conv(w, w, 5, 1, 2), R(), MP(2), nn.Flatten(),
        nn.Linear(w * 7 * 7, 10))) for w in (8, 16, 64)},
}


def test_the_twins_cover_every_level_of_every_factor():
    points = [models.grid.parse_grid_name(n) for n in TWINS]
    assert {p["depth"] for p in points} == {1, 2, 3, 4, 5, 6}
    assert {p["kernel"] for p in points} == {3, 5, 7}
    assert {p["stride"] for p in points} == {1, 2, 3}
    assert {p["padding"] for p in points} == {"valid", "same"}
    assert {p["pooling"] for p in points} == {"max", "avg", "none"}
    assert {p["width"] for p in points} == {8, 16, 32, 64}
    assert set(TWINS) <= set(models.list_archs("grid_*"))


@pytest.mark.parametrize("name", sorted(TWINS))
def test_grid_net_computes_what_its_twin_computes(name):
    torch.manual_seed(0)
    twin, ours = TWINS[name](), models.create(name)
    pairs = list(zip(twin.parameters(), ours.parameters(), strict=True))
    with torch.no_grad():
        for i, (t, o) in enumerate(pairs):
            assert t.shape == o.shape, f"parameter {i}: twin {t.shape}, ours {o.shape}"
            o.copy_(t)
        x = torch.randn(4, 1, 28, 28)
        want = twin.eval()(x)
        torch.testing.assert_close(ours.eval()(x), want)
    assert want.std() > 0  # not all equal: the comparison can fail


def test_the_grid_has_the_163_points_the_readme_claims():
    # 6 × 3 × 3 × 2 × 3 = 324 at width 32, 164 dropped for a map under 1×1, 160 left; plus
    # widths 8/16/64 at the centre. With the 19 seed nets: 182 cases.
    names = models.list_archs("grid_*")
    assert len(names) == 163 and len(models.list_archs()) == 182
    assert sum(n.endswith("_w32") for n in names) == 160


# Nets whose last layer is an activation on purpose: seed002's blog ran a ReLU on its class
# scores (x = F.relu(self.conv7(x)); x.view(-1, 10)), Lab 4's buggy pair returns softmax.
ACTIVATED_LOGITS = {"seed002_conv7": nn.ReLU, "seed001_lab4_maxpool_softmax_nll": nn.Softmax,
                    "seed001_lab4_avgpool_softmax_nll": nn.Softmax}


def test_no_registered_net_ends_in_an_activation_on_its_logits():
    ends = {}
    for name in models.list_archs():
        last = [m for m in models.create(name).children() if not isinstance(m, nn.Flatten)][-1]
        if not isinstance(last, nn.Linear | nn.Conv2d):
            ends[name] = type(last)
    assert ends == ACTIVATED_LOGITS


def test_stride_1_same_convs_keep_height_and_width():
    seen = 0
    for name in models.list_archs():
        spec = models.get_spec(name)
        same = [c.stride == 1 and c.padding == "same" for c in spec.layers
                if isinstance(c, models.Conv)]
        net, shapes = models.create(name).eval(), []
        convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
        hooks = [c.register_forward_hook(
            lambda _m, i, o, seen_here=shapes: seen_here.append((i[0].shape[2:], o.shape[2:])))
            for c in convs]
        with torch.no_grad():
            net(torch.zeros(1, 1, 28, 28))
        for h in hooks:
            h.remove()
        assert len(shapes) == len(same), name
        for keep, (hw_in, hw_out) in zip(same, shapes, strict=True):
            seen += keep
            assert not keep or hw_in == hw_out, f"{name}: {tuple(hw_in)} → {tuple(hw_out)}"
    assert seen > 100  # the grid's same-padded stride-1 convs, checked on the built modules
