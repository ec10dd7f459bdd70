"""``codekiln posttrain sft RECIPE [DATA]... --output DIR``: supervised fine-tuning on
codekiln-train's engine."""

from __future__ import annotations

from functools import partial

from codekiln_core.cli.contract import Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_posttrain.finetune import model_lines, start_inputs
from codekiln_posttrain.recipe import SftRecipe
from codekiln_train.engine.launcher import launch_ranks


def supervised_fine_tune(invocation: Invocation[SftRecipe]) -> Outcome:
    """Pack the conversations and train on the assistant turns; export and register."""
    from codekiln_posttrain.sft import train_sft

    recipe = invocation.recipe
    result = train_sft(recipe, run=invocation.run, resume=invocation.resume)
    metrics = {"steps": result.steps, "train_loss": result.final_loss,
               "conversations": result.conversations, "sequences": result.sequences,
               "fill": result.fill, "truncated": result.truncated,
               "dropped_contaminated": result.dropped_contaminated,
               "step_time_s": result.step_time_s, "tokens_per_s": result.tokens_per_s,
               **result.signals}
    return Outcome(metrics=metrics,
                   lines=model_lines(result.model_dir, result.model_uri, recipe.register_as))


COMMAND = Command(
    name="posttrain.sft", recipe=SftRecipe, work=supervised_fine_tune,
    help="Supervised fine-tuning: packed, loss on assistant turns, on codekiln-train's engine.",
    inputs="data", registers=True, step="sft",
    key_metrics=("train_loss", "grad_norm_min", "target_tokens"),
    launch=launch_ranks, lineage_inputs=partial(start_inputs, data_name="sft-data"))
