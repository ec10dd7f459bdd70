"""``codekiln eval run``: generate samples, run them in the sandbox, print pass@k."""

from __future__ import annotations

from typing import Any

import typer

from codekiln_core.cli.options import NoLineage, echo_run
from codekiln_core.errors import ConfigError


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)


def benchmark_options(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"-O {pair!r}: use KEY=VALUE, e.g. -O start_date=2024-10-01")
        out[key.strip()] = value.strip()
    return out


def run_command(
    benchmark: str = typer.Option(..., "--benchmark", "-b", help="Benchmark name (eval list)."),
    model: str = typer.Option(..., "--model", "-m",
                              help="HF model dir, http(s)://endpoint or models:/NAME/VERSION."),
    n: int = typer.Option(1, "-n", help="Samples per task."),
    k: str = typer.Option("1", "-k", help="Comma-separated k values for pass@k."),
    data: str = typer.Option(None, "--data", help="Local benchmark file or directory."),
    limit: int = typer.Option(None, "--limit", help="Only the first N tasks."),
    output: str = typer.Option(None, "--output", "-o", help="Run directory (reruns resume)."),
    mode: str = typer.Option("auto", "--mode", help="auto, completion, chat or fim."),
    temperature: float = typer.Option(0.6, help="Sampling temperature (0 = greedy)."),
    top_p: float = typer.Option(0.8, help="Nucleus sampling mass."),
    repetition_penalty: float = typer.Option(1.05, help="Extra body field where supported."),
    max_tokens: int = typer.Option(512, help="Maximum new tokens per sample."),
    seed: int = typer.Option(None, help="Sampling seed."),
    option: list[str] = typer.Option([], "--option", "-O", help="Benchmark option K=V."),  # noqa: B008
    workers: int = typer.Option(2, help="Sandbox workers."),
    sandbox: str = typer.Option("local", help="Registered sandbox name."),
    calibrate: str = typer.Option("canonical", help="Timeouts: canonical, probe or off."),
    served_model: str = typer.Option(None, help="Model id to send to an endpoint."),
    fim_layout: str = typer.Option("spm", help="FIM order of a local model: spm or psm."),
    fim_api: str = typer.Option("completions", help="FIM route of an endpoint: completions "
                                                    "or infill."),
    no_lineage: NoLineage = False,
) -> None:
    """Generate samples, run them in the sandbox, and print pass@k."""
    from codekiln_core.config import validate
    from codekiln_eval.passk import parse_ks
    from codekiln_eval.runner import EvalSettings, run_eval

    given = dict(
        benchmark=benchmark, model=model, data=data, options=benchmark_options(option), n=n,
        ks=parse_ks(k, n), limit=limit, mode=mode, temperature=temperature, top_p=top_p,
        repetition_penalty=repetition_penalty, max_tokens=max_tokens, seed=seed,
        served_model=served_model, output=output, workers=workers, sandbox=sandbox,
        calibrate=calibrate, fim_layout=fim_layout, fim_api=fim_api, lineage=not no_lineage,
    )
    # pydantic errors become one line naming the option and its allowed values
    settings = validate(given, EvalSettings, source="codekiln eval run")
    summary = run_eval(settings, progress=lambda msg: typer.echo(msg, err=True))
    echo_summary(benchmark, summary)


def echo_summary(benchmark: str, summary: dict[str, Any]) -> None:
    """``humaneval: pass@1 0.5000 over 164 tasks`` and the MLflow run line."""
    scores = ", ".join(f"{key} {value:.4f}" for key, value in summary["pass_at_k"].items()
                       if value is not None)
    if summary.get("exact_match") is not None:
        scores += f", exact match {summary['exact_match']:.4f}"
    typer.echo(f"{benchmark}: {scores} over {summary['num_tasks_complete']} tasks")
    echo_run(summary.get("mlflow_run_id"))
