"""Named suite profiles for the main job: which cases, how long, on what.

Cases are chosen with ``-k`` expressions over the registry's names, never with lists of
architectures kept here, so adding an architecture never touches this file.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    duration: str  # what to expect, measured or estimated (see README)
    pytest_args: tuple[str, ...]
    needs_gpu: bool = False


# The quick profile. Rules: at most 6 minutes including the report on 2 idle cores (measured
# 5 min 32 s: 70 runs in 5 min 24 s, then the report); conclusive corrected time findings for
# depth, kernel, stride, padding and pooling; a passing A/A control (measured: all five called,
# A/A 1.039×, 95% CI 0.965-1.119×). So:
#
# * 8 grid cases, one-factor steps around the centre d2 k5 s1 same max w32: depth d1/d2/d3,
#   kernel k3/k5/k7, stride s1/s2, padding valid/same, pooling max/none (dropping pooling is
#   what costs time; max vs avg is the studies' accuracy question, asked of their own nets).
#   The studies' nets: seed004 A/B/C and the corrected Lab 4 pair. 13 cases.
# * 5 blocks (--repeats 5): every case once per block in a seeded random order, the centre
#   twice (the A/A control). Time contrasts are paired within blocks with 4 dof: under Holm
#   over ~10 time tests the first step needs t(0.9975, 4) ≈ 5.6, so a contrast whose per-block
#   log ratios spread by 2% is called beyond the ±3% margin from about 1.09× (3 blocks: 2 dof,
#   t ≈ 14: only from about 1.25×; the simulated quick design calls all five factors in
#   ≥ 99% of sessions, reports/tests/test_calibration.py). 5 seeds also clear the 3 needed for
#   accuracy findings.
# * Short runs instead of few: 2 epochs on a stratified 2,048-image subset. Epoch time on 2 idle
#   cores is about 0.4 s + 0.06 s per forward MFLOP at 2,048 images (half the 4,096-image
#   figures measured: k3 1.26 s, k5 2.25 s, k7 3.43 s), about 16 s per block-epoch for the 14
#   runs of a block, so 5 × 2 × 16 s ≈ 160 s of timed epochs; warm-up, evaluation on the 10,000
#   test images, start-up and the report add about 2 minutes: about 5 minutes in all (estimate).
QUICK_K = (
    "(_k5_s1_same_max_w32 and (_d1_ or _d2_ or _d3_)) or (_d2_ and _s1_same_max_w32)"
    " or _d2_k5_s2_same_max_w32 or _d2_k5_s1_valid_max_w32 or _d2_k5_s1_same_none_w32"
    " or seed004 or (seed001_lab4 and not softmax)"
)
# The A/A control of each profile: a case the profile runs anyway, run twice per block (the
# nightly also compares every case's time as a ratio to it).
QUICK_CONTROL = "grid_d2_k5_s1_same_max_w32"
SEED_CONTROL = "seed000_net0"

PROFILES = {
    "quick": Profile(
        "quick",
        "13 cases (one-factor steps of the grid in depth, kernel, stride, padding and pooling; "
        "the nets of studies 001 and 004) in 5 randomised blocks with an A/A control, 2 epochs "
        "on a stratified 2,048-image Fashion-MNIST subset",
        "about 5 min 30 s on 2 idle CPU cores including the report (measured: 5:32)",
        ("-k", QUICK_K, "--epochs", "2", "--repeats", "5", "--limit-train", "2048",
         "--val-size", "1000", "--control", QUICK_CONTROL),
    ),
    "standard": Profile(
        "standard",
        "every seed case with its study's own recipe (optimizer, lr, batch, epochs), "
        "full Fashion-MNIST, fp32",
        "about 10 minutes on one H100 (estimate; the batch-10 Lab 4 nets dominate)",
        ("-m", "seed", "--recipe", "seed", "--control", SEED_CONTROL),
        needs_gpu=True,
    ),
    "paths": Profile(
        "paths",
        "what the input pipeline and launch overhead cost: three seed nets, each with the "
        "notebook-style DataLoader and resident data, eager and CUDA graphs, 3 epochs",
        "about 5 minutes on one H100 (estimate)",
        ("-k", "seed000_net0 or seed004_model_a or seed002_conv7", "--epochs", "3",
         "--loader", "resident,dataloader", "--mode", "eager,graphs", "--control", SEED_CONTROL),
        needs_gpu=True,
    ),
    "full": Profile(
        "full",
        "seed and grid cases, uniform recipe, 3 repeats, fp32 and bf16",
        "about 1-2 hours on one H100 (estimate)",
        ("--recipe", "uniform", "--repeats", "3", "--amp", "off,bf16", "--control", SEED_CONTROL),
        needs_gpu=True,
    ),
}
