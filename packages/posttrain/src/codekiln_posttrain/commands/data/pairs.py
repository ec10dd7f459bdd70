"""``codekiln posttrain data pairs PROMPTS --output FILE (--model DIR | --endpoint URL
--endpoint-model NAME)``: on-policy DPO pairs judged in the sandbox."""

from __future__ import annotations

from codekiln_core.cli.contract import Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_posttrain.data.pairs import PairsConfig, pairs_inputs


def make_pairs(invocation: Invocation[PairsConfig]) -> Outcome:
    """Sample answers per prompt; a passing and a failing one make a pair."""
    from codekiln_posttrain.data.pairs import sample_preference_pairs

    recipe = invocation.recipe
    counts = sample_preference_pairs(recipe, invocation.run)
    return Outcome(metrics=counts, lines=[f"output: {recipe.output}"])


COMMAND = Command(
    name="posttrain.data.pairs", recipe=PairsConfig, work=make_pairs,
    help="On-policy DPO pairs: chosen passes the prompt's tests in the sandbox, rejected "
         "fails.",
    output="file", inputs="prompts", resumable=False, step="pairs",
    key_metrics=("pairs", "reference_chosen", "empty"),
    lineage_inputs=pairs_inputs)
