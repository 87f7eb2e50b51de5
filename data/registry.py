"""The datasets cnnbench knows: shapes, class counts, normalization constants, file names."""

from __future__ import annotations

from dataclasses import dataclass

# The four IDX files every MNIST-style dataset ships, keyed by (split, kind).
# torchvision, the Debian package and the original sites all use these names.
IDX_STEMS: dict[tuple[str, str], str] = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}


@dataclass(frozen=True)
class DatasetInfo:
    """Static facts about one dataset; mean/std are of pixel/255 over the training split."""

    name: str
    folder: str | None  # torchvision's sub-folder under its root: <root>/<folder>/raw/
    torchvision_cls: str | None  # class name in torchvision.datasets (None: not downloadable)
    mean: float
    std: float
    num_classes: int = 10
    image_shape: tuple[int, int, int] = (1, 28, 28)
    train_size: int | None = 60_000  # expected counts, checked when loading with strict=True
    test_size: int | None = 10_000
    classes: tuple[str, ...] = ()
    stats_source: str = ""  # where mean/std came from
    # Validation images carved from the training split when none is asked for: 5,000 of a real
    # dataset's 60,000 (the test split stays untouched for the final accuracy).
    val_size: int = 5000

    @property
    def is_real(self) -> bool:
        return self.folder is not None


DIGITS = tuple(str(d) for d in range(10))


def _idx(name: str, folder: str, mean: float, std: float, classes: tuple[str, ...],
         stats_source: str) -> DatasetInfo:
    """A real MNIST-style dataset: its torchvision class is named like its folder."""
    return DatasetInfo(name, folder, folder, mean, std, classes=classes,
                       stats_source=stats_source)


DATASETS: dict[str, DatasetInfo] = {
    # The standard values (PyTorch examples/mnist), widely reported as the training split's
    # 0.13066 / 0.30811. Not recomputed here: MNIST train images are not available offline.
    "mnist": _idx("mnist", "MNIST", 0.1307, 0.3081, DIGITS,
                  "standard 0.1307/0.3081 (PyTorch examples/mnist); not recomputed"),
    # Computed by us: all 60,000 x 784 = 47,040,000 training pixels, /255, float64, population
    # std -> mean 0.286041, std 0.353024 (data/tests checks this to 1e-4).
    "fashion-mnist": _idx(
        "fashion-mnist", "FashionMNIST", 0.2860, 0.3530,
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
         "Bag", "Ankle boot"),
        "computed: training split, 47,040,000 pixels/255 -> 0.286041/0.353024"),
    # Published values (not recomputed: no KMNIST copy is available offline here).
    "kmnist": _idx("kmnist", "KMNIST", 0.1918, 0.3483,
                   ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
                   "published 0.1918/0.3483; not recomputed (no offline copy)"),
    # Uniform uint8 noise: mean 127.5/255 = 0.5, std sqrt((256**2 - 1) / 12)/255 = 0.2898.
    # 256 validation images of its 2,048 training images.
    "synthetic": DatasetInfo("synthetic", None, None, 0.5, 0.2898, train_size=None,
                             test_size=None, classes=DIGITS, val_size=256,
                             stats_source="analytic: discrete uniform 0..255"),
}

_ALIASES = {"fashionmnist": "fashion-mnist", "fmnist": "fashion-mnist"}


def get_info(name: str) -> DatasetInfo:
    """Look a dataset up by name ("fashion_mnist", "FashionMNIST" also work)."""
    key = name.strip().lower().replace("_", "-")
    key = _ALIASES.get(key.replace("-", ""), key)
    if key not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    return DATASETS[key]


# sha256 of the *decompressed* IDX files (header included). Computed here from the copies in
# /work/shared/data and Debian's dataset-fashion-mnist (identical content; only their gzip
# wrappers differ from torchvision's md5 list, which is why we never check the .gz bytes).
# MNIST train images and all of KMNIST have no offline copy, so they are checked for
# structure and counts only and reported as unverified.
PUBLISHED_SHA256: dict[str, dict[str, str]] = {
    "fashion-mnist": {
        "train-images-idx3-ubyte":
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte":
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte":
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte":
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
    "mnist": {
        "train-labels-idx1-ubyte":
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte":
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte":
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "kmnist": {},
}


def identify(sha256: str) -> tuple[str, str] | None:
    """(dataset, file stem) whose published content has this sha256, if any."""
    for name, files in PUBLISHED_SHA256.items():
        for stem, digest in files.items():
            if digest == sha256:
                return name, stem
    return None
