import math

import numpy as np
import pytest
from scipy import stats as sps

from cnnbench.reports.findings import factor_effects
from cnnbench.reports.tests.records import TEST_SIZE, frame, grid, noisy


def _by_key(findings):
    return {f.key: f for f in findings}


def _kernel_pair(tmp_path, ratio, noise, epochs=3, seed=0):
    rng = np.random.default_rng(seed)
    t5, t7 = noisy(1.0, noise, epochs, rng), noisy(ratio, noise, epochs, rng)
    recs = [grid(kernel=5, times=t5, acc=0.90), grid(kernel=7, times=t7, acc=0.91)]
    return _by_key(factor_effects(frame(tmp_path, recs))), t5, t7


def test_large_effect_with_small_noise_is_conclusive(tmp_path):
    f, t5, t7 = _kernel_pair(tmp_path, 1.5, 0.01)
    k = f["kernel_time_k5_k7"]
    assert k.conclusive and k.metric == "time" and k.factor == "kernel"
    # One repeat per case: the interval is the pooled-variance t-interval on log epoch times.
    ci = sps.ttest_ind(np.log(t7), np.log(t5), equal_var=True).confidence_interval(0.95)
    assert k.estimate == pytest.approx(math.exp(np.log(t7).mean() - np.log(t5).mean()))
    assert (k.ci_low, k.ci_high) == pytest.approx((math.exp(ci.low), math.exp(ci.high)))
    assert k.ci_low < 1.5 < k.ci_high and k.n == 6
    assert f"{k.estimate:.2f}× slower (95% CI {k.ci_low:.2f}–{k.ci_high:.2f}×)" in k.statement
    assert f["kernel_time_trend"].statement.startswith("Kernel size: every step raises")


def test_small_effect_with_large_noise_is_not(tmp_path):
    f, _, _ = _kernel_pair(tmp_path, 1.02, 0.10)
    k = f["kernel_time_k5_k7"]
    assert k.conclusive is False and k.ci_low < 1 < k.ci_high
    assert "no resolvable change in epoch time" in k.statement
    assert "no single trend" in f["kernel_time_trend"].statement


def test_one_repeat_states_accuracy_resolution_not_a_ci(tmp_path):
    f, _, _ = _kernel_pair(tmp_path, 1.5, 0.01)
    a = f["kernel_accuracy_k5_k7"]
    assert a.ci_low is None and a.ci_high is None and not a.conclusive
    assert a.estimate == pytest.approx(1.0)
    # 1.96 binomial standard errors of the difference of two accuracies on 10,000 images.
    res = 1.959964 * math.sqrt((0.9 * 0.1 + 0.91 * 0.09) / TEST_SIZE)
    assert f"one seed per case: accuracy differences below about {100 * res:.1f} pp are not " \
           "resolvable (run --repeats 3)" in a.statement
    assert f["accuracy_resolution"].estimate == pytest.approx(100 * res)


def test_repeats_give_accuracy_interval_from_pooled_seed_spread(tmp_path):
    accs = {3: [0.87, 0.89, 0.88], 5: [0.90, 0.92, 0.91], 7: [0.94, 0.95, 0.96]}
    recs = [grid(kernel=k, repeat=r, times=[k, k], acc=a)
            for k, accs_k in accs.items() for r, a in enumerate(accs_k)]
    a = _by_key(factor_effects(frame(tmp_path, recs)))["kernel_accuracy_k5_k7"]
    pooled = np.mean([np.var(v, ddof=1) for v in accs.values()])  # equal repeats: plain mean
    se = math.sqrt(2 * pooled / 3)
    half = sps.t.ppf(0.975, 6) * se  # 3 cases × (3 − 1) degrees of freedom
    diff = 100 * (np.mean(accs[7]) - np.mean(accs[5]))
    assert a.estimate == pytest.approx(diff)
    assert (a.ci_low, a.ci_high) == pytest.approx((diff - 100 * half, diff + 100 * half))
    assert a.conclusive


