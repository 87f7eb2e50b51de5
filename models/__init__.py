"""The architecture zoo: every CNN of the source studies and a parametric grid, by name.

    >>> from cnnbench import models
    >>> models.list_archs("seed000_*")[:2]
    ['seed000_net0', 'seed000_net1']
    >>> net = models.create("grid_d3_k5_s1_same_max_w32")
    >>> models.describe("seed000_net0")["receptive_field"]
    16

Adding an architecture is one ``@register_model`` function in ``models/seeds.py`` (or a new
module imported below); its name becomes the benchmark's test id.
"""

from . import grid, seeds  # noqa: F401  (importing registers the architectures)
from .analysis import LayerInfo, analyze, conv_out
from .build import SpecNet, build, count_params, measured_flops
from .recipe import UNIFORM_RECIPE, Recipe
from .registry import create, describe, get_spec, list_archs, register_model
from .reported import Reported, Timing
from .spec import ArchSpec, Conv, Dropout, Flatten, Linear, Pool

__all__ = [
    "ArchSpec", "Conv", "Dropout", "Flatten", "LayerInfo", "Linear", "Pool", "Recipe", "Reported",
    "SpecNet", "Timing", "UNIFORM_RECIPE", "analyze", "build", "conv_out", "count_params",
    "create", "describe", "get_spec", "list_archs", "measured_flops", "register_model",
]
