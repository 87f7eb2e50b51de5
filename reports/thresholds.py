"""The reports' thresholds, each defined once (the CLI, the nightly job and the page use these).

A case regresses when its median epoch time grows by more than TIME_THRESHOLD (relative, beyond
the noise) or its test accuracy drops by more than ACC_THRESHOLD (absolute).
"""

import argparse
import math

TIME_THRESHOLD = 0.10  # 10% slower
ACC_THRESHOLD = 0.01  # 1 percentage point

# Below this share of wall time with a kernel running, the GPU mostly waits on launches or input.
LAUNCH_BOUND_BUSY = 0.5


def threshold_arg(text: str) -> float:
    """A threshold option's value: a finite number above 0 (0 or less would flag every change,
    or none). For argparse's ``type=``, in every CLI that takes a threshold."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"must be a number above 0, not {text}")
    return v
