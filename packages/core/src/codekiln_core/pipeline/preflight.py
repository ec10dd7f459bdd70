"""Before anything runs: every enabled step's sub-command must exist in this installation."""

from __future__ import annotations

from typing import Any

from codekiln_core.errors import ConfigError
from codekiln_core.pipeline.recipe import PipelineRecipe


def check_commands(recipe: PipelineRecipe) -> None:
    """A one-line error naming the step and the missing command, before step 1 starts."""
    import typer

    from codekiln_core.cli.app import build_app

    root = typer.main.get_command(build_app())
    for step in recipe.steps:
        if not step.enabled:
            continue
        words = list(step.spec.words)
        missing = _missing(root, words)
        if missing is not None:
            raise ConfigError(
                f"step {step.name!r} (kind {step.kind}) runs `codekiln {' '.join(words)}`, "
                f"but `codekiln {missing}` is not installed; disable it with "
                f"--set steps.{step.name}.enabled=false")


def _missing(root: Any, words: list[str]) -> str | None:
    node = root
    path: list[str] = []
    for word in words:
        path.append(word)
        commands = getattr(node, "commands", None)
        if not isinstance(commands, dict) or word not in commands:
            return " ".join(path)
        node = commands[word]
    return None
