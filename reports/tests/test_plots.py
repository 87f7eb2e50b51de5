import warnings

import pytest

from cnnbench.reports.load import load_runs
from cnnbench.reports.plots import all_plots
from cnnbench.reports.tests.synth import make_record, write_run


def _plots(tmp_path, recs):
    write_run(tmp_path, "r", recs, json_too=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a plot that fails would warn: make it an error here
        return {p.key: p for p in all_plots(load_runs(tmp_path))}


def test_fixture_plots_render(fixture_df):
    plots = {p.key: p for p in all_plots(fixture_df)}
    assert {"pareto", "factors", "curves", "steps", "epoch_bars", "cost"} <= set(plots)
    for key in ("pareto", "curves", "epoch_bars", "cost"):
        assert plots[key].svg and plots[key].svg.startswith("<svg"), key
    # Labels are text (searchable in the page), and the time axis says which clock.
    timers = set(fixture_df["time_label"])
    if len(timers) == 1:
        assert timers.pop() in plots["epoch_bars"].svg


def test_single_case(tmp_path):
    plots = _plots(tmp_path, [make_record("grid_d1_k3_s1_same_max_w32")])
    assert plots["pareto"].svg and plots["epoch_bars"].svg
    assert plots["factors"].svg is None and "no two" in plots["factors"].note


@pytest.mark.parametrize("status", ["diverged", "oom"])
def test_all_failed(tmp_path, status):
    recs = [make_record("seed000_net0", status=status),
            make_record("grid_d2_k3_s1_same_max_w32", status=status)]
    if status == "oom":
        for r in recs:
            r.update(epoch_times_s=[], val_loss=[], val_accuracy=[], train_loss_steps=[])
    plots = _plots(tmp_path, recs)
    assert plots["pareto"].svg is None and plots["pareto"].note
    assert plots["factors"].svg is None and plots["cost"].svg is None
    if status == "oom":
        assert plots["epoch_bars"].svg is None and plots["curves"].svg is None
        assert plots["steps"].svg is None


def test_no_grid_cases(tmp_path):
    plots = _plots(tmp_path, [make_record("seed000_net0"), make_record("seed004_model_a")])
    assert plots["factors"].svg is None and "no finished grid" in plots["factors"].note
    assert plots["pareto"].svg


def test_dollar_signs_are_literal(tmp_path):
    odd = make_record("seed000_net0")
    odd["arch"] = "net_$x$_1"
    plots = _plots(tmp_path, [odd, make_record("seed004_model_a")])
    assert "net_$x$_1" in plots["pareto"].svg


def test_history_plot_orders_runs_by_start_time(tmp_path):
    for night, (start, slow) in {"night-b": ("2026-11-02T01:00:00+00:00", 1.5),
                                 "night-a": ("2026-11-01T01:00:00+00:00", 1.0)}.items():
        recs = [make_record(a, run_id=night) for a in ("seed000_net0", "seed004_model_a")]
        for r in recs:
            r.update(started_at=start, epoch_times_s=[t * slow for t in r["epoch_times_s"]])
        write_run(tmp_path, night, recs, json_too=False)
    plots = {p.key: p for p in all_plots(load_runs(tmp_path))}
    svg = plots["history"].svg
    assert svg and svg.index("night-a") < svg.index("night-b")


def test_no_history_for_one_run(fixture_df):
    assert "history" not in {p.key for p in all_plots(fixture_df)}
