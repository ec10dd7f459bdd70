"""Thin ``git`` subprocess helpers: one long-lived ``cat-file --batch`` per repository.

Everything is read from the object store, never the work tree, so uncommitted changes
cannot leak into samples.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import TracebackType

from codekiln_core.errors import ConfigError

GIT_TIMEOUT_S = 600


def git(root: Path, *args: str) -> bytes:
    """Run one git command; a failure is a one-line ConfigError naming the repository."""
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                              timeout=GIT_TIMEOUT_S, check=False)
    except FileNotFoundError as exc:
        raise ConfigError("the `git` executable is not on PATH; install git") from exc
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ConfigError(f"{root}: `git {' '.join(args[:3])}` failed: "
                          f"{lines[-1] if lines else done.returncode}; pass the path of a "
                          "git repository with at least one commit")
    return done.stdout


class CatFile:
    """``git cat-file --batch``: many blobs for one process start."""

    def __init__(self, root: Path) -> None:
        self._proc = subprocess.Popen(["git", "-C", str(root), "cat-file", "--batch"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def read(self, spec: str) -> bytes | None:
        """Object contents by sha or ``<commit>:<path>``; None when it does not exist."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(spec.encode("utf-8") + b"\n")
        self._proc.stdin.flush()
        header = self._proc.stdout.readline().split()
        if len(header) < 3 or header[-1] == b"missing":
            return None
        size = int(header[2])
        data = self._proc.stdout.read(size)
        self._proc.stdout.read(1)  # the newline after the object
        return data

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        self._proc.wait(timeout=30)

    def __enter__(self) -> CatFile:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def list_tree(root: Path, commit: str) -> list[tuple[str, str, int]]:
    """(path, blob sha, size) of the regular files at ``commit``."""
    out = git(root, "ls-tree", "-r", "-l", "-z", commit)
    entries = []
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        mode, kind, sha, size = meta.split()
        if kind != b"blob" or mode not in (b"100644", b"100755"):
            continue
        entries.append((path.decode("utf-8", "replace"), sha.decode(), int(size)))
    return entries


def decode_text(data: bytes | None) -> str | None:
    """UTF-8 text, or None for binary/undecodable content."""
    if data is None or b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
