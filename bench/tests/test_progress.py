"""The progress bar draws only on a terminal and never into captured output."""

import io
import sys

from bench.progress import Progress


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_draws_on_a_tty(monkeypatch):
    tty = FakeTTY()
    monkeypatch.setattr(sys, "__stderr__", tty)
    suspended = []

    class Suspend:
        def __enter__(self):
            suspended.append(True)

        def __exit__(self, *exc):
            return False

    p = Progress("seed000_net0-fashion-mnist-fp32-r0", total=2, suspend=Suspend)
    p.update(epoch=1, loss=0.51234, val_acc=0.8)
    p.close()
    out = tty.getvalue()
    assert "seed000_net0" in out and "loss=0.5123" in out and "val_acc=0.8" in out
    assert len(suspended) >= 3  # create, update and close each suspend pytest's capture


def test_progress_is_silent_without_a_tty(monkeypatch):
    pipe = io.StringIO()  # isatty() is False
    monkeypatch.setattr(sys, "__stderr__", pipe)
    p = Progress("case", total=1)
    p.update(epoch=1, loss=1.0)
    p.close()
    assert pipe.getvalue() == ""


def test_progress_can_be_turned_off(monkeypatch):
    tty = FakeTTY()
    monkeypatch.setattr(sys, "__stderr__", tty)
    p = Progress("case", total=1, enabled=False)
    p.update(epoch=1)
    p.close()
    assert tty.getvalue() == ""
