"""``codekiln eval score SAMPLES -b BENCHMARK``: score samples generated elsewhere (EvalPlus's
samples format), no model needed; same files, pass@k and lineage as ``eval run``."""

from __future__ import annotations

from codekiln_core.cli.contract import Alias, Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_eval.commands.run import OPTION_ALIAS, SHORT, summary_outcome
from codekiln_eval.score_samples import ScoreSettings, score_inputs


def score(invocation: Invocation[ScoreSettings]) -> Outcome:
    """Copy the samples into the run directory, execute them, score."""
    import typer

    from codekiln_eval.score_samples import score_samples

    summary = score_samples(invocation.recipe, invocation.run,
                            progress=lambda msg: typer.echo(msg, err=True))
    return summary_outcome(invocation.recipe, summary)


COMMAND = Command(
    name="eval.score", recipe=ScoreSettings, work=score,
    help="Run pre-generated samples in the sandbox and print pass@k (same files as eval run).",
    inputs="samples", key_metrics=("pass_at_1", "pass_at_10"),
    flags=("benchmark", "ks", "data", "limit", "workers", "sandbox", "calibrate"), short=SHORT,
    aliases=(OPTION_ALIAS, Alias(("--samples", "-s"), "samples",
                                 hint="pass the samples file as the first argument")),
    lineage_inputs=score_inputs)
