"""``pytest bench/`` in a checkout: make sure the cnnbench plugin (bench/plugin.py) is loaded.

An installed cnnbench (``pip install .`` or ``-e .``) registers the plugin through its ``pytest11``
entry point; a checkout without that entry point gets it here. Registering it only when absent
keeps its hooks and options from being added twice (pytest would stop at the second
``--epochs``). ``-p no:cnnbench`` blocks the name, and then neither path loads it.
"""

from bench import plugin


def pytest_addoption(parser, pluginmanager):
    # Called when this conftest is registered, before the command line is parsed: the plugin's
    # own pytest_addoption (a historic hook) runs on registration, so its options parse too.
    if not pluginmanager.is_registered(plugin):
        pluginmanager.register(plugin, "cnnbench")
