"""Documents in flight: stable ids, the fixed output columns, and reader skips.

Readers yield plain dicts (one per file or record); the engine turns them into Arrow tables
with a fixed column order so every shard of a run has the same schema and bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from codekiln_core.stages import DOCUMENT_COLUMNS

#: Columns after the core document columns, present for every source (null where unknown).
META_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("size_bytes", pa.int64()),
    ("commit", pa.string()),
    ("commit_time", pa.int64()),
)
#: Written by the dedup stages (null when the stage did not run or the doc is a singleton).
DEDUP_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("exact_cluster", pa.string()),
    ("near_cluster", pa.string()),
)
#: Only in dropped/ files: which stage dropped the document, and why.
DROP_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("drop_stage", pa.string()),
    ("drop_reason", pa.string()),
)
READ_STAGE = "read"

ARROW_TYPES: dict[str, pa.DataType] = {
    "bool": pa.bool_(), "boolean": pa.bool_(), "int": pa.int64(), "int64": pa.int64(),
    "int32": pa.int32(), "float": pa.float64(), "float64": pa.float64(),
    "double": pa.float64(), "float32": pa.float32(), "str": pa.string(),
    "string": pa.string(), "utf8": pa.string(),
}


def arrow_type(name: str) -> pa.DataType:
    """Arrow type for a stage's ``signal_columns`` type name (unknown names become string)."""
    return ARROW_TYPES.get(str(name).lower(), pa.string())


def document_id(content: str, source: str, repo: str, path: str) -> str:
    """sha256 of origin and content: stable across runs, distinct for copies at two places."""
    digest = hashlib.sha256()
    for part in (source, repo, path):
        digest.update(part.encode("utf-8", errors="surrogatepass"))
        digest.update(b"\0")
    digest.update(content.encode("utf-8", errors="surrogatepass"))
    return digest.hexdigest()


def make_document(content: str, *, source: str, repo: str, path: str, language: str = "",
                  commit: str | None = None, commit_time: int | None = None,
                  size_bytes: int | None = None) -> dict[str, Any]:
    """A document dict with every base column filled."""
    return {
        "id": document_id(content, source, repo, path),
        "content": content,
        "path": path,
        "repo": repo,
        "language": language,
        "source": source,
        "size_bytes": len(content.encode("utf-8", errors="surrogatepass"))
        if size_bytes is None else size_bytes,
        "commit": commit,
        "commit_time": commit_time,
    }


@dataclass(frozen=True)
class Skip:
    """An input the reader could not turn into a document, and why (counted, never fatal)."""

    path: str
    reason: str
    size_bytes: int = 0
    repo: str = ""
    source: str = ""

    def as_dropped(self) -> dict[str, Any]:
        """A dropped-row dict (empty content) so skips are audited like any other drop."""
        doc = make_document("", source=self.source, repo=self.repo, path=self.path,
                            size_bytes=self.size_bytes)
        doc["drop_stage"] = READ_STAGE
        doc["drop_reason"] = self.reason
        return doc


def base_schema() -> list[tuple[str, pa.DataType]]:
    """Core + meta columns, in output order."""
    return [(name, pa.string()) for name in DOCUMENT_COLUMNS] + list(META_COLUMNS)


def output_schema(signal_fields: list[tuple[str, pa.DataType]], *, dropped: bool) -> pa.Schema:
    """The fixed schema of data/ (kept) or dropped/ files for a run."""
    fields = base_schema() + signal_fields + list(DEDUP_COLUMNS)
    if dropped:
        fields += list(DROP_COLUMNS)
    return pa.schema(fields)


def rows_to_table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """Arrow table in ``schema`` from dicts; missing keys become nulls."""
    columns = {f.name: [row.get(f.name) for row in rows] for f in schema}
    return pa.Table.from_pydict(columns, schema=schema)
