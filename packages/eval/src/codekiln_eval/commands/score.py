"""``codekiln eval score --samples FILE``: score samples generated elsewhere, no model needed."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from codekiln_core.cli.options import NoLineage


def register(app: typer.Typer) -> None:
    app.command("score")(score_command)


def score_command(
    samples: Path = typer.Option(..., "--samples", "-s",  # noqa: B008
                                 help="EvalPlus samples JSONL: task_id + solution|completion."),
    benchmark: str = typer.Option(..., "--benchmark", "-b", help="Benchmark name (eval list)."),
    k: str = typer.Option("1", "-k", help="Comma-separated k values for pass@k."),
    data: str = typer.Option(None, "--data", help="Local benchmark file or directory."),
    limit: int = typer.Option(None, "--limit", help="Only the first N tasks."),
    output: str = typer.Option(None, "--output", "-o", help="Run directory (reruns resume)."),
    option: list[str] = typer.Option([], "--option", "-O", help="Benchmark option K=V."),  # noqa: B008
    workers: int = typer.Option(2, help="Sandbox workers."),
    sandbox: str = typer.Option("local", help="Registered sandbox name."),
    calibrate: str = typer.Option("canonical", help="Timeouts: canonical, probe or off."),
    no_lineage: NoLineage = False,
) -> None:
    """Run pre-generated samples in the sandbox and print pass@k (same files as eval run)."""
    from codekiln_core.config import validate
    from codekiln_eval.commands.run import benchmark_options, echo_summary
    from codekiln_eval.passk import parse_ks
    from codekiln_eval.score_samples import ScoreSettings, score_samples

    ks = parse_ks(k, sys.maxsize)  # checked against the samples per task once they are read
    given = dict(samples=str(samples), benchmark=benchmark, data=data, ks=ks, limit=limit,
                 options=benchmark_options(option), output=output, workers=workers,
                 sandbox=sandbox, calibrate=calibrate, lineage=not no_lineage)
    settings = validate(given, ScoreSettings, source="codekiln eval score")
    summary = score_samples(settings, progress=lambda msg: typer.echo(msg, err=True))
    echo_summary(benchmark, summary)
