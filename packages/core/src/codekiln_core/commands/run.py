"""``codekiln run RECIPE``: a pipeline of codekiln commands, one parent MLflow run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from codekiln_core.cli.contract import CliCommand

QUICKSTART = Path("recipes") / "quickstart.yaml"


def run_command(
    recipe: Annotated[Path | None, typer.Argument(
        help="pipeline recipe YAML; omitted: recipes/quickstart.yaml of the working directory")
    ] = None,
    overrides: Annotated[list[str] | None, typer.Option(
        "--set", help="override a key; steps by name: --set steps.label.enabled=false")] = None,
    from_step: Annotated[str | None, typer.Option(
        "--from", help="start at this step (earlier ones must have finished)")] = None,
    until_step: Annotated[str | None, typer.Option(
        "--until", help="stop after this step")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="print each step's command line and run nothing")] = False,
    seeds: Annotated[str | None, typer.Option(
        "--seeds", help="repeat the seeded steps: a count (3: seeds 0,1,2) or a list "
        "(0,4,7); default: the recipe's seeds")] = None,
) -> None:
    """Run RECIPE's steps in order; a rerun skips finished steps and resumes an interrupted one."""
    from rich.console import Console

    from codekiln_core.cli.console import table_console
    from codekiln_core.errors import ConfigError
    from codekiln_core.pipeline.recipe import load_pipeline

    if recipe is None:
        if not QUICKSTART.is_file():
            raise ConfigError(f"no RECIPE given and no {QUICKSTART} here; pass a pipeline "
                              "recipe, e.g. codekiln run recipes/quickstart.yaml")
        recipe = QUICKSTART
    from codekiln_core.pipeline.seeds import parse_seeds, step_range_name

    parsed = load_pipeline(recipe, list(overrides or []),
                           parse_seeds(seeds) if seeds is not None else None)
    from_step = step_range_name(parsed, from_step, last=False)
    until_step = step_range_name(parsed, until_step, last=True)
    console = Console(stderr=True)
    if dry_run:
        from codekiln_core.pipeline.plan import print_plan

        print_plan(table_console(), parsed, from_step, until_step)
        return
    from codekiln_core.pipeline.artifacts import publish
    from codekiln_core.pipeline.preflight import check_commands
    from codekiln_core.pipeline.runner import PipelineRunner
    from codekiln_core.pipeline.summary import print_summary

    check_commands(parsed)
    runner = PipelineRunner(parsed, console, from_step=from_step, until_step=until_step)
    result = runner.run()
    notes = publish(result, runner.client)  # first: the table lists the plots it wrote
    print_summary(table_console(), result)
    for line in notes:
        console.print(line)
    typer.echo(f"mlflow run: {result.parent_run_id}")
    if not result.ok:
        from codekiln_core.pipeline.runner import StepFailed

        bad = next(s for s in result.steps if s.status in ("failed", "interrupted"))
        raise StepFailed(f"pipeline {result.name}: step {bad.name!r} {bad.status} "
                         f"({bad.note}); fix it and rerun: finished steps are skipped")


COMMAND = CliCommand("run", run_command)
