"""The untimed profiler window: a TensorBoard/Perfetto trace plus the suite's own summary.

The trace is written by ``tensorboard_trace_handler`` (open it with TensorBoard and the
torch-tb-profiler plugin, or drop the ``.pt.trace.json.gz`` into Perfetto). The summary -- top
ops and the GPU-busy fraction -- is computed here from the profiler's events, so the report never
depends on the deprecated plugin.

Memory is profiled too (``profile_memory=True``): every allocation and free is recorded, which
the plugin's Memory view (curve and events per device) needs. The window is untimed, so this
costs wall time and trace size only, never a benchmark number; see PROFILE_MEMORY.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile, schedule, tensorboard_trace_handler

TOP_OPS = 10
# The profiler's own per-step markers ("ProfilerStep#3"): each spans a whole step, so its
# self time is the step's un-attributed host time, not an op; left out of the top ops.
STEP_MARKER = "ProfilerStep"
# Measured on seed000_net0, batch 128, the default 1 + 2 + 5 step window, 6 runs each on a
# 2-core CPU shared with other jobs: step 688 ms with memory profiling vs 735 ms without and the
# whole window 6.2 s vs 6.5 s (no difference above that machine's noise), trace 34 vs 24 KiB
# (+40%). Not yet measured on a GPU, where it records CUDA caching-allocator events as well.
PROFILE_MEMORY = True


def run_window(step: Callable[[], None], device: torch.device, trace_dir: Path | None,
               worker: str, wait: int, warmup: int, active: int) -> dict:
    """Run ``wait + warmup + active`` steps under the profiler; return the summary fields."""
    activities = [ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(ProfilerActivity.CUDA)
    handler = None
    if trace_dir is not None:
        trace_dir.mkdir(parents=True, exist_ok=True)
        handler = tensorboard_trace_handler(str(trace_dir), worker_name=worker, use_gzip=True)
    sched = schedule(wait=wait, warmup=warmup, active=active, repeat=1)
    active_wall = 0.0
    with profile(activities=activities, schedule=sched, on_trace_ready=handler,
                 profile_memory=PROFILE_MEMORY) as prof:
        for i in range(wait + warmup + active):
            in_active = i >= wait + warmup
            if in_active and device.type == "cuda":
                torch.cuda.synchronize(device)
            t0 = time.perf_counter()
            step()
            if in_active:
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                active_wall += time.perf_counter() - t0
            prof.step()
    return summarize(prof, device, active_wall, active, trace_dir)


def summarize(prof, device: torch.device, active_wall_s: float, active_steps: int,
              trace_dir: Path | None) -> dict:
    on_gpu = device.type == "cuda"
    averages = prof.key_averages()

    def self_device_us(evt) -> float:
        return float(getattr(evt, "self_device_time_total", 0.0) or 0.0)

    key = self_device_us if on_gpu else (lambda e: float(e.self_cpu_time_total))
    ops = [e for e in averages if not e.key.startswith(STEP_MARKER)]
    rows = sorted(ops, key=key, reverse=True)[:TOP_OPS]
    top_ops = [
        {
            "name": evt.key,
            "calls": int(evt.count),
            "self_device_ms": self_device_us(evt) / 1e3 if on_gpu else None,
            "self_cpu_ms": float(evt.self_cpu_time_total) / 1e3,
            "total_ms": float(evt.device_time_total if on_gpu else evt.cpu_time_total) / 1e3,
        }
        for evt in rows
    ]
    busy = None
    if on_gpu and active_wall_s > 0:
        # Kernel time on the device over the wall time of the recorded steps (each step was
        # synchronized, so wall time includes every launch gap). One stream: kernels don't
        # overlap, so their sum is the busy time. Near 1: compute-bound; well below 0.5:
        # launch- or input-bound.
        kernel_us = sum(self_device_us(e) for e in averages
                        if getattr(e, "device_type", None) == torch.autograd.DeviceType.CUDA)
        if kernel_us == 0:  # older torch: kernels are attributed to their CPU ops
            kernel_us = sum(self_device_us(e) for e in averages)
        busy = min(1.0, kernel_us / 1e6 / active_wall_s)
    traces = sorted(str(p) for p in trace_dir.glob("*.pt.trace.json*")) if trace_dir else []
    return {
        "top_ops": top_ops,
        "gpu_busy_fraction": busy,
        "profile_step_ms": active_wall_s / active_steps * 1e3 if active_steps else None,
        "trace_files": traces,
    }
