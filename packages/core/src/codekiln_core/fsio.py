"""Atomic files: write to a temp file beside the target, fsync, then rename.

A killed process leaves at most a ``*.tmp-<pid>`` file and never a half-written file under
its final name, so every resumable job (curation shards, token shards, checkpoints, results)
can trust that a file that exists is whole. This is the one implementation in the workspace.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def temp_sibling(path: Path) -> Path:
    """The temp name used for ``path`` by this process (same directory, so rename is atomic)."""
    return path.with_name(f"{path.name}.tmp-{os.getpid()}")


@contextmanager
def atomic_path(path: str | Path, *, fsync: bool = True) -> Iterator[Path]:
    """Yield a temp path to write ``path`` through; it is renamed into place on success.

    For writers that want a file name (pyarrow, torch.save, numpy). On an exception the temp
    file is removed and the target is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(target)
    try:
        yield tmp
        if fsync:
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_write_json(path: str | Path, payload: Any, *, indent: int | None = 2) -> None:
    """JSON with sorted keys, so equal payloads give equal bytes across reruns."""
    atomic_write_text(path, json.dumps(payload, indent=indent, sort_keys=True) + "\n")


@contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a temp directory that replaces ``path`` (a directory) on success.

    For checkpoints and exported models: readers see the old directory or the whole new one.
    An existing ``path`` is moved aside first and removed only after the rename succeeded.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(target)
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        yield tmp
        old = target.with_name(f"{target.name}.old-{os.getpid()}")
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
        if old.exists():
            shutil.rmtree(old)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def remove_stale_temps(directory: str | Path) -> int:
    """Remove ``*.tmp-<pid>`` leftovers of killed runs in ``directory``; returns the count."""
    removed = 0
    root = Path(directory)
    if not root.is_dir():
        return 0
    for stale in root.glob("*.tmp-*"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
        removed += 1
    return removed


def check_writable(directory: str | Path) -> None:
    """Refuse, before any heavy work, an output directory this process cannot create or
    write: the nearest existing ancestor must be a writable directory."""
    from codekiln_core.errors import ConfigError

    target = Path(directory).absolute()
    probe = target
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise ConfigError(f"{target}: cannot write here, {probe} is not a directory; "
                          "choose another --output")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f"{target}: cannot write here ({probe} is not writable by this "
                          "user); choose another --output or fix its permissions")
