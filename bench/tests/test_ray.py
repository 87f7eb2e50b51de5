"""The Ray executor on an embedded local cluster (2 CPUs): same output as the local executor,
one record per case even when a worker dies mid-case, and a clear record for a refused case."""

import csv
import json
from pathlib import Path

import pytest
import ray  # in the dev extra: CI runs these tests, never skips them

import cnnbench.bench.__main__ as main_job
from cnnbench.bench import ray_executor
from cnnbench.record import ARTIFACTS_DIR, TRACES_DIR, append_jsonl, read_jsonl
from cnnbench.reports.load import load_runs

# Two tiny cases on synthetic data: what is compared is the shape of the output, not accuracy.
CASES = ["-k", "seed000_net4 or seed003", "--dataset", "synthetic", "--epochs", "1",
         "--limit-train", "256", "--val-size", "128", "--repeats", "1"]
RAY_FIELDS = {"ray_node_id", "ray_node_ip"}  # what the Ray executor adds to each record


@pytest.fixture(scope="module")
def cluster():
    ray_executor.connect(num_cpus=2, num_gpus=0, include_dashboard=False)
    yield
    ray.shutdown()


def _main(executor: str, results: Path, name: str) -> int:
    return main_job.main(["--profile", "quick", "--device", "cpu", "--executor", executor,
                          "--results-dir", str(results), "--name", name, "--", *CASES])


def _bench_json(results: Path, name: str) -> dict:
    (path,) = (results / "benchmarks").rglob(f"[0-9]*_{name}.json")
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def both_runs(cluster, tmp_path_factory):
    out = {}
    for executor in ("local", "ray"):
        results = tmp_path_factory.mktemp(executor)
        assert _main(executor, results, executor) == 0
        out[executor] = results
    return out


def test_ray_records_match_the_local_executors(both_runs):
    local = read_jsonl(both_runs["local"] / "local.jsonl")
    remote = read_jsonl(both_runs["ray"] / "ray.jsonl")
    assert sorted(r["case_id"] for r in remote) == sorted(r["case_id"] for r in local)
    assert len(remote) == 2 and {r["status"] for r in remote} == {"ok"}
    for r in remote:
        assert set(r) == set(local[0]) | RAY_FIELDS
        assert r["ray_node_id"] and r["hostname"] and r["run_id"] == "ray"
        # The task's pictures and traces were brought home into the run's layout, and the
        # record names them relative to the results folder (bench/runner.py's _stored: the
        # reports find files by the layout, and a moved results folder stays whole).
        home, case = both_runs["ray"], r["case_id"]
        for key in ("kernels_image", "feature_maps_image"):
            assert not Path(r[key]).is_absolute() and (home / r[key]).is_file()
            assert Path(r[key]).parts[:3] == (ARTIFACTS_DIR, "ray", case)
        assert not Path(r["trace_dir"]).is_absolute() and (home / r["trace_dir"]).is_dir()
        assert Path(r["trace_dir"]).parts == (TRACES_DIR, "ray", case)
        assert r["trace_files"] and all(not Path(f).is_absolute() and (home / f).is_file()
                                        for f in r["trace_files"])


def test_ray_saves_one_benchmark_json_like_the_local_run(both_runs):
    local, remote = _bench_json(both_runs["local"], "local"), _bench_json(both_runs["ray"], "ray")
    assert set(remote) == set(local)
    names = sorted(b["fullname"] for b in remote["benchmarks"])
    assert names == sorted(b["fullname"] for b in local["benchmarks"]) and len(names) == 2
    for b in remote["benchmarks"]:
        lb = local["benchmarks"][0]
        assert set(b) == set(lb) and set(b["stats"]) == set(lb["stats"])
        assert set(b["extra_info"]) == set(lb["extra_info"]) | RAY_FIELDS | {"hostname"}
        assert b["stats"]["rounds"] == 1  # the one timed epoch


def _csv(results: Path, name: str, table: str) -> list[list[str]]:
    with open(results / name / table, newline="") as f:
        return list(csv.reader(f))


def test_ray_report_has_the_local_reports_cases_and_columns(both_runs):
    cases = {}
    for executor, results in both_runs.items():
        assert (results / executor / "report.html").is_file()
        header, *rows = _csv(results, executor, "cases.csv")
        cases[executor] = (header, sorted(row[header.index("case")] for row in rows))
    assert cases["ray"] == cases["local"] and len(cases["ray"][1]) == 2
    local_cols = _csv(both_runs["local"], "local", "runs.csv")[0]
    ray_cols = _csv(both_runs["ray"], "ray", "runs.csv")[0]
    assert set(ray_cols) == set(local_cols) | RAY_FIELDS


@pytest.mark.parametrize("retries", [0, 1])
def test_a_worker_killed_mid_case_is_retried_and_recorded_once(cluster, tmp_path, retries):
    marker = tmp_path / "killed-once"
    rc = ray_executor.run_on_ray(
        "kill", tmp_path / "results", "cpu", None, ["-k", "seed003", *CASES[2:]],
        max_retries=retries, env={ray_executor.KILL_ONCE_ENV: str(marker)})
    assert marker.exists(), "the test hook did not run"
    (record,) = read_jsonl(tmp_path / "results" / "kill.jsonl")
    assert record["case_id"] == "seed003_lenet_dropout-synthetic-fp32-r0"
    if retries:  # the second attempt ran the case
        assert rc == 0 and record["status"] == "ok"
    else:  # no retry left: the lost case is recorded as such, once
        assert rc == 1 and record["status"] == "error"
        assert "Ray task failed" in record["error"] and "Crashed" in record["error"]


def test_a_case_the_node_refuses_is_recorded_with_pytests_message_and_the_node(tmp_path):
    # What a node without the data does: pytest stops at session start with a usage error.
    suite = ray_executor.Suite("refused", ("--dataset", "nosuch"), "cpu")
    out = ray_executor.run_case("seed003_lenet_dropout-"
                                "nosuch-fp32-r0", suite)
    record = out["record"]
    assert record["status"] == "error" and record["arch"] == "seed003_lenet_dropout"
    assert record["case_id"] == "seed003_lenet_dropout-nosuch-fp32-r0"
    assert "--dataset 'nosuch': choose from" in record["error"]
    assert record["hostname"] and record["hostname"] in record["error"]
    assert record["family"] == "seed003" and out["benchmark"] is None
    # The report loads it as a failed case of its architecture.
    append_jsonl(tmp_path / "refused.jsonl", record)
    (row,) = load_runs([tmp_path / "refused.jsonl"]).to_dict("records")
    assert row["status"] == "error" and row["arch"] == "seed003_lenet_dropout"


def test_shard_is_left_to_the_driver():
    assert ray_executor.worker_args(("-k", "x", "--shard", "2/3", "--shard=1/2", "--epochs",
                                     "1")) == ["-k", "x", "--epochs", "1"]
