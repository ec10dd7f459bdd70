"""``codekiln train scorer``: fit the regression-head quality scorer on teacher labels."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from codekiln_core.cli.options import NoLineage, Overrides, echo_run

if TYPE_CHECKING:
    from codekiln_train.scorer.metrics import ScorerMetrics


def register(app: typer.Typer) -> None:
    app.command("scorer")(scorer_command)


def scorer_command(
    labels: Annotated[Path, typer.Argument(
        help="labels directory (labels.parquet) or a Parquet/JSONL file: content, score 0-10")],
    output: Annotated[Path, typer.Option("--output", "-o", help="checkpoint directory")],
    preset: Annotated[str, typer.Option(help="tiny (CPU, seconds) or 1.3b (paper size)")] =
        "tiny",
    epochs: Annotated[int | None, typer.Option(help="passes over the labels (default 1)")] =
        None,
    overrides: Overrides = None,
    tokenizer: Annotated[Path | None, typer.Option(
        help="Hugging Face tokenizer directory; omitted: a byte-level BPE trained on the "
             "labels")] = None,
    init: Annotated[Path | None, typer.Option(
        help="start from this pretrained Llama checkpoint instead of random weights")] = None,
    register: Annotated[str | None, typer.Option(
        help="also register the model in the MLflow registry under this name")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "auto",
    threads: Annotated[int | None, typer.Option(
        help="CPU threads for torch (1 is fastest for tiny on a busy machine)")] = None,
    force: Annotated[bool, typer.Option(help="replace a non-empty --output")] = False,
    no_lineage: NoLineage = False,
) -> None:
    """Train the regression-head quality scorer on LABELS; report held-out MAE and Spearman."""
    from codekiln_core.errors import ConfigError
    from codekiln_train.scorer.presets import load_preset

    if device not in ("auto", "cpu", "cuda"):
        raise ConfigError(f"--device {device!r}: choose auto, cpu or cuda")
    sets = list(overrides or []) + ([f"epochs={epochs}"] if epochs is not None else [])
    config = load_preset(preset, sets)
    from rich.console import Console

    from codekiln_core.cli.console import table_console
    from codekiln_train.scorer.run import train_scorer

    if threads is not None:
        import torch

        torch.set_num_threads(max(1, threads))

    console = Console(stderr=True)
    with console.status("training scorer") as status:
        def on_step(step: int, total: int, loss: float) -> None:
            status.update(f"training scorer: step {step}/{total}, loss {loss:.4f}")

        result = train_scorer(labels, config, output, tokenizer_dir=tokenizer, init=init,
                              register_as=register, device=device, force=force,
                              lineage=not no_lineage, on_step=on_step)
    print_metrics(table_console(), result.metrics, result.train_files)
    typer.echo(f"checkpoint: {result.out_dir}")
    echo_run(result.run_id)
    if result.model_uri:
        typer.echo(f"model: {result.model_uri}")


def print_metrics(console: object, metrics: ScorerMetrics, train_files: int) -> None:
    """Held-out MAE (all, per class, class-averaged) and Spearman as a rich table."""
    from rich.console import Console
    from rich.table import Table

    assert isinstance(console, Console)
    table = Table(title=f"held-out: {metrics.count} files (trained on {train_files})")
    table.add_column("ground-truth score", justify="right")
    table.add_column("files", justify="right")
    table.add_column("MAE", justify="right")
    for cls, (count, mae) in metrics.per_class.items():
        table.add_row(str(cls), str(count), f"{mae:.3f}")
    table.add_section()
    table.add_row("all files", str(metrics.count), f"{metrics.mae:.3f}")
    table.add_row("mean over classes", str(len(metrics.per_class)), f"{metrics.class_mae:.3f}")
    table.add_row("Spearman", "", f"{metrics.spearman:.3f}")
    console.print(table)
