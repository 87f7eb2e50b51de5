import math

import numpy as np
import pytest

from reports.findings import all_findings, factor_effects
from reports.load import load_runs
from reports.stats import t_ppf
from reports.tests.synth import make_record, write_run


def _frame(tmp_path, records):
    write_run(tmp_path, "synthetic", records, json_too=False)
    return load_runs(tmp_path / "synthetic.jsonl")


def _grid_records(kernels=(5,), depths=(1, 2, 3, 4), repeats=2, seed=0, **kw):
    rng = np.random.default_rng(seed)
    recs = []
    for k in kernels:
        for d in depths:
            for r in range(repeats):
                base = 0.2 * 1.18 ** d * (1.3 if k == 3 else 1.0)
                times = [base * float(rng.normal(1, 0.01)) for _ in range(3)]
                acc = 0.9 + 0.004 * d + float(rng.normal(0, 0.002))
                recs.append(make_record(f"grid_d{d}_k{k}_s1_same_max_w32", repeat=r,
                                        run_id="synthetic", epoch_times_s=times,
                                        test_accuracy=acc, device="cuda", **kw))
    return recs


def _by_key(findings):
    return {f.key: f for f in findings}


def test_depth_effect_equals_polyfit(tmp_path):
    recs = _grid_records()
    f = _by_key(factor_effects(_frame(tmp_path, recs)))
    x = np.array([r["depth"] for r in recs], dtype=float)
    logt = np.log([np.median(r["epoch_times_s"]) for r in recs])
    slope, icpt = np.polyfit(x, logt, 1)
    time = f["depth_time"]
    assert time.estimate == pytest.approx(100 * (math.exp(slope) - 1))
    resid = logt - (slope * x + icpt)
    se = math.sqrt(resid @ resid / (len(x) - 2) / np.sum((x - x.mean()) ** 2))
    half = t_ppf(0.975, len(x) - 2) * se
    assert time.ci_low == pytest.approx(100 * (math.exp(slope - half) - 1))
    assert time.ci_high == pytest.approx(100 * (math.exp(slope + half) - 1))
    assert time.n == len(recs) and time.conclusive
    assert f"{time.estimate:+.0f}%" in time.statement
    acc_slope = np.polyfit(x, [100 * r["test_accuracy"] for r in recs], 1)[0]
    assert f["depth_acc"].estimate == pytest.approx(acc_slope)
    assert f["depth_acc"].unit == "pp"


def test_depth_effect_holds_other_factors_fixed(tmp_path):
    recs = _grid_records(kernels=(3, 5))
    f = _by_key(factor_effects(_frame(tmp_path, recs)))
    x = np.array([r["depth"] for r in recs], dtype=float)
    k3 = np.array([r["kernel_sizes"][0] == 3 for r in recs], dtype=float)
    logt = np.log([np.median(r["epoch_times_s"]) for r in recs])
    coef = np.linalg.lstsq(np.column_stack([x, k3, 1 - k3]), logt, rcond=None)[0]
    assert f["depth_time"].estimate == pytest.approx(100 * (math.exp(coef[0]) - 1))
    # Kernel size varies only between the two groups of each depth: 3 → 5 is "+2 px".
    kx = np.array([r["kernel_sizes"][0] for r in recs], dtype=float)
    dummies = np.column_stack([(x == d).astype(float) for d in (1, 2, 3, 4)])
    kcoef = np.linalg.lstsq(np.column_stack([kx, dummies]), logt, rcond=None)[0]
    assert f["kernel_time"].estimate == pytest.approx(100 * (math.exp(2 * kcoef[0]) - 1))


def test_not_conclusive_when_ci_spans_zero(tmp_path):
    recs = _grid_records(repeats=1)
    for r, acc in zip(recs, [0.90, 0.95, 0.90, 0.95], strict=True):
        r["test_accuracy"] = acc
    f = _by_key(factor_effects(_frame(tmp_path, recs)))["depth_acc"]
    assert f.estimate == pytest.approx(1.0)
    assert f.ci_low < 0 < f.ci_high
    assert f.conclusive is False and f.statement.startswith("Not conclusive")


def test_launch_bound_failures_and_missing_grid(tmp_path):
    recs = [make_record("seed000_net0", device="cuda", gpu_busy_fraction=0.3),
            make_record("seed004_model_a", device="cuda", gpu_busy_fraction=0.9),
            make_record("seed004_model_a", device="cuda", repeat=1, status="oom")]
    f = _by_key(all_findings(_frame(tmp_path, recs)))
    assert f["launch_bound"].estimate == 1 and f["launch_bound"].n == 2
    assert "seed000_net0" in f["launch_bound"].statement
    assert f["failures"].estimate == 1 and f["failures"].n == 3
    assert "1 oom" in f["failures"].statement
    assert "grid_missing" in f


def test_fixture_findings_are_consistent(fixture_df):
    for f in all_findings(fixture_df):
        assert f.statement
        if f.ci_low is not None:
            assert f.ci_low <= f.estimate <= f.ci_high
            assert f.conclusive == (f.ci_low > 0 or f.ci_high < 0)
