"""tox's `report` environment installs exactly what `reports` imports, and no torch."""

import ast
import configparser
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

REPORTS = Path(__file__).resolve().parents[1]
TOX = REPORTS.parent / "tox.ini"
FIRST_PARTY = {"cnnbench"}
# Optional extras, imported lazily where they are used: without them the page says what it
# skipped (HTA's trace breakdown: the `hta` extra, which pulls jupyterlab and plotly).
OPTIONAL = {"hta"}


def third_party_imports() -> set[str]:
    names = set()
    for path in REPORTS.glob("*.py"):  # the package itself, not its tests
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    # cnnbench itself is installed without its dependencies (commands_pre), so its own imports
    # are not deps.
    return {n for n in names
            if n not in sys.stdlib_module_names and n not in FIRST_PARTY | OPTIONAL}


def test_report_env_installs_what_reports_imports_and_no_torch():
    tox = configparser.ConfigParser()
    tox.read(TOX)
    env = tox["testenv:report"]
    assert env.get("skip_install") == "true", "installing the project would pull torch"
    assert "--no-deps" in env.get("commands_pre", ""), "cnnbench itself must be installed"
    deps = {re.match(r"[A-Za-z0-9_.-]+", d.strip()).group(0).lower()
            for d in env["deps"].splitlines() if d.strip()}
    dists = packages_distributions()
    needed = {dists[m][0].lower() for m in third_party_imports()}
    assert needed, "found no third-party import in reports/"
    assert needed <= deps, f"tox.ini [testenv:report] deps lack {sorted(needed - deps)}"
    assert not any(d.startswith("torch") for d in deps)
