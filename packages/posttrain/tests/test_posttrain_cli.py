"""codekiln-posttrain is mounted through the hook; commands exist; bad input is one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.main import get_group

from codekiln_core.cli.app import build_app, main
from codekiln_posttrain.cli import posttrain_app


def test_group_is_mounted_by_its_plugin(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "list", "--json"]) == 0
    plugins = json.loads(capsys.readouterr().out)["plugins"]
    mine = [p for p in plugins if p["distribution"] == "codekiln-posttrain"]
    assert mine and {"codekiln_register_commands", "codekiln_register_rewards"} <= set(
        mine[0]["hooks"])
    assert "posttrain" in get_group(build_app()).commands


def test_commands(capsys: pytest.CaptureFixture[str]) -> None:
    group = get_group(posttrain_app)
    assert {"sft", "dpo", "grpo", "data"} <= set(group.commands)
    assert main(["posttrain", "data", "--help"]) == 0
    out = capsys.readouterr().out
    for name in ("instruct", "import", "pairs", "verl"):
        assert name in out


def test_recipe_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = tmp_path / "bad.yaml"
    recipe.write_text("model: x/y\ndata: d.jsonl\noutput: out\nepochs: -1\n")
    assert main(["posttrain", "sft", str(recipe)]) == 2
    err = capsys.readouterr().err.strip()
    assert "epochs" in err and len(err.splitlines()) == 1
    recipe.write_text("model: x/y\ndata: d.jsonl\noutput: out\nengine: {zero_stage: 5}\n")
    assert main(["posttrain", "dpo", str(recipe)]) == 2
    assert "zero_stage" in capsys.readouterr().err


def test_version_names_this_member(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert "codekiln-posttrain 0.1.0" in capsys.readouterr().out
