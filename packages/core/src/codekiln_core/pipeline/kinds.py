"""Step kinds: every registered :class:`~codekiln_core.cli.contract.Command` is one.

A step names its command by the dotted name (``curate.samples.repos``) or by the short
``step`` name the command declares (``pretrain``). How the step's recipe, inputs and output
reach the command, whether a rerun resumes, and which metrics the summary shows all come
from the command itself, so a plugin's command is a pipeline step with no edit here.
"""

from __future__ import annotations

from typing import Any

from codekiln_core.cli.contract import Command
from codekiln_core.errors import ConfigError


def step_commands() -> dict[str, Command[Any]]:
    """Every registered work command by dotted name and by step name."""
    from codekiln_core.plugins import shared_plugin_manager
    from codekiln_core.registry import Registry

    found: dict[str, Command[Any]] = {}
    for registration in Registry(shared_plugin_manager()).all("command").values():
        command = registration.obj
        if isinstance(command, Command):
            found[command.name] = command
            if command.step:
                found.setdefault(command.step, command)
    return found


def kind_names() -> list[str]:
    return sorted(step_commands())


def command_for(kind: str, where: str = "") -> Command[Any]:
    """The command a step of ``kind`` runs, or a one-line error listing the kinds."""
    commands = step_commands()
    if kind not in commands:
        prefix = f"{where} = {kind!r}: " if where else f"step kind {kind!r}: "
        raise ConfigError(f"{prefix}unknown step kind; kinds (registered commands): "
                          f"{', '.join(sorted(commands))}")
    return commands[kind]
