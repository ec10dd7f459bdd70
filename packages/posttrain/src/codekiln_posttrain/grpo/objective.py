"""The GRPO objective with DAPO's choices (Yu et al. 2025; seed-coder.md §8).

- advantages: each completion's reward minus its group's mean, over the group's std
  (unbiased) + 1e-4, the normalisation TRL and verl use;
- clipped surrogate with asymmetric clip: ``ratio`` in ``[1 - eps_low, 1 + eps_high]``,
  eps_high = 0.28 ("clip-higher");
- token-level loss: the sum over every completion token of the batch over the number of
  such tokens (long answers weigh by their tokens, not as one sequence); a batch cut into
  micro-batches (accumulation, ranks) divides each part by the whole batch's count over the
  number of parts, so the parts add up to the same loss;
- no KL term and no reference model;
- groups where every completion scored the same (all right or all wrong) carry no signal
  and are dropped before the update, as are overlong (truncated) completions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

STD_EPS = 1e-4


def _mean_and_std(grouped: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row of ``grouped`` (NaN: unscored, left out): mean and unbiased std (0 for fewer
    than two scored values)."""
    import torch

    valid = ~torch.isnan(grouped)
    count = valid.sum(dim=1, keepdim=True)
    mean = torch.nanmean(grouped, dim=1, keepdim=True)
    squares = torch.where(valid, (grouped - mean) ** 2, torch.zeros_like(grouped))
    var = squares.sum(dim=1, keepdim=True) / (count - 1).clamp(min=1)
    return mean, torch.where(count > 1, var.sqrt(), torch.zeros_like(var))


def group_advantages(rewards: torch.Tensor, group_size: int) -> torch.Tensor:
    """``(r - mean_g) / (std_g + 1e-4)`` per group of ``group_size`` consecutive rewards.

    NaN marks an unscored completion: it is left out of its group's mean and std and gets
    advantage 0 (no signal), as in TRL.
    """
    import torch

    grouped = rewards.view(-1, group_size).float()
    mean, std = _mean_and_std(grouped)
    advantages = (grouped - mean) / (std + STD_EPS)
    return torch.nan_to_num(advantages, nan=0.0).view(-1)


def group_stds(rewards: Sequence[float | None], group_size: int) -> list[float]:
    """Each group's reward std (what TRL logs as ``reward_std``, averaged over groups);
    0 for a group with fewer than two scored completions."""
    import torch

    values = torch.tensor([float("nan") if r is None else r for r in rewards])
    _, std = _mean_and_std(values.view(-1, group_size).float())
    return [float(x) for x in std.view(-1)]


@dataclass(frozen=True)
class GroupFilter:
    """Which completions enter the update, and why the others do not."""

    keep: list[bool]
    uniform_groups: int   # all-correct or all-wrong groups dropped
    overlong: int         # completions cut at max length (filtered, DAPO)
    unscored: int         # reward could not be computed (sandbox_error)


def filter_groups(rewards: Sequence[float | None], truncated: Sequence[bool],
                  group_size: int) -> GroupFilter:
    """Drop uniform groups, overlong completions and unscored ones (seed-coder.md §8)."""
    keep = [True] * len(rewards)
    uniform = overlong = unscored = 0
    for start in range(0, len(rewards), group_size):
        members = range(start, start + group_size)
        for i in members:
            if rewards[i] is None:
                keep[i] = False
                unscored += 1
            elif truncated[i]:
                keep[i] = False
                overlong += 1
        scored = {rewards[i] for i in members if rewards[i] is not None}
        if len(scored) <= 1:
            uniform += 1
            for i in members:
                keep[i] = False
    return GroupFilter(keep, uniform, overlong, unscored)


def dapo_loss(logps: torch.Tensor, old_logps: torch.Tensor, advantages: torch.Tensor,
              mask: torch.Tensor, *, eps_low: float = 0.2, eps_high: float = 0.28,
              normalizer: float | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """Token-level clipped surrogate over ``[N, T]`` completion tokens (``mask`` = real ones),
    summed and divided by ``normalizer`` (default: this batch's token count). The metrics
    are fractions of this batch's tokens."""
    import torch

    ratio = torch.exp(logps - old_logps)
    adv = advantages.unsqueeze(1)
    clipped = torch.clamp(ratio, 1 - eps_low, 1 + eps_high)
    per_token = -torch.min(ratio * adv, clipped * adv)
    mask = mask.to(per_token.dtype)
    tokens = mask.sum().clamp(min=1.0)
    loss = (per_token * mask).sum() / (tokens if normalizer is None else normalizer)
    high = ((ratio > 1 + eps_high) & (adv > 0)).to(per_token.dtype)
    low = ((ratio < 1 - eps_low) & (adv < 0)).to(per_token.dtype)
    metrics = {"clip_ratio/high": float((high * mask).sum() / tokens),
               "clip_ratio/low": float((low * mask).sum() / tokens)}
    return loss, metrics


def completion_logps(model: object, batch: dict[str, torch.Tensor], *,
                     temperature: float) -> torch.Tensor:
    """Log-probs ``[N, C]`` of the completion tokens given left-padded prompts.

    ``batch``: ``prompt_ids``/``prompt_mask`` (left-padded), ``completion_ids``/
    ``completion_mask`` (right-padded). Logits are divided by the sampling temperature.
    """
    import torch

    from codekiln_posttrain.logprobs import IGNORE, token_logps

    input_ids = torch.cat([batch["prompt_ids"], batch["completion_ids"]], dim=1)
    attention = torch.cat([batch["prompt_mask"], batch["completion_mask"]], dim=1)
    labels = torch.cat([torch.full_like(batch["prompt_ids"], IGNORE),
                        batch["completion_ids"].masked_fill(batch["completion_mask"] == 0,
                                                            IGNORE)], dim=1)
    logits = model(input_ids=input_ids, attention_mask=attention,  # type: ignore[operator]
                   use_cache=False).logits
    width = batch["completion_ids"].shape[1]
    return token_logps(logits, labels, temperature=temperature)[:, -width:]


def grpo_step_loss(model: object, batch: dict[str, torch.Tensor], *, temperature: float,
                   eps_low: float = 0.2, eps_high: float = 0.28,
                   normalizer: float | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """The DAPO loss of one batch of sampled completions (``advantages`` ``[N]``;
    ``old_logps`` ``[N, C]`` from the sampling policy, or None: on-policy, one update)."""
    logps = completion_logps(model, batch, temperature=temperature)
    old = batch.get("old_logps")
    old = logps.detach() if old is None else old
    return dapo_loss(logps, old, batch["advantages"], batch["completion_mask"],
                     eps_low=eps_low, eps_high=eps_high, normalizer=normalizer)
