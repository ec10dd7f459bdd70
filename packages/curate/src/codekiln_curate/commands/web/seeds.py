"""``codekiln curate web seeds PAGES --output DIR``: heuristic positives (code-like <pre>)
and negatives (no code tags) for the recall classifier."""

from __future__ import annotations

from codekiln_core.cli.contract import Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_curate.web.recipes import SeedsRecipe


def seeds(invocation: Invocation[SeedsRecipe]) -> Outcome:
    from codekiln_curate.web.seeds import write_seeds

    stats = write_seeds(invocation.recipe, invocation.run)
    out = invocation.recipe.output
    return Outcome(metrics=stats, lines=[
        f"positives {stats['positives']}, negatives {stats['negatives']}, ambiguous (left "
        f"out) {stats['ambiguous']}",
        f"--positives {out / 'positives'} --negatives {out / 'negatives'}"])


COMMAND = Command(
    name="curate.web.seeds", recipe=SeedsRecipe, work=seeds,
    help="Split extracted pages into heuristic positives/negatives (code-like <pre> vs none).",
    inputs="pages", resumable=False, key_metrics=("positives", "negatives"))
