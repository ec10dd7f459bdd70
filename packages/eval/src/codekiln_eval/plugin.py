"""codekiln-eval's plugin: mounts ``codekiln eval`` and registers the benchmarks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codekiln_core.hookspecs import Register, hookimpl

if TYPE_CHECKING:
    import typer


@hookimpl
def codekiln_register_commands(app: typer.Typer) -> None:
    from codekiln_eval.cli import eval_app

    app.add_typer(eval_app, name="eval")


@hookimpl
def codekiln_register_benchmarks(register: Register) -> None:
    """Each benchmark class; ``cls(data=PATH, **options)`` loads it, offline or from the hub."""
    from codekiln_eval.benchmarks import all_benchmarks, describe

    for cls in all_benchmarks():
        register(cls.name, cls, description=describe(cls))
