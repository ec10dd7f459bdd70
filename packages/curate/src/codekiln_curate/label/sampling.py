"""Pick the files to label: read a curated dataset or a directory, fill per-language quotas.

Sampling is a seeded shuffle keyed by document id, so the same input and seed always pick
the same files no matter how the input is sharded or ordered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from codekiln_core.datasets import DatasetFiles, resolve_dataset
from codekiln_core.errors import ConfigError
from codekiln_curate.label.recipe import SamplingConfig

_MAX_FILE_BYTES = 2_000_000


@dataclass(frozen=True)
class FileToLabel:
    id: str
    path: str
    language: str
    content: str


def iter_documents(source: Path) -> Iterator[FileToLabel]:
    """Documents of a curated output dir (data/*.parquet), a Parquet file, or a source tree."""
    found = resolve_dataset(source, what="label input", kinds=("parquet", "files"))
    if found.kind == "parquet":
        yield from _from_parquet(list(found.files))
    else:
        yield from _from_tree(found)


def _from_parquet(files: list[Path]) -> Iterator[FileToLabel]:
    import pyarrow.parquet as pq

    for file in files:
        table = pq.read_table(file)
        missing = {"id", "content", "path", "language"} - set(table.column_names)
        if missing:
            raise ConfigError(f"label input {file}: missing column(s) {sorted(missing)}; pass "
                              "Parquet written by `codekiln curate run`")
        for row in table.select(["id", "path", "language", "content"]).to_pylist():
            yield FileToLabel(row["id"], row["path"] or "", row["language"] or "",
                              row["content"] or "")


def _from_tree(found: DatasetFiles) -> Iterator[FileToLabel]:
    from codekiln_curate.documents import document_id
    from codekiln_curate.langid import detect_language

    base = found.root if found.root.is_dir() else found.root.parent
    for path in found.files:
        rel = path.relative_to(base).as_posix()
        if path.stat().st_size > _MAX_FILE_BYTES:
            continue
        raw = path.read_bytes()
        if b"\0" in raw[:8192]:
            continue
        try:
            content = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        language = detect_language(rel, content) or ""
        yield FileToLabel(document_id(content, "dir", base.name, rel), rel, language, content)


def sample(documents: Iterator[FileToLabel], config: SamplingConfig) -> list[FileToLabel]:
    """At most quota files per language, the ones with the smallest seeded hash of their id."""
    quotas = config.effective_quotas()
    best: dict[str, list[tuple[str, FileToLabel]]] = {lang: [] for lang in quotas}
    for doc in documents:
        quota = quotas.get(doc.language, 0)
        if quota <= 0 or len(doc.content) < config.min_chars:
            continue
        key = hashlib.sha256(f"{config.seed}:{doc.id}".encode()).hexdigest()
        bucket = best[doc.language]
        bucket.append((key, doc))
        if len(bucket) > 4 * quota + 64:  # bound memory: keep only the leading candidates
            bucket.sort(key=lambda item: item[0])
            del bucket[quota:]
    picked: list[FileToLabel] = []
    for lang in config.languages:
        bucket = sorted(best[lang], key=lambda item: item[0])[: quotas[lang]]
        picked.extend(doc for _, doc in bucket)
    return picked


def truncate(content: str, max_chars: int) -> str:
    """Cut long files at a line break and say so, so the teacher knows it sees a prefix."""
    if len(content) <= max_chars:
        return content
    cut = content.rfind("\n", 0, max_chars)
    cut = cut if cut > max_chars // 2 else max_chars
    return content[:cut] + "\n... [truncated]\n"
