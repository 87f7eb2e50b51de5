"""The recorded CPU run the report tests read, and its records read without reports.load."""

from __future__ import annotations

import json
import re
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
BENCH_JSON = FIXTURES / "cpu_run.json"
RUNNER_JSONL = FIXTURES / "cpu_run.jsonl"
ARTIFACTS = Path(__file__).parent / "artifacts"


def raw_records() -> list[tuple[str, dict]]:
    """(kind, record) for every record in both fixture files, read without reports.load."""
    out = []
    doc = json.loads(BENCH_JSON.read_text())
    for b in doc["benchmarks"]:
        extra = b.get("extra_info") or {}
        if extra.get("case_id") or extra.get("arch"):
            rec = dict(extra, _stats=b.get("stats"))
            rec["case_id"] = rec.get("case_id") or b.get("param") or b.get("name")
            out.append(("json", rec))
    for line in RUNNER_JSONL.read_text().splitlines():
        if line.strip():
            out.append(("jsonl", json.loads(line)))
    return out


def record_key(rec: dict, stem: str = "cpu_run") -> tuple:
    run = rec.get("run_id") or re.sub(r"^\d{4}_", "", stem)
    case_id = str(rec.get("case_id") or rec.get("arch"))
    repeat = rec.get("repeat")
    if repeat is None:
        m = re.search(r"[-_]r(\d+)$", case_id)
        repeat = int(m.group(1)) if m else 0
    return (run, case_id, repeat)
