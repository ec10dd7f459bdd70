"""The repo-level text format (docs/samples.md): each file as a header line then its content.

Curate writes repository samples in this format and the model learns it; serve lays out an
editor's repository context the same way, so what the model sees at completion time is what
it saw in training.
"""

from __future__ import annotations

from collections.abc import Iterable

FILE_MARKER = "<[file]>"


def file_header(path: str) -> str:
    return f"{FILE_MARKER} {path}\n"


def file_block(path: str, content: str) -> str:
    """Header line, content, and a newline so the next header starts on its own line."""
    return file_header(path) + content + ("" if content.endswith("\n") else "\n")


def repo_text(files: Iterable[tuple[str, str]]) -> str:
    """``(path, content)`` pairs, in order, as one repo-level string."""
    return "".join(file_block(path, content) for path, content in files)
