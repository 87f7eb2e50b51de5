"""Python source that makes torch unimportable, for subprocess tests of the torch-free paths.

``sys.modules["torch"] = None`` would block it too, but scipy's array-API helpers look torch up
in sys.modules and call getattr on the None placeholder, so the block is a finder that refuses
torch and its submodules: ``import torch`` raises ModuleNotFoundError and nothing else changes.
"""

BLOCK_TORCH = """
import sys


class _NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)")
        return None


sys.meta_path.insert(0, _NoTorch())
for _name in [m for m in sys.modules if m == "torch" or m.startswith("torch.")]:
    del sys.modules[_name]
"""
