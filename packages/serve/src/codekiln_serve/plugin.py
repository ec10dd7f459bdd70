"""codekiln-serve's plugin: mounts ``codekiln serve``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codekiln_core.hookspecs import hookimpl

if TYPE_CHECKING:
    import typer


@hookimpl
def codekiln_register_commands(app: typer.Typer) -> None:
    from codekiln_serve.cli import serve_app

    app.add_typer(serve_app, name="serve")
