"""``codekiln eval run -b BENCHMARK -m MODEL``: generate samples, run them in the sandbox,
score pass@k; a rerun with ``--resume`` continues from the samples and results logged."""

from __future__ import annotations

from typing import Any

from codekiln_core.cli.contract import Alias, Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_eval.evaluate import EvalSettings, ExecutionSettings, eval_inputs

#: One-letter flags of the recipe keys ``eval run`` and ``eval score`` share.
SHORT = {"benchmark": "-b", "ks": "-k"}
#: ``-O K=V`` set one benchmark option before the recipe had ``options``.
OPTION_ALIAS = Alias(("--option", "-O"), "options", "item",
                     hint="use --set options.KEY=VALUE")


def evaluate(invocation: Invocation[EvalSettings]) -> Outcome:
    """One evaluation, resumed where its logs stop."""
    import typer

    from codekiln_eval.evaluate import run_eval

    summary = run_eval(invocation.recipe, invocation.run,
                       progress=lambda msg: typer.echo(msg, err=True))
    return summary_outcome(invocation.recipe, summary)


def summary_outcome(settings: ExecutionSettings, summary: dict[str, Any]) -> Outcome:
    """``humaneval: pass@1 0.5000 over 164 tasks``, and pass@k as the headline metrics."""
    scores = {k.replace("@", "_at_"): v for k, v in summary["pass_at_k"].items()
              if v is not None}
    shown = ", ".join(f"{key} {value:.4f}" for key, value in summary["pass_at_k"].items()
                      if value is not None)
    if summary.get("exact_match") is not None:  # infilling benchmarks
        scores["exact_match"] = summary["exact_match"]
        shown += f", exact match {summary['exact_match']:.4f}"
    return Outcome(metrics=scores, lines=[
        f"{settings.benchmark}: {shown} over {summary['num_tasks_complete']} tasks",
        f"output: {settings.run_dir}"])


COMMAND = Command(
    name="eval.run", recipe=EvalSettings, work=evaluate,
    help="Generate samples, run them in the sandbox, and print pass@k.",
    step="eval", key_metrics=("pass_at_1", "pass_at_10", "exact_match"),
    flags=("benchmark", "model", "n", "ks", "data", "limit", "mode", "temperature", "top_p",
           "repetition_penalty", "max_tokens", "seed", "workers", "sandbox", "calibrate",
           "served_model", "concurrency", "fim_layout", "fim_api", "engine"),
    short={**SHORT, "model": "-m", "n": "-n"},
    aliases=(OPTION_ALIAS,),
    lineage_inputs=eval_inputs)
