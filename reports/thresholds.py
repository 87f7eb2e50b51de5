"""The reports' thresholds and decision levels, each defined once (the CLI, the nightly job and
the page use these).

A case regresses when its median epoch time grows by more than TIME_THRESHOLD (relative, beyond
the noise) or its test accuracy drops by more than ACC_THRESHOLD (absolute).
"""

import argparse
import math

TIME_THRESHOLD = 0.10  # 10% slower
ACC_THRESHOLD = 0.01  # 1 percentage point

# Below this share of wall time with a kernel running, the GPU mostly waits on launches or input.
LAUNCH_BOUND_BUSY = 0.5

# ---- the experiment's decision rules (README "Experiments you can defend") ---------------------
# Two-sided error rate of every interval and test, before correction.
ALPHA = 0.05
# Practical margins: a time contrast is called "faster"/"slower" only when its corrected interval
# lies wholly beyond ±3% (run-to-run offsets on a shared 2-core machine are about 3%, so smaller
# effects are not worth a verdict even when resolvable); an accuracy contrast only beyond ±1 pp.
TIME_MARGIN = 0.03
ACC_MARGIN = 0.01
# A finding on accuracy needs at least this many seeds per case: with 2 the t quantile is 12.7
# and an interval such as "66.50 ± 73.76 %" says nothing.
MIN_SEEDS = 3
# A cell's run-to-run spread "stands out" when it is this many times the median cell's (and
# above TIME_NOISE_FLOOR): a busy moment hits one cell with 20-50% while the rest stay at a few %.
NOISY_CELL_FACTOR = 3.0
TIME_NOISE_FLOOR = 0.02
# The run-level spread above which the whole machine was busy (the quick profile on 2 idle
# cores: 3.7% and 4.4%; with a busy loop on one core from halfway: 68%).
HIGH_TIME_NOISE = 0.05
# Nightly: nights of history that form the baseline (the most recent ones with the case ok).
BASELINE_NIGHTS = 5


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
