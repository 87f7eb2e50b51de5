"""The nightly GitHub Actions workflow is valid YAML with the documented triggers and steps."""

import yaml

from cnnbench.bench.tests.common import REPO


def test_nightly_workflow():
    doc = yaml.safe_load((REPO / ".github/workflows/nightly-gpu.yml").read_text())
    triggers = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` key as True
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    assert triggers["schedule"][0]["cron"].count(" ") == 4
    job = doc["jobs"]["bench"]
    assert "self-hosted" in job["runs-on"] and "gpu" in job["runs-on"]
    runs = " ".join(step.get("run", "") for step in job["steps"])
    assert "make setup" in runs and ".venv/bin/cnnbench nightly" in runs
    upload = next(s for s in job["steps"]
                  if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and "history.html" in upload["with"]["path"]
