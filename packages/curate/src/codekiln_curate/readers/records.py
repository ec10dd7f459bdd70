"""Record dumps: JSONL (plain, .gz, .zst) and Parquet, with a configurable content column.

One shard per file. A bad line, a truncated stream or a corrupt file is a counted skip;
records read before the damage are kept.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, ClassVar

from codekiln_core.errors import ConfigError
from codekiln_curate.documents import Skip, make_document
from codekiln_curate.readers.shard import Item, Shard, shard_id, source_name

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".json.gz", ".json.zst", ".ndjson")
PARQUET_BATCH_ROWS = 1024


def _open_binary(path: Path) -> IO[bytes]:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if path.name.endswith(".zst"):
        import zstandard

        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(open(path, "rb"),
                                                                           closefd=True))
    return open(path, "rb")


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
        with _open_binary(path) as stream:
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


def plan_record_files(index: int, spec: Any, path: Path, kind: str,
                      suffixes: tuple[str, ...]) -> list[Shard]:
    """One shard per file: ``path`` itself, or every file under it ending in ``suffixes``."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(suffixes))
    else:
        files = [path]
    if not files:
        raise ConfigError(f"inputs[{index}].path {spec.path!r}: no {kind} files found")
    options = {"content_column": spec.content_column, "path_column": spec.path_column,
               "repo_column": spec.repo_column, "language_column": spec.language_column}
    return [Shard(shard_id(index, n), kind, source_name(spec, path), str(f), options)
            for n, f in enumerate(files)]


class JsonlReader:
    """``kind: jsonl``: JSON lines, plain or gzip/zstd-compressed; one shard per file."""

    name: ClassVar[str] = "read-jsonl"

    def plan(self, index: int, spec: Any, path: Path, shard_files: int) -> list[Shard]:
        return plan_record_files(index, spec, path, "jsonl", JSONL_SUFFIXES)

    def read(self, shard: Shard, max_file_bytes: int) -> Iterator[Item]:
        return read_jsonl_shard(shard, max_file_bytes)


class ParquetReader:
    """``kind: parquet``: Parquet files read in record batches; one shard per file."""

    name: ClassVar[str] = "read-parquet"

    def plan(self, index: int, spec: Any, path: Path, shard_files: int) -> list[Shard]:
        return plan_record_files(index, spec, path, "parquet", (".parquet",))

    def read(self, shard: Shard, max_file_bytes: int) -> Iterator[Item]:
        return read_parquet_shard(shard, max_file_bytes)
