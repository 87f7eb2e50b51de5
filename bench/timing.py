"""Timers: CUDA events on the GPU, the host clock only on the CPU, and the record says which.

Both time an epoch and each step without synchronizing inside the epoch: CUDA events are
recorded on the stream and read once at the end, so timing adds no host-device round trips.
"""

from __future__ import annotations

import time

import torch


class HostTimer:
    name = "host"

    def __init__(self):
        self._marks: list[float] = []

    def start(self) -> None:
        self._marks = [time.perf_counter()]

    def step(self) -> None:
        self._marks.append(time.perf_counter())

    def stop(self) -> tuple[float, list[float]]:
        """(epoch seconds, per-step milliseconds)."""
        m = self._marks
        return m[-1] - m[0], [(b - a) * 1e3 for a, b in zip(m, m[1:], strict=False)]


class CudaEventTimer:
    name = "cuda_event"

    def __init__(self, steps: int):
        # One event per step boundary, created once: creating events inside the loop costs
        # host time that would show up as launch overhead.
        self._events = [torch.cuda.Event(enable_timing=True) for _ in range(steps + 1)]
        self._n = 0

    def start(self) -> None:
        self._n = 0
        self._events[0].record()

    def step(self) -> None:
        self._n += 1
        if self._n >= len(self._events):  # more steps than planned (should not happen)
            self._events.append(torch.cuda.Event(enable_timing=True))
        self._events[self._n].record()

    def stop(self) -> tuple[float, list[float]]:
        ev = self._events[: self._n + 1]
        ev[-1].synchronize()
        steps = [a.elapsed_time(b) for a, b in zip(ev, ev[1:], strict=False)]
        return ev[0].elapsed_time(ev[-1]) / 1e3, steps


def make_timer(device: torch.device, steps: int) -> HostTimer | CudaEventTimer:
    return CudaEventTimer(steps) if device.type == "cuda" else HostTimer()


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)
