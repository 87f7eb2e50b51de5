"""Per-case pictures for the report: first-layer kernels and feature maps of one test image.

The source blog tried to draw these and crashed (its forward hook was registered after the
forward pass). Here both are drawn from the trained model right after training, untimed.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on CI or the GPU runners
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

MAX_MAPS = 32  # a 32-panel grid stays readable in the report


def _grid(images: torch.Tensor, title: str, path: Path) -> Path:
    n = images.shape[0]
    cols = min(8, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.1, rows * 1.1 + 0.4), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i].numpy(), cmap="gray", interpolation="nearest")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


@torch.no_grad()
def save_images(model: nn.Module, image: torch.Tensor, out_dir: Path) -> dict:
    """Write kernels.png and feature_maps.png; ``image`` is one normalized C×H×W input."""
    conv = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    if conv is None:
        return {"kernels_image": None, "feature_maps_image": None}
    out_dir.mkdir(parents=True, exist_ok=True)
    w = conv.weight.detach().float().cpu()[:MAX_MAPS]
    kernels = w.mean(dim=1)  # average over input channels: one picture per output channel
    maps = conv(image.unsqueeze(0).to(conv.weight.device, conv.weight.dtype))[0]
    maps = torch.relu(maps).float().cpu()[:MAX_MAPS]
    k = _grid(kernels, f"first conv kernels ({tuple(conv.weight.shape)})", out_dir / "kernels.png")
    f = _grid(maps, "first conv feature maps (after ReLU), one test image",
              out_dir / "feature_maps.png")
    return {"kernels_image": str(k), "feature_maps_image": str(f)}
