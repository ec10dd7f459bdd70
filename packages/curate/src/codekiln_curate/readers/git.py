"""Local git repositories: the files at HEAD, with repo name and last-commit metadata.

Everything goes through ``codekiln_curate.gitio`` (ls-tree, log, cat-file --batch), so the work
tree's uncommitted state never leaks in and the same commit always yields the same corpus.
A repository is the unit of repo-level dedup.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from codekiln_curate.documents import Skip, make_document
from codekiln_curate.gitio import CatFile, git, git_stream, ls_tree
from codekiln_curate.readers.base import Item, Shard
from codekiln_curate.readers.files import decode_content, selected


def repo_root_and_head(path: Path) -> tuple[Path, str]:
    """Top-level directory and HEAD commit; a one-line ConfigError when there is none."""
    top = git(path, "rev-parse", "--show-toplevel").decode().strip()
    head = git(path, "rev-parse", "--verify", "HEAD^{commit}").decode().strip()
    return Path(top), head


def list_head(root: Path, include: list[str], exclude: list[str]) -> list[list[object]]:
    """``[path, blob_sha, size, mode]`` of each file at HEAD, sorted by path."""
    entries: list[list[object]] = []
    for entry in ls_tree(root, "HEAD"):
        path = entry.raw_path.decode("utf-8", "surrogateescape")
        if selected(path, include, exclude):
            entries.append([path, entry.sha, entry.size, f"{entry.mode}:{entry.kind}"])
    entries.sort(key=lambda e: str(e[0]))
    return entries


def last_commits(root: Path, paths: set[str]) -> dict[str, list[object]]:
    """``path -> [commit, unix_time]`` of the newest commit touching each path at HEAD."""
    found: dict[str, list[object]] = {}
    with git_stream(root, "log", "--pretty=format:%x1e%H%x1f%ct", "--name-only", "-z",
                    "--no-renames", "HEAD") as stdout:
        pending = b""
        while len(found) < len(paths):
            block = stdout.read(1 << 20)
            records = (pending + block).split(b"\x1e")
            pending = records.pop() if block else b""
            for record in records:
                _absorb(record, paths, found)
            if not block:
                break
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
    with CatFile(Path(shard.root)) as cat:
        for path, sha, size, mode in shard.entries:
            reason = _pre_read_reason(str(mode), int(size), max_file_bytes)
            if reason:
                yield Skip(path, reason, int(size), repo, shard.source)
                continue
            found = cat.read_object(str(sha))
            if found is None or found[0] != "blob":
                yield Skip(path, "unreadable", int(size), repo, shard.source)
                continue
            text, why, nbytes = decode_content(found[1], max_file_bytes)
            if text is None:
                yield Skip(path, why or "unreadable", nbytes, repo, shard.source)
                continue
            commit, when = commits.get(path, [None, None])
            yield make_document(text, source=shard.source, repo=repo, path=path,
                                commit=commit, commit_time=when, size_bytes=nbytes)


def _pre_read_reason(mode: str, size: int, max_file_bytes: int) -> str | None:
    git_mode, _, kind = mode.partition(":")
    if kind == "commit":
        return "submodule"
    if git_mode == "120000":
        return "symlink"
    if size > max_file_bytes:
        return "too_large"
    return None
