"""Resumable output in parts: ``part-00000.jsonl`` ... each written atomically once done."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from rich.progress import Progress

from codekiln_core.fsio import atomic_write_json, remove_stale_temps
from codekiln_posttrain.chat.datasets import write_rows

T = TypeVar("T")


def part_path(out: Path, number: int) -> Path:
    return out / f"part-{number:05d}.jsonl"


def run_in_parts(items: Sequence[T], out: Path, part_size: int,
                 work: Callable[[list[T]], tuple[list[dict[str, Any]], dict[str, int]]],
                 label: str) -> tuple[int, dict[str, int], int]:
    """Process ``items`` part by part, skipping parts already on disk.

    ``work`` returns the rows to keep and reason counts for one part; counts are stored
    beside each part so a resumed run reports the whole job. Returns (rows, counts, resumed).
    """
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out)
    total_rows, resumed = 0, 0
    counts: dict[str, int] = {}
    chunks = [list(items[i:i + part_size]) for i in range(0, len(items), part_size)]
    with Progress(transient=True) as progress:
        task = progress.add_task(label, total=len(items))
        for number, chunk in enumerate(chunks):
            path = part_path(out, number)
            stats_path = path.with_suffix(".stats.json")
            if path.is_file() and stats_path.is_file():
                stats = json.loads(stats_path.read_text())
                resumed += 1
            else:
                rows, stats = work(chunk)
                stats = {**stats, "rows": len(rows)}
                write_rows(path, rows)
                atomic_write_json(stats_path, stats)
            total_rows += int(stats.get("rows", 0))
            for key, value in stats.items():
                if key != "rows":
                    counts[key] = counts.get(key, 0) + int(value)
            progress.advance(task, len(chunk))
    return total_rows, counts, resumed
