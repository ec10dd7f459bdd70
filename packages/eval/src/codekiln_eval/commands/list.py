"""``codekiln eval list``: the registered benchmarks and their licence notes."""

from __future__ import annotations

import typer

from codekiln_core.cli.contract import CliCommand


def list_command() -> None:
    """Registered benchmarks, with their license notes."""
    # warn=False: the root CLI already reported broken plugins once, on start-up
    from codekiln_core.plugins import get_plugin_manager
    from codekiln_core.registry import Registry

    for name, reg in sorted(Registry(get_plugin_manager(warn=False)).all("benchmark").items()):
        typer.echo(f"{name:24s} {reg.description}")


COMMAND = CliCommand("eval.list", list_command)
