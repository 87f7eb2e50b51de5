"""Synthetic runner RECORDs with every schema field, for tests and the placeholder fixtures.

The numbers follow a simple cost model (fixed per-epoch overhead + time per FLOP) so plots and
findings have something plausible to show; tests derive expectations from the records, never
from the constants here.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from pathlib import Path

import numpy as np

GRID_RE = re.compile(r"^grid_d(\d+)_k(\d+)_s(\d+)_(valid|same)_(max|avg|none)_w(\d+)$")

# Hand-written stand-ins for two seed architectures: (kind, out_channels, kernel, stride, pad,
# pool after it).
SEEDS = {
    "seed000_net0": dict(family="seed000", tags=["seed"],
                         convs=[(32, 5, 1, 2, "max"), (64, 5, 1, 2, "max")], hidden=1024),
    "seed004_model_a": dict(family="seed004", tags=["seed", "faithful-bug"],
                            convs=[(32, 3, 1, 0, "max"), (64, 3, 1, 0, "max")], hidden=128),
}


def _arch(arch: str) -> dict:
    m = GRID_RE.match(arch)
    if m:
        d, k, s, pad, pool, w = m.groups()
        d, k, s, w = int(d), int(k), int(s), int(w)
        p = k // 2 if pad == "same" else 0
        return dict(family="grid", tags=["grid"], convs=[(w, k, s, p, pool)] * d, hidden=None,
                    padding=pad, pooling=pool)
    spec = dict(SEEDS[arch])
    spec.update(padding="same" if spec["convs"][0][3] else "valid", pooling="max")
    return spec


def layers_of(arch: str, shape=(1, 28, 28), classes=10) -> list[dict]:
    spec = _arch(arch)
    c, h, w = shape
    rf, jump, out, i = 1, 1, [], 0
    for oc, k, s, p, pool in spec["convs"]:
        i += 1
        h = (h - k + 2 * p) // s + 1
        w = (w - k + 2 * p) // s + 1
        rf, jump = rf + (k - 1) * jump, jump * s
        params = oc * c * k * k + oc
        out.append(dict(index=i, kind="conv", desc=f"conv {k}×{k} s{s} p{p} → {oc}",
                        out_shape=[oc, h, w], params=params, flops=2 * oc * c * k * k * h * w,
                        rf=rf, jump=jump))
        c = oc
        if pool != "none":
            i += 1
            h, w = h // 2, w // 2
            rf, jump = rf + jump, jump * 2
            out.append(dict(index=i, kind=f"{pool}pool", desc=f"{pool}pool 2", out_shape=[c, h, w],
                            params=0, flops=c * h * w * 4, rf=rf, jump=jump))
    feat = c * h * w
    i += 1
    out.append(dict(index=i, kind="flatten", desc="flatten", out_shape=[feat], params=0, flops=0,
                    rf=rf, jump=jump))
    dims = [feat] + ([spec["hidden"]] if spec["hidden"] else []) + [classes]
    for a, b in zip(dims[:-1], dims[1:], strict=True):
        i += 1
        out.append(dict(index=i, kind="linear", desc=f"linear {a} → {b}", out_shape=[b],
                        params=a * b + b, flops=2 * a * b, rf=rf, jump=jump))
    return out


def make_record(arch: str, *, run_id="cpu_run", repeat=0, status="ok", epochs=3, device="cpu",
                dataset="mnist", precision="fp32", seed=0, time_scale=1.0, acc_shift=0.0,
                **overrides) -> dict:
    spec = _arch(arch)
    layers = layers_of(arch)
    convs = spec["convs"]
    params = sum(lay["params"] for lay in layers)
    flops = sum(lay["flops"] for lay in layers)
    rng = np.random.default_rng(zlib.crc32(f"{arch}/{repeat}/{run_id}/{seed}".encode()))
    gpu = device == "cuda"
    train_size, val_size, test_size, batch = 4096, 512, 1024, 64
    steps = math.ceil(train_size / batch)
    # Cost model: per-step overhead plus time per training FLOP (3× forward).
    per_step = (4e-4 if gpu else 2e-3) + 3 * flops * batch / (2e12 if gpu else 4e10)
    base = per_step * steps * time_scale
    n_timed = epochs if status == "ok" else max(1, epochs - 2)
    times = [round(base * float(rng.normal(1.0, 0.02)), 6) for _ in range(n_timed)]
    depth = len(convs)
    kmax = max(c[1] for c in convs)
    acc_final = min(0.995, 0.90 + 0.015 * depth + 0.004 * kmax - 0.01 * max(c[2] for c in convs)
                    + acc_shift + float(rng.normal(0, 0.002)))
    val_acc = [round(acc_final - 0.05 / (e + 1), 4) for e in range(n_timed)]
    val_loss = [round(0.9 * (1 - a) * 4 + 0.05, 4) for a in val_acc]
    train_loss = [round(v * 1.1, 4) for v in val_loss]
    step_losses = [round(2.3 * math.exp(-i / 20) + 0.1 + float(rng.normal(0, 0.02)), 4)
                   for i in range(0, steps * n_timed, 4)]
    case_id = f"{arch}-{dataset}-{precision}-r{repeat}"
    diverged = status != "ok"
    if diverged:
        val_loss[-1] = None
        train_loss[-1] = None
    ok_time = sum(times)
    target = 0.93
    reached = next((i for i, a in enumerate(val_acc) if a >= target), None)
    rec = {
        "schema_version": 1, "run_id": run_id, "case_id": case_id, "arch": arch,
        "family": spec["family"], "tags": spec["tags"], "depth": depth,
        "kernel_sizes": [c[1] for c in convs], "strides": [c[2] for c in convs],
        "padding": spec["padding"], "pooling": spec["pooling"], "width": convs[0][0],
        "params": params, "flops_per_image": flops, "train_flops_per_image": 3 * flops,
        "receptive_field": layers[-1]["rf"],
        "activation_bytes_per_image": 4 * sum(math.prod(lay["out_shape"]) for lay in layers),
        "dataset": dataset, "data_source": "synthetic-mnist-like",
        "data_checksum": "sha256:3f1c9a0d5e2b7c44", "train_size": train_size,
        "val_size": val_size, "test_size": test_size, "loader": "resident",
        "recipe": "uniform", "optimizer": "sgd", "lr": 0.05, "momentum": 0.9,
        "batch_size": batch, "eval_batch_size": 512, "epochs": epochs, "loss_fn": "cross_entropy",
        "normalize_mean": [0.1307], "normalize_std": [0.3081],
        "precision": precision, "channels_last": False, "compile": None, "mode": "eager",
        "tf32": gpu, "device": device,
        "device_name": "NVIDIA H100 80GB HBM3" if gpu else "Intel(R) Xeon(R) CPU @ 2.20GHz",
        "torch_version": "2.14.1", "cuda_version": "12.8" if gpu else None,
        "cudnn_version": 91000 if gpu else None, "python_version": "3.11.2",
        "hostname": "bench-host", "timer": "cuda_event" if gpu else "host",
        "epoch_times_s": times,
        "step_time_ms_p50": round(1000 * per_step * time_scale, 4),
        "step_time_ms_p90": round(1100 * per_step * time_scale, 4),
        "images_per_s": round(train_size / float(np.median(times)), 1),
        "warmup_s": round(base * 0.3, 4), "compile_s": None,
        "train_loss": train_loss, "val_loss": val_loss, "val_accuracy": val_acc,
        "train_loss_steps": step_losses,
        "test_loss": None if diverged else round(val_loss[-1] * 1.02, 4),
        "test_accuracy": None if diverged else round(acc_final - 0.002, 4),
        "target_acc": target,
        "time_to_target_s": None if reached is None or diverged
        else round(sum(times[: reached + 1]), 4),
        "peak_memory_bytes": int(2**20 * (40 + params / 2e4)) if gpu else None,
        "gpu_busy_fraction": round(min(0.98, 0.2 + flops / 4e7), 3) if gpu else None,
        "top_ops": [
            {"name": "aten::convolution_backward", "calls": 2 * depth * steps,
             "self_device_ms": 410.2 if gpu else None, "self_cpu_ms": 820.5, "total_ms": 900.1},
            {"name": "aten::mkldnn_convolution" if not gpu else "aten::cudnn_convolution",
             "calls": depth * steps, "self_device_ms": 200.7 if gpu else None,
             "self_cpu_ms": 400.9, "total_ms": 450.0},
            {"name": "aten::max_pool2d_with_indices", "calls": depth * steps,
             "self_device_ms": 20.1 if gpu else None, "self_cpu_ms": 60.3, "total_ms": 61.0},
            {"name": "Optimizer.step#SGD.step", "calls": steps, "self_device_ms": 5.5 if gpu
             else None, "self_cpu_ms": 30.2, "total_ms": 35.7},
        ],
        "trace_dir": f"traces/{case_id}", "kernels_image": None, "feature_maps_image": None,
        "checkpoint": None, "layers": layers,
        "seed": seed + repeat, "repeat": repeat, "status": status,
        "error": "loss became NaN at epoch 2, step 37" if diverged else None,
        "started_at": "2025-11-23T07:40:00+00:00", "finished_at": "2025-11-23T07:40:09+00:00",
        "wall_s": round(ok_time * 1.4, 3),
    }
    rec.update(overrides)
    return rec


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
