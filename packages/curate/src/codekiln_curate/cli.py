"""``codekiln curate``: the sub-command group of codekiln-curate (kept light for ``--help``)."""

from __future__ import annotations

import typer

curate_app = typer.Typer(
    help="""Curate raw code into deduplicated, syntax-checked, decontaminated training data.

Coming (issues 3-4): run RECIPE, report RUN, label, score, shards.""",
    no_args_is_help=True,
)


@curate_app.callback()
def _group() -> None:
    """Curate raw code into deduplicated, syntax-checked, decontaminated training data."""
