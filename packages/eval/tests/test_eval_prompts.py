"""Chat prompts name the language as people do and fence it with the sandbox's tag."""

from __future__ import annotations

import pytest

from codekiln_eval.prompts import complete_function, solve_with_tests


@pytest.mark.parametrize(("language", "name"), [
    ("python", "Python"), ("cpp", "C++"), ("javascript", "JavaScript"), ("bash", "Bash"),
    ("rust", "Rust"), ("kotlin", "Kotlin"),
])
def test_complete_function_names_and_fences_the_language(language: str, name: str) -> None:
    prompt = complete_function("f()", language)
    assert prompt.startswith(f"Complete the following {name} function.")
    assert f"```{language}\nf()\n```" in prompt
    assert solve_with_tests("Do it.", ["t()"], language).endswith(
        f"Reply with the solution in a single ```{language} code block.")
