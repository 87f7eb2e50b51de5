"""The nightly runner on the CPU against a fabricated "previous night"."""

import json
import shutil

from cnnbench.bench import nightly

SUITE = ["-k", "seed000_net4 or seed000_net5", "--dataset", "synthetic", "--epochs", "3",
         "--limit-train", "1000", "--repeats", "1", "--no-torch-profile", "--no-artifacts"]


def _rewrite(history, night, factor):
    """Rewrite a copied night's files as that night's own run (its run id is the night's
    name, as the nightly's --run-id makes it) with every epoch ``factor`` times as long."""
    jsonl = history / f"{night}.jsonl"
    recs = [json.loads(line) for line in jsonl.read_text().splitlines()]
    for r in recs:
        r["run_id"] = night
        r["epoch_times_s"] = [t * factor for t in r["epoch_times_s"]]
        _scale_speed(r, factor)
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in recs))
    for path in (history / "benchmarks").rglob(f"*_{night}.json"):
        doc = json.loads(path.read_text())
        for b in doc["benchmarks"]:
            # extra_info holds the headline fields only (record.BENCHMARK_FIELDS):
            # no epoch_times_s any more, so the stats carry the per-epoch times.
            assert "epoch_times_s" not in b["extra_info"]
            b["extra_info"]["run_id"] = night
            _scale_speed(b["extra_info"], factor)
            for k in ("min", "max", "mean", "median", "q1", "q3", "stddev", "iqr", "total"):
                b["stats"][k] *= factor
        path.write_text(json.dumps(doc))


def _scale_speed(fields, factor):
    """The headline speed of a record (or of its extra_info) as if epochs took ``factor``×."""
    if fields.get("epoch_time_median_s") is not None:
        fields["epoch_time_median_s"] *= factor
    if fields.get("images_per_s") is not None:
        fields["images_per_s"] /= factor


def _copy_night(history, src, dst, factor=1.0):
    """Night ``dst`` as a copy of night ``src`` with every epoch ``factor`` times as long: a
    constructed night with a known truth (no verdict is ever asserted on measured timings)."""
    shutil.copy(history / f"{src}.jsonl", history / f"{dst}.jsonl")
    for path in list((history / "benchmarks").rglob(f"*_{src}.json")):
        shutil.copy(path, path.with_name(path.name.replace(src, dst)))
    _rewrite(history, dst, factor)


def test_nightly_runs_the_suite_and_judges_constructed_nights(tmp_path, bench_env, monkeypatch):
    for key, value in bench_env.items():
        monkeypatch.setenv(key, value)
    history = tmp_path / "nightly"
    args = ["--profile", "quick", "--history", str(history), "--device", "cpu"]
    first, second, third = (f"nightly-2026010{d}-020000" for d in (1, 2, 3))
    # The one real run: the plumbing (suite, report, history) works; its timings judge nothing.
    assert nightly.main([*args, "--name", first, "--", *SUITE]) == nightly.EXIT_OK
    assert (history / first / "report.html").exists()

    # A night identical to its baseline is within noise.
    _copy_night(history, first, second)
    assert nightly.compare_with_previous(history, second, 0.10, 0.01) == nightly.EXIT_OK

    # The same night with every epoch three times as long regresses. The baseline is the
    # recent nights pooled (nightly.baselines): both earlier nights, so both are the same
    # measurements (a 3x night among the baselines would make an identical night regress).
    _copy_night(history, first, third, 3.0)
    assert nightly.finish_night(history, third, 0, 0.10, 0.01) == nightly.EXIT_REGRESSION
    assert (history / third / "compare.html").exists()
    page = (history / "history.html").read_text()
    # history.html is its own page (reports/templates/history.html.j2), no longer the report's
    # "History across runs" section: its per-case series grid is the stable marker.
    assert 'id="series-grid"' in page and first in page and third in page
    assert nightly.nights(history) == [first, second, third]


# ---- a bad night: doctored history folders, no suite run ------------------

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
    # Failed cases exit 2, never 1: 1 is a regression only (bench/nightly.py's exit codes).
    assert nightly.finish_night(history, b, 1, 0.10, 0.01) == nightly.EXIT_FAILED
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