def test_binomial_floor_when_seeds_agree(tmp_path):
    # Identical accuracies over repeats: the seed spread is 0, the test set's is not.
    recs = [grid(kernel=k, repeat=r, times=[k, k], acc=a)
            for k, a in ((5, 0.90), (7, 0.905)) for r in range(2)]
    a = _by_key(factor_effects(frame(tmp_path, recs)))["kernel_accuracy_k5_k7"]
    se = math.sqrt((0.9 * 0.1 + 0.905 * 0.095) / TEST_SIZE)
    assert a.ci_high - a.estimate == pytest.approx(100 * sps.t.ppf(0.975, 2) * se)
    assert a.conclusive is False


def test_only_single_factor_differences_are_compared(tmp_path):
    recs = [grid(depth=1, kernel=3, times=[1, 1.01]), grid(depth=2, kernel=5, times=[3, 3.02]),
            # Same case, other run conditions: a different subset is never matched.
            grid(depth=2, kernel=3, times=[2, 2.02], limit_train=2048)]
    keys = {f.key for f in factor_effects(frame(tmp_path, recs))}
    assert not any(k.startswith(("depth_", "kernel_")) for k in keys), keys


def test_steps_are_adjacent_and_pairs_are_averaged(tmp_path):
    # d1 → d2 doubles the time at both kernels; d2 → d3 is flat (pooling shrank the maps).
    rng = np.random.default_rng(3)
    recs = [grid(depth=d, kernel=k, times=noisy(base * k, 0.01, 3, rng))
            for k in (3, 5) for d, base in ((1, 1.0), (2, 2.0), (3, 2.0))]
    f = _by_key(factor_effects(frame(tmp_path, recs)))
    assert "depth_time_d1_d3" not in f
    d12, d23 = f["depth_time_d1_d2"], f["depth_time_d2_d3"]
    assert d12.pairs == 2 and d12.conclusive and d12.estimate == pytest.approx(2.0, rel=0.03)
    assert d12.spread[0] <= d12.estimate <= d12.spread[1]
    assert not d23.conclusive
    assert f["depth_time_trend"].conclusive is False
    assert "d2 → d3 not resolvable" in f["depth_time_trend"].statement


def test_categorical_factors_compare_with_the_reference(tmp_path):
    recs = [grid(pooling=p, times=[t, t * 1.01, t * 0.99])
            for p, t in (("max", 1.0), ("avg", 1.0), ("none", 3.0))] + \
           [grid(padding="valid", times=[0.5, 0.505, 0.495])]
    f = _by_key(factor_effects(frame(tmp_path, recs)))
    assert {"pooling_time_max_avg", "pooling_time_max_none", "padding_time_valid_same"} <= set(f)
    assert f["pooling_time_max_none"].estimate == pytest.approx(3.0)
    assert f["padding_time_valid_same"].estimate == pytest.approx(2.0)
    assert not f["pooling_time_max_avg"].conclusive


def test_time_noise_is_pooled_over_the_runs_repeats(tmp_path):
    rng = np.random.default_rng(7)
    times = {k: [noisy(t, 0.05, 2, rng) for _ in range(2)] for k, t in ((3, 1.0), (5, 1.8),
                                                                         (7, 2.7))}
    recs = [grid(kernel=k, repeat=r, times=t) for k, reps in times.items()
            for r, t in enumerate(reps)]
    f = _by_key(factor_effects(frame(tmp_path, recs)))["kernel_time_k5_k7"]
    means = {k: np.array([np.log(t).mean() for t in reps]) for k, reps in times.items()}
    v = sum(((m - m.mean()) ** 2).sum() for m in means.values()) / 3  # 3 cells × (2 − 1) dof
    diff = means[7].mean() - means[5].mean()
    half = sps.t.ppf(0.975, 3) * math.sqrt(v / 2 + v / 2)
    assert f.estimate == pytest.approx(math.exp(diff))
    assert (f.ci_low, f.ci_high) == pytest.approx((math.exp(diff - half), math.exp(diff + half)))


@pytest.mark.parametrize("noise,warned", [(0.01, False), (0.25, True)])
def test_a_busy_machine_is_called_out(tmp_path, noise, warned):
    rng = np.random.default_rng(8)
    recs = [grid(kernel=k, repeat=r, times=noisy(t, noise, 3, rng))
            for k, t in ((3, 1.0), (5, 1.8), (7, 2.7)) for r in range(2)]
    f = _by_key(factor_effects(frame(tmp_path, recs)))
    assert ("time_noise_high" in f) is warned
