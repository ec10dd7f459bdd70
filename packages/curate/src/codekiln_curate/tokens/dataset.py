"""Read documents (id, text) from a curated dataset, Parquet/JSONL files, or a tree of files.

A curate output directory is read through its ``data/`` parts; any other directory is read
as Parquet parts if it holds some, else JSONL parts, else as a tree of text files (ids are
the relative paths). Order is fixed (sorted parts, rows in order) so shards are reproducible.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from codekiln_core.datasets import DatasetKind, open_text, resolve_dataset
from codekiln_core.errors import ConfigError

TEXT_COLUMNS = ("content", "text")
Batch = tuple[list[str], list[str]]  # ids, texts


@dataclass(frozen=True)
class Dataset:
    """A named, ordered list of parts of one kind."""

    name: str
    root: Path
    kind: DatasetKind
    parts: tuple[Path, ...]


def open_dataset(path: str | Path, name: str | None = None) -> Dataset:
    """Find the parts of ``path`` (``codekiln_core.datasets``); one-line error when empty."""
    found = resolve_dataset(path, what="dataset", recursive=True)
    return Dataset(name or found.name, found.root, found.kind, found.files)


def open_dataset_arg(value: str) -> Dataset:
    """``PATH`` or ``NAME=PATH`` (the name keys a mixture and per-source counts)."""
    name, sep, path = value.partition("=")
    if sep and not Path(value).exists():
        return open_dataset(path, name=name)
    return open_dataset(value)


def iter_batches(dataset: Dataset, batch_size: int = 1024) -> Iterator[Batch]:
    """Batches of (ids, texts) in the dataset's fixed order."""
    readers = {"parquet": _parquet_batches, "jsonl": _jsonl_batches, "files": _file_batches}
    yield from readers[dataset.kind](dataset, batch_size)


def iter_texts(dataset: Dataset, batch_size: int = 1024) -> Iterator[list[str]]:
    for _ids, texts in iter_batches(dataset, batch_size):
        yield texts


def _parquet_batches(dataset: Dataset, batch_size: int) -> Iterator[Batch]:
    import pyarrow.parquet as pq

    for part in dataset.parts:
        try:
            handle = pq.ParquetFile(part)
        except Exception as exc:
            raise ConfigError(f"{part} is not a readable Parquet file ({exc}); "
                              "remove it or re-run the stage that wrote it") from exc
        names = handle.schema_arrow.names
        column = next((c for c in TEXT_COLUMNS if c in names), None)
        if column is None:
            raise ConfigError(f"{part} has no content/text column (columns: {names}); "
                              "pass a curated dataset")
        columns = [column] + (["id"] if "id" in names else [])
        row = 0
        for batch in handle.iter_batches(batch_size=batch_size, columns=columns):
            texts = [t or "" for t in batch.column(column).to_pylist()]
            ids = (batch.column("id").to_pylist() if "id" in names
                   else [f"{part.name}:{row + i}" for i in range(len(texts))])
            row += len(texts)
            yield [str(i) for i in ids], texts


def _jsonl_batches(dataset: Dataset, batch_size: int) -> Iterator[Batch]:
    for part in dataset.parts:
        ids: list[str] = []
        texts: list[str] = []
        with open_text(part) as handle:
            for line_no, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    text = next(record[c] for c in TEXT_COLUMNS if c in record)
                except (ValueError, StopIteration, TypeError) as exc:
                    raise ConfigError(f"{part}:{line_no} is not a JSON object with a content "
                                      "or text field; fix or remove the line") from exc
                ids.append(str(record.get("id", f"{part.name}:{line_no}")))
                texts.append(str(text))
                if len(texts) >= batch_size:
                    yield ids, texts
                    ids, texts = [], []
        if texts:
            yield ids, texts


def _file_batches(dataset: Dataset, batch_size: int) -> Iterator[Batch]:
    ids: list[str] = []
    texts: list[str] = []
    for path in dataset.parts:
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # binary or unreadable: not a text document
        ids.append(path.relative_to(dataset.root).as_posix())
        texts.append(text)
        if len(texts) >= batch_size:
            yield ids, texts
            ids, texts = [], []
    if texts:
        yield ids, texts
