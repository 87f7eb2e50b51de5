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


# The quick profile answers the studies' questions on a 2-core CPU in about 5 minutes, with
# intervals. Grid steps around the centre d2 k5 s1 same max w32, one factor at a time, so every
# step is a matched contrast: depth d1/d2/d3, kernel k3/k5/k7, stride s1/s2/s3, padding
# valid/same, pooling max/avg/none (none at d2: dropping pooling is what costs time; avg vs max
# is the studies' question). Plus the nets studies 001 and 004 drew their claims from. Sizes:
# epoch time on 4,096 images is about 0.8 s + 0.12 s per forward MFLOP on 2 idle cores (k3 1.26
# s, k5 2.25 s, k7 3.43 s measured), so the 15 cases cost about 32 s per epoch; 2 epochs × 2
# repeats, plus warm-up, evaluation on the 10,000 test images and start-up, come to about 4.5
# minutes. Two timed epochs and two seeds per case give time intervals from the epochs and
# repeats, and accuracy intervals from the seed spread pooled over the cases (15 dof).
QUICK_K = (
    "(_k5_s1_same_max_w32 and (_d1_ or _d2_ or _d3_)) or (_d2_ and _s1_same_max_w32)"
    " or (_d2_k5_ and _same_max_w32) or _d2_k5_s1_valid_max_w32 or _d2_k5_s1_same_avg_w32"
    " or _d2_k5_s1_same_none_w32 or seed004 or (seed001_lab4 and not softmax)"
)

PROFILES = {
    "quick": Profile(
        "quick",
        "15 cases (one-factor steps of the grid in depth, kernel, stride, padding and pooling; "
        "the nets of studies 001 and 004), 2 epochs × 2 seeds on a stratified 4,096-image "
        "Fashion-MNIST subset",
        "about 5 minutes on 2 CPU cores (5 min 30 s measured, including the report)",
        ("-k", QUICK_K, "--epochs", "2", "--repeats", "2", "--limit-train", "4096",
         "--val-size", "1000"),
    ),
    "standard": Profile(
        "standard",
        "every seed case with its study's own recipe (optimizer, lr, batch, epochs), "
        "full Fashion-MNIST, fp32",
        "about 10 minutes on one H100 (estimate; the batch-10 Lab 4 nets dominate)",
        ("-m", "seed", "--recipe", "seed"),
        needs_gpu=True,
    ),
    "paths": Profile(
        "paths",
        "what the input pipeline and launch overhead cost: three seed nets, each with the "
        "notebook-style DataLoader and resident data, eager and CUDA graphs, 3 epochs",
        "about 5 minutes on one H100 (estimate)",
        ("-k", "seed000_net0 or seed004_model_a or seed002_conv7", "--epochs", "3",
         "--loader", "resident,dataloader", "--mode", "eager,graphs"),
        needs_gpu=True,
    ),
    "full": Profile(
        "full",
        "seed and grid cases, uniform recipe, 3 repeats, fp32 and bf16",
        "about 1-2 hours on one H100 (estimate)",
        ("--recipe", "uniform", "--repeats", "3", "--amp", "off,bf16"),
        needs_gpu=True,
    ),
}
