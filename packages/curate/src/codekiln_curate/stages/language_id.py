"""``language-id``: signals the language of a file and whether it is vendored or generated.

Detection lives in :mod:`codekiln_curate.langid`; this stage only writes its answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field

from codekiln_core.stages import StageOptions
from codekiln_curate.langid import detect_language, is_generated, is_vendored


class LanguageIdOptions(StageOptions):
    overwrite: bool = Field(
        True, description="false keeps a language the reader already set (e.g. from metadata)"
    )


class LanguageIdStage:
    """Signals ``language``, ``is_vendored`` and ``is_generated`` from path and content."""

    name: ClassVar[str] = "language-id"
    signal_columns: ClassVar[Mapping[str, str]] = {
        "language": "string",
        "is_vendored": "bool",
        "is_generated": "bool",
    }

    options_model: ClassVar[type[StageOptions]] = LanguageIdOptions

    def __init__(self, options: LanguageIdOptions | None = None) -> None:
        self.overwrite = (options or LanguageIdOptions()).overwrite

    def signals(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        content = doc.get("content") or ""
        path = doc.get("path")
        language = doc.get("language") if not self.overwrite else None
        return {
            "language": language or detect_language(path, content),
            "is_vendored": is_vendored(path),
            "is_generated": is_generated(path, content),
        }
