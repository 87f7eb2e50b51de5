"""Images/s of iterating the resident loader vs the notebook DataLoader path.

    python -m data.throughput --dataset fashion-mnist --device auto --workers 0,4 --json t.json

Each variant runs ``--epochs`` epochs over the training split (no validation carve-out)
with a trivial consumer that moves each batch to the device and reduces it there; the first
epoch is warm-up (worker start-up, allocator, page cache) and is not timed.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import torch

from .loaders import make_loaders, resolve_device


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def consume(batches, device: torch.device) -> int:
    """Touch every element of every batch on ``device``; return the number of images."""
    n = 0
    acc = torch.zeros((), device=device)
    for x, y in batches:
        x = x.to(device, non_blocking=True)
        y = y.to(device, non_blocking=True)
        acc += x.sum() + y.sum()
        n += x.shape[0]
    _sync(device)
    return n


def measure(variant: str, workers: int, args: argparse.Namespace, device: torch.device) -> dict:
    loaders = make_loaders(
        args.dataset, batch_size=args.batch_size, device=device, data_dir=args.data_dir,
        download=not args.no_download, val_size=0, limit_train=args.limit_train,
        loader=variant, num_workers=workers,
    )
    train = loaders.train
    images, seconds = 0, 0.0
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        n = consume(train, device)
        dt = time.perf_counter() - t0
        if epoch > 0:  # epoch 0 is warm-up
            images += n
            seconds += dt
    return {
        "variant": variant if variant == "resident" else f"dataloader-w{workers}",
        "loader": variant,
        "workers": workers,
        "device": str(device),
        "batch_size": args.batch_size,
        "timed_epochs": args.epochs - 1,
        "images": images,
        "seconds": round(seconds, 4),
        "images_per_s": round(images / seconds, 1) if seconds > 0 else None,
        "resident_bytes": loaders.info["resident_bytes"],
        "data_checksum": loaders.info["data_checksum"],
    }


def _workers(text: str) -> list[int]:
    try:
        values = [int(w) for w in text.split(",") if w.strip()]
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"--workers wants e.g. 0,4, got {text!r}") from e
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"--workers wants counts >= 0, got {text!r}")
    return values


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m data.throughput", description=__doc__.split(".")[0])
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--device", default="auto", help="auto|cpu|cuda (auto: cuda if available)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--epochs", type=int, default=2, help="including 1 untimed warm-up epoch")
    p.add_argument("--workers", type=_workers, default=[0, 4], help="DataLoader worker counts")
    p.add_argument("--limit-train", type=int, default=None)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--no-download", action="store_true")
    p.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = p.parse_args(argv)
    if args.epochs < 2:
        p.error("--epochs must be >= 2: the first epoch is warm-up and not timed")
    return args


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    args = parse_args(argv)
    device = resolve_device(args.device)
    variants = [("resident", 0)] + [("dataloader", w) for w in args.workers]
    rows = [measure(v, w, args, device) for v, w in variants]
    line = "{:<16} {:<8} {:>9} {:>9} {:>12}"
    print(line.format("variant", "device", "images", "seconds", "images/s"))
    for r in rows:
        rate = "n/a" if r["images_per_s"] is None else f"{r['images_per_s']:,.0f}"
        print(line.format(r["variant"], r["device"], r["images"], f"{r['seconds']:.3f}", rate))
    if args.json:
        meta = {
            "dataset": args.dataset, "epochs": args.epochs, "batch_size": args.batch_size,
            "torch": torch.__version__, "python": platform.python_version(),
            "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else
            platform.processor() or platform.machine(),
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
