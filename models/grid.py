"""The parametric family: depth × kernel × stride × padding × pooling × width.

A point is ``depth`` blocks of [conv(width, kernel, stride, padding) → ReLU → 2×2 pooling (unless
"none")], then one linear layer to the classes. Its name spells every factor:
``grid_d3_k5_s1_same_max_w32``. Any such name can be created, registered or not; the default
grid registered below is the full factorial at width 32 minus the points whose spatial size
drops below 1 (found from the spec, not at training time), plus a width sweep at one centre.
"""

from __future__ import annotations

import itertools
import re

from .analysis import analyze
from .registry import SpecFn, register_model, register_resolver
from .spec import ArchSpec, Conv, Flatten, Linear, Pool

DEPTHS = (1, 2, 3, 4, 5, 6)
KERNELS = (3, 5, 7)
STRIDES = (1, 2, 3)
PADDINGS = ("valid", "same")
POOLINGS = ("max", "avg", "none")
WIDTH = 32
# Width sweep at the centre point d2 k5 s1 same max (the seed000_net0-like shape).
CENTRE_WIDTHS = (8, 16, 64)

NAME_RE = re.compile(
    r"^grid_d(?P<depth>\d+)_k(?P<kernel>\d+)_s(?P<stride>\d+)_(?P<padding>valid|same)"
    r"_(?P<pooling>max|avg|none)_w(?P<width>\d+)$"
)


def grid_name(depth, kernel, stride, padding, pooling, width) -> str:
    return f"grid_d{depth}_k{kernel}_s{stride}_{padding}_{pooling}_w{width}"


def grid_spec(depth=2, kernel=5, stride=1, padding="same", pooling="max", width=WIDTH,
              input_shape=(1, 28, 28), num_classes=10) -> ArchSpec:
    """The spec of one grid point. Bad factors raise ValueError naming the factor or layer."""
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"grid: depth {depth!r} must be an integer >= 1")
    if padding not in PADDINGS:
        raise ValueError(f"grid: unknown padding {padding!r} (use one of {PADDINGS})")
    if pooling not in POOLINGS:
        raise ValueError(f"grid: unknown pooling {pooling!r} (use one of {POOLINGS})")
    layers: list = []
    for _ in range(depth):
        # Width, kernel and stride are checked per layer by analyze(), which names the layer.
        layers.append(Conv(width, kernel, stride, "same" if padding == "same" else 0))
        if pooling != "none":
            layers.append(Pool(pooling, 2))
    layers += [Flatten(), Linear(num_classes, act=None)]
    pool = "" if pooling == "none" else f", {pooling}pool 2"
    return ArchSpec(grid_name(depth, kernel, stride, padding, pooling, width), tuple(layers),
                    "grid", tuple(input_shape), num_classes, tags=("grid",),
                    description=f"{depth} × [conv {kernel}×{kernel} s{stride} {padding}{pool}], "
                                f"width {width}")


def parse_grid_name(name: str) -> dict | None:
    m = NAME_RE.match(name)
    if not m:
        return None
    d = m.groupdict()
    return {k: (v if k in ("padding", "pooling") else int(v)) for k, v in d.items()}


def _is_valid(**factors) -> bool:
    try:
        analyze(grid_spec(**factors))
    except ValueError:
        return False
    return True


def default_points() -> list[dict]:
    points = [dict(depth=d, kernel=k, stride=s, padding=p, pooling=q, width=WIDTH)
              for d, k, s, p, q in itertools.product(DEPTHS, KERNELS, STRIDES, PADDINGS, POOLINGS)]
    points += [dict(depth=2, kernel=5, stride=1, padding="same", pooling="max", width=w)
               for w in CENTRE_WIDTHS]
    return [p for p in points if _is_valid(**p)]


def _spec_fn(point: dict) -> SpecFn:
    def make(**overrides) -> ArchSpec:
        return grid_spec(**{**point, **overrides})

    return make


@register_resolver
def _resolve(name: str) -> SpecFn | None:
    """Any grid point is addressable by name, registered or not."""
    point = parse_grid_name(name)
    return None if point is None else _spec_fn(point)


for _point in default_points():
    register_model(_spec_fn(_point), name=grid_name(**_point))
