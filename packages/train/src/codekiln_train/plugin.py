"""codekiln-train's plugin: mounts ``codekiln train``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codekiln_core.hookspecs import hookimpl

if TYPE_CHECKING:
    import typer


@hookimpl
def codekiln_register_commands(app: typer.Typer) -> None:
    from codekiln_train.cli import train_app

    app.add_typer(train_app, name="train")
