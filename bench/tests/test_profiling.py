"""The profiler window: memory events in the trace (TensorBoard's Memory view), and top ops that
are ops, not the profiler's own step markers."""

import gzip
import json

import torch

from cnnbench.bench import profiling


def test_window_records_memory_and_leaves_step_markers_out_of_top_ops(tmp_path):
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 26 * 26, 10))
    x = torch.randn(8, 1, 28, 28)
    out = profiling.run_window(lambda: model(x).sum().backward(), torch.device("cpu"),
                               tmp_path, "w", wait=0, warmup=1, active=2)
    names = [op["name"] for op in out["top_ops"]]
    assert names and not any(n.startswith(profiling.STEP_MARKER) for n in names), names
    (trace,) = out["trace_files"]
    events = json.loads(gzip.open(trace).read())["traceEvents"]
    memory = [e for e in events if e.get("name") == "[memory]"]
    assert memory and all("Bytes" in e["args"] for e in memory)


def test_reports_name_the_same_step_marker():
    from cnnbench.reports import html

    assert html.PROFILER_STEP_MARKER == profiling.STEP_MARKER
