"""Teacher-free instructions from curated code, and the bundled MBPP source."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codekiln_core.errors import ConfigError
from codekiln_core.lineage import LineageRun
from codekiln_posttrain.chat.datasets import read_rows
from codekiln_posttrain.data.from_code import (
    FromCodeConfig,
    from_code_rows,
    function_tasks,
    instructions_from_code,
)
from codekiln_posttrain.data.importing import ImportConfig, bundled_source, import_sft_set

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


OPTIONS = FromCodeConfig(curated=Path("curated"), output=Path("sft.jsonl"))


def test_function_tasks_keep_documented_public_functions() -> None:
    tasks = function_tasks(DOCUMENTED, OPTIONS)
    assert len(tasks) == 1
    prompt, answer = tasks[0]
    assert "def hypotenuse(a: float, b: float) -> float:" in prompt
    assert "never overflowing" in prompt
    assert answer.startswith("```python\ndef hypotenuse") and "math.sqrt" in answer
    assert function_tasks("def broken(:\n", OPTIONS) == []


def test_rows_rank_by_score_dedup_and_limit() -> None:
    other = DOCUMENTED.replace("hypotenuse", "leg_length")
    rows = [{"id": "a", "language": "python", "content": DOCUMENTED, "quality_score": 1.0},
            {"id": "b", "language": "python", "content": other, "quality_score": 9.0},
            {"id": "c", "language": "python", "content": DOCUMENTED, "quality_score": 0.5},
            {"id": "d", "language": "rust", "content": DOCUMENTED, "quality_score": 10.0}]
    out = from_code_rows(rows, OPTIONS)
    assert [r["messages"][0]["content"].count("leg_length") > 0 for r in out] == [True, False]
    assert len({r["id"] for r in out}) == 2  # the copy in file c is dropped
    assert len(from_code_rows(rows, OPTIONS.model_copy(update={"limit": 1}))) == 1


def test_from_code_writes_valid_sft_rows_or_says_what_to_loosen(tmp_path: Path) -> None:
    curated = tmp_path / "curated.jsonl"
    curated.write_text(json.dumps({"id": "x", "language": "python", "content": DOCUMENTED}) + "\n")
    config = FromCodeConfig(curated=curated, output=tmp_path / "sft.jsonl")
    assert instructions_from_code(config, LineageRun(None)) == {"files": 1, "rows": 1}
    assert len(read_rows(config.output, "sft")) == 1
    strict = config.model_copy(update={"min_doc_chars": 1000, "output": tmp_path / "no.jsonl"})
    with pytest.raises(ConfigError, match="loosen them"):
        instructions_from_code(strict, LineageRun(None))
    assert not strict.output.exists()


def test_bundled_mbpp_imports_the_train_split_only(tmp_path: Path) -> None:
    out = tmp_path / "mbpp.jsonl"
    summary = import_sft_set(ImportConfig(source="bundled:mbpp", output=out, format="mbpp"),
                             LineageRun(None))
    rows = read_rows(out, "sft")
    assert summary["rows"] == len(rows) == 374  # task ids 601-974
    assert all(601 <= int(r["id"].split("-")[1]) <= 974 for r in rows)
    with pytest.raises(ConfigError, match="bundled:nope"):
        bundled_source("bundled:nope")
