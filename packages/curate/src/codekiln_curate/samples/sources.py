"""Repositories as lists of files: from a curated dataset (grouped by ``repo``), a git
repository (files at HEAD, so ignored build output never leaks in), or a plain directory."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from codekiln_core.errors import ConfigError
from codekiln_curate.samples.repo_level import RepoFile

_SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", "node_modules", ".venv", ".codekiln"}
_MAX_FILE_BYTES = 1_000_000


def iter_repos(source: Path) -> Iterator[tuple[str, list[RepoFile]]]:
    """(repo name, files) per repository, repos in name order, files in path order."""
    if not source.exists():
        raise ConfigError(f"samples input {source}: no such file or directory; pass a curated "
                          "dataset, a git repository or a source directory")
    parquet = _parquet_parts(source)
    if parquet:
        yield from _from_parquet(parquet)
    elif (source / ".git").exists():
        yield from _from_git(source)
    elif source.is_dir():
        yield source.resolve().name, sorted(_from_tree(source), key=lambda f: f.path)
    else:
        raise ConfigError(f"samples input {source}: not a Parquet file or directory")


def _parquet_parts(source: Path) -> list[Path]:
    if source.is_file():
        return [source] if source.suffix == ".parquet" else []
    root = source / "data" if (source / "data").is_dir() else source
    return sorted(root.glob("*.parquet"))


def _from_parquet(parts: list[Path]) -> Iterator[tuple[str, list[RepoFile]]]:
    import pyarrow.parquet as pq

    repos: dict[str, list[RepoFile]] = defaultdict(list)
    for part in parts:
        table = pq.read_table(part)
        missing = {"repo", "path", "content", "language"} - set(table.column_names)
        if missing:
            raise ConfigError(f"samples input {part}: missing column(s) {sorted(missing)}; "
                              "pass Parquet written by `codekiln curate run`")
        for row in table.select(["repo", "path", "language", "content"]).to_pylist():
            repos[row["repo"] or ""].append(RepoFile(row["path"] or "", row["language"] or "",
                                                     row["content"] or ""))
    for repo in sorted(repos):
        yield repo, sorted(repos[repo], key=lambda f: f.path)


def _from_git(root: Path) -> Iterator[tuple[str, list[RepoFile]]]:
    from codekiln_curate.gitio import CatFile, decode_text, list_tree
    from codekiln_curate.langid import detect_language

    files = []
    with CatFile(root) as cat:
        for path, sha, size in list_tree(root, "HEAD"):
            if size > _MAX_FILE_BYTES:
                continue
            text = decode_text(cat.read(sha))
            if text:
                files.append(RepoFile(path, detect_language(path, text) or "", text))
    yield root.resolve().name, files


def _from_tree(root: Path) -> Iterator[RepoFile]:
    from codekiln_curate.gitio import decode_text
    from codekiln_curate.langid import detect_language

    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in _SKIP_DIRS for part in rel.parts) or not path.is_file():
            continue
        if path.is_symlink() or path.stat().st_size > _MAX_FILE_BYTES:
            continue
        text = decode_text(path.read_bytes())
        if text:
            yield RepoFile(rel.as_posix(), detect_language(rel.as_posix(), text) or "", text)
