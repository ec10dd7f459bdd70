"""Every registered work command follows the one command contract, and each can run as a
step of ``codekiln run``: walked over whatever packages and plugins are installed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer

from codekiln_core.cli.app import build_app
from codekiln_core.cli.contract import Command
from codekiln_core.pipeline.command import build_argv
from codekiln_core.pipeline.recipe import StepConfig
from codekiln_core.plugins import get_plugin_manager
from codekiln_core.registry import Registry

COMMANDS = sorted((reg.obj for reg in Registry(get_plugin_manager(warn=False))
                   .all("command").values() if isinstance(reg.obj, Command)),
                  key=lambda command: command.name)
#: The contract's flags and the words their help must carry, on every command that has them.
MEANINGS = {"--set": "override any recipe key", "--resume": "continue the interrupted run",
            "--register": "register the resulting model under NAME",
            "--no-lineage": "do not record this run in MLflow lineage"}


@pytest.fixture(scope="module")
def root() -> Any:
    return typer.main.get_command(build_app())


def click_command(root: Any, words: tuple[str, ...]) -> Any:
    node = root
    for word in words:
        assert word in node.commands, f"`codekiln {' '.join(words)}` is not mounted"
        node = node.commands[word]
    return node


def options(command: Any) -> dict[str, Any]:
    return {name: param for param in command.params for name in param.opts
            if not getattr(param, "hidden", False)}


def test_every_installed_package_registers_work_commands() -> None:
    groups = {command.words[0] for command in COMMANDS}
    assert {"curate", "train", "posttrain", "eval", "lineage", "serve-check"} <= groups


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_help_shows_the_contract(root: Any, command: Command[Any]) -> None:
    shown = options(click_command(root, command.words))
    assert "--set" in shown and "--no-lineage" in shown
    assert ("--output" in shown) == (command.output is not None)
    assert ("--resume" in shown) == (command.output is not None and command.resumable)
    assert ("--register" in shown) == command.registers
    for flag, meaning in MEANINGS.items():
        if flag in shown:
            assert meaning in (shown[flag].help or ""), (flag, shown[flag].help)
    if "--output" in shown:
        assert shown["-o"] is shown["--output"]
        assert "must be new or empty" in (shown["--output"].help or "")
    for name, param in shown.items():  # every other flag is a recipe key with its docs
        if name.startswith("--") and name not in (*MEANINGS, "--output", "--help"):
            key = param.name  # typer's parameter name: field_N
            assert param.help, f"{command.name} {name}: no help (a recipe field without a " \
                               f"description?) [{key}]"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_each_command_runs_as_a_pipeline_step(root: Any, command: Command[Any],
                                             tmp_path: Path) -> None:
    """The step's command line, resumed or not, is what the installed CLI parses."""
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("{}\n")
    step = StepConfig(name="s", kind=command.step or command.name, recipe=str(recipe),
                      inputs=["IN"] if command.inputs else [], set={"key": "value"})
    assert step.spec is command
    for resuming in (False, True):
        argv = build_argv(step, lambda name, field: "", recipe_file=recipe,
                          output=tmp_path / "out" if step.has_output else None,
                          resuming=resuming)
        assert argv[:len(command.words)] == list(command.words)
        words = argv[len(command.words):]
        click_command(root, command.words).make_context(command.name, list(words))
        assert ("--resume" in words) == (resuming and command.resumable)
