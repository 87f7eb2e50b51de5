import ast
import subprocess
import sys
from pathlib import Path

REPORTS = Path(__file__).resolve().parents[1]


def test_no_torch_import_in_source():
    for path in REPORTS.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n == "torch" or n.startswith("torch.") for n in names), path


def test_importing_reports_does_not_load_torch():
    code = ("import sys, reports.__main__, reports.html, reports.compare, reports.findings; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPORTS.parent, check=True)
    assert out.stdout.strip() == "False"
