"""The cluster sweep's progress line: done / running / left and an ETA from the throughput."""

import io

from cnnbench.bench.ray_progress import Tracker, counts, eta_s


def test_pending_cases_beyond_the_slots_are_left_not_running():
    assert counts(total=10, done=3, pending=7, slots=4) == (3, 4, 3)
    assert counts(total=10, done=8, pending=2, slots=4) == (8, 2, 0)


def test_eta_is_the_throughput_so_far_applied_to_what_is_not_done():
    assert eta_s(elapsed_s=30.0, done=3, total=10) == 70.0
    assert eta_s(elapsed_s=30.0, done=0, total=10) is None


def test_a_line_per_finished_case_names_it_and_its_host():
    out = io.StringIO()
    t = Tracker(total=3, slots=2, stream=out)
    t.finished({"case_id": "a-r0", "status": "ok", "hostname": "node-1"}, running=2)
    t.finished({"case_id": "b-r0", "status": "oom", "hostname": "node-2"}, running=1)
    t.close()
    first, second = out.getvalue().splitlines()
    assert first.startswith("cnnbench: a-r0 ok on node-1; 1 done, 2 running, 0 left, ETA ")
    assert second.startswith("cnnbench: b-r0 oom on node-2; 2 done, 1 running, 0 left, ETA ")
