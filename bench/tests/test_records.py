"""The record schema: one definition, its flat JSON form, validation and the schema-1 upgrade."""

import json

import pytest

from bench import records
from bench.records import FIELDS, RecordError, from_json, to_json

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
