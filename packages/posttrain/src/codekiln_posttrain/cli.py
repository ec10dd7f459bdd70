"""``codekiln posttrain``: SFT, DPO, GRPO and their data (light to import for ``--help``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

posttrain_app = typer.Typer(
    help="Post-train with SFT, DPO and GRPO, rewarded by sandboxed code execution.",
    no_args_is_help=True,
)
data_app = typer.Typer(help="Build post-training data: instructions, imports, DPO pairs, "
                       "verl datasets.", no_args_is_help=True)
posttrain_app.add_typer(data_app, name="data")

Sets = Annotated[list[str] | None, typer.Option(
    "--set", help="override a recipe key, e.g. --set engine.lr=1e-5")]
NoLineage = Annotated[bool, typer.Option("--no-lineage", help="do not log to MLflow")]


def _summary(title: str, values: dict[str, Any]) -> None:
    from rich.table import Table

    from codekiln_core.cli.console import table_console

    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in values.items():
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        table.add_row(key, shown)
    table_console().print(table)


@posttrain_app.command("sft")
def sft_command(recipe: Annotated[Path, typer.Argument(help="SFT recipe YAML")],
                sets: Sets = None, resume: Annotated[bool, typer.Option(
                    help="continue from the latest checkpoint in output/checkpoints")] = False,
                no_lineage: NoLineage = False) -> None:
    """Supervised fine-tuning: packed, loss on assistant turns, on codekiln-train's engine."""
    from codekiln_core.config import load_recipe
    from codekiln_posttrain.recipe import SftRecipe
    from codekiln_posttrain.sft import run_sft

    result = run_sft(load_recipe(recipe, SftRecipe, sets or []), lineage=not no_lineage,
                     resume=resume)
    _summary("posttrain sft", dict(result.__dict__))


@posttrain_app.command("dpo")
def dpo_command(recipe: Annotated[Path, typer.Argument(help="DPO recipe YAML")],
                sets: Sets = None, resume: Annotated[bool, typer.Option(
                    help="continue from the latest checkpoint")] = False,
                no_lineage: NoLineage = False) -> None:
    """Sigmoid DPO on stored reference log-probs, on codekiln-train's engine."""
    from codekiln_core.config import load_recipe
    from codekiln_posttrain.dpo_run import run_dpo
    from codekiln_posttrain.recipe import DpoRecipe

    result = run_dpo(load_recipe(recipe, DpoRecipe, sets or []), lineage=not no_lineage,
                     resume=resume)
    _summary("posttrain dpo", dict(result.__dict__))


@posttrain_app.command("grpo")
def grpo_command(recipe: Annotated[Path, typer.Argument(help="GRPO recipe YAML")],
                 sets: Sets = None,
                 backend: Annotated[str | None, typer.Option(
                     help="local (transformers loop) or verl; default: the recipe's")] = None,
                 dry_run: Annotated[bool, typer.Option(
                     help="verl: write the dataset and print the command, do not launch")] =
                     False,
                 no_lineage: NoLineage = False) -> None:
    """GRPO with DAPO's settings: the local loop, or verl on Ray (--backend verl)."""
    from codekiln_core.config import load_recipe
    from codekiln_core.errors import ConfigError
    from codekiln_posttrain.recipe import GrpoRecipe

    extra = [f"backend={backend}"] if backend else []
    loaded = load_recipe(recipe, GrpoRecipe, (sets or []) + extra)
    if loaded.backend == "verl":
        from codekiln_posttrain.grpo.run import prepare_verl

        launch = prepare_verl(loaded, launch=not dry_run)
        typer.echo(f"verl dataset: {launch.train_file}")
        typer.echo(" ".join(launch.command))
        return
    if dry_run:
        raise ConfigError("--dry-run applies to --backend verl only")
    from codekiln_posttrain.grpo.local import run_grpo_local

    result = run_grpo_local(loaded, lineage=not no_lineage)
    shown = {k: v for k, v in result.__dict__.items() if k != "history"}
    _summary("posttrain grpo", shown)


@data_app.command("instruct")
def instruct_command(
        seeds: Annotated[Path, typer.Argument(help="curated dataset with content, language "
                                              "and a quality score column")],
        output: Annotated[Path, typer.Option("--output", "-o", help="output directory")],
        endpoint: Annotated[str, typer.Option(help="OpenAI-compatible base URL")],
        model: Annotated[str, typer.Option(help="teacher model name")],
        sets: Sets = None,
        resume: Annotated[bool, typer.Option(help="continue a partly written output")] = False,
        no_lineage: NoLineage = False) -> None:
    """OSS-Instruct synthesis from the best seeds, kept only when the sandbox self-check passes."""
    from codekiln_core.config import apply_override, validate
    from codekiln_posttrain.data.instruct import InstructConfig
    from codekiln_posttrain.data.runs import instruct_run

    data: dict[str, Any] = {"endpoint": endpoint, "model": model}
    for item in sets or []:
        apply_override(data, item)
    config = validate(data, InstructConfig, source="--set")
    _summary("posttrain data instruct", instruct_run(seeds, output, config,
                                                     lineage=not no_lineage, resume=resume))


