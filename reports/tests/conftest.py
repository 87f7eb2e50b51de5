"""Shared fixtures. Expectations are derived from the fixture files' contents, never hard-coded:
the runner's author replaces cpu_run.json / cpu_run.jsonl with real runner output."""

from __future__ import annotations

import pytest

from cnnbench.reports.tests.fixture_files import BENCH_JSON, RUNNER_JSONL  # noqa: F401


@pytest.fixture(scope="session")
def fixture_df():
    from cnnbench.reports.load import load_runs

    return load_runs([BENCH_JSON, RUNNER_JSONL])
