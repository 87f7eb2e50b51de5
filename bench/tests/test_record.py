"""The record schema: one definition, its flat JSON form, validation and the schema-1 upgrade."""

import json

import pytest

from cnnbench import record as records
from cnnbench.record import FIELDS, RecordError, from_json, to_json

FIXTURE = records.Path(__file__).resolve().parents[2] / "reports/tests/fixtures/cpu_run.jsonl"


def test_fields_are_unique_and_derived_from_the_groups():
    assert len(FIELDS) == len(set(FIELDS))
    assert {"family", "drop_last", "data_origin", "trace_files", "mode_fallback_reason",
            "description", "reported"} <= set(FIELDS)


def test_every_schema_1_line_of_the_suite_upgrades_without_loss():
    for line in FIXTURE.read_text().splitlines():
        raw = json.loads(line)
        assert raw["schema_version"] == 1
        flat = to_json(from_json(raw))
        assert flat["schema_version"] == records.SCHEMA_VERSION
        assert set(FIELDS) <= set(flat)  # every field present, as None where unknown
        for key, value in raw.items():  # nothing the old writer said is lost or changed
            if key != "schema_version":
                assert flat[key] == value, key


def test_a_record_that_failed_before_setup_loads_with_empty_fields():
    rec = from_json({"arch": "foo", "status": "error"})
    assert rec.case.arch == "foo" and rec.outcome.status == "error"
    assert rec.architecture.family is None and rec.timing.epoch_times_s == []
    assert rec.case_key == "foo"


def test_case_key_and_id_come_from_the_fields():
    raw = {"arch": "a", "dataset": "mnist", "precision": "bf16", "loader": "dataloader",
           "mode_requested": "graphs", "repeat": 2, "schema_version": 2}
    rec = from_json(raw)
    assert rec.case_key == "a-mnist-bf16-dataloader-graphs"
    assert rec.case.case_id == "a-mnist-bf16-dataloader-graphs-r2"
    assert records.case_id("a", "mnist", "fp32", "resident", "eager", 0) == "a-mnist-fp32-r0"


def test_unknown_keys_are_kept_and_bad_records_are_refused():
    assert to_json(from_json({"arch": "a", "my_new_field": 1}))["my_new_field"] == 1
    with pytest.raises(RecordError, match="schema_version 99"):
        from_json({"arch": "a", "schema_version": 99})
    with pytest.raises(RecordError, match="status 'weird'"):
        from_json({"arch": "a", "status": "weird"})
    with pytest.raises(RecordError, match="no arch"):
        from_json({"status": "ok"})
    with pytest.raises(RecordError, match="not record fields: bogus"):
        records.pick(records.Data, {"bogus": 1}, strict=True)


# ---- the JSONL file under faults ------------------------------------------

_FSIZE_CHILD = """
import json, resource, signal, sys
from pathlib import Path
from cnnbench.record import append_jsonl
path, limit = Path(sys.argv[1]), int(sys.argv[2])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a short write or EFBIG instead of a kill
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    append_jsonl(path, {"case_id": "big", "pad": "x" * 400})
except OSError as e:
    print("raised:", e)
"""


def test_a_torn_write_raises_and_the_next_record_is_still_read(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "run.jsonl"
    records.append_jsonl(path, {"case_id": "first"})
    limit = path.stat().st_size + 100  # room for 100 of the next record's ~430 bytes
    proc = subprocess.run([sys.executable, "-c", _FSIZE_CHILD, str(path), str(limit)],
                          capture_output=True, text=True, timeout=60,
                          cwd=records.Path(records.__file__).parents[1])
    assert proc.returncode == 0, proc.stderr
    assert "raised:" in proc.stdout and "record not written (100 of" in proc.stdout
    assert path.stat().st_size == limit  # the torn record is on disk, without its newline
    records.append_jsonl(path, {"case_id": "after"})  # no limit now
    assert [r["case_id"] for r in records.read_jsonl(path)] == ["first", "after"]


def test_a_record_glued_onto_a_torn_line_is_recovered(tmp_path):
    # What a writer that was killed mid-line leaves: the next record on the torn record's line.
    path = tmp_path / "run.jsonl"
    path.write_text('{"case_id": "a"}\n{"case_id": "torn", "pad": {"x": 1'
                    '{"case_id": "b", "nested": {"k": 2}}\n{"case_id": "c"}\n')
    assert [r["case_id"] for r in records.read_jsonl(path)] == ["a", "b", "c"]
    path.write_text('{"case_id": "torn", "pa\n')
    assert records.read_jsonl(path) == []


# ---- paths in the record --------------------------------------------------

def test_paths_resolve_after_a_run_with_a_relative_results_dir(tmp_path, bench_env):
    """``--results-dir results`` from another folder: the report finds every picture, trace
    and checkpoint the record names (they used to resolve to results/results/...)."""
    import subprocess
    import sys

    from cnnbench.reports.load import load_runs

    repo = records.Path(records.__file__).resolve().parents[1]
    cmd = [sys.executable, "-m", "pytest", str(repo / "bench"), "-p", "no:cacheprovider", "-q",
           "-k", "seed003", "--dataset", "synthetic", "--epochs", "1", "--limit-train", "256",
           "--device", "cpu", "--results-dir", "results", "--run-id", "x", "--save-checkpoint"]
    proc = subprocess.run(cmd, cwd=tmp_path, env=bench_env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    df = load_runs(tmp_path / "results" / "x.jsonl")
    assert len(df) and (df["status"] == "ok").all()
    for _, row in df.iterrows():
        paths = [row[f] for f in ("kernels_image", "feature_maps_image", "checkpoint",
                                  "trace_dir")] + list(row["trace_files"])
        assert len(paths) > 4  # every kind present, with at least one trace file
        for p in paths:
            assert records.Path(p).exists(), p


def test_per_image_correctness_loads_when_absent_and_is_bounded():
    """Outcome.test_correct (base64 bits): old records load without it; a value that
    is not base64, or longer than MAX_CORRECT_IMAGES images take, is refused."""
    assert from_json({"arch": "a"}).outcome.test_correct is None
    bits = records.pack_correct([i % 3 != 0 for i in range(10_000)])
    assert len(bits) == 1668  # 1,250 bytes for 10,000 images
    assert to_json(from_json({"arch": "a", "test_correct": bits}))["test_correct"] == bits
    assert records.pack_correct([True] * (records.MAX_CORRECT_IMAGES + 1)) is None
    longest = records.pack_correct([True] * records.MAX_CORRECT_IMAGES)
    from_json({"arch": "a", "test_correct": longest})
    for bad in ("abc", "a!bc", longest + "AAAA"):
        with pytest.raises(RecordError, match="test_correct"):
            from_json({"arch": "a", "test_correct": bad})
