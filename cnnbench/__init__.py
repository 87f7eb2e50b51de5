"""cnnbench: a benchmark suite for the speed/accuracy trade-offs of convolutional networks.

One import namespace, layered so that nothing imports upward:

    cnnbench.vocab, cnnbench.record, cnnbench.layout   torch-free facts every package shares
    cnnbench.models    the architecture zoo (specs, registry, recipes)
    cnnbench.data      verified MNIST-style datasets and device-resident loaders
    cnnbench.reports   saved runs -> analysis -> tables, plots, HTML (torch-free)
    cnnbench.bench     the runner, the pytest plugin and cases, the CLI, nightly, Ray

In the repository the four packages are the top-level folders ``models/``, ``data/``,
``reports/`` and ``bench/``; pyproject.toml maps them under ``cnnbench``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cnnbench")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
