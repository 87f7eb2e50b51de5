"""Builders of minimal runner records with known effects and known noise, for the findings tests.

Only the fields the findings read are set; ``frame`` writes them as a run's JSONL and loads them
the way the report does, so the tests go through ``load_runs``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from cnnbench.reports.load import load_runs

TEST_SIZE = 10_000


def grid(depth=2, kernel=5, stride=1, padding="same", pooling="max", width=32, **kw) -> dict:
    arch = f"grid_d{depth}_k{kernel}_s{stride}_{padding}_{pooling}_w{width}"
    return record(arch, family="grid", depth=depth, kernel_sizes=[kernel] * depth,
                  strides=[stride] * depth, padding=padding, pooling=pooling, width=width, **kw)


def record(arch: str, *, family: str, repeat=0, times=(1.0, 1.0, 1.0), acc=0.9, run="synthetic",
           dataset="fashion-mnist", status="ok", **kw) -> dict:
    rec = {"run_id": run, "case_id": f"{arch}-{dataset}-fp32-r{repeat}", "arch": arch,
           "family": family, "dataset": dataset, "precision": "fp32", "device": "cpu",
           "device_name": "test-cpu", "recipe": "uniform", "batch_size": 128, "epochs": len(times),
           "limit_train": 4096, "test_size": TEST_SIZE, "repeat": repeat, "seed": repeat,
           "status": status, "epoch_times_s": [float(t) for t in times],
           "test_accuracy": None if status != "ok" else float(acc)}
    rec.update(kw)
    return rec


def noisy(base: float, noise: float, n: int, rng: np.random.Generator) -> list[float]:
    """``n`` epoch times around ``base`` with relative (log-normal) noise ``noise``."""
    return [float(base * np.exp(rng.normal(0.0, noise))) for _ in range(n)]


def frame(tmp_path: Path, records: list[dict], name: str = "synthetic"):
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return load_runs(path)
