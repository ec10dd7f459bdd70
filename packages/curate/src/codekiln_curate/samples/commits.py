"""Commit samples (Seed-Coder §2.2.2): predict a commit's changes from its context.

For each non-merge commit with a parent: input = message + README + directory tree + the
top-k BM25 files of the pre-commit snapshot (query: message + changed paths' tokens);
target = changed paths + unified diffs. Skips are counted by reason, never silent.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from codekiln_curate.gitio import CatFile, decode_text, git, list_tree
from codekiln_curate.samples.bm25 import BM25, code_tokens
from codekiln_curate.samples.commit_format import (
    render_input,
    render_target,
    render_tree,
    truncate_bytes,
)
from codekiln_curate.samples.recipes import CommitLimits

_README_NAMES = ("readme.md", "readme.rst", "readme.txt", "readme")


@dataclass
class CommitSample:
    id: str
    repo: str
    commit: str
    text_input: str
    text_target: str

    @property
    def text(self) -> str:
        return self.text_input + self.text_target


@dataclass
class CommitStats:
    commits: int = 0
    written: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    binary_files_skipped: int = 0


@dataclass(frozen=True)
class _Commit:
    sha: str
    parents: tuple[str, ...]
    message: str


def list_commits(root: Path, rev: str, limit: int | None) -> list[_Commit]:
    """Commits reachable from ``rev``, newest first (``--date-order``: deterministic)."""
    args = ["log", "--date-order", "--format=%x1e%H%x00%P%x00%B", rev]
    if limit is not None:
        args.insert(1, f"--max-count={limit}")
    commits = []
    for record in git(root, *args).decode("utf-8", "replace").split("\x1e"):
        if not record.strip():
            continue
        sha, parents, message = record.split("\x00", 2)
        commits.append(_Commit(sha.strip(), tuple(parents.split()), message.strip()))
    return commits


class _Snapshots:
    """Blob reads and token counts shared across commits (blobs rarely change)."""

    def __init__(self, root: Path, limits: CommitLimits) -> None:
        self.root, self.limits = root, limits
        self.cat = CatFile(root)
        self.texts: dict[str, str | None] = {}
        self.tokens: dict[str, Counter[str]] = {}

    def text(self, sha: str) -> str | None:
        if sha not in self.texts:
            if len(self.texts) > 20000:
                self.texts.clear()
            self.texts[sha] = decode_text(self.cat.read(sha))
        return self.texts[sha]

    def counts(self, sha: str) -> Counter[str]:
        if sha not in self.tokens:
            self.tokens[sha] = Counter(code_tokens(self.text(sha) or ""))
        return self.tokens[sha]


def commit_samples(root: Path, stats: CommitStats, limits: CommitLimits,
                   rev: str = "HEAD") -> Iterator[CommitSample]:
    top = Path(git(root, "rev-parse", "--show-toplevel").decode().strip())
    repo = top.name
    snapshots = _Snapshots(top, limits)
    try:
        for commit in list_commits(top, rev, limits.max_commits):
            stats.commits += 1
            reason, sample = _one(top, repo, commit, snapshots, limits, stats)
            if sample is None:
                stats.skipped[reason] += 1
                continue
            stats.written += 1
            yield sample
    finally:
        snapshots.cat.close()


def _one(root: Path, repo: str, commit: _Commit, snaps: _Snapshots, limits: CommitLimits,
         stats: CommitStats) -> tuple[str, CommitSample | None]:
    if len(commit.parents) > 1:
        return "merge", None
    if not commit.parents:
        return "root_commit", None
    parent = commit.parents[0]
    status = _name_status(root, parent, commit.sha)
    if not status:
        return "empty_diff", None
    if len(status) > limits.max_files_changed:
        return "too_many_files", None
    changes, binaries = _diffs(root, parent, commit.sha, status)
    stats.binary_files_skipped += binaries
    if not changes:
        return "binary_only" if binaries else "empty_diff", None
    if sum(len(diff.encode("utf-8")) for _, _, diff in changes) > limits.max_diff_bytes:
        return "diff_too_large", None
    text_input = _input(commit, parent, [p for _, p in status], snaps, limits)
    if text_input is None:
        return "input_too_large", None
    sample_id = hashlib.sha256(f"{repo}\0{commit.sha}".encode()).hexdigest()
    return "", CommitSample(sample_id, repo, commit.sha, text_input, render_target(changes))


def _name_status(root: Path, parent: str, sha: str) -> list[tuple[str, str]]:
    out = git(root, "diff", "--name-status", "--no-renames", "-z", parent, sha)
    fields = [f.decode("utf-8", "replace") for f in out.split(b"\0") if f]
    return sorted(((fields[i][0], fields[i + 1]) for i in range(0, len(fields) - 1, 2)),
                  key=lambda item: item[1])


def _diffs(root: Path, parent: str, sha: str, status: list[tuple[str, str]],
           ) -> tuple[list[tuple[str, str, str]], int]:
    """(status, path, diff) of the text changes, and how many binary files were left out."""
    raw = git(root, "-c", "core.quotePath=false", "diff", "--no-color", "--no-ext-diff",
              "--no-textconv", "--no-renames", "-U3", parent, sha)
    patch = raw.decode("utf-8", "replace")
    chunks: dict[str, str] = {}
    for chunk in patch.split("\ndiff --git "):
        body = chunk if chunk.startswith("diff --git ") else "diff --git " + chunk
        header, _, tail = body.partition("\n")
        chunks[header] = tail if tail.endswith("\n") else tail + "\n"
    changes, binaries = [], 0
    for letter, path in status:
        rest = chunks.get(f"diff --git a/{path} b/{path}")
        if rest is None:
            continue
        if "\nBinary files " in "\n" + rest or "GIT binary patch" in rest:
            binaries += 1
            continue
        lines = [line for line in rest.splitlines(keepends=True) if not line.startswith("index ")]
        if not any(line.startswith("@@") for line in lines):
            continue  # mode-only change
        changes.append((letter, path, "".join(lines)))
    return changes, binaries


def _input(commit: _Commit, parent: str, changed: list[str], snaps: _Snapshots,
           limits: CommitLimits) -> str | None:
    entries = list_tree(snaps.root, parent)
    readme = _readme(entries, snaps, limits)
    tree = render_tree([path for path, _, _ in entries], limits.max_tree_lines)
    head = render_input(commit.message, readme, tree, [])
    if len(head.encode("utf-8")) > limits.max_input_bytes:
        return None
    files: list[tuple[str, str]] = []
    used = len(head.encode("utf-8"))
    for path, sha in _relevant(entries, commit.message, changed, snaps, limits):
        content = truncate_bytes(snaps.text(sha) or "", limits.max_context_file_bytes)
        cost = len(content.encode("utf-8")) + len(path) + 24
        if used + cost <= limits.max_input_bytes:
            files.append((path, content))
            used += cost
    return render_input(commit.message, readme, tree, files)


def _readme(entries: list[tuple[str, str, int]], snaps: _Snapshots,
            limits: CommitLimits) -> tuple[str, str] | None:
    top_level = {path.lower(): (path, sha) for path, sha, _ in entries if "/" not in path}
    for name in _README_NAMES:
        if name in top_level and limits.max_readme_bytes:
            path, sha = top_level[name]
            text = snaps.text(sha)
            if text is not None:
                return path, truncate_bytes(text, limits.max_readme_bytes)
    return None


def _relevant(entries: list[tuple[str, str, int]], message: str, changed: list[str],
              snaps: _Snapshots, limits: CommitLimits) -> list[tuple[str, str]]:
    """Top-k files of the snapshot by BM25 (query: message + changed paths' tokens)."""
    if limits.top_k == 0:
        return []
    candidates = [(path, sha) for path, sha, size in entries
                  if 0 < size <= limits.max_index_file_bytes and snaps.text(sha) is not None]
    if not candidates:
        return []
    query = code_tokens(message + "\n" + "\n".join(changed))
    index = BM25.from_counts([snaps.counts(sha) for _, sha in candidates])
    return [candidates[i] for i, _ in index.top(query, limits.top_k)]
