"""The main job's choices, without running the suite (the nightly test runs it for real)."""

import subprocess
from types import SimpleNamespace

import bench.__main__ as main_job


def test_auto_profile_is_quick_without_a_gpu_and_says_so(monkeypatch, tmp_path, capsys):
    calls = []
    monkeypatch.setattr(main_job, "cuda_available", lambda: False)
    monkeypatch.setattr(subprocess, "run",
                        lambda cmd, **kw: calls.append(cmd) or SimpleNamespace(returncode=0))
    assert main_job.main(["--name", "t", "--results-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "profile quick (no GPU available" in out
    suite, report = calls
    assert suite[suite.index("--benchmark-save") + 1] == "t" and "--limit-train" in suite
    assert report[2:4] == ["reports", "build"] and str(tmp_path / "t.jsonl") in report
    assert f"report: {tmp_path / 't' / 'report.html'}" in out


def test_failed_cases_still_get_a_report_and_a_nonzero_exit(monkeypatch, tmp_path, capsys):
    codes = iter([1, 0])  # the suite had a diverged case; the report builds
    monkeypatch.setattr(main_job, "cuda_available", lambda: True)
    monkeypatch.setattr(subprocess, "run",
                        lambda cmd, **kw: SimpleNamespace(returncode=next(codes)))
    assert main_job.main(["--name", "t", "--results-dir", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "profile standard (a GPU is available" in captured.out
    assert "some cases failed" in captured.err
