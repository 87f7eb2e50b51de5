"""Overhead self-check: the runner against a minimal hand-written loop, same process, same data.

    python -m bench.overhead [--arch seed000_net0] [--device auto] [--epochs 3] [--json PATH]

Both train the same model with the same batch, precision and resident data; each drops its
first epoch (the bare loop's warm-up, the runner's own untimed warm-up covers that) and reports
the median epoch time. The runner should add no more than 5% (target ratio <= 1.05).
This is a benchmark, not a test: it prints numbers and never fails on them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F

from cnnbench import data, models

from .config import RunConfig, parse_precision
from .env import environment
from .runner import DTYPES, Runner, graphs_unsupported
from .timing import synchronize

TARGET_RATIO = 1.05
# seed000_net0 at batch 128 on an H100: the eager epoch is ~1.1 s of launch overhead for ~0.01 s
# of arithmetic; with the step captured in a CUDA graph it should take at most this long.
GRAPHS_TARGET_S = 0.15


def bare_loop(arch: str, loaders, device: torch.device, epochs: int, precision: str,
              lr: float = 0.01, momentum: float = 0.9) -> list[float]:
    """The smallest honest training loop: seconds per epoch, the warm-up epoch dropped.

    It repeats the runner's training step on purpose: a yardstick that shared the runner's code
    could not show the runner's overhead.
    """
    torch.manual_seed(0)
    model = models.create(arch).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    dtype = DTYPES[precision]
    autocast = (lambda: torch.autocast(device.type, dtype=dtype)) if dtype else \
        contextlib.nullcontext
    scaler = torch.amp.GradScaler(device.type) if precision == "fp16" else None
    times = []
    for _ in range(epochs + 1):  # epoch 0 is warm-up: cuDNN autotune, allocator growth
        synchronize(device)
        t0 = time.perf_counter()
        for x, y in loaders.train:
            with autocast():
                loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            if scaler is None:
                loss.backward()
                opt.step()
            else:
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
        synchronize(device)
        times.append(time.perf_counter() - t0)
    return times[1:]


def check(arch: str = "seed000_net0", device: str = "auto", epochs: int = 3,
          dataset: str = "fashion-mnist", batch_size: int = 128, precision: str = "fp32",
          limit_train: int | None = None, data_dir: str | None = None,
          results_dir: str = "results") -> dict:
    dev = data.resolve_device(device)
    cfg = RunConfig(dataset=dataset, data_dir=data_dir, device=str(dev),
                    precision=precision, batch_size=batch_size, limit_train=limit_train,
                    epochs=epochs, torch_profile=False, artifacts=False, progress=False,
                    results_dir=results_dir, run_id="overhead", recipe="uniform")
    record = Runner(arch, cfg).run()
    if record["status"] != "ok":
        raise RuntimeError(f"the runner failed: {record['error']}")
    loaders = data.make_loaders(dataset, batch_size=batch_size, device=dev, data_dir=data_dir,
                                limit_train=limit_train, val_size=record["val_size"],
                                seed=cfg.seed)
    bare = bare_loop(arch, loaders, dev, epochs, precision, lr=record["lr"],
                     momentum=record["momentum"])
    runner_s = statistics.median(record["epoch_times_s"])
    bare_s = statistics.median(bare)
    reason = graphs_unsupported(dev.type, precision)
    graphs = {"mode_fallback_reason": reason} if reason else \
        Runner(arch, cfg.replace(mode="graphs")).run()
    graphs_ok = graphs.get("status") == "ok" and graphs.get("mode") == "graphs"
    return {
        "arch": arch, "dataset": dataset, "batch_size": batch_size, "precision": precision,
        "epochs": epochs, "device": dev.type, "device_name": environment(dev)["device_name"],
        "runner_timer": record["timer"], "runner_epoch_s": runner_s, "bare_epoch_s": bare_s,
        "runner_epoch_times_s": record["epoch_times_s"], "bare_epoch_times_s": bare,
        "ratio": runner_s / bare_s, "target_ratio": TARGET_RATIO,
        "graphs_epoch_s": statistics.median(graphs["epoch_times_s"]) if graphs_ok else None,
        "graphs_note": None if graphs_ok else (graphs.get("mode_fallback_reason")
                                               or graphs.get("error")),
        "graphs_target_s": GRAPHS_TARGET_S,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.overhead", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", default="seed000_net0")
    p.add_argument("--device", default="auto")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--amp", default="off")
    p.add_argument("--limit-train", type=int, default=None)
    p.add_argument("--results-dir", default="results", help="where the runner's record goes")
    p.add_argument("--json", default=None, help="also write the result here")
    a = p.parse_args(argv)
    out = check(a.arch, a.device, a.epochs, a.dataset, a.batch_size, parse_precision(a.amp),
                a.limit_train, a.data_dir, a.results_dir)
    verdict = "within" if out["ratio"] <= TARGET_RATIO else "OVER"
    print(f"{out['arch']} on {out['device_name']} ({out['dataset']}, batch {out['batch_size']}, "
          f"{out['precision']}): runner {out['runner_epoch_s']:.4f} s/epoch "
          f"({out['runner_timer']}), bare loop {out['bare_epoch_s']:.4f} s/epoch, "
          f"ratio {out['ratio']:.3f} ({verdict} the {TARGET_RATIO} target)")
    if out["graphs_epoch_s"] is None:
        print(f"graphs mode: not measured ({out['graphs_note']})")
    else:
        g = out["graphs_epoch_s"]
        print(f"graphs mode: {g:.4f} s/epoch ({'within' if g <= GRAPHS_TARGET_S else 'OVER'} the "
              f"{GRAPHS_TARGET_S} s target); overhead share of eager "
              f"{100 * (1 - g / out['runner_epoch_s']):.0f}%")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
