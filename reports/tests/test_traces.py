"""Holistic Trace Analysis on a GPU trace built to Kineto's schema (reports/tests/kineto_trace.py:
hand-built, no GPU here), and the breakdown the page shows; CPU runs skip HTA with a reason."""

import re

import pytest

from cnnbench.reports.html import render_report
from cnnbench.reports.load import load_runs
from cnnbench.reports.tests import kineto_trace as kt
from cnnbench.reports.tests.synth import make_record, write_run
from cnnbench.reports.traces import analyse, breakdowns

pytest.importorskip("hta", reason="pip install 'cnnbench[hta]'")


def _expected():
    """The breakdown derived from the fixture's events (no two overlap)."""
    compute = kt.STEPS * sum(d for _, cat, _, d in kt.KERNELS if cat == "kernel")
    memory = kt.STEPS * sum(d for _, cat, _, d in kt.KERNELS if cat != "kernel")
    first = min(s for _, _, s, _ in kt.KERNELS)
    last = (kt.STEPS - 1) * kt.STEP_US + max(s + d for _, _, s, d in kt.KERNELS)
    span = last - first
    return compute, memory, span


def test_hta_breaks_down_the_fixture_trace(tmp_path):
    temporal, types, kernels = analyse(kt.write_trace(tmp_path / "trace"))
    compute, memory, span = _expected()
    assert temporal["kernel_time_us"] == pytest.approx(span)
    assert temporal["compute_pct"] == pytest.approx(100 * compute / span, abs=0.01)
    assert temporal["non_compute_pct"] == pytest.approx(100 * memory / span, abs=0.01)
    assert temporal["idle_pct"] == pytest.approx(100 * (span - compute - memory) / span, abs=0.01)
    assert {t["type"]: t["sum_us"] for t in types} == {"Computation": compute, "Memory": memory}
    longest = max(kt.KERNELS, key=lambda k: k[3])
    assert kernels[0]["name"] == longest[0]
    assert kernels[0]["sum_us"] == kt.STEPS * longest[3]


def _gpu_page(tmp_path):
    rec = make_record("grid_d1_k3_s1_same_max_w32", device="cuda")
    kt.write_trace(tmp_path / "traces" / rec["case_id"])
    rec["trace_dir"] = str(tmp_path / "traces" / rec["case_id"])
    write_run(tmp_path, "gpu", [rec], json_too=False)
    return load_runs(tmp_path / "gpu.jsonl")


def test_the_page_shows_hta_breakdown_for_a_gpu_run(tmp_path):
    df = _gpu_page(tmp_path)
    rows, skipped = breakdowns(df)
    assert skipped is None and len(rows) == 1 and rows[0].temporal
    html = render_report(df, page_dir=tmp_path)
    compute, memory, span = _expected()
    table = html[html.index('id="hta-temporal"'):]
    table = table[:table.index("</table>")]
    cells = re.findall(r'<td class="num">([^<]+)</td>', table)
    assert cells[:3] == [f"{100 * compute / span:.1f}%", f"{100 * memory / span:.1f}%",
                         f"{100 * (span - compute - memory) / span:.1f}%"]
    # The kernel table is HTA's, not the profiler's operator list.
    kernels = html[html.index('<section id="kernels">'):html.index('<section id="archs">')]
    assert "hta-kernels" in kernels and kt.KERNELS[0][0].split("<")[0] in kernels
    assert "open in Perfetto" in html


def test_a_cpu_run_skips_hta_with_a_reason(fixture_df):
    rows, skipped = breakdowns(fixture_df)
    assert rows == [] and skipped.startswith("CPU-only run")
    html = render_report(fixture_df)
    assert 'id="hta-skipped"' in html and "CPU-only run" in html


def test_the_cases_table_shows_htas_gpu_busy_where_it_has_a_breakdown(tmp_path):
    """The "GPU busy" column showed only bench/profiling.py's figure (kernel time summed from
    the profiler's key averages), even where HTA had broken the same trace down."""
    traced = make_record("grid_d1_k3_s1_same_max_w32", run_id="gpu", device="cuda",
                         gpu_busy_fraction=0.2)
    untraced = make_record("grid_d2_k3_s1_same_max_w32", run_id="gpu", device="cuda",
                           gpu_busy_fraction=0.2)
    kt.write_trace(tmp_path / "traces" / "gpu" / traced["case_id"])  # the runner's layout
    write_run(tmp_path, "gpu", [traced, untraced], json_too=False)
    html = render_report(load_runs(tmp_path / "gpu.jsonl"), page_dir=tmp_path)
    cases = html[html.index('<section id="cases">'):]
    cases = cases[:cases.index("</section>")]
    compute, memory, span = _expected()
    busy = (compute + memory) / span  # 900 / 1550 µs: 58%, not the record's 20%
    # HTA's figure, marked with its source, and no longer launch-bound (the old 20% was).
    assert f">{100 * busy:.0f}% (HTA)</td>" in cases
    # The case without a trace keeps the profiler figure, unmarked.
    assert ">20% ⚠ launch/input-bound</td>" in cases
    assert cases.count("(HTA)</td>") == 1 and "GPU busy marked (HTA)" in cases
