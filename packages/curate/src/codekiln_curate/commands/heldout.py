"""``codekiln curate heldout [DATASET]... --against CORPUS --output DIR``: a validation set
(MBPP's non-test solutions by default) checked to share no n-gram with the training
corpora."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codekiln_core.cli.contract import Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_curate.heldout import HeldoutRecipe

if TYPE_CHECKING:
    from collections.abc import Iterator

    from codekiln_core.lineage import InputRef


def heldout(invocation: Invocation[HeldoutRecipe]) -> Outcome:
    """Write OUTPUT/data/heldout.jsonl; documents overlapping --against go to dropped/."""
    from codekiln_curate.heldout import build_heldout

    result = build_heldout(invocation.recipe, invocation.run)
    ngram = invocation.recipe.ngram
    return Outcome(
        metrics={"documents": result.kept, "dropped_overlap": result.dropped,
                 "scanned": result.scanned, "chars": result.chars},
        lines=[f"held-out: {result.kept} documents ({result.chars} characters) in "
               f"{result.out_dir / 'data'}; {result.dropped} dropped for sharing a "
               f"{ngram}-gram with {result.scanned} training documents",
               f"output: {result.out_dir}"])


def datasets_and_corpora(recipe: HeldoutRecipe) -> Iterator[InputRef]:
    from codekiln_curate.lineage_inputs import named_inputs

    return named_inputs(*[("datasets", path, None) for path in recipe.datasets],
                        *[("against", path, None) for path in recipe.against])


COMMAND = Command(
    name="curate.heldout", recipe=HeldoutRecipe, work=heldout,
    help="Write a held-out set (MBPP's non-test solutions and DATASET...) that shares no "
         "n-gram with the --against corpora.",
    inputs="datasets", resumable=False, step="heldout",
    key_metrics=("documents", "dropped_overlap", "scanned"),
    lineage_inputs=datasets_and_corpora)
