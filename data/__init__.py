"""cnnbench data: verified MNIST-style datasets and fast loaders.

    from cnnbench.data import make_loaders
    loaders = make_loaders("fashion-mnist", batch_size=128, device="cuda")
"""

from .arrays import Arrays, load_arrays
from .idx import DataIntegrityError, read_idx, write_idx
from .loaders import (
    ArrayImageDataset,
    Loaders,
    ResidentLoader,
    TorchDataLoader,
    make_loaders,
    resolve_device,
    stratified_subset,
)
from .registry import DATASETS, DatasetInfo, get_info
from .resolve import (
    DEFAULT_ENV_VAR,
    DataNotFoundError,
    cache_dir,
    candidate_places,
    locate,
)

__all__ = [
    "DATASETS",
    "DEFAULT_ENV_VAR",
    "ArrayImageDataset",
    "Arrays",
    "DataIntegrityError",
    "DataNotFoundError",
    "DatasetInfo",
    "Loaders",
    "ResidentLoader",
    "TorchDataLoader",
    "cache_dir",
    "candidate_places",
    "get_info",
    "load_arrays",
    "locate",
    "make_loaders",
    "read_idx",
    "resolve_device",
    "stratified_subset",
    "write_idx",
]
