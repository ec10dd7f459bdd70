"""``codekiln lineage compare RUN...``: arms x seeds side by side, logged as its own run
whose inputs are the compared runs, so every arm's lineage meets there."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from codekiln_core.cli.contract import Alias, Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_core.config import RecipeModel
from codekiln_core.lineage.refs import InputRef


class CompareRecipe(RecipeModel):
    """Which runs, which metrics, where the report goes."""

    runs: list[str] = Field(min_length=1, description="runs as [ARM[@SEED]=][PREFIX:]RUN_ID, "
                            "e.g. rules@0=RUN (pretraining), rules@0=mbpp:RUN (an eval: its "
                            "metrics become mbpp/NAME)")
    metrics: list[str] = Field(min_length=1, description="NAME[:final|min|max], e.g. "
                               "val_loss, val_loss:min, mbpp/pass_at_1")
    output: Path = Field(description="directory for comparison.md/.json/.png")
    baseline: str | None = Field(None, description="the arm the others are compared with "
                                 "(default: the first)")
    title: str = Field("comparison", description="title of the table and plot")


def compared_runs(recipe: CompareRecipe) -> list[InputRef]:
    from codekiln_core.lineage.compare import parse_run_spec

    return [InputRef.from_run(parse_run_spec(text).run_id, name=_input_name(text))
            for text in recipe.runs]


def compare_runs(invocation: Invocation[CompareRecipe]) -> Outcome:
    """Read the runs' metrics, write the report, log it."""
    from codekiln_core.lineage.compare import (
        collect_rows,
        comparison,
        comparison_metrics,
        parse_metric,
        parse_run_spec,
    )
    from codekiln_core.lineage.compare_report import markdown, write_report
    from codekiln_core.lineage.store import connect

    recipe, run = invocation.recipe, invocation.run
    wanted = [parse_metric(text) for text in recipe.metrics]
    client, _ = connect(create=False)
    rows = collect_rows(client, [parse_run_spec(text) for text in recipe.runs], wanted)
    data = comparison(rows, wanted, recipe.baseline)
    files = write_report(data, recipe.output, recipe.title)
    for path in files:
        run.log_artifact(path, "comparison")
    run.log_metrics(comparison_metrics(data))
    run.log_output(recipe.output, name="comparison")
    lines = [markdown(data, recipe.title), *(f"wrote {path}" for path in files)]
    return Outcome(lines=lines)


def _input_name(text: str) -> str:
    head, sep, tail = text.partition("=")
    label = head if sep else "run"
    prefix = tail.partition(":")[0] if sep and ":" in tail else ""
    return f"{label}:{prefix}" if prefix else label


COMMAND = Command(
    name="lineage.compare", recipe=CompareRecipe, work=compare_runs,
    help="Arms x seeds side by side: a table, mean ± std, differences with their SE, a bar "
         "plot.",
    inputs="runs", resumable=False, step="compare", short={"metrics": "-m"},
    aliases=(Alias(("--metric",), "metrics", "values", hint="use --metrics"),),
    lineage_inputs=compared_runs)
