"""``codekiln curate run``: run a recipe (read, filter, dedup, write, report); resumable."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from codekiln_core.cli.options import NoLineage, Overrides, echo_run


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)


def run_command(
    recipe: Annotated[Path | None, typer.Argument(
        help="recipe YAML; omitted: the embedded default (stdlib + this git repo)")] = None,
    overrides: Overrides = None,
    workers: Annotated[int | None, typer.Option("--workers", "-w",
                                                help="worker processes")] = None,
    executor: Annotated[str | None, typer.Option("--executor", help="local or ray")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="output directory")] = None,
    no_lineage: NoLineage = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bars")] = False,
) -> None:
    """Run RECIPE: read, filter, dedup, write Parquet + report; resumes an interrupted run."""
    from codekiln_curate.recipe import load_curate_recipe, recipe_source

    sets = list(overrides or [])
    if workers is not None:
        sets.append(f"workers={workers}")
    if executor is not None:
        sets.append(f"executor={executor}")
    if output is not None:
        sets.append(f"output={output}")
    parsed = load_curate_recipe(recipe, sets)
    from rich.console import Console

    from codekiln_core.cli.console import table_console
    from codekiln_curate.console import print_summary, progress_bars
    from codekiln_curate.engine.driver import run_curation

    console = Console(stderr=True)
    with progress_bars(console, enabled=not quiet) as progress:
        result = run_curation(parsed, lineage=not no_lineage, progress=progress,
                              recipe_file=recipe_source(recipe))
    print_summary(table_console(), result.summary)
    typer.echo(f"output: {result.out_dir}")
    typer.echo(f"report: {result.out_dir / 'report.md'}")
    echo_run(result.run_id)
