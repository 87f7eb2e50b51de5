"""The throughput script runs on CPU with synthetic data (not a timing test)."""

from __future__ import annotations

import json

from cnnbench.data import throughput


def test_throughput_rows_and_json(tmp_path, capsys):
    out = tmp_path / "t.json"
    rows = throughput.main([
        "--dataset", "synthetic", "--device", "cpu", "--epochs", "2", "--batch-size", "256",
        "--workers", "0", "--json", str(out),
    ])
    printed = capsys.readouterr().out
    assert [r["variant"] for r in rows] == ["resident", "dataloader-w0"]
    for r in rows:
        assert r["variant"] in printed and r["images"] == 2048 and r["images_per_s"] > 0
    assert rows[0]["resident_bytes"] > 0 and rows[1]["resident_bytes"] == 0
    saved = json.loads(out.read_text())
    assert saved["rows"] == rows and saved["meta"]["dataset"] == "synthetic"
