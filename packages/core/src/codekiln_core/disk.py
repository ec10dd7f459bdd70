"""A full disk as a one-line error, whatever the writer that ran into it.

A full disk surfaces from writers in many shapes: ``OSError(ENOSPC)`` from Python, or a bare
``RuntimeError`` from torch's zip writer (``unexpected pos ...``) with no errno and no path.
:func:`is_disk_full` recognises both, so the atomic writers in :mod:`codekiln_core.fsio`
can say "disk full", where, and how much was needed.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from codekiln_core.errors import DiskFullError

#: Errnos that mean "no room": a full filesystem, or the user's quota used up.
NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
#: A writer error without an errno counts as a full disk when less than this is left.
NEARLY_FULL_BYTES = 1 << 20


def free_bytes(path: str | Path) -> int | None:
    """Bytes an unprivileged user may still write on ``path``'s filesystem (None: unknown)."""
    try:
        stats = os.statvfs(existing_ancestor(Path(path)))
    except OSError:
        return None
    return stats.f_bavail * stats.f_frsize


def existing_ancestor(path: Path) -> Path:
    """``path`` itself when it exists, else its nearest existing parent."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def tree_bytes(path: Path) -> int:
    """Size of a file, or of every file under a directory (0 when it does not exist)."""
    if path.is_file():
        return path.stat().st_size
    if not path.is_dir():
        return 0
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def is_disk_full(exc: BaseException, where: Path) -> bool:
    """Whether ``exc``, raised while writing under ``where``, means there is no room left:
    an errno saying so anywhere in its chain, its text (safetensors' Rust errors carry only
    that), or a writer error while the filesystem is (nearly) full."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in NO_SPACE_ERRNOS:
            return True
        if any(os.strerror(code) in str(seen) for code in NO_SPACE_ERRNOS):
            return True
        seen = seen.__cause__ or seen.__context__
    if not isinstance(exc, OSError | RuntimeError):
        return False
    free = free_bytes(where)
    return free is not None and free < NEARLY_FULL_BYTES


def disk_full_error(target: Path, *, needed: int | None, written: int) -> DiskFullError:
    """The one-line error: the path, the bytes needed (an estimate) and what is free."""
    if needed is not None and needed > written:
        need = f"needs about {_human(needed)} ({needed} bytes)"
    elif written:
        need = f"needs more than the {_human(written)} ({written} bytes) written before it failed"
    else:
        need = "needs more room than is left"
    return DiskFullError(f"disk full: writing {target} {need}; free some space or point the "
                         "output at a larger disk (nothing half-written was kept)")


def _human(count: int) -> str:
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
