"""heuristics signals on the tiny corpus and real stdlib files."""

from __future__ import annotations

import sysconfig
from pathlib import Path

from codekiln_core.stages import SignalStage
from codekiln_curate.stages import DEFAULT_GATES, FIRST_PARTY_STAGES
from codekiln_curate.stages.heuristics import HeuristicsStage, literal_fraction, looks_delimited

STDLIB = Path(sysconfig.get_paths()["stdlib"])


def test_contract() -> None:
    stage = HeuristicsStage()
    assert isinstance(stage, SignalStage)
    names = [name for name, _, _ in FIRST_PARTY_STAGES]
    assert names == ["language-id", "heuristics", "syntax", "decontaminate", "quality-score",
                     "exact-dedup", "near-dedup"]
    gated = {gate["signal"] for gate in DEFAULT_GATES}
    assert gated <= {
        c for _, cls, _ in FIRST_PARTY_STAGES for c in getattr(cls, "signal_columns", {})
    }
    assert {"signal": "num_lines", "min": 5} in DEFAULT_GATES


def test_signals_on_tiny_corpus(tiny_code_corpus: Path) -> None:
    stage = HeuristicsStage()
    ops = (tiny_code_corpus / "calc" / "ops.py").read_text()
    sig = stage.signals({"path": "calc/ops.py", "content": ops, "language": "python"})
    lines = ops.splitlines()
    assert sig["num_lines"] == len(lines) == 10
    assert sig["max_line_length"] == max(map(len, lines))
    assert abs(sig["avg_line_length"] - sum(map(len, lines)) / len(lines)) < 1e-9
    assert 0.25 < sig["alnum_fraction"] < 1.0
    assert sig["is_data_file"] is False
    settings = (tiny_code_corpus / "config" / "settings.json").read_text()
    short = stage.signals({"path": "config/settings.json", "content": settings, "language": None})
    assert short["num_lines"] == 5 and short["is_data_file"] is False  # small config kept


def test_empty_file() -> None:
    sig = HeuristicsStage().signals({"path": "a.py", "content": "", "language": "python"})
    assert sig["num_lines"] == 0 and sig["alnum_fraction"] == 0.0


def test_data_files_are_flagged() -> None:
    stage = HeuristicsStage()
    long_json = (
        "[\n" + ",\n".join(f'  {{"id": {i}, "name": "item{i}"}}' for i in range(300)) + "\n]"
    )
    csv = "\n".join(f"{i},{i * 2},label{i}" for i in range(50))
    table_py = "TABLE = [\n" + "\n".join(
        f"    ({i}, {i * i}, 0x{i:04x}, 'k{i}')," for i in range(60)
    )
    for path, content in [("data.json", long_json), ("rows.txt", csv), ("t.py", table_py + "\n]")]:
        assert stage.signals({"path": path, "content": content, "language": None})["is_data_file"]


def test_real_code_is_not_data_but_real_tables_are() -> None:
    stage = HeuristicsStage()
    code_files = ["argparse.py", "functools.py", "http/server.py", "json/decoder.py", "ast.py"]
    for rel in code_files:
        doc = {"path": rel, "content": (STDLIB / rel).read_text(), "language": "python"}
        assert not stage.signals(doc)["is_data_file"], rel
    for rel in ["html/entities.py", "_compat_pickle.py"]:  # name tables, mostly literals
        doc = {"path": rel, "content": (STDLIB / rel).read_text(), "language": "python"}
        assert stage.signals(doc)["is_data_file"], rel


def test_stdlib_false_positive_rate_is_low() -> None:
    stage = HeuristicsStage()
    files = [p for p in sorted(STDLIB.rglob("*.py")) if "site-packages" not in p.parts][:800]
    flagged = [
        p
        for p in files
        if stage.signals({"path": p.name, "content": p.read_text(errors="replace")})["is_data_file"]
    ]
    assert len(files) == 800
    assert len(flagged) / len(files) < 0.02  # measured 0.6%: html.entities, _compat_pickle, ...


def test_helpers() -> None:
    assert literal_fraction("x = 1") < literal_fraction("'aaaaaaaa'")
    assert looks_delimited([f"a\t{i}\tc" for i in range(12)])
    assert not looks_delimited(["def f(a, b):", "    return g(a, b, c)"] * 6)
