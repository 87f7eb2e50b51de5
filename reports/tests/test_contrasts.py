"""Time and accuracy contrasts on constructed records with a known truth.

The run, not the epoch, is the replicate; runs pair within blocks; no variance is pooled across
cells; verdicts need the corrected interval beyond the practical margin."""

import math

import numpy as np
import pytest
from scipy import stats as sps

from cnnbench import record as records
from cnnbench.reports import contrasts as C
from cnnbench.reports.findings import factor_effects
from cnnbench.reports.stats import interval
from cnnbench.reports.tests.records import TEST_SIZE, frame, grid, noisy
from cnnbench.reports.thresholds import TIME_MARGIN


def _by_key(findings):
    return {f.key: f for f in findings}


def _blocks(tmp_path, levels: dict, blocks=4, noise=0.01, seed=0, **kw):
    """Kernel levels → true epoch time; ``blocks`` runs each (block = repeat), 2 epochs."""
    rng = np.random.default_rng(seed)
    recs, logs = [], {}
    for b in range(blocks):
        offset = rng.normal(0, 0.05)  # a block-wide offset: cancels in within-block contrasts
        for k, t in levels.items():
            times = noisy(t * math.exp(offset), noise, 2, rng)
            logs.setdefault(k, []).append(float(np.median(np.log(times))))
            recs.append(grid(kernel=k, repeat=b, block=b, times=times, **kw))
    return _by_key(factor_effects(frame(tmp_path, recs))), logs


def test_the_interval_is_paired_within_blocks_over_runs(tmp_path):
    f, logs = _blocks(tmp_path, {5: 1.0, 7: 1.5})
    k = f["kernel_time_k5_k7"]
    d = np.array(logs[7]) - np.array(logs[5])  # one value per block: the replicate
    ci = sps.ttest_1samp(d, 0).confidence_interval(0.95)
    assert k.estimate == pytest.approx(math.exp(d.mean()))
    # One time contrast in the family: Holm changes nothing, the level is 95%.
    assert (k.ci_low, k.ci_high) == pytest.approx((math.exp(ci.low), math.exp(ci.high)))
    assert k.conclusive and k.verdict == "slower" and k.n == 4
    assert "paired within blocks" in k.statement and "beyond the ±3% margin" in k.statement


def test_one_run_per_case_gives_an_estimate_and_no_verdict(tmp_path):
    f, _ = _blocks(tmp_path, {5: 1.0, 7: 1.5}, blocks=1)
    k = f["kernel_time_k5_k7"]
    assert k.ci_low is None and not k.conclusive and k.verdict == "one run each"
    assert "one run each: repeat for an interval" in k.statement


def test_an_effect_inside_the_margin_is_not_called(tmp_path):
    # 1% slower, measured very precisely: resolvable, but not a practical difference.
    f, _ = _blocks(tmp_path, {5: 1.0, 7: 1.01}, blocks=6, noise=0.001)
    k = f["kernel_time_k5_k7"]
    assert not k.conclusive and k.verdict == "within margin"
    assert 1 / (1 + TIME_MARGIN) < k.ci_low and k.ci_high < 1 + TIME_MARGIN


def test_holm_widens_the_intervals_of_a_family(tmp_path):
    f, _ = _blocks(tmp_path, {3: 0.6, 5: 1.0, 7: 1.5})
    steps = [f["kernel_time_k3_k5"], f["kernel_time_k5_k7"]]
    # Holm: the smallest p is judged at α/3, the next at α/2 (or inherits the first's level).
    assert all(s.family == "time" and s.ci_level >= 0.95 for s in steps)
    assert max(s.ci_level for s in steps + [f["kernel_time_trend"]]) > 0.98
    assert any("Holm-corrected" in s.statement for s in steps)
    assert f["kernel_time_trend"].kind == "trend"  # one joint test over k3, k5, k7


def test_a_noisy_cell_does_not_narrow_or_widen_the_others(tmp_path):
    rng = np.random.default_rng(4)
    recs = []
    for b in range(4):
        for k, t, sd in ((3, 0.6, 0.01), (5, 1.0, 0.01), (7, 1.5, 0.40)):
            recs.append(grid(kernel=k, repeat=b, block=b,
                             times=noisy(t * math.exp(rng.normal(0, sd)), 0.005, 2, rng)))
    f = _by_key(factor_effects(frame(tmp_path, recs)))
    quiet, loud = f["kernel_time_k3_k5"], f["kernel_time_k5_k7"]
    assert quiet.ci_high / quiet.ci_low < 1.2 < loud.ci_high / loud.ci_low
    assert "noisy_cells" in f and "grid_d2_k7" in f["noisy_cells"].statement


