"""Tree-sitter syntax gate for synthesised code (seed-coder.md §7: syntax errors are dropped)."""

from __future__ import annotations

import functools
from typing import Any

#: Our language names -> tree-sitter-language-pack grammar names, where they differ.
_GRAMMARS = {"c++": "cpp", "js": "javascript", "ts": "typescript", "sh": "bash",
             "shell": "bash", "py": "python", "rs": "rust", "golang": "go"}


@functools.cache
def _parser(grammar: str) -> Any:
    from tree_sitter_language_pack import get_parser

    return get_parser(grammar)  # type: ignore[arg-type]


def syntax_ok(code: str, language: str) -> bool | None:
    """True/False for a parse without/with errors; None when no grammar knows ``language``."""
    grammar = _GRAMMARS.get(language.lower(), language.lower())
    try:
        parser = _parser(grammar)
    except (LookupError, ValueError, KeyError):
        return None
    tree = parser.parse(code.encode("utf-8"))
    return not tree.root_node.has_error
