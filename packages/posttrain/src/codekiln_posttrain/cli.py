"""``codekiln posttrain``: codekiln-posttrain's command group (light to import for ``--help``)."""

from __future__ import annotations

import typer

posttrain_app = typer.Typer(
    help="""Post-train with SFT, DPO and GRPO, rewarded by sandboxed code execution.

Coming: sft, dpo, grpo (local loop and verl on Ray). No commands yet.""",
    no_args_is_help=True,
)


@posttrain_app.callback()
def _group() -> None:
    """Post-train with SFT, DPO and GRPO, rewarded by sandboxed code execution."""
