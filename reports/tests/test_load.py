import json
import math
import os
import warnings

import numpy as np
import pytest

from cnnbench.record import FIELDS
from cnnbench.reports.load import DERIVED_FIELDS, NoRunsError, load_runs
from cnnbench.reports.tests.fixture_files import (
    BENCH_JSON,
    FIXTURES,
    RUNNER_JSONL,
    raw_records,
    record_key,
)
from cnnbench.reports.tests.synth import benchmark_doc, make_record, write_run


def test_fixture_columns_and_rows(fixture_df):
    df = fixture_df
    for col in FIELDS + DERIVED_FIELDS + ("run", "source_file", "stats_median",
                                                  "stats_iqr", "stats_rounds"):
        assert col in df.columns, col
    keys = {record_key(rec) for _, rec in raw_records()}
    assert len(df) == len(keys)
    assert not df.duplicated(["run", "case_id", "repeat"]).any()


def test_json_and_jsonl_alone_and_merged():
    bench_keys = {record_key(r, BENCH_JSON.stem) for k, r in raw_records() if k == "json"}
    line_keys = {record_key(r, RUNNER_JSONL.stem) for k, r in raw_records() if k == "jsonl"}
    assert len(load_runs(BENCH_JSON)) == len(bench_keys)
    assert len(load_runs(RUNNER_JSONL)) == len(line_keys)
    merged = load_runs([RUNNER_JSONL, BENCH_JSON])  # order must not matter
    assert len(merged) == len(bench_keys | line_keys)
    # Rows that pytest-benchmark saved keep its stats; failed ones come from the JSONL.
    for _, row in merged.iterrows():
        key = (row["run"], row["case_id"], row["repeat"])
        if key in bench_keys:
            assert np.isfinite(row["stats_median"]), key
        if key in bench_keys and key in line_keys:
            assert len(row["source_files"]) == 2
    jsonl_status = {record_key(r): r.get("status") for k, r in raw_records() if k == "jsonl"}
    for key, status in jsonl_status.items():
        row = merged[(merged["run"] == key[0]) & (merged["case_id"] == key[1])
                     & (merged["repeat"] == key[2])]
        assert len(row) == 1 and row.iloc[0]["status"] == (status or "ok")


def test_derived_columns(fixture_df):
    for _, r in fixture_df.iterrows():
        times = r["epoch_times_s"] if isinstance(r["epoch_times_s"], list) else []
        if times:
            assert r["epoch_time_median_s"] == pytest.approx(float(np.median(times)))
            q1, q3 = np.percentile(times, [25, 75])
            assert r["epoch_time_iqr_s"] == pytest.approx(q3 - q1)
            assert r["train_time_s"] == pytest.approx(sum(times))
        if r["flops_per_image"] is not None and np.isfinite(r["flops_per_image"]):
            assert r["mflops_per_image"] == pytest.approx(r["flops_per_image"] / 1e6)
        assert r["case_id"].startswith(r["case"])


def test_fixture_paths_resolved_against_file_dir(fixture_df):
    for _, r in fixture_df.iterrows():
        for field in ("trace_dir", "kernels_image", "feature_maps_image", "checkpoint"):
            v = r[field]
            if isinstance(v, str):
                assert os.path.isabs(v), (field, v)


def test_relative_paths_and_dedup_across_dirs(tmp_path):
    rec = make_record("grid_d1_k3_s1_same_max_w32", run_id="r1", trace_dir="traces/a",
                      kernels_image="/abs/k.png")
    # JSONL in results/, JSON in .benchmarks/<machine>/ pointing back at the same folder.
    (tmp_path / "results" / "traces" / "a").mkdir(parents=True)
    write_run(tmp_path / "results", "r1", [rec], json_too=False)
    bench = tmp_path / ".benchmarks" / "Linux-CPython-3.11-64bit"
    bench.mkdir(parents=True)
    doc = benchmark_doc([dict(rec, trace_dir="../../results/traces/a")])
    (bench / "0001_r1.json").write_text(json.dumps(doc))
    df = load_runs([tmp_path])
    assert len(df) == 1
    assert df.iloc[0]["trace_dir"] == str((tmp_path / "results" / "traces" / "a").resolve())
    assert df.iloc[0]["kernels_image"] == "/abs/k.png"
    assert np.isfinite(df.iloc[0]["stats_median"])


