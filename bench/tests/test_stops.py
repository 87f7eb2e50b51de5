"""Issue 21: every stop keeps what finished, and a run that cannot save fails before training.

SIGTERM to pytest, to ``python -m cnnbench.bench`` and to the nightly: the finished case, its
benchmark JSON and an ``interrupted`` record of the running one are kept. A killed parent takes
its pytest along. A results folder that cannot be written, a run id too long for a file name,
a reused run id with other options and a run id that is a path are refused before any case
trains.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from cnnbench.bench.tests.common import REPO, default_signals
from cnnbench.record import read_jsonl

# Two cheap cases of a few seconds each: the second is still training when the signal comes.
CASES = ["-k", "seed000_net4 or seed000_net5", "--dataset", "synthetic", "--epochs", "400",
         "--limit-train", "1792", "--val-size", "256", "--no-torch-profile", "--no-artifacts",
         "--repeats", "1"]
PYTEST = [sys.executable, "-m", "pytest", "bench/test_archs.py", "-p", "no:cacheprovider",
          "-q", "--device", "cpu"]


def _records(jsonl):
    return read_jsonl(jsonl) if jsonl.exists() else []


def _stop_during_second_case(proc, jsonl, sig):
    """Wait for the first record, then send ``sig`` a third of a case later."""
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline and not _records(jsonl):
        assert proc.poll() is None, proc.communicate()[0][-3000:]
        time.sleep(0.05)
    time.sleep(_records(jsonl)[0]["wall_s"] / 3)
    os.kill(proc.pid, sig)


def _check_kept(jsonl, benchmarks, log):
    first, *rest = _records(jsonl)  # in the order they ran (the quick profile shuffles them)
    assert first["status"] == "ok", log
    (second,) = rest
    assert second["status"] == "interrupted" and second["arch"] != first["arch"], log
    assert second["error"].startswith("SIGTERM: interrupted during epoch"), second["error"]
    (bench,) = json.loads(benchmarks.read_text())["benchmarks"]
    assert bench["extra_info"]["case_id"] == first["case_id"]  # the finished case, saved


def _run(cmd, env, sig=signal.SIGTERM, *, jsonl):
    proc = subprocess.Popen(cmd, preexec_fn=default_signals, cwd=REPO, env=env,
                            stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        _stop_during_second_case(proc, jsonl, sig)
        log, _ = proc.communicate(timeout=300)
    finally:
        proc.kill()
    return proc.returncode, log


def test_sigterm_to_pytest_keeps_finished_cases_and_records_the_interrupted_one(
        tmp_path, bench_env):
    out = tmp_path / "out.json"
    jsonl = tmp_path / "results" / "term.jsonl"
    rc, log = _run([*PYTEST, *CASES, "--results-dir", str(tmp_path / "results"),
                    "--run-id", "term", "--benchmark-json", str(out)], bench_env, jsonl=jsonl)
    assert rc == 2, log  # pytest's "interrupted", as for Ctrl-C; it used to die with -15
    _check_kept(jsonl, out, log)


def _saved(results, run):
    (path,) = (results / "benchmarks").rglob(f"*_{run}.json")
    return path


def test_sigterm_to_the_main_job_is_passed_on_and_waited_for(tmp_path, bench_env):
    results = tmp_path / "results"
    cmd = [sys.executable, "-m", "cnnbench.bench", "--profile", "quick", "--name", "job",
           "--results-dir", str(results), "--device", "cpu", "--", *CASES]
    rc, log = _run(cmd, bench_env, jsonl=results / "job.jsonl")
    assert rc == 128 + signal.SIGTERM, log
    _check_kept(results / "job.jsonl", _saved(results, "job"), log)
    assert "stopped by SIGTERM" in log


def test_sigterm_to_the_nightly_keeps_the_night_and_gives_no_verdict(tmp_path, bench_env):
    history = tmp_path / "nightly"
    night = "nightly-20260101-020000"
    cmd = [sys.executable, "-m", "cnnbench.bench.nightly", "--profile", "quick", "--history",
           str(history), "--device", "cpu", "--name", night, "--", *CASES]
    rc, log = _run(cmd, bench_env, jsonl=history / f"{night}.jsonl")
    assert rc == 128 + signal.SIGTERM, log  # never 1 (regression)
    _check_kept(history / f"{night}.jsonl", _saved(history, night), log)


def test_a_killed_parent_takes_its_pytest_along(tmp_path, bench_env):
    """SIGKILL to the main job: PR_SET_PDEATHSIG sends its pytest SIGTERM, which records the
    running case as interrupted instead of training on as an orphan."""
    results = tmp_path / "results"
    jsonl = results / "orphan.jsonl"
    cmd = [sys.executable, "-m", "cnnbench.bench", "--profile", "quick", "--name", "orphan",
           "--results-dir", str(results), "--device", "cpu", "--", *CASES]
    proc = subprocess.Popen(cmd, preexec_fn=default_signals, cwd=REPO, env=bench_env,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _stop_during_second_case(proc, jsonl, signal.SIGKILL)
        proc.wait(timeout=60)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(_records(jsonl)) < 2:
            time.sleep(0.1)
    finally:
        proc.kill()
    statuses = [r["status"] for r in _records(jsonl)]
    assert statuses == ["ok", "interrupted"], statuses  # the orphan stopped, and said so


# ---- before training: where the files go (item 4), the run id (items 5, 6) ---------------


def _refused(args, env, tmp_path):
    proc = subprocess.run([*PYTEST, *CASES, *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 4, proc.stdout[-2000:] + proc.stderr[-2000:]  # usage error
    assert "PASSED" not in proc.stdout and " passed" not in proc.stdout  # no case trained
    assert not list(tmp_path.rglob("*.jsonl")) or args[-1] == "reused"
    return proc.stderr


@pytest.mark.parametrize("where", ["under_a_file", "proc"])
def test_an_unwritable_results_folder_fails_before_any_training(tmp_path, bench_env, where):
    (tmp_path / "afile").write_text("")
    results = tmp_path / "afile" / "results" if where == "under_a_file" \
        else "/proc/cnnbench-results"  # not writable even by root
    err = _refused(["--results-dir", str(results), "--run-id", "ro"], bench_env, tmp_path)
    assert err.count("ERROR:") == 1 and "not writable" in err, err


def test_a_run_id_too_long_for_a_file_name_fails_before_any_training(tmp_path, bench_env):
    err = _refused(["--results-dir", str(tmp_path), "--run-id", "x" * 300], bench_env, tmp_path)
    assert "longer than" in err, err


def test_a_reused_run_id_with_other_options_is_refused(tmp_path, bench_env):
    old = {"schema_version": 2, "arch": "seed000_net4", "run_id": "reused",
           "case_id": "seed000_net4-synthetic-fp32-r0", "options_digest": "0123456789ab"}
    (tmp_path / "reused.jsonl").write_text(json.dumps(old) + "\n")
    err = _refused(["--results-dir", str(tmp_path), "--run-id", "reused"], bench_env, tmp_path)
    assert "different options" in err and "0123456789ab" in err, err
    assert len((tmp_path / "reused.jsonl").read_text().splitlines()) == 1


def test_every_entry_point_applies_the_run_id_check(tmp_path, capsys):
    from cnnbench.bench import __main__ as main_job
    from cnnbench.bench.ray_executor import run_on_ray

    # Ray used to skip it: --name ../../X wrote outside --results-dir.
    assert run_on_ray("../../X", tmp_path, "cpu", None, []) == 4
    with pytest.raises(SystemExit) as exc:
        main_job.main(["--name", "../../X", "--results-dir", str(tmp_path), "--profile", "quick"])
    assert exc.value.code == 2
    assert "plain name" in capsys.readouterr().err
    assert not list(tmp_path.parent.parent.glob("X*"))
