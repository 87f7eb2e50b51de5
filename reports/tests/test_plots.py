import warnings

import pytest

from cnnbench.reports.load import load_runs
from cnnbench.reports.plots import all_plots
from cnnbench.reports.tables import summarize_cases
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


# -------------------------------------------------- plots that tell the truth


def _tick_labels(ax, axis="y"):
    """The labels of the major ticks inside the view, as drawn."""

    a = ax.yaxis if axis == "y" else ax.xaxis
    lo, hi = sorted(ax.get_ylim() if axis == "y" else ax.get_xlim())
    return [t.get_text() for t, loc in zip(a.get_ticklabels(), a.get_ticklocs(), strict=True)
            if lo <= loc <= hi and t.get_text()]


def _draw(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    return fig.canvas.get_renderer()


@pytest.mark.parametrize("lo,hi", [(0.4, 3.0), (1.1, 1.8), (0.02, 40.0), (3e3, 2e6)])
def test_every_log_axis_labels_ticks_above_one(lo, hi):
    """The factor plots' time axes from 0.4 to 3 s had a single label (1): none above 1 s."""
    from matplotlib.figure import Figure

    from cnnbench.reports.plots import _log

    fig = Figure()
    ax = fig.subplots()
    ax.plot([lo, hi], [lo, hi])
    _log(ax, "y")
    ax.set_ylim(lo, hi)
    _draw(fig)
    labels = _tick_labels(ax)
    assert len(labels) >= 2, labels
    if lo < 1 < hi:
        values = [float(t.rstrip("kM")) for t in labels]
        assert any(v > 1 for v in values), labels


def _overlaps(fig, renderer) -> list[tuple[str, str]]:
    out = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in axis.get_ticklabels()
                     if t.get_visible() and t.get_text()]
            for i, (ta, a) in enumerate(boxes):
                for tb, b in boxes[i + 1:]:
                    if a.overlaps(b):
                        out.append((ta, tb))
    return out


def test_cost_plot_tick_labels_do_not_overlap(fixture_df):
    """The parameters axis labelled its minor ticks too: '2e+04' ran into '3e+04'."""
    from cnnbench.reports.plots import plot_cost

    p = plot_cost(summarize_cases(fixture_df))
    assert p.fig is not None
    assert _overlaps(p.fig, _draw(p.fig)) == []


def _wide_ci_records():
    # Two seeds 30 pp apart: the t interval over 2 repeats (t = 12.7) runs far past 0 and 100%.
    recs = []
    for arch in ("grid_d1_k3_s1_same_max_w32", "grid_d2_k3_s1_same_max_w32"):
        for rep, acc in ((0, 0.98), (1, 0.68)):
            recs.append(make_record(arch, repeat=rep, test_accuracy=acc))
    return recs


def test_accuracy_axes_stay_within_0_and_100_percent(tmp_path):
    plots = _plots(tmp_path, _wide_ci_records())
    checked = 0
    for key in ("pareto", "factors", "curves"):
        fig = plots[key].fig
        for ax in fig.axes:
            if "accuracy" in ax.get_ylabel().lower():
                lo, hi = ax.get_ylim()
                assert 0 <= lo and hi <= 100, (key, ax.get_ylabel(), lo, hi)
                checked += 1
    assert checked >= 3


def test_no_empty_not_recorded_panel(tmp_path):
    recs = [make_record(a, val_loss=[]) for a in ("seed000_net0", "seed004_model_a")]
    p = _plots(tmp_path, recs)["curves"]
    assert p.svg and "not recorded" not in p.svg
    assert [ax.get_ylabel() for ax in p.fig.axes] == ["Validation accuracy (%)"]
    assert "validation loss" in p.note


def test_step_losses_are_faceted_by_family(tmp_path):
    from cnnbench.reports.tests.synth import fixture_records

    recs = fixture_records()
    p = _plots(tmp_path, recs)["steps"]
    families = {r["family"] for r in recs if r["train_loss_steps"]}
    titles = {ax.get_title().split(" (")[0] for ax in p.fig.axes}
    assert titles == families and len(p.fig.axes) == len(families)


def test_forest_plot_from_constructed_rows():
    from cnnbench.reports.plots import ForestRow, plot_forest

    rows = [ForestRow("depth", "d1 → d2", 1.6, 1.4, 1.9, 0.10, "slower", "ratio"),
            ForestRow("stride", "s1 → s2", 0.35, 0.30, 0.40, 0.10, "faster", "ratio"),
            ForestRow("width", "w16 → w32", 1.02, 0.97, 1.08, 0.10, "within margin", "ratio"),
            ForestRow("depth", "d1 → d2", -5.9, -16.3, 4.6, 1.0, "not resolvable", "pp"),
            ForestRow("kernel", "k3 → k5", 0.4, None, None, 1.0, "no interval", "pp")]
    p = plot_forest(rows)
    assert p.svg and p.fig is not None
    time_ax, acc_ax = p.fig.axes
    assert time_ax.get_xscale() == "log" and acc_ax.get_xscale() == "linear"
    assert [t.get_text() for t in time_ax.get_yticklabels()] == [
        "depth: d1 → d2", "stride: s1 → s2", "width: w16 → w32"]
    # The margin is shaded: ±10% on the ratio axis, ±1 pp on the accuracy axis.
    assert time_ax.patches and acc_ax.patches, "no margin band"
    for ax, (lo, hi) in ((time_ax, (1 / 1.1, 1.1)), (acc_ax, (-1.0, 1.0))):
        band = ax.patches[0]
        assert band.get_x() == pytest.approx(lo) and band.get_x() + band.get_width() == \
            pytest.approx(hi)
    _draw(p.fig)
    assert len(_tick_labels(time_ax, "x")) >= 2
    assert plot_forest([]).svg is None


