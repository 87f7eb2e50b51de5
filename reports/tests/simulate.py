"""Simulated benchmark sessions with a known truth, for the calibration tests (numpy only).

A session is blocks of runs: every case runs once per block in a random order (as the plugin
orders them), the A/A control case twice. A run's log epoch times are

    log t = log(true time of the case) + run offset + drift(when it ran) + epoch jitter

with a run offset common to all its epochs (SD ``run_sd``; one ``noisy`` case gets its own
larger SD), an AR(1) drift over the session's running order (coefficient ``phi``, innovation
SD ``drift_sd``) and independent jitter per epoch. Test accuracy per run: the case's true
accuracy plus a seed effect (SD ``seed_sd``), scored on ``test_size`` images (binomial).
The cells come out as ``reports.contrasts.Cell``, the analysis's own input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

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
    return f"d{f['depth']}_k{f['kernel']}_s{f['stride']}_{f['padding']}_{f['pooling']}_w{f['width']}"


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


def session(sc: Scenario, rng: np.random.Generator) -> list[Cell]:
    points = [dict(CENTRE, **s) for s in STEPS]
    cells = {name(p): Cell(name(p), name(p), ("sim",), p, test_size=sc.test_size)
             for p in points}
    drift = 0.0
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
            p = min(0.999, max(0.001, sc.acc.get(case, 0.88) + rng.normal(0, sc.seed_sd)))
            acc = rng.binomial(sc.test_size, p) / sc.test_size
            control = case in seen
            seen.add(case)
            run = Run(block, pos, run_log_time(np.exp(logs)), acc, control)
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
