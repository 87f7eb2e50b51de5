import numpy as np
import pytest

from cnnbench.reports.__main__ import main
from cnnbench.reports.compare import compare_frames, exit_code
from cnnbench.reports.load import load_runs
from cnnbench.reports.tests.synth import make_record, write_run

ARCHS = ["grid_d1_k3_s1_same_max_w32", "grid_d2_k3_s1_same_max_w32",
         "grid_d3_k3_s1_same_max_w32", "seed000_net0"]


def _run(tmp_path, name, scale=None, acc=None, status=None, archs=ARCHS, repeats=2):
    """Epoch times ~1 s with 1% jitter; ``scale``/``acc``/``status`` override per arch."""
    rng = np.random.default_rng(len(name))
    recs = []
    for arch in archs:
        for r in range(repeats):
            s = (scale or {}).get(arch, 1.0)
            times = [s * float(rng.normal(1.0, 0.01)) for _ in range(5)]
            a = (acc or {}).get(arch, 0.95) + float(rng.normal(0, 0.001))
            st = (status or {}).get(arch, "ok")
            recs.append(make_record(arch, run_id=name, repeat=r, epoch_times_s=times,
                                    test_accuracy=None if st != "ok" else a, status=st))
    write_run(tmp_path / name, name, recs)
    return tmp_path / name


def _verdicts(cmp):
    return dict(zip(cmp["case"].str.split("-").str[0], cmp["verdict"], strict=True))


def test_verdicts(tmp_path):
    base = _run(tmp_path, "base")
    new = _run(tmp_path, "new", scale={ARCHS[0]: 1.30, ARCHS[1]: 1.01, ARCHS[2]: 0.70})
    cmp = compare_frames(load_runs(base), load_runs(new), threshold=0.10)
    v = _verdicts(cmp)
    assert v[ARCHS[0]] == "regressed"
    assert v[ARCHS[1]] == "within noise"
    assert v[ARCHS[2]] == "improved"
    assert v["seed000_net0"] == "within noise"
    row = cmp[cmp["verdict"] == "regressed"].iloc[0]
    assert row["time_change"] == pytest.approx(0.30, abs=0.03)
    assert exit_code(cmp) == 1


def test_within_noise_exits_zero_and_cli(tmp_path, capsys):
    base = _run(tmp_path, "base")
    new = _run(tmp_path, "new", scale={a: 1.01 for a in ARCHS})
    assert main(["compare", str(base), str(new)]) == 0
    out = capsys.readouterr().out
    assert "within noise" in out and "regressed" not in out.split("Summary:")[1]
    slow = _run(tmp_path, "slow", scale={ARCHS[3]: 1.3})
    assert main(["compare", str(base), str(slow), "--threshold", "0.10"]) == 1
    assert "1 regressed" in capsys.readouterr().out
    # A 30% slowdown under a 50% threshold is not a regression.
    assert main(["compare", str(base), str(slow), "--threshold", "0.5"]) == 0


def test_noise_beats_threshold(tmp_path):
    # 20% faster, but the epochs themselves jitter by far more: not a verdict.
    base = _run(tmp_path, "base", archs=ARCHS[:1])
    new = _run(tmp_path, "new", archs=ARCHS[:1], scale={ARCHS[0]: 0.8})
    b, n = load_runs(base), load_runs(new)
    n["epoch_times_s"] = [[0.2, 1.4, 0.5, 1.2, 0.8]] * len(n)
    cmp = compare_frames(b, n, threshold=0.10)
    assert cmp.iloc[0]["time_noise"] > abs(cmp.iloc[0]["time_change"])
    assert cmp.iloc[0]["verdict"] == "within noise"


def test_accuracy_status_added_removed(tmp_path):
    base = _run(tmp_path, "base", archs=ARCHS[:3])
    new = _run(tmp_path, "new", archs=ARCHS[1:], repeats=1,
               acc={ARCHS[1]: 0.90}, status={ARCHS[2]: "diverged"})
    cmp = compare_frames(load_runs(base), load_runs(new), acc_threshold=0.01)
    v = _verdicts(cmp)
    assert v[ARCHS[0]] == "removed"
    assert v[ARCHS[1]] == "regressed"  # -5 pp, far beyond the binomial noise of 1024 images
    assert v[ARCHS[2]] == "regressed"  # ok -> diverged
    assert v[ARCHS[3]] == "added"
    assert exit_code(cmp) == 1


def test_compare_html(tmp_path, capsys):
    base = _run(tmp_path, "same")
    new_dir = tmp_path / "again"
    new_dir.mkdir()
    # The same run id on both sides still gives two runs on the page.
    (new_dir / "same.jsonl").write_text((base / "same.jsonl").read_text())
    out = tmp_path / "cmp.html"
    assert main(["compare", str(base), str(new_dir), "--html", str(out)]) == 0
    html = out.read_text()
    assert 'id="compare"' in html and "base:same" in html and "new:same" in html


