"""``codekiln posttrain data instruct CURATED --output DIR --endpoint URL --model NAME``:
OSS-Instruct synthesis, kept only when the sandbox self-check passes."""

from __future__ import annotations

from codekiln_core.cli.contract import Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_posttrain.chat.datasets import dataset_input
from codekiln_posttrain.data.instruct import InstructConfig


def synthesize(invocation: Invocation[InstructConfig]) -> Outcome:
    """Ask the teacher for a problem per seed; keep the ones whose solution passes."""
    from codekiln_posttrain.data.instruct import synthesize_instructions

    recipe = invocation.recipe
    counts = synthesize_instructions(recipe, invocation.run)
    return Outcome(metrics=counts, lines=[f"output: {recipe.output}"])


COMMAND = Command(
    name="posttrain.data.instruct", recipe=InstructConfig, work=synthesize,
    help="OSS-Instruct synthesis from the best seeds, kept only when the sandbox self-check "
         "passes.",
    inputs="curated", step="instruct",
    lineage_inputs=lambda recipe: [dataset_input(recipe.curated, "seeds")])
