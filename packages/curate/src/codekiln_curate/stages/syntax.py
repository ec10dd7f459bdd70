"""``syntax``: parse each file with tree-sitter and flag files that do not parse.

Seed-Coder drops files with syntax errors. Grammars come bundled (offline) with
``tree-sitter-language-pack`` 0.13; parsers are created lazily, once per process and
thread. A file over the size cap or the time cap is *not* judged (``too_large`` /
``timeout``), and a language without a grammar passes as ``no_grammar``: only files a
grammar positively rejects get ``syntax_error=True``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import Field

from codekiln_core import languages
from codekiln_core.stages import StageOptions
from codekiln_curate.langid import detect_language

#: Languages parsed by default but not judged: SQL dialects (T-SQL, PL/pgSQL, MySQL) differ
#: so much that the single grammar rejects many valid files.
DEFAULT_SKIP: tuple[str, ...] = ("sql",)
#: Share of a file's bytes that may sit in ERROR nodes before it counts as broken. The C
#: family is parsed before preprocessing: macros used as statements or specifiers and
#: ``#if``-split code give local errors in ~45% of real files (measured on 451 installed
#: C/C++/CUDA sources); at 5% only ~5% of those files are dropped while half of truncated
#: files still are. Markup grammars are similarly strict about rare constructs.
DEFAULT_TOLERANCE: dict[str, float] = {
    "c": 0.05, "c++": 0.05, "cuda": 0.05, "objective-c": 0.05,
    "css": 0.05, "html": 0.05, "restructuredtext": 0.05, "tex": 0.05,
}  # fmt: skip

_local = threading.local()


def parser_for(grammar: str) -> Any:
    """The cached tree-sitter parser of ``grammar`` for this thread (created on first use)."""
    cache: dict[str, Any] = _local.__dict__.setdefault("parsers", {})
    if grammar not in cache:
        from tree_sitter_language_pack import get_parser

        cache[grammar] = get_parser(grammar)  # type: ignore[arg-type]
    return cache[grammar]


def grammar_for(language: str | None, path: str | None) -> str | None:
    """Grammar name for a file; ``.tsx`` needs the TSX grammar, not plain TypeScript."""
    if language is None:
        return None
    if language == "typescript" and (path or "").lower().endswith(".tsx"):
        return "tsx"
    return languages.grammar(language)


class SyntaxOptions(StageOptions):
    max_bytes: int = Field(1_000_000, gt=0, description="larger files are not parsed "
                           "(status too_large)")
    timeout_ms: float = Field(2000.0, gt=0, description="parse time cap per file "
                              "(status timeout)")
    skip_languages: list[str] = Field(
        list(DEFAULT_SKIP), description="canonical language names never judged "
        "(reported as no_grammar)"
    )
    error_tolerance: dict[str, Annotated[float, Field(ge=0.0, lt=1.0)]] | None = Field(
        None, description="language -> share of bytes in ERROR nodes still accepted (status "
        "tolerated), each in [0, 1); default DEFAULT_TOLERANCE, other languages 0"
    )


class SyntaxStage:
    """Signals ``syntax_error`` (bool), ``syntax_status`` (ok/error/tolerated/no_grammar/
    too_large/timeout) and ``syntax_error_fraction`` from a tree-sitter parse."""

    name: ClassVar[str] = "syntax"
    signal_columns: ClassVar[Mapping[str, str]] = {
        "syntax_error": "bool",
        "syntax_status": "string",
        "syntax_error_fraction": "float64",
    }

    options_model: ClassVar[type[StageOptions]] = SyntaxOptions

    def __init__(self, options: SyntaxOptions | None = None) -> None:
        options = options or SyntaxOptions()
        tolerance = options.error_tolerance
        self.max_bytes = options.max_bytes
        self.timeout_s = options.timeout_ms / 1000.0
        self.skip_languages = frozenset(options.skip_languages)
        self.error_tolerance = dict(DEFAULT_TOLERANCE if tolerance is None else tolerance)

    def signals(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        status, fraction = self.status(doc)
        return {
            "syntax_error": status == "error",
            "syntax_status": status,
            "syntax_error_fraction": fraction,
        }

    def status(self, doc: Mapping[str, Any]) -> tuple[str, float]:
        """``(status, share of bytes in ERROR nodes)`` of one document."""
        content: str = doc.get("content") or ""
        path = doc.get("path")
        language = doc.get("language") or detect_language(path, content)
        grammar = None if language in self.skip_languages else grammar_for(language, path)
        if grammar is None:
            return "no_grammar", 0.0
        source = content.encode("utf-8", errors="surrogatepass")
        if len(source) > self.max_bytes:
            return "too_large", 0.0
        status, fraction = parse_status(parser_for(grammar), source, self.timeout_s)
        if status == "error" and fraction <= self.error_tolerance.get(language or "", 0.0):
            return "tolerated", fraction
        return status, fraction


def parse_status(parser: Any, source: bytes, timeout_s: float) -> tuple[str, float]:
    """``(ok|error|timeout, error byte share)`` for one parse under a wall-clock cap.

    tree-sitter 0.26 only honours a progress callback when reading through a callback, so
    the source is fed in 64 KB slices; returning True from the callback cancels the parse.
    """
    deadline = time.monotonic() + timeout_s
    timed_out = False

    def read(offset: int, _point: Any) -> bytes:
        return source[offset : offset + 65536]

    def progress(_offset: int, _has_error: bool) -> bool:
        nonlocal timed_out
        timed_out = time.monotonic() > deadline
        return timed_out

    try:
        tree = parser.parse(read, progress_callback=progress)
    except ValueError:
        if timed_out:
            return "timeout", 0.0
        raise
    finally:
        parser.reset()
    if not tree.root_node.has_error:
        return "ok", 0.0
    return "error", error_fraction(tree.root_node, source)


def error_fraction(root: Any, source: bytes) -> float:
    """Share of the source inside ERROR nodes; a MISSING node counts as one byte.

    Only subtrees flagged ``has_error`` are visited, so clean regions cost nothing. A node
    missing at the very end (an unclosed block: the file was cut off) returns 1.0, so no
    tolerance lets a truncated file through.
    """
    covered = 0
    end = len(source.rstrip())
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR":
            covered += max(1, node.end_byte - node.start_byte)
        elif node.is_missing:
            if node.start_byte >= end:
                return 1.0
            covered += 1
        elif node.has_error:
            stack.extend(node.children)
    return min(1.0, covered / max(1, len(source)))
