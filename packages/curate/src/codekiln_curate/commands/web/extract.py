"""``codekiln curate web extract SOURCE --output DIR``: text with code blocks kept verbatim
(fenced) from every page of SOURCE."""

from __future__ import annotations

from codekiln_core.cli.contract import Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_curate.web.recipes import ExtractRecipe


def extract(invocation: Invocation[ExtractRecipe]) -> Outcome:
    from codekiln_curate.web.extract import extract_dataset

    result = extract_dataset(invocation.recipe, invocation.run)
    stats = result.stats
    return Outcome(
        metrics={k: stats[k] for k in ("pages", "kept", "dropped", "with_code_tags")},
        lines=[f"kept {stats['kept']} of {stats['pages']} pages ({stats['with_code_tags']} "
               f"with code tags); dropped {stats['dropped_per_reason'] or 0}",
               f"pages: {result.pages}"])


COMMAND = Command(
    name="curate.web.extract", recipe=ExtractRecipe, work=extract,
    help="Extract text (code blocks kept verbatim, fenced) from every page of SOURCE.",
    inputs="source", resumable=False, key_metrics=("kept", "pages"))
