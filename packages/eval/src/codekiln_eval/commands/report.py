"""``codekiln eval report``: a pass@k table and plot for one or more runs."""

from __future__ import annotations

from pathlib import Path

import typer

from codekiln_core.cli.contract import CliCommand


def report_command(
    refs: list[str] = typer.Argument(..., help="Run dirs or MLflow run ids."),  # noqa: B008
    plot: Path = typer.Option(None, "--plot", help="PNG path (default: run/passk.png)."),  # noqa: B008
) -> None:
    """Print a pass@k table for one or more runs and save a pass@k plot."""
    from codekiln_eval.report import load_summaries, render_table, save_plot

    summaries = load_summaries(refs)
    render_table(summaries)
    target = plot or Path(summaries[0]["_run_dir"]) / "passk.png"
    save_plot(summaries, target)
    typer.echo(f"plot: {target}")


COMMAND = CliCommand("eval.report", report_command)
