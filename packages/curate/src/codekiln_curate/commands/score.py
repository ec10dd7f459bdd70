"""``codekiln curate score``: model-score a curated dataset and drop the lowest files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from codekiln_core.cli.options import NoLineage, echo_run


def register(app: typer.Typer) -> None:
    app.command("score")(score_command)


def score_command(
    dataset: Annotated[Path, typer.Argument(
        help="a `codekiln curate run` output (data/*.parquet) or Parquet file(s)")],
    model: Annotated[Path, typer.Option(help="scorer checkpoint (`codekiln train scorer`)")],
    output: Annotated[Path, typer.Option("--output", "-o", help="output directory")],
    drop_percentile: Annotated[float | None, typer.Option(
        help="drop the bottom N percent by score (default 10)")] = None,
    min_score: Annotated[float | None, typer.Option(
        help="instead: drop files scoring below this absolute 0-10 value")] = None,
    per_language: Annotated[bool, typer.Option(
        "--per-language", help="percentile per language instead of one global cut")] = False,
    max_tokens: Annotated[int, typer.Option(help="tokens of each file the model reads")] = 1024,
    batch_size: Annotated[int, typer.Option(help="files per forward pass")] = 16,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "auto",
    dtype: Annotated[str, typer.Option(help="float32 or bfloat16")] = "float32",
    threads: Annotated[int | None, typer.Option(help="CPU threads for torch")] = None,
    force: Annotated[bool, typer.Option(help="replace a non-empty --output")] = False,
    no_lineage: NoLineage = False,
) -> None:
    """Score every file of DATASET with a quality model, gate, write kept and dropped files."""
    from codekiln_curate.quality.score_dataset import ScoreOptions, score_dataset

    percentile = drop_percentile if drop_percentile is not None else (
        None if min_score is not None else 10.0)
    options = ScoreOptions(percentile, min_score, per_language, max_tokens, batch_size,
                           device, dtype)
    options.check()
    if threads is not None:
        import torch

        torch.set_num_threads(max(1, threads))
    from rich.console import Console

    from codekiln_core.cli.console import table_console

    console = Console(stderr=True)
    with console.status("scoring") as status:
        result = score_dataset(
            dataset, model, output, options, force=force, lineage=not no_lineage,
            progress=lambda done, total: status.update(f"scoring: part {done}/{total}"))
    print_score_summary(table_console(), result.summary)
    typer.echo(f"output: {result.out_dir}")
    echo_run(result.run_id)


def print_score_summary(console: object, summary: dict[str, object]) -> None:
    """Per-language kept/dropped and thresholds as a rich table."""
    from rich.console import Console
    from rich.table import Table

    assert isinstance(console, Console)
    thresholds = summary["thresholds"]
    assert isinstance(thresholds, dict)
    table = Table(title=f"quality gate: {summary['kept']} kept, {summary['dropped']} dropped "
                        f"of {summary['files']} (mean score {summary['mean_score']})")
    for column in ("language", "threshold", "kept", "dropped"):
        table.add_column(column, justify="left" if column == "language" else "right")
    per_language = summary["per_language"]
    assert isinstance(per_language, dict)
    for lang, entry in per_language.items():
        limit = thresholds.get(lang, thresholds.get("*"))
        table.add_row(lang, "-" if limit is None else f"{limit:.3f}", str(entry["kept"]),
                      str(entry["dropped"]))
    console.print(table)
