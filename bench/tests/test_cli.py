"""The ``cnnbench`` console script: each subcommand reaches its module's main, the report
commands need no torch, and a misplaced pytest option gets a hint."""

import subprocess
import sys
from importlib.metadata import entry_points

from cnnbench.bench import cli
from cnnbench.bench.tests.common import REPO
from cnnbench.reports.tests.no_torch import BLOCK_TORCH

RUNS = REPO / "reports" / "tests" / "fixtures" / "cpu_run.jsonl"

# Run bench.cli with torch unimportable: `import torch` raises ImportError.
NO_TORCH = BLOCK_TORCH + "from cnnbench.bench.cli import main; sys.exit(main(sys.argv[1:]))"


def _no_torch(*args):
    return subprocess.run([sys.executable, "-c", NO_TORCH, *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def test_console_script_is_installed_as_bench_cli_main():
    (ep,) = entry_points(group="console_scripts", name="cnnbench")
    assert ep.load() is cli.main, "reinstall the project (make setup) after editing pyproject"


def test_report_and_compare_run_without_torch(tmp_path):
    page = tmp_path / "page" / "report.html"
    proc = _no_torch("report", RUNS, "-o", page)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert page.read_text().startswith("<!DOCTYPE html>")
    proc = _no_torch("compare", RUNS, RUNS)  # a run against itself: no regression
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "seed000_net0" in proc.stdout
    proc = _no_torch("table", RUNS)
    assert proc.returncode == 0 and proc.stdout.startswith("|"), proc.stderr[-2000:]


def test_models_list_and_show(capsys):
    assert cli.main(["models", "list", "seed000_net*"]) == 0
    out = capsys.readouterr().out
    assert "seed000_net5" in out and "seed003" not in out
    assert cli.main(["models", "show", "seed000_net5"]) == 0
    assert "Total params" in capsys.readouterr().out


def test_misplaced_pytest_option_gets_the_hint(capsys):
    assert cli.main(["run", "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments: --epochs" in err and "go after `--`" in err


def test_help_lists_every_command_and_unknown_ones_are_refused(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(f"  {name}" in out for name in cli.COMMANDS)
    assert cli.main(["bogus"]) == 2
    assert "unknown command 'bogus'" in capsys.readouterr().err
    for name in cli.COMMANDS:  # every subcommand's own --help works and exits 0
        assert cli.main([name, "--help"]) == 0, name


def test_usage_names_the_cnnbench_subcommand_and_every_option_has_help(capsys):
    import re

    for name in cli.COMMANDS:
        assert cli.main([name, "--help"]) == 0, name
        out = capsys.readouterr().out
        assert out.startswith(f"usage: cnnbench {name}"), out[:80]
        # An option without help is a line of its own that no deeper-indented help line follows
        # (argparse puts a long option's help on the next line, indented to column 24).
        lines = out.splitlines() + [""]
        option = r"\s+-{1,2}[\w-]+( [A-Z_.]+)?(, --[\w-]+( [A-Z_.]+)?)?"
        bare = [line for line, after in zip(lines, lines[1:], strict=False)
                if re.fullmatch(option, line) and not after.startswith(" " * 10)]
        assert not bare, (name, bare)
    assert cli.main(["run", "--help"]) == 0
    assert "pytest -p cnnbench.bench.plugin --help" in " ".join(capsys.readouterr().out.split())


def test_version(capsys):
    from cnnbench import __version__

    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"cnnbench {__version__}" != "cnnbench 0+unknown"
