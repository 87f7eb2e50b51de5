import ast
import subprocess
import sys
from pathlib import Path

from cnnbench.reports.tests.no_torch import BLOCK_TORCH

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
    code = ("import sys, cnnbench.reports.__main__, cnnbench.reports.html, "
            "cnnbench.reports.compare, cnnbench.reports.findings; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPORTS.parent, check=True)
    assert out.stdout.strip() == "False"


BLOCKED_BUILD = BLOCK_TORCH + """
import cnnbench.record, cnnbench.reports.__main__, cnnbench.reports.html
import cnnbench.reports.compare, cnnbench.reports.findings
sys.exit(cnnbench.reports.__main__.main(sys.argv[1:]))
"""


def test_a_schema_1_run_and_a_bare_failed_line_build_a_page_with_torch_blocked(tmp_path):
    """Today's runner output (schema 1) and a record that failed before setup (no family, no
    timings) load and render without torch; the bare one is shown as a failed case."""
    from cnnbench.reports.tests.fixture_files import RUNNER_JSONL

    assert '"schema_version": 1' in RUNNER_JSONL.read_text()
    bare = tmp_path / "bare.jsonl"
    bare.write_text('{"arch": "foo", "status": "error"}\n')
    out = tmp_path / "report.html"
    proc = subprocess.run([sys.executable, "-c", BLOCKED_BUILD, "build", str(RUNNER_JSONL),
                           str(bare), "-o", str(out)], capture_output=True, text=True,
                          cwd=REPORTS.parent)
    assert proc.returncode == 0, proc.stderr
    html = out.read_text()
    failed = html[html.index('<section id="failed">'):]
    assert ">foo<" in failed[:failed.index("</section>")]
