"""The local GRPO loop: transformers ``generate`` for groups, our sandbox for rewards, the
DAPO objective, and codekiln-train's engine for the optimizer step and checkpoints.

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

    from codekiln_posttrain.recipe import GrpoRecipe
    from codekiln_posttrain.rewards.base import RewardFn
    from codekiln_posttrain.sampling import Completion


@dataclass
class GrpoResult:
    model_dir: str
    model_uri: str
    run_id: str | None
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


def run_grpo_local(recipe: GrpoRecipe, *, lineage: bool = True,
                   registry: Any = None) -> GrpoResult:
    """Run the schedule; ``registry`` resolves reward names (default: installed plugins)."""
    import torch

    from codekiln_core.lineage import lineage_run
    from codekiln_posttrain.chat.datasets import read_rows
    from codekiln_posttrain.chat.decontam import checked_rows
    from codekiln_posttrain.chat.template import encode_prompt
    from codekiln_posttrain.grpo.curriculum import stage_at, total_steps
    from codekiln_posttrain.grpo.objective import filter_groups, group_advantages, grpo_step_loss
    from codekiln_posttrain.runner import (
        build_engine,
        export_and_register,
        load_start,
        start_inputs,
    )
    from codekiln_posttrain.sampling import TransformersSampler
    from codekiln_train.checkpoint import seed_everything

    g = recipe.grpo
    rows, report = checked_rows(read_rows(recipe.data, "rl"), recipe.decontamination)
    seed_everything(recipe.seed)
    model, tokenizer = load_start(recipe)
    pad = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None
              else tokenizer.eos_token_id)
    steps = total_steps(g.stages)
    reward = build_reward(recipe, registry)
    with lineage_run("posttrain.grpo", config=recipe.model_dump(mode="json"),
                     inputs=start_inputs(recipe, "rl-prompts"), enabled=lineage) as run:
        engine = build_engine(model, recipe, steps)
        sampler = TransformersSampler(engine.module, tokenizer, top_p=g.top_p)
        kept_rows = curriculum(rows, sampler, reward, recipe)
        dropped = len(rows) - len(kept_rows)
        if not kept_rows:
            raise ConfigError(f"curriculum dropped all {len(rows)} prompts (solved > "
                              f"{g.curriculum_max_pass_rate:.1%}); use harder prompts")
        order = list(range(len(kept_rows)))
        random.Random(recipe.seed).shuffle(order)
        history: list[dict[str, float]] = []
        updates, cursor, rewards_seen = 0, 0, []
        for step in range(steps):
            stage_index, stage = stage_at(g.stages, step)
            picked = [kept_rows[order[(cursor + i) % len(order)]]
                      for i in range(g.prompts_per_step)]
            cursor += g.prompts_per_step
            groups = sampler.sample([r["prompt"] for r in picked], stage.rollouts,
                                    max_new_tokens=stage.max_new_tokens,
                                    temperature=g.temperature)
            rewards = score_groups(reward, picked, groups)
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
            rewards_seen.append(metrics["reward_mean"])
            keep = [i for i, k in enumerate(chosen.keep) if k and flat[i].token_ids]
            if keep:
                prompts = [encode_prompt(tokenizer, picked[i // stage.rollouts]["prompt"])
                           for i in keep]
                batch = update_batch(prompts, [flat[i] for i in keep],
                                     [advantages[i] for i in keep], pad)
                batch = {k: v.to(engine.device) for k, v in batch.items()}
                engine.train(True)
                loss, extra = grpo_step_loss(engine.wrapped, batch, temperature=g.temperature,
                                             eps_low=g.eps_low, eps_high=g.eps_high)
                engine.backward(loss)
                stats = engine.step()
                updates += 1
                metrics.update(extra, loss=float(loss.detach()), grad_norm=stats.grad_norm,
                               lr=stats.lr)
            history.append(metrics)
            run.log_metrics(metrics, step=step + 1)
        run.log_metrics({**report.as_metrics(), "curriculum_dropped": dropped,
                         "updates": updates})
        out, uri = export_and_register(engine.module, tokenizer, recipe, run, "grpo-model")
    close = getattr(reward, "close", None)
    if close is not None:
        close()
    mean = sum(rewards_seen) / len(rewards_seen) if rewards_seen else 0.0
    return GrpoResult(str(out), uri, run.run_id, steps, updates, len(kept_rows), dropped,
                      mean, history)
