"""The language-id stage: a signal stage writing language, is_vendored and is_generated."""

from __future__ import annotations

from pathlib import Path

from codekiln_core.stages import SignalStage
from codekiln_curate.stages.language_id import LanguageIdStage


def test_is_a_signal_stage() -> None:
    stage = LanguageIdStage()
    assert isinstance(stage, SignalStage)
    assert set(stage.signal_columns) == {"language", "is_vendored", "is_generated"}


def test_tiny_corpus(tiny_code_corpus: Path) -> None:
    expected = {
        "calc/ops.py": "python", "calc/main.py": "python", "web/app.js": "javascript",
        "native/hello.c": "c", "svc/main.go": "go", "lib/src/lib.rs": "rust",
        "broken/bad.py": "python", "config/settings.json": "json", "scripts/build.sh": "shell",
    }  # fmt: skip
    stage = LanguageIdStage()
    for rel, language in expected.items():
        doc = {"path": rel, "content": (tiny_code_corpus / rel).read_text(), "language": None}
        assert stage.signals(doc) == {
            "language": language,
            "is_vendored": False,
            "is_generated": False,
        }
