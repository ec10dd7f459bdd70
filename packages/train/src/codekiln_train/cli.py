"""``codekiln train``: the sub-command group of codekiln-train (kept light for ``--help``)."""

from __future__ import annotations

import typer

train_app = typer.Typer(
    help="""Pretrain code LLMs and train the quality scorer with DeepSpeed.

Coming: pretraining on packed shards (ZeRO 0-3, CPU or GPU) and regression-head scorer training. No commands yet.""",
    no_args_is_help=True,
)


@train_app.callback()
def _group() -> None:
    """Pretrain code LLMs and train the quality scorer with DeepSpeed."""
