import json
import re

import numpy as np

from cnnbench.reports.html import build_report
from cnnbench.reports.tests.records import frame, grid, noisy, record


def test_page_shows_contrast_tables_and_claims_and_writes_findings_json(tmp_path):
    rng = np.random.default_rng(0)
    recs = [grid(kernel=k, repeat=r, times=noisy(t, 0.01, 2, rng), acc=0.9 + 0.002 * r)
            for k, t in ((3, 1.0), (5, 1.8), (7, 2.7)) for r in range(3)]
    recs += [record(f"seed004_model_{m}", family="seed004", repeat=r, acc=a + 0.002 * r,
                    reported={"dataset": "mnist", "test_accuracy": 0.98})
             for m, a in (("a", 0.90), ("b", 0.85)) for r in range(3)]
    page = build_report(frame(tmp_path, recs), tmp_path / "out" / "report.html")
    html = page.read_text()
    rows = json.loads((tmp_path / "out" / "findings.json").read_text())
    by_key = {r["key"]: r for r in rows}
    assert by_key["kernel_time_k3_k5"]["conclusive"] is True
    table = re.search(r'<table class="data contrasts" id="contrasts-kernel">(.*?)</table>', html,
                      re.S).group(1)
    assert 'data-key="kernel_time_k3_k5"' in table and 'data-key="kernel_time_trend"' in table
    assert f'{by_key["kernel_time_k3_k5"]["estimate"]:.2f}×' in table
    claims = re.search(r'id="claims-table">(.*?)</table>', html, re.S).group(1)
    row = re.search(r'<tr data-key="claim_004_max_beats_avg">(.*?)</tr>', claims, re.S).group(1)
    assert "supported" in row and "study: MNIST 98.0%; this run: Fashion-MNIST, not comparable" \
        in row
    assert claims.count("<tr data-key=") == sum(r["kind"] == "claim" for r in rows)


def test_step_chips_read_a_cost_as_bad_in_time_and_in_accuracy(tmp_path):
    # k5 is slower and less accurate than k3: both rows' chips must say so in red ("bad"),
    # the accuracy one too (its verdict is "lower", not a time word).
    rng = np.random.default_rng(1)
    recs = [grid(kernel=k, repeat=r, times=noisy(t, 0.01, 2, rng), acc=a + 0.002 * r)
            for k, t, a in ((3, 1.0, 0.90), (5, 1.8, 0.80)) for r in range(3)]
    html = build_report(frame(tmp_path, recs), tmp_path / "out" / "report.html").read_text()
    for key, verdict in (("kernel_time_k3_k5", "slower"), ("kernel_accuracy_k3_k5", "lower")):
        row = re.search(rf'<tr data-key="{key}"(.*?)</tr>', html, re.S).group(1)
        assert f'<span class="chip bad">{verdict}</span>' in row
