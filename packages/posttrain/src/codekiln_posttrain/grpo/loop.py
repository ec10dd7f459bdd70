"""The GRPO loop in one process (``backend: local``): transformers ``generate`` for groups,
our sandbox for rewards, the DAPO objective, and codekiln-train's engine for the optimizer
step.

Per step: take ``prompts_per_step`` prompts, sample the stage's ``rollouts`` completions of
each (at most the stage's ``max_new_tokens``), score them, drop uniform groups, overlong
and unscored completions, normalise advantages per group and take one on-policy update
(token-level loss, clip [1-0.2, 1+0.28], no KL). For tiny models on CPU and small ones on a
GPU; verl is the path at scale.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError

if TYPE_CHECKING:
    import torch

    from codekiln_core.lineage import LineageRun
    from codekiln_posttrain.grpo.curriculum import Stage
    from codekiln_posttrain.recipe import GrpoRecipe
    from codekiln_posttrain.rewards.base import RewardFn
    from codekiln_posttrain.sampling import Completion


@dataclass
class GrpoResult:
    """What a GRPO run made, its headline numbers and its per-step metrics."""

    model_dir: str
    model_uri: str
    steps: int
    updates: int
    prompts: int
    curriculum_dropped: int
    mean_reward: float
    history: list[dict[str, float]] = field(default_factory=list)


def build_reward(recipe: GrpoRecipe, registry: Any = None) -> RewardFn:
    from codekiln_posttrain.rewards.adapters import load_reward
    from codekiln_posttrain.rewards.base import WeightedSum

    g = recipe.grpo
    parts = []
    for name, weight in g.rewards.items():
        options = dict(g.reward_options.get(name, {}))
        if name == "code-tests":
            options.setdefault("workers", g.sandbox_workers)
            options.setdefault("timeout_s", g.timeout_s)
            options.setdefault("url", g.sandbox_url)
        parts.append((load_reward(name, options, registry=registry), weight))
    return WeightedSum(parts)


def score_groups(reward: RewardFn, rows: list[dict[str, Any]],
                 groups: list[list[Completion]]) -> list[float | None]:
    from codekiln_posttrain.rewards.base import Sample

    samples = [Sample(row["prompt"][-1]["content"], c.text, row)
               for row, group in zip(rows, groups, strict=True) for c in group]
    return reward.score(samples)


def curriculum(rows: list[dict[str, Any]], sampler: Any, reward: RewardFn,
               recipe: GrpoRecipe) -> list[dict[str, Any]]:
    """Drop prompts the start policy already solves > 87.5% of the time (spec §8)."""
    from codekiln_posttrain.grpo.curriculum import keep_for_curriculum, pass_rates

    g = recipe.grpo
    if g.curriculum_samples == 0:
        return rows
    groups = sampler.sample([r["prompt"] for r in rows], g.curriculum_samples,
                            max_new_tokens=g.stages[0].max_new_tokens,
                            temperature=g.temperature)
    rates = pass_rates(score_groups(reward, rows, groups), g.curriculum_samples)
    return [r for r, keep in zip(rows, keep_for_curriculum(rates, g.curriculum_max_pass_rate),
                                 strict=True) if keep]


def update_batch(prompt_ids: list[list[int]], completions: list[Completion],
                 advantages: list[float], pad_id: int) -> dict[str, torch.Tensor]:
    """Left-padded prompts and right-padded completions of the kept samples."""
    import torch

    wp = max(map(len, prompt_ids))
    wc = max(1, max(len(c.token_ids) for c in completions))
    return {
        "prompt_ids": torch.tensor([[pad_id] * (wp - len(p)) + p for p in prompt_ids]),
        "prompt_mask": torch.tensor([[0] * (wp - len(p)) + [1] * len(p) for p in prompt_ids]),
        "completion_ids": torch.tensor([list(c.token_ids) + [pad_id] * (wc - len(c.token_ids))
                                        for c in completions]),
        "completion_mask": torch.tensor([[1] * len(c.token_ids) + [0] * (wc - len(c.token_ids))
                                         for c in completions]),
        "advantages": torch.tensor(advantages, dtype=torch.float32),
    }


class LocalGrpo:
    """One policy being trained: samples groups, scores them, takes the DAPO update."""

    def __init__(self, recipe: GrpoRecipe, model: Any, tokenizer: Any, reward: RewardFn,
                 steps: int) -> None:
        from codekiln_posttrain.finetune import build_engine, pad_token_id
        from codekiln_posttrain.sampling import TransformersSampler

        self.recipe, self.tokenizer, self.reward = recipe, tokenizer, reward
        self.pad = pad_token_id(tokenizer)
        self.engine = build_engine(model, recipe, steps)
        self.sampler = TransformersSampler(self.engine.module, tokenizer,
                                           top_p=recipe.grpo.top_p)

    def step(self, rows: list[dict[str, Any]], stage_index: int, stage: Stage
             ) -> dict[str, float]:
        """Sample ``stage.rollouts`` answers per row, score, filter, update; the metrics."""
        import torch

        from codekiln_posttrain.grpo.objective import filter_groups, group_advantages

        g = self.recipe.grpo
        groups = self.sampler.sample([r["prompt"] for r in rows], stage.rollouts,
                                     max_new_tokens=stage.max_new_tokens,
                                     temperature=g.temperature)
        rewards = score_groups(self.reward, rows, groups)
        flat = [c for group in groups for c in group]
        truncated = [c.truncated for c in flat]
        chosen = filter_groups(rewards, truncated if g.filter_overlong else
                               [False] * len(flat), stage.rollouts)
        values = torch.tensor([float("nan") if r is None else r for r in rewards])
        advantages = group_advantages(values, stage.rollouts).tolist()
        metrics = {"reward_mean": float(torch.nanmean(values)) if len(values) else 0.0,
                   "stage": float(stage_index), "kept": float(sum(chosen.keep)),
                   "uniform_groups": float(chosen.uniform_groups),
                   "overlong": float(sum(truncated)), "unscored": float(chosen.unscored)}
        keep = [i for i, k in enumerate(chosen.keep) if k and flat[i].token_ids]
        if keep:
            owners = [rows[i // stage.rollouts] for i in keep]
            metrics.update(self.update(owners, [flat[i] for i in keep],
                                       [advantages[i] for i in keep]))
        return metrics

    def update(self, rows: list[dict[str, Any]], completions: list[Completion],
               advantages: list[float]) -> dict[str, float]:
        """One on-policy optimizer step on the kept completions."""
        from codekiln_posttrain.chat.template import encode_prompt
        from codekiln_posttrain.grpo.objective import grpo_step_loss

        g, engine = self.recipe.grpo, self.engine
        prompts = [encode_prompt(self.tokenizer, row["prompt"]) for row in rows]
        batch = update_batch(prompts, completions, advantages, self.pad)
        batch = {k: v.to(engine.device) for k, v in batch.items()}
        engine.train(True)
        loss, extra = grpo_step_loss(engine.wrapped, batch, temperature=g.temperature,
                                     eps_low=g.eps_low, eps_high=g.eps_high)
        engine.backward(loss)
        stats = engine.step()
        return {**extra, "loss": float(loss.detach()), "grad_norm": stats.grad_norm,
                "lr": stats.lr}


def train_grpo_local(recipe: GrpoRecipe, *, run: LineageRun,
                     registry: Any = None) -> GrpoResult:
    """Run the schedule; ``registry`` resolves reward names (default: installed plugins)."""
    from codekiln_posttrain.chat.datasets import read_rows
    from codekiln_posttrain.chat.decontam import checked_rows
    from codekiln_posttrain.finetune import export_and_register, load_start
    from codekiln_posttrain.grpo.curriculum import stage_at, total_steps
    from codekiln_train.checkpoint import seed_everything

    g = recipe.grpo
    rows, report = checked_rows(read_rows(recipe.data, "rl"), recipe.decontamination)
    seed_everything(recipe.seed)
    model, tokenizer = load_start(recipe)
    steps = total_steps(g.stages)
    reward = build_reward(recipe, registry)
    try:
        policy = LocalGrpo(recipe, model, tokenizer, reward, steps)
        kept_rows = curriculum(rows, policy.sampler, reward, recipe)
        if not kept_rows:
            raise ConfigError(f"curriculum dropped all {len(rows)} prompts (solved > "
                              f"{g.curriculum_max_pass_rate:.1%}); use harder prompts")
        order = list(range(len(kept_rows)))
        random.Random(recipe.seed).shuffle(order)
        history: list[dict[str, float]] = []
        for step in range(steps):
            stage_index, stage = stage_at(g.stages, step)
            picked = [kept_rows[order[(step * g.prompts_per_step + i) % len(order)]]
                      for i in range(g.prompts_per_step)]
            history.append(policy.step(picked, stage_index, stage))
            run.log_metrics(history[-1], step=step + 1)
    finally:
        close = getattr(reward, "close", None)
        if close is not None:
            close()
    dropped = len(rows) - len(kept_rows)
    updates = sum("loss" in metrics for metrics in history)
    run.log_metrics({**report.as_metrics(), "curriculum_dropped": dropped, "updates": updates})
    out, uri = export_and_register(policy.engine.module, tokenizer, recipe, run, "grpo-model")
    mean = sum(m["reward_mean"] for m in history) / len(history) if history else 0.0
    return GrpoResult(str(out), uri, steps, updates, len(kept_rows), dropped, mean, history)
