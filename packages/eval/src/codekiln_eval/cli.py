"""``codekiln eval``: the sub-command group of codekiln-eval (kept light for ``--help``)."""

from __future__ import annotations

import typer

eval_app = typer.Typer(
    help="""Evaluate code models on executable benchmarks with sandboxed pass@k.

Coming (issue 5): run, list, report over HumanEval(+), MBPP(+), CRUXEval, LiveCodeBench, MultiPL-E. No commands yet.""",
    no_args_is_help=True,
)


@eval_app.callback()
def _group() -> None:
    """Evaluate code models on executable benchmarks with sandboxed pass@k."""
