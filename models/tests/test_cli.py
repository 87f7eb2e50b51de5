import subprocess
import sys

from cnnbench.models.__main__ import main


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
    out = subprocess.run([sys.executable, "-m", "cnnbench.models", "list", "grid_d1_k3_s1_*"],
                         capture_output=True, text=True, check=True).stdout
    assert "grid_d1_k3_s1_same_max_w32" in out


def test_show_prints_the_whole_seed_recipe(capsys):
    assert main(["show", "seed003_lenet_dropout"]) == 0
    out = capsys.readouterr().out
    assert "adam lr 0.01, 3 epochs" in out and "normalize (0.5, 0.5)" in out
    assert "batch 64 (drop_last True), eval batch 64" in out
    assert "validation split held out: no; evaluation: test split once, at the end" in out
    assert "per-step metrics: loss, accuracy" in out


def test_show_prints_the_reported_figures(capsys):
    assert main(["show", "seed004_model_b"]) == 0
    out = capsys.readouterr().out
    assert "test split every 500 iterations" in out and "eval batch 100" in out
    assert "test accuracy 93% (lower bound: true value in [93, 94) %)" in out
    assert "500: 86%, 1000: 89%" in out and "3000: 93%" in out
    assert main(["show", "seed001_lab4_avgpool_softmax_nll"]) == 0
    out = capsys.readouterr().out
    assert "89.4% (rounded: true value in [89.35, 89.45] %)" in out and "-0.91" in out
    assert main(["show", "seed002_conv7"]) == 0
    assert "469 iterations in 12 s on Tesla T4" in capsys.readouterr().out


def test_show_says_a_grid_net_trains_the_uniform_way(capsys):
    assert main(["show", "grid_d1_k3_s1_same_max_w32"]) == 0
    out = capsys.readouterr().out
    assert "(the uniform one): sgd lr 0.01, momentum 0.9" in out
    assert "validation split held out: yes; evaluation: val split after every epoch" in out
    assert "Reported by the study" not in out


def test_show_names_the_seed_and_the_deviations(capsys):
    assert main(["show", "seed003_lenet_dropout"]) == 0
    out = capsys.readouterr().out
    assert "random seed 0 (unless --seed is given" in out
    assert "deviation: the text contradicts the code: it says the last conv gives 4x4x20" in out
    assert main(["show", "seed000_net4"]) == 0
    out = capsys.readouterr().out
    assert "random seed 42" in out and "deviation: timing scope differs" in out
    assert main(["show", "seed002_conv7"]) == 0
    out = capsys.readouterr().out
    assert "random seed 1" in out and "deviation" not in out
