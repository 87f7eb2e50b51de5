"""Every point of the Pareto plot can be identified: a hover title naming its case."""

import re
import xml.etree.ElementTree as ET

from cnnbench.reports.load import load_runs
from cnnbench.reports.plots import plot_pareto
from cnnbench.reports.tables import summarize_cases
from cnnbench.reports.tests.fixture_files import RUNNER_JSONL

SVG = "{http://www.w3.org/2000/svg}"


def test_each_pareto_point_has_a_title_naming_its_case():
    summary = summarize_cases(load_runs([RUNNER_JSONL]))
    ok = summary[summary["status"].astype(str).str.startswith("ok")]
    root = ET.fromstring(plot_pareto(summary).svg)
    titled = {}
    for g in root.iter(f"{SVG}g"):
        title = g.find(f"{SVG}title")
        if title is not None and g.find(f".//{SVG}use") is not None:  # a group drawing a marker
            titled[g.get("id")] = title.text
    texts = sorted(titled.values())
    assert len(texts) == len(ok), texts
    for _, r in ok.iterrows():
        (text,) = [t for t in texts if t.startswith(f"{r['case']}:")]
        acc = float(re.search(r"([\d.]+)% test accuracy", text).group(1))
        assert abs(acc - 100 * r["test_acc_mean"]) < 0.01, text
