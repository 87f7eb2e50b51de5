import subprocess
import sys

from models.__main__ import main


def test_show_seed002_prints_its_params(capsys):
    assert main(["show", "seed002_conv7"]) == 0
    out = capsys.readouterr().out
    assert "Total params: 6,379,786" in out
    assert "1024×3×3" in out and "Receptive field: 40 px" in out


def test_list_prints_one_row_per_arch(capsys):
    assert main(["list", "seed000_*"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("seed000_net")]
    assert len(rows) == 10
    assert "431,080" in rows[0] and rows[0].split()[-1] == "16"


def test_unknown_name_is_a_clean_error(capsys):
    assert main(["show", "seed000_nett"]) == 2
    assert "did you mean" in capsys.readouterr().err


def test_module_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "models", "list", "grid_d1_k3_s1_*"],
                         capture_output=True, text=True, check=True).stdout
    assert "grid_d1_k3_s1_same_max_w32" in out
