import contextlib
import io
import os
import re
import shutil
import urllib.parse

import pytest

from cnnbench.reports.__main__ import main
from cnnbench.reports.html import build_report
from cnnbench.reports.load import load_runs
from cnnbench.reports.tests.fixture_files import BENCH_JSON, RUNNER_JSONL
from cnnbench.reports.tests.synth import make_record, write_run

XSS = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("page") / "report.html"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        rc = main(["build", str(BENCH_JSON), str(RUNNER_JSONL), "-o", str(out),
                   "--csv-dir", str(out.parent / "csv")])
    assert rc == 0
    return out, printed.getvalue()


@pytest.fixture(scope="module")
def fixture_page(built):
    return built[0]


def test_build_writes_sections_and_csv(fixture_page, fixture_df):
    html = fixture_page.read_text()
    for section in ("conditions", "findings", "cases", "plots", "traces", "kernels", "archs"):
        assert f'<section id="{section}">' in html, section
    assert 'id="plot-pareto"' in html and "<svg" in html
    assert 'class="data sortable" id="cases"' in html
    assert "tensorboard --logdir" in html and "ui.perfetto.dev" in html
    for arch in set(fixture_df["arch"]):
        assert f">{arch}" in html
    for name in ("cases.csv", "cases.md", "runs.csv"):
        assert (fixture_page.parent / "csv" / name).is_file()
    if any(isinstance(v, str) and os.path.isfile(v) for v in fixture_df["kernels_image"]):
        assert "data:image/png;base64," in html
    if (fixture_df["status"] != "ok").any():
        assert '<section id="failed">' in html


def test_page_is_self_contained(fixture_page):
    html = fixture_page.read_text()
    # Nothing is fetched: no external src/href, stylesheet links or imports.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<link" not in html and "@import" not in html
    assert not re.search(r"<script[^>]+src=", html)


def test_cli_prints_output_path(built):
    out, printed = built
    assert printed.strip() == str(out)


def test_data_strings_are_escaped(tmp_path):
    rec = make_record("seed000_net0", run_id=XSS)
    rec.update(arch=XSS, case_id=f"{XSS}-r0", error=XSS, dataset=XSS, status="ok",
               top_ops=[{"name": XSS, "calls": 1}], layers=[{"index": 1, "kind": XSS}])
    bad = make_record("seed004_model_a", run_id=XSS, status="error", error=f"boom {XSS}")
    write_run(tmp_path, "xss", [rec, bad], json_too=False)
    out = build_report(load_runs(tmp_path), tmp_path / "x.html")
    html = out.read_text()
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # Only the page's own script tag remains.
    assert html.count("<script") == 1


def test_multi_run_comparison_section(tmp_path):
    a = [make_record("grid_d1_k3_s1_same_max_w32", run_id="a"), make_record("seed000_net0",
                                                                            run_id="a")]
    b = [make_record("grid_d1_k3_s1_same_max_w32", run_id="b", time_scale=1.5),
         make_record("seed000_net0", run_id="b")]
    write_run(tmp_path / "a", "a", a, json_too=False)
    write_run(tmp_path / "b", "b", b, json_too=False)
    html = build_report(load_runs([tmp_path / "a", tmp_path / "b"]), tmp_path / "p.html") \
        .read_text()
    assert '<section id="compare">' in html and "b vs a" in html
    assert "regressed" in html


@pytest.mark.parametrize("kind", ["all_failed", "single_case"])
def test_edge_case_pages_build(tmp_path, kind):
    if kind == "all_failed":
        recs = [make_record("seed000_net0", status="oom", epoch_times_s=[], val_loss=[],
                            val_accuracy=[], train_loss_steps=[], top_ops=[], layers=None),
                make_record("grid_d1_k3_s1_same_max_w32", status="error", trace_dir=None)]
    else:
        recs = [make_record("grid_d1_k3_s1_same_max_w32", device="cuda", gpu_busy_fraction=0.2)]
    write_run(tmp_path, "edge", recs, json_too=False)
    html = build_report(load_runs(tmp_path), tmp_path / "edge.html").read_text()
    assert '<section id="plots">' in html and 'class="note"' in html
    if kind == "single_case":
        assert "launch/input-bound" in html and "CUDA events" in html


def test_study_reported_accuracy_is_shown_for_seed_archs(tmp_path):
    from cnnbench.reports.html import render_report
    from cnnbench.reports.load import load_runs
    from cnnbench.reports.tests.synth import make_record, write_run

    rec = make_record("seed004_model_a")
    rec["reported"] = {"dataset": "mnist", "test_accuracy": 0.98}
    write_run(tmp_path, "r", [rec], json_too=False)
    page = render_report(load_runs(tmp_path))
    assert "Reported by the study" in page and "98.0% test accuracy on mnist" in page


def test_file_links_are_relative_so_a_moved_results_folder_still_links(tmp_path):
    """Build the page inside a results folder, move the folder, and follow every local link."""
    results = tmp_path / "results"
    shutil.copytree(RUNNER_JSONL.parent, results, ignore=shutil.ignore_patterns("*.py"))
    build_report(load_runs([results / RUNNER_JSONL.name]), results / "run" / "report.html")
    moved = tmp_path / "elsewhere" / "artifact"
    moved.parent.mkdir()
    results.rename(moved)
    html = (moved / "run" / "report.html").read_text()
    assert "file://" not in html
    hrefs = [urllib.parse.unquote(h) for h in re.findall(r'href="([^"#:]+)"', html)]
    traces = [h for h in hrefs if "trace" in h]
    assert traces, "no trace links on the page"
    for h in traces:
        assert (moved / "run" / h).exists(), h


def test_top_kernels_leave_out_profiler_step_markers(fixture_page):
    html = fixture_page.read_text()
    kernels = html[html.index('<section id="kernels">'):html.index('<section id="archs">')]
    assert "<details" in kernels and "ProfilerStep" not in kernels
