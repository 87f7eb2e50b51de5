"""The words a record and an option share: statuses, loaders, modes, precisions, recipes.

Torch-free and import-free, below every package: the plugin's options, the RunConfig, the record's
validation and the data loaders all check against these tuples, so a new mode is added here once.
"""

STATUSES = ("ok", "diverged", "oom", "error", "interrupted", "timeout")
# The input paths and execution modes a case can use (cnnbench.data and the runner implement
# them). A case id names them only when they differ from the first, the default, so that ids of
# plain runs stay comparable across versions.
LOADERS = ("resident", "dataloader")
MODES = ("eager", "compile", "graphs")
DEFAULT_LOADER, DEFAULT_MODE = LOADERS[0], MODES[0]
# What --amp accepts, to the precision a record names ("off" is fp32).
PRECISIONS = {"off": "fp32", "fp32": "fp32", "fp16": "fp16", "bf16": "bf16"}
RECIPES = ("uniform", "seed")
# The datasets cnnbench.data knows (its registry holds their facts; a test keeps the two equal).
DATASETS = ("mnist", "fashion-mnist", "kmnist", "synthetic")
