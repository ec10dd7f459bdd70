"""codekiln-posttrain's plugin: mounts ``codekiln posttrain``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codekiln_core.hookspecs import hookimpl

if TYPE_CHECKING:
    import typer


@hookimpl
def codekiln_register_commands(app: typer.Typer) -> None:
    from codekiln_posttrain.cli import posttrain_app

    app.add_typer(posttrain_app, name="posttrain")
