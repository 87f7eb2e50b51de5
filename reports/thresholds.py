"""The reports' thresholds, each defined once (the CLI, the nightly job and the page use these).

A case regresses when its median epoch time grows by more than TIME_THRESHOLD (relative, beyond
the noise) or its test accuracy drops by more than ACC_THRESHOLD (absolute).
"""

TIME_THRESHOLD = 0.10  # 10% slower
ACC_THRESHOLD = 0.01  # 1 percentage point

# Below this share of wall time with a kernel running, the GPU mostly waits on launches or input.
LAUNCH_BOUND_BUSY = 0.5
