"""codekiln-core's own plugin: the ``plugins`` and ``lineage`` command groups."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codekiln_core.hookspecs import hookimpl

if TYPE_CHECKING:
    import typer


@hookimpl
def codekiln_register_commands(app: typer.Typer) -> None:
    from codekiln_core.cli.lineage_cmd import lineage_app
    from codekiln_core.cli.plugins_cmd import plugins_app

    app.add_typer(plugins_app, name="plugins")
    app.add_typer(lineage_app, name="lineage")
