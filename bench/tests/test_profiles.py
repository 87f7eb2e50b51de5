"""The quick profile's -k expression selects what its findings need (no training here)."""

import itertools

import pytest
from _pytest.mark.expression import Expression

from cnnbench import models
from cnnbench.bench.profiles import PROFILES, QUICK_K
from cnnbench.models.grid import parse_grid_name
from cnnbench.reports import claims
from cnnbench.reports.contrasts import FACTORS


def selected(expr: str) -> list[str]:
    """Registered architectures pytest's ``-k expr`` keeps (case-insensitive substrings)."""
    compiled = Expression.compile(expr)
    out = []
    for arch in models.list_archs("*"):
        test_id = f"test_train[{arch}-fashion-mnist-fp32-r0]".lower()
        if compiled.evaluate(lambda word, t=test_id, **_: word.lower() in t):
            out.append(arch)
    return out


def single_factor_steps(archs: list[str]) -> set[str]:
    points = [p for p in map(parse_grid_name, archs) if p]
    found = set()
    for a, b in itertools.combinations(points, 2):
        differ = [f for f in FACTORS if a[f] != b[f]]
        if len(differ) == 1:
            found.add(differ[0])
    return found


def test_quick_gives_every_factor_but_width_a_matched_step_and_the_claims_their_nets():
    archs = selected(QUICK_K)
    assert single_factor_steps(archs) == {"depth", "kernel", "stride", "padding", "pooling"}
    for nc in claims.NET_CLAIMS:
        assert {nc.better, nc.worse} <= set(archs), nc.key
    assert not any(a.endswith("softmax_nll") for a in archs)  # the bug is another question
    args = PROFILES["quick"].pytest_args
    # Blocks: 3 or more seeds for accuracy findings, 5 for time verdicts under Holm.
    assert int(args[args.index("--repeats") + 1]) >= 3
    assert args[args.index("--control") + 1] in archs


def test_every_profile_runs_an_a_a_control():
    for p in PROFILES.values():
        assert "--control" in p.pytest_args, p.name


@pytest.mark.parametrize("expr,factor", [(claims.DEPTH_K, "depth"), (claims.KERNEL_K, "kernel"),
                                         (claims.STRIDE_K, "stride")])
def test_claim_hints_add_the_cases_they_name(expr, factor):
    assert single_factor_steps(selected(expr)) == {factor}


def test_net_claim_hints_add_both_nets():
    for nc in claims.NET_CLAIMS:
        assert {nc.better, nc.worse} <= set(selected(nc.add)), nc.key
