"""``codekiln curate tokenizer train|adopt``: a byte-level BPE with the Seed-Coder specials."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from codekiln_core.cli.commands import command_group
from codekiln_core.cli.options import NoLineage, echo_run

tokenizer_app = command_group(
    "Train a byte-level BPE tokenizer on a curated dataset, or adopt an existing one.")


@tokenizer_app.command("train")
def train_command(
    dataset: Annotated[Path, typer.Argument(
        help="curate output directory, Parquet/JSONL file, or a directory of files")],
    output: Annotated[Path, typer.Option("--output", "-o", help="new tokenizer directory")],
    vocab_size: Annotated[int, typer.Option("--vocab-size", help="vocabulary size")] = 32768,
    min_frequency: Annotated[int, typer.Option(
        "--min-frequency", help="merge only pairs seen at least this often")] = 2,
    chat_template: Annotated[str | None, typer.Option(
        "--chat-template", help="also store a chat template in tokenizer_config.json: "
        "seed-coder (Instruct, default system prompt) or reasoning")] = None,
    no_lineage: NoLineage = False,
) -> None:
    """Train on DATASET and save a Hugging Face tokenizer directory (BOS=0, PAD=1, EOS=2)."""
    from codekiln_curate.tokens.runs import train_tokenizer_run

    result = train_tokenizer_run(dataset, vocab_size, output, min_frequency=min_frequency,
                                 lineage=not no_lineage, chat_template=chat_template)
    typer.echo(f"tokenizer: {result.out}  vocab {result.vocab_size}  sha256 {result.sha256}")
    echo_run(result.run_id)


@tokenizer_app.command("adopt")
def adopt_command(
    source: Annotated[Path, typer.Argument(help="an existing tokenizer directory")],
    output: Annotated[Path, typer.Option("--output", "-o", help="new tokenizer directory")],
    chat_template: Annotated[str | None, typer.Option(
        "--chat-template", help="also store a chat template in tokenizer_config.json: "
        "seed-coder (Instruct, default system prompt) or reasoning")] = None,
    no_lineage: NoLineage = False,
) -> None:
    """Copy SOURCE, adding the FIM and SEP tokens it lacks, so shards can use it."""
    from codekiln_curate.tokens.runs import adopt_tokenizer_run

    result = adopt_tokenizer_run(source, output, lineage=not no_lineage,
                                 chat_template=chat_template)
    typer.echo(f"tokenizer: {result.out}  vocab {result.vocab_size}  sha256 {result.sha256}")


def register(app: typer.Typer) -> None:
    app.add_typer(tokenizer_app, name="tokenizer")
