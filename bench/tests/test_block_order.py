"""The interleaved, randomised block design (bench/plugin.py): no training, no pytest session."""

from cnnbench.bench.config import RunConfig
from cnnbench.bench.plugin import BenchSession, block_order

ARCHS = ["grid_d1_k5_s1_same_max_w32", "grid_d2_k5_s1_same_max_w32", "seed004_model_a"]


def _session(repeats=3, control="grid_d2_k5_s1_same_max_w32", order_seed=None):
    axes = {"dataset": ["fashion-mnist"], "precision": ["fp32"], "loader": ["resident"],
            "mode": ["eager"]}
    return BenchSession("run-x", RunConfig(run_id="run-x", seed=0), axes, "*", repeats, None,
                        control, order_seed)


def test_every_block_holds_every_case_once_and_the_control_twice():
    s = _session()
    order = block_order(s.cases(ARCHS), s.seed())
    blocks = [c.block for c in order]
    assert blocks == sorted(blocks)  # block by block
    for b in range(3):
        in_block = [c for c in order if c.block == b]
        assert sorted(c.arch for c in in_block if not c.control) == sorted(ARCHS)
        copies = [c for c in in_block if c.arch == ARCHS[1]]
        assert len(copies) == 2 and len({c.position for c in copies}) == 2
        assert len({str(c) for c in copies}) == 2  # distinct test ids
        assert copies[0].config.seed == copies[1].config.seed  # the same work
        assert sorted(c.position for c in in_block) == list(range(len(in_block)))


def test_the_order_is_seeded_recorded_and_not_registry_order():
    a = block_order(_session(order_seed=1).cases(ARCHS * 1), 1)
    b = block_order(_session(order_seed=1).cases(ARCHS * 1), 1)
    assert [str(c) for c in a] == [str(c) for c in b]
    assert {c.order_seed for c in a} == {1}
    orders = {tuple(c.arch for c in block_order(_session().cases(ARCHS), seed) if c.block == 0)
              for seed in range(20)}
    assert len(orders) > 1  # not one fixed order
    assert _session().seed() == _session().seed()  # derived from the run id, stable
