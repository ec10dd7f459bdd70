"""``codekiln posttrain grpo``: dispatch to the local loop or to verl."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

from codekiln_core.errors import ConfigError

if TYPE_CHECKING:
    from codekiln_posttrain.recipe import GrpoRecipe


@dataclass
class VerlLaunch:
    train_file: str
    command: list[str]
    returncode: int | None  # None: dry run, not launched


def prepare_verl(recipe: GrpoRecipe, *, launch: bool) -> VerlLaunch:
    """Write verl's parquet (decontaminated) and build, or run, the main_ppo command."""
    import importlib.util

    from codekiln_posttrain.chat.datasets import read_rows
    from codekiln_posttrain.chat.decontam import checked_rows
    from codekiln_posttrain.grpo.verl_backend import launch_command, write_verl_parquet

    rows, _ = checked_rows(read_rows(recipe.data, "rl"), recipe.decontamination)
    train_file = write_verl_parquet(rows, recipe.output / "verl" / "train.parquet")
    command = launch_command(recipe, train_file)
    if not launch:
        return VerlLaunch(str(train_file), command, None)
    if importlib.util.find_spec("verl") is None:
        raise ConfigError("--backend verl needs verl: install codekiln-posttrain[verl] (Linux, "
                          "GPUs, vLLM from codekiln-serve[vllm])")
    env = None
    if recipe.grpo.sandbox_url:
        import os

        from codekiln_posttrain.grpo.verl_reward import SANDBOX_URL_ENV

        env = {**os.environ, SANDBOX_URL_ENV: recipe.grpo.sandbox_url}
    done = subprocess.run(command, env=env, check=False)
    if done.returncode:
        raise ConfigError(f"verl exited with status {done.returncode}; see its log above")
    return VerlLaunch(str(train_file), command, done.returncode)
