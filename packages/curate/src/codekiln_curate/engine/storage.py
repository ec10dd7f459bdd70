"""Atomic, deterministic files: temp file then rename, fixed Parquet writer settings.

A killed run leaves at most ``*.tmp-<pid>`` files (removed on the next start) and never a
half-written file under its final name; a completion marker is written last.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

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


def _tmp(path: Path) -> Path:
    return path.with_name(f"{path.name}.tmp-{os.getpid()}")


def _publish(tmp: Path, path: Path) -> None:
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def write_parquet(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp(path)
    pq.write_table(table.replace_schema_metadata(None), tmp, **PARQUET_OPTIONS)
    _publish(tmp, path)


def write_json(data: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp(path)
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    _publish(tmp, path)


def write_text(text: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp(path)
    tmp.write_text(text, encoding="utf-8")
    _publish(tmp, path)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def remove_stale_tmp(root: Path) -> int:
    """Delete temp files a killed run left behind; returns how many."""
    removed = 0
    if root.is_dir():
        for stale in root.rglob("*.tmp-*"):
            if stale.is_file():
                stale.unlink()
                removed += 1
    return removed

