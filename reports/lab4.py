"""Study 001 (Lab 4) in four rows: max vs average pooling, as the study ran them (softmax fed to
nll_loss, the bug) and corrected, with the study's printed figures beside the buggy pair.

The study's finding (average 89.4% > max 87.5%) is about the two buggy nets; the corrected pair
says whether it survives the fix.
"""

from __future__ import annotations

import pandas as pd

from .claims import reported_text
from .fmt import mean

# (pooling, loss, architecture), in the table's order: the study's pair first.
LAB4_NETS = (
    ("max", "softmax + nll_loss (the study's bug)", "seed001_lab4_maxpool_softmax_nll"),
    ("average", "softmax + nll_loss (the study's bug)", "seed001_lab4_avgpool_softmax_nll"),
    ("max", "logits + cross-entropy (fixed)", "seed001_lab4_maxpool"),
    ("average", "logits + cross-entropy (fixed)", "seed001_lab4_avgpool"),
)


def _mean(values) -> float | None:
    m = mean(values)
    return None if m != m else m


def _last(v):
    return v[-1] if isinstance(v, list) and v else None


def lab4_rows(df: pd.DataFrame) -> list[dict]:
    """One row per (run, Lab 4 net) that ran ok; [] when the run has none of them."""
    rows = []
    for run in dict.fromkeys(df["run"]):
        in_run = df[(df["run"] == run) & (df["status"] == "ok")]
        for pooling, loss, arch in LAB4_NETS:
            g = in_run[in_run["arch"] == arch]
            if g.empty:
                continue
            first = g.iloc[0]
            acc = _mean(g["test_accuracy"])
            reported = first["reported"] if isinstance(first["reported"], dict) else {}
            rows.append({
                "run": str(run), "arch": arch, "pooling": pooling, "loss": loss,
                "recipe": first["recipe"], "dataset": first["dataset"], "repeats": len(g),
                "test_accuracy": acc,
                "final_loss": _mean(g["train_loss"].map(_last)),
                "study_final_loss": _last(list(reported.get("epoch_losses") or [])),
                "study": reported_text(first["reported"], first["dataset"], first["recipe"],
                                       ours=acc)})
    return rows