def _crowded_two_run_summary(tmp_path):
    """Two runs of the same 8 grid archs, every case on its run's frontier (faster is less
    accurate), the runs 1% apart in time and 0.05 pp in accuracy: 16 labels of ~35 characters
    ("grid_dN_k3_s1_same_max_w32 (night-b)") around points a few pixels apart."""
    archs = [f"grid_d{d}_k3_s1_same_max_w32" for d in range(1, 5)] + \
            [f"grid_d{d}_k5_s1_same_max_w32" for d in range(1, 5)]
    runs = ["night-a", "night-b"]
    for run in runs:
        write_run(tmp_path, run, [make_record(a, run_id=run) for a in archs], json_too=False)
    summary = summarize_cases(load_runs(tmp_path))
    step = summary["arch"].map(archs.index)
    late = summary["run"].map(runs.index)  # night-b: 1% slower, 0.05 pp more accurate
    summary["train_time_s"] = (10 + step) * (1 + 0.01 * late)
    summary["test_acc_mean"] = 0.90 + 0.002 * step + 0.0005 * late
    return summary


def test_pareto_labels_of_two_runs_do_not_overlap(tmp_path):
    """Fixed offsets (6 pt right, ±6 pt) drew two runs' frontier labels on top of each other."""
    from matplotlib.text import Text

    from cnnbench.reports.plots import plot_pareto

    summary = _crowded_two_run_summary(tmp_path)
    p = plot_pareto(summary)
    assert p.fig is not None
    renderer = _draw(p.fig)
    (ax,) = [a for a in p.fig.axes if a.texts]
    labels = [t for t in ax.texts if t.get_visible() and t.get_text()]
    # The text's own box: an Annotation's would include its leader line, which may cross text.
    boxes = [(t.get_text(), Text.get_window_extent(t, renderer)) for t in labels]
    clashes = [(ta, tb) for i, (ta, a) in enumerate(boxes) for tb, b in boxes[i + 1:]
               if a.overlaps(b)]
    assert clashes == []
    # Placement, not omission: most labels are drawn, and each one left out is counted.
    assert len(labels) >= len(summary) // 2
    left_out = len(summary) - len(labels)
    if left_out:
        assert f"{left_out} of {len(summary)} frontier labels left out" in p.note
    else:
        assert p.note is None


def test_factor_lines_hold_every_comparable_condition_fixed(tmp_path):
    """A line joins grid cases only under comparable.CONDITIONS: two depths trained on
    different subsets (--limit-train) or with different loaders are no depth effect."""
    from cnnbench.reports.plots import _factor_groups

    def groups(**second):
        recs = [make_record("grid_d1_k3_s1_same_max_w32"),
                make_record("grid_d2_k3_s1_same_max_w32", **second)]
        d = tmp_path / str(len(list(tmp_path.iterdir())))
        write_run(d, "r", recs, json_too=False)
        return _factor_groups(summarize_cases(load_runs(d)), "depth")

    assert len(groups()) == 1
    assert groups(limit_train=1024) == []
    assert groups(loader="dataloader") == []
    assert groups(recipe="seed") == []


def test_accuracy_error_bars_are_the_intervals_own_bounds(tmp_path):
    """Three seeds 30 pp apart: the t interval runs past 100 %; the bars stop at the summary's
    test_acc_low/high (cut at [0, 100] %), not at mean ± half-width."""
    from cnnbench.reports.plots import _acc_err

    recs = [make_record("grid_d1_k3_s1_same_max_w32", repeat=r, test_accuracy=a)
            for r, a in enumerate((0.99, 0.69, 0.99))]
    write_run(tmp_path, "r", recs, json_too=False)
    s = summarize_cases(load_runs(tmp_path))
    (below,), (above,) = _acc_err(s)
    mean, low, high = (100 * float(s[c].iloc[0])
                       for c in ("test_acc_mean", "test_acc_low", "test_acc_high"))
    assert high == 100.0 and 0 <= low < mean
    assert (below, above) == pytest.approx((mean - low, 100 - mean))
    assert above < 100 * float(s["test_acc_ci95"].iloc[0])  # asymmetric: cut at 100 %


def test_forest_colours_say_which_way_each_verdict_goes():
    from cnnbench.reports.plots import verdict_colour

    bad, good, grey = verdict_colour("slower"), verdict_colour("faster"), verdict_colour("x")
    assert verdict_colour("lower") == bad and verdict_colour("higher") == good  # accuracy
    assert bad != good and grey not in (bad, good)
    assert verdict_colour("within margin") == verdict_colour("not resolved") == grey
