"""``codekiln posttrain data verl PROMPTS --output FILE``: RL prompts as verl's parquet
dataset."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from codekiln_core.cli.contract import Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_core.config import RecipeModel
from codekiln_posttrain.chat.datasets import dataset_input


class VerlDataConfig(RecipeModel):
    """The recipe of ``codekiln posttrain data verl``."""

    prompts: Path = Field(description="RL prompts (file or directory): prompt messages and "
                          "tests")
    output: Path = Field(description="verl's dataset: a .parquet file")


def to_verl(invocation: Invocation[VerlDataConfig]) -> Outcome:
    """Every prompt row in verl's schema (data_source, prompt, reward_model, ...)."""
    from codekiln_posttrain.grpo.verl_backend import write_verl_dataset

    recipe = invocation.recipe
    rows = write_verl_dataset(recipe.prompts, recipe.output, invocation.run)
    return Outcome(metrics={"rows": rows}, lines=[f"output: {recipe.output}"])


COMMAND = Command(
    name="posttrain.data.verl", recipe=VerlDataConfig, work=to_verl,
    help="Write RL prompts as verl's parquet dataset (data_source, prompt, reward_model, ...).",
    output="file", inputs="prompts", resumable=False, key_metrics=("rows",),
    lineage_inputs=lambda recipe: [dataset_input(recipe.prompts, "prompts")])
