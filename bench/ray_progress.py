"""Progress of a sweep spread over a cluster: cases done / running / left, with an ETA.

A line per finished case always (logs, CI); a tqdm bar as well when stderr is a terminal.
The ETA is the throughput so far (finished cases per second of wall time) applied to the cases
not yet finished: honest once a few cases are in, and it needs no guess of per-case cost.
"""

from __future__ import annotations

import datetime as dt
import sys
import time

from tqdm import tqdm


def counts(total: int, done: int, pending: int, slots: int) -> tuple[int, int, int]:
    """(done, running, left): at most ``slots`` of the pending cases run at once."""
    running = min(pending, slots)
    return done, running, total - done - running


def eta_s(elapsed_s: float, done: int, total: int) -> float | None:
    if done == 0:
        return None
    return elapsed_s / done * (total - done)


def _fmt(seconds: float | None) -> str:
    return "?" if seconds is None else str(dt.timedelta(seconds=round(seconds)))


class Tracker:
    def __init__(self, total: int, slots: int, stream=None):
        self.total, self.slots, self.done = total, slots, 0
        self._t0 = time.monotonic()
        self._out = stream or sys.stdout
        err = sys.__stderr__
        self._bar = tqdm(total=total, unit="case", file=err, dynamic_ncols=True) \
            if err is not None and err.isatty() else None

    def line(self, record: dict, pending: int) -> str:
        done, running, left = counts(self.total, self.done, pending, self.slots)
        where = record.get("hostname") or "?"
        return (f"cnnbench: {record.get('case_id')} {record.get('status')} on {where}; "
                f"{done} done, {running} running, {left} left, "
                f"ETA {_fmt(eta_s(time.monotonic() - self._t0, done, self.total))}")

    def finished(self, record: dict, running: int) -> None:
        """One case came back; ``running`` is how many tasks are still pending."""
        self.done += 1
        text = self.line(record, running)
        if self._bar is not None:
            self._bar.update(1)
            self._bar.write(text, file=self._out)
        else:
            print(text, file=self._out, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
