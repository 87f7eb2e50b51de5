"""A reused run id: the same options may add cases to a run; different ones are refused.

``<results>/<run_id>.jsonl`` is one run. Appending cases trained with other options (more
epochs, another learning rate) to it would make one report mix conditions no run had, so each
record carries ``options_digest``: a digest of the invocation's options, less those that differ
from case to case (the axes, the repeat's seed) or that change no number (where files go, the
progress bar). At session start the plugin compares it with the digests already in the file.

Torch-free: the plugin calls it before any case is collected.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

from cnnbench.record import jsonl_lines, records_file

# RunConfig fields left out of the digest: a case's own axis values, and what changes where
# files go or what is shown, not what is measured.
PER_CASE = ("dataset", "precision", "loader", "mode", "repeat", "seed")
NOT_MEASURED = ("run_id", "results_dir", "trace_dir", "data_dir", "download", "progress")


def options_digest(cfg) -> str:
    """12 hex digits over the RunConfig's run-wide options (its seed less the repeat: repeat
    k of a run trains with seed + k)."""
    fields = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)
              if f.name not in PER_CASE + NOT_MEASURED}
    fields["base_seed"] = cfg.seed - cfg.repeat
    text = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def reuse_problem(results_dir, run_id: str, digests: set[str]) -> str | None:
    """Why this run may not append to ``<results_dir>/<run_id>.jsonl``, or None: the file
    holds records of the same run id written with options other than this run's (``digests``:
    its cases', which may differ where an axis implies an option, e.g. mode compile).
    Records without a digest (written before it existed) are not judged."""
    path = records_file(results_dir, run_id)
    if not path.is_file():
        return None
    others = set()
    for _, rec, _ in jsonl_lines(path):
        if isinstance(rec, dict) and rec.get("options_digest") is not None \
                and rec["options_digest"] not in digests:
            others.add(str(rec["options_digest"]))
    if not others:
        return None
    return (f"run id {run_id!r} is already used in {path} by a run with different options "
            f"(digest {', '.join(sorted(others))}; this run's: {', '.join(sorted(digests))}): "
            "adding cases to it would mix conditions in one run; choose another --run-id "
            "(or --name)")
