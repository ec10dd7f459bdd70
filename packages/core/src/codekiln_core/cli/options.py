"""Options every command group shares, defined once so `--help` reads the same everywhere.

Use them as parameter annotations in a command module::

    from codekiln_core.cli.options import NoLineage, Overrides

    def pretrain_command(..., overrides: Overrides = None, no_lineage: NoLineage = False):
        ...

Typer reads the ``Annotated`` metadata, so the flag name, default and help text live here only.
"""

from __future__ import annotations

from typing import Annotated

import typer

#: ``--no-lineage``: run without recording anything in MLflow (no store is created).
NoLineage = Annotated[bool, typer.Option(
    "--no-lineage", help="do not record this run in MLflow lineage (no store is created)")]

#: ``--set KEY=VALUE`` (repeatable): override a recipe key; the value is parsed as YAML.
Overrides = Annotated[list[str] | None, typer.Option(
    "--set", metavar="KEY=VALUE",
    help="override a recipe key, e.g. --set workers=4 (value parsed as YAML)")]


def echo_run(run_id: str | None) -> None:
    """The closing ``mlflow run: <id>`` line every recording command prints."""
    if run_id:
        typer.echo(f"mlflow run: {run_id}")
