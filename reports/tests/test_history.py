"""history.html from constructed nights: a step change at night 4 is found, marked and listed
with its commit range; machines stay apart; accuracy is in %."""

import json
import re

import pytest

from cnnbench.reports.history import build_history, change_points, points, repo_url
from cnnbench.reports.tests.synth import make_record, write_run

ARCHS = ("grid_d1_k3_s1_same_max_w32", "seed000_net0")
STEP_NIGHT = 4  # nights 1-3 at the old speed, 4-8 about 30% slower for the first arch
N_NIGHTS = 8
REPO = "https://github.com/example/cnnbench"


def _commit(i: int) -> str:
    return f"{i:02d}" + "ab" * 19


def _nights(tmp_path, machine_of=lambda i: "NVIDIA H100 80GB HBM3"):
    nights = []
    for i in range(1, N_NIGHTS + 1):
        name = f"nightly-202611{i:02d}-021700"
        recs = []
        for arch in ARCHS:
            slow = 1.3 if arch == ARCHS[0] and i >= STEP_NIGHT else 1.0
            # seed i: each night's noise differs (about 2% per epoch, synth's cost model)
            r = make_record(arch, run_id=name, seed=i, device="cuda", time_scale=slow,
                            started_at=f"2026-11-{i:02d}T02:17:00+00:00",
                            device_name=machine_of(i))
            recs.append(r)
        files = write_run(tmp_path, name, recs, json_too=True)
        doc = json.loads(files[1].read_text())
        doc["commit_info"]["id"] = _commit(i)
        files[1].write_text(json.dumps(doc))
        nights.append((name, files))
    return nights


def test_step_change_at_night_4_is_found_and_listed(tmp_path):
    nights = _nights(tmp_path)
    out = build_history(nights, tmp_path / "history.html", repo=REPO)
    html = out.read_text()
    table = html[html.index('id="changes-table"'):html.index("</table>")]
    rows = re.findall(r'<tr data-case="([^"]+)" data-night="([^"]+)" data-index="(\d+)">', table)
    # Only the slowed case changes, at the night the step happened (index 3 = night 4).
    assert {(case, night) for case, night, _ in rows} == {
        (f"{ARCHS[0]}-mnist-fp32", nights[STEP_NIGHT - 1][0])}, rows
    # The commit range is the last night before and the first after, linked on the remote.
    assert f"{REPO}/compare/{_commit(STEP_NIGHT - 1)}...{_commit(STEP_NIGHT)}" in table
    # Every point links to its commit.
    for i in range(1, N_NIGHTS + 1):
        assert f'xlink:href="{REPO}/commit/{_commit(i)}"' in html or \
               f'href="{REPO}/commit/{_commit(i)}"' in html


def test_change_points_on_a_plain_series():
    flat = [1.00, 1.01, 0.99, 1.30, 1.31, 1.29, 1.30, 1.32]
    assert change_points(flat, "time") == [3]
    # One bad night is a blip, not a change.
    assert change_points([1.0, 1.01, 0.99, 1.5, 1.0, 1.01, 0.99, 1.0], "time") == []
    # A shift smaller than the 10% threshold is not reported, however clean.
    assert change_points([1.0] * 4 + [1.05] * 4, "time") == []
    assert change_points([97.0, 97.1, 96.9, 94.0, 94.1, 93.9], "acc") == [3]


def test_a_night_on_another_gpu_is_its_own_series(tmp_path):
    nights = _nights(tmp_path, machine_of=lambda i: "NVIDIA H200" if i == 6 else "NVIDIA H100")
    pts = points(nights)
    per = pts.groupby(["case", "machine"]).size()
    assert per[(f"{ARCHS[1]}-mnist-fp32", "NVIDIA H200")] == 1
    assert per[(f"{ARCHS[1]}-mnist-fp32", "NVIDIA H100")] == N_NIGHTS - 1
    html = build_history(nights, tmp_path / "h.html").read_text()
    assert html.count('data-case="' + f"{ARCHS[1]}-mnist-fp32" + '"') >= 2


def test_accuracy_is_in_percent(tmp_path):
    pts = points(_nights(tmp_path)[:2])
    assert pts["acc"].between(50, 100).all(), pts["acc"]


@pytest.mark.parametrize("env,remote,expected", [
    ({"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r"}, None,
     "https://github.com/o/r"),
])
def test_repo_url_from_the_ci(env, remote, expected):
    assert repo_url(env) == expected
