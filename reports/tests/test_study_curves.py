"""The report's study-side views: iteration-level evaluation / batch-accuracy curves, and the
Lab 4 comparison in four rows (max/avg × bug/fixed) with the study's figures beside the bug."""

import warnings

from cnnbench.reports.html import render_report
from cnnbench.reports.lab4 import LAB4_NETS, lab4_rows
from cnnbench.reports.plots import plot_study_curves
from cnnbench.reports.tests.records import frame, record

LAB4_REPORTED = {  # as models/seeds.py's Reported.as_dict() writes it into the record
    "seed001_lab4_maxpool_softmax_nll": {"dataset": "mnist", "recipe": "seed",
                                         "test_accuracy": 0.875, "epoch_losses": [-1.0]},
    "seed001_lab4_avgpool_softmax_nll": {"dataset": "mnist", "recipe": "seed",
                                         "test_accuracy": 0.894, "epoch_losses": [-0.91]},
}


def lab4_records(dataset="mnist"):
    accs = {arch: 0.80 + 0.03 * i for i, (_, _, arch) in enumerate(LAB4_NETS)}
    return [record(arch, family="seed001", acc=accs[arch], recipe="seed", dataset=dataset,
                   train_loss=[-0.5, -0.95] if "softmax" in arch else [0.9, 0.3],
                   reported=LAB4_REPORTED.get(arch)) for arch in reversed(list(accs))], accs


def test_lab4_four_rows_bug_first_with_the_studys_figures(tmp_path):
    recs, accs = lab4_records()
    rows = lab4_rows(frame(tmp_path, recs))
    assert [r["arch"] for r in rows] == [arch for _, _, arch in LAB4_NETS]
    assert [(r["pooling"], "bug" in r["loss"]) for r in rows] == [
        ("max", True), ("average", True), ("max", False), ("average", False)]
    for r in rows:
        assert r["test_accuracy"] == accs[r["arch"]]
        if r["arch"] in LAB4_REPORTED:  # same dataset and recipe: comparable, side by side
            study = 100 * LAB4_REPORTED[r["arch"]]["test_accuracy"]
            assert f"{study:.1f}%" in r["study"] and f"{100 * accs[r['arch']]:.1f}%" in r["study"]
            assert r["study_final_loss"] == LAB4_REPORTED[r["arch"]]["epoch_losses"][-1]
            assert r["final_loss"] == -0.95
        else:
            assert r["study"] is None and r["study_final_loss"] is None
    page = render_report(frame(tmp_path, recs))
    assert 'id="lab4-table"' in page and page.count('<tr data-key="seed001_lab4_') == 4


def test_lab4_on_another_dataset_says_not_comparable(tmp_path):
    recs, _ = lab4_records(dataset="fashion-mnist")
    rows = lab4_rows(frame(tmp_path, recs))
    assert all("not comparable" in r["study"] for r in rows if r["arch"] in LAB4_REPORTED)
    assert lab4_rows(frame(tmp_path / "none", [record("seed000_net0", family="seed000")])) == []


def test_study_curves_draw_eval_points_and_batch_accuracy(tmp_path):
    seed004 = record("seed004_model_b", family="seed004", eval_split="test",
                     steps_per_epoch=600, eval_steps=[500, 1000, 1500, 2000, 2500, 3000],
                     eval_accuracies=[0.86, 0.89, 0.89, 0.91, 0.92, 0.93],
                     times=(1.0,) * 5)
    seed003 = record("seed003_lenet_dropout", family="seed003", steps_per_epoch=937,
                     train_accuracy_steps=[0.1 * i for i in range(1, 10)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = plot_study_curves(frame(tmp_path, [seed004, seed003]))
    assert p.svg and "seed004_model_b (test)" in p.svg and "seed003_lenet_dropout" in p.svg
    # one evaluation at the end (studies 001-003) is no curve: nothing to draw
    single = record("seed002_conv7", family="seed002", steps_per_epoch=469, eval_steps=[469],
                    eval_accuracies=[0.9])
    p = plot_study_curves(frame(tmp_path / "single", [single]))
    assert p.svg is None and "eval_steps" in p.note
