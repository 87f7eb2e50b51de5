from cnnbench.bench.distributed import merge


def test_merge_keeps_every_benchmark_and_the_first_header():
    a = {"machine_info": {"node": "a", "cnnbench": {"device_name": "GPU0"}}, "version": "5",
         "benchmarks": [{"fullname": "t[b]"}]}
    b = {"machine_info": {"node": "b", "cnnbench": {"device_name": "GPU1"}}, "version": "5",
         "benchmarks": [{"fullname": "t[a]"}, {"fullname": "t[c]"}]}
    m = merge([a, b])
    assert [x["fullname"] for x in m["benchmarks"]] == ["t[a]", "t[b]", "t[c]"]
    assert m["machine_info"]["node"] == "a"
    assert [w["device_name"] for w in m["machine_info"]["cnnbench_workers"]] == ["GPU0", "GPU1"]
