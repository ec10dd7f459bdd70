"""``codekiln curate shards``: tokenize, FIM and pack datasets into memory-mappable shards."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from codekiln_core.cli.options import NoLineage, echo_run


def _parse_mix(values: list[str]) -> dict[str, float]:
    from codekiln_core.errors import ConfigError

    mix: dict[str, float] = {}
    for value in values:
        name, _, weight = value.partition("=")
        try:
            mix[name] = float(weight)
        except ValueError:
            raise ConfigError(f"--mix {value!r} is not NAME=WEIGHT (e.g. --mix stdlib=0.5)"
                              ) from None
    return mix


def shards_command(
    datasets: Annotated[list[str], typer.Argument(
        help="datasets: PATH or NAME=PATH (curate output dir, Parquet/JSONL, or files)")],
    tokenizer: Annotated[Path, typer.Option("--tokenizer", help="tokenizer directory")],
    output: Annotated[Path, typer.Option("--output", "-o", help="shards directory")],
    seq_len: Annotated[int, typer.Option("--seq-len", help="tokens per sequence")] = 8192,
    fim_rate: Annotated[float, typer.Option(
        "--fim-rate", help="share of documents turned into FIM (0.5 regular, 0.1 continued)"
    )] = 0.5,
    fim_mode: Annotated[str, typer.Option("--fim-mode", help="spm or psm")] = "spm",
    seed: Annotated[int, typer.Option("--seed", help="seed of FIM and mixture sampling")] = 0,
    mix: Annotated[list[str] | None, typer.Option(
        "--mix", help="NAME=WEIGHT: repeat (integer part) / sample (fraction) a dataset")
    ] = None,
    sequences_per_shard: Annotated[int, typer.Option(
        "--sequences-per-shard", help="sequences in each shard file")] = 2048,
    no_lineage: NoLineage = False,
) -> None:
    """Write OUTPUT/shard-*.bin (uint32 tokens), shard-*.idx (document starts), manifest.json.

    Resumes an interrupted run with the same arguments.
    """
    from codekiln_curate.tokens.fim import FimConfig
    from codekiln_curate.tokens.runs import parse_dataset_arg, shards_run
    from codekiln_curate.tokens.shards import ShardSettings

    settings = ShardSettings(seq_len=seq_len, sequences_per_shard=sequences_per_shard,
                             fim=FimConfig(fim_rate, fim_mode, seed),  # type: ignore[arg-type]
                             mix=_parse_mix(mix or []))
    parsed = [parse_dataset_arg(d) for d in datasets]
    result, run_id = shards_run(parsed, tokenizer, output, settings, lineage=not no_lineage)
    manifest = result.manifest
    typer.echo(f"shards: {result.out}  {len(manifest['shards'])} files  "
               f"{manifest['total_tokens']} tokens  {manifest['total_sequences']} sequences  "
               f"{manifest['total_documents']} documents ({manifest['fim_documents']} FIM)")
    if result.resumed_shards:
        typer.echo(f"resumed after {result.resumed_shards} finished shards")
    echo_run(run_id)


def register(app: typer.Typer) -> None:
    app.command("shards")(shards_command)
