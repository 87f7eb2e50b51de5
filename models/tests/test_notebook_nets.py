"""Every seed net computes what its notebook's net computes, given the same weights.

The notebook nets are written independently in ``notebook_nets.py``. A changed pooling kind,
activation, padding, dropout rate or head in ``models/`` changes the outputs, and fails here.
"""

import pytest
import torch

from cnnbench import models
from cnnbench.models.tests.notebook_nets import NOTEBOOK_NETS


def test_every_seed_net_has_a_notebook_net():
    assert sorted(NOTEBOOK_NETS) == models.list_archs("seed*")


def _copy_weights(src: torch.nn.Module, dst: torch.nn.Module) -> None:
    # Both list their parameters in forward order (weight, bias per layer); the shapes must
    # agree one by one, so a missing or resized layer fails here already.
    pairs = list(zip(src.parameters(), dst.parameters(), strict=True))
    with torch.no_grad():
        for i, (s, d) in enumerate(pairs):
            assert s.shape == d.shape, f"parameter {i}: notebook {s.shape}, ours {d.shape}"
            d.copy_(s)


def _outputs(net: torch.nn.Module, x: torch.Tensor, train: bool) -> torch.Tensor:
    net.train(train)
    torch.manual_seed(1)  # the same dropout mask for both nets in training mode
    with torch.no_grad():
        return net(x)


@pytest.mark.parametrize("name", sorted(NOTEBOOK_NETS))
def test_seed_net_matches_the_notebook_net(name):
    torch.manual_seed(0)
    notebook = NOTEBOOK_NETS[name]()
    ours = models.create(name)
    _copy_weights(notebook, ours)
    x = torch.randn(16, 1, 28, 28)
    # Eval mode checks the layers; training mode also checks every dropout's rate and place.
    for train in (False, True):
        want = _outputs(notebook, x, train)
        torch.testing.assert_close(_outputs(ours, x, train), want, msg=f"{name} train={train}")
    # The comparison can fail: the scores are not all zero or all equal.
    assert want.std() > 0


def test_copying_weights_rejects_a_resized_layer():
    notebook = NOTEBOOK_NETS["seed000_net6"]()  # conv 5×5 stride 1: fc 2880 → 500
    with pytest.raises(AssertionError, match="parameter 2: notebook"):
        _copy_weights(notebook, models.create("seed000_net7"))  # stride 3: fc 320 → 500
