import numpy as np
import pytest

from cnnbench.reports.claims import (
    CONTRADICTED,
    LITTLE_PP,
    NOTE,
    STEEP,
    SUPPORTED,
    UNRESOLVED,
    all_claims,
    reported_text,
)
from cnnbench.reports.findings import all_findings
from cnnbench.reports.tests.records import frame, grid, noisy, record


def _claims(tmp_path, recs):
    return {c.key: c for c in all_claims(frame(tmp_path, recs))}


def _repeats(make, accs, times, rng):
    """One record per accuracy in ``accs`` (a repeat each), epoch times ~``times`` ± 1%."""
    return [make(repeat=r, acc=a, times=noisy(times, 0.01, 2, rng)) for r, a in enumerate(accs)]


SPREAD = np.array([-0.002, 0.0, 0.002])  # seed-to-seed spread of test accuracy: 0.2 pp


def _depths(gain_per_layer, time_ratio, rng):
    recs = []
    for d in (1, 2, 3):
        acc = 0.85 + gain_per_layer * (d - 1) + SPREAD
        recs += _repeats(lambda d=d, **kw: grid(depth=d, **kw), acc, time_ratio ** (d - 1), rng)
    return recs


def test_000_depth_supported_and_contradicted(tmp_path):
    rng = np.random.default_rng(0)
    # d1 → d3: 2.25× slower, 0.2 pp more accurate: steep and little.
    c = _claims(tmp_path / "a", _depths(0.001, 1.5, rng))["claim_000_depth"]
    assert c.verdict == SUPPORTED and c.estimate == pytest.approx(2.25, rel=0.03)
    assert c.ci_low > STEEP
    # 3 pp per layer: a gain well beyond "little".
    c = _claims(tmp_path / "b", _depths(0.03, 1.5, rng))["claim_000_depth"]
    assert c.verdict == CONTRADICTED
    assert f"(little: within ±{LITTLE_PP:g} pp either way)" in c.statement
    assert "a gain" in c.statement and c.setting == "Fashion-MNIST, 4,096 images, 2 epochs"
    # "Little gain" is two-sided: a 15 pp loss (−5 pp per layer) is no little gain either.
    c = _claims(tmp_path / "loss", _depths(-0.05, 1.5, rng))["claim_000_depth"]
    assert c.verdict == CONTRADICTED and "a loss" in c.statement
    # Time flat across depth: not steep.
    c = _claims(tmp_path / "c", _depths(0.001, 1.0, rng))["claim_000_depth"]
    assert c.verdict == CONTRADICTED and c.ci_high < STEEP


def test_000_claims_missing_cases_name_the_k_expression(tmp_path):
    recs = [grid(repeat=r, acc=a) for r, a in enumerate(0.9 + SPREAD)]
    claims = _claims(tmp_path, recs)
    for key in ("claim_000_depth", "claim_000_kernel", "claim_000_stride"):
        assert claims[key].verdict in (UNRESOLVED, NOTE) and claims[key].add
        assert f"-k '{claims[key].add}'" in claims[key].statement


def test_000_kernel_and_stride(tmp_path):
    rng = np.random.default_rng(1)
    recs = []
    for k, t in ((3, 1.0), (5, 1.8), (7, 2.7)):
        recs += _repeats(lambda k=k, **kw: grid(kernel=k, **kw), 0.9 + SPREAD, t, rng)
    for s, acc in ((2, 0.86), (3, 0.80)):
        recs += _repeats(lambda s=s, **kw: grid(stride=s, **kw), acc + SPREAD, 1.8 / s, rng)
    for d, t in ((1, 0.5),):
        recs += _repeats(lambda d=d, **kw: grid(depth=d, **kw), 0.88 + SPREAD, t, rng)
    claims = _claims(tmp_path, recs)
    assert claims["claim_000_kernel"].verdict == SUPPORTED  # 2.7× slower, same accuracy
    # Stride: the study called its own test inconclusive: a note with its words, no verdict.
    stride = claims["claim_000_stride"]
    assert stride.verdict == NOTE and stride.estimate == pytest.approx(-10.0)
    assert "were not conclusive due to the simplicity of the dataset" in stride.statement
    # k3 → k7 (2.7×) costs more than d1 → d2 (1.8 / 0.5 = 3.6×)? No: less.
    kd = claims["claim_000_kernel_vs_depth"]
    assert kd.verdict == SUPPORTED and kd.estimate == pytest.approx(2.7 / 3.6, rel=0.03)


def _seed004(accs: dict, rng, **kw):
    recs = []
    for net, acc in accs.items():
        recs += _repeats(lambda net=net, **k: record(f"seed004_model_{net}", family="seed004",
                                                     **kw, **k), acc + SPREAD, 1.0, rng)
    return recs


