"""The architecture registry: one decorated function per architecture, as timm's @register_model.

A registered function takes keyword overrides (at least ``input_shape`` and ``num_classes``) and
returns an ArchSpec. Its name is the architecture name and the benchmark test id.
"""

from __future__ import annotations

import copy
import difflib
import fnmatch
from collections.abc import Callable
from functools import cache

from torch import nn

from cnnbench.record import natural_key

from .analysis import analyze, summarize
from .build import build, count_params, measured_flops
from .spec import ArchSpec

SpecFn = Callable[..., ArchSpec]
_REGISTRY: dict[str, SpecFn] = {}
# Families whose every name can be created, registered or not (the grid): a resolver maps a name
# to its spec function, or to None when the name is not one of its own. Families register here,
# so this module imports none of them.
_RESOLVERS: list[Callable[[str], SpecFn | None]] = []


def register_model(fn: SpecFn | None = None, *, name: str | None = None):
    """Register ``fn`` under ``name`` (default: the function's name). Duplicates are an error."""

    def deco(f: SpecFn) -> SpecFn:
        key = name or f.__name__
        if key in _REGISTRY:
            raise ValueError(f"architecture {key!r} is registered twice")
        _REGISTRY[key] = f
        return f

    return deco(fn) if fn is not None else deco


def register_resolver(fn: Callable[[str], SpecFn | None]) -> Callable[[str], SpecFn | None]:
    """Let a family answer for names that are not registered (see ``_RESOLVERS``)."""
    _RESOLVERS.append(fn)
    return fn


def list_archs(pattern: str = "*") -> list[str]:
    """Registered names matching a shell-style pattern (or comma-separated patterns)."""
    pats = [p.strip() for p in pattern.split(",") if p.strip()] or ["*"]
    names = [n for n in _REGISTRY if any(fnmatch.fnmatchcase(n, p) for p in pats)]
    return sorted(names, key=natural_key)  # seed000_net2 < seed000_net10


def _lookup(name: str) -> SpecFn:
    if name in _REGISTRY:
        return _REGISTRY[name]
    for resolve in _RESOLVERS:
        fn = resolve(name)
        if fn is not None:
            return fn
    close = difflib.get_close_matches(name, list(_REGISTRY), n=5, cutoff=0.6)
    hint = f"; did you mean: {', '.join(close)}" if close else ""
    raise KeyError(f"unknown architecture {name!r}{hint}")


def get_spec(name: str, **overrides) -> ArchSpec:
    """The spec for ``name`` with overrides applied, checked (ValueError if it cannot work)."""
    fn = _lookup(name)
    try:
        spec = fn(**overrides)
    except TypeError as e:  # an override the function does not take
        raise ValueError(f"{name}: bad override: {e}") from None
    analyze(spec)
    return spec


def create(name: str, **overrides) -> nn.Module:
    """Build the architecture as an ``nn.Module`` (a SpecNet) on the CPU, fp32."""
    return build(get_spec(name, **overrides))


def describe(name: str, **overrides) -> dict:
    """Plain-data analysis of an architecture: per-layer shapes, params, FLOPs, receptive field.

    ``params`` and ``flops_per_image`` are measured on the built module (its parameters;
    torch's FlopCounterMode, forward, and forward + backward for ``train_flops_per_image``).
    ``formula_params`` and ``formula_flops_per_image`` are the spec's formulas, the sums of the
    per-layer figures in ``layers``; a unit test pins that the two agree.
    """
    return copy.deepcopy(_describe(name, tuple(sorted(overrides.items()))))


@cache
def _describe(name: str, overrides: tuple) -> dict:
    spec = get_spec(name, **dict(overrides))
    infos = analyze(spec)
    model = build(spec)
    fwd, step = measured_flops(model, spec.input_shape)
    info = summarize(spec, infos)
    info.update(
        name=name,
        family=spec.family,
        tags=list(spec.tags),
        description=spec.description,
        input_shape=list(spec.input_shape),
        num_classes=spec.num_classes,
        head=spec.head,
        params=count_params(model),
        flops_per_image=fwd,
        train_flops_per_image=step,
        layers=[i.as_dict() for i in infos],
        recipe=spec.recipe.as_dict(),
        reported=spec.reported.as_dict() if spec.reported else None,
    )
    return info
