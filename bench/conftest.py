"""``pytest bench/`` loads the cnnbench plugin (options, session, cases): see bench/plugin.py.

A conftest below the rootdir may not set ``pytest_plugins``, so the plugin's hooks and fixture
are imported here, which registers them exactly as the plugin module would be.
"""

from bench.plugin import *  # noqa: F403
