"""Synthetic runner records for tests: real architecture facts (``models.describe``), the real
record schema (``cnnbench.record``), made-up measurements.

The numbers follow a simple cost model (fixed per-epoch overhead + time per FLOP) so plots and
findings have something plausible to show; tests derive expectations from the records, never
from the constants here.
"""

from __future__ import annotations

import functools
import json
import math
import zlib
from pathlib import Path

import numpy as np

from cnnbench import record as records


@functools.cache
def _describe(arch: str) -> dict:
    from cnnbench import models

    return models.describe(arch)


def layers_of(arch: str) -> list[dict]:
    """The architecture's layer table as the runner records it (models' own analysis)."""
    return _describe(arch)["layers"]


def make_record(name: str, *, run_id="cpu_run", repeat=0, status="ok", epochs=3, device="cpu",
                dataset="mnist", precision="fp32", seed=0, time_scale=1.0, acc_shift=0.0,
                **overrides) -> dict:
    """A flat record of architecture ``name`` (a registered or grid name): its architecture
    facts come from ``models.describe``, its shape from ``cnnbench.record``; the measurements
    follow the cost model. ``overrides`` replace fields last."""
    desc = _describe(name)
    arch = records.pick(records.Architecture, desc)
    rng = np.random.default_rng(zlib.crc32(f"{name}/{repeat}/{run_id}/{seed}".encode()))
    gpu = device == "cuda"
    train_size, batch = 4096, 64
    steps = math.ceil(train_size / batch)
    # Cost model: per-step overhead plus time per training FLOP (3× forward).
    per_step = (4e-4 if gpu else 2e-3) + 3 * arch.flops_per_image * batch / (2e12 if gpu
                                                                              else 4e10)
    base = per_step * steps * time_scale
    n_timed = epochs if status == "ok" else max(1, epochs - 2)
    times = [round(base * float(rng.normal(1.0, 0.02)), 6) for _ in range(n_timed)]
    acc_final = min(0.995, 0.90 + 0.015 * arch.depth + 0.004 * max(arch.kernel_sizes)
                    - 0.01 * max(arch.strides) + acc_shift + float(rng.normal(0, 0.002)))
    rec = records.Record(
        case=records.Case(name, dataset, precision, "resident", "eager", repeat, seed + repeat,
                          "uniform", run_id, started_at="2025-11-23T07:40:00+00:00",
                          finished_at="2025-11-23T07:40:09+00:00",
                          wall_s=round(sum(times) * 1.4, 3)),
        architecture=arch, environment=_environment(gpu),
        data=records.Data(data_source="synthetic-mnist-like", data_origin="synthetic",
                          data_checksum="3f1c9a0d5e2b7c44", train_size=train_size, val_size=512,
                          test_size=1024, normalize_mean=0.1307, normalize_std=0.3081),
        conditions=records.Conditions(
            optimizer="sgd", lr=0.05, momentum=0.9, batch_size=batch, eval_batch_size=512,
            epochs=epochs, loss_fn="cross_entropy", drop_last=False, channels_last=False,
            mode="eager", tf32=gpu, target_acc=0.93, timer="cuda_event" if gpu else "host"),
        timing=_timing(times, per_step * time_scale, base, train_size, gpu, arch.params),
        outcome=_outcome(acc_final, n_timed, steps, status, rng),
        profile=_profile(arch.depth, steps, gpu, arch.flops_per_image),
    )
    rec.case.case_id = records.case_id_of(rec)
    rec.profile.trace_dir = f"traces/{rec.case.case_id}"
    flat = records.to_json(rec)
    acc = flat["val_accuracy"]
    reached = next((i for i, a in enumerate(acc) if a >= 0.93), None)
    if reached is not None and status == "ok":
        flat["time_to_target_s"] = round(sum(times[: reached + 1]), 4)
    flat.update(overrides)
    return flat


def _environment(gpu: bool) -> records.Environment:
    return records.Environment(
        "cuda" if gpu else "cpu",
        "NVIDIA H100 80GB HBM3" if gpu else "Intel(R) Xeon(R) CPU @ 2.20GHz",
        torch_version="2.14.1", cuda_version="12.8" if gpu else None,
        cudnn_version=91000 if gpu else None, python_version="3.11.2", hostname="bench-host")


def _timing(times, step_s, base, train_size, gpu, params) -> records.Timing:
    return records.Timing(
        warmup_s=round(base * 0.3, 4), epoch_times_s=times, images_per_epoch=train_size,
        epoch_time_median_s=float(np.median(times)),
        images_per_s=round(train_size / float(np.median(times)), 1),
        step_time_ms_p50=round(1000 * step_s, 4), step_time_ms_p90=round(1100 * step_s, 4),
        train_time_s=sum(times),
        peak_memory_bytes=int(2**20 * (40 + params / 2e4)) if gpu else None)


