"""``codekiln posttrain grpo RECIPE [PROMPTS]... --output DIR``: GRPO with DAPO's settings,
in the local loop or on verl (``--backend verl``)."""

from __future__ import annotations

from functools import partial

from codekiln_core.cli.contract import Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_posttrain.finetune import model_lines, start_inputs
from codekiln_posttrain.recipe import GrpoRecipe
from codekiln_train.engine.launcher import launch_ranks


def train_with_rewards(invocation: Invocation[GrpoRecipe]) -> Outcome:
    """The local loop trains, exports and registers; verl is launched (or, with
    ``dry_run``, its dataset written and its command shown)."""
    recipe = invocation.recipe
    if recipe.backend == "verl":
        from codekiln_posttrain.grpo.verl_backend import launch_verl

        launch = launch_verl(recipe)
        return Outcome(lines=[f"verl dataset: {launch.train_file}", " ".join(launch.command)])
    from codekiln_posttrain.grpo.loop import train_grpo_local

    result = train_grpo_local(recipe, run=invocation.run, resume=invocation.resume)
    metrics = {"steps": result.steps, "updates": result.updates,
               "groups_kept_total": result.groups_kept, "prompts": result.prompts,
               "curriculum_dropped": result.curriculum_dropped,
               "mean_reward": result.mean_reward}
    return Outcome(metrics=metrics,
                   lines=model_lines(result.model_dir, result.model_uri, recipe.register_as))


COMMAND = Command(
    name="posttrain.grpo", recipe=GrpoRecipe, work=train_with_rewards,
    help="GRPO with DAPO's settings: the local loop, or verl on Ray (--backend verl).",
    # --resume continues the local loop from its last checkpoint (verl resumes itself).
    inputs="data", registers=True, resumable=True, step="grpo",
    key_metrics=("reward_mean", "updates", "groups_kept_total"),
    launch=launch_ranks, lineage_inputs=partial(start_inputs, data_name="rl-prompts"))
