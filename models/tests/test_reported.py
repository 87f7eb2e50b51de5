"""The studies' printed figures, kept as data with how and where they were measured."""

import json

import pytest

from cnnbench import models
from cnnbench.models import Reported

LAB4 = ["seed001_lab4_maxpool_softmax_nll", "seed001_lab4_avgpool_softmax_nll"]


def _rep(name: str) -> dict:
    return models.describe(name)["reported"]


def test_figures_belong_to_the_nets_they_were_measured_on():
    have = {n for n in models.list_archs("seed*") if _rep(n) is not None}
    # 000 and 003 kept no outputs; Lab 4 measured its two buggy nets, not the corrected pair.
    assert have == {*LAB4, "seed002_conv7", "seed004_model_a", "seed004_model_b",
                    "seed004_model_c"}
    for name in have:
        rep = _rep(name)
        assert (rep["dataset"], rep["recipe"]) == ("mnist", "seed")
        json.dumps(rep)  # it lands in the records as is


def test_lab4_printed_875_and_894_rounded_to_three_places():
    mx, avg = (_rep(n) for n in LAB4)
    assert (mx["test_accuracy"], avg["test_accuracy"]) == (0.875, 0.894)
    assert mx["accuracy_range"] == [0.8745, 0.8755] and not mx["lower_bound"]
    # The final losses the notebook printed: -1.0 (max) and -0.91 (avg).
    assert mx["final_loss"] == -1.0 and avg["final_loss"] == pytest.approx(-0.91, abs=1e-4)


def test_seed002_printed_a_loss_and_a_time_but_no_accuracy():
    rep = _rep("seed002_conv7")
    assert rep["test_accuracy"] is None and rep["accuracy_range"] is None
    assert rep["final_loss"] == pytest.approx(0.6928, abs=1e-4)
    t = rep["timing"]
    assert (t["iterations"], t["seconds"], t["device"]) == (469, 12, "Tesla T4")


@pytest.mark.parametrize("name,first,last", [
    ("seed004_model_a", 0.98, 0.98), ("seed004_model_b", 0.86, 0.93),
    ("seed004_model_c", 0.92, 0.97),
])
def test_seed004_accuracy_every_500_iterations_is_a_lower_bound(name, first, last):
    rep = _rep(name)
    curve = rep["eval_accuracy"]
    assert (curve[0][1], curve[-1][1], rep["test_accuracy"]) == (first, last, last)
    assert rep["lower_bound"] and rep["accuracy_range"] == [last, pytest.approx(last + 0.01)]
    assert [i for i, _ in rep["step_losses"]] == [i for i, _ in curve]


def test_rounded_and_truncated_ranges():
    rounded = Reported(test_accuracy=0.5, resolution=0.01)
    truncated = Reported(test_accuracy=0.5, resolution=0.01, lower_bound=True)
    assert rounded.accuracy_range == (0.495, 0.505)
    assert truncated.accuracy_range == (0.5, 0.51)


@pytest.mark.parametrize("fields,match", [
    (dict(test_accuracy=87.5, resolution=0.001), "must be a fraction"),
    (dict(test_accuracy=0.875), "needs its resolution"),
    (dict(test_accuracy=0.9, resolution=0.01, eval_accuracy=((500, 0.8),)),
     "is not the last accuracy printed"),
])
def test_inconsistent_figures_are_rejected(fields, match):
    with pytest.raises(ValueError, match=match):
        Reported(**fields)
