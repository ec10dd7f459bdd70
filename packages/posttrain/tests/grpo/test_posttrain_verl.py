"""verl on CPU: its RLHFDataset reads our parquet, its reward manager scores through our
reward module (real sandbox), its SandboxFusion client runs against our fusion server, and
the Hydra overrides are seed-coder.md §8."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from codekiln_posttrain.grpo.verl_backend import (
    hydra_overrides,
    reward_module_path,
    write_verl_parquet,
)
from codekiln_posttrain.recipe import GrpoRecipe

from ..conftest import PROBLEMS, fenced, rl_rows

verl = pytest.importorskip("verl", reason="verl is a Linux dev/extra dependency")
pytestmark = [pytest.mark.slow, pytest.mark.sandbox]


def test_rlhf_dataset_reads_our_parquet(tmp_path: Path, tokenizer: Any) -> None:
    from omegaconf import OmegaConf
    from verl.utils.dataset.rl_dataset import RLHFDataset

    parquet = write_verl_parquet(rl_rows(), tmp_path / "train.parquet")
    dataset = RLHFDataset(str(parquet), tokenizer, OmegaConf.create({
        "max_prompt_length": 512, "cache_dir": str(tmp_path / "cache"),
        "filter_overlong_prompts": True}))
    assert len(dataset) == len(PROBLEMS)
    item = dataset[0]
    assert item["data_source"] == "codekiln/code-tests" and item["ability"] == "code"
    assert [m["content"] for m in item["raw_prompt"]] == [PROBLEMS[0]["prompt"]]
    assert '"tests"' in item["reward_model"]["ground_truth"]


def data_proto(tokenizer: Any, rows: list[dict[str, Any]], answers: list[str]) -> Any:
    import numpy as np
    import torch
    from verl import DataProto

    ids = [tokenizer(a, add_special_tokens=False)["input_ids"] for a in answers]
    width, prompt = max(map(len, ids)), 4
    pad = tokenizer.pad_token_id
    return DataProto.from_dict(
        tensors={"prompts": torch.zeros(len(ids), prompt, dtype=torch.long),
                 "responses": torch.tensor([r + [pad] * (width - len(r)) for r in ids]),
                 "attention_mask": torch.tensor([[1] * (prompt + len(r)) + [0] * (width - len(r))
                                                 for r in ids])},
        non_tensors={key: np.array([r[key] for r in rows], dtype=object)
                     for key in ("data_source", "reward_model", "extra_info")})


def test_verl_reward_manager_scores_through_our_module(tmp_path: Path, tokenizer: Any) -> None:
    from codekiln_posttrain.grpo.verl_backend import verl_rows

    rows = verl_rows(rl_rows()[:3])
    answers = [fenced(PROBLEMS[0]["solution"]), fenced(PROBLEMS[1]["wrong"]),
               fenced("def rev(s):\n    while True:\n        pass\n")]  # hangs: a timeout
    data = data_proto(tokenizer, rows, answers)

    async def score() -> list[dict[str, Any]]:
        from omegaconf import OmegaConf
        from verl.trainer.ppo.reward import load_reward_manager

        config = OmegaConf.create({"reward": {
            "custom_reward_function": {"path": str(reward_module_path()),
                                       "name": "compute_score", "reward_kwargs": {}},
            "reward_manager": {"source": "register", "name": "naive"}}})
        manager = load_reward_manager(config, tokenizer)
        return [await manager.run_single(data[i:i + 1]) for i in range(len(answers))]

    import os

    os.environ["CODEKILN_SANDBOX_TIMEOUT"] = "2"
    results = asyncio.run(score())
    assert [r["reward_score"] for r in results] == [1.0, 0.0, 0.0]
    assert all(r["reward_extra_info"]["sandbox_error"] == 0.0 for r in results)


def test_our_fusion_server_is_verls_sandbox_fusion_url() -> None:
    from verl.utils.reward_score import sandbox_fusion

    from codekiln_core.sandbox import LocalSandbox
    from codekiln_core.sandbox.fusion_server import make_server

    with LocalSandbox(workers=2) as sandbox:
        server = make_server(sandbox)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{server.server_port}/run_code"
        try:
            problem = PROBLEMS[0]
            cases = {"assert_case": problem["tests"]}
            good, _ = sandbox_fusion.compute_score(url, None, 1024,
                                                   fenced(problem["solution"]), cases)
            bad, _ = sandbox_fusion.compute_score(url, None, 1024, fenced(problem["wrong"]),
                                                  cases)
        finally:
            server.shutdown()
            server.server_close()
    # verl scores the share of assert cases passed: a - b still passes add(0, 0) == 0.
    assert (float(good), float(bad)) == (1.0, 0.5)


def test_hydra_overrides_are_spec_section_8(tmp_path: Path) -> None:
    recipe = GrpoRecipe.model_validate({
        "model": "ByteDance-Seed/Seed-Coder-8B-Base", "data": tmp_path / "rl.jsonl",
        "output": tmp_path / "out", "backend": "verl",
        "grpo": {"stages": [{"steps": 90, "max_new_tokens": 16384, "rollouts": 16}]}})
    overrides = dict(o.split("=", 1) for o in hydra_overrides(recipe, tmp_path / "t.parquet"))
    assert overrides["algorithm.adv_estimator"] == "grpo"
    assert overrides["data.train_batch_size"] == "128"
    assert overrides["actor_rollout_ref.actor.optim.lr"] == "1e-06"
    assert overrides["actor_rollout_ref.rollout.temperature"] == "0.6"
    assert overrides["actor_rollout_ref.actor.use_kl_loss"] == "false"
    assert overrides["algorithm.use_kl_in_reward"] == "false"
    assert overrides["actor_rollout_ref.actor.clip_ratio_high"] == "0.28"
    assert overrides["actor_rollout_ref.actor.loss_agg_mode"] == "token-mean"
    assert overrides["actor_rollout_ref.rollout.n"] == "16"
    assert overrides["data.max_response_length"] == "16384"
    assert overrides["+reward.reward_kwargs.overlong_buffer_cfg.enable"] == "true"
    assert overrides["reward.custom_reward_function.path"].endswith("verl_reward.py")


def test_verl_config_accepts_our_overrides(tmp_path: Path) -> None:
    """verl's own Hydra config composes with every override (no GPU needed to check keys)."""
    from hydra import compose, initialize_config_dir

    recipe = GrpoRecipe.model_validate({
        "model": "some/model", "data": tmp_path / "rl.jsonl", "output": tmp_path / "out",
        "backend": "verl",
        "grpo": {"stages": [{"steps": 2, "max_new_tokens": 256, "rollouts": 4}]}})
    config_dir = Path(verl.__file__).parent / "trainer" / "config"
    with initialize_config_dir(config_dir=str(config_dir), version_base=None):
        config = compose(config_name="ppo_trainer",
                         overrides=hydra_overrides(recipe, tmp_path / "t.parquet"))
    assert config.actor_rollout_ref.actor.clip_ratio_high == 0.28
    assert config.reward.reward_kwargs.overlong_buffer_cfg.len == 64
    assert config.algorithm.filter_groups.enable is True
