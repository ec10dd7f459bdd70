"""Shards: the unit of reading, parallelism and resume.

A reader's ``plan`` (in the driver) lists an input deterministically and cuts it into shards;
its ``read`` (in a worker) turns one shard into documents and counted skips. A shard is plain
JSON data, so it travels to worker processes and Ray tasks unchanged and is stored in the
run plan. ``kind`` names the reader (``read-<kind>`` in the registry).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from codekiln_curate.documents import Skip

Item = dict[str, Any] | Skip


@dataclass(frozen=True)
class Shard:
    """One slice of one input; ``shard_id`` orders output files."""

    shard_id: str
    kind: str
    source: str
    root: str
    options: dict[str, Any] = field(default_factory=dict)
    entries: list[Any] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Shard:
        return cls(**data)


def shard_id(index: int, number: int) -> str:
    """``<input>-<shard>``, zero-padded so file names sort in plan order."""
    return f"{index:03d}-{number:05d}"


def source_name(spec: Any, path: Any) -> str:
    """The ``source`` column of an input: its ``name``, else the path's last component."""
    return str(spec.name or path.name or path)


def chunk(items: list[Any], size: int) -> list[list[Any]]:
    """Consecutive chunks of ``size`` (the last may be shorter)."""
    return [items[i : i + size] for i in range(0, len(items), size)]
