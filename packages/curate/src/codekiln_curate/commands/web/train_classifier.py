"""``codekiln curate web train-classifier --positives DIR --negatives DIR --output DIR``: the
fastText recall classifier, thresholded for a target validation recall."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codekiln_core.cli.contract import Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_curate.web.recipes import TrainClassifierRecipe

if TYPE_CHECKING:
    from collections.abc import Iterator

    from codekiln_core.lineage import InputRef


def train_classifier(invocation: Invocation[TrainClassifierRecipe]) -> Outcome:
    from codekiln_curate.web.classifier import train_recall_classifier

    recipe = invocation.recipe
    meta = train_recall_classifier(recipe, invocation.run)
    m, v, at_half = meta["metrics"], meta["validation"], meta["metrics_at_0_5"]
    return Outcome(
        metrics={f"valid_{k}": v for k, v in m.items()},
        lines=[f"validation: {v['positives']} positives, {v['negatives']} negatives",
               f"threshold {m['threshold']:.4f} (target recall {recipe.target_recall}): "
               f"precision {m['precision']:.3f} recall {m['recall']:.3f} F1 {m['f1']:.3f}",
               f"at 0.5: precision {at_half['precision']:.3f} recall "
               f"{at_half['recall']:.3f} F1 {at_half['f1']:.3f}",
               f"model: {recipe.output}"])


def seed_pages(recipe: TrainClassifierRecipe) -> Iterator[InputRef]:
    from codekiln_curate.lineage_inputs import named_inputs

    return named_inputs(("positives", recipe.positives, "positives"),
                        ("negatives", recipe.negatives, "negatives"))


COMMAND = Command(
    name="curate.web.train-classifier", recipe=TrainClassifierRecipe, work=train_classifier,
    help="Train the fastText recall classifier; print validation precision/recall/F1.",
    resumable=False, key_metrics=("valid_precision", "valid_recall", "valid_f1"),
    lineage_inputs=seed_pages)
