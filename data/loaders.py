"""Train/val/test loaders: ``resident`` (uint8 on the device) or notebook-style ``dataloader``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Sampler, SequentialSampler
from torchvision import transforms
from torchvision.datasets import VisionDataset

from cnnbench.vocab import LOADERS as LOADER_KINDS

from .arrays import load_arrays
from .registry import get_info

# Independent random streams derived from one seed (see derive_seed).
_SPLIT, _SUBSET, _EPOCH = 1, 2, 3


def derive_seed(seed: int, *keys: int) -> int:
    """A 63-bit seed for the stream (seed, *keys); (0, 1) and (1, 0) do not collide."""
    state = np.random.SeedSequence([seed % 2**64, *keys]).generate_state(1, dtype=np.uint64)
    return int(state[0] >> np.uint64(1))


def epoch_permutation(n: int, seed: int, epoch: int, device: str | torch.device = "cpu"):
    """Epoch ``epoch``'s sample order: randperm on a ``device`` generator seeded from
    (seed, epoch). Same on every run for one device type; CPU and CUDA orders differ."""
    device = torch.device(device)
    g = torch.Generator(device=device)
    g.manual_seed(derive_seed(seed, _EPOCH, epoch))
    return torch.randperm(n, generator=g, device=device)


def split_validation(
    n: int, val_size: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(train, val) index tensors, sorted, from a seeded permutation of range(n)."""
    if not 0 <= val_size < n:
        raise ValueError(
            f"val_size={val_size} must be in [0, {n}) for {n} training images "
            "(0 means no validation split)"
        )
    if val_size == 0:
        return torch.arange(n), None
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(derive_seed(seed, _SPLIT)))
    return perm[val_size:].sort().values, perm[:val_size].sort().values


