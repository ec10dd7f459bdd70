"""The synthesis syntax gate parses with the grammar the language table names."""

from __future__ import annotations

import pytest

from codekiln_posttrain.data.syntax import syntax_ok


@pytest.mark.parametrize(("language", "good", "bad"), [
    ("py", "def f():\n    return 1\n", "def f(:\n    return 1\n"),
    ("C++", "int f() { return 1; }\n", "int f( { return 1; }\n"),
    ("sh", "f() { echo hi; }\n", "f() { echo hi; \n"),
    ("lua", "local x = 1\n", "local = = 1\n"),  # not aliased: its own name is the grammar
])
def test_names_and_aliases_reach_their_grammar(language: str, good: str, bad: str) -> None:
    assert syntax_ok(good, language) is True
    assert syntax_ok(bad, language) is False


def test_a_language_without_a_grammar_is_not_judged() -> None:
    assert syntax_ok("anything", "cython") is None
    assert syntax_ok("anything", "no-such-language") is None
