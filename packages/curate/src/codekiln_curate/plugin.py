"""codekiln-curate's plugin: mounts ``codekiln curate``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codekiln_core.hookspecs import hookimpl

if TYPE_CHECKING:
    import typer


@hookimpl
def codekiln_register_commands(app: typer.Typer) -> None:
    from codekiln_curate.cli import curate_app

    app.add_typer(curate_app, name="curate")
