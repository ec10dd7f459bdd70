"""``codekiln posttrain data from-code CURATED --output FILE``: instructions made from
curated code, no teacher."""

from __future__ import annotations

from codekiln_core.cli.contract import Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_posttrain.chat.datasets import dataset_input
from codekiln_posttrain.data.from_code import FromCodeConfig


def from_code(invocation: Invocation[FromCodeConfig]) -> Outcome:
    """Each documented function's signature and docstring becomes a task, its body the
    answer."""
    from codekiln_posttrain.data.from_code import instructions_from_code

    recipe = invocation.recipe
    counts = instructions_from_code(recipe, invocation.run)
    return Outcome(metrics=counts, lines=[f"output: {recipe.output}"])


COMMAND = Command(
    name="posttrain.data.from-code", recipe=FromCodeConfig, work=from_code,
    help="Instructions from curated code: each documented function's signature and "
         "docstring.",
    output="file", inputs="curated", resumable=False, step="from-code", key_metrics=("rows",),
    lineage_inputs=lambda recipe: [dataset_input(recipe.curated, "curated")])
