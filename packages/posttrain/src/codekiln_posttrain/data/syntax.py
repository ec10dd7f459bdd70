"""Tree-sitter syntax gate for synthesised code (seed-coder.md §7: syntax errors are dropped)."""

from __future__ import annotations

import functools
from typing import Any

from codekiln_core import languages


@functools.cache
def _parser(grammar: str) -> Any:
    from tree_sitter_language_pack import get_parser

    return get_parser(grammar)  # type: ignore[arg-type]


def syntax_ok(code: str, language: str) -> bool | None:
    """True/False for a parse without/with errors; None when no grammar knows ``language``."""
    grammar = languages.grammar(language) or language.strip().lower()
    try:
        parser = _parser(grammar)
    except (LookupError, ValueError, KeyError):
        return None
    tree = parser.parse(code.encode("utf-8"))
    return not tree.root_node.has_error
