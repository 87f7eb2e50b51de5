"""Issue 21: records are data from anywhere. Hostile or malformed records never leak a file
into the page, never crash a report, a comparison or a nightly, and outputs stay inert."""

from __future__ import annotations

import base64
import json
import os
import warnings

import pytest

from cnnbench.bench import nightly
from cnnbench.record import read_jsonl
from cnnbench.reports.__main__ import main
from cnnbench.reports.html import render_report
from cnnbench.reports.load import load_runs
from cnnbench.reports.tables import write_tables
from cnnbench.reports.tests.synth import make_record, write_run

PNG = b"\x89PNG\r\n\x1a\n" + b"SECRET-BYTES-" * 8


# ---- 1. a record names files: nothing outside the run's folder is embedded, linked or walked


def _page(results, records):
    write_run(results, "r", records, json_too=False)
    return render_report(load_runs(results / "r.jsonl"), page_dir=results)


def test_a_proc_environ_image_path_embeds_nothing_outside_the_run_folder(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.png").write_bytes(PNG)
    results = tmp_path / "results"
    rec = make_record("seed000_net0", run_id="r", kernels_image="/proc/self/environ",
                      feature_maps_image=str(outside / "secret.png"), trace_dir="/",
                      checkpoint="../outside/secret.png")
    html = _page(results, [rec])
    assert "data:image" not in html  # nothing embedded: the layout has no picture
    environ = open("/proc/self/environ", "rb").read()
    for secret in (PNG, environ[:60]):
        assert base64.b64encode(secret)[:40].decode() not in html
    assert "/etc/" not in html and "bin/" not in html  # "/" was not walked


def test_only_the_layout_picture_is_embedded_and_a_symlink_out_is_not(tmp_path):
    results = tmp_path / "results"
    rec = make_record("seed000_net0", run_id="r", kernels_image="/proc/self/environ")
    folder = results / "artifacts" / "r" / rec["case_id"]
    folder.mkdir(parents=True)
    (folder / "kernels.png").write_bytes(PNG)  # the run's own picture, found by its case id
    (tmp_path / "secret.png").write_bytes(PNG.replace(b"SECRET", b"HIDDEN"))
    (folder / "feature_maps.png").symlink_to(tmp_path / "secret.png")
    html = _page(results, [rec])
    assert base64.b64encode(PNG).decode() in html
    assert html.count("data:image/png;base64,") == 1  # not the symlink leading out


def test_a_case_id_with_dots_finds_no_folder_outside(tmp_path):
    results = tmp_path / "results"
    (tmp_path / "kernels.png").write_bytes(PNG)
    rec = make_record("seed000_net0", run_id="..", case_id="..")
    write_run(results, "r", [rec], json_too=False)
    html = render_report(load_runs(results / "r.jsonl"), page_dir=results)
    assert "data:image" not in html


def test_the_hta_path_reads_no_trace_outside_the_run_folder(tmp_path, monkeypatch):
    """reports/traces.py rglobbed the record's own ``trace_dir``: "/" walked the whole
    filesystem, and a folder outside the run had HTA parse whatever trace lay there."""
    from pathlib import Path

    from cnnbench.reports import traces
    from cnnbench.reports.tests import kineto_trace as kt

    results, outside = tmp_path / "results", tmp_path / "outside"
    kt.write_trace(outside)  # a trace no record of this run may point HTA at
    root_dir = make_record("seed000_net0", run_id="r", device="cuda", trace_dir="/")
    named = make_record("seed004_model_a", run_id="r", device="cuda", trace_dir=str(outside))
    linked = make_record("grid_d1_k3_s1_same_max_w32", run_id="r", device="cuda")
    own = kt.write_trace(results / "traces" / "r" / named["case_id"])  # found by the layout
    (results / "traces" / "r").joinpath(linked["case_id"]).symlink_to(outside)
    write_run(results, "r", [root_dir, named, linked], json_too=False)
    df = load_runs(results / "r.jsonl")

    # Every folder listed is recorded; one outside the run is recorded and not listed at all.
    walked, analysed = [], []
    real_scandir, real_rglob = os.scandir, Path.rglob

    def inside(p) -> bool:
        return Path(p).resolve().is_relative_to(results.resolve())

    def scandir(p="."):
        walked.append(Path(p))
        return real_scandir(p) if inside(p) else iter(())

    def rglob(self, pattern, **kw):
        walked.append(self)
        return real_rglob(self, pattern, **kw) if inside(self) else iter(())

    def analyse(path):  # HTA itself is not needed to see which file it would parse
        analysed.append(Path(path).resolve())
        return {"idle_pct": 10.0}, [], []

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(Path, "rglob", rglob)
    monkeypatch.setattr(traces, "analyse", analyse)
    monkeypatch.setattr(traces, "hta_missing", lambda: None)
    rows, skipped = traces.breakdowns(df)

    assert skipped is None
    assert [p for p in walked if not inside(p)] == []
    assert analysed == [own.resolve()]  # only the run's own trace, never the one outside
    case_of = dict(zip(df["case_id"], df["case"], strict=True))  # case id -> its case key
    by_case = {b.case: b for b in rows}
    assert by_case[case_of[named["case_id"]]].temporal == {"idle_pct": 10.0}
    for rec in (root_dir, linked):
        assert by_case[case_of[rec["case_id"]]].skipped == "no trace file recorded"


# ---- 2. malformed records: one skipped line and one warning each, everywhere

GOOD = make_record("seed000_net0", run_id="night")


def _bad(**kw) -> str:
    return json.dumps({**GOOD, "repeat": 1, "case_id": GOOD["case_id"][:-1] + "1", **kw})


MALFORMED = {
    "arch int": (_bad(arch=5), "arch"),
    "case_id int": (_bad(case_id=7), "case_id"),
    "tags [1]": (_bad(tags=[1]), "tags"),
    "kernel_sizes [NaN]": (_bad(kernel_sizes=[float("nan")]), "kernel_sizes"),
    "top_ops not ops": (_bad(top_ops=[{"calls": "x"}]), "top_ops"),
    "top_ops text": (_bad(top_ops="x"), "top_ops"),
    "reported accuracy text": (_bad(reported={"test_accuracy": "x"}), "reported"),
    "schema_version -1": (_bad(schema_version=-1), "schema_version"),
    "5000-digit number": (_bad().replace('"params": ', '"params": ' + "9" * 5000 + ", \"x\": "),
                          "line"),
    "100k brackets": (_bad().replace('"tags": ', '"tags": ' + "[" * 100_000 + "]" * 100_000
                                     + ', "y": '), "line"),
    "non-UTF-8 byte": (_bad(error="caf@E9@"), "UTF-8"),
}


def _raw(bad: str) -> bytes:
    return bad.encode().replace(b"@E9@", b"\xe9")  # one byte that is no UTF-8


def _write_lines(path, bad: str):
    good = json.dumps(GOOD).encode() + b"\n"
    path.write_bytes(good + _raw(bad) + b"\n" + good)


@pytest.mark.parametrize("name", MALFORMED)
def test_a_malformed_record_is_one_skipped_line_and_one_warning(tmp_path, name):
    bad, field = MALFORMED[name]
    path = tmp_path / "night.jsonl"
    _write_lines(path, bad)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        df = load_runs(path)
    assert list(df["case_id"]) == [GOOD["case_id"]]  # the good line, once (same key twice)
    said = [str(x.message) for x in w if f"{path}:2:" in str(x.message)]
    assert len(said) == 1 and field in said[0], [str(x.message) for x in w]


@pytest.mark.parametrize("name", MALFORMED)
def test_build_and_compare_go_on_past_a_malformed_record(tmp_path, name, capsys):
    path = tmp_path / "night.jsonl"
    _write_lines(path, MALFORMED[name][0])
    assert main(["build", str(path), "-o", str(tmp_path / "page.html")]) == 0
    assert main(["compare", str(path), str(path)]) == 0  # never 1 (= regression), never a crash
    assert "warning:" in capsys.readouterr().err


def test_a_poisoned_earlier_night_does_not_break_later_nightlies(tmp_path, capsys):
    history = tmp_path / "nightly"
    history.mkdir()
    first, second = "nightly-20260101-020000", "nightly-20260102-020000"
    for night in (first, second):
        rec = dict(GOOD, run_id=night)
        (history / f"{night}.jsonl").write_text(json.dumps(rec) + "\n")
    with open(history / f"{first}.jsonl", "ab") as f:  # every kind of bad line, in one night
        for bad, _ in MALFORMED.values():
            f.write(_raw(bad) + b"\n")
    case = load_runs(history / f"{second}.jsonl")["case"].iloc[0]
    assert nightly.baselines(history, second, {case}) == [first]
    assert nightly.compare_with_previous(history, second, 0.10, 0.01) == nightly.EXIT_OK
    assert (history / second / "compare.html").is_file()


def test_a_benchmark_json_with_machine_info_text_loads(tmp_path):
    doc = {"machine_info": "x", "commit_info": [1], "benchmarks": [
        {"name": "t", "extra_info": {"case_id": GOOD["case_id"], "arch": GOOD["arch"]},
         "stats": {"median": 1.0, "data": [1.0]}},
        {"name": "u", "extra_info": {"case_id": "x-r0", "arch": "x"}, "stats": {"median": "x"}}]}
    (tmp_path / "b.json").write_text(json.dumps(doc))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        df = load_runs(tmp_path / "b.json")
    assert list(df["case_id"]) == [GOOD["case_id"]]
    text = " ".join(str(x.message) for x in w)
    assert "machine_info" in text and "stats.median" in text


# ---- 5. inert output


def test_a_formula_leading_run_id_yields_inert_csv_cells(tmp_path):
    evil = '=HYPERLINK("http://x","y")'
    rec = make_record("seed000_net0", run_id=evil, error="+cmd|' /C calc'!A0", status="error")
    write_run(tmp_path, "r", [rec], json_too=False)
    paths = write_tables(load_runs(tmp_path / "r.jsonl"), tmp_path / "csv")
    for csv in (tmp_path / "csv" / "cases.csv", tmp_path / "csv" / "runs.csv"):
        cells = [c for line in csv.read_text().splitlines() for c in line.split(",")]
        assert not [c for c in cells if c.lstrip('"').startswith(("=", "+", "@"))], csv
        assert "'=HYPERLINK" in csv.read_text()
    md = (tmp_path / "csv" / "cases.md").read_text()
    assert "](http" not in md and "[x](" not in md and len(paths) == 3


def test_the_pages_embedded_cases_csv_is_inert(tmp_path):
    """The page's cases.csv download was summary.to_csv: a run id "=HYPERLINK(..)" stayed a
    live formula there while the --csv-dir files were made inert."""
    import csv
    import io
    import re

    evil = '=HYPERLINK("x","y")'
    rec = make_record("seed000_net0", run_id=evil)
    write_run(tmp_path, "r", [rec], json_too=False)
    html = render_report(load_runs(tmp_path / "r.jsonl"), page_dir=tmp_path)
    (uri,) = re.findall(r'download="cases.csv" href="data:text/csv;base64,([^"]+)"', html)
    rows = list(csv.reader(io.StringIO(base64.b64decode(uri).decode("utf-8"))))
    cells = [c for row in rows for c in row]
    assert len(rows) == 2 and "'" + evil in cells  # the run id, shown as text
    assert [c for c in cells if c.startswith(("=", "+", "@", "\t", "\r"))] == []


def test_cases_md_escapes_link_and_image_syntax(tmp_path):
    rec = make_record("seed000_net0", dataset="[click](http://evil.example) ![i](http://e/x.png)")
    write_run(tmp_path, "r", [rec], json_too=False)
    write_tables(load_runs(tmp_path / "r.jsonl"), tmp_path / "csv")
    md = (tmp_path / "csv" / "cases.md").read_text()
    assert "[click](" not in md and "![i](" not in md and "http://" not in md
    assert r"\[click\](http:\/\/evil.example)" in md


# ---- 6. outputs: never over an input, a trailing / is a folder, no half-written page


def test_output_paths_refuse_inputs_and_honour_a_trailing_slash(tmp_path, capsys):
    (run,) = write_run(tmp_path, "r", [GOOD], json_too=False)
    before = run.read_bytes()
    assert main(["build", str(run), "-o", str(run)]) == 2
    assert main(["build", str(tmp_path), "-o", str(run)]) == 2
    assert run.read_bytes() == before
    assert main(["build", str(run), "-o", str(tmp_path / "newdir") + "/"]) == 0
    assert (tmp_path / "newdir" / "report.html").is_file()
    assert "is one of the inputs" in capsys.readouterr().err


def test_a_full_disk_keeps_the_old_page_and_is_not_exit_1(tmp_path, monkeypatch, capsys):
    (run,) = write_run(tmp_path, "r", [GOOD], json_too=False)
    page = tmp_path / "report.html"
    page.write_text("the old page")
    import cnnbench.reports.html as html

    def full_disk(self, *a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(html.Path, "write_text", full_disk)
    assert main(["build", str(run), "-o", str(page)]) == 3
    assert open(page).read() == "the old page"
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    assert "No space left" in capsys.readouterr().err
    assert read_jsonl(run)  # the input untouched
