"""The progress bar reaches a real terminal, under pytest's capture too, and nothing else.

No faked ``isatty``: the terminal is a pseudo-terminal (``os.openpty``), which is a TTY to the
kernel exactly as an xterm is.
"""

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from cnnbench.bench.progress import Progress, SuiteProgress

REPO = Path(__file__).resolve().parents[2]


def _pty(cols: int = 160, rows: int = 40) -> tuple[int, int]:
    master, slave = os.openpty()
    # A fresh pty is 0x0; tqdm sizes the bar from the window, as on a real terminal.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    return master, slave


def _drain(master: int) -> bytes:
    out = b""
    while select.select([master], [], [], 0)[0]:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        out += chunk
    return out


class CountingSuspend:
    """Counts how often the bar suspended pytest's capture (a stand-in for capman's)."""

    def __init__(self):
        self.n = 0

    def __call__(self):
        self.n += 1
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_progress_draws_on_a_terminal_inside_the_suspension():
    master, slave = _pty()
    with open(slave, "w", closefd=True) as tty:
        suspend = CountingSuspend()
        suite = SuiteProgress(total=10)
        suite.start_case("seed000_net0-fashion-mnist-fp32-r0", index=3)
        p = Progress("seed000_net0-fashion-mnist-fp32-r0", total=2, suspend=suspend, suite=suite,
                     stream=tty)
        assert p.drawing
        p.update(epoch=1, loss=0.51234, val_acc=0.8)
        p.close()
        tty.flush()
        screen = _drain(master).decode()
    os.close(master)
    assert "[3/10, 0 done, 10 left] seed000_net0-fashion-mnist-fp32-r0" in screen
    assert "1/2" in screen and "loss=0.5123" in screen and "val_acc=0.8" in screen
    # The TTY check, creation, the update and close each ran with pytest's capture suspended.
    assert suspend.n == 3


def test_progress_is_silent_without_a_terminal(tmp_path):
    with open(tmp_path / "log", "w") as log:  # a file, as stderr is in CI
        p = Progress("case", total=1, stream=log)
        assert not p.drawing
        p.update(epoch=1, loss=1.0)
        p.close()
    assert (tmp_path / "log").read_text() == ""


def test_progress_can_be_turned_off():
    master, slave = _pty()
    with open(slave, "w") as tty:
        p = Progress("case", total=1, enabled=False, stream=tty)
        p.update(epoch=1)
        p.close()
        tty.flush()
        assert not p.drawing and _drain(master) == b""
    os.close(master)


def test_suite_progress_counts_cases_and_estimates_after_the_first():
    suite = SuiteProgress(total=4)
    suite.start_case("a", 1)
    assert suite.eta_s() is None and suite.describe() == "[1/4, 0 done, 4 left]"
    suite.end_case()
    suite.start_case("b", 2)
    assert suite.eta_s() is not None and suite.eta_s() >= 0
    assert suite.describe().startswith("[2/4, 1 done, 3 left, ~")
    suite.end_case()
    suite.start_case("c", 3, total=2)  # the total can shrink (deselection, sharding)
    assert suite.describe().startswith("[3/2, 2 done, 0 left")


@pytest.mark.slow
def test_bar_shows_under_plain_pytest_in_a_terminal(tmp_path, bench_env):
    """The real thing: `pytest bench/` on a pseudo-terminal, capture on (no -s), two of the
    smallest cases; the screen must show each case's bar with the suite's count, its epochs and
    loss. The same run checks that pytest-benchmark groups the cases by their ``arch`` parameter."""
    master, slave = _pty()
    cmd = [sys.executable, "-m", "pytest", "bench/", "-k", "seed000_net5 or seed003", "--dataset",
           "synthetic", "--epochs", "2", "--device", "cpu", "--limit-train", "512",
           "--val-size", "128", "-p", "no:cacheprovider", "--results-dir", str(tmp_path),
           "--no-artifacts", "--no-torch-profile", "-q", "--benchmark-group-by=param:arch"]
    env = {**bench_env, "TERM": "xterm", "COLUMNS": "160"}
    proc = subprocess.Popen(cmd, cwd=REPO, stdin=slave, stdout=slave, stderr=slave, env=env,
                            close_fds=True)
    os.close(slave)
    screen = b""
    while True:
        ready = select.select([master], [], [], 1.0)[0]
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO once the child has exited and closed the pty
                chunk = b""
            screen += chunk
            if not chunk and proc.poll() is not None:
                break
        elif proc.poll() is not None:
            break
    proc.wait(timeout=120)
    os.close(master)
    text = screen.decode(errors="replace")
    assert proc.returncode == 0, text[-3000:]
    # tqdm's line: "[1/2, 0 done, 2 left] <case id>: 100%|████| 2/2 [00:01<00:00, ..., loss=2.3]"
    # The block order is randomised: either case may come first.
    cases = "(seed000_net5|seed003_lenet_dropout)-synthetic-fp32-r0"
    first = re.search(r"\[1/2, 0 done, 2 left\] " + cases + r": +\d+%\|[^|]*\| "
                      r"2/2 \[[^\]]*loss=", text)
    assert first, f"no progress bar for the first case on the terminal:\n{text[-3000:]}"
    other = ({"seed000_net5", "seed003_lenet_dropout"} - {first.group(1)}).pop()
    second = re.search(r"\[2/2, 1 done, 1 left, ~[^\]]+\] " + other + "-synthetic-fp32-r0",
                       text)
    assert second, f"the second case's bar does not count the first as done:\n{text[-3000:]}"
    # pytest-benchmark's table: one group per architecture, named by the parameter.
    for arch in ("seed000_net5", "seed003_lenet_dropout"):
        assert f"benchmark 'arch={arch}': 1 tests" in text, text[-3000:]
