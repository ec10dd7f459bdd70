"""``codekiln curate label [RECIPE] DATASET --output DIR``: rate a per-language sample of
DATASET 0-10 with a teacher model (docs/labeling.md); ``--resume`` reuses the answers the
request cache in the output already holds."""

from __future__ import annotations

from typing import Any

from codekiln_core.cli.contract import RECIPE, Alias, Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_curate.label.recipe import LabelRecipe


def label(invocation: Invocation[LabelRecipe]) -> Outcome:
    import sys

    from codekiln_curate.label.label_dataset import label_dataset

    recipe = invocation.recipe
    note = recipe.sampling.precedence_note()
    if note:
        print(f"note: {note}", file=sys.stderr)
    result = label_dataset(recipe, invocation.run)
    stats = result.stats
    return Outcome(
        metrics={k: stats[k] for k in ("labeled", "unparsable", "mean_score", "sampled",
                                       "failed", "requests", "cache_hits")},
        table=per_language_table(stats),
        lines=[f"labeled {stats['labeled']} of {stats['sampled']} sampled files "
               f"({stats['unparsable']} unparsable, {stats['failed']} failed; "
               f"{stats['requests']} requests, {stats['cache_hits']} cache hits)",
               f"labels: {result.labels}"])


def per_language_table(stats: dict[str, Any]) -> Any:
    """Sampled, labeled and unparsable files per language, and the mean score."""
    from rich.table import Table

    table = Table(title=f"labels: mean score {stats['mean_score']} ({stats['teacher']})")
    for column in ("language", "sampled", "labeled", "unparsable"):
        table.add_column(column, justify="left" if column == "language" else "right")
    for lang, sampled in stats["sampled_per_language"].items():
        table.add_row(lang, str(sampled), str(stats["labeled_per_language"].get(lang, 0)),
                      str(stats["unparsable_per_language"].get(lang, 0)))
    return table


COMMAND = Command(
    name="curate.label", recipe=LabelRecipe, work=label,
    help="Label a per-language sample of DATASET 0-10 with a teacher (the Seed-Coder rubric).",
    inputs="dataset", step="label", key_metrics=("labeled", "unparsable", "mean_score"),
    aliases=(Alias(("--recipe",), RECIPE, hint="pass the recipe YAML as the first argument: "
                   "codekiln curate label RECIPE DATASET"),))
