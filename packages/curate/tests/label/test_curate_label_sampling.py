"""Which files get labeled: per_language vs quotas precedence (no teacher needed)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from codekiln_core.cli.app import main
from codekiln_core.cli.invoke import load_or_defaults
from codekiln_core.errors import ConfigError
from codekiln_curate.label.recipe import PAPER_QUOTAS, LabelRecipe, SamplingConfig
from codekiln_curate.label.sampling import FileToLabel, sample


def documents(per_language: int = 12) -> list[FileToLabel]:
    return [FileToLabel(f"{lang}-{i}", f"{lang}/{i}.src", lang, f"code {lang} {i}\n")
            for lang in ("python", "go", "rust") for i in range(per_language)]


def counts(config: SamplingConfig) -> dict[str, int]:
    return dict(Counter(doc.language for doc in sample(iter(documents()), config)))


def test_per_language_alone_means_every_language() -> None:
    """Before, the default quotas {python: 270} silently beat a per_language the user set."""
    config = load_or_defaults(SamplingConfig, None, ["languages=[python, go]",
                                                     "per_language=3"], source="--set")
    assert config.effective_quotas() == {"python": 3, "go": 3}
    assert counts(config) == {"python": 3, "go": 3}
    assert config.precedence_note() is None


def test_defaults_are_the_paper_sample() -> None:
    config = SamplingConfig()
    quotas = config.effective_quotas()
    assert quotas["python"] == PAPER_QUOTAS["python"] == 270 and quotas["go"] == 100
    assert len(quotas) == 21


def test_quotas_win_for_the_languages_they_name_with_a_note() -> None:
    config = SamplingConfig.model_validate({"languages": ["python", "go", "rust"],
                                            "per_language": 2, "quotas": {"python": 5}})
    assert counts(config) == {"python": 5, "go": 2, "rust": 2}
    note = config.precedence_note()
    assert note == ("sampling.quotas sets python=5; per_language=2 applies to the other 2 "
                    "language(s) only")
    only_quotas = SamplingConfig.model_validate({"languages": ["python", "go"],
                                                 "quotas": {"python": 4}})
    assert counts(only_quotas) == {"python": 4, "go": 12}  # 12 < the default 100
    assert only_quotas.precedence_note() is None  # per_language left at its default


def test_per_language_that_does_nothing_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = tmp_path / "label.yaml"
    recipe.write_text("sampling: {languages: [python], quotas: {python: 40}}\n")
    with pytest.raises(ConfigError, match=r"per_language=8 has no effect: quotas names every "
                                          r"sampled language \(python=40\)"):
        load_or_defaults(LabelRecipe, recipe, ["sampling.per_language=8", "dataset=d",
                                               "output=o"], source="label")
    code = main(["curate", "label", str(recipe), str(tmp_path), "-o", str(tmp_path / "out"),
                 "--set", "sampling.per_language=8", "--no-lineage"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "quotas.python=8" in err
    assert not (tmp_path / "out").exists()


def test_the_prompt_names_the_language_from_the_table() -> None:
    from codekiln_curate.label.prompt import build_prompt, display_language

    assert [display_language(x) for x in ("c++", "javascript", "shell", "rust", "")] == \
        ["C++", "JavaScript", "Shell", "Rust", "plain text"]
    assert "```C#\nclass A {}\n```" in build_prompt("c#", "class A {}")
