"""``codekiln train pretrain``: the staged pretraining recipe on DeepSpeed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from codekiln_core.cli.options import NoLineage, Overrides, echo_run

if TYPE_CHECKING:
    from codekiln_train.pretrain import PretrainResult


def register(app: typer.Typer) -> None:
    app.command("pretrain")(pretrain_command)


def pretrain_command(
    recipe: Annotated[Path, typer.Argument(help="pretraining recipe (YAML), e.g. "
                                                "recipes/pretrain-tiny.yaml")],
    overrides: Overrides = None,
    resume: Annotated[bool, typer.Option(
        "--resume", help="continue from the latest checkpoint in the recipe's output "
                         "(finished stages are skipped)")] = False,
    register: Annotated[str | None, typer.Option(
        help="register the final model in the MLflow registry under this name")] = None,
    no_lineage: NoLineage = False,
    launcher: Annotated[str, typer.Option(
        help="none: this process (CPU or one GPU); deepspeed: DeepSpeed's launcher starts "
             "one process per GPU on every host")] = "none",
    hostfile: Annotated[Path | None, typer.Option(
        help="DeepSpeed hostfile ('host slots=N' per line) for multi-node runs")] = None,
    num_gpus: Annotated[int | None, typer.Option(
        help="with --launcher deepspeed: GPUs per host (default: all)")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "auto",
    threads: Annotated[int | None, typer.Option(
        help="CPU threads for torch in each process")] = None,
    peak_flops: Annotated[float | None, typer.Option(
        help="peak FLOP/s of one device for MFU (default: table by GPU name; measured "
             "matmul rate on CPU)")] = None,
) -> None:
    """Pretrain a Llama-architecture model on codekiln shard sets, stage after stage."""
    from codekiln_core.errors import ConfigError
    from codekiln_train.engine.launcher import check_launcher
    from codekiln_train.recipe import load_pretrain_recipe

    check_launcher(launcher, hostfile)
    if device not in ("auto", "cpu", "cuda"):
        raise ConfigError(f"--device {device!r}: choose auto, cpu or cuda")
    sets = list(overrides or [])
    loaded = load_pretrain_recipe(recipe, sets)  # one-line errors before anything heavy
    if launcher == "deepspeed":
        _exec_deepspeed(recipe, sets, resume=resume, register=register, no_lineage=no_lineage,
                        hostfile=hostfile, num_gpus=num_gpus, threads=threads,
                        peak_flops=peak_flops)
        return
    if threads is not None:
        import torch

        torch.set_num_threads(max(1, threads))
    from codekiln_train.pretrain import run_pretrain

    result = run_pretrain(loaded, recipe_file=recipe, resume=resume, register=register,
                          lineage=not no_lineage, peak_flops=peak_flops,
                          device=None if device == "auto" else device)
    import os

    if os.environ.get("RANK", "0") == "0":
        print_summary(result)
        typer.echo(f"model: {result.model_dir}")
        echo_run(result.run_id)
        if result.model_uri:
            typer.echo(f"registered: {result.model_uri}")


def _exec_deepspeed(recipe: Path, sets: list[str], *, resume: bool, register: str | None,
                    no_lineage: bool, hostfile: Path | None, num_gpus: int | None,
                    threads: int | None, peak_flops: float | None) -> None:
    """Replace this process with DeepSpeed's launcher running our per-process entry."""
    import os
    import shlex

    from codekiln_train.engine.launcher import deepspeed_command, forwarded_args

    command = deepspeed_command(
        forwarded_args(recipe, sets=sets, resume=resume, register=register,
                       no_lineage=no_lineage, threads=threads, peak_flops=peak_flops,
                       env=os.environ),
        hostfile=hostfile, num_gpus=num_gpus)
    typer.echo(f"launching: {shlex.join(command)}", err=True)
    os.execv(command[0], command)


def print_summary(result: PretrainResult) -> None:
    """One row per stage: steps, tokens, losses, throughput, MFU, memory, time."""
    from rich.table import Table

    from codekiln_core.cli.console import table_console

    table = Table(title=f"pretraining: {result.output}")
    for name in ("stage", "steps", "tokens", "loss", "val loss", "tokens/s", "step s",
                 "MFU", "peak mem GiB", "wall s"):
        table.add_column(name, justify="left" if name == "stage" else "right")
    for plan, summary in result.stages:
        if summary is None:
            table.add_row(f"{plan.index + 1}. {plan.name}", str(plan.steps), "-",
                          "done before resume", *[""] * 6)
            continue
        val = f"{summary.final_val_loss:.4f}" if summary.final_val_loss is not None else "-"
        table.add_row(f"{plan.index + 1}. {plan.name}", str(summary.steps), f"{summary.tokens:,}",
                      f"{summary.final_loss:.4f}", val, f"{summary.tokens_per_s:,.0f}",
                      f"{summary.step_time_s:.3f}", f"{summary.mfu:.1%}",
                      f"{summary.peak_memory_gb:.2f}", f"{summary.wall_s:.1f}")
    table_console().print(table)