def test_004_supported_contradicted_missing(tmp_path):
    rng = np.random.default_rng(2)
    c = _claims(tmp_path / "a", _seed004({"a": 0.90, "b": 0.87, "c": 0.93}, rng))
    assert c["claim_004_max_beats_avg"].verdict == SUPPORTED
    assert c["claim_004_max_beats_avg"].estimate == pytest.approx(3.0)
    assert c["claim_004_same_beats_valid"].verdict == CONTRADICTED
    # A 0.5 pp lead inside a 1 pp seed spread: the interval, not the estimate, decides.
    wide = [dict(r, test_accuracy=r["test_accuracy"] + 4 * (r["test_accuracy"] - acc))
            for r, acc in zip(_seed004({"a": 0.90, "b": 0.895}, rng), [0.90] * 3 + [0.895] * 3,
                              strict=True)]
    c = _claims(tmp_path / "w", wide)["claim_004_max_beats_avg"]
    assert c.estimate == pytest.approx(0.5) and c.ci_low < 0 < c.ci_high
    assert c.verdict == UNRESOLVED
    c = _claims(tmp_path / "b", _seed004({"a": 0.90}, rng))
    assert c["claim_004_max_beats_avg"].verdict == UNRESOLVED
    assert "-k 'seed004'" in c["claim_004_max_beats_avg"].statement
    # One seed per case: no verdict from seed spread, the resolution instead.
    one = [r for r in _seed004({"a": 0.90, "b": 0.85}, rng) if r["repeat"] == 0]
    c = _claims(tmp_path / "c", one)["claim_004_max_beats_avg"]
    assert c.verdict == UNRESOLVED and "1 seed per case: an estimate, no interval" in c.statement


def test_001_uses_the_corrected_pair_else_the_study_own(tmp_path):
    rng = np.random.default_rng(4)

    def lab4(kind, acc, bug=False):
        arch = f"seed001_lab4_{kind}pool" + ("_softmax_nll" if bug else "")
        return _repeats(lambda **kw: record(arch, family="seed001", **kw), acc + SPREAD, 1.0,
                        rng)

    c = _claims(tmp_path / "a", lab4("max", 0.88) + lab4("avg", 0.90))
    assert c["claim_001_avg_beats_max"].verdict == SUPPORTED
    c = _claims(tmp_path / "b", lab4("max", 0.90, True) + lab4("avg", 0.85, True))
    assert c["claim_001_avg_beats_max"].verdict == CONTRADICTED
    assert "seed001_lab4_avgpool_softmax_nll" in c["claim_001_avg_beats_max"].cases
    c = _claims(tmp_path / "c", lab4("max", 0.88))
    assert c["claim_001_avg_beats_max"].add == "seed001_lab4 and not softmax"


MNIST_98 = {"dataset": "mnist", "recipe": "seed", "test_accuracy": 0.98, "resolution": 0.01,
            "lower_bound": True, "accuracy_range": [0.98, 0.99]}


def test_reported_figures_only_beside_comparable_runs():
    assert reported_text(MNIST_98, "fashion-mnist", "seed", 0.91) == (
        "study: MNIST ≥98% (printed with integer division: a lower bound, [98, 99)%); "
        "this run: Fashion-MNIST, not comparable")
    same = reported_text(MNIST_98, "mnist", "seed", 0.985)
    assert same.endswith("this run: 98.5%")
    assert "not comparable" in reported_text(MNIST_98, "mnist", "uniform", 0.985)
    plain = dict(MNIST_98, lower_bound=False, test_accuracy=0.894)
    assert reported_text(plain, "fashion-mnist", "seed").startswith("study: MNIST 89.4%;")
    assert reported_text(None, "mnist") is None


def test_claims_reach_findings_with_reported_figures(tmp_path):
    rng = np.random.default_rng(5)
    recs = _seed004({"a": 0.90, "b": 0.87, "c": 0.88}, rng, reported=MNIST_98)
    f = {x.key: x for x in all_findings(frame(tmp_path, recs))}["claim_004_max_beats_avg"]
    assert f.kind == "claim" and f.study == "004" and f.verdict == SUPPORTED and f.conclusive
    assert f.metric == "accuracy" and f.ci_low > 0
    assert any("Fashion-MNIST, not comparable" in r for r in f.reported)


def test_000_time_claims_say_the_studys_timing_scope_differs(tmp_path):
    """Study 000 timed validation and its DataLoader too; our epochs exclude both. Every time
    verdict of study 000 says so beside it (Study vs run), in the recipe's own words (one copy:
    cnnbench/studies.py)."""
    from cnnbench.reports.claims import TIMING_CLAIMS_000, TIMING_NOTE_000

    claims = _claims(tmp_path, _depths(0.001, 1.5, np.random.default_rng(6)))
    note = f"Study 000's {TIMING_NOTE_000}"
    depth = claims["claim_000_depth"]
    assert depth.estimate is not None and note in depth.reported
    assert "validate() after every epoch" in note and "evaluation excluded" in note
    # No kernel cases here: no time compared, no note; the accuracy claims carry none.
    assert note not in claims["claim_000_kernel"].reported
    assert all(note not in c.reported for k, c in claims.items() if k not in TIMING_CLAIMS_000)
    f = {x.key: x for x in all_findings(frame(tmp_path / "f", _depths(0.001, 1.5,
                                                                        np.random.default_rng(6))))}
    assert "timing scope differs" in f["claim_000_depth"].statement
