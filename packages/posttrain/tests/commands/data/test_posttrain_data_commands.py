"""The data commands through the CLI: recipe file, INPUT and flags reach the recipe, the
output is written whole and never replaced, a bundled source is recorded as its real file.
(Their lineage through MLflow is checked with SFT's, in test_posttrain_sft_dpo_lineage.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codekiln_core.cli.app import main
from codekiln_posttrain.chat.datasets import read_rows
from codekiln_posttrain.data.importing import ImportConfig, import_inputs

from ...conftest import rl_rows, write_jsonl

DOCUMENTED = '''\
def clamp(value: float, low: float, high: float) -> float:
    """Limit value to the closed range [low, high], whichever side it falls out of."""
    if value < low:
        return low
    if value > high:
        return high
    return value
'''


def test_from_code_then_import_and_no_output_is_replaced(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    curated = write_jsonl(tmp_path / "curated.jsonl", [
        {"id": "c", "language": "python", "content": DOCUMENTED, "quality_score": 3.0}])
    recipe = tmp_path / "from-code.yaml"
    recipe.write_text("limit: 5\nmin_body_lines: 7\n")
    sft = tmp_path / "sft.jsonl"
    argv = ["posttrain", "data", "from-code", str(recipe), str(curated), "-o", str(sft),
            "--no-lineage"]
    assert main(argv) == 2  # the recipe's min_body_lines leaves no function
    assert "loosen them" in capsys.readouterr().err and not sft.exists()
    assert main([*argv, "--min-body-lines", "2"]) == 0  # a flag beats the recipe file
    (row,) = read_rows(sft, "sft")
    assert "def clamp(value: float" in row["messages"][0]["content"]
    again = tmp_path / "again.parquet"
    assert main(["posttrain", "data", "import", str(sft), "-o", str(again),
                 "--no-lineage"]) == 0
    assert read_rows(again, "sft")[0]["messages"] == row["messages"]
    assert main(["posttrain", "data", "import", str(sft), "-o", str(again),
                 "--format", "alpaca", "--no-lineage"]) == 2
    assert "choose a new --output" in capsys.readouterr().err  # refused before any work
    assert read_rows(again, "sft")[0]["messages"] == row["messages"]


def test_bundled_mbpp_is_recorded_as_the_real_file(tmp_path: Path) -> None:
    import codekiln_benchmark_data

    config = ImportConfig(source="bundled:mbpp", output=tmp_path / "m.jsonl", format="mbpp")
    (source,) = import_inputs(config)
    assert source.source == str(codekiln_benchmark_data.path("mbpp").resolve())
    assert source.name == "sft-source" and source.digest


def test_verl_dataset(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    prompts = write_jsonl(tmp_path / "rl.jsonl", rl_rows())
    out = tmp_path / "v.parquet"
    assert main(["posttrain", "data", "verl", str(prompts), "-o", str(out), "--no-lineage"]) == 0
    rows = pq.read_table(out).to_pylist()
    assert len(rows) == len(rl_rows()) and rows[0]["data_source"] == "codekiln/code-tests"
    assert json.loads(rows[0]["reward_model"]["ground_truth"])["tests"] == rl_rows()[0]["tests"]
