"""``codekiln posttrain dpo RECIPE [PAIRS]... --output DIR``: sigmoid DPO on stored
reference log-probs, on codekiln-train's engine."""

from __future__ import annotations

from functools import partial

from codekiln_core.cli.contract import Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_posttrain.finetune import model_lines, start_inputs
from codekiln_posttrain.recipe import DpoRecipe
from codekiln_train.engine.launcher import launch_ranks


def train_on_preferences(invocation: Invocation[DpoRecipe]) -> Outcome:
    """Score the pairs with the start model once, train on them; export and register."""
    from codekiln_posttrain.dpo import train_dpo

    recipe = invocation.recipe
    result = train_dpo(recipe, run=invocation.run, resume=invocation.resume)
    metrics = {"steps": result.steps, "first_loss": result.first_loss,
               "train_loss": result.final_loss, **result.signals, "pairs": result.pairs,
               "dropped_contaminated": result.dropped_contaminated,
               "dropped_identical": result.dropped_identical,
               "step_time_s": result.step_time_s}
    return Outcome(metrics=metrics,
                   lines=model_lines(result.model_dir, result.model_uri, recipe.register_as))


#: What the pipeline's summary shows of a DPO run: the loss, the smallest gradient norm of
#: any step, and the last step's implicit rewards (TRL's names).
DPO_SIGNALS = ("train_loss", "grad_norm_min", "rewards/accuracies", "rewards/margins",
               "rewards/chosen")

COMMAND = Command(
    name="posttrain.dpo", recipe=DpoRecipe, work=train_on_preferences,
    help="Sigmoid DPO on stored reference log-probs, on codekiln-train's engine.",
    inputs="data", registers=True, step="dpo", key_metrics=DPO_SIGNALS,
    launch=launch_ranks, lineage_inputs=partial(start_inputs, data_name="dpo-pairs"))
