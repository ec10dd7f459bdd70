"""All of curate's ``git`` plumbing: commands, streamed logs, trees, ``cat-file --batch``.

The only module of codekiln-curate that starts ``git`` (readers, samples and plans call
these helpers). Everything is read from the object store, never the work tree, so
uncommitted changes cannot leak into a corpus or a sample.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

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


@contextmanager
def git_stream(root: Path, *args: str) -> Iterator[IO[bytes]]:
    """The stdout of a long ``git`` command (``log``), read as it is produced.

    The process is killed when the caller stops reading early (it found what it needed).
    """
    try:
        proc = subprocess.Popen(["git", "-C", str(root), *args], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
    except FileNotFoundError as exc:
        raise ConfigError("the `git` executable is not on PATH; install git") from exc
    with proc:
        assert proc.stdout is not None
        try:
            yield proc.stdout
        finally:
            proc.kill()


@dataclass(frozen=True)
class TreeEntry:
    """One ``ls-tree -l`` record; the path stays bytes so each caller picks its decoding."""

    raw_path: bytes
    sha: str
    size: int  # 0 for entries without one (submodules)
    mode: str
    kind: str  # blob, tree or commit (a submodule)

    @property
    def regular_file(self) -> bool:
        return self.kind == "blob" and self.mode in ("100644", "100755")


def ls_tree(root: Path, commit: str) -> list[TreeEntry]:
    """Every entry of the tree at ``commit`` (recursive, full tree), in git's order."""
    out = git(root, "ls-tree", "-r", "-z", "--long", "--full-tree", commit)
    entries = []
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        mode, kind, sha, size = meta.split()
        entries.append(TreeEntry(path, sha.decode(), int(size) if size != b"-" else 0,
                                 mode.decode(), kind.decode()))
    return entries


class CatFile:
    """``git cat-file --batch``: many blobs for one process start."""

    def __init__(self, root: Path) -> None:
        try:
            self._proc = subprocess.Popen(["git", "-C", str(root), "cat-file", "--batch"],
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.DEVNULL)
        except FileNotFoundError as exc:
            raise ConfigError("the `git` executable is not on PATH; install git") from exc

    def read(self, spec: str) -> bytes | None:
        """Object contents by sha or ``<commit>:<path>``; None when it does not exist."""
        found = self.read_object(spec)
        return found[1] if found else None

    def read_object(self, spec: str) -> tuple[str, bytes] | None:
        """``(type, contents)`` of an object (``blob``, ``tree``, ...); None when missing."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(spec.encode("utf-8") + b"\n")
        self._proc.stdin.flush()
        header = self._proc.stdout.readline().split()
        if len(header) < 3 or header[-1] == b"missing":
            return None
        data = self._proc.stdout.read(int(header[2]))
        self._proc.stdout.read(1)  # the newline after the object
        return header[1].decode(), data

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        self._proc.wait(timeout=GIT_TIMEOUT_S)

    def __enter__(self) -> CatFile:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def list_tree(root: Path, commit: str) -> list[tuple[str, str, int]]:
    """(path, blob sha, size) of the regular files at ``commit``."""
    return [(e.raw_path.decode("utf-8", "replace"), e.sha, e.size)
            for e in ls_tree(root, commit) if e.regular_file]


def decode_text(data: bytes | None) -> str | None:
    """UTF-8 text, or None for binary/undecodable content."""
    if data is None or b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
