"""Lineage service: one MLflow run per command, linked run by run back to the raw data.

mlflow is imported lazily, inside the functions that need it.
"""

from __future__ import annotations

from codekiln_core.lineage.refs import InputRef, read_marker
from codekiln_core.lineage.run import LineageRun, lineage_run
from codekiln_core.lineage.store import DEFAULT_STORE_DIR, tracking_uri

__all__ = [
    "DEFAULT_STORE_DIR",
    "InputRef",
    "LineageRun",
    "lineage_run",
    "read_marker",
    "tracking_uri",
]
