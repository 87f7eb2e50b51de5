"""`make mutate`'s configuration still names real files and functions.

The run takes minutes and is not part of `make test`, so a renamed function or moved test file
would otherwise be found only by the next person who runs it (mutmut stops at a pattern that
matches nothing, and silently skips a test path that is gone).
"""

import ast
import fnmatch
import re

from cnnbench.bench.tests.common import REPO

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: tomli, which pytest itself depends on there
    import tomli as tomllib

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
SCRIPT = (REPO / "scripts/mutate.sh").read_text()


def checkout_path(copy_path: str):
    """A path in build/mutate/ (laid out as the installed package) -> the checkout's file."""
    package, _, rest = copy_path.partition("/")
    assert package == "cnnbench", copy_path
    sub, _, tail = rest.partition("/")
    dirs = PYPROJECT["tool"]["setuptools"]["package-dir"]
    return REPO / (f"{dirs['cnnbench.' + sub]}/{tail}" if f"cnnbench.{sub}" in dirs
                   else f"cnnbench/{rest}")


def script_array(name: str) -> list[str]:
    """The words of a bash array ``NAME=(...)`` in scripts/mutate.sh, quoted or not."""
    body = re.search(rf"^{name}=\((.*?)\)$", SCRIPT, re.S | re.M).group(1)
    return [quoted or bare for quoted, bare in re.findall(r"'([^']+)'|([\w.]+)", body)]


def plain_functions(path) -> set[str]:
    """mutmut's names for the undecorated functions and methods it can mutate in ``path``."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef) and not node.decorator_list:
            names.add(f"x_{node.name}")
        if isinstance(node, ast.ClassDef):
            names |= {f"xǁ{node.name}ǁ{f.name}" for f in node.body
                      if isinstance(f, ast.FunctionDef) and not f.decorator_list}
    return names


def test_the_mutated_files_and_the_tests_exist():
    cfg = PYPROJECT["tool"]["mutmut"]
    for path in cfg["only_mutate"] + cfg["pytest_add_cli_args_test_selection"]:
        assert checkout_path(path).is_file(), path


def test_every_mutant_pattern_names_a_plain_function_of_a_mutated_file():
    mutated = {p.removesuffix(".py").replace("/", ".")
               for p in PYPROJECT["tool"]["mutmut"]["only_mutate"]}
    patterns = script_array("MUTANTS")
    assert len(patterns) >= 10
    for pattern in patterns:
        module = next((m for m in mutated if pattern.startswith(m + ".")), None)
        assert module, f"{pattern}: not in a file listed in only_mutate"
        functions = plain_functions(checkout_path(module.replace(".", "/") + ".py"))
        name = pattern.removeprefix(module + ".")
        assert any(fnmatch.fnmatch(f"{f}__mutmut_1", name) for f in functions), pattern


def test_the_fork_server_preloads_modules_that_exist():
    ours = [m for m in script_array("PRELOAD") if m.split(".")[0] == "cnnbench"]
    assert "cnnbench.bench.runner" in ours
    for module in ours:
        path = module.replace(".", "/")
        assert (REPO / "cnnbench/__init__.py" if module == "cnnbench" else
                checkout_path(path + ".py") if checkout_path(path + ".py").is_file() else
                checkout_path(path + "/__init__.py")).is_file(), module
