"""A per-case progress bar (epoch, loss, accuracy, ETA) that stays out of pytest's output.

It is drawn only on a terminal: when stderr is not a TTY (CI, logs, pipes) nothing is printed.
Under pytest, output capture is suspended around each redraw so the bar reaches the terminal
without ending up in a test's captured output.
"""

from __future__ import annotations

import contextlib
import sys

from tqdm import tqdm


class Progress:
    def __init__(self, label: str, total: int, enabled: bool = True, suspend=None):
        self._suspend = suspend or contextlib.nullcontext
        stream = sys.__stderr__
        self._bar = None
        if enabled and stream is not None and stream.isatty():
            with self._suspend():
                self._bar = tqdm(total=total, desc=label, unit="epoch", leave=False, file=stream,
                                 dynamic_ncols=True)

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
