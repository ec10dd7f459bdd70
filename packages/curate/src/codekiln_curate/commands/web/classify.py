"""``codekiln curate web classify PAGES --model DIR --output DIR``: score pages with the
recall classifier; keep those at or above the threshold."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codekiln_core.cli.contract import Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_curate.web.recipes import ClassifyRecipe

if TYPE_CHECKING:
    from collections.abc import Iterator

    from codekiln_core.lineage import InputRef


def classify(invocation: Invocation[ClassifyRecipe]) -> Outcome:
    from codekiln_curate.web.classify import classify_pages

    stats = classify_pages(invocation.recipe, invocation.run)
    return Outcome(metrics=stats, lines=[
        f"kept {stats['kept']} of {stats['pages']} pages at threshold "
        f"{stats['threshold']:.4f}",
        f"pages: {invocation.recipe.output / 'pages.parquet'}"])


def pages_and_model(recipe: ClassifyRecipe) -> Iterator[InputRef]:
    from codekiln_curate.lineage_inputs import named_inputs

    return named_inputs(("dataset", recipe.dataset, "web-pages"),
                        ("model", recipe.model, "classifier"))


COMMAND = Command(
    name="curate.web.classify", recipe=ClassifyRecipe, work=classify,
    help="Score pages with the recall classifier; keep those at or above the threshold.",
    inputs="dataset", resumable=False, key_metrics=("kept", "pages"),
    lineage_inputs=pages_and_model)
