"""``codekiln lineage``: walk a model or run back to its raw inputs; open the MLflow UI."""

from __future__ import annotations

import typer

lineage_app = typer.Typer(
    help="Trace models and datasets back to their raw inputs (MLflow).", no_args_is_help=True
)


@lineage_app.command("show")
def show(
    ref: str = typer.Argument(..., help="A run id or a registered model: models:/NAME/VERSION."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Print the chain of runs from REF back to the raw inputs."""
    from codekiln_core.lineage.chain import render_chain, walk_chain

    chain = walk_chain(ref)
    typer.echo(chain.to_json() if as_json else render_chain(chain))


@lineage_app.command("ui")
def ui(
    port: int = typer.Option(5000, help="Port on 127.0.0.1."),
    wait: bool = typer.Option(True, help="Block until Ctrl-C (use --no-wait in scripts)."),
) -> None:
    """Start the MLflow UI on 127.0.0.1 over the codekiln store and print its URL."""
    from codekiln_core.lineage.ui import serve_ui

    serve_ui(port=port, wait=wait)
