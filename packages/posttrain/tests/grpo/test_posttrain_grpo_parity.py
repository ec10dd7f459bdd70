"""One GRPO (DAPO) update equals TRL's GRPOTrainer on the same completions and rewards."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from codekiln_posttrain.grpo.objective import group_advantages, grpo_step_loss

from ..conftest import PROBLEMS, tiny_model

pytest.importorskip("trl", reason="TRL is a dev dependency (parity tests)")
pytestmark = pytest.mark.slow

GROUP = 4
TEMPERATURE = 0.6


def constant_reward(prompts: list[Any], completions: list[Any], **_: Any) -> list[float]:
    return [0.0] * len(completions)


def trl_trainer(model: Any, tokenizer: Any, tmp_path: Path) -> Any:
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    data = Dataset.from_list([{"prompt": p["prompt"]} for p in PROBLEMS])
    args = GRPOConfig(output_dir=str(tmp_path / "trl"), report_to=[], use_cpu=True, bf16=False,
                      num_generations=GROUP, per_device_train_batch_size=GROUP * 2,
                      loss_type="dapo", beta=0.0, epsilon=0.2, epsilon_high=0.28,
                      temperature=TEMPERATURE, max_completion_length=8,
                      dataloader_num_workers=0, disable_dropout=True)
    return GRPOTrainer(model=model, reward_funcs=constant_reward, args=args, train_dataset=data,
                       processing_class=tokenizer)


def sampled_batch(tokenizer: Any) -> dict[str, Any]:
    """Two prompts x four completions of unequal length, left/right padded as TRL does."""
    import torch

    prompts = [tokenizer(p["prompt"], add_special_tokens=False)["input_ids"]
               for p in PROBLEMS[:2]]
    completions = [tokenizer(text, add_special_tokens=False)["input_ids"] for text in (
        "def add(a, b):", "return a + b", "pass", "def add(a,b): return b + a",
        "def square(x):", "x * x", "return x ** 2", "lambda")]
    width_p = max(map(len, prompts))
    width_c = max(map(len, completions))
    pad = tokenizer.pad_token_id
    rows_p = [prompts[i // GROUP] for i in range(len(completions))]
    return {
        "prompt_ids": torch.tensor([[pad] * (width_p - len(p)) + p for p in rows_p]),
        "prompt_mask": torch.tensor([[0] * (width_p - len(p)) + [1] * len(p) for p in rows_p]),
        "completion_ids": torch.tensor([c + [pad] * (width_c - len(c)) for c in completions]),
        "completion_mask": torch.tensor([[1] * len(c) + [0] * (width_c - len(c))
                                         for c in completions]),
    }


def trl_advantages(rewards: Any) -> Any:
    """TRL's group normalisation, through its own nanstd (GRPOTrainer, scale_rewards=group)."""
    import torch
    from trl.trainer.utils import nanstd

    grouped = rewards.view(-1, GROUP)
    mean = torch.nanmean(grouped, dim=1).repeat_interleave(GROUP)
    std = nanstd(grouped, dim=1).repeat_interleave(GROUP)
    return torch.nan_to_num((rewards - mean) / (std + 1e-4), nan=0.0)


def test_one_update_matches_trl(tokenizer: Any, tmp_path: Path) -> None:
    import torch

    policy = tiny_model(len(tokenizer), seed=3)
    ours = copy.deepcopy(policy)
    trainer = trl_trainer(policy, tokenizer, tmp_path)
    trainer.current_gradient_accumulation_steps = 1
    batch = sampled_batch(tokenizer)
    rewards = torch.tensor([1.0, 0.0, 0.5, float("nan"), 0.0, 1.0, 1.0, 0.0])
    advantages = group_advantages(rewards, GROUP)
    torch.testing.assert_close(advantages, trl_advantages(rewards))
    # An older sampling policy, so some ratios leave [0.8, 1.28] and both clips act.
    torch.manual_seed(0)
    with torch.no_grad():
        width = batch["completion_ids"].shape[1]
        noise = torch.randn(len(rewards), width) * 0.4
        from codekiln_posttrain.grpo.objective import completion_logps

        old = completion_logps(ours, batch, temperature=TEMPERATURE) + noise
    inputs = {**batch, "advantages": advantages, "old_per_token_logps": old,
              "num_items_in_batch": batch["completion_mask"].sum()}
    trainer.model.train()
    trl_loss = trainer._compute_loss(trainer.model, inputs)
    trl_loss.backward()

    ours.train()
    loss, metrics = grpo_step_loss(ours, {**batch, "advantages": advantages, "old_logps": old},
                                   temperature=TEMPERATURE)
    loss.backward()
    assert abs(loss.item() - trl_loss.item()) < 1e-5, (loss.item(), trl_loss.item())
    assert metrics["clip_ratio/high"] > 0 and metrics["clip_ratio/low"] > 0
    theirs = dict(trainer.model.named_parameters())
    for name, param in ours.named_parameters():
        torch.testing.assert_close(param.grad, theirs[name].grad, atol=1e-5, rtol=1e-4)
