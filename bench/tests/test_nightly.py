"""The nightly runner on the CPU against a fabricated "previous night"."""

import json
import shutil

from cnnbench.bench import nightly

SUITE = ["-k", "seed000_net4 or seed000_net5", "--dataset", "synthetic", "--epochs", "3",
         "--limit-train", "1000", "--no-torch-profile", "--no-artifacts"]


def _speed_up(history, night, factor):
    """Rewrite a night's files as if every epoch had taken ``factor`` times as long."""
    jsonl = history / f"{night}.jsonl"
    recs = [json.loads(line) for line in jsonl.read_text().splitlines()]
    for r in recs:
        r["epoch_times_s"] = [t * factor for t in r["epoch_times_s"]]
        r["epoch_time_median_s"] *= factor
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in recs))
    for path in (history / "benchmarks").rglob(f"*_{night}.json"):
        doc = json.loads(path.read_text())
        for b in doc["benchmarks"]:
            b["extra_info"]["epoch_times_s"] = [t * factor
                                                for t in b["extra_info"]["epoch_times_s"]]
            for k in ("min", "max", "mean", "median", "q1", "q3", "stddev", "iqr", "total"):
                b["stats"][k] *= factor
        path.write_text(json.dumps(doc))


def test_nightly_flags_a_regression_against_the_previous_night(tmp_path, bench_env, monkeypatch):
    for key, value in bench_env.items():
        monkeypatch.setenv(key, value)
    history = tmp_path / "nightly"
    args = ["--profile", "quick", "--history", str(history), "--device", "cpu"]
    first, second = "nightly-20260101-020000", "nightly-20260102-020000"
    assert nightly.main([*args, "--name", first, "--", *SUITE]) == nightly.EXIT_OK
    assert (history / first / "report.html").exists()

    _speed_up(history, first, 1 / 3)  # the fake previous night was three times faster
    assert nightly.main([*args, "--name", second, "--", *SUITE]) == nightly.EXIT_REGRESSION
    assert (history / second / "compare.html").exists()
    page = (history / "history.html").read_text()
    assert "History across runs" in page and first in page and second in page

    # A night identical to the one before it is within noise.
    third = "nightly-20260103-020000"
    shutil.copy(history / f"{second}.jsonl", history / f"{third}.jsonl")
    for path in list((history / "benchmarks").rglob(f"*_{second}.json")):
        shutil.copy(path, path.with_name(path.name.replace(second, third)))
    assert nightly.compare_with_previous(history, third, 0.10, 0.01) == 0
    assert nightly.nights(history) == [first, second, third]


# ---- a bad night (issue 13, item 1): doctored history folders, no suite run ------------------

FIXTURE = nightly.Path(__file__).resolve().parents[2] / "reports/tests/fixtures/cpu_run.jsonl"
GOOD = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
KEEP = ("run_id", "case_id", "arch", "dataset", "precision", "repeat", "seed", "started_at")


def _night(history, night, recs):
    history.mkdir(parents=True, exist_ok=True)
    (history / f"{night}.jsonl").write_text(
        "".join(json.dumps(dict(r, run_id=night)) + "\n" for r in recs))


def _failed_before_setup(recs):
    """Each case as a night without CUDA records it: no family, no measurements."""
    return [{**{k: r[k] for k in KEEP}, "status": "error",
             "error": "RuntimeError: no CUDA device"} for r in recs]


def test_a_failed_night_is_no_baseline_and_no_false_regression(tmp_path, capsys):
    history = tmp_path / "nightly"
    a, b, c = "nightly-20260101-020000", "nightly-20260102-020000", "nightly-20260103-020000"
    _night(history, a, GOOD)
    _night(history, b, _failed_before_setup(GOOD))
    assert nightly.finish_night(history, b, 1, 0.10, 0.01) == nightly.EXIT_REGRESSION
    assert b in (history / "history.html").read_text()  # loads despite the missing family
    _night(history, c, GOOD)
    assert nightly.finish_night(history, c, 0, 0.10, 0.01) == nightly.EXIT_OK
    out = capsys.readouterr().out
    assert f"comparing {c} with {a}" in out and f"{b} has no ok case" in out
    assert c in (history / "history.html").read_text()


def test_a_comparison_that_cannot_run_is_not_a_regression(tmp_path, capsys):
    history = tmp_path / "nightly"
    a, b = "nightly-20260101-020000", "nightly-20260102-020000"
    _night(history, a, GOOD)
    (history / f"{b}.jsonl").write_text('{"case_id": "torn", "sta\n')  # nothing loadable
    assert nightly.finish_night(history, b, 0, 0.10, 0.01) == nightly.EXIT_NO_COMPARISON
    err = capsys.readouterr().err
    assert "comparison could not run" in err and "REGRESSION" not in err
    assert a in (history / "history.html").read_text()  # rebuilt over the nights that load
    assert len({nightly.EXIT_OK, nightly.EXIT_REGRESSION, nightly.EXIT_FAILED,
                nightly.EXIT_NO_COMPARISON}) == 4
