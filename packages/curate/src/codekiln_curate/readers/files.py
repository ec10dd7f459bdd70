"""Directory trees: list files deterministically, and read each one defensively.

Every way a file can be unusable (binary, not UTF-8, empty, too large, a FIFO, a symlink
loop, no permission) becomes a counted :class:`Skip` with a reason, never an exception.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from codekiln_core.errors import ConfigError
from codekiln_curate.documents import Skip, make_document
from codekiln_curate.readers.shard import Item, Shard, chunk, shard_id, source_name

#: Version-control metadata, never content.
SKIP_DIRS = frozenset({".git", ".hg", ".svn"})
BINARY_SNIFF_BYTES = 8192


def matches(relpath: str, patterns: list[str]) -> bool:
    """fnmatch on the POSIX relative path; ``**/x`` also matches ``x`` at the top level."""
    for pattern in patterns:
        if fnmatch.fnmatchcase(relpath, pattern):
            return True
        if pattern.startswith("**/") and fnmatch.fnmatchcase(relpath, pattern[3:]):
            return True
    return False


def selected(relpath: str, include: list[str], exclude: list[str]) -> bool:
    return (not include or matches(relpath, include)) and not matches(relpath, exclude)


def list_tree(root: Path, include: list[str], exclude: list[str]) -> list[list[str | None]]:
    """``[relpath, pre_skip_reason]`` for every file under ``root``, sorted by path.

    Symlinked directories are not followed (so loops cannot recurse); directories that
    cannot be listed appear once with reason ``unreadable_dir``.
    """
    entries: list[list[str | None]] = []

    def on_error(exc: OSError) -> None:
        where = Path(exc.filename or root)
        rel = where.relative_to(root).as_posix() if where != root else "."
        entries.append([rel, "unreadable_dir"])

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        base = Path(dirpath)
        for name in filenames:
            rel = (base / name).relative_to(root).as_posix()
            if selected(rel, include, exclude):
                entries.append([rel, None])
        # a symlink to a directory shows up in dirnames but is not walked: report it
        for name in list(dirnames):
            if (base / name).is_symlink():
                rel = (base / name).relative_to(root).as_posix()
                if selected(rel, include, exclude):
                    entries.append([rel, None])
    entries.sort(key=lambda e: str(e[0]))
    return entries


def _symlink_reason(path: Path) -> str:
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink_loop"
        if exc.errno == errno.ENOENT:
            return "dangling_symlink"
        return "unreadable"
    return "symlink"


def read_text_file(path: Path, max_bytes: int) -> tuple[str | None, str | None, int]:
    """``(text, None, size)`` or ``(None, reason, size)``; never raises for bad files."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None, "missing", 0
    except OSError:
        return None, "unreadable", 0
    if stat.S_ISLNK(info.st_mode):
        return None, _symlink_reason(path), 0
    if not stat.S_ISREG(info.st_mode):  # FIFOs, sockets, devices would block or never end
        return None, "not_regular_file", 0
    if info.st_size > max_bytes:
        return None, "too_large", info.st_size
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError:
        return None, "unreadable", info.st_size
    return decode_content(data, max_bytes)


def decode_content(data: bytes, max_bytes: int) -> tuple[str | None, str | None, int]:
    """Apply the content checks shared by every reader to raw bytes."""
    size = len(data)
    if size > max_bytes:
        return None, "too_large", size
    if b"\0" in data[:BINARY_SNIFF_BYTES]:
        return None, "binary", size
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, "invalid_utf8", size
    if not text.strip():
        return None, "empty", size
    return text, None, size


def repo_of(relpath: str, depth: int, source: str) -> str:
    parts = relpath.split("/")
    return "/".join(parts[:depth]) if depth and len(parts) > depth else source


def read_dir_shard(shard: Shard, max_file_bytes: int) -> Iterator[Item]:
    root = Path(shard.root)
    depth = int(shard.options.get("repo_depth", 0))
    for rel, pre_reason in shard.entries:
        repo = repo_of(rel, depth, shard.source)
        if pre_reason:
            yield Skip(rel, pre_reason, 0, repo, shard.source)
            continue
        text, reason, size = read_text_file(root / rel, max_file_bytes)
        if text is None:
            yield Skip(rel, reason or "unreadable", size, repo, shard.source)
        else:
            yield make_document(text, source=shard.source, repo=repo, path=rel, size_bytes=size)


class DirReader:
    """``kind: dir``: a file tree, ``repo_depth`` leading path components naming the repo."""

    name: ClassVar[str] = "read-dir"

    def plan(self, index: int, spec: Any, path: Path, shard_files: int) -> list[Shard]:
        if not path.is_dir():
            raise ConfigError(f"inputs[{index}].path {spec.path!r} is not a directory; "
                              "use kind: jsonl or parquet for files")
        entries = list_tree(path, spec.include, spec.exclude)
        options = {"repo_depth": spec.repo_depth}
        return [Shard(shard_id(index, n), "dir", source_name(spec, path), str(path), options,
                      part) for n, part in enumerate(chunk(entries, shard_files))]

    def read(self, shard: Shard, max_file_bytes: int) -> Iterator[Item]:
        return read_dir_shard(shard, max_file_bytes)
