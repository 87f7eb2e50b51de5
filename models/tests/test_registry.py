"""The zoo's contract: names, parameter counts, forward shape, registry behaviour."""

import pytest
import torch

from cnnbench import models
from cnnbench.models.registry import register_model
from cnnbench.record import natural_key

SEED_NAMES = [f"seed000_net{i}" for i in range(10)] + [
    "seed001_lab4_maxpool", "seed001_lab4_avgpool", "seed001_lab4_maxpool_softmax_nll",
    "seed001_lab4_avgpool_softmax_nll",
    "seed002_conv7", "seed003_lenet_dropout",
    "seed004_model_a", "seed004_model_b", "seed004_model_c",
]

# The parameter counts the source studies printed or imply.
STUDY_PARAMS = {
    "seed000_net0": 431_080,
    "seed001_lab4_maxpool": 454_922,
    "seed002_conv7": 6_379_786,
    "seed003_lenet_dropout": 10_592,
    "seed004_model_a": 28_938,
    "seed004_model_c": 18_378,
}


def test_all_seed_names_present():
    assert set(SEED_NAMES) <= set(models.list_archs())
    assert models.list_archs("seed*") == sorted(SEED_NAMES, key=natural_key)


@pytest.mark.parametrize("name,params", STUDY_PARAMS.items())
def test_parameter_counts_match_the_studies(name, params):
    assert models.count_params(models.create(name)) == params
    assert models.describe(name)["params"] == params


def test_net8_is_the_real_13x13_stride3_net_not_net7_again():
    conv = models.create("seed000_net8").first_conv()
    assert (conv.out_channels, conv.kernel_size, conv.stride) == (2, (13, 13), (3, 3))


@pytest.mark.parametrize("pool", ["maxpool", "avgpool"])
def test_the_faithful_bug_is_tagged_and_outputs_probabilities(pool):
    d = models.describe(f"seed001_lab4_{pool}_softmax_nll")
    assert "faithful-bug" in d["tags"] and d["recipe"]["loss"] == "nll_on_softmax"
    out = models.create(f"seed001_lab4_{pool}_softmax_nll")(torch.randn(3, 1, 28, 28))
    torch.testing.assert_close(out.sum(1), torch.ones(3))
    fixed = models.describe(f"seed001_lab4_{pool}")
    assert fixed["recipe"]["loss"] == "cross_entropy" and "faithful-bug" not in fixed["tags"]
    assert fixed["head"] == "logits" and d["head"] == "softmax"


def test_every_arch_maps_a_batch_to_10_logits():
    x = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        for name in models.list_archs():
            assert models.create(name).eval()(x).shape == (2, 10), name


def test_cifar_sized_input_works_for_the_grid_and_seed_nets():
    x = torch.randn(2, 3, 32, 32)
    for name in ["grid_d3_k5_s1_same_max_w32", "seed000_net0", "seed004_model_a"]:
        assert models.create(name, input_shape=(3, 32, 32))(x).shape == (2, 10)


def test_grid_is_large_enough_and_spans_the_factors():
    grid = [models.grid.parse_grid_name(n) for n in models.list_archs("grid_*")]
    assert len(grid) >= 48
    assert {p["depth"] for p in grid} == {1, 2, 3, 4, 5, 6}
    assert {p["kernel"] for p in grid} == {3, 5, 7}
    assert {p["stride"] for p in grid} == {1, 2, 3}
    assert {p["padding"] for p in grid} == {"valid", "same"}
    assert {p["pooling"] for p in grid} == {"max", "avg", "none"}


def test_invalid_grid_points_are_excluded_not_discovered_later():
    # 6 blocks of 2×2 pooling would need a 64-pixel input: never registered.
    assert "grid_d6_k3_s1_same_max_w32" not in models.list_archs()
    with pytest.raises(ValueError, match=r"layer \d+ \(Pool\)"):
        models.create("grid_d6_k3_s1_same_max_w32")


def test_unregistered_grid_names_are_addressable():
    net = models.create("grid_d2_k3_s1_same_none_w48")
    assert net.first_conv().out_channels == 48


def test_list_pattern_and_natural_order():
    names = models.list_archs("seed000_*")
    assert names[:3] == ["seed000_net0", "seed000_net1", "seed000_net2"]
    assert names[-1] == "seed000_net9"
    assert models.list_archs("nothing*") == []
    assert models.list_archs("seed002*,seed003*") == ["seed002_conv7", "seed003_lenet_dropout"]


def test_unknown_name_lists_close_matches():
    with pytest.raises(KeyError, match="seed000_net1"):
        models.create("seed000_net11x")


def test_duplicate_registration_is_an_error():
    with pytest.raises(ValueError, match="registered twice"):
        register_model(lambda **kw: None, name="seed000_net0")


def test_the_registry_imports_no_family():
    # Families register themselves (grid, seeds import the registry); the registry importing
    # one back would be an import cycle.
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(models.registry))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not imported & {"grid", "seeds", "models.grid", "models.seeds"}
