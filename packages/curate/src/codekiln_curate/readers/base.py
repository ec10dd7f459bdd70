"""Shards: the unit of reading, parallelism and resume.

Planning (in the driver) lists inputs deterministically and cuts them into shards; reading
(in a worker) turns one shard into documents and counted skips. A shard is plain JSON data,
so it travels to worker processes and Ray tasks unchanged and is stored in the run plan.
"""

from __future__ import annotations

from collections.abc import Iterator
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


def read_shard(shard: Shard, max_file_bytes: int) -> Iterator[Item]:
    """Documents and skips of one shard, in a fixed order."""
    if shard.kind == "dir":
        from codekiln_curate.readers.files import read_dir_shard

        yield from read_dir_shard(shard, max_file_bytes)
    elif shard.kind == "git":
        from codekiln_curate.readers.git import read_git_shard

        yield from read_git_shard(shard, max_file_bytes)
    elif shard.kind == "jsonl":
        from codekiln_curate.readers.records import read_jsonl_shard

        yield from read_jsonl_shard(shard, max_file_bytes)
    elif shard.kind == "parquet":
        from codekiln_curate.readers.records import read_parquet_shard

        yield from read_parquet_shard(shard, max_file_bytes)
    else:  # plans are validated, so this is a programming error
        raise ValueError(f"unknown shard kind {shard.kind!r}")


def chunk(items: list[Any], size: int) -> list[list[Any]]:
    """Consecutive chunks of ``size`` (the last may be shorter)."""
    return [items[i : i + size] for i in range(0, len(items), size)]
