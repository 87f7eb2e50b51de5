"""The suite's pytest as a child process: it stops with its parent, and a stopped parent lets
it finish saving.

* ``spawn`` starts the child in its own process group, so a terminal's Ctrl-C reaches the
  parent alone, which passes it on exactly once (a second SIGINT would interrupt pytest while it
  writes its benchmark JSON). On Linux the child also gets ``PR_SET_PDEATHSIG``: when the parent
  dies, even by SIGKILL, the child receives SIGTERM and stops as if interrupted.
* ``stop_on_sigterm`` makes SIGTERM stop this process as Ctrl-C does (KeyboardInterrupt), so
  what catches the one catches the other.
* ``forwarding`` passes SIGINT and SIGTERM received by the parent to the child, and the parent
  then keeps waiting: the child records its running case as interrupted and saves the benchmark
  JSON of the finished ones (``subprocess.run`` would kill it 0.25 s after a Ctrl-C).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import threading

PR_SET_PDEATHSIG = 1  # linux/prctl.h
FORWARDED = (signal.SIGINT, signal.SIGTERM)


def _prctl():
    """libc's prctl, loaded before fork (the child may not load libraries safely)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def _child_setup(parent: int, prctl):
    def setup():  # runs in the child between fork and exec: syscalls only
        os.setpgid(0, 0)
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
            if os.getppid() != parent:  # the parent died before the line above
                os.kill(os.getpid(), signal.SIGTERM)
    return setup


def spawn(cmd: list[str], **kw) -> subprocess.Popen:
    """``subprocess.Popen(cmd, **kw)`` as a child that stops with this process."""
    return subprocess.Popen(cmd, preexec_fn=_child_setup(os.getpid(), _prctl()), **kw)


@contextlib.contextmanager
def forwarding(proc: subprocess.Popen):
    """While inside, SIGINT/SIGTERM to this process go to ``proc`` instead; yields the list of
    signals received (empty when none), for the caller's exit code and message."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def forward(signum, frame):
        received.append(signum)
        if proc.poll() is None:
            proc.send_signal(signum)

    old = {s: signal.signal(s, forward) for s in FORWARDED}
    try:
        yield received
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def run(cmd: list[str], **kw) -> tuple[int, list[int]]:
    """Run ``cmd`` to its end, signals forwarded: (its exit code, the signals received)."""
    proc = spawn(cmd, **kw)
    with forwarding(proc) as received:
        while True:
            try:
                rc = proc.wait()
                break
            except KeyboardInterrupt:  # a SIGINT that arrived before the handler was set
                received.append(signal.SIGINT)
                proc.send_signal(signal.SIGINT)
    return rc, received


class Terminated(KeyboardInterrupt):
    """SIGTERM (a scheduler, a parent job, ``kill``): stops the session as Ctrl-C does, so the
    running case is recorded as interrupted and pytest-benchmark still saves its JSON."""


def _raise_terminated(signum, frame):
    raise Terminated(f"signal {signal.Signals(signum).name}")


def stop_on_sigterm() -> None:
    """Make SIGTERM raise Terminated in this (main) thread, unless someone else already
    handles it. Its default action kills the process outright and loses the running case's
    record and the finished cases' benchmark JSON."""
    if threading.current_thread() is threading.main_thread() \
            and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _raise_terminated)
