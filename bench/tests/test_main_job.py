"""The main job's choices, without running the suite (the nightly test runs it for real)."""

import cnnbench.bench.__main__ as main_job


def test_auto_profile_is_quick_without_a_gpu_and_says_so(monkeypatch, tmp_path, capsys):
    calls, reports = [], []
    monkeypatch.setattr(main_job, "cuda_available", lambda: False)
    monkeypatch.setattr(main_job.child, "run", lambda cmd, **kw: calls.append(cmd) or (0, []))
    monkeypatch.setattr(main_job, "build_page",
                        lambda files, out, **kw: reports.append((files, out)) or out)
    assert main_job.main(["--name", "t", "--results-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "profile quick (no GPU available" in out
    (suite,) = calls
    assert suite[suite.index("--benchmark-save") + 1] == "t" and "--limit-train" in suite
    ((files, page),) = reports
    assert tmp_path / "t.jsonl" in files
    assert f"report: {tmp_path / 't' / 'report.html'}" in out


def test_failed_cases_still_get_a_report_and_a_nonzero_exit(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(main_job, "cuda_available", lambda: True)
    monkeypatch.setattr(main_job.child, "run", lambda cmd, **kw: (1, []))
    monkeypatch.setattr(main_job, "build_page", lambda files, out, **kw: out)
    assert main_job.main(["--name", "t", "--results-dir", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "profile standard (a GPU is available" in captured.out
    assert "some cases failed" in captured.err


def test_a_run_with_no_records_says_the_report_could_not_be_built(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(main_job, "cuda_available", lambda: False)
    monkeypatch.setattr(main_job.child, "run", lambda cmd, **kw: (1, []))
    assert main_job.main(["--name", "t", "--results-dir", str(tmp_path)]) == 3  # never 1
    assert "could not be built" in capsys.readouterr().err
