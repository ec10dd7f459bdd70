"""The default recipe's output is decontaminated: a planted HumanEval solution is dropped."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

import codekiln_benchmark_data
from codekiln_core.lineage.run import LineageRun
from codekiln_curate.engine.curation import run_curation
from codekiln_curate.recipe import CurateRecipe, default_recipe_text


def humaneval_item(number: int) -> dict[str, str]:
    with gzip.open(codekiln_benchmark_data.path("humaneval"), "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh][number]


@pytest.mark.slow
def test_default_recipe_drops_a_planted_humaneval_solution(
        tmp_path: Path, tiny_code_corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODEKILN_BENCHMARK_DATA", raising=False)  # bundled data only
    item = humaneval_item(12)
    planted = tiny_code_corpus / "pkg" / "strings_util.py"
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.write_text('"""String helpers."""\n\n' + item["prompt"] + item["canonical_solution"]
                       + "\n\nif __name__ == '__main__':\n    print(longest(['a', 'bb']))\n")
    recipe = yaml.safe_load(default_recipe_text())
    decontaminate = next(s for s in recipe["stages"] if s["name"] == "decontaminate")
    assert decontaminate.get("enabled", True) and decontaminate["options"]["ngram"] == 10
    # The default recipe as shipped, on a small corpus instead of the stdlib + this repo.
    recipe.update(inputs=[{"kind": "dir", "path": str(tiny_code_corpus), "name": "tiny"}],
                  output=str(tmp_path / "out"), workers=1)
    result = run_curation(CurateRecipe.model_validate(recipe), LineageRun(None))

    dropped = pq.read_table(tmp_path / "out" / "dropped").to_pylist()
    hit = [d for d in dropped if d["path"].endswith("strings_util.py")]
    assert [(d["drop_stage"], d["drop_reason"]) for d in hit] == [
        ("decontaminate", "contaminated:humaneval")]
    kept = pq.read_table(tmp_path / "out" / "data").column("path").to_pylist()
    assert kept and not any(p.endswith("strings_util.py") for p in kept)
    reasons = result.summary["stages"]["decontaminate"]["reasons"]
    assert reasons["contaminated:humaneval"][0] == 1
