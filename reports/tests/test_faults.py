"""Faults found by trying to break the reports: partial records, reused run ids,
torn JSONL lines and bad command-line input, each through the ``python -m reports`` entry point."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cnnbench.record import Case, group_fields
from cnnbench.reports.__main__ import main
from cnnbench.reports.load import load_runs
from cnnbench.reports.tests.fixture_files import RUNNER_JSONL

FIXTURE = [json.loads(line) for line in RUNNER_JSONL.read_text().splitlines()]


def partial(rec: dict, **kw) -> dict:
    """A case that failed before setup (e.g. ``--device cuda`` without CUDA): only the case's
    own fields and its status, no architecture facts (no ``family``) and no measurements."""
    return {**{k: v for k, v in rec.items() if k in group_fields(Case)}, "status": "error",
            "error": "RuntimeError: no CUDA device", **kw}


def write(path, recs):
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    return path


def test_a_record_without_family_loads_and_every_command_runs(tmp_path, capsys):
    bad = partial(FIXTURE[0], case_id="seed003_model_c-fashion-mnist-fp32-r0",
                  arch="seed003_model_c")
    assert "family" not in bad
    run = write(tmp_path / "cpu_run.jsonl", [bad, *FIXTURE])
    df = load_runs(run)
    assert df.iloc[-1]["case_id"] == bad["case_id"]  # sorted after every known family
    assert main(["build", str(run), "-o", str(tmp_path / "r.html")]) == 0
    assert main(["table", str(run)]) == 0
    assert "seed003_model_c" in capsys.readouterr().out
    assert main(["compare", str(RUNNER_JSONL), str(run)]) == 0


def test_a_reused_run_id_shows_the_newest_measurement(tmp_path):
    old = FIXTURE[0]
    new = dict(old, started_at="2026-11-24T09:00:00+00:00", test_accuracy=0.5,
               epoch_times_s=[t * 2 for t in old["epoch_times_s"]])
    for order in ([old, new], [new, old]):
        df = load_runs(write(tmp_path / "cpu_run.jsonl", order))
        row = df[df["case_id"] == old["case_id"]]
        assert len(row) == 1
        assert row.iloc[0]["started_at"] == new["started_at"]
        assert row.iloc[0]["test_accuracy"] == 0.5
        assert row.iloc[0]["epoch_times_s"] == new["epoch_times_s"]
    # Newer but less complete (the rerun failed): still the newest wins, nothing mixed in.
    failed = partial(old, started_at="2026-11-24T09:00:00+00:00")
    df = load_runs(write(tmp_path / "cpu_run.jsonl", [old, failed]))
    row = df[df["case_id"] == old["case_id"]].iloc[0]
    assert row["status"] == "error" and pd.isna(row["test_accuracy"])


def test_the_record_after_a_torn_line_is_loaded(tmp_path):
    a, b, c = FIXTURE[:3]
    torn = json.dumps(b)[:200]
    run = tmp_path / "cpu_run.jsonl"
    run.write_text(json.dumps(a) + "\n" + torn + json.dumps(c) + "\n")
    with pytest.warns(UserWarning, match="torn write"):
        df = load_runs(run)
    assert list(df["case_id"]) == [a["case_id"], c["case_id"]]


def test_build_into_a_folder_writes_report_html_there(tmp_path, capsys):
    out = tmp_path / "site"
    out.mkdir()
    assert main(["build", str(RUNNER_JSONL), "-o", str(out)]) == 0
    assert (out / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert str(out / "report.html") in capsys.readouterr().out


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "x"])
@pytest.mark.parametrize("option", ["--threshold", "--acc-threshold"])
def test_compare_rejects_a_threshold_that_is_not_above_zero(option, value, capsys):
    with pytest.raises(SystemExit) as e:
        main(["compare", str(RUNNER_JSONL), str(RUNNER_JSONL), option, value])
    assert e.value.code == 2
    assert option in capsys.readouterr().err


def test_cases_md_escapes_html_in_names(tmp_path):
    evil = '<img src=x onerror=alert(1)>'
    rec = dict(FIXTURE[0], arch=evil, case_id=f"{evil}-fashion-mnist-fp32-r0")
    csv = tmp_path / "tables"
    main(["build", str(write(tmp_path / "cpu_run.jsonl", [rec])), "-o",
          str(tmp_path / "r.html"), "--csv-dir", str(csv)])
    md = (csv / "cases.md").read_text()
    assert "<img" not in md and "&lt;img src=x onerror=alert(1)&gt;" in md
