"""Exact deduplication: a normalized SHA-256 per file and per repository.

Normalization removes differences that never change meaning for a reader or a model
(line-ending style, trailing spaces, blank lines at the edges), so a file committed with
CRLF endings and the same file with LF endings count as one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def normalize_for_hash(content: str) -> str:
    """Text used for exact hashing.

    * ``\\r\\n`` and lone ``\\r`` become ``\\n``;
    * trailing whitespace is stripped from every line;
    * blank lines at the start and end of the file are dropped.

    Indentation and interior blank lines are kept: they can change meaning (Python, YAML,
    Makefiles), so two files differing there are different files.
    """
    text = content.replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    start, end = 0, len(lines)
    while start < end and not lines[start]:
        start += 1
    while end > start and not lines[end - 1]:
        end -= 1
    return "\n".join(lines[start:end])


def exact_hash(content: str) -> str:
    """SHA-256 hex digest of :func:`normalize_for_hash` (UTF-8, surrogates escaped)."""
    data = normalize_for_hash(content).encode("utf-8", errors="surrogatepass")
    return hashlib.sha256(data).hexdigest()


def repo_hash(file_hashes: Iterable[str]) -> str:
    """SHA-256 over the sorted file hashes of a repository.

    Sorting makes the result independent of reading order; paths are deliberately left out,
    so a repository that was only moved or renamed file by file still counts as a duplicate.
    Duplicate files inside one repository count once per occurrence.
    """
    digest = hashlib.sha256()
    for file_hash in sorted(file_hashes):
        digest.update(file_hash.encode("ascii"))
        digest.update(b"\n")
    return digest.hexdigest()


def representative_key(doc: Mapping[str, Any]) -> tuple[str, str, str]:
    """Sort key of the keep rule: ``(repo, path, id)`` with missing values as ``""``."""
    return (str(doc.get("repo") or ""), str(doc.get("path") or ""), str(doc.get("id") or ""))


#: Separator of :func:`representative_sort_key`; sorts below every character of a name.
KEY_SEP = "\0"


def representative_sort_key(doc: Mapping[str, Any]) -> str:
    """:func:`representative_key` as one string that sorts the same way (for Arrow/spills)."""
    return KEY_SEP.join(representative_key(doc))


def choose_representative(candidates: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The document kept from a group of duplicates: the smallest ``(repo, path, id)``.

    The rule depends on the documents only, never on reading order or worker count, so two
    runs over the same data keep the same files. Raises ``ValueError`` on an empty group.
    """
    if not candidates:
        raise ValueError("choose_representative needs at least one candidate")
    return min(candidates, key=representative_key)
