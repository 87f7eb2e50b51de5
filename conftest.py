"""The checkout's pytest: load the cnnbench plugin (options, cases) for `pytest bench/` and the
tests. An installed cnnbench registers no entry point, so nothing else gets it unasked."""

pytest_plugins = ["cnnbench.bench.plugin"]
