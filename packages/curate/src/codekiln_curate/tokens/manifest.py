"""``manifest.json`` of a shard directory: what the shards hold and how they were made.

Written last, after every shard is complete, so its presence means the directory is whole.
Shard files are named by index; the manifest records each one's token count and sha256.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from codekiln_core.errors import ConfigError
from codekiln_core.fsio import atomic_write_json

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
STATE = "_state"


def bin_name(index: int) -> str:
    return f"shard-{index:05d}.bin"


def idx_name(index: int) -> str:
    return f"shard-{index:05d}.idx"


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
    shards = [{key: m[key] for key in ("bin", "idx", "tokens", "sequences", "documents",
                                       "sha256")} for m in markers]
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


def read_manifest(out: Path) -> dict[str, Any]:
    path = out / MANIFEST
    if not path.is_file():
        raise ConfigError(f"{out} has no {MANIFEST}; pass the --output directory of a finished "
                          "`codekiln curate shards` (rerun it to resume an interrupted one)")
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ConfigError(f"{path} has schema_version {data.get('schema_version')!r}; this "
                          f"codekiln reads {SCHEMA_VERSION}; rebuild the shards")
    return dict(data)
