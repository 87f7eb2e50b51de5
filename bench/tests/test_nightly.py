"""The nightly runner on the CPU against a fabricated "previous night"."""

import json
import shutil

from bench import nightly

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
