"""The mixed-device caveat: said when a cluster ran cases on different GPU types, only then."""

from cnnbench.reports.caveats import device_caveats
from cnnbench.reports.html import render_report
from cnnbench.reports.load import load_runs
from cnnbench.reports.tests.synth import make_record, write_run

ARCHS = ("seed000_net0", "seed004_model_a")


def _df(tmp_path, devices_hosts):
    recs = [make_record(arch, run_id="mixed", device="cuda", device_name=dev, hostname=host)
            for arch, (dev, host) in zip(ARCHS, devices_hosts, strict=True)]
    return load_runs(write_run(tmp_path, "mixed", recs, json_too=False))


def test_one_device_type_on_two_hosts_needs_no_caveat(tmp_path):
    df = _df(tmp_path, [("NVIDIA H100", "node-a"), ("NVIDIA H100", "node-b")])
    assert device_caveats(df) == []


def test_two_device_types_name_each_with_its_hosts_and_reach_the_page(tmp_path):
    df = _df(tmp_path, [("NVIDIA H100", "node-a"), ("NVIDIA A10G", "node-b")])
    (text,) = device_caveats(df)
    assert "2 device types" in text
    assert "NVIDIA A10G (1 training on node-b)" in text
    assert "NVIDIA H100 (1 training on node-a)" in text
    assert text in render_report(df)
