"""Run-directory files: append-only sample/result logs and atomically replaced summaries.

Layout of a run directory::

    config.json        settings the samples were made with (a rerun must match them)
    samples.jsonl      one line per (task_id, sample_idx): the raw model output
    results.jsonl      one line per executed sample: verdict per check, timings
    tasks.jsonl        per task: n, c, pass@k, timeout used
    summary.json       schema_version, pass@k, verdict counts, calibration
    eval_results.json  EvalPlus-shaped results (HumanEval+ / MBPP+ only)

JSONL logs are appended one whole line per write and flushed, so a crash loses at most the
line being written; a torn last line is ignored on reload and the work is redone.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from codekiln_core.fsio import atomic_write_text

SCHEMA_VERSION = 1

Key = tuple[str, int]


def write_json_atomic(path: Path, data: Any) -> None:
    """JSON (keys in insertion order, odd values as text) through ``codekiln_core.fsio``."""
    atomic_write_text(path, json.dumps(data, indent=2, default=str) + "\n")


def write_jsonl_atomic(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    atomic_write_text(path, "".join(json.dumps(row, default=str) + "\n" for row in rows))


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Complete lines of a JSONL log; a torn final line (crash mid-write) is skipped."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.endswith("\n"):
                break
            try:
                yield json.loads(line)
            except ValueError:
                continue


class KeyedLog:
    """An append-only JSONL log keyed by (task_id, sample_idx); the first record wins."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: dict[Key, dict[str, Any]] = {}
        for row in read_jsonl(path):
            self.records.setdefault((row["task_id"], int(row["sample_idx"])), row)
        self._repair_tail()

    def _repair_tail(self) -> None:
        """Drop a torn last line so the next append starts on a fresh line."""
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            keep = data[: data.rfind(b"\n") + 1]
            with self.path.open("r+b") as fh:
                fh.truncate(len(keep))

    def __contains__(self, key: Key) -> bool:
        return key in self.records

    def append(self, rows: Iterable[dict[str, Any]]) -> None:
        fresh = [r for r in rows if (r["task_id"], int(r["sample_idx"])) not in self.records]
        if not fresh:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = "".join(json.dumps(r, default=str) + "\n" for r in fresh)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        for r in fresh:
            self.records[(r["task_id"], int(r["sample_idx"]))] = r
