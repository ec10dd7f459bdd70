"""docs/plugin-hooks.md must document every hook with its exact signature, and every hook
must have a test of its own (a test function named ``test_<hook name>...``)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from codekiln_core import hookspecs

REPO = Path(__file__).resolve().parents[3]
DOC = REPO / "docs" / "plugin-hooks.md"


def hook_names() -> list[str]:
    return sorted(n for n in dir(hookspecs) if n.startswith("codekiln_"))


def signature_text(name: str) -> str:
    """``name(arg: Type, ...) -> Ret`` exactly as written in hookspecs.py."""
    sig = inspect.signature(getattr(hookspecs, name))
    params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    return f"{name}({params}) -> {sig.return_annotation}"


def test_every_hook_has_a_docstring_with_an_example():
    for name in hook_names():
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert "Example::" in doc, f"{name} needs a docstring with an Example:: block"


@pytest.mark.parametrize("name", hook_names())
def test_hook_is_documented_with_its_exact_signature(name: str):
    text = DOC.read_text(encoding="utf-8")
    assert f"## `{name}`" in text, f"docs/plugin-hooks.md has no '## `{name}`' section"
    assert signature_text(name) in text, f"docs/plugin-hooks.md lacks `{signature_text(name)}`"


def test_docs_list_no_hook_that_does_not_exist():
    text = DOC.read_text(encoding="utf-8")
    documented = {line.split("`")[1] for line in text.splitlines() if line.startswith("## `")}
    assert documented == set(hook_names())


def _test_function_names() -> set[str]:
    names: set[str] = set()
    for path in REPO.glob("**/tests/**/test_*.py"):
        if ".venv" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names.update(n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef))
    return names


@pytest.mark.parametrize("name", hook_names())
def test_hook_has_a_test_of_its_own(name: str):
    tests = _test_function_names()
    # codekiln_stage_started/finished share one test named after both.
    stem = name.removesuffix("_started").removesuffix("_finished")
    prefixes = (f"test_{name}", f"test_{stem}_started")
    assert any(t.startswith(prefixes) for t in tests), (
        f"no test function named test_{name}... in any tests/ directory"
    )
