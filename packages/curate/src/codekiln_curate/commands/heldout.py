"""``codekiln curate heldout``: a validation set checked to share no n-gram with training."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from codekiln_core.cli.options import NoLineage, echo_run


def register(app: typer.Typer) -> None:
    app.command("heldout")(heldout_command)


def heldout_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="output directory")],
    datasets: Annotated[list[Path] | None, typer.Argument(
        help="extra held-out datasets (JSONL/Parquet/files), added to the MBPP solutions")
    ] = None,
    against: Annotated[list[Path] | None, typer.Option(
        "--against", help="training corpora the set must not overlap (repeatable)")] = None,
    mbpp_split: Annotated[str, typer.Option(
        "--mbpp-split", help="MBPP splits to include, comma-separated (prompt, validation, "
        "train; never test); empty: none")] = "prompt,validation,train",
    ngram: Annotated[int, typer.Option(help="word n-gram length of the overlap check")] = 10,
    no_lineage: NoLineage = False,
) -> None:
    """Write OUTPUT/data/heldout.jsonl; documents overlapping --against go to dropped/."""
    from codekiln_curate.heldout import build_heldout

    splits = [s.strip() for s in mbpp_split.split(",") if s.strip()]
    result = build_heldout(output, splits=splits, datasets=list(datasets or []),
                           against=list(against or []), ngram=ngram, lineage=not no_lineage)
    typer.echo(f"held-out: {result.kept} documents ({result.chars} characters) in "
               f"{result.out_dir / 'data'}; {result.dropped} dropped for sharing a "
               f"{ngram}-gram with {result.scanned} training documents")
    typer.echo(f"output: {result.out_dir}")
    echo_run(result.run_id)
