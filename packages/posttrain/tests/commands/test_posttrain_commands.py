"""codekiln-posttrain's commands are registered through the hook and follow the command
contract: the same flags everywhere, outputs refused without --resume, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_group

from codekiln_core.cli.app import build_app, main
from codekiln_core.cli.contract import Command
from codekiln_core.cli.modules import register_modules

from ..conftest import rl_rows, write_jsonl

#: name -> (step, output kind, resumable, registers, INPUT key)
CONTRACT: dict[str, tuple[str | None, str | None, bool, bool, str]] = {
    "posttrain.sft": ("sft", "dir", True, True, "data"),
    "posttrain.dpo": ("dpo", "dir", True, True, "data"),
    "posttrain.grpo": ("grpo", "dir", True, True, "data"),
    "posttrain.data.instruct": ("instruct", "dir", True, False, "curated"),
    "posttrain.data.import": ("import", "file", False, False, "source"),
    "posttrain.data.from-code": ("from-code", "file", False, False, "curated"),
    "posttrain.data.pairs": ("pairs", "file", False, False, "prompts"),
    "posttrain.data.verl": (None, "file", False, False, "prompts"),
}


def registered() -> dict[str, Any]:
    found: dict[str, Any] = {}
    register_modules(lambda name, obj: found.setdefault(name, obj), "codekiln_posttrain.commands")
    return found


def test_group_is_mounted_by_its_plugin(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "list", "--json"]) == 0
    plugins = json.loads(capsys.readouterr().out)["plugins"]
    mine = [p for p in plugins if p["distribution"] == "codekiln-posttrain"]
    assert mine and {"codekiln_register_commands", "codekiln_register_rewards"} <= set(
        mine[0]["hooks"])
    group = get_group(build_app()).commands["posttrain"]
    assert {"sft", "dpo", "grpo", "data"} <= set(group.commands)  # type: ignore[attr-defined]


def test_every_command_has_the_contracts_flags(capsys: pytest.CaptureFixture[str]) -> None:
    found = registered()
    commands = {name: c for name, c in found.items() if isinstance(c, Command)}
    assert set(commands) == set(CONTRACT)
    assert {"posttrain", "posttrain.data"} <= set(found)  # the groups' help
    for name, command in commands.items():
        step, output, resumable, registers, inputs = CONTRACT[name]
        assert (command.step, command.output, command.resumable, command.registers,
                command.inputs) == (step, output, resumable, registers, inputs), name
        assert main([*command.words, "--help"]) == 0
        shown = capsys.readouterr().out
        assert all(flag in shown for flag in ("--set", "--output", "--no-lineage")), name
        assert ("--resume" in shown) == resumable, name
        assert ("--register" in shown) == registers, name
        assert inputs.upper() in shown, name


def test_recipe_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = tmp_path / "bad.yaml"
    recipe.write_text("model: x/y\ndata: d.jsonl\noutput: out\nepochs: -1\n")
    assert main(["posttrain", "sft", str(recipe)]) == 2
    err = capsys.readouterr().err.strip()
    assert "epochs" in err and len(err.splitlines()) == 1
    recipe.write_text("model: x/y\ndata: d.jsonl\noutput: out\nengine: {zero_stage: 5}\n")
    assert main(["posttrain", "dpo", str(recipe)]) == 2
    assert "zero_stage" in capsys.readouterr().err


def test_cross_key_errors_are_one_line(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    prompts = tmp_path / "rl.jsonl"
    prompts.write_text("{}\n")
    out = str(tmp_path / "p.jsonl")
    assert main(["posttrain", "data", "pairs", str(prompts), "-o", out, "--no-lineage"]) == 2
    assert "exactly one of model" in capsys.readouterr().err
    assert main(["posttrain", "data", "pairs", str(prompts), "-o", out, "--endpoint",
                 "http://127.0.0.1:9/v1", "--no-lineage"]) == 2
    assert "endpoint_model" in capsys.readouterr().err
    assert main(["posttrain", "grpo", str(prompts), "--model", "x/y", "-o", out,
                 "--set", "grpo.stages=[{steps: 1, max_new_tokens: 4, rollouts: 2}]",
                 "--dry-run", "--no-lineage"]) == 2
    err = capsys.readouterr().err.strip()
    assert "applies to backend verl only" in err and len(err.splitlines()) == 1
    assert main(["posttrain", "grpo", str(prompts), "--model", "x/y", "-o", out,
                 "--set", "grpo.stages=[{steps: 1, max_new_tokens: 4, rollouts: 2}]",
                 "--backend", "verl", "--launcher", "deepspeed", "--no-lineage"]) == 2
    err = capsys.readouterr().err.strip()
    assert "use launcher none with backend verl" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(("argv", "hint"), [
    (["posttrain", "sft", "--model", "x/y"], "pass --resume"),
    (["posttrain", "dpo", "--model", "x/y"], "pass --resume"),
    (["posttrain", "grpo", "--model", "x/y", "--set",
      "grpo.stages=[{steps: 1, max_new_tokens: 4, rollouts: 2}]"], "pass --resume"),
    (["posttrain", "data", "pairs", "--model", "x/y"], "does not resume"),
])
def test_an_existing_output_is_refused_before_any_work(
        argv: list[str], hint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "missing.jsonl"  # never read: the output rule comes first
    out = tmp_path / "out"
    out.mkdir()
    (out / "metrics.jsonl").write_text("{}\n")
    assert main([*argv, str(data), "--output", str(out), "--no-lineage"]) == 2
    err = capsys.readouterr().err.strip()
    assert str(out) in err and hint in err and len(err.splitlines()) == 1


def test_grpo_dry_run_writes_verls_dataset_and_shows_its_command(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prompts = write_jsonl(tmp_path / "rl.jsonl", rl_rows())
    out = tmp_path / "grpo"
    argv = ["posttrain", "grpo", str(prompts), "--model", "org/model", "--backend", "verl",
            "--dry-run", "-o", str(out), "--no-lineage", "--set", "decontamination.enabled=false",
            "--set", "grpo.stages=[{steps: 2, max_new_tokens: 64, rollouts: 4}]"]
    assert main(argv) == 0
    shown = capsys.readouterr().out
    assert f"verl dataset: {out / 'verl' / 'train.parquet'}" in shown
    assert "verl.trainer.main_ppo" in shown and "actor_rollout_ref.rollout.n=4" in shown
    assert (out / "verl" / "train.parquet").is_file()


def test_version_names_this_member(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert "codekiln-posttrain 0.1.0" in capsys.readouterr().out
