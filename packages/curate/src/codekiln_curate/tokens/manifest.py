"""``manifest.json`` of a shard directory: what the shards hold and how they were made.

Written last, after every shard is complete, so its presence means the directory is whole.
Shard files are named by index; the manifest records each one's token count and the sha256
of its ``.bin`` and ``.idx``, which a reader checks on open (:mod:`codekiln_core.shard_verify`).
The format's names and the reader live in :mod:`codekiln_core.shards` (train reads what
curate writes); this module builds and writes the manifest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codekiln_core.fsio import atomic_write_json
from codekiln_core.shards import (
    MANIFEST,
    SCHEMA_VERSION,
    STATE,
    bin_name,
    idx_name,
    read_manifest,
)

__all__ = ["MANIFEST", "SCHEMA_VERSION", "STATE", "bin_name", "build_manifest", "idx_name",
           "marker_path", "read_manifest", "write_manifest"]


def marker_path(out: Path, index: int) -> Path:
    return out / STATE / f"shard-{index:05d}.json"


def build_manifest(settings: dict[str, Any], markers: list[dict[str, Any]],
                   weights: dict[str, float]) -> dict[str, Any]:
    """Sum the per-shard markers into the manifest."""
    sources: dict[str, dict[str, Any]] = {
        name: {"tokens": 0, "documents": 0, "weight": weight} for name, weight in weights.items()}
    for marker in markers:
        for name, count in marker["source_tokens"].items():
            sources[name]["tokens"] += count
        for name, count in marker["source_docs"].items():
            sources[name]["documents"] += count
    # idx_sha256 is absent from markers of a run begun by an older codekiln.
    shards = [{key: m[key] for key in ("bin", "idx", "tokens", "sequences", "documents",
                                       "sha256", "idx_sha256") if key in m} for m in markers]
    return {
        "schema_version": SCHEMA_VERSION,
        **settings,
        "total_tokens": sum(m["tokens"] for m in markers),
        "total_sequences": sum(m["sequences"] for m in markers),
        "total_documents": sum(m["documents"] for m in markers),
        "fim_documents": sum(m["fim_docs"] for m in markers),
        "sources": sources,
        "shards": shards,
    }


def write_manifest(out: Path, manifest: dict[str, Any]) -> Path:
    path = out / MANIFEST
    atomic_write_json(path, manifest)
    return path
