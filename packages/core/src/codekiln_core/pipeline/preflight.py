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
        missing = _missing(root, list(step.argv_prefix))
        if missing is not None:
            note = " (a planned command: it lands with a later release)" \
                if step.spec.planned else ""
            raise ConfigError(
                f"step {step.name!r} (kind {step.kind}) runs `codekiln "
                f"{' '.join(step.argv_prefix)}`, but `codekiln {missing}` is not installed"
                f"{note}; disable it with --set steps.{step.name}.enabled=false")


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
