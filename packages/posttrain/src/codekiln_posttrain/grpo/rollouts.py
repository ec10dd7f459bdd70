"""One micro-batch of GRPO rollouts: each prompt's group sampled, scored, filtered and given
its advantages, all inside the micro-batch.

A group never straddles micro-batches (nor ranks), so advantages are computed where the
group is. Sampling is seeded per micro-batch (recipe seed, step, micro-batch number): the
same prompts give the same completions whichever rank samples them, which is what lets
several ranks reproduce one rank's run, and a resumed run its uninterrupted twin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from codekiln_posttrain.grpo.curriculum import Stage
    from codekiln_posttrain.grpo.objective import GroupFilter
    from codekiln_posttrain.rewards.base import RewardFn
    from codekiln_posttrain.sampling import Completion, TransformersSampler


def sampling_seed(seed: int, step: int, part: int) -> int:
    """The torch seed of micro-batch ``part`` of step ``step`` (``step`` -1: the
    curriculum pre-pass)."""
    return (seed * 1_000_003 + (step + 1) * 10_007 + part) % (1 << 63)


def score_groups(reward: RewardFn, rows: list[dict[str, Any]],
                 groups: list[list[Completion]]) -> list[float | None]:
    from codekiln_posttrain.rewards.base import Sample

    samples = [Sample(row["prompt"][-1]["content"], c.text, row)
               for row, group in zip(rows, groups, strict=True) for c in group]
    return reward.score(samples)


def sample_seeded(sampler: TransformersSampler, rows: list[dict[str, Any]], n: int, *,
                  max_new_tokens: int, temperature: float, seed: int) -> list[list[Completion]]:
    """``n`` completions of each row's prompt, from torch's RNG seeded with ``seed``."""
    import torch

    torch.manual_seed(seed)
    return sampler.sample([r["prompt"] for r in rows], n, max_new_tokens=max_new_tokens,
                          temperature=temperature)


@dataclass
class Rollouts:
    """The groups of one micro-batch and what the update takes from them."""

    rows: list[dict[str, Any]]
    completions: list[Completion]   # group after group
    rewards: list[float | None]
    advantages: list[float]
    chosen: GroupFilter
    group_size: int

    @property
    def kept(self) -> list[int]:
        """Completions that enter the update (kept by the filter, at least one token)."""
        return [i for i, keep in enumerate(self.chosen.keep)
                if keep and self.completions[i].token_ids]

    def sums(self) -> dict[str, float]:
        """What the step's metrics add up over micro-batches and ranks."""
        from codekiln_posttrain.grpo.objective import group_stds

        kept = self.kept
        scored = [r for r in self.rewards if r is not None]
        groups = len(self.rows)
        groups_kept = len({i // self.group_size for i in kept})
        return {"reward_sum": sum(scored), "scored": float(len(scored)),
                "group_std_sum": sum(group_stds(self.rewards, self.group_size)),
                "groups": float(groups), "groups_kept": float(groups_kept),
                "uniform_groups": float(self.chosen.uniform_groups),
                "completions": float(len(self.completions)),
                "completions_kept": float(len(kept)),
                "overlong": float(sum(c.truncated for c in self.completions)),
                "unscored": float(self.chosen.unscored),
                "length_sum": float(sum(len(c.token_ids) for c in self.completions)),
                "kept_tokens": float(sum(len(self.completions[i].token_ids) for i in kept))}


def roll_out(sampler: TransformersSampler, reward: RewardFn, rows: list[dict[str, Any]],
             stage: Stage, *, temperature: float, filter_overlong: bool,
             seed: int) -> Rollouts:
    """Sample, score, filter (uniform groups, overlong, unscored) and normalise per group."""
    import torch

    from codekiln_posttrain.grpo.objective import filter_groups, group_advantages

    groups = sample_seeded(sampler, rows, stage.rollouts, max_new_tokens=stage.max_new_tokens,
                           temperature=temperature, seed=seed)
    rewards = score_groups(reward, rows, groups)
    flat = [c for group in groups for c in group]
    truncated = [c.truncated and filter_overlong for c in flat]
    chosen = filter_groups(rewards, truncated, stage.rollouts)
    values = torch.tensor([float("nan") if r is None else r for r in rewards])
    advantages = group_advantages(values, stage.rollouts).tolist()
    return Rollouts(rows, flat, rewards, advantages, chosen, stage.rollouts)


def step_metrics(totals: dict[str, float], stage_index: int) -> dict[str, float]:
    """The logged metrics of a step from its sums over every micro-batch and rank: reward
    mean and (mean per-group) std, groups kept and dropped, response length."""
    groups = max(totals["groups"], 1.0)
    return {"reward_mean": totals["reward_sum"] / max(totals["scored"], 1.0),
            "reward_std": totals["group_std_sum"] / groups,
            "groups_kept": totals["groups_kept"],
            "groups_dropped": totals["groups"] - totals["groups_kept"],
            "uniform_groups": totals["uniform_groups"],
            "kept": totals["completions_kept"], "overlong": totals["overlong"],
            "unscored": totals["unscored"],
            "response_length": totals["length_sum"] / max(totals["completions"], 1.0),
            "stage": float(stage_index)}
