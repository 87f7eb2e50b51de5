"""The built wheel, installed in a fresh venv: one `cnnbench` package that leaves other projects'
pytest alone, and whose suite runs and compares from any folder.

The fresh venv sees this venv's third-party packages (torch, pytest, ...) through a .pth line,
but not its editable cnnbench: what it imports of cnnbench comes from the wheel alone.
"""

from __future__ import annotations

import json
import site
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from cnnbench.bench.tests.common import REPO

pytestmark = pytest.mark.slow

# A project of someone else's, with the generic names cnnbench used to install at the top of
# site-packages, an option cnnbench also has, and a fixture named like cnnbench's case fixture.
UNRELATED = {
    "data.py": "VALUE = 'theirs'\n",
    "models.py": "VALUE = 'theirs'\n",
    "bench/__init__.py": "",
    "bench/thing.py": "VALUE = 'theirs'\n",
    "conftest.py": """
        import pytest

        def pytest_addoption(parser):
            parser.addoption("--device", default="toaster")

        @pytest.fixture
        def case():
            return "their case"
    """,
    "test_theirs.py": """
        import sys

        import data, models
        from bench import thing

        def test_their_modules_and_fixture(case, pytestconfig):
            assert (data.VALUE, models.VALUE, thing.VALUE) == ("theirs",) * 3
            assert case == "their case"
            assert pytestconfig.getoption("--device") == "toaster"

        def test_nothing_heavy_was_imported():
            heavy = {"torch", "numpy", "pandas", "tqdm"} & set(sys.modules)
            assert not heavy, heavy
    """,
}


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out), str(REPO)], check=True, capture_output=True)
    (path,) = out.glob("cnnbench-*.whl")
    return path


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed; returns its python."""
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path("
                              "'purelib'))"], capture_output=True, text=True, check=True)
    ours = Path(purelib.stdout.strip())
    (ours / "borrowed.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", "--no-index", str(wheel)], check=True, capture_output=True)
    return python


def _run(python: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def test_the_wheel_installs_cnnbench_and_nothing_else_at_the_top(wheel):
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"cnnbench"}
    names = zipfile.ZipFile(wheel).namelist()
    assert "cnnbench/bench/test_archs.py" in names and "cnnbench/record.py" in names
    assert "cnnbench/reports/templates/report.html.j2" in names
    assert not [n for n in names if "/tests/" in n], "the tests stay out of the wheel"


def test_an_unrelated_project_keeps_its_own_pytest(venv, tmp_path):
    project = _write(tmp_path / "theirs", UNRELATED)
    where = subprocess.run([venv, "-c", "import cnnbench; print(cnnbench.__file__)"],
                           capture_output=True, text=True, check=True, cwd=project)
    assert str(venv.parents[1]) in where.stdout, "cnnbench must come from the wheel"
    proc = _run(venv, project, "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout
    helped = _run(venv, project, "--help")
    assert helped.returncode == 0, helped.stderr
    assert "--cnnbench" not in helped.stdout and "--epochs" not in helped.stdout


def test_the_plugin_asked_for_by_name_is_inert_in_a_session_without_cases(venv, tmp_path):
    """`-p cnnbench.bench.plugin` where no case is collected: no torch, no parametrized
    fixture, pytest-benchmark's own xdist rule untouched, --help fine."""
    files = {k: v for k, v in UNRELATED.items() if k != "conftest.py"}
    files["conftest.py"] = ("import pytest\n\n@pytest.fixture\ndef case():\n"
                            "    return 'their case'\n")
    files["test_theirs.py"] = UNRELATED["test_theirs.py"].replace(
        'assert pytestconfig.getoption("--device") == "toaster"', "")
    project = _write(tmp_path / "theirs", files)
    proc = _run(venv, project, "-q", "-p", "cnnbench.bench.plugin")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    helped = _run(venv, project, "-p", "cnnbench.bench.plugin", "--help")
    assert helped.returncode == 0, helped.stderr
    assert "--epochs" in helped.stdout  # asked for: its options are listed


def test_two_runs_save_and_compare_from_the_installed_package(venv, tmp_path):
    """From a folder that is not the checkout, the installed suite runs by module name, saves,
    and compares with pytest-benchmark's own flags (a KeyError at configure time once made
    --benchmark-compare an INTERNALERROR here)."""
    args = ["-p", "cnnbench.bench.plugin", "--pyargs", "cnnbench.bench.test_archs", "-q",
            "-k", "seed003_lenet_dropout", "--dataset", "synthetic", "--epochs", "1",
            "--limit-train", "128", "--val-size", "64", "--no-torch-profile", "--no-artifacts",
            "--device", "cpu", "--benchmark-storage", f"file://{tmp_path / 'storage'}"]
    first = _run(venv, tmp_path, *args, "--benchmark-save=a")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    second = _run(venv, tmp_path, *args, "--benchmark-compare",
                  "--benchmark-compare-fail=mean:1000%", "--benchmark-json=b.json")
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert "INTERNALERROR" not in second.stdout + second.stderr
    assert "0001_a" in second.stdout  # the comparison table names the saved run
    (bench,) = json.loads((tmp_path / "b.json").read_text())["benchmarks"]
    assert bench["params"]["arch"] == "seed003_lenet_dropout"


def test_ray_ships_the_cnnbench_package_alone(tmp_path):
    """What `cnnbench run --executor ray` uploads (py_modules): the package as a wheel lays it
    out, without tests or caches, whether cnnbench is editable (four folders) or a wheel."""
    from cnnbench.bench.ray_executor import stage_package

    root = stage_package(tmp_path)
    files = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    for needed in ("__init__.py", "record.py", "bench/test_archs.py", "bench/plugin.py",
                   "models/seeds.py", "data/loaders.py", "reports/templates/report.html.j2"):
        assert needed in files, needed
    assert not [f for f in files if "/tests/" in f or f.startswith("tests/")]
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]
    assert sum((root / f).stat().st_size for f in files) < 4 * 2**20  # not an environment
