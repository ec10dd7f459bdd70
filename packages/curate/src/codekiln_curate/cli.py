"""``codekiln curate``: run a recipe, print a run's report (kept light for ``--help``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

curate_app = typer.Typer(
    help="Curate raw code into deduplicated, syntax-checked, decontaminated training data.",
    no_args_is_help=True,
)


@curate_app.callback()
def _group() -> None:
    """Curate raw code into deduplicated, syntax-checked, decontaminated training data."""


@curate_app.command("run")
def run_command(
    recipe: Annotated[Path | None, typer.Argument(
        help="recipe YAML; omitted: the embedded default (stdlib + this git repo)")] = None,
    overrides: Annotated[list[str] | None, typer.Option(
        "--set", help="override a recipe key, e.g. --set limits.shard_files=200")] = None,
    workers: Annotated[int | None, typer.Option("--workers", "-w",
                                                help="worker processes")] = None,
    executor: Annotated[str | None, typer.Option("--executor", help="local or ray")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="output directory")] = None,
    no_lineage: Annotated[bool, typer.Option("--no-lineage",
                                             help="do not log to MLflow")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bars")] = False,
) -> None:
    """Run RECIPE: read, filter, dedup, write Parquet + report; resumes an interrupted run."""
    from codekiln_curate.recipe import load_curate_recipe

    sets = list(overrides or [])
    if workers is not None:
        sets.append(f"workers={workers}")
    if executor is not None:
        sets.append(f"executor={executor}")
    if output is not None:
        sets.append(f"output={output}")
    parsed = load_curate_recipe(recipe, sets)
    from rich.console import Console

    from codekiln_curate.console import print_summary, progress_bars
    from codekiln_curate.engine.driver import run_curation

    console = Console(stderr=True)
    with progress_bars(console, enabled=not quiet) as progress:
        result = run_curation(parsed, lineage=not no_lineage, progress=progress)
    print_summary(Console(), result.summary)
    typer.echo(f"output: {result.out_dir}")
    typer.echo(f"report: {result.out_dir / 'report.md'}")
    if result.run_id:
        typer.echo(f"mlflow run: {result.run_id}")


@curate_app.command("report")
def report_command(
    target: Annotated[str, typer.Argument(help="an output directory or an MLflow run id")],
) -> None:
    """Print the summary table of a finished run."""
    from rich.console import Console

    from codekiln_curate.console import print_summary

    print_summary(Console(), load_summary(target))


def load_summary(target: str) -> dict[str, Any]:
    """summary.json from an output directory, or from a curate run's MLflow artifacts."""
    import json

    from codekiln_core.errors import ConfigError

    path = Path(target)
    if path.is_dir():
        summary = path / "summary.json"
        if not summary.is_file():
            raise ConfigError(f"{path} has no summary.json; pass the --output directory of a "
                              "finished `codekiln curate run`")
        return dict(json.loads(summary.read_text(encoding="utf-8")))
    from codekiln_curate.console import summary_from_run

    return summary_from_run(target)


def _mount_commands() -> None:
    from codekiln_curate.commands import mount_all

    mount_all(curate_app)


_mount_commands()
