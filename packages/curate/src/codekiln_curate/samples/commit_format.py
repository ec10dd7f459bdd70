"""Serialization of one commit sample (documented in docs/samples.md).

Input, in this order: the commit message, the README of the pre-commit snapshot, its
directory tree, then up to ``top_k`` BM25-relevant files. Target: the changed paths, then
each path's unified diff. Every section is an XML-like tag on its own line, so a model can
learn where each part begins and ends, and the sample can be parsed back.
"""

from __future__ import annotations

from collections.abc import Sequence


def section(tag: str, body: str, path: str | None = None) -> str:
    attr = f' path="{path}"' if path is not None else ""
    text = body if body.endswith("\n") or not body else body + "\n"
    return f"<{tag}{attr}>\n{text}</{tag}>\n"


def render_tree(paths: Sequence[str], max_lines: int) -> str:
    """Indented directory tree (directories end in /), cut after ``max_lines`` lines."""
    lines: list[str] = []
    seen_dirs: set[str] = set()
    for path in sorted(paths):
        parts = path.split("/")
        for depth in range(len(parts) - 1):
            directory = "/".join(parts[: depth + 1])
            if directory not in seen_dirs:
                seen_dirs.add(directory)
                lines.append("  " * depth + parts[depth] + "/")
        lines.append("  " * (len(parts) - 1) + parts[-1])
    if len(lines) > max_lines:
        hidden = len(lines) - max_lines
        lines = [*lines[:max_lines], f"... ({hidden} more entries)"]
    return "\n".join(lines)


def truncate_bytes(text: str, limit: int) -> str:
    """At most ``limit`` UTF-8 bytes, cut at a line break, marked when cut."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    cut = data[:limit].decode("utf-8", "ignore")
    newline = cut.rfind("\n")
    cut = cut[: newline + 1] if newline > 0 else cut
    return cut + "... [truncated]\n"


def render_input(message: str, readme: tuple[str, str] | None, tree: str,
                 files: Sequence[tuple[str, str]]) -> str:
    parts = [section("commit_message", message.strip())]
    if readme is not None:
        parts.append(section("readme", readme[1], readme[0]))
    parts.append(section("tree", tree))
    parts.extend(section("file", content, path) for path, content in files)
    return "".join(parts)


def render_target(changes: Sequence[tuple[str, str, str]]) -> str:
    """``changes``: (status letter, path, unified diff) per changed file, in path order."""
    listing = "\n".join(f"{status} {path}" for status, path, _ in changes)
    parts = [section("changed_paths", listing)]
    parts.extend(section("diff", diff, path) for _, path, diff in changes)
    return "".join(parts)