def test_accuracy_needs_three_seeds_and_pairs_them(tmp_path):
    accs = {5: [0.90, 0.92, 0.91], 7: [0.94, 0.95, 0.96]}
    recs = [grid(kernel=k, repeat=r, block=r, times=[k, k], acc=a)
            for k, accs_k in accs.items() for r, a in enumerate(accs_k)]
    a = _by_key(factor_effects(frame(tmp_path, recs)))["kernel_accuracy_k5_k7"]
    d = np.array(accs[7]) - np.array(accs[5])
    test_var = (0.91 * 0.09 + 0.95 * 0.05) / TEST_SIZE
    want = interval(d.mean(), [(d.var(ddof=1) / 3, 2), (test_var, math.inf)], 6)
    assert a.estimate == pytest.approx(100 * d.mean())
    assert (a.ci_low, a.ci_high) == pytest.approx((100 * want.low, 100 * want.high))
    assert a.ci_low < 100 * d.mean() < a.ci_high and a.conclusive
    two = [r for r in recs if r["repeat"] < 2]
    a2 = _by_key(factor_effects(frame(tmp_path / "two", two)))["kernel_accuracy_k5_k7"]
    assert a2.ci_low is None and a2.verdict == "too few seeds"
    assert "2 seeds per case: an estimate, no interval" in a2.statement


def test_only_single_factor_differences_are_compared(tmp_path):
    recs = [grid(depth=1, kernel=3, times=[1, 1.01]), grid(depth=2, kernel=5, times=[3, 3.02]),
            # Same case, other run conditions: a different subset is never matched.
            grid(depth=2, kernel=3, times=[2, 2.02], limit_train=2048)]
    keys = {f.key for f in factor_effects(frame(tmp_path, recs))}
    assert not any(k.startswith(("depth_", "kernel_")) for k in keys), keys


def test_categorical_factors_compare_with_the_reference(tmp_path):
    recs = [grid(pooling=p, repeat=b, block=b, times=[t, t * 1.01])
            for b in range(3) for p, t in (("max", 1.0), ("avg", 1.0), ("none", 3.0))]
    recs += [grid(padding="valid", repeat=b, block=b, times=[0.5, 0.505]) for b in range(3)]
    f = _by_key(factor_effects(frame(tmp_path, recs)))
    assert {"pooling_time_max_avg", "pooling_time_max_none", "padding_time_valid_same"} <= set(f)
    assert f["pooling_time_max_none"].estimate == pytest.approx(3.0)
    assert f["padding_time_valid_same"].estimate == pytest.approx(2.0)
    assert not f["pooling_time_max_avg"].conclusive


def _control_records(copy_factor):
    """4 blocks of k5 and k7, plus k5's A/A copy taking ``copy_factor`` times as long."""
    rng = np.random.default_rng(6)
    recs = []
    for b in range(4):
        for k, t in ((5, 1.0), (7, 1.5)):
            recs.append(grid(kernel=k, repeat=b, block=b, times=noisy(t, 0.005, 2, rng)))
        recs.append(grid(kernel=5, repeat=4 + b, block=b, control=True,
                         times=noisy(copy_factor, 0.005, 2, rng)))
    return recs


def _control_run(tmp_path, copy_factor):
    return _by_key(factor_effects(frame(tmp_path, _control_records(copy_factor))))


def test_a_passing_a_a_control_lets_verdicts_stand(tmp_path):
    f = _control_run(tmp_path, 1.0)
    assert f["aa_control"].verdict == "passed"
    assert f["kernel_time_k5_k7"].verdict == "slower"


def test_a_failing_a_a_control_blocks_every_time_verdict(tmp_path):
    f = _control_run(tmp_path, 1.25)  # the second copy of one case ran 25% slower
    assert f["aa_control"].verdict == "failed" and f["aa_control"].level == "warn"
    k = f["kernel_time_k5_k7"]
    assert not k.conclusive and "A/A control failed" in k.statement


