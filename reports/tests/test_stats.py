import math

import numpy as np
import pytest
from scipy import stats as sps

from cnnbench.reports.stats import (
    SampleMean,
    binomial_se,
    difference,
    mean_ci,
    mean_difference,
    robust_sigma,
    slope_fit,
    t_ppf,
)

# Textbook two-sided 95% critical values.
T975 = {1: 12.7062, 2: 4.3027, 3: 3.1824, 4: 2.7764, 5: 2.5706, 10: 2.2281, 30: 2.0423,
        120: 1.9799}


@pytest.mark.parametrize("df,expected", sorted(T975.items()))
def test_t_ppf_matches_tables(df, expected):
    assert t_ppf(0.975, df) == pytest.approx(expected, abs=1e-4)
    assert t_ppf(0.025, df) == pytest.approx(-expected, abs=1e-4)


def test_t_ppf_rejects_bad_input():
    with pytest.raises(ValueError, match="p must be in"):
        t_ppf(1.0, 3)
    with pytest.raises(ValueError, match="df must be"):
        t_ppf(0.975, 0)


def test_mean_ci():
    x = [0.91, 0.93, 0.92, 0.95]
    ci = mean_ci(x)
    assert ci.mean == pytest.approx(np.mean(x))
    assert ci.half_width == pytest.approx(t_ppf(0.975, 3) * np.std(x, ddof=1) / 2)
    one = mean_ci([0.9, None, float("nan")])
    assert one.n == 1 and one.half_width is None and one.mean == 0.9
    assert mean_ci([]).n == 0


def test_slope_fit_equals_polyfit():
    rng = np.random.default_rng(1)
    x = np.repeat(np.arange(1, 7), 2).astype(float)
    y = 0.3 * x + 2 + rng.normal(0, 0.1, len(x))
    fit = slope_fit(x, y)
    slope, icpt = np.polyfit(x, y, 1)
    assert fit.slope == pytest.approx(slope)
    resid = y - (slope * x + icpt)
    se = math.sqrt(resid @ resid / (len(x) - 2) / np.sum((x - x.mean()) ** 2))
    assert fit.se == pytest.approx(se)
    assert fit.ci_high - fit.slope == pytest.approx(t_ppf(0.975, len(x) - 2) * se)
    assert fit.conclusive


def test_slope_fit_with_groups_equals_dummy_regression():
    rng = np.random.default_rng(2)
    x = np.tile([1.0, 2.0, 3.0, 4.0], 3)
    g = np.repeat(["a", "b", "c"], 4)
    y = 0.5 * x + np.repeat([0.0, 3.0, -2.0], 4) + rng.normal(0, 0.05, 12)
    # A group whose x never varies says nothing about the slope and is dropped.
    x = np.append(x, [2.0, 2.0])
    g = np.append(g, ["d", "d"])
    y = np.append(y, [9.0, 9.5])
    fit = slope_fit(x, y, list(g))
    sel = g != "d"
    X = np.column_stack([x[sel]] + [(g[sel] == k).astype(float) for k in "abc"])
    coef = np.linalg.lstsq(X, y[sel], rcond=None)[0]
    assert fit.slope == pytest.approx(coef[0])
    assert fit.n == 12 and fit.groups == 3 and fit.dof == 12 - 4


def test_slope_fit_none_without_variation_or_dof():
    assert slope_fit([1, 1, 1], [1, 2, 3]) is None
    assert slope_fit([1, 2], [1, 2]) is None  # two points: no residual degrees of freedom


def test_noise_helpers():
    assert robust_sigma([1.0]) == 0.0
    assert robust_sigma([1.0, 1.0, 1.0, 2.0]) > 0  # IQR 0.25 here, never a zero noise floor
    assert binomial_se(0.9, 10000) == pytest.approx(0.003)
    assert binomial_se(0.9, None) is None


def _mean(x):
    x = np.asarray(x, dtype=float)
    return SampleMean(x.mean(), x.var(ddof=1) / len(x) if len(x) > 1 else None,
                      len(x) - 1 if len(x) > 1 else None, len(x))


def test_difference_is_welch():
    a, b = [1.0, 1.1, 0.9, 1.05], [1.5, 1.6, 1.4]
    d = difference(_mean(a), _mean(b))
    ci = sps.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert (d.low, d.high) == pytest.approx((ci.low, ci.high))
    assert d.conclusive and d.n == 7
    assert difference(_mean(a), _mean([1.5])).conclusive is None


def test_shared_dof_and_mean_difference():
    a, b = SampleMean(0.90, 1e-4, 6, 3), SampleMean(0.92, 1e-4, 6, 3)
    d = difference(a, b, shared_dof=6)
    assert d.dof == 6 and d.high - d.estimate == pytest.approx(t_ppf(0.975, 6) * np.sqrt(2e-4))
    m = mean_difference([d, d], shared_dof=6)
    assert m.estimate == pytest.approx(0.02) and m.se == pytest.approx(np.sqrt(2e-4 / 2))



def test_one_definition_of_the_epoch_figures(tmp_path, monkeypatch):
    """load's derived columns, the per-case table and compare's median all come from
    stats.epoch_stats: a stand-in for it shows up in each of them."""
    from cnnbench.reports import compare, load, stats, tables
    from cnnbench.reports.tests.records import frame, grid

    e = stats.epoch_stats([1.0, 2.0, 4.0, 3.0])
    assert (e.median, e.q1, e.q3, e.total, e.n) == (2.5, 1.75, 3.25, 10.0, 4)
    assert e.std == pytest.approx(np.std([1, 2, 3, 4], ddof=1))
    fake = stats.EpochStats(7.0, 6.0, 8.0, 7.5, 0.5, 2, 99.0)
    for mod in (load, tables, compare):
        monkeypatch.setattr(mod, "epoch_stats", lambda times, fake=fake: fake)
    df = frame(tmp_path, [grid(repeat=r, block=r, times=[1.0, 2.0]) for r in range(2)])
    assert (df["epoch_time_median_s"] == 7.0).all() and (df["train_time_s"] == 99.0).all()
    s = tables.summarize_cases(df)
    assert s["epoch_time_median_s"].iloc[0] == 7.0 and s["epoch_time_iqr_s"].iloc[0] == 2.0
    assert compare.side_stats(df).time_median == 7.0
