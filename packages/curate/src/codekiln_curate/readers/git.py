"""Local git repositories: the files at HEAD, with repo name and last-commit metadata.

Everything goes through the ``git`` binary (ls-tree, log, cat-file --batch), so the work
tree's uncommitted state never leaks in and the same commit always yields the same corpus.
A repository is the unit of repo-level dedup.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from codekiln_curate.documents import Skip, make_document
from codekiln_curate.gitio import GIT_TIMEOUT_S, git
from codekiln_curate.readers.files import decode_content, selected
from codekiln_curate.readers.shard import Item, Shard, chunk, shard_id


def repo_root_and_head(path: Path) -> tuple[Path, str]:
    """Top-level directory and HEAD commit; a one-line ConfigError when there is none."""
    top = git(path, "rev-parse", "--show-toplevel").decode().strip()
    head = git(path, "rev-parse", "--verify", "HEAD^{commit}").decode().strip()
    return Path(top), head


def list_head(root: Path, include: list[str], exclude: list[str]) -> list[list[object]]:
    """``[path, blob_sha, size, mode]`` of each file at HEAD, sorted by path."""
    out = git(root, "ls-tree", "-r", "-z", "--long", "--full-tree", "HEAD")
    entries: list[list[object]] = []
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, sha, size = meta.split()
        path = raw_path.decode("utf-8", "surrogateescape")
        if selected(path, include, exclude):
            entries.append([path, sha.decode(), int(size) if size != b"-" else 0,
                            f"{mode.decode()}:{kind.decode()}"])
    entries.sort(key=lambda e: str(e[0]))
    return entries


def last_commits(root: Path, paths: set[str]) -> dict[str, list[object]]:
    """``path -> [commit, unix_time]`` of the newest commit touching each path at HEAD."""
    found: dict[str, list[object]] = {}
    args = ["git", "-C", str(root), "log", "--pretty=format:%x1e%H%x1f%ct", "--name-only",
            "-z", "--no-renames", "HEAD"]
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:
        assert proc.stdout is not None
        pending = b""
        while len(found) < len(paths):
            block = proc.stdout.read(1 << 20)
            records = (pending + block).split(b"\x1e")
            pending = records.pop() if block else b""
            for record in records:
                _absorb(record, paths, found)
            if not block:
                break
        proc.kill()
    return found


def _absorb(record: bytes, paths: set[str], found: dict[str, list[object]]) -> None:
    if not record.strip(b"\0\n"):
        return
    header, _, names = record.partition(b"\n")
    commit, _, when = header.partition(b"\x1f")
    for raw in names.split(b"\0"):
        name = raw.decode("utf-8", "surrogateescape")
        if name and name in paths and name not in found:
            found[name] = [commit.decode(), int(when or 0)]


def read_git_shard(shard: Shard, max_file_bytes: int) -> Iterator[Item]:
    """Blob contents via one ``git cat-file --batch`` process per shard."""
    repo = str(shard.options["repo"])
    commits = shard.options.get("commits", {})
    args = ["git", "-C", shard.root, "cat-file", "--batch"]
    with subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        for path, sha, size, mode in shard.entries:
            reason = _pre_read_reason(str(mode), int(size), max_file_bytes)
            if reason:
                yield Skip(path, reason, int(size), repo, shard.source)
                continue
            proc.stdin.write(f"{sha}\n".encode())
            proc.stdin.flush()
            header = proc.stdout.readline().split()
            if len(header) < 3 or header[1] != b"blob":
                yield Skip(path, "unreadable", int(size), repo, shard.source)
                continue
            data = proc.stdout.read(int(header[2]))
            proc.stdout.read(1)  # the newline after each object
            text, why, nbytes = decode_content(data, max_file_bytes)
            if text is None:
                yield Skip(path, why or "unreadable", nbytes, repo, shard.source)
                continue
            commit, when = commits.get(path, [None, None])
            yield make_document(text, source=shard.source, repo=repo, path=path,
                                commit=commit, commit_time=when, size_bytes=nbytes)
        proc.stdin.close()
        proc.wait(timeout=GIT_TIMEOUT_S)


def _pre_read_reason(mode: str, size: int, max_file_bytes: int) -> str | None:
    git_mode, _, kind = mode.partition(":")
    if kind == "commit":
        return "submodule"
    if git_mode == "120000":
        return "symlink"
    if size > max_file_bytes:
        return "too_large"
    return None


class GitReader:
    """``kind: git``: a local repository at HEAD, with last-commit metadata per file."""

    name: ClassVar[str] = "read-git"

    def plan(self, index: int, spec: Any, path: Path, shard_files: int) -> list[Shard]:
        root, head = repo_root_and_head(path)
        repo = spec.name or root.name
        entries = list_head(root, spec.include, spec.exclude)
        commits = last_commits(root, {str(e[0]) for e in entries})
        shards = []
        for n, part in enumerate(chunk(entries, shard_files)):
            options = {"repo": repo, "head": head,
                       "commits": {str(e[0]): commits.get(str(e[0])) for e in part}}
            shards.append(Shard(shard_id(index, n), "git", spec.name or repo, str(root),
                                options, part))
        return shards

    def read(self, shard: Shard, max_file_bytes: int) -> Iterator[Item]:
        return read_git_shard(shard, max_file_bytes)
