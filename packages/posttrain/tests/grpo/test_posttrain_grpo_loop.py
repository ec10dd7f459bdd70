"""GRPO pieces (advantages, group filter, curriculum, stages) and the local loop end to end
on the tiny pretrained model, with a TRL-style reward registered by a test plugin."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from codekiln_core.hookspecs import hookimpl
from codekiln_core.plugins import get_plugin_manager
from codekiln_core.registry import Registry
from codekiln_posttrain.grpo.curriculum import (
    Stage,
    keep_for_curriculum,
    pass_rates,
    stage_at,
    total_steps,
)
from codekiln_posttrain.grpo.objective import filter_groups, group_advantages

from ..conftest import decontam_section, pretrained_model, rl_rows, write_jsonl


def test_group_advantages_and_filters() -> None:
    import torch

    adv = group_advantages(torch.tensor([1.0, 0.0, 1.0, 1.0]), 2)
    assert adv[2:].tolist() == [0.0, 0.0] and adv[0] > 0 > adv[1]
    chosen = filter_groups([1.0, 0.0, 1.0, 1.0, None, 0.0, 1.0, 0.0],
                           [False, False, False, False, False, False, True, False], 2)
    # group 2 all right, group 3 one unscored (one scored value: uniform), group 4 overlong
    assert chosen.keep == [True, True, False, False, False, False, False, True]
    assert (chosen.uniform_groups, chosen.unscored, chosen.overlong) == (2, 1, 1)


def test_curriculum_and_progressive_stages() -> None:
    rates = pass_rates([1, 1, 1, 1, 1, 1, 1, 0, None, None, 0, 1], 4)
    assert rates == [1.0, 0.75, 0.5]
    assert keep_for_curriculum([1.0, 0.875, 0.9, None]) == [False, True, False, True]
    stages = [Stage(steps=90, max_new_tokens=16384, rollouts=16),
              Stage(steps=160, max_new_tokens=32768, rollouts=32)]
    assert total_steps(stages) == 250
    assert stage_at(stages, 89)[0] == 0 and stage_at(stages, 90)[1].rollouts == 32


def shaped_reward(prompts: list[str], completions: list[str], **_: Any) -> list[float]:
    """'add' is always solved (the curriculum drops it); others vary with the text."""
    return [1.0 if "add(a, b)" in p else (len(set(c)) % 7) / 7.0
            for p, c in zip(prompts, completions, strict=True)]


class TestRewards:
    @hookimpl
    def codekiln_register_rewards(self, register: Any) -> None:
        register("shaped", shaped_reward, description="test reward (TRL form)")


@pytest.mark.slow
@pytest.mark.sandbox
def test_local_loop_runs_stages_and_registers(tmp_path: Path, tokenizer_dir: Path,
                                              mlflow_store: str) -> None:
    import torch

    from codekiln_core.lineage.command import lineage_command
    from codekiln_posttrain.grpo.loop import train_grpo_local
    from codekiln_posttrain.recipe import GrpoRecipe

    os.environ.setdefault("TORCH_EXTENSIONS_DIR", "/work/cache/torch_extensions")
    torch.set_num_threads(1)
    pm = get_plugin_manager(warn=False)
    pm.register(TestRewards(), name="test-rewards")
    base = pretrained_model(tmp_path, tokenizer_dir, lineage=True)
    recipe = GrpoRecipe.model_validate({
        "model": str(base), "data": write_jsonl(tmp_path / "rl.jsonl", rl_rows()),
        "output": tmp_path / "grpo", "register_as": "tiny-reasoning", "max_seq_len": 512,
        "decontamination": decontam_section(), "seed": 0,
        # A random tiny model never stops within 12 tokens: every completion is overlong, so
        # the DAPO filter (unit-tested above) is switched off to see updates happen.
        "grpo": {"prompts_per_step": 2, "lr": 1e-3, "curriculum_samples": 2,
                 "filter_overlong": False,
                 "rewards": {"shaped": 1.0, "code-tests": 0.5, "format": 0.1},
                 "stages": [{"steps": 1, "max_new_tokens": 8, "rollouts": 2},
                            {"steps": 2, "max_new_tokens": 12, "rollouts": 4}]}})
    from safetensors.torch import load_file

    before = load_file(str(base / "model.safetensors"))
    with lineage_command("posttrain.grpo", config=recipe) as run:
        result = train_grpo_local(recipe, run=run, registry=Registry(pm))
    assert result.curriculum_dropped == 1 and result.prompts == 3
    assert [h["stage"] for h in result.history] == [0.0, 1.0, 1.0]
    assert result.updates >= 1 and result.model_uri == "models:/tiny-reasoning/1"
    assert result.history[0]["overlong"] == 4.0  # counted even when not filtered
    from codekiln_core.testing import logged_curves

    assert run.run_id is not None
    curves = logged_curves(run.run_id, tmp_path)  # the run's own plots/curves.png data
    assert [p[0] for p in curves["reward"]["reward_mean"]] == [1, 2, 3]
    assert len(curves["learning rate"]["lr"]) == len(curves["loss"]["loss"]) == result.updates
    after = load_file(str(Path(result.model_dir) / "model.safetensors"))
    assert any(not torch.equal(before[k], after[k]) for k in before)
