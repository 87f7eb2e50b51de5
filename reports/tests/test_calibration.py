"""Calibration of the time and accuracy contrasts on simulated sessions with a known truth.

Each scenario simulates 200 sessions (reports/tests/simulate.py) and puts them through the
analysis's own functions (contrasts.factor_contrasts, trend, correct, controls). Asserted: the
95% intervals cover the truth at least 90% of the time, and under a global null the family-wise
rate of false "conclusive" verdicts (after the margin and Holm) is at most 10%. Pure numpy:
no timing enters an assert.

Accuracy is calibrated twice: with per-run binomial accuracies (records without per-image
correctness: the seed variance plus the unpaired binomial bound) and with per-image correctness
on one fixed test set (the paired method: the nets paired on the same images).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from cnnbench.reports import contrasts as C
from cnnbench.reports.tests.simulate import (
    CONTROL,
    Scenario,
    quick_effects,
    session,
    true_acc_diff,
    true_log_ratio,
)

SIMS = 200


def _steps(cells, metric="time"):
    return [c for f in C.FACTORS for c in C.factor_contrasts(cells, f, metrics=(metric,))]


def _pairs(cells, c):
    """The (a, b) cells of a one-context contrast, by its case names."""
    by = {x.arch: x for x in cells}
    a, b = c.cases if by[c.cases[0]].factors[c.factor] == _level(c.a) else c.cases[::-1]
    return by[a], by[b]


def _level(lbl):
    return int(lbl[1:]) if lbl[:1] in "dksw" and lbl[1:].isdigit() else lbl


def coverage(sc: Scenario, seed: int, metric="time", only=None):
    rng = np.random.default_rng(seed)
    hit = n = 0
    for _ in range(SIMS):
        cells = session(sc, rng)
        for c in _steps(cells, metric):
            if only and only not in c.cases:
                continue
            a, b = _pairs(cells, c)
            truth = true_log_ratio(sc, a, b) if metric == "time" else true_acc_diff(sc, a, b)
            n += 1
            hit += c.diff.low <= truth <= c.diff.high
    return hit / n


def false_conclusive(sc: Scenario, seed: int, metric="time"):
    """Share of sessions with at least one conclusive verdict (the truth is all-null)."""
    rng = np.random.default_rng(seed)
    bad = 0
    for _ in range(SIMS):
        cells = session(sc, rng)
        fam = _steps(cells, metric)
        fam += [t for f in C.ORDINAL if (t := C.trend(cells, f, metric))]
        C.correct(fam)
        bad += any(c.conclusive for c in fam)
    return bad / SIMS


# Each scenario's result is printed (pytest -s) so the README's table can be checked.
@pytest.mark.parametrize("name,sc", [
    ("3% run offsets, 5 blocks × 2 epochs", Scenario()),
    ("3% offsets, 3 blocks", Scenario(blocks=3)),
    ("autocorrelated drift (AR(1) 0.9, 2%/run)", Scenario(drift_sd=0.02)),
    ("true effects 0.45×–2×", Scenario(effects=quick_effects())),
])
def test_time_intervals_cover(name, sc):
    cov = coverage(sc, 1)
    print(f"time coverage, {name}: {cov:.3f}")
    assert cov >= 0.90


def test_a_noisy_cell_does_not_spoil_its_own_or_others_coverage():
    noisy = "d1_k5_s1_same_max_w32"
    sc = Scenario(noisy=noisy, noisy_sd=0.3)
    own, all_ = coverage(sc, 2, only=noisy), coverage(sc, 2)
    print(f"time coverage, one cell at 30%: its contrasts {own:.3f}, all {all_:.3f}")
    assert own >= 0.90 and all_ >= 0.90
    rng = np.random.default_rng(3)
    flagged = sum(noisy in {n.case for n in C.noisy_cells(session(sc, rng))}
                  for _ in range(50))
    assert flagged >= 40  # 30% against 3%: flagged in most sessions


@pytest.mark.parametrize("name,sc", [
    ("global null, 3% offsets", Scenario()),
    ("global null, drift", Scenario(drift_sd=0.02)),
    ("global null, one noisy cell", Scenario(noisy="d3_k5_s1_same_max_w32")),
    ("global null, 3 blocks", Scenario(blocks=3)),
])
def test_family_wise_false_conclusive_under_the_global_null(name, sc):
    rate = false_conclusive(sc, 4)
    print(f"time false-conclusive (family-wise), {name}: {rate:.3f}")
    assert rate <= 0.10


def test_the_a_a_control_passes_an_honest_session_and_catches_a_biased_one():
    rng = np.random.default_rng(5)
    failed = sum(C.controls(session(Scenario(drift_sd=0.02), rng))[0].failed
                 for _ in range(SIMS))
    print(f"A/A control false alarms under drift: {failed / SIMS:.3f}")
    assert failed / SIMS <= 0.10
    # The second copy always runs 20% slower (e.g. a cache cold only for it): caught.
    caught = 0
    for _ in range(SIMS):
        cells = session(Scenario(), rng)
        ctl = next(c for c in cells if c.case == CONTROL)
        for r in ctl.controls:
            r.log_time += np.log(1.2)
        caught += C.controls(cells)[0].failed
    assert caught / SIMS >= 0.9


def test_true_effects_are_called_with_the_quick_design():
    rng = np.random.default_rng(6)
    sc = Scenario(effects=quick_effects())
    called = []
    for _ in range(SIMS):
        cells = session(sc, rng)
        fam = _steps(cells)
        C.correct(fam)
        called.append({c.factor for c in fam if c.conclusive})
    power = {f: np.mean([f in s for s in called]) for f in C.FACTORS[:5]}
    print(f"power, quick design (5 blocks): {power}")
    assert min(power.values()) >= 0.8


@pytest.mark.parametrize("name,sc", [
    ("accuracy, 1 pp seed SD, 5 seeds", Scenario()),
    ("accuracy, 3 seeds, true differences", Scenario(blocks=3, acc={
        "d1_k5_s1_same_max_w32": 0.85, "d3_k5_s1_same_max_w32": 0.90})),
])
def test_accuracy_intervals_cover(name, sc):
    cov = coverage(sc, 7, "accuracy")
    print(f"accuracy coverage, {name}: {cov:.3f}")
    assert cov >= 0.90


def test_accuracy_false_conclusive_under_the_global_null():
    rate = false_conclusive(Scenario(), 8, "accuracy")
    print(f"accuracy false-conclusive (family-wise): {rate:.3f}")
    assert rate <= 0.10


def test_two_seeds_give_no_accuracy_interval():
    cells = session(Scenario(blocks=2), np.random.default_rng(9))
    acc = _steps(cells, "accuracy")
    assert acc and all(c.diff.low is None for c in acc)
    C.correct(acc)
    assert {c.verdict for c in acc} == {C.FEW_SEEDS}


# ---------------------------------------------------------------- paired on the test images

PAIRED_SCENARIOS = {
    "null, 5 seeds": Scenario(images=2000),
    "true differences 85% vs 90%, 3 seeds": Scenario(images=2000, blocks=3, acc={
        "d1_k5_s1_same_max_w32": 0.85, "d3_k5_s1_same_max_w32": 0.90}),
    # No seed effect; half of each image's difficulty is the net's own: the test set's part of
    # the variance dominates, and it does not shrink with the seeds.
    "images dominate, null": Scenario(images=2000, shared=0.3, own=0.5, seed_probit=0.0),
}


@functools.cache
def paired(name: str) -> dict:
    """One pass over SIMS sessions of a scenario: coverage of the accuracy steps' 95%
    intervals, coverage of the seed part alone (the interval without the images' variance),
    the family-wise false-conclusive rate (steps and trends, Holm) and the methods used."""
    sc = PAIRED_SCENARIOS[name]
    rng = np.random.default_rng(11)
    hit = seed_hit = n = bad = 0
    methods = set()
    for _ in range(SIMS):
        cells = session(sc, rng)
        fam = _steps(cells, "accuracy")
        for c in fam:
            truth = true_acc_diff(sc, *_pairs(cells, c))
            seed_only = C.one_sample(list(c.per_block.values()))
            n += 1
            hit += c.diff.low <= truth <= c.diff.high
            seed_hit += seed_only.low <= truth <= seed_only.high
        fam += [t for f in C.ORDINAL if (t := C.trend(cells, f, "accuracy"))]
        methods |= {c.method for c in fam}
        C.correct(fam)
        bad += any(c.conclusive for c in fam)
    return {"coverage": hit / n, "seed_only": seed_hit / n, "false": bad / SIMS,
            "methods": methods}


@pytest.mark.parametrize("name", list(PAIRED_SCENARIOS))
def test_paired_accuracy_intervals_cover(name):
    r = paired(name)
    print(f"paired accuracy coverage, {name}: {r['coverage']:.3f} "
          f"(seed part alone {r['seed_only']:.3f})")
    assert r["methods"] == {C.PAIRED_IMAGES}
    assert r["coverage"] >= 0.90


def test_the_images_variance_is_needed_where_it_dominates():
    # The scenario discriminates: without the test images' part the interval under-covers.
    assert paired("images dominate, null")["seed_only"] < 0.85


@pytest.mark.parametrize("name", ["null, 5 seeds", "images dominate, null"])
def test_paired_accuracy_false_conclusive_under_the_global_null(name):
    rate = paired(name)["false"]
    print(f"paired accuracy false-conclusive (family-wise), {name}: {rate:.3f}")
    assert rate <= 0.10
