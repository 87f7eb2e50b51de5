"""Warnings about the data as a whole that a reader must see before comparing times.

A sweep spread over a cluster (``python -m bench --executor ray``) may land cases on machines
with different GPUs; every table and finding then compares times across device types.
"""

from __future__ import annotations

import pandas as pd

from .load import is_missing


def _names(values) -> list[str]:
    return sorted({str(v) for v in values if not is_missing(v)})


def device_caveats(df: pd.DataFrame) -> list[str]:
    """One caveat when the trainings ran on more than one device type, naming each type with
    its hosts and number of trainings; none otherwise."""
    if "device_name" not in df.columns:
        return []
    rows = df[[not is_missing(v) for v in df["device_name"]]]
    devices = _names(rows["device_name"])
    if len(devices) < 2:
        return []
    parts = []
    for name in devices:
        g = rows[rows["device_name"].astype(str) == name]
        hosts = _names(g["hostname"]) if "hostname" in g.columns else []
        plural = "s" * (len(g) != 1)
        parts.append(f"{name} ({len(g)} training{plural} on "
                     f"{', '.join(hosts) or 'unknown hosts'})")
    return [f"These trainings ran on {len(devices)} device types: {'; '.join(parts)}. "
            "Times from different device types are not comparable: the tables and findings "
            "mix them; compare cases within one device type (the runs.csv columns device_name "
            "and hostname say where each ran)."]
