"""Atomic files: write to a temp file beside the target, fsync, then rename.

A killed process leaves at most a ``*.tmp-<pid>`` file and never a half-written file under
its final name, so every resumable job (curation shards, token shards, checkpoints, results)
can trust that a file that exists is whole. This is the one implementation in the workspace.

What appears gets the modes a plain ``open``/``mkdir`` would give under the umask (some
writers, e.g. safetensors, create private 0600 files, unreadable by a serving account), and a
full disk while staging becomes one :class:`~codekiln_core.errors.DiskFullError` line.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from codekiln_core.disk import disk_full_error, is_disk_full, tree_bytes
from codekiln_core.errors import DiskFullError


def temp_sibling(path: Path) -> Path:
    """The temp name used for ``path`` by this process (same directory, so rename is atomic)."""
    return path.with_name(f"{path.name}.tmp-{os.getpid()}")


@contextmanager
def atomic_path(path: str | Path, *, fsync: bool = True,
                expected_bytes: int | None = None) -> Iterator[Path]:
    """Yield a temp path to write ``path`` through; it is renamed into place on success.

    For writers that want a file name (pyarrow, torch.save, numpy). On an exception the temp
    file is removed and the target is left as it was. ``expected_bytes``: the size about to
    be written, for the disk-full message (default: the size of the file it replaces).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(target)
    with staged(target, tmp, expected_bytes):
        yield tmp
        publish_modes(tmp)
        if fsync:
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, target)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path, expected_bytes=len(data)) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_write_json(path: str | Path, payload: Any, *, indent: int | None = 2) -> None:
    """JSON with sorted keys, so equal payloads give equal bytes across reruns."""
    atomic_write_text(path, json.dumps(payload, indent=indent, sort_keys=True) + "\n")


@contextmanager
def atomic_dir(path: str | Path, *, expected_bytes: int | None = None) -> Iterator[Path]:
    """Yield a temp directory that replaces ``path`` (a directory) on success.

    For checkpoints and exported models: readers see the old directory or the whole new one.
    An existing ``path`` is moved aside first and removed only after the rename succeeded.
    ``expected_bytes`` as in :func:`atomic_path` (default: the size of the old directory).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(target)
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    with staged(target, tmp, expected_bytes):
        yield tmp
        publish_modes(tmp)
        old = target.with_name(f"{target.name}.old-{os.getpid()}")
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
        if old.exists():
            shutil.rmtree(old)


@contextmanager
def staged(target: Path, tmp: Path | None = None,
           expected_bytes: int | None = None) -> Iterator[None]:
    """Remove ``tmp`` (if given) when the body fails; a full disk becomes a DiskFullError
    naming ``target`` and the bytes it needs (``expected_bytes``, else the old target's size).

    Writers that stage elsewhere (a checkpoint's other ranks) pass no ``tmp``.
    """
    try:
        yield
    except BaseException as exc:
        full = not isinstance(exc, DiskFullError) and is_disk_full(exc, target.parent)
        written = tree_bytes(tmp) if tmp is not None else 0
        if tmp is not None:
            _remove(tmp)
        if full:
            needed = expected_bytes if expected_bytes is not None else tree_bytes(target)
            raise disk_full_error(target, needed=needed or None, written=written) from exc
        raise
    finally:
        if tmp is not None:
            _remove(tmp)


def publish_modes(path: Path) -> None:
    """Give ``path`` (and everything under a directory) the modes ``open``/``mkdir`` would
    under the current umask; executables stay executable, links are left alone."""
    mask = current_umask()
    for item in [path, *path.rglob("*")] if path.is_dir() else [path]:
        if item.is_symlink():
            continue
        executable = item.is_dir() or item.stat().st_mode & 0o100
        with contextlib.suppress(PermissionError):  # another user's file: theirs to set
            os.chmod(item, (0o777 if executable else 0o666) & ~mask)


def current_umask() -> int:
    """The process umask, read without changing it where /proc allows (threads may write)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)


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
    write: a probe file is created and removed in its nearest existing ancestor (permission
    bits alone miss read-only mounts seen by root, root-squashed NFS, ACLs)."""
    import tempfile

    from codekiln_core.disk import existing_ancestor
    from codekiln_core.errors import ConfigError

    target = Path(directory).absolute()
    probe = existing_ancestor(target)
    if not probe.is_dir():
        raise ConfigError(f"{target}: cannot write here, {probe} is not a directory; "
                          "choose another --output")
    try:
        handle, name = tempfile.mkstemp(prefix=".codekiln-writable-", dir=probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"{target}: cannot write here ({probe}: {reason}); choose another "
                          "--output or fix its permissions") from exc
    os.close(handle)
    os.unlink(name)


@contextmanager
def locked(handle: Any) -> Iterator[None]:
    """Hold an exclusive advisory lock (``flock``) on an open file for the body."""
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextmanager
def file_lock(path: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing): one process at a time does
    the work the body does (e.g. converting a model into a shared cache)."""
    with open(path, "a+b") as handle, locked(handle):
        yield
