"""``codekiln lineage ui``: the MLflow UI over the codekiln store, on 127.0.0.1."""

from __future__ import annotations

import typer

from codekiln_core.cli.contract import CliCommand


def ui(
    port: int = typer.Option(5000, help="Port on 127.0.0.1."),
    wait: bool = typer.Option(True, help="Block until Ctrl-C (use --no-wait in scripts)."),
) -> None:
    """Start the MLflow UI on 127.0.0.1 over the codekiln store and print the address of
    its registered models list (in the model-training view)."""
    from codekiln_core.lineage.ui import serve_ui

    serve_ui(port=port, wait=wait)


COMMAND = CliCommand("lineage.ui", ui)
