"""GRPO on verl (``backend: verl``): our dataset as verl parquet, our reward module, and
the Hydra overrides that are seed-coder.md §8, launched as ``python -m verl.trainer.main_ppo``.

verl runs on Ray with vLLM rollouts on GPUs; nothing here imports verl, so the command
line can be built and checked anywhere.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError

if TYPE_CHECKING:
    from codekiln_core.lineage import LineageRun
    from codekiln_posttrain.recipe import GrpoRecipe

DATA_SOURCE = "codekiln/code-tests"


@dataclass
class VerlLaunch:
    """The dataset written for verl and its command line (run, or only shown)."""

    train_file: Path
    command: list[str]
    returncode: int | None  # None: dry run, not launched


def verl_rows(rows: list[dict[str, Any]], data_source: str = DATA_SOURCE
              ) -> list[dict[str, Any]]:
    """RL rows in verl's dataset schema (``RLHFDataset``)."""
    out = []
    for index, row in enumerate(rows):
        if "tests" not in row:
            raise ConfigError(f"RL row {row.get('id')}: no 'tests' column; GRPO rewards run "
                              "each prompt's tests")
        truth = {"tests": row["tests"], "language": row.get("language", "python"),
                 "setup": row.get("setup", "")}
        out.append({
            "data_source": data_source,
            "prompt": row["prompt"],
            "ability": "code",
            "reward_model": {"style": "rule", "ground_truth": json.dumps(truth)},
            "extra_info": {"index": index, "id": str(row["id"])},
        })
    return out