def test_unknown_fields_kept_and_run_from_stem(tmp_path):
    rec = make_record("seed000_net0", run_id=None, my_new_field={"x": 1})
    bench = tmp_path / "Linux"
    bench.mkdir()
    (bench / "0003_nightly.json").write_text(json.dumps(benchmark_doc([rec])))
    df = load_runs(tmp_path)
    assert df.iloc[0]["run"] == "nightly"
    assert df.iloc[0]["my_new_field"] == {"x": 1}


def test_same_file_twice_is_not_duplicated():
    df = load_runs([RUNNER_JSONL, RUNNER_JSONL, FIXTURES])
    assert not df.duplicated(["run", "case_id", "repeat"]).any()


def test_stats_only_rows_get_epoch_times(tmp_path):
    rec = make_record("grid_d2_k3_s1_same_max_w32")
    doc = benchmark_doc([rec])
    for b in doc["benchmarks"]:
        del b["extra_info"]["epoch_times_s"]
    (tmp_path / "x.json").write_text(json.dumps(doc))
    row = load_runs(tmp_path / "x.json").iloc[0]
    assert row["epoch_time_median_s"] == pytest.approx(float(np.median(rec["epoch_times_s"])))


def _warned(record, fragment):
    return [str(w.message) for w in record if fragment in str(w.message)]


def test_corrupt_and_foreign_files_are_skipped_with_warnings(tmp_path):
    good = write_run(tmp_path, "good", [make_record("seed000_net0", run_id="good")],
                     json_too=False)[0]
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text(BENCH_JSON.read_text()[:500])  # truncated mid-file
    foreign = tmp_path / "other_tool.json"
    foreign.write_text(json.dumps({"tool": "eslint", "results": [1, 2, 3]}))
    foreign_bench = tmp_path / "other_bench.json"
    foreign_bench.write_text(json.dumps({"benchmarks": [{"name": "test_x", "extra_info": {},
                                                         "stats": {"median": 1.0}}]}))
    bad_lines = tmp_path / "partial.jsonl"
    ok_line = json.dumps(make_record("seed004_model_a", run_id="partial"))
    bad_lines.write_text(ok_line + "\n{not json\n[1, 2]\n" + ok_line[:40] + "\n")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        df = load_runs([good, corrupt, foreign, foreign_bench, bad_lines])
    assert _warned(w, "corrupt.json")
    assert _warned(w, "other_tool.json")
    assert _warned(w, "other_bench.json")
    assert _warned(w, "partial.jsonl:2")
    assert _warned(w, "partial.jsonl:3")
    assert _warned(w, "partial.jsonl:4")
    assert sorted(df["run"]) == ["good", "partial"]


def test_empty_selection_raises(tmp_path):
    with pytest.raises(NoRunsError, match="no cnnbench runs"):
        load_runs([])
    with pytest.raises(NoRunsError):
        load_runs(tmp_path)  # empty directory
    (tmp_path / "foreign.json").write_text("{}")
    with pytest.warns(UserWarning, match="foreign.json"), pytest.raises(NoRunsError):
        load_runs(tmp_path)
    with pytest.warns(UserWarning, match="no such file"), pytest.raises(NoRunsError):
        load_runs(tmp_path / "missing")
    assert issubclass(NoRunsError, ValueError)


def test_repeat_from_case_id_when_missing(tmp_path):
    rec = make_record("seed000_net0", repeat=2, schema_version=1)
    del rec["repeat"]  # schema 1 could leave it out; the upgrade reads it from the id
    write_run(tmp_path, "r", [rec], json_too=False)
    row = load_runs(tmp_path).iloc[0]
    assert row["repeat"] == 2 and row["case"] == rec["case_id"][: -len("-r2")]
    assert not math.isnan(row["epoch_time_median_s"])


def test_directory_scan_skips_environments_and_traces(tmp_path):
    write_run(tmp_path / "results", "r1", [make_record("seed000_net0", run_id="r1")],
              json_too=False)
    venv = tmp_path / ".venv" / "lib"
    venv.mkdir(parents=True)
    (venv / "package.json").write_text("{}")
    (tmp_path / "results" / "x.pt.trace.json").write_text("{}")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither file may even be looked at
        assert list(load_runs(tmp_path)["run"]) == ["r1"]