@data_app.command("import")
def import_command(
        source: Annotated[Path, typer.Argument(help="existing SFT set (.jsonl/.json/.parquet), "
                                               "or bundled:mbpp for the bundled MBPP file")],
        output: Annotated[Path, typer.Option("--output", "-o", help=".jsonl or .parquet")],
        fmt: Annotated[str, typer.Option("--format", help="messages, alpaca, sharegpt, "
                                         "prompt-response or mbpp")] = "messages",
        mbpp_split: Annotated[list[str] | None, typer.Option(
            help="MBPP splits to import: train, prompt, validation (never test)")] = None,
        no_lineage: NoLineage = False) -> None:
    """Import an existing SFT set as messages rows."""
    from codekiln_core.errors import ConfigError
    from codekiln_posttrain.data.runs import import_run

    formats = ("messages", "alpaca", "sharegpt", "prompt-response", "mbpp")
    if fmt not in formats:
        raise ConfigError(f"--format {fmt!r}: choose one of {', '.join(formats)}")
    _summary("posttrain data import", import_run(source, output, fmt, mbpp_splits=mbpp_split,
                                                 lineage=not no_lineage))


@data_app.command("from-code")
def from_code_command(
        curated: Annotated[Path, typer.Argument(help="curated dataset (content, language; "
                                                "a quality score ranks the files)")],
        output: Annotated[Path, typer.Option("--output", "-o", help=".jsonl or .parquet")],
        sets: Sets = None, no_lineage: NoLineage = False) -> None:
    """Instructions from curated code: each documented function's signature and docstring."""
    from codekiln_core.config import apply_override, validate
    from codekiln_posttrain.data.from_code import FromCodeConfig
    from codekiln_posttrain.data.runs import from_code_run

    data: dict[str, Any] = {}
    for item in sets or []:
        apply_override(data, item)
    config = validate(data, FromCodeConfig, source="--set")
    _summary("posttrain data from-code", from_code_run(curated, output, config,
                                                       lineage=not no_lineage))


@data_app.command("pairs")
def pairs_command(
        prompts: Annotated[Path, typer.Argument(help="RL prompts: prompt messages + tests")],
        output: Annotated[Path, typer.Option("--output", "-o", help=".jsonl or .parquet")],
        model: Annotated[str | None, typer.Option(
            help="local Hugging Face model directory to sample from")] = None,
        endpoint: Annotated[str | None, typer.Option(
            help="or: an OpenAI-compatible base URL to sample from")] = None,
        endpoint_model: Annotated[str | None, typer.Option(
            help="model name at --endpoint")] = None,
        sets: Sets = None, no_lineage: NoLineage = False) -> None:
    """On-policy DPO pairs: chosen passes the prompt's tests in the sandbox, rejected fails."""
    from codekiln_core.config import apply_override, validate
    from codekiln_core.errors import ConfigError
    from codekiln_posttrain.data.pairs import PairsConfig
    from codekiln_posttrain.data.runs import pairs_run
    from codekiln_posttrain.sampling import EndpointSampler, TransformersSampler

    if (model is None) == (endpoint is None):
        raise ConfigError("give exactly one of --model DIR or --endpoint URL")
    data: dict[str, Any] = {}
    for item in sets or []:
        apply_override(data, item)
    config = validate(data, PairsConfig, source="--set")
    if endpoint is not None:
        if not endpoint_model:
            raise ConfigError("--endpoint needs --endpoint-model NAME")
        sampler: Any = EndpointSampler(endpoint, endpoint_model)
    else:
        sampler = TransformersSampler.from_dir(str(model))
    _summary("posttrain data pairs", pairs_run(prompts, output, config, sampler,
                                               lineage=not no_lineage, model_ref=model))


@data_app.command("verl")
def verl_command(
        prompts: Annotated[Path, typer.Argument(help="RL prompts: prompt messages + tests")],
        output: Annotated[Path, typer.Option("--output", "-o", help="verl .parquet file")]
) -> None:
    """Write RL prompts as verl's parquet dataset (data_source, prompt, reward_model, ...)."""
    from codekiln_posttrain.chat.datasets import read_rows
    from codekiln_posttrain.grpo.verl_backend import write_verl_parquet

    rows = read_rows(prompts, "rl")
    write_verl_parquet(rows, output)
    _summary("posttrain data verl", {"rows": len(rows), "output": str(output)})
