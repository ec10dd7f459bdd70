"""``codekiln train export``: release a registered model version as an HF directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from codekiln_core.cli.options import NoLineage, echo_run


def register(app: typer.Typer) -> None:
    app.command("export")(export_command)


def export_command(
    model: Annotated[str, typer.Argument(help="registered model version: models:/NAME/N")],
    output: Annotated[Path, typer.Option("--output", "-o",
                                         help="new directory for the HF checkpoint")],
    push_to_hub: Annotated[str | None, typer.Option(
        help="also upload it to this Hub repo (OWNER/NAME); HF_ENDPOINT picks the server")] =
        None,
    hub_token: Annotated[str | None, typer.Option(
        help="Hub token (default: HF_TOKEN or the saved login)")] = None,
    private: Annotated[bool, typer.Option(help="create the Hub repo as private")] = False,
    no_lineage: NoLineage = False,
) -> None:
    """Write MODEL as a standard Hugging Face checkpoint directory (and optionally upload it)."""
    from codekiln_train.release import release

    result = release(model, output, push_to_hub=push_to_hub, hub_token=hub_token,
                     private=private, lineage=not no_lineage)
    typer.echo(f"exported: {result.output}")
    if result.commit_url:
        typer.echo(f"hub commit: {result.commit_url}")
    echo_run(result.run_id)
