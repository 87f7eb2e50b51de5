"""Where the checkout is, and the small CPU RunConfig the runner tests start from."""

import signal
from pathlib import Path

from cnnbench.bench.config import RunConfig

REPO = Path(__file__).resolve().parents[2]


def cfg(tmp_path, **kw):
    base = dict(dataset="synthetic", device="cpu", epochs=2, torch_profile=False, artifacts=False,
                progress=False, results_dir=str(tmp_path), run_id="unit", warmup_steps=2,
                val_size=256)
    return RunConfig(**{**base, **kw})


def default_signals() -> None:
    """preexec_fn for a child the test will signal: SIGINT and SIGTERM back to their defaults.
    A shell starts background jobs with SIGINT ignored, and an ignored signal stays ignored
    across exec, so a test run launched that way would see Ctrl-C do nothing."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
