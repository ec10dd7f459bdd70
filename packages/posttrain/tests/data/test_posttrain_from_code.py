"""Teacher-free instructions from curated code, the bundled MBPP source, several SFT files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codekiln_core.cli.app import main
from codekiln_core.errors import ConfigError
from codekiln_posttrain.chat.datasets import read_rows
from codekiln_posttrain.data.from_code import FromCodeConfig, from_code_rows, function_tasks
from codekiln_posttrain.data.runs import bundled_source, import_run
from codekiln_posttrain.recipe import SftRecipe

DOCUMENTED = '''\
import math


def hypotenuse(a: float, b: float) -> float:
    """Length of the hypotenuse of a right triangle with legs a and b, never overflowing."""
    a, b = abs(a), abs(b)
    big, small = max(a, b), min(a, b)
    if big == 0:
        return 0.0
    return big * math.sqrt(1 + (small / big) ** 2)


def _private(x):
    """A private helper that users never call directly, so it is not a task."""
    y = x
    z = y
    return z


def short(x):
    """Too short a docstring."""
    return x


@staticmethod
def decorated(x):
    """Decorated functions change meaning with their decorator, so they are skipped."""
    y = x
    z = y
    return z
'''


def test_function_tasks_keep_documented_public_functions() -> None:
    tasks = function_tasks(DOCUMENTED, FromCodeConfig())
    assert len(tasks) == 1
    prompt, answer = tasks[0]
    assert "def hypotenuse(a: float, b: float) -> float:" in prompt
    assert "never overflowing" in prompt
    assert answer.startswith("```python\ndef hypotenuse") and "math.sqrt" in answer
    assert function_tasks("def broken(:\n", FromCodeConfig()) == []


def test_rows_rank_by_score_dedup_and_limit() -> None:
    other = DOCUMENTED.replace("hypotenuse", "leg_length")
    rows = [{"id": "a", "language": "python", "content": DOCUMENTED, "quality_score": 1.0},
            {"id": "b", "language": "python", "content": other, "quality_score": 9.0},
            {"id": "c", "language": "python", "content": DOCUMENTED, "quality_score": 0.5},
            {"id": "d", "language": "rust", "content": DOCUMENTED, "quality_score": 10.0}]
    out = from_code_rows(rows, FromCodeConfig())
    assert [r["messages"][0]["content"].count("leg_length") > 0 for r in out] == [True, False]
    assert len({r["id"] for r in out}) == 2  # the copy in file c is dropped
    assert len(from_code_rows(rows, FromCodeConfig(limit=1))) == 1


def test_cli_from_code_writes_valid_sft_rows(tmp_path: Path) -> None:
    curated = tmp_path / "curated.jsonl"
    curated.write_text(json.dumps({"id": "x", "language": "python", "content": DOCUMENTED}) + "\n")
    out = tmp_path / "sft.jsonl"
    assert main(["posttrain", "data", "from-code", str(curated), "-o", str(out),
                 "--no-lineage"]) == 0
    assert len(read_rows(out, "sft")) == 1
    assert main(["posttrain", "data", "from-code", str(curated), "-o", str(out),
                 "--set", "min_doc_chars=1000", "--no-lineage"]) != 0


def test_bundled_mbpp_imports_the_train_split_only(tmp_path: Path) -> None:
    out = tmp_path / "mbpp.jsonl"
    summary = import_run(Path("bundled:mbpp"), out, "mbpp", lineage=False)
    rows = read_rows(out, "sft")
    assert summary["rows"] == len(rows) == 374  # task ids 601-974
    assert all(601 <= int(r["id"].split("-")[1]) <= 974 for r in rows)
    with pytest.raises(ConfigError, match="bundled:nope"):
        bundled_source(Path("bundled:nope"))


def test_sft_recipe_takes_one_path_or_several(tmp_path: Path) -> None:
    base = {"model": "m", "output": str(tmp_path / "o")}
    assert SftRecipe.model_validate({**base, "data": "a.jsonl"}).data == [Path("a.jsonl")]
    both = SftRecipe.model_validate({**base, "data": ["a.jsonl", "b"]}).data
    assert both == [Path("a.jsonl"), Path("b")]
    first, second = tmp_path / "1.jsonl", tmp_path / "2.jsonl"
    row = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    for path in (first, second):
        path.write_text(json.dumps(row) + "\n")
    assert len(read_rows([first, second], "sft")) == 2
