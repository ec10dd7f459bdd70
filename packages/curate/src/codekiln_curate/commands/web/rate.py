"""``codekiln curate web rate [RECIPE] PAGES --output DIR``: rate pages 0-10 with a teacher
and keep them by per-category thresholds; ``--resume`` reuses the cached answers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codekiln_core.cli.contract import RECIPE, Alias, Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_curate.web.recipes import WebRateRecipe

if TYPE_CHECKING:
    from collections.abc import Iterator

    from codekiln_core.lineage import InputRef


def rate(invocation: Invocation[WebRateRecipe]) -> Outcome:
    from codekiln_curate.web.rate import rate_dataset

    stats = rate_dataset(invocation.recipe, invocation.run).stats
    return Outcome(
        metrics={k: stats[k] for k in ("pages", "rated", "kept", "unparsable", "failed")},
        lines=[f"rated {stats['rated']} of {stats['pages']} pages, kept {stats['kept']} "
               f"({stats['unparsable']} unparsable, {stats['failed']} failed; "
               f"{stats['requests']} requests, {stats['cache_hits']} cache hits)",
               f"kept per category: {stats['kept_per_category']}"])


def pages(recipe: WebRateRecipe) -> Iterator[InputRef]:
    from codekiln_curate.lineage_inputs import named_inputs

    return named_inputs(("dataset", recipe.dataset, "web-pages"))


COMMAND = Command(
    name="curate.web.rate", recipe=WebRateRecipe, work=rate,
    help="Rate pages 0-10 with a teacher model; keep them by per-category thresholds.",
    inputs="dataset", key_metrics=("kept", "rated", "unparsable"),
    aliases=(Alias(("--recipe",), RECIPE, hint="pass the recipe YAML as the first argument: "
                   "codekiln curate web rate RECIPE PAGES"),),
    lineage_inputs=pages)
