"""Language identification and provenance flags (vendored, generated) for source files.

A library: the ``language-id`` stage, the heuristics and syntax stages, labeling and
samples all call :func:`detect_language`.
"""

from __future__ import annotations

from codekiln_curate.langid.detect import detect_language, language_from_shebang
from codekiln_curate.langid.provenance import is_generated, is_vendored

__all__ = ["detect_language", "is_generated", "is_vendored", "language_from_shebang"]
