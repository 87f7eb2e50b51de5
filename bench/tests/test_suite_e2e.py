"""`pytest bench/` end to end on the CPU, as a user runs it, in a subprocess."""

import json
import signal
import subprocess
import sys
import time

from cnnbench import models
from cnnbench.bench.tests.common import REPO, default_signals
from cnnbench.record import BENCHMARK_FIELDS, FIELDS, read_jsonl


def run_bench(args, env, tmp_path, timeout=600):
    cmd = [sys.executable, "-m", "pytest", "bench/", "-p", "no:cacheprovider", "-q",
           "--device", "cpu", "--results-dir", str(tmp_path / "results"), *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_real_data_end_to_end(tmp_path, bench_env, fashion_dir):
    out = tmp_path / "out.json"
    proc = run_bench(["-k", "seed000_net0", "--dataset", "fashion-mnist", "--data-dir",
                      str(fashion_dir), "--epochs", "2", "--limit-train", "2048",
                      "--val-size", "1000", "--target-acc", "0.5", "--run-id", "e2e",
                      "--benchmark-json", str(out)], bench_env, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(out.read_text())
    (bench,) = report["benchmarks"]
    # The JSONL line is the result; extra_info the join key and headline fields.
    (rec,) = read_jsonl(tmp_path / "results" / "e2e.jsonl")
    assert set(bench["extra_info"]) == set(BENCHMARK_FIELDS)
    assert bench["extra_info"]["test_accuracy"] == rec["test_accuracy"]
    missing = [f for f in FIELDS if f not in rec]  # schema 2: every field, null where unknown
    assert not missing, missing
    assert rec["status"] == "ok" and rec["error"] is None
    assert rec["timer"] == "host" and rec["device"] == "cpu" and rec["timed"] is True
    assert rec["arch"] == "seed000_net0" and rec["params"] == 431_080
    assert rec["train_size"] == 2048 and rec["epochs"] == 2
    # 10 classes: chance is 0.10; two epochs on 2,048 images reach well above 0.5.
    assert rec["test_accuracy"] > 0.5, rec["test_accuracy"]
    assert len(rec["val_accuracy"]) == len(rec["train_loss"]) == 2
    assert rec["time_to_target_s"] is not None
    # pytest-benchmark's own stats are the two timed epochs.
    assert bench["stats"]["rounds"] == 2
    assert abs(bench["stats"]["min"] - min(rec["epoch_times_s"])) < 0.5 * bench["stats"]["min"]
    assert rec["gpu_busy_fraction"] is None and rec["peak_memory_bytes"] is None
    assert rec["top_ops"] and rec["trace_files"]
    for path in rec["trace_files"]:
        assert path.endswith(".pt.trace.json.gz")
    assert any((tmp_path / "results" / "traces" / "e2e").rglob("*.pt.trace.json.gz"))
    assert report["machine_info"]["cnnbench"]["torch_version"]
    assert bench["extra_info"]["case_id"] == rec["case_id"] \
        == "seed000_net0-fashion-mnist-fp32-r0"


def test_divergent_cases_are_recorded_and_the_suite_goes_on(tmp_path, bench_env):
    proc = run_bench(["-k", "seed000_net0 or seed000_net4", "--dataset", "synthetic",
                      "--epochs", "2", "--lr", "1e3", "--no-torch-profile", "--no-artifacts",
                      "--run-id", "div", "--benchmark-disable"], bench_env, tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    records = read_jsonl(tmp_path / "results" / "div.jsonl")
    # Both cases recorded, whatever the shuffled block order ran first.
    assert sorted(r["arch"] for r in records) == ["seed000_net0", "seed000_net4"]
    assert {r["status"] for r in records} == {"diverged"}
    assert all(r["timed"] is False for r in records)  # --benchmark-disable: untimed, and said
    assert "2 failed" in proc.stdout and "diverged: training loss" in proc.stdout


def test_killed_run_keeps_completed_cases(tmp_path, bench_env):
    cmd = [sys.executable, "-m", "pytest", "bench/", "-p", "no:cacheprovider", "-q",
           "--device", "cpu", "--results-dir", str(tmp_path / "results"), "-k", "seed000",
           "--dataset", "synthetic", "--epochs", "1", "--no-torch-profile", "--no-artifacts",
           "--run-id", "killed", "--benchmark-disable"]
    jsonl = tmp_path / "results" / "killed.jsonl"
    proc = subprocess.Popen(cmd, preexec_fn=default_signals, cwd=REPO, env=bench_env,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and len(read_jsonl(jsonl) if jsonl.exists() else []) < 2:
            assert proc.poll() is None, "the suite ended before it could be killed"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    records = read_jsonl(jsonl)
    assert len(records) >= 2
    # Every line is a whole record, none torn; the ten seed000 nets were not all done.
    lines = jsonl.read_text().splitlines()
    assert len(lines) == len(records) < 10
    assert all(r["status"] == "ok" for r in records)


def test_unit_tests_are_not_collected_by_pytest_bench(tmp_path, bench_env):
    proc = subprocess.run([sys.executable, "-m", "pytest", "bench/", "--collect-only", "-q",
                           "-p", "no:cacheprovider", "--archs", "seed00*",
                           "--dataset", "synthetic"],
                          cwd=REPO, env=bench_env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ids = [line for line in proc.stdout.splitlines() if "::" in line]
    n_seed = len(models.list_archs("seed00*"))  # one case per seed net
    assert len(ids) == n_seed and all("test_archs.py::test_train[" in i for i in ids)


def test_two_xdist_workers_save_every_case(tmp_path, bench_env):
    storage = tmp_path / "bm"
    proc = run_bench(["-n", "2", "-k", "seed000_net4 or seed000_net5 or seed003",
                      "--dataset", "synthetic", "--epochs", "2", "--no-torch-profile",
                      "--no-artifacts", "--run-id", "xd", "--benchmark-save", "xd",
                      "--benchmark-storage", f"file://{storage}",
                      "--benchmark-json", str(tmp_path / "out.json")], bench_env, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    want = {"seed000_net4-synthetic-fp32-r0", "seed000_net5-synthetic-fp32-r0",
            "seed003_lenet_dropout-synthetic-fp32-r0"}
    (saved,) = storage.rglob("*_xd.json")
    for path in (saved, tmp_path / "out.json"):
        benches = json.loads(path.read_text())["benchmarks"]
        assert {b["extra_info"]["case_id"] for b in benches} == want
        assert all(b["stats"]["rounds"] == 2 for b in benches)
    assert {r["case_id"] for r in read_jsonl(tmp_path / "results" / "xd.jsonl")} == want


def _collected(args, env):
    proc = subprocess.run([sys.executable, "-m", "pytest", "bench/", "--collect-only", "-q",
                           "-p", "no:cacheprovider", "--dataset", "synthetic", *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [line for line in proc.stdout.splitlines() if "::" in line]


def test_shards_split_the_cases_disjointly(bench_env):
    everything = _collected(["--archs", "seed*"], bench_env)
    shards = [_collected(["--archs", "seed*", "--shard", f"{k}/3"], bench_env)
              for k in (1, 2, 3)]
    assert sorted(sum(shards, [])) == sorted(everything)
    # Interleaved slices: sizes differ by at most one.
    assert max(map(len, shards)) - min(map(len, shards)) <= 1 and min(map(len, shards)) > 0


def test_missing_data_is_one_clear_error_before_any_case_runs(tmp_path, bench_env):
    env = {**bench_env, "CNNBENCH_DATA": str(tmp_path / "none"), "XDG_CACHE_HOME": str(tmp_path)}
    proc = run_bench(["-k", "seed000_net0", "--dataset", "kmnist", "--data-dir",
                      str(tmp_path / "empty")], env, tmp_path)
    assert proc.returncode == 4, proc.stdout + proc.stderr  # pytest's usage-error exit code
    assert "ERROR:" in proc.stderr and "kmnist" in proc.stderr.lower()
    assert "test_train" not in proc.stdout


def _wait_for_records(proc, jsonl, n, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(read_jsonl(jsonl) if jsonl.exists() else []) < n:
        assert proc.poll() is None, "the suite ended before it could be interrupted"
        time.sleep(0.05)


def test_ctrl_c_records_the_interrupted_case_and_keeps_the_finished_ones(tmp_path, bench_env):
    """Issue 13 item 5: SIGINT (Ctrl-C) used to leave ``status: error, error: null``."""
    out = tmp_path / "out.json"
    epochs = 400
    # Cases of a few seconds each, as in test_stops.py: 30 epochs of 512 images finished in
    # 0.3 s, so the signal, a third of a case after the first record, could miss the second.
    # The cases run in a shuffled block order: which one is first is read from the records.
    cmd = [sys.executable, "-m", "pytest", "bench/", "-p", "no:cacheprovider", "-q",
           "--device", "cpu", "--results-dir", str(tmp_path / "results"),
           "-k", "seed000_net4 or seed000_net5", "--dataset", "synthetic", "--epochs",
           str(epochs), "--limit-train", "1792", "--val-size", "256", "--repeats", "1",
           "--no-torch-profile", "--no-artifacts", "--run-id", "int",
           "--benchmark-json", str(out)]
    jsonl = tmp_path / "results" / "int.jsonl"
    proc = subprocess.Popen(cmd, preexec_fn=default_signals, cwd=REPO, env=bench_env,
                            stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for_records(proc, jsonl, 1)
        # A third of the way into the second case (of about the same cost as the first).
        time.sleep(read_jsonl(jsonl)[0]["wall_s"] / 3)
        proc.send_signal(signal.SIGINT)
        log, _ = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 2, log  # pytest's "interrupted"
    records = read_jsonl(jsonl)
    assert len(records) == 2, log
    first, second = records  # in the order they ran
    assert {first["arch"], second["arch"]} == {"seed000_net4", "seed000_net5"}
    assert first["status"] == "ok" and len(first["epoch_times_s"]) == epochs
    assert second["status"] == "interrupted", log
    done = len(second["epoch_times_s"])
    assert done < epochs
    assert second["error"] == (f"KeyboardInterrupt: interrupted during epoch {done + 1} of "
                               f"{epochs} ({done} finished)")
    (bench,) = json.loads(out.read_text())["benchmarks"]  # the finished case, not the partial
    assert bench["extra_info"]["case_id"] == first["case_id"]
    assert bench["stats"]["rounds"] == epochs


def test_a_crashed_xdist_worker_keeps_its_finished_cases(tmp_path, bench_env):
    """Issue 13 item 6: the merged JSON lost every case of a worker that died."""
    from cnnbench.bench.distributed import CRASH_ENV

    env = {**bench_env, CRASH_ENV: "gw1"}  # gw1 exits hard right after its first case
    out = tmp_path / "out.json"
    proc = run_bench(["-n", "2", "-k", "seed000_net4 or seed000_net5", "--dataset", "synthetic",
                      "--epochs", "1", "--limit-train", "512", "--no-torch-profile",
                      "--no-artifacts", "--run-id", "crash", "--benchmark-json", str(out)],
                     env, tmp_path)
    log = proc.stdout + proc.stderr
    assert "crashed" in log, log  # the fault was really injected
    records = read_jsonl(tmp_path / "results" / "crash.jsonl")
    assert len(records) == 2 and {r["status"] for r in records} == {"ok"}, log
    benches = json.loads(out.read_text())["benchmarks"]
    assert {b["extra_info"]["case_id"] for b in benches} == {r["case_id"] for r in records}
