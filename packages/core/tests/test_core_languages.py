"""The one language table: every consumer's view of it, and the sandbox's runners."""

from __future__ import annotations

import pytest

from codekiln_core import languages
from codekiln_core.sandbox.languages import SPECS, canonical_name


def test_every_sandbox_runner_is_in_the_table_and_back() -> None:
    runners = {lang.runner for lang in languages.LANGUAGES if lang.runner}
    assert runners == set(SPECS)


@pytest.mark.parametrize(("name", "runner", "grammar", "display"), [
    ("C++", "cpp", "cpp", "C++"),
    ("cpp", "cpp", "cpp", "C++"),
    (" py ", "python", "python", "Python"),
    ("nodejs", "javascript", "javascript", "JavaScript"),
    ("sh", "bash", "bash", "Bash"),
    ("shell", "shell", "bash", "Shell"),      # curate's shell files: parsed, not run
    ("c#", "c#", "csharp", "C#"),
    ("r markdown", "r markdown", "markdown", "R Markdown"),
    ("brainfuck", "brainfuck", None, "Brainfuck"),  # not in the table
])
def test_lookups(name: str, runner: str, grammar: str | None, display: str) -> None:
    assert languages.runner(name) == canonical_name(name) == runner
    assert languages.grammar(name) == grammar
    assert languages.display(name) == display


def test_fence_tags_cover_every_name_of_the_grammar() -> None:
    assert languages.fence_tags("bash") == {"bash", "sh", "shell", "zsh"}
    assert languages.fence_tags("cpp") == {"c++", "cpp", "cc", "cxx", "hpp"}
    assert languages.fence_tags("python") == {"python", "py", "python3", "py3"}
    assert languages.fence_tags("cython") == {"cython"}
    assert languages.fence_tags("Nim") == {"nim"}
    assert languages.fence_tags("foo") == {"foo"}


def test_extensions_are_lowercase_dotted_and_claimed_once() -> None:
    table = languages.extensions()
    assert table[".py"] == "python" and table[".cpp"] == "c++" and table[".sh"] == "shell"
    assert all(ext.startswith(".") and ext == ext.lower() for ext in table)
    assert len(table) == sum(len(lang.ext) for lang in languages.LANGUAGES)
