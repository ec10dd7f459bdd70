"""``codekiln posttrain data import SOURCE --output FILE [--format F]``: an existing SFT set
as validated ``messages`` rows."""

from __future__ import annotations

from codekiln_core.cli.contract import Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_posttrain.data.importing import ImportConfig, import_inputs


def import_set(invocation: Invocation[ImportConfig]) -> Outcome:
    """Convert every row of the source; write them whole."""
    from codekiln_posttrain.data.importing import import_sft_set

    recipe = invocation.recipe
    counts = import_sft_set(recipe, invocation.run)
    return Outcome(metrics=counts, lines=[f"output: {recipe.output}"])


COMMAND = Command(
    name="posttrain.data.import", recipe=ImportConfig, work=import_set,
    help="Import an existing SFT set (messages, alpaca, sharegpt, prompt-response, mbpp) as "
         "messages rows.",
    output="file", inputs="source", resumable=False, step="import", key_metrics=("rows",),
    lineage_inputs=import_inputs)
