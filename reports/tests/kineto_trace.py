"""A small GPU trace written to Kineto's trace schema, for tests that run HTA without a GPU.

NOT a recorded trace: no GPU is available where the tests run. The events are hand-built with
the fields PyTorch's profiler (Kineto) writes to ``*.pt.trace.json`` and that Holistic Trace
Analysis reads: ``traceEvents`` of complete events (``ph: "X"``, ``ts``/``dur`` in µs) with the
categories ``user_annotation`` (ProfilerStep#N), ``cpu_op``, ``cuda_runtime`` (the launches) and
``kernel`` / ``gpu_memcpy`` on the GPU (``pid`` = device, ``tid`` = stream), linked by
``args.correlation``; ``deviceProperties`` names the GPU. Like a single-GPU run's trace it has
no ``distributedInfo``. Tests derive every expectation from ``KERNELS`` below.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

HOST_PID = HOST_TID = 4242
STREAM = 7
STEP_US = 1000
STEPS = 2
# (name, category, start within the step in µs, duration in µs); no two overlap, so the GPU's
# busy time is their sum and its idle time the gaps between them.
KERNELS = [
    ("void cudnn::conv2d_grouped_direct_kernel<float>", "kernel", 100, 300),
    ("void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<float>>",
     "kernel", 450, 100),
    ("Memcpy HtoD (Pageable -> Device)", "gpu_memcpy", 600, 50),
]
NOTE = ("Hand-built to Kineto's trace schema for cnnbench's tests (no GPU available); not a "
        "recorded trace.")


def events() -> list[dict]:
    ev = []
    corr = 0
    for step in range(STEPS):
        base = step * STEP_US
        ev.append({"ph": "X", "cat": "user_annotation", "name": f"ProfilerStep#{step + 1}",
                   "pid": HOST_PID, "tid": HOST_TID, "ts": base, "dur": STEP_US,
                   "args": {"External id": 1000 + step}})
        for name, cat, start, dur in KERNELS:
            corr += 1
            ts = base + start
            ev.append({"ph": "X", "cat": "cpu_op", "name": "aten::conv2d", "pid": HOST_PID,
                       "tid": HOST_TID, "ts": ts - 80, "dur": 60,
                       "args": {"External id": corr, "Sequence number": corr}})
            launch = "cudaMemcpyAsync" if cat == "gpu_memcpy" else "cudaLaunchKernel"
            ev.append({"ph": "X", "cat": "cuda_runtime", "name": launch, "pid": HOST_PID,
                       "tid": HOST_TID, "ts": ts - 60, "dur": 20,
                       "args": {"External id": corr, "correlation": corr, "cbid": 211}})
            ev.append({"ph": "X", "cat": cat, "name": name, "pid": 0, "tid": STREAM, "ts": ts,
                       "dur": dur, "args": {"External id": corr, "correlation": corr,
                                            "device": 0, "stream": STREAM, "context": 1}})
    return ev


def write_trace(folder: Path, gz: bool = True) -> Path:
    """The trace file inside ``folder`` under the name the profiler gives it."""
    folder.mkdir(parents=True, exist_ok=True)
    doc = {"schemaVersion": 1, "cnnbench_fixture_note": NOTE,
           "deviceProperties": [{"id": 0, "name": "NVIDIA H100 80GB HBM3",
                                 "computeMajor": 9, "computeMinor": 0}],
           "traceEvents": events(), "traceName": "fixture", "displayTimeUnit": "ms",
           "baseTimeNanoseconds": 1_700_000_000_000_000_000}
    name = "bench-host_4242.1700000000000.pt.trace.json"
    if gz:
        path = folder / (name + ".gz")
        with gzip.open(path, "wt", encoding="utf-8") as f:
            json.dump(doc, f)
    else:
        path = folder / name
        path.write_text(json.dumps(doc), encoding="utf-8")
    return path
