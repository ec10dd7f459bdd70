"""Record dumps: JSONL (plain, .gz, .zst) and Parquet, with a configurable content column.

One shard per file. A bad line, a truncated stream or a corrupt file is a counted skip;
records read before the damage are kept.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from codekiln_core.datasets import open_binary
from codekiln_curate.documents import Skip, make_document
from codekiln_curate.readers.base import Item, Shard

PARQUET_BATCH_ROWS = 1024


def record_to_item(record: Any, where: str, shard: Shard, max_bytes: int) -> Item:
    """A document from one record, or a skip naming the record."""
    opts = shard.options
    if not isinstance(record, dict):
        return Skip(where, "not_an_object", 0, shard.source, shard.source)
    content = record.get(opts["content_column"])
    path = _text(record, opts.get("path_column")) or where
    repo = _text(record, opts.get("repo_column")) or shard.source
    if not isinstance(content, str):
        return Skip(path, "missing_content", 0, repo, shard.source)
    size = len(content.encode("utf-8", errors="surrogatepass"))
    reason = ("too_large" if size > max_bytes else "binary" if "\0" in content[:8192]
              else "empty" if not content.strip() else None)
    if reason:
        return Skip(path, reason, size, repo, shard.source)
    return make_document(content, source=shard.source, repo=repo, path=path,
                         language=_text(record, opts.get("language_column")), size_bytes=size)


def _text(record: dict[str, Any], column: str | None) -> str:
    value = record.get(column) if column else None
    return value if isinstance(value, str) else ""


def read_jsonl_shard(shard: Shard, max_file_bytes: int) -> Iterator[Item]:
    path = Path(shard.root)
    name = path.name
    line_no = 0
    try:
        with open_binary(path) as stream:
            for line_no, raw in enumerate(stream, start=1):
                if not raw.strip():
                    continue
                where = f"{name}:{line_no}"
                try:
                    record = json.loads(raw)
                except (UnicodeDecodeError, json.JSONDecodeError):
                    yield Skip(where, "invalid_json", len(raw), shard.source, shard.source)
                    continue
                yield record_to_item(record, where, shard, max_file_bytes)
    except (EOFError, OSError) as exc:
        yield Skip(f"{name}:{line_no + 1}", _stream_reason(exc), 0, shard.source, shard.source)
    except Exception as exc:  # zstandard.ZstdError and friends: damage, not a crash
        if type(exc).__module__.startswith("zstandard") or "zstd" in type(exc).__name__.lower():
            yield Skip(f"{name}:{line_no + 1}", "truncated_or_corrupt", 0, shard.source,
                       shard.source)
        else:
            raise


def _stream_reason(exc: BaseException) -> str:
    if isinstance(exc, EOFError | gzip.BadGzipFile):
        return "truncated_or_corrupt"
    return "unreadable"


def read_parquet_shard(shard: Shard, max_file_bytes: int) -> Iterator[Item]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(shard.root)
    opts = shard.options
    wanted = [c for c in (opts["content_column"], opts.get("path_column"),
                          opts.get("repo_column"), opts.get("language_column")) if c]
    row = 0
    try:
        parquet = pq.ParquetFile(path)
        columns = [c for c in wanted if c in parquet.schema_arrow.names]
        if opts["content_column"] not in columns:
            yield Skip(path.name, "missing_content_column", 0, shard.source, shard.source)
            return
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=columns):
            for record in batch.to_pylist():
                row += 1
                yield record_to_item(record, f"{path.name}:{row}", shard, max_file_bytes)
    except (OSError, pa.ArrowException) as exc:
        reason = "unreadable" if isinstance(exc, PermissionError) else "corrupt_parquet"
        yield Skip(f"{path.name}:{row + 1}", reason, 0, shard.source, shard.source)