def stratified_subset(
    labels: torch.Tensor, limit: int, *, num_classes: int = 10, seed: int = 0
) -> torch.Tensor:
    """Sorted indices of ``limit`` samples with per-class counts as equal as possible
    (they differ by at most 1 unless a class runs out) and every class present."""
    labels = labels.cpu()
    n = len(labels)
    if limit < num_classes:
        raise ValueError(f"limit_train={limit} < {num_classes} classes: some class would be absent")
    if limit > n:
        raise ValueError(f"limit_train={limit} > {n} training images available")
    g = torch.Generator().manual_seed(derive_seed(seed, _SUBSET))
    members = [torch.nonzero(labels == c).flatten() for c in range(num_classes)]
    avail = [len(m) for m in members]
    if min(avail) == 0:
        raise ValueError(f"class {avail.index(0)} has no training samples to keep")
    # Water-filling from the scarcest class up; ties broken at random so the +1 remainders
    # do not always go to the highest class ids.
    tiebreak = torch.randperm(num_classes, generator=g).tolist()
    quota = [0] * num_classes
    left = limit
    for i, c in enumerate(sorted(range(num_classes), key=lambda c: (avail[c], tiebreak[c]))):
        quota[c] = min(avail[c], left // (num_classes - i))
        left -= quota[c]
    picks = [
        m[torch.randperm(len(m), generator=g)[:q]] for m, q in zip(members, quota, strict=True)
    ]
    return torch.cat(picks).sort().values


def to_channels_last(x: torch.Tensor) -> torch.Tensor:
    """NCHW -> channels_last strides. For C=1 the bytes are identical, so only the strides
    change (no copy); a plain .contiguous(memory_format=...) would be a no-op for C=1 and
    convolutions would then not pick the channels_last kernels."""
    if x.shape[1] == 1:
        x = x.contiguous()
        h, w = x.shape[2], x.shape[3]
        return x.as_strided(x.shape, (h * w, 1, w, 1))
    return x.to(memory_format=torch.channels_last)


class ResidentLoader:
    """Batches cut from uint8 images kept on ``device``; each batch is converted to float32
    and normalized on the fly ((x/255 - mean)/std, the ToTensor+Normalize arithmetic).

    Keeping uint8 costs 1 byte/pixel: Fashion-MNIST's 60,000 training images hold 47.0 MB
    (+0.48 MB int64 labels) instead of 188 MB as float32. ``nbytes`` says what is held.
    Yields (x: float32 N x 1 x 28 x 28, y: int64 N), both on ``device``.

    Shuffled loaders order epoch k by ``epoch_permutation(n, seed, k, device)``, so the
    order depends only on (seed, k). Each ``iter()`` uses the current epoch and advances it;
    ``set_epoch(k)`` sets the next one (as DistributedSampler does).
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        *,
        batch_size: int,
        shuffle: bool = False,
        drop_last: bool = False,
        mean: float = 0.0,
        std: float = 1.0,
        device: str | torch.device = "cpu",
        seed: int = 0,
        channels_last: bool = False,
    ) -> None:
        if images.dtype != torch.uint8 or images.dim() != 3:
            raise ValueError(f"images must be uint8 N x H x W, got {images.dtype} {images.shape}")
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.device = torch.device(device)
        self.images = images.to(self.device).contiguous()
        self.labels = labels.to(self.device, torch.int64).contiguous()
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.mean, self.std = float(mean), float(std)
        self.seed = seed
        self.channels_last = channels_last
        self._epoch = 0

    @property
    def num_samples(self) -> int:
        """Samples held (an epoch yields all of them unless drop_last trims the tail)."""
        return int(self.labels.shape[0])

    @property
    def nbytes(self) -> int:
        """Bytes held on the device by this loader (images + labels)."""
        return sum(t.numel() * t.element_size() for t in (self.images, self.labels))

    def __len__(self) -> int:
        n, b = self.num_samples, self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def set_epoch(self, epoch: int) -> None:
        self._epoch = int(epoch)

    def epoch_order(self, epoch: int) -> torch.Tensor:
        """Sample indices in the order epoch ``epoch`` yields them."""
        if not self.shuffle:
            return torch.arange(self.num_samples, device=self.device)
        return epoch_permutation(self.num_samples, self.seed, epoch, self.device)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """uint8 N x H x W -> float32 N x 1 x H x W, normalized, channels_last if asked."""
        x = x.unsqueeze(1).to(torch.float32).div_(255.0)
        if (self.mean, self.std) != (0.0, 1.0):
            x.sub_(self.mean).div_(self.std)
        return to_channels_last(x) if self.channels_last else x

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        epoch, self._epoch = self._epoch, self._epoch + 1
        order = epoch_permutation(self.num_samples, self.seed, epoch, self.device) \
            if self.shuffle else None
        b = self.batch_size
        for start in range(0, len(self) * b, b):
            if order is None:
                x = self.images[start:start + b]
                y = self.labels[start:start + b].clone()  # callers may modify y in place
            else:
                idx = order[start:start + b]
                x, y = self.images.index_select(0, idx), self.labels.index_select(0, idx)
            yield self.normalize(x), y


class EpochSampler(Sampler[int]):
    """Sampler with the resident loader's epoch orders (on the CPU), so that both loader
    kinds see the same sample order for one seed on CPU; supports set_epoch."""

    def __init__(self, n: int, seed: int = 0) -> None:
        self.n, self.seed, self._epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self._epoch = int(epoch)

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[int]:
        epoch, self._epoch = self._epoch, self._epoch + 1
        yield from epoch_permutation(self.n, self.seed, epoch).tolist()


class ArrayImageDataset(VisionDataset):
    """torchvision.datasets.MNIST's item path over in-memory arrays: uint8 -> PIL "L" image
    -> transform; target as int. Lets the notebook path read our verified arrays."""

    def __init__(self, data: torch.Tensor, targets: torch.Tensor, transform=None) -> None:
        super().__init__(root=None, transform=transform)
        self.data, self.targets = data, targets

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, int]:
        img = Image.fromarray(self.data[index].numpy())  # uint8 2-D -> mode "L"
        if self.transform is not None:
            img = self.transform(img)
        return img, int(self.targets[index])


class TorchDataLoader:
    """Notebook-style loading: torch DataLoader over ArrayImageDataset, per-sample
    ToTensor() + Normalize(mean, std), ``num_workers`` processes (persistent when > 0).

    Yields CPU tensors (pinned when pin_memory); the caller moves each batch to the device,
    e.g. ``x.to(device, non_blocking=True)``. Holds nothing on the device: nbytes is 0.
    Shuffled loaders use EpochSampler (set_epoch works as for ResidentLoader).
    """

    def __init__(
        self,
        dataset: ArrayImageDataset,
        *,
        batch_size: int,
        shuffle: bool = False,
        drop_last: bool = False,
        num_workers: int = 0,
        pin_memory: bool = False,
        seed: int = 0,
        channels_last: bool = False,
    ) -> None:
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.channels_last = channels_last
        self.sampler = EpochSampler(len(dataset), seed) if shuffle else SequentialSampler(dataset)
        self.dataloader = DataLoader(
            dataset,
            batch_size=batch_size,
            sampler=self.sampler,
            drop_last=drop_last,
            num_workers=num_workers,
            pin_memory=pin_memory,
            persistent_workers=num_workers > 0,
        )

    @property
    def num_samples(self) -> int:
        return len(self.dataset)

    @property
    def nbytes(self) -> int:
        return 0

    def __len__(self) -> int:
        return len(self.dataloader)

    def set_epoch(self, epoch: int) -> None:
        if isinstance(self.sampler, EpochSampler):
            self.sampler.set_epoch(epoch)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for x, y in self.dataloader:
            yield (to_channels_last(x) if self.channels_last else x), y


@dataclass
class Loaders:
    train: ResidentLoader | TorchDataLoader
    val: ResidentLoader | TorchDataLoader | None
    test: ResidentLoader | TorchDataLoader
    info: dict[str, Any]  # flat, JSON-safe; goes into result records


def resolve_device(name: str | torch.device) -> torch.device:
    """A concrete device: "auto" picks CUDA when there is one; "cuda" gets its index, so that
    tensors' devices compare equal to it (cuda:0 != cuda)."""
    if str(name) == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(f"--device {name}: CUDA is not available on this machine "
                               f"(torch {torch.__version__}, built for CUDA {torch.version.cuda})")
        if device.index is None:
            device = torch.device("cuda", torch.cuda.current_device())
    return device


def make_loaders(
    name: str,
    *,
    batch_size: int,
    eval_batch_size: int = 1000,
    device: str | torch.device = "cpu",
    data_dir: str | Path | None = None,
    download: bool = True,
    seed: int = 0,
    limit_train: int | None = None,
    val_size: int | None = None,
    loader: str = "resident",
    normalize: tuple[float, float] | None = None,
    drop_last: bool = False,
    channels_last: bool = False,
    num_workers: int = 2,
    pin_memory: bool | None = None,
    split_seed: int | None = None,
    strict: bool = True,
    synthetic_sizes: tuple[int, int] = (2048, 512),
) -> Loaders:
    """Load ``name`` and build train (shuffled), val and test (in order) loaders.

    The validation split (``val_size`` images, 0 for none -> ``val`` is None, None -> the
    dataset's default) is carved from the training set first, then ``limit_train`` keeps a
    stratified subset of the rest.
    Both use ``split_seed`` (default: ``seed``); the train order uses ``seed``.
    ``normalize``: None -> the dataset's mean/std, (0.0, 1.0) -> ToTensor scaling only.
    ``drop_last`` applies to the train loader only: evaluation always sees every sample.
    ``num_workers``/``pin_memory`` matter for ``loader="dataloader"`` only.
    """
    info = get_info(name)
    if loader not in LOADER_KINDS:
        raise ValueError(f"loader must be one of {LOADER_KINDS}, not {loader!r}")
    dev = resolve_device(device)
    mean, std = (info.mean, info.std) if normalize is None else tuple(map(float, normalize))
    if std <= 0:
        raise ValueError(f"normalize std must be > 0, got {std}")
    data_seed = seed if split_seed is None else split_seed
    arrays = load_arrays(
        info.name, data_dir=data_dir, download=download, synthetic_sizes=synthetic_sizes,
        seed=data_seed, strict=strict,
    )
    val_size = info.val_size if val_size is None else val_size
    train_idx, val_idx = split_validation(len(arrays.train_labels), val_size, data_seed)
    if limit_train is not None:
        keep = stratified_subset(
            arrays.train_labels[train_idx], limit_train, num_classes=info.num_classes,
            seed=data_seed,
        )
        train_idx = train_idx[keep]
    splits = {
        "train": (arrays.train_images[train_idx], arrays.train_labels[train_idx]),
        "val": None if val_idx is None
        else (arrays.train_images[val_idx], arrays.train_labels[val_idx]),
        "test": (arrays.test_images, arrays.test_labels),
    }
    pin = dev.type == "cuda" if pin_memory is None else pin_memory

    def build(split: str):
        if splits[split] is None:
            return None
        images, labels = splits[split]
        train = split == "train"
        common = dict(
            batch_size=batch_size if train else eval_batch_size,
            shuffle=train, drop_last=drop_last and train, seed=seed, channels_last=channels_last,
        )
        if loader == "resident":
            return ResidentLoader(images, labels, mean=mean, std=std, device=dev, **common)
        steps: list[Any] = [transforms.ToTensor()]
        if (mean, std) != (0.0, 1.0):
            steps.append(transforms.Normalize((mean,), (std,)))
        dataset = ArrayImageDataset(images, labels, transform=transforms.Compose(steps))
        return TorchDataLoader(dataset, num_workers=num_workers, pin_memory=pin, **common)

    train, val, test = build("train"), build("val"), build("test")
    held = [ld for ld in (train, val, test) if ld is not None]
    return Loaders(
        train=train,
        val=val,
        test=test,
        info={
            "dataset": info.name,
            "data_source": arrays.source,
            "data_origin": arrays.origin,
            "data_checksum": arrays.checksum,
            "data_unverified": ",".join(arrays.unverified),
            "train_size": train.num_samples,
            "val_size": 0 if val is None else val.num_samples,
            "test_size": test.num_samples,
            "loader": loader,
            "batch_size": batch_size,
            "eval_batch_size": eval_batch_size,
            "device": str(dev),
            "normalize_mean": mean,
            "normalize_std": std,
            "resident_bytes": sum(ld.nbytes for ld in held),
            "drop_last": drop_last,
            "channels_last": channels_last,
            "limit_train": limit_train,
            "num_workers": num_workers if loader == "dataloader" else 0,
            "pin_memory": pin if loader == "dataloader" else False,
            "seed": seed,
            "split_seed": data_seed,
        },
    )
