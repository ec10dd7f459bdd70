"""Repo-level samples (Seed-Coder §2.2.5): one string per repository, dependency-ordered.

Files of languages with an import graph (see ``imports.GRAPH_LANGUAGES``) come first, in
dependency order; other files follow in a seeded random order. Each file is preceded by a
path header (docs/samples.md; the format is ``codekiln_core.repo_text``, which serve shares).
A repository larger than ``max_bytes`` is split along weakly connected components of its
import graph, packed greedily up to ``max_bytes`` per part.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from codekiln_core.repo_text import repo_text
from codekiln_curate.samples.graph import dependency_order, weak_components
from codekiln_curate.samples.imports import GRAPH_LANGUAGES, RepoIndex, dependencies
from codekiln_curate.samples.recipes import RepoLimits


@dataclass(frozen=True)
class RepoFile:
    path: str
    language: str
    content: str


@dataclass
class RepoSample:
    id: str
    repo: str
    part: int
    parts: int
    paths: list[str]
    text: str


@dataclass
class RepoStats:
    repos: int = 0
    written: int = 0
    split_repos: int = 0
    edges: int = 0
    oversized_components: int = 0
    skipped: dict[str, int] = field(default_factory=dict)


def render(files: list[RepoFile]) -> str:
    """The repo-level string (``codekiln_core.repo_text``: serve lays out context the same)."""
    return repo_text((f.path, f.content) for f in files)


def import_edges(files: list[RepoFile]) -> dict[str, set[str]]:
    index = RepoIndex({f.path: f.content for f in files})
    return {f.path: dependencies(f.path, f.language, f.content, index) for f in files
            if f.language in GRAPH_LANGUAGES}


def ordered(files: list[RepoFile], edges: dict[str, set[str]], repo: str, seed: int,
            ) -> list[RepoFile]:
    by_path = {f.path: f for f in files}
    graph = sorted(p for p in by_path if by_path[p].language in GRAPH_LANGUAGES)
    rest = sorted(p for p in by_path if by_path[p].language not in GRAPH_LANGUAGES)
    random.Random(f"{seed}:{repo}").shuffle(rest)
    return [by_path[p] for p in [*dependency_order(graph, edges), *rest]]


def repo_samples(repo: str, files: list[RepoFile], limits: RepoLimits,
                 stats: RepoStats) -> Iterator[RepoSample]:
    stats.repos += 1
    if len(files) < limits.min_files:
        stats.skipped["too_few_files"] = stats.skipped.get("too_few_files", 0) + 1
        return
    edges = import_edges(files)
    stats.edges += sum(len(deps) for deps in edges.values())
    order = ordered(files, edges, repo, limits.seed)
    size = sum(len(f.content.encode("utf-8")) + len(f.path) + 10 for f in order)
    groups = [order] if size <= limits.max_bytes else _split(order, edges, limits, stats)
    if len(groups) > 1:
        stats.split_repos += 1
    for part, group in enumerate(groups):
        paths = [f.path for f in group]
        digest = hashlib.sha256(f"{repo}\0{part}\0{len(groups)}".encode()).hexdigest()
        stats.written += 1
        yield RepoSample(digest, repo, part, len(groups), paths, render(group))


def _split(order: list[RepoFile], edges: dict[str, set[str]], limits: RepoLimits,
           stats: RepoStats) -> list[list[RepoFile]]:
    """Pack weakly connected components (in global order) into parts of <= max_bytes."""
    position = {f.path: i for i, f in enumerate(order)}
    by_path = {f.path: f for f in order}
    components = weak_components(list(position), edges)
    components.sort(key=lambda comp: min(position[p] for p in comp))
    parts: list[list[RepoFile]] = []
    current: list[RepoFile] = []
    used = 0
    for component in components:
        members = sorted((by_path[p] for p in component), key=lambda f: position[f.path])
        cost = sum(len(f.content.encode("utf-8")) + len(f.path) + 10 for f in members)
        if cost > limits.max_bytes:
            stats.oversized_components += 1
        for chunk in _cut(members, cost, limits.max_bytes):
            chunk_cost = sum(len(f.content.encode("utf-8")) + len(f.path) + 10 for f in chunk)
            if current and used + chunk_cost > limits.max_bytes:
                parts.append(current)
                current, used = [], 0
            current.extend(chunk)
            used += chunk_cost
    if current:
        parts.append(current)
    return parts


def _cut(members: list[RepoFile], cost: int, limit: int) -> list[list[RepoFile]]:
    """A component over the limit is cut along its dependency order (kept order)."""
    if cost <= limit:
        return [members]
    chunks: list[list[RepoFile]] = [[]]
    used = 0
    for f in members:
        size = len(f.content.encode("utf-8")) + len(f.path) + 10
        if chunks[-1] and used + size > limit:
            chunks.append([])
            used = 0
        chunks[-1].append(f)
        used += size
    return chunks
