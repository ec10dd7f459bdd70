"""``codekiln serve``: the sub-command group of codekiln-serve (kept light for ``--help``)."""

from __future__ import annotations

import typer

serve_app = typer.Typer(
    help="""Serve models behind an OpenAI-compatible HTTP API (transformers or vLLM).

Coming: serve MODEL with the transformers engine on CPU/GPU or vLLM on GPUs. No commands yet.""",
    no_args_is_help=True,
)


@serve_app.callback()
def _group() -> None:
    """Serve models behind an OpenAI-compatible HTTP API (transformers or vLLM)."""
