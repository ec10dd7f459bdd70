"""Deterministic curation files, written atomically through ``codekiln_core.fsio``.

A killed run leaves at most ``*.tmp-<pid>`` files (removed on the next start) and never a
half-written file under its final name; a completion marker is written last.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from codekiln_core.fsio import atomic_path, atomic_write_json, atomic_write_text, remove_stale_temps

#: Writer settings are pinned so equal tables give equal bytes (no timestamps in Parquet).
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
    "row_group_size": 4096,
    "data_page_size": 1 << 20,
    "version": "2.6",
    "store_schema": True,
}


def write_parquet(table: pa.Table, path: Path) -> None:
    with atomic_path(path) as tmp:
        pq.write_table(table.replace_schema_metadata(None), tmp, **PARQUET_OPTIONS)


def write_json(data: Any, path: Path) -> None:
    atomic_write_json(path, data, indent=1)


def write_text(text: str, path: Path) -> None:
    atomic_write_text(path, text)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def remove_stale_tmp(root: Path) -> int:
    """Delete temp files a killed run left behind anywhere under ``root``; returns how many."""
    if not root.is_dir():
        return 0
    dirs = [root, *(p for p in root.rglob("*") if p.is_dir() and ".tmp-" not in p.name)]
    return sum(remove_stale_temps(d) for d in dirs)


def foreign_entries(out: Path, state: str = "_state") -> list[str]:
    """What ``out`` holds besides a run's own state folder, its lineage marker (core notes a
    resumable run there as it starts) and temp files a killed run left: anything listed
    means the directory is not this command's output."""
    from codekiln_core.lineage.refs import MARKER_NAME

    if not out.is_dir():
        return []
    return sorted(p.name for p in out.iterdir()
                  if p.name not in (state, MARKER_NAME) and ".tmp-" not in p.name)
