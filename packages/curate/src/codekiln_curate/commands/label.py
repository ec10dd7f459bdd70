"""``codekiln curate label``: rate sampled files with a teacher model (see docs/labeling.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from codekiln_core.cli.options import NoLineage, Overrides, echo_run


def register(app: typer.Typer) -> None:
    app.command("label")(label_command)


def label_command(
    dataset: Annotated[Path, typer.Argument(
        help="curated dataset (output dir of `curate run`), a Parquet file, or a source dir")],
    output: Annotated[Path, typer.Option("--output", "-o", help="output directory")],
    recipe: Annotated[Path | None, typer.Option(
        "--recipe", help="label recipe YAML (teacher, sampling, cache)")] = None,
    overrides: Overrides = None,
    no_lineage: NoLineage = False,
) -> None:
    """Label a per-language sample of DATASET 0-10 with the Seed-Coder rubric."""
    from codekiln_curate.label.recipe import load_label_recipe
    from codekiln_curate.label.run import run_labeling

    parsed = load_label_recipe(recipe, list(overrides or []))
    note = parsed.sampling.precedence_note()
    if note:
        typer.echo(f"note: {note}", err=True)
    result = run_labeling(dataset, output, parsed, lineage=not no_lineage, recipe_file=recipe)
    stats = result.stats
    typer.echo(f"labeled {stats['labeled']} of {stats['sampled']} sampled files "
               f"({stats['unparsable']} unparsable, {stats['failed']} failed; "
               f"{stats['requests']} requests, {stats['cache_hits']} cache hits)")
    typer.echo(f"labels: {result.labels}")
    echo_run(result.run_id)
