import json

from cnnbench.reports.findings import FIELDS_JSON, all_findings, write_findings
from cnnbench.reports.load import load_runs
from cnnbench.reports.tests.synth import make_record, write_run


def _frame(tmp_path, records):
    write_run(tmp_path, "synthetic", records, json_too=False)
    return load_runs(tmp_path / "synthetic.jsonl")


def _by_key(findings):
    return {f.key: f for f in findings}


def test_launch_bound_failures_and_missing_grid(tmp_path):
    recs = [make_record("seed000_net0", device="cuda", gpu_busy_fraction=0.3),
            make_record("seed004_model_a", device="cuda", gpu_busy_fraction=0.9),
            make_record("seed004_model_a", device="cuda", repeat=1, status="oom")]
    f = _by_key(all_findings(_frame(tmp_path, recs)))
    assert f["launch_bound"].estimate == 1 and f["launch_bound"].n == 2
    assert "seed000_net0" in f["launch_bound"].statement
    assert f["failures"].estimate == 1 and f["failures"].n == 3
    assert "1 oom" in f["failures"].statement
    assert "grid_missing" in f


def test_fixture_findings_are_consistent(fixture_df):
    for f in all_findings(fixture_df):
        assert f.statement
        if f.ci_low is not None:
            assert f.ci_low <= f.estimate <= f.ci_high
        if f.kind == "effect" and f.ci_low is not None:
            null = 1.0 if f.metric == "time" else 0.0  # a ratio of times, a difference in pp
            assert f.conclusive == (f.ci_low > null or f.ci_high < null)
        if f.kind == "claim":
            assert f.study and f.verdict
            assert f.conclusive == (f.verdict in ("supported", "contradicted"))


def test_findings_json_holds_the_list_the_page_shows(tmp_path, fixture_df):
    findings = all_findings(fixture_df)
    rows = json.loads(write_findings(findings, tmp_path / "findings.json").read_text())
    assert [r["key"] for r in rows] == [f.key for f in findings]
    for r in rows:
        assert set(FIELDS_JSON) <= set(r)
    kinds = {r["kind"] for r in rows}
    assert {"effect", "claim", "control"} <= kinds
    claims = [r for r in rows if r["kind"] == "claim"]
    assert {r["study"] for r in claims} == {"000", "001", "004"}
