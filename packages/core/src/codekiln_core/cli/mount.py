"""The root CLI's command tree, built from the registered commands and groups.

``train.pretrain`` mounts as ``codekiln train pretrain``; the groups on its path exist
whether or not a :class:`Group` was registered for them (one with no help says so).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import typer

from codekiln_core.cli.contract import CliCommand, Command, Group, Registered
from codekiln_core.cli.typer_command import typer_function
from codekiln_core.config import model_help


def group_app(help_text: str) -> typer.Typer:
    """A sub-command group with the settings every group shares: it stays a group while it
    holds a single command, and prints its help when called bare."""
    group = typer.Typer(help=help_text, no_args_is_help=True, rich_markup_mode=None)

    @group.callback()
    def _group() -> None:
        pass

    _group.__doc__ = help_text
    return group


def mount_registered(app: typer.Typer, registered: Iterable[Registered]) -> None:
    """Mount every command under its groups on ``app`` (groups first, then by name)."""
    items = sorted(registered, key=lambda r: (not isinstance(r, Group), r.name))
    groups: dict[tuple[str, ...], typer.Typer] = {(): app}
    helps = {tuple(r.name.split(".")): r.help for r in items if isinstance(r, Group)}
    for item in items:
        words = tuple(item.name.split("."))
        parent = _group_for(groups, helps, words[:-1])
        if isinstance(item, Group):
            _group_for(groups, helps, words)
        elif isinstance(item, CliCommand):
            parent.command(words[-1], help=item.help or None)(item.function)
        else:
            _mount_command(parent, words[-1], item)


def _group_for(groups: dict[tuple[str, ...], typer.Typer],
               helps: dict[tuple[str, ...], str], words: tuple[str, ...]) -> typer.Typer:
    if words not in groups:
        parent = _group_for(groups, helps, words[:-1])
        help_text = helps.get(words) or f"codekiln {' '.join(words)} commands."
        groups[words] = group_app(help_text)
        parent.add_typer(groups[words], name=words[-1], help=help_text)
    return groups[words]


def _mount_command(parent: typer.Typer, word: str, command: Command[Any]) -> None:
    # "\b" keeps click from re-wrapping the key list into one paragraph.
    epilog = "Recipe keys (in RECIPE, or --set KEY=VALUE):\n\n\b\n" + model_help(command.recipe)
    parent.command(word, help=command.help, epilog=epilog)(typer_function(command))
