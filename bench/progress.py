"""The progress bar: which case of how many, its epoch, loss and ETA, kept out of pytest's output.

It is drawn only on a terminal: when stderr is not a TTY (CI, logs, pipes) nothing is printed.
Under pytest, output capture is suspended around each redraw so the bar reaches the terminal
without ending up in a test's captured output.

Whether stderr is a terminal is asked *while capture is suspended*: pytest's capture points file
descriptor 2 at a temporary file for the whole session, so asking before suspending always says
"not a TTY".

Two levels:

* ``SuiteProgress`` -- the session: how many cases, which one runs, how long the finished ones
  took. The pytest plugin owns one per session and calls ``start_case`` / ``end_case``.
* ``Progress`` -- one case's bar over its epochs. Given a ``SuiteProgress`` its label reads
  ``[3/10, 2 done, 8 left, ~4m] <case id>``; without one, just the case id.
"""

from __future__ import annotations

import contextlib
import sys
import time

from tqdm import tqdm


class SuiteProgress:
    """The run as a whole: cases done and left, and a rough ETA from the finished cases' mean
    duration (cases differ in cost several-fold, hence the "~")."""

    def __init__(self, total: int):
        self.total = total
        self.index = 0  # 1-based position of the running case; 0 before the first
        self.done = 0
        self._durations: list[float] = []
        self._started: float | None = None

    def start_case(self, case_id: str, index: int, total: int | None = None) -> None:
        """Case ``index`` (1-based) of ``total`` starts; ``total`` may change (e.g. sharding)."""
        if total is not None:
            self.total = total
        self.case_id, self.index = case_id, index
        self._started = time.perf_counter()

    def end_case(self) -> None:
        if self._started is not None:
            self._durations.append(time.perf_counter() - self._started)
            self._started = None
        self.done += 1

    def eta_s(self) -> float | None:
        """Seconds left for the cases not yet finished, or None before the first one ends."""
        if not self._durations:
            return None
        return sum(self._durations) / len(self._durations) * max(self.total - self.done, 0)

    def describe(self) -> str:
        left = max(self.total - self.done, 0)
        text = f"[{self.index}/{self.total}, {self.done} done, {left} left"
        eta = self.eta_s()
        if eta is not None:
            text += f", ~{tqdm.format_interval(eta)}"
        return text + "]"


class Progress:
    """One case's bar over its epochs (``update`` once per epoch, then ``close``)."""

    def __init__(self, label: str, total: int, enabled: bool = True, suspend=None,
                 suite: SuiteProgress | None = None, stream=None):
        self._suspend = suspend or contextlib.nullcontext
        stream = stream or sys.__stderr__
        self._bar = None
        if not enabled or stream is None:
            return
        if suite is not None:
            label = f"{suite.describe()} {label}"
        with self._suspend():
            if stream.isatty():  # only now: outside the suspension fd 2 is pytest's temp file
                self._bar = tqdm(total=total, desc=label, unit="epoch", leave=False,
                                 file=stream, dynamic_ncols=True)

    @property
    def drawing(self) -> bool:
        return self._bar is not None

    def update(self, **fields) -> None:
        if self._bar is None:
            return
        with self._suspend():
            self._bar.set_postfix({k: f"{v:.4g}" if isinstance(v, float) else v
                                   for k, v in fields.items()}, refresh=False)
            self._bar.update(1)
            self._bar.refresh()  # epochs are seconds apart: always redraw, ignore mininterval

    def close(self) -> None:
        if self._bar is not None:
            with self._suspend():
                self._bar.close()
            self._bar = None
