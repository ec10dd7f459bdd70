"""First-party per-document stages of ``codekiln curate``.

The engine registers :data:`FIRST_PARTY_STAGES` and puts :data:`DEFAULT_GATES` in the default
recipe. Every class is built as ``cls(**options)`` with the recipe's options for it.
"""

from __future__ import annotations

from typing import Any

from codekiln_curate.filters.decontaminate import DecontaminateFilter
from codekiln_curate.filters.heuristics import DEFAULT_GATES as HEURISTIC_GATES
from codekiln_curate.filters.heuristics import HeuristicsStage
from codekiln_curate.filters.language_id import LanguageIdStage, detect_language
from codekiln_curate.filters.syntax import SyntaxStage
from codekiln_curate.quality.stage import QualityScoreStage

#: ``(name, class, one-line description)`` of every first-party per-document stage.
FIRST_PARTY_STAGES: list[tuple[str, type, str]] = [
    (LanguageIdStage.name, LanguageIdStage,
     "language from file name, extension, shebang and content; vendored/generated flags"),
    (HeuristicsStage.name, HeuristicsStage,
     "line counts, line lengths, alphanumeric share, data/config-file flag"),
    (SyntaxStage.name, SyntaxStage,
     "tree-sitter parse (offline grammars, size and time caps); flags syntax errors"),
    (DecontaminateFilter.name, DecontaminateFilter,
     "drop documents sharing a word 10-gram with a benchmark item"),
    (QualityScoreStage.name, QualityScoreStage,
     "quality_score 0-10 from a regression-head scorer checkpoint (options: model=DIR)"),
]  # fmt: skip

#: Default recipe gates: heuristics thresholds plus the syntax gate.
DEFAULT_GATES: list[dict[str, Any]] = [
    *HEURISTIC_GATES,
    {"signal": "syntax_error", "equals": False},
]

__all__ = [
    "DEFAULT_GATES",
    "FIRST_PARTY_STAGES",
    "DecontaminateFilter",
    "HeuristicsStage",
    "LanguageIdStage",
    "SyntaxStage",
    "detect_language",
]
