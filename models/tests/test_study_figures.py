"""Every figure the studies printed, restated from their text and compared value by value with
what models/ holds (``describe(name)["reported"]``).

The tables below are copied from ../shared/seeds/*.txt by hand, independently of
models/seeds.py; where that folder exists, a second test reads the printed lines themselves and
requires the same tables, so neither copy can drift from the source.
"""

import re
from pathlib import Path

import pytest

from cnnbench import models

SEEDS = Path("/work/shared/seeds")

# Study 004 printed "Iteration: {}. Loss:{}. Accuracy: {}" every 500 iterations, one block per
# model, in the order A, B, C. Accuracy is 100 * correct / total on integer tensors (truncated).
SEED004 = {
    "seed004_model_a": [(500, 0.04247228056192398, 98), (1000, 0.12507490813732147, 98),
                        (1500, 0.10888931155204773, 98), (2000, 0.025883041322231293, 98),
                        (2500, 0.053134769201278687, 98), (3000, 0.021015744656324387, 98)],
    "seed004_model_b": [(500, 0.6524097919464111, 86), (1000, 0.6030823588371277, 89),
                        (1500, 0.2930809259414673, 89), (2000, 0.29460909962654114, 91),
                        (2500, 0.28996703028678894, 92), (3000, 0.2284603714942932, 93)],
    "seed004_model_c": [(500, 0.15751191973686218, 92), (1000, 0.11110392212867737, 95),
                        (1500, 0.2289888560771942, 96), (2000, 0.1407839059829712, 96),
                        (2500, 0.0230003260076046, 97), (3000, 0.03644980862736702, 97)],
}
# Lab 4 (001) printed "Epoch {k}: {loss}" for k = 0, 1, 2, then round(correct / total, 3).
LAB4 = {
    "seed001_lab4_maxpool_softmax_nll": ([-0.997342586517334, -1.0, -1.0], 0.875),
    "seed001_lab4_avgpool_softmax_nll": ([-0.9991691708564758, -0.800000011920929,
                                          -0.9100052118301392], 0.894),
}
# Study 002's tqdm bar: "loss=0.6927734017372131 batch_id=468: 100%| 469/469 [00:12<00:00,
# 36.63it/s]".
SEED002 = dict(loss=0.6927734017372131, iterations=469, seconds=12, it_per_s=36.63)


def _rep(name: str) -> dict:
    return models.describe(name)["reported"]


@pytest.mark.parametrize("name", sorted(SEED004))
def test_seed004_every_printed_accuracy_and_loss(name):
    rep = _rep(name)
    rows = SEED004[name]
    assert rep["eval_accuracy"] == [[i, pytest.approx(a / 100, abs=1e-12)] for i, _, a in rows]
    assert rep["step_losses"] == [[i, loss] for i, loss, _ in rows]  # exact, every digit
    assert rep["test_accuracy"] == pytest.approx(rows[-1][2] / 100, abs=1e-12)
    # Truncated: the true accuracy is in [a, a + 1) %.
    assert rep["lower_bound"] is True and rep["resolution"] == 0.01
    assert rep["epoch_losses"] == [] and rep["timing"] is None


@pytest.mark.parametrize("name", sorted(LAB4))
def test_lab4_every_epoch_loss_and_the_accuracy(name):
    rep = _rep(name)
    losses, accuracy = LAB4[name]
    assert rep["epoch_losses"] == losses and rep["final_loss"] == losses[-1]
    assert rep["test_accuracy"] == accuracy
    assert (rep["resolution"], rep["lower_bound"]) == (0.001, False)  # round(x, 3)
    assert rep["eval_accuracy"] == [] and rep["step_losses"] == [] and rep["timing"] is None


def test_seed002_loss_iterations_seconds_and_rate():
    rep = _rep("seed002_conv7")
    t = rep["timing"]
    assert rep["epoch_losses"] == [SEED002["loss"]] and rep["final_loss"] == SEED002["loss"]
    assert (t["iterations"], t["seconds"], t["it_per_s"], t["device"]) == (
        SEED002["iterations"], SEED002["seconds"], SEED002["it_per_s"], "Tesla T4")
    assert rep["test_accuracy"] is None  # its test() call is commented out


def _read(prefix: str) -> str:
    found = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not found:
        pytest.skip(f"no study {prefix} text in {SEEDS}")
    return found[0].read_text()


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"the studies' texts are not in {SEEDS}")
def test_the_tables_above_are_what_the_studies_printed():
    lines = re.findall(r"Iteration: (\d+)\. Loss:([-\d.e]+)\. Accuracy: (\d+)", _read("004"))
    printed = [(int(i), float(loss), int(a)) for i, loss, a in lines]
    assert printed == [row for name in sorted(SEED004) for row in SEED004[name]]

    lab4 = _read("001")
    losses = [float(v) for v in re.findall(r"^Epoch \d: ([-\d.]+)$", lab4, re.M)]
    accs = [float(v) for v in re.findall(r"^accuracy:\s+([\d.]+)$", lab4, re.M | re.I)]
    assert losses == [v for name in sorted(LAB4, reverse=True) for v in LAB4[name][0]]
    assert accs == [LAB4[name][1] for name in sorted(LAB4, reverse=True)]  # max, then avg

    bar = re.search(r"loss=([\d.]+) batch_id=\d+: 100%.*?(\d+)/\d+ \[00:(\d+)<00:00, "
                    r"([\d.]+)it/s\]", _read("002"))
    assert (float(bar[1]), int(bar[2]), int(bar[3]), float(bar[4])) == (
        SEED002["loss"], SEED002["iterations"], SEED002["seconds"], SEED002["it_per_s"])
