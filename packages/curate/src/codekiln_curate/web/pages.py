"""Read raw web pages: a directory of .html files, or JSONL/Parquet records with an html column.

Every page gets a stable id (the record's own ``id`` when present, else a hash of its url or
path), so splits and samples keyed by id do not depend on input order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from codekiln_core.datasets import DatasetKind, open_text, resolve_dataset
from codekiln_core.errors import ConfigError

HTML_SUFFIXES = (".html", ".htm", ".xhtml")
_MAX_PAGE_BYTES = 8_000_000


@dataclass(frozen=True)
class RawPage:
    id: str
    url: str
    path: str
    html: str


def page_id(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def decode_html(data: bytes) -> str:
    """UTF-8 first (most of the web), then cp1252, which accepts any byte sequence."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def iter_pages(source: Path, html_column: str = "html") -> Iterator[RawPage]:
    """Pages of a directory tree, a .jsonl file, a .parquet file, or a dir of Parquet files."""
    if source.is_file() and source.suffix.lower() in HTML_SUFFIXES:
        yield _from_file(source, source.parent)
        return
    kinds: tuple[DatasetKind, ...] = ("parquet", "jsonl", "files") if source.is_file() \
        else ("parquet", "files")  # a directory: Parquet parts, else a tree of pages
    found = resolve_dataset(source, what="web input", kinds=kinds, suffixes=HTML_SUFFIXES)
    if found.kind == "files" and source.is_file():
        raise ConfigError(f"web input {source}: unknown file type {source.suffix!r}; use "
                          ".html, .jsonl or .parquet")
    for file in found.files:
        if found.kind == "parquet":
            yield from _from_parquet(file, html_column)
        elif found.kind == "jsonl":
            yield from _from_jsonl(file, html_column)
        elif file.stat().st_size <= _MAX_PAGE_BYTES:
            yield _from_file(file, source)


def _from_file(file: Path, root: Path) -> RawPage:
    relative = file.relative_to(root).as_posix()
    return RawPage(page_id(relative), "", relative, decode_html(file.read_bytes()))


def _record_page(record: dict[str, object], html_column: str, where: str) -> RawPage:
    if html_column not in record:
        raise ConfigError(f"{where}: no {html_column!r} field (fields: {sorted(record)}); "
                          "pass --html-column NAME")
    url = str(record.get("url") or "")
    path = str(record.get("path") or "")
    key = str(record.get("id") or url or path or where)
    pid = str(record["id"]) if record.get("id") else page_id(key)
    return RawPage(pid, url, path, str(record.get(html_column) or ""))


def _from_jsonl(file: Path, html_column: str) -> Iterator[RawPage]:
    with open_text(file) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{file}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{where}: invalid JSON ({exc.msg}); fix or remove the "
                                  "line") from exc
            if not isinstance(record, dict):
                raise ConfigError(f"{where}: expected a JSON object per line")
            yield _record_page(record, html_column, where)


def _from_parquet(file: Path, html_column: str) -> Iterator[RawPage]:
    import pyarrow.parquet as pq

    schema = pq.read_schema(file)
    if html_column not in schema.names:
        raise ConfigError(f"{file}: no {html_column!r} column (columns: {schema.names}); pass "
                          "--html-column NAME")
    wanted = [c for c in ("id", "url", "path", html_column) if c in schema.names]
    parquet = pq.ParquetFile(file)
    for batch in parquet.iter_batches(batch_size=256, columns=wanted):
        for index, record in enumerate(batch.to_pylist()):
            yield _record_page(record, html_column, f"{file} row {index}")
