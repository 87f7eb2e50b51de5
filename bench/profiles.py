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


# The quick profile answers the study's three questions on a CPU in minutes: a depth sweep
# (d1..d5 at k5 s1), a kernel sweep (k3/5/7 at d2) and a stride sweep (s1/2/3 at d2 k5) of the
# grid, plus the seed nets the source studies centred on and the Lab 4 bug next to its fix.
QUICK_K = (
    "_k5_s1_same_max_w32 or (_d2_ and _s1_same_max_w32) or (_d2_k5_ and _same_max_w32)"
    " or seed000_net0 or seed003 or seed004_model_a or seed001_lab4_maxpool"
)

PROFILES = {
    "quick": Profile(
        "quick",
        "13 representative cases (depth, kernel and stride sweeps of the grid; 5 seed nets), "
        "2 epochs on a stratified 4,096-image Fashion-MNIST subset",
        "about 2-3 minutes on 2 CPU cores (2 min 11 s measured)",
        ("-k", QUICK_K, "--epochs", "2", "--limit-train", "4096", "--val-size", "1000"),
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
