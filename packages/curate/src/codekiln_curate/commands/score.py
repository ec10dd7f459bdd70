"""``codekiln curate score DATASET --model DIR --output DIR``: model-score a curated dataset
and drop the lowest files (written whole; a rerun starts over)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from codekiln_core.cli.contract import REPLACE_OUTPUT, Alias, Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_curate.quality.recipe import ScoreRecipe

if TYPE_CHECKING:
    from collections.abc import Iterator

    from codekiln_core.lineage import InputRef


def score(invocation: Invocation[ScoreRecipe]) -> Outcome:
    """Score every file of the dataset, gate, write kept and dropped files."""
    recipe = invocation.recipe
    from codekiln_core.threads import use_threads

    use_threads(recipe.threads, load_aware=True)
    from rich.console import Console

    from codekiln_curate.quality.score_dataset import score_dataset

    with Console(stderr=True).status("scoring") as status:
        result = score_dataset(
            recipe, invocation.run,
            progress=lambda done, total: status.update(f"scoring: part {done}/{total}"))
    summary = result.summary
    return Outcome(metrics={k: summary[k] for k in ("kept", "dropped", "mean_score", "files")},
                   table=score_table(summary), lines=[f"output: {result.out_dir}"])


def score_table(summary: dict[str, Any]) -> Any:
    """Per-language kept/dropped and thresholds."""
    from rich.table import Table

    thresholds = summary["thresholds"]
    table = Table(title=f"quality gate: {summary['kept']} kept, {summary['dropped']} dropped "
                        f"of {summary['files']} (mean score {summary['mean_score']})")
    for column in ("language", "threshold", "kept", "dropped"):
        table.add_column(column, justify="left" if column == "language" else "right")
    for lang, entry in summary["per_language"].items():
        limit = thresholds.get(lang, thresholds.get("*"))
        table.add_row(lang, "-" if limit is None else f"{limit:.3f}", str(entry["kept"]),
                      str(entry["dropped"]))
    return table


def dataset_and_model(recipe: ScoreRecipe) -> Iterator[InputRef]:
    from codekiln_curate.lineage_inputs import named_inputs

    return named_inputs(("dataset", recipe.dataset, "curated"),
                        ("model", recipe.model, "quality-scorer"))


COMMAND = Command(
    name="curate.score", recipe=ScoreRecipe, work=score,
    help="Score every file of DATASET with a quality model, gate, write kept and dropped files.",
    inputs="dataset", resumable=False, step="score",
    key_metrics=("kept", "dropped", "mean_score"),
    aliases=(Alias(("--force",), REPLACE_OUTPUT, "flag",
                   hint="remove the output yourself or choose a new --output"),),
    lineage_inputs=dataset_and_model)
