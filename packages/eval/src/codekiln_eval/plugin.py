"""codekiln-eval's plugin: mounts ``codekiln eval``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codekiln_core.hookspecs import hookimpl

if TYPE_CHECKING:
    import typer


@hookimpl
def codekiln_register_commands(app: typer.Typer) -> None:
    from codekiln_eval.cli import eval_app

    app.add_typer(eval_app, name="eval")
