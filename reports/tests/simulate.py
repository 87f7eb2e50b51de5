"""Simulated benchmark sessions with a known truth, for the calibration tests (numpy only).

A session is blocks of runs: every case runs once per block in a random order (as the plugin
orders them), the A/A control case twice. A run's log epoch times are

    log t = log(true time of the case) + run offset + drift(when it ran) + epoch jitter

with a run offset common to all its epochs (SD ``run_sd``; one ``noisy`` case gets its own
larger SD), an AR(1) drift over the session's running order (coefficient ``phi``, innovation
SD ``drift_sd``) and independent jitter per epoch. Test accuracy per run: the case's true
accuracy plus a seed effect (SD ``seed_sd``), scored on ``test_size`` images (binomial).

With ``images`` set, every run instead classifies the session's one test set of that many
images (as every real run scores the same test split), and records which it got right: run r
of case c gets image i right when

    mu_c + seed_r > sqrt(shared)·z_i + sqrt(own)·w_ci + sqrt(1 − shared − own)·e_ri

with z_i the image's difficulty for every net, w_ci its difficulty for this net alone (both
fixed for the session: the test set), e_ri per run, all N(0, 1), and seed_r ~ N(0, seed_probit).
Over images and seeds P(right) = Phi(mu_c / sqrt(1 + seed_probit²)), so mu_c is set to make
that the case's true accuracy: the truth the intervals must cover.
The cells come out as ``reports.contrasts.Cell``, the analysis's own input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

from cnnbench.reports.contrasts import Cell, Run
from cnnbench.reports.stats import run_log_time

CENTRE = {"depth": 2, "kernel": 5, "stride": 1, "padding": "same", "pooling": "max",
          "width": 32}
# One-factor steps around the centre, as the quick profile runs them.
STEPS = ({}, {"depth": 1}, {"depth": 3}, {"kernel": 3}, {"kernel": 7}, {"stride": 2},
         {"padding": "valid"}, {"pooling": "none"})
CONTROL = "d2_k5_s1_same_max_w32"


def name(f: dict) -> str:
    return (f"d{f['depth']}_k{f['kernel']}_s{f['stride']}_{f['padding']}_{f['pooling']}"
            f"_w{f['width']}")


@dataclass
class Scenario:
    blocks: int = 5
    epochs: int = 2
    run_sd: float = 0.03  # run-to-run offset (3%)
    epoch_sd: float = 0.01
    drift_sd: float = 0.0  # AR(1) innovation SD over the running order
    phi: float = 0.9
    noisy: str | None = None  # a case whose run offsets have SD noisy_sd
    noisy_sd: float = 0.3
    effects: dict = field(default_factory=dict)  # case → true log time relative to the centre
    acc: dict = field(default_factory=dict)  # case → true accuracy (default 0.88)
    seed_sd: float = 0.01
    test_size: int = 10_000
    images: int = 0  # > 0: simulate per-image correctness on one fixed test set of this size
    shared: float = 0.6  # share of an image's latent difficulty common to every net
    own: float = 0.2  # share particular to each net (what makes two nets disagree on images)
    seed_probit: float = 0.05  # seed effect on the probit scale (≈ 1 pp of accuracy at 88%)


def session(sc: Scenario, rng: np.random.Generator) -> list[Cell]:
    points = [dict(CENTRE, **s) for s in STEPS]
    cells = {name(p): Cell(name(p), name(p), ("sim",), p, test_size=sc.test_size)
             for p in points}
    drift = 0.0
    if sc.images:
        z = rng.normal(size=sc.images)
        own = {c: rng.normal(size=sc.images) for c in cells}
        fixed = {c: math.sqrt(sc.shared) * z + math.sqrt(sc.own) * own[c] for c in cells}
        mu = {c: NormalDist().inv_cdf(sc.acc.get(c, 0.88)) * math.sqrt(1 + sc.seed_probit ** 2)
              for c in cells}
        for c in cells.values():
            c.test_size = sc.images
    for block in range(sc.blocks):
        todo = list(cells) + [CONTROL]  # the control runs twice per block
        order = rng.permutation(len(todo))
        seen = set()
        for pos, i in enumerate(order):
            case = todo[i]
            drift = sc.phi * drift + rng.normal(0, sc.drift_sd) if sc.drift_sd else 0.0
            sd = sc.noisy_sd if case == sc.noisy else sc.run_sd
            offset = rng.normal(0, sd)
            logs = (sc.effects.get(case, 0.0) + offset + drift
                    + rng.normal(0, sc.epoch_sd, sc.epochs))
            correct = None
            if sc.images:
                e = rng.normal(size=sc.images) * math.sqrt(1 - sc.shared - sc.own)
                correct = mu[case] + rng.normal(0, sc.seed_probit) > fixed[case] + e
                acc = float(correct.mean())
            else:
                p = min(0.999, max(0.001, sc.acc.get(case, 0.88) + rng.normal(0, sc.seed_sd)))
                acc = rng.binomial(sc.test_size, p) / sc.test_size
            control = case in seen
            seen.add(case)
            run = Run(block, pos, run_log_time(np.exp(logs)), acc, control, correct)
            (cells[case].controls if control else cells[case].runs).append(run)
    return list(cells.values())


def true_log_ratio(sc: Scenario, a: Cell, b: Cell) -> float:
    return sc.effects.get(b.case, 0.0) - sc.effects.get(a.case, 0.0)


def true_acc_diff(sc: Scenario, a: Cell, b: Cell) -> float:
    return sc.acc.get(b.case, 0.88) - sc.acc.get(a.case, 0.88)


def quick_effects() -> dict:
    """Plausible true log time ratios to the centre (2 idle cores, 4,096 images)."""
    return {name(dict(CENTRE, **s)): math.log(r) for s, r in (
        ({"depth": 1}, 0.6), ({"depth": 3}, 1.3), ({"kernel": 3}, 0.6), ({"kernel": 7}, 1.5),
        ({"stride": 2}, 0.45), ({"padding": "valid"}, 0.8), ({"pooling": "none"}, 2.0))}
