"""First-party curation stages of ``codekiln curate``: one module per stage.

:data:`FIRST_PARTY_STAGES` is the one list of them; the curate plugin registers it through
the same hook a third-party plugin uses. :data:`DEFAULT_GATES` goes in the default recipe.
Libraries the stages build on live beside this package (``langid``, ``dedup``, ``decontam``,
``quality``).
"""

from __future__ import annotations

from typing import Any

from codekiln_curate.stages.decontaminate import DecontaminateStage
from codekiln_curate.stages.exact_dedup import ExactDedupStage
from codekiln_curate.stages.heuristics import DEFAULT_GATES as HEURISTIC_GATES
from codekiln_curate.stages.heuristics import HeuristicsStage
from codekiln_curate.stages.language_id import LanguageIdStage
from codekiln_curate.stages.near_dedup import NearDedupStage
from codekiln_curate.stages.quality_score import QualityScoreStage
from codekiln_curate.stages.syntax import SyntaxStage

#: ``(name, class, one-line description)`` of every first-party stage.
FIRST_PARTY_STAGES: list[tuple[str, type, str]] = [
    (LanguageIdStage.name, LanguageIdStage,
     "language from file name, extension, shebang and content; vendored/generated flags"),
    (HeuristicsStage.name, HeuristicsStage,
     "line counts, line lengths, alphanumeric share, data/config-file flag"),
    (SyntaxStage.name, SyntaxStage,
     "tree-sitter parse (offline grammars, size and time caps); flags syntax errors"),
    (DecontaminateStage.name, DecontaminateStage,
     "drop documents sharing a word 10-gram with a benchmark item"),
    (QualityScoreStage.name, QualityScoreStage,
     "quality_score 0-10 from a regression-head scorer checkpoint (options: model=DIR)"),
    (ExactDedupStage.name, ExactDedupStage,
     "drop exact duplicates (normalized SHA-256), file or repo level"),
    (NearDedupStage.name, NearDedupStage,
     "drop near duplicates (MinHash LSH, connected components), file or repo level"),
]  # fmt: skip

#: Default recipe gates: heuristics thresholds plus the syntax gate.
DEFAULT_GATES: list[dict[str, Any]] = [
    *HEURISTIC_GATES,
    {"signal": "syntax_error", "equals": False},
]

__all__ = [
    "DEFAULT_GATES",
    "FIRST_PARTY_STAGES",
    "DecontaminateStage",
    "ExactDedupStage",
    "HeuristicsStage",
    "LanguageIdStage",
    "NearDedupStage",
    "QualityScoreStage",
    "SyntaxStage",
]