def test_runs_under_other_conditions_are_not_compared(tmp_path, capsys):
    # 4,096 images vs the full set, and a larger batch: 8× the time per epoch by design, not a
    # regression.
    base, new = tmp_path / "small", tmp_path / "full"
    write_run(base, "small", [make_record(a, run_id="small", limit_train=4096) for a in ARCHS])
    write_run(new, "full", [make_record(a, run_id="full", limit_train=None, train_size=55000,
                                        time_scale=8.0, batch_size=256) for a in ARCHS[:2]]
              + [make_record(a, run_id="full", limit_train=4096, time_scale=8.0)
                 for a in ARCHS[2:]])
    cmp = compare_frames(load_runs(base), load_runs(new))
    v = _verdicts(cmp)
    assert v[ARCHS[0]] == v[ARCHS[1]] == "not comparable"
    status = cmp.set_index(cmp["case"].str.split("-").str[0]).loc[ARCHS[0], "status"]
    assert "training-set size 4096 vs 55000" in status and "batch size 64 vs 256" in status
    assert v[ARCHS[2]] == "regressed"  # same conditions: a real 8× slowdown
    assert main(["compare", str(base), str(new)]) == 1
    out = capsys.readouterr().out
    assert "trained under different conditions" in out and "2 not comparable" in out
    cmp = compare_frames(load_runs(base), load_runs(new)[lambda d: d["case"].str.contains("d1_")])
    assert exit_code(cmp) == 0


# ---- nights judged against several nights and the control (constructed records) ----

CTRL = "seed000_net0"
NIGHT_ARCHS = ARCHS[:3]


def _night(name, scale=1.0, per_arch=None, ctl_scale=None):
    """One night: each arch once, the control twice (its copy flagged); times known exactly."""
    recs = []
    for arch in NIGHT_ARCHS + [CTRL]:
        s = scale * (per_arch or {}).get(arch, 1.0)
        if arch == CTRL and ctl_scale is not None:
            s = ctl_scale
        recs.append(make_record(arch, run_id=name, epoch_times_s=[s, s * 1.001], block=0))
        if arch == CTRL:
            recs.append(make_record(arch, run_id=name, repeat=1, control=True, block=0,
                                    epoch_times_s=[s, s * 1.001]))
    return recs


def _frames(tmp_path, base_nights, new_night):
    for i, recs in enumerate(base_nights):
        write_run(tmp_path / "base", f"night{i}", recs, json_too=False)
    write_run(tmp_path / "new", "tonight", new_night, json_too=False)
    return load_runs(tmp_path / "base"), load_runs(tmp_path / "new")


def test_everything_slower_with_the_control_reads_machine_slower(tmp_path):
    b, n = _frames(tmp_path, [_night("n0")], _night("tonight", scale=3.0))
    cmp = compare_frames(b, n, threshold=0.10)
    assert set(cmp["verdict"]) == {"machine slower"}
    assert exit_code(cmp) == 0 and cmp.attrs["control"].startswith(CTRL)


def test_a_case_slower_than_the_control_says_is_a_regression(tmp_path):
    b, n = _frames(tmp_path, [_night("n0")],
                   _night("tonight", scale=2.0, per_arch={NIGHT_ARCHS[0]: 1.5}, ctl_scale=2.0))
    v = _verdicts(compare_frames(b, n, threshold=0.10))
    assert v[NIGHT_ARCHS[0]] == "regressed"  # 3× against the control's 2×
    assert v[NIGHT_ARCHS[1]] == "machine slower"


def test_between_night_noise_from_several_base_nights(tmp_path):
    # Four base nights whose levels wander by ±8%: a 12% slower night is within that noise; a
    # 60% slower one is not.
    nights = [_night(f"n{i}", scale=s) for i, s in enumerate((0.92, 1.08, 0.95, 1.05))]
    b, n = _frames(tmp_path / "a", nights, _night("tonight", per_arch={NIGHT_ARCHS[0]: 1.12}))
    cmp = compare_frames(b, n, threshold=0.10)
    assert _verdicts(cmp)[NIGHT_ARCHS[0]] == "within noise"
    assert cmp["time_noise"].iloc[0] > 0.12 and cmp["base_nights"].iloc[0] == 4
    b, n = _frames(tmp_path / "b", nights, _night("tonight", per_arch={NIGHT_ARCHS[0]: 1.6}))
    assert _verdicts(compare_frames(b, n, threshold=0.10))[NIGHT_ARCHS[0]] == "regressed"


def test_identical_nights_are_within_noise(tmp_path):
    b, n = _frames(tmp_path, [_night("n0"), _night("n1")], _night("tonight"))
    assert set(compare_frames(b, n)["verdict"]) == {"within noise"}


def test_a_case_stopped_on_either_side_is_not_comparable(tmp_path):
    """error, interrupted or timeout measured nothing about the case: "not comparable", never
    "regressed" or "improved", and the exit code stays 0; diverged is still a regression."""
    stopped = {ARCHS[0]: "timeout", ARCHS[1]: "interrupted", ARCHS[2]: "error"}
    ok = _run(tmp_path, "ok")
    cut = _run(tmp_path, "cut", status=stopped)
    for base, new, side in ((ok, cut, "new"), (cut, ok, "base")):
        cmp = compare_frames(load_runs(base), load_runs(new))
        v = _verdicts(cmp)
        assert [v[a] for a in ARCHS] == ["not comparable"] * 3 + ["within noise"]
        status = dict(zip(cmp["case"].str.split("-").str[0], cmp["status"], strict=True))
        assert status[ARCHS[0]] == f"{side} timeout: no measurement on that side"
        assert exit_code(cmp) == 0
    # Stopped on both sides: failed in both, as before.
    v = _verdicts(compare_frames(load_runs(cut), load_runs(cut)))
    assert v[ARCHS[0]] == "failed in both"
    diverged = _run(tmp_path, "div", status={ARCHS[0]: "diverged"})
    cmp = compare_frames(load_runs(ok), load_runs(diverged))
    assert _verdicts(cmp)[ARCHS[0]] == "regressed" and exit_code(cmp) == 1