@pytest.mark.parametrize("noise,warned", [(0.005, False), (0.25, True)])
def test_a_busy_machine_is_called_out(tmp_path, noise, warned):
    rng = np.random.default_rng(8)
    recs = [grid(kernel=k, repeat=r, block=r, times=noisy(t * math.exp(rng.normal(0, noise)),
                                                          0.005, 2, rng))
            for k, t in ((3, 1.0), (5, 1.8), (7, 2.7)) for r in range(3)]
    f = _by_key(factor_effects(frame(tmp_path, recs)))
    assert ("time_noise_high" in f) is warned


# ---------------------------------------------------------------- accuracy paired on images


def _masks(rng, n, p_a, p_b, blocks):
    """Per block: correctness of nets a and b on the same n images (a hard-image share both
    miss, and each net's own misses)."""
    hard = rng.random(n) < 1 - max(p_a, p_b) - 0.02
    out = []
    for _ in range(blocks):
        a = ~hard & (rng.random(n) > (1 - p_a - hard.mean()) / (1 - hard.mean()))
        b = ~hard & (rng.random(n) > (1 - p_b - hard.mean()) / (1 - hard.mean()))
        out.append((a, b))
    return out


def _paired_recs(masks, with_bits=True):
    recs = []
    for r, (a, b) in enumerate(masks):
        for k, m in ((5, a), (7, b)):
            extra = {"test_correct": records.pack_correct(m.tolist())} if with_bits else {}
            recs.append(grid(kernel=k, repeat=r, block=r, times=[1.0, 1.0], acc=float(m.mean()),
                             test_size=len(m), **extra))
    return recs


def test_accuracy_pairs_the_nets_on_the_same_test_images(tmp_path):
    rng = np.random.default_rng(21)
    masks = _masks(rng, 4000, 0.88, 0.90, 4)
    cs = C.cells(frame(tmp_path, _paired_recs(masks)))
    c = C.factor_contrasts(cs, "kernel", metrics=("accuracy",))[0]
    assert c.method == C.PAIRED_IMAGES
    # By hand: X[k, i] = b − a; seed part var(rows)/K, image part (var(cols) − MSe/K)/N.
    X = np.array([b.astype(float) - a for a, b in masks])
    K, N = X.shape
    rows, cols = X.mean(1), X.mean(0)
    ms_e = ((X - rows[:, None] - cols[None, :] + X.mean()) ** 2).sum() / ((K - 1) * (N - 1))
    image = max(0.0, cols.var(ddof=1) - ms_e / K) / N
    want = interval(rows.mean(), [(rows.var(ddof=1) / K, K - 1), (image, N - 1)], K)
    assert c.diff.estimate == pytest.approx(X.mean())
    assert (c.diff.low, c.diff.high) == pytest.approx((want.low, want.high))
    # Two nets that agree on most images: narrower than the unpaired binomial bound.
    old = C.cells(frame(tmp_path / "old", _paired_recs(masks, with_bits=False)))
    o = C.factor_contrasts(old, "kernel", metrics=("accuracy",))[0]
    assert o.method == C.BINOMIAL_BOUND and o.diff.estimate == pytest.approx(c.diff.estimate)
    assert c.diff.high - c.diff.low < o.diff.high - o.diff.low


def test_a_per_image_record_that_does_not_fit_falls_back(tmp_path):
    rng = np.random.default_rng(22)
    masks = _masks(rng, 1000, 0.88, 0.90, 3)
    recs = _paired_recs(masks)
    recs[0]["test_accuracy"] = 0.5  # not what its bits say: the bits are not trusted
    cs = C.cells(frame(tmp_path, recs))
    assert C.factor_contrasts(cs, "kernel", metrics=("accuracy",))[0].method == C.BINOMIAL_BOUND
    n = 1000
    good = records.pack_correct([True] * n)
    assert C.unpack_correct(good, n, 1.0).all()
    assert C.unpack_correct(good, n + 8, 1.0) is None  # another test set's length
    assert C.unpack_correct("not base64!", n) is None
    assert C.unpack_correct(good, n - 1) is None  # the same bytes, one bit past the end set
    assert C.unpack_correct(None, n) is None


def test_the_first_screen_states_the_noise_and_the_a_a_control_in_one_line(tmp_path):
    import re

    from cnnbench.reports.html import render_report

    page = render_report(frame(tmp_path, _control_records(1.0)))
    line = re.search(r'<p class="noise-line" id="noise-line">(.*?)</p>', page, re.S)
    assert line, "no noise line on the first screen"
    assert "run to run" in line.group(1) and "A/A control" in line.group(1)