def write_verl_parquet(rows: list[dict[str, Any]], path: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from codekiln_core.fsio import atomic_path

    with atomic_path(path) as tmp:
        pq.write_table(pa.Table.from_pylist(verl_rows(rows)), tmp)
    return path


def reward_module_path() -> Path:
    from codekiln_posttrain.grpo import verl_reward

    return Path(verl_reward.__file__).resolve()


def loaded_on_the_cluster(ref: str) -> bool:
    """verl's workers load ``ref`` themselves: a hub id (fetched on every node), or a path
    this host does not see (the cluster's shared filesystem, e.g. an earlier stage's actor)."""
    from codekiln_core.start_model import parse_start_model

    here = ref.startswith(("models:/", "pkg:")) or Path(ref).expanduser().exists()
    return not here or parse_start_model(ref, key="model").kind == "hub"


def verl_model_path(ref: str) -> str:
    """What verl loads: ``ref`` as it is when loaded on the cluster, else (pkg:NAME, a .gguf,
    models:/, a local directory) the local directory it becomes."""
    from codekiln_core.start_model import parse_start_model, start_model_dir

    if loaded_on_the_cluster(ref):
        return ref
    return str(start_model_dir(parse_start_model(ref, key="model")))


def hydra_overrides(recipe: GrpoRecipe, train_file: Path, val_file: Path | None = None
                    ) -> list[str]:
    """seed-coder.md §8 as verl 0.9.1 config keys: GRPO, batch 128, lr 1e-6, T=0.6, no KL,
    clip-high 0.28, token-level loss, DAPO group filtering, our sandbox reward."""
    g, v = recipe.grpo, recipe.verl
    stage = g.stages[0]
    if len(g.stages) > 1:
        raise ConfigError("verl backend: one stage per launch; run the progressive schedule "
                          "as consecutive launches (resume from the previous checkpoint)")
    mini = v.mini_batch or g.prompts_per_step
    overrides = [
        "algorithm.adv_estimator=grpo",
        "algorithm.norm_adv_by_std_in_grpo=true",
        "algorithm.use_kl_in_reward=false",
        "algorithm.filter_groups.enable=true",       # drop all-correct / all-wrong groups
        "algorithm.filter_groups.metric=acc",
        f"data.train_files={train_file}",
        f"data.val_files={val_file or train_file}",
        f"data.train_batch_size={g.prompts_per_step}",
        f"data.max_prompt_length={v.max_prompt_length}",
        f"data.max_response_length={stage.max_new_tokens}",
        "data.filter_overlong_prompts=true",
        f"actor_rollout_ref.model.path={verl_model_path(recipe.model)}",
        f"actor_rollout_ref.actor.optim.lr={g.lr}",
        f"actor_rollout_ref.actor.ppo_mini_batch_size={mini}",
        f"actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu={v.micro_batch_per_gpu}",
        "actor_rollout_ref.actor.use_kl_loss=false",
        "actor_rollout_ref.actor.kl_loss_coef=0.0",
        "actor_rollout_ref.actor.entropy_coeff=0",
        f"actor_rollout_ref.actor.clip_ratio_low={g.eps_low}",
        f"actor_rollout_ref.actor.clip_ratio_high={g.eps_high}",
        "actor_rollout_ref.actor.loss_agg_mode=token-mean",
        "actor_rollout_ref.rollout.name=vllm",
        f"actor_rollout_ref.rollout.n={stage.rollouts}",
        f"actor_rollout_ref.rollout.temperature={g.temperature}",
        f"actor_rollout_ref.rollout.top_p={g.top_p}",
        f"actor_rollout_ref.rollout.tensor_model_parallel_size={v.tensor_parallel}",
        f"reward.custom_reward_function.path={reward_module_path()}",
        "reward.custom_reward_function.name=compute_score",
        # DAPO's overlong handling as verl 0.9.1 offers it: the dapo reward manager's
        # overlong buffer (answers reaching the last quarter of the budget lose reward).
        "reward.reward_manager.name=dapo",
        f"+reward.reward_kwargs.max_resp_len={stage.max_new_tokens}",
        "+reward.reward_kwargs.overlong_buffer_cfg.enable=true",
        f"+reward.reward_kwargs.overlong_buffer_cfg.len={max(1, stage.max_new_tokens // 4)}",
        "+reward.reward_kwargs.overlong_buffer_cfg.penalty_factor=1.0",
        "+reward.reward_kwargs.overlong_buffer_cfg.log=true",
        f"trainer.nnodes={v.nodes}",
        f"trainer.n_gpus_per_node={v.gpus_per_node}",
        f"trainer.total_training_steps={stage.steps}",
        f"trainer.default_local_dir={recipe.output / 'verl'}",
        "trainer.logger=[console]",
        "trainer.project_name=codekiln",
        f"trainer.experiment_name={recipe.output.name}",
    ]
    return overrides + list(v.extra_overrides)


def launch_command(recipe: GrpoRecipe, train_file: Path) -> list[str]:
    return [sys.executable, "-m", "verl.trainer.main_ppo", *hydra_overrides(recipe, train_file)]


def launch_verl(recipe: GrpoRecipe) -> VerlLaunch:
    """Write verl's parquet (decontaminated) and run main_ppo (``dry_run``: only build it)."""
    import importlib.util
    import os

    from codekiln_posttrain.chat.datasets import read_rows
    from codekiln_posttrain.chat.decontam import checked_rows
    from codekiln_posttrain.grpo.verl_reward import SANDBOX_URL_ENV

    rows, _ = checked_rows(read_rows(recipe.data, "rl"), recipe.decontamination)
    train_file = write_verl_parquet(rows, recipe.output / "verl" / "train.parquet")
    command = launch_command(recipe, train_file)
    if recipe.dry_run:
        return VerlLaunch(train_file, command, None)
    if importlib.util.find_spec("verl") is None:
        raise ConfigError("backend verl needs verl: install codekiln-posttrain[verl] (Linux, "
                          "GPUs, vLLM from codekiln-serve[vllm])")
    env = None
    if recipe.grpo.sandbox_url:
        env = {**os.environ, SANDBOX_URL_ENV: recipe.grpo.sandbox_url}
    done = subprocess.run(command, env=env, check=False)
    if done.returncode:
        raise ConfigError(f"verl exited with status {done.returncode}; see its log above")
    return VerlLaunch(train_file, command, done.returncode)


def write_verl_dataset(prompts: Path, output: Path, run: LineageRun) -> int:
    """The RL prompts of ``prompts`` as verl's parquet in ``output``; returns the rows."""
    from codekiln_posttrain.chat.datasets import read_rows

    rows = read_rows(prompts, "rl")
    write_verl_parquet(rows, output)
    run.log_metrics({"rows": len(rows)})
    run.log_output(output, name="verl-data")
    return len(rows)
