import numpy as np
import pandas as pd
import pytest

from cnnbench.reports.__main__ import main
from cnnbench.reports.load import load_runs
from cnnbench.reports.stats import t_ppf
from cnnbench.reports.tables import case_table, summarize_cases, to_markdown, write_tables
from cnnbench.reports.tests.fixture_files import BENCH_JSON, RUNNER_JSONL
from cnnbench.reports.tests.synth import make_record, write_run


def test_summary_one_row_per_case(fixture_df):
    s = summarize_cases(fixture_df)
    assert len(s) == fixture_df.groupby(["run", "case"]).ngroups
    for _, r in s.iterrows():
        rows = fixture_df[(fixture_df["run"] == r["run"]) & (fixture_df["case"] == r["case"])]
        ok = rows[rows["status"] == "ok"]
        acc = pd.to_numeric(ok["test_accuracy"], errors="coerce").dropna()
        assert r["n_repeats"] == len(acc)
        if len(acc):
            assert r["test_acc_mean"] == pytest.approx(acc.mean())
        if len(acc) >= 3:  # fewer seeds: no interval (stats.accuracy_ci)
            half = t_ppf(0.975, len(acc) - 1) * acc.std(ddof=1) / np.sqrt(len(acc))
            assert r["test_acc_ci95"] == pytest.approx(half)
        else:
            assert np.isnan(r["test_acc_ci95"])


def test_ci_text_and_single_repeat_note(tmp_path):
    recs = [make_record("seed000_net0", repeat=r, test_accuracy=a)
            for r, a in enumerate([0.91, 0.93, 0.95])]
    recs.append(make_record("seed004_model_a", test_accuracy=0.9))
    write_run(tmp_path, "r", recs, json_too=False)
    md = to_markdown(case_table(summarize_cases(load_runs(tmp_path))))
    half = 100 * t_ppf(0.975, 2) * np.std([0.91, 0.93, 0.95], ddof=1) / np.sqrt(3)
    assert f"93.00 ± {half:.2f} (n=3)" in md
    assert "90.00 (n=1, no CI)" in md
    assert "no interval is shown" in md
    assert "host timer (CPU)" in md  # CPU rows say which clock timed them


def test_untimed_cases_say_so_in_place_of_their_epoch_time(tmp_path):
    """--benchmark-disable records (timed: false) still carry the one pass's host times."""
    write_run(tmp_path, "r", [make_record("seed000_net0", timed=False),
                              make_record("seed004_model_a")], json_too=False)
    rows = {r[0].text: r for r in case_table(summarize_cases(load_runs(tmp_path))).rows}
    texts = {case: [c.text for c in row] for case, row in rows.items()}
    assert [case for case, t in texts.items() if "untimed" in t] == ["seed000_net0"], texts


def test_markdown_shape_and_escaping(tmp_path):
    write_run(tmp_path, "r", [make_record("seed000_net0", arch="a|b", case_id=None)],
              json_too=False)
    md = to_markdown(case_table(summarize_cases(load_runs(tmp_path))))
    lines = md.splitlines()
    assert lines[0].startswith("| Case |") and lines[1].startswith("| :---")
    assert "a\\|b" in md


def test_write_tables_and_cli(tmp_path, capsys):
    df = load_runs([BENCH_JSON, RUNNER_JSONL])
    paths = write_tables(df, tmp_path / "out")
    assert [p.name for p in paths] == ["cases.csv", "cases.md", "runs.csv"]
    assert len(pd.read_csv(paths[0])) == df.groupby(["run", "case"]).ngroups
    assert len(pd.read_csv(paths[2])) == len(df)
    assert main(["table", str(BENCH_JSON), str(RUNNER_JSONL)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| Case |")
    assert len([ln for ln in out.splitlines() if ln.startswith("| ")]) == 2 + len(
        summarize_cases(df))


def test_cli_reports_empty_selection(tmp_path, capsys):
    assert main(["table", str(tmp_path)]) == 2
    assert "no cnnbench runs" in capsys.readouterr().err


def test_mode_table_shows_variants_side_by_side_with_the_overhead_share(tmp_path):
    from cnnbench.reports.load import load_runs
    from cnnbench.reports.tables import mode_table, summarize_cases
    from cnnbench.reports.tests.synth import make_record, write_run

    recs = []
    for loader, mode, scale in [("resident", "eager", 1.0), ("resident", "graphs", 0.25),
                                ("dataloader", "eager", 4.0)]:
        # case_id None: the reader names the case from its fields, as the runner does.
        recs.append(make_record("seed000_net0", time_scale=scale, loader=loader, mode=mode,
                                mode_requested=mode, case_id=None))
    write_run(tmp_path, "r", recs, json_too=False)
    table = mode_table(summarize_cases(load_runs(tmp_path)))
    assert table is not None
    assert table.headers[4:] == ["dataloader · eager (s)", "resident · eager (s)",
                                 "resident · graphs (s)", "Overhead share"]
    (row,) = table.rows
    assert row[-1].text == "75%"  # 1 − 0.25 / 1.0


def test_no_mode_table_for_a_single_variant(fixture_df):
    from cnnbench.reports.tables import mode_table, summarize_cases

    assert mode_table(summarize_cases(fixture_df)) is None
