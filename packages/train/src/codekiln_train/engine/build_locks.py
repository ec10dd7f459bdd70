"""Stale locks of DeepSpeed's JIT op builds, cleared before they hang a run forever.

DeepSpeed compiles ops (``deepspeed_shm_comm``, ``fused_adam``) on first use through torch's
cpp_extension, which guards each build directory with a ``lock`` file created exclusively
and removed when the build ends. A build killed halfway (``kill -9`` of a run, a test killing
its step) leaves the file behind, and every later process waits on it with no message and
no timeout. A real build takes a minute or two, so a lock far older than that has no owner.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

#: A lock older than this is taken to be left by a killed build (builds take ~1-2 minutes).
STALE_AFTER_S = 900.0


def extensions_root() -> Path:
    """Where torch builds extensions: ``$TORCH_EXTENSIONS_DIR``, else its default cache."""
    configured = os.environ.get("TORCH_EXTENSIONS_DIR")
    if configured:
        return Path(configured)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "torch_extensions"


def clear_stale_build_locks(root: Path | None = None, *,
                            stale_after_s: float = STALE_AFTER_S) -> list[Path]:
    """Remove build locks older than ``stale_after_s``; one warning line each; returns them."""
    root = extensions_root() if root is None else root
    if not root.is_dir():
        return []
    now = time.time()
    removed: list[Path] = []
    # <root>/<op>/lock, or <root>/<py311_cpu>/<op>/lock (torch's default layout)
    for lock in [*root.glob("*/lock"), *root.glob("*/*/lock")]:
        try:
            age = now - lock.stat().st_mtime
            if age <= stale_after_s:
                continue  # a build may be running now
            lock.unlink()
        except OSError:  # another process removed or replaced it meanwhile
            continue
        removed.append(lock)
        print(f"warning: removed {lock}, a DeepSpeed op build lock left {age / 60:.0f} min ago "
              "by a build that was killed (it would block this run forever)", file=sys.stderr)
    return removed
