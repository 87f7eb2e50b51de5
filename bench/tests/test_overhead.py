"""The overhead self-check runs on the CPU twin and reports, without asserting on time."""

import json

from cnnbench.bench import overhead


def test_overhead_check_reports_both_loops(tmp_path, capsys):
    out = tmp_path / "o.json"
    assert overhead.main(["--dataset", "synthetic", "--epochs", "2", "--device", "cpu",
                          "--json", str(out), "--results-dir", str(tmp_path)]) == 0
    result = json.loads(out.read_text())
    assert result["runner_timer"] == "host" and result["device"] == "cpu"
    assert len(result["runner_epoch_times_s"]) == len(result["bare_epoch_times_s"]) == 2
    assert result["ratio"] == result["runner_epoch_s"] / result["bare_epoch_s"]
    printed = capsys.readouterr().out
    assert "ratio" in printed and "graphs mode: not measured (CUDA graphs need" in printed
    assert result["graphs_epoch_s"] is None