def _outcome(acc_final, n_timed, steps, status, rng) -> records.Outcome:
    val_acc = [round(acc_final - 0.05 / (e + 1), 4) for e in range(n_timed)]
    val_loss = [round(0.9 * (1 - a) * 4 + 0.05, 4) for a in val_acc]
    train_loss = [round(v * 1.1, 4) for v in val_loss]
    step_losses = [round(2.3 * math.exp(-i / 20) + 0.1 + float(rng.normal(0, 0.02)), 4)
                   for i in range(0, steps * n_timed, 4)]
    failed = status != "ok"
    if failed:
        val_loss[-1] = train_loss[-1] = None
    return records.Outcome(
        status=status, error="loss became NaN at epoch 2, step 37" if failed else None,
        train_loss=train_loss, val_loss=val_loss, val_accuracy=val_acc,
        train_loss_steps=step_losses,
        test_loss=None if failed else round(val_loss[-1] * 1.02, 4),
        test_accuracy=None if failed else round(acc_final - 0.002, 4))


def _profile(depth, steps, gpu, flops) -> records.Profile:
    def op(name, calls, device_ms, cpu_ms, total_ms):
        return {"name": name, "calls": calls, "self_device_ms": device_ms if gpu else None,
                "self_cpu_ms": cpu_ms, "total_ms": total_ms}

    return records.Profile(
        top_ops=[op("aten::convolution_backward", 2 * depth * steps, 410.2, 820.5, 900.1),
                 op("aten::cudnn_convolution" if gpu else "aten::mkldnn_convolution",
                    depth * steps, 200.7, 400.9, 450.0),
                 op("aten::max_pool2d_with_indices", depth * steps, 20.1, 60.3, 61.0),
                 op("Optimizer.step#SGD.step", steps, 5.5, 30.2, 35.7)],
        gpu_busy_fraction=round(min(0.98, 0.2 + flops / 4e7), 3) if gpu else None)


def benchmark_entry(rec: dict) -> dict:
    """A pytest-benchmark ``benchmarks[]`` entry whose stats are over the record's epochs."""
    t = np.asarray(rec["epoch_times_s"], dtype=float)
    q1, med, q3 = np.percentile(t, [25, 50, 75])
    iqr = q3 - q1
    mean = float(t.mean())
    sd = float(t.std(ddof=1)) if len(t) > 1 else 0.0
    return {
        "group": rec["family"], "name": f"test_train[{rec['case_id']}]",
        "fullname": f"bench/test_train.py::test_train[{rec['case_id']}]",
        "params": {"case": rec["case_id"]}, "param": rec["case_id"], "extra_info": dict(rec),
        "options": {"disable_gc": False, "timer": "perf_counter", "min_rounds": 1,
                    "max_time": 1.0, "min_time": 5e-06, "warmup": False},
        "stats": {"min": float(t.min()), "max": float(t.max()), "mean": mean, "stddev": sd,
                  "rounds": len(t), "median": float(med), "iqr": float(iqr), "q1": float(q1),
                  "q3": float(q3), "iqr_outliers": 0, "stddev_outliers": 0, "outliers": "0;0",
                  "ld15iqr": float(t.min()), "hd15iqr": float(t.max()),
                  "ops": 1 / mean, "total": float(t.sum()), "iterations": 1,
                  "data": [float(v) for v in t]},
    }


def benchmark_doc(records: list[dict]) -> dict:
    return {
        "machine_info": {"node": "bench-host", "processor": "x86_64", "machine": "x86_64",
                         "python_implementation": "CPython", "python_version": "3.11.2",
                         "cpu": {"brand_raw": "Intel(R) Xeon(R) CPU @ 2.20GHz", "count": 2}},
        "commit_info": {"id": "0123456789abcdef0123456789abcdef01234567", "time": None,
                        "author_time": None, "dirty": True, "project": "cnnbench",
                        "branch": "main"},
        "benchmarks": [benchmark_entry(r) for r in records if r["status"] == "ok"],
        "datetime": "2025-11-23T07:41:00.000000+00:00", "version": "5.2.3",
    }


def write_run(directory: Path, name: str, records: list[dict], json_too: bool = True) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    jsonl = directory / f"{name}.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    paths = [jsonl]
    if json_too:
        js = directory / f"{name}.json"
        js.write_text(json.dumps(benchmark_doc(records), indent=1), encoding="utf-8")
        paths.append(js)
    return paths


FIXTURE_CASES = [
    ("seed000_net0", 2, "ok"), ("seed004_model_a", 1, "ok"),
    ("grid_d1_k5_s1_same_max_w32", 2, "ok"), ("grid_d2_k5_s1_same_max_w32", 2, "ok"),
    ("grid_d3_k5_s1_same_max_w32", 1, "ok"), ("grid_d2_k3_s1_same_max_w32", 1, "ok"),
    ("grid_d2_k7_s1_same_max_w32", 1, "ok"), ("grid_d2_k5_s2_same_max_w32", 1, "ok"),
    ("grid_d2_k5_s1_same_max_w16", 1, "ok"), ("grid_d4_k3_s1_same_none_w32", 1, "diverged"),
]


def fixture_records(**kw) -> list[dict]:
    return [make_record(arch, repeat=r, status=status, **kw)
            for arch, n, status in FIXTURE_CASES for r in range(n)]
