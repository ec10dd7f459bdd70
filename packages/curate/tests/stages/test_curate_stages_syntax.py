"""syntax stage: real tree-sitter parses, offline grammars, caps."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from codekiln_core.errors import ConfigError
from codekiln_core.languages import LANGUAGES
from codekiln_core.stages import SignalStage, build_stage
from codekiln_curate.stages.syntax import (
    SyntaxOptions,
    SyntaxStage,
    parse_status,
    parser_for,
)

STDLIB = Path(sysconfig.get_paths()["stdlib"])


def test_contract() -> None:
    stage = SyntaxStage()
    assert isinstance(stage, SignalStage)
    assert dict(stage.signal_columns) == {
        "syntax_error": "bool",
        "syntax_status": "string",
        "syntax_error_fraction": "float64",
    }


def test_tiny_corpus_catches_the_broken_file(tiny_code_corpus: Path) -> None:
    stage = SyntaxStage()
    statuses = {}
    for path in sorted(p for p in tiny_code_corpus.rglob("*") if p.is_file()):
        rel = path.relative_to(tiny_code_corpus).as_posix()
        statuses[rel] = stage.signals({"path": rel, "content": path.read_text(), "language": None})
    broken = statuses.pop("broken/bad.py")
    assert broken["syntax_error"] is True and broken["syntax_status"] == "error"
    assert 0 < broken["syntax_error_fraction"] <= 1
    ok = {"syntax_error": False, "syntax_status": "ok", "syntax_error_fraction": 0.0}
    assert all(v == ok for v in statuses.values())


def test_at_least_twenty_grammars_load_offline() -> None:
    grammars = sorted({lang.grammar for lang in LANGUAGES if lang.grammar} | {"tsx"})
    loaded = [g for g in grammars if parser_for(g) is not None]
    assert len(loaded) == len(grammars) >= 20


@pytest.mark.parametrize(
    ("language", "good", "bad"),
    [
        ("java", "class A { int f() { return 1; } }", "class A { int f( { return 1; } }"),
        ("go", "package m\nfunc f() int { return 1 }\n", "package m\nfunc f() int { return 1\n"),
        ("rust", "fn f() -> i32 { 1 }", "fn f() -> i32 { 1"),
        ("c++", "int f() { return 1; }", "int f() { return 1; "),
        ("typescript", "const x: number = 1;", "const x: number = ;"),
        ("ruby", "def f\n  1\nend\n", "def f\n  1\n"),
    ],
)
def test_good_and_bad_snippets(language: str, good: str, bad: str) -> None:
    stage = SyntaxStage()
    assert (
        stage.signals({"path": None, "content": good, "language": language})["syntax_status"]
        == "ok"
    )
    assert stage.signals({"path": None, "content": bad, "language": language})["syntax_error"]


def test_stdlib_parses_clean() -> None:
    stage = SyntaxStage()
    files = sorted(STDLIB.glob("*.py"))[:120]
    errors = [
        p.name
        for p in files
        if stage.signals({"path": p.name, "content": p.read_text(), "language": "python"})[
            "syntax_error"
        ]
    ]
    assert errors == []


def test_unknown_language_passes_through() -> None:
    out = SyntaxStage().signals({"path": "notes.txt", "content": "hello", "language": "text"})
    assert out["syntax_error"] is False and out["syntax_status"] == "no_grammar"
    sql = SyntaxStage().signals({"path": "q.sql", "content": "SELEC oops", "language": None})
    assert sql["syntax_status"] == "no_grammar"  # SQL is skipped by default (dialects)


def test_size_and_time_caps() -> None:
    big = "x = 1\n" * 1000
    capped = SyntaxStage(SyntaxOptions(max_bytes=1000)).signals(
        {"path": "a.py", "content": big, "language": None})
    assert capped["syntax_error"] is False and capped["syntax_status"] == "too_large"
    slow_source = b"def f(:\n  pass\n" * 200_000
    assert parse_status(parser_for("python"), slow_source, timeout_s=0.01) == ("timeout", 0.0)
    # the parser is reusable after a cancelled parse
    assert parse_status(parser_for("python"), b"x = 1\n", timeout_s=1.0) == ("ok", 0.0)


def test_bad_options() -> None:
    with pytest.raises(ConfigError, match=r"^r.yaml: key 'stages\[2\].options.max_bytes' = 0"):
        build_stage(SyntaxStage, {"max_bytes": 0}, source="r.yaml", key="stages[2].options")
    with pytest.raises(ConfigError, match=r"options.error_tolerance.c' = 1.5: .*less than 1"):
        build_stage(SyntaxStage, {"error_tolerance": {"c": 1.5}}, source="r.yaml",
                    key="stages[2].options")


MACRO_CPP = """#include <torch/extension.h>

#define DISPATCH_NORM(T_TYPE, C_TYPE)           \\
    if (input.options().dtype() == T_TYPE) {   \\
        launch_norm<C_TYPE>(input, output);    \\
    }

void layer_norm(torch::Tensor& input, torch::Tensor& output)
{
    DISPATCH_NORM(kFloat, float);
    DISPATCH_NORM(kHalf, __half)
    TORCH_CHECK(false, "Unsupported dtype")
}

"""
# the rest of a realistic file: plain functions around the macro-heavy one
MACRO_CPP += "".join(
    f"int scale_{i}(int x)\n{{\n    int y = x * {i};\n    return y + {i};\n}}\n\n"
    for i in range(40)
)


def test_c_family_tolerates_macro_noise_but_not_garbage() -> None:
    stage = SyntaxStage()
    doc = {"path": "norm.cpp", "content": MACRO_CPP, "language": None}
    tolerant = stage.signals(doc)
    assert tolerant["syntax_status"] == "tolerated" and not tolerant["syntax_error"]
    assert 0 < tolerant["syntax_error_fraction"] <= 0.05
    strict = SyntaxStage(SyntaxOptions(error_tolerance={})).signals(doc)
    assert strict["syntax_error"] and strict["syntax_status"] == "error"
    garbage = {"path": "x.cpp", "content": "int f( {{ ]] } ) ; < > class" * 20, "language": None}
    assert stage.signals(garbage)["syntax_error"]


def test_installed_c_family_sources_mostly_pass() -> None:
    """Real C/C++ sources of installed packages: few dropped under the default tolerance."""
    venv = Path(__file__).resolve().parents[4] / ".venv" / "lib"
    files = [
        p
        for ext in ("cpp", "c")
        for p in sorted(venv.glob(f"python3*/site-packages/**/*.{ext}"))[:100]
        if p.stat().st_size < 300_000
    ]
    if len(files) < 50:
        pytest.skip("too few installed C/C++ sources")
    stage = SyntaxStage()
    dropped = [
        p.name
        for p in files
        if stage.signals({"path": p.name, "content": p.read_text(errors="replace")})["syntax_error"]
    ]
    assert len(dropped) / len(files) < 0.15, dropped
