"""First-party readers of recipe inputs, registered as ``read-<kind>`` like any plugin's.

The engine finds the reader of an input by its ``kind`` through the registry, so a
third-party plugin adds a kind by registering a :class:`codekiln_core.stages.Reader`.
"""

from __future__ import annotations

from codekiln_curate.readers.files import DirReader
from codekiln_curate.readers.git import GitReader
from codekiln_curate.readers.records import JsonlReader, ParquetReader

#: ``(name, class, one-line description)`` of every first-party reader.
FIRST_PARTY_READERS: list[tuple[str, type, str]] = [
    (DirReader.name, DirReader, "reader for `kind: dir`: a file tree"),
    (GitReader.name, GitReader, "reader for `kind: git`: a local repository at HEAD"),
    (JsonlReader.name, JsonlReader, "reader for `kind: jsonl`: JSON lines (.gz, .zst)"),
    (ParquetReader.name, ParquetReader, "reader for `kind: parquet`: Parquet files"),
]

__all__ = ["FIRST_PARTY_READERS", "DirReader", "GitReader", "JsonlReader", "ParquetReader"]
