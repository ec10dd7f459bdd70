"""Curriculum and progressive exploration (seed-coder.md §8).

The curriculum pre-pass samples each prompt a few times with the starting policy and drops
prompts it already solves more than 87.5% of the time: they would mostly form all-correct
groups and waste rollouts. The progressive schedule grows max length and rollouts per
prompt in stages (the paper: 90 steps at 16K × 16, then 160 steps at 32K × 32).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from codekiln_core.config import RecipeModel
from codekiln_core.errors import ConfigError


class Stage(RecipeModel):
    """One stage of the progressive schedule."""

    steps: int = Field(..., ge=1, description="policy updates in this stage")
    max_new_tokens: int = Field(..., ge=1, description="longest completion (16384 in the paper)")
    rollouts: int = Field(..., ge=2, description="completions per prompt (group size)")


def stage_at(stages: Sequence[Stage], step: int) -> tuple[int, Stage]:
    """The stage that update ``step`` (0-based) belongs to, and its index."""
    at = 0
    for index, stage in enumerate(stages):
        at += stage.steps
        if step < at:
            return index, stage
    raise ConfigError(f"step {step} is past the schedule's {at} steps")


def total_steps(stages: Sequence[Stage]) -> int:
    return sum(stage.steps for stage in stages)


def keep_for_curriculum(pass_rates: Sequence[float | None], max_pass_rate: float = 0.875
                        ) -> list[bool]:
    """True for prompts worth training on: solved at most ``max_pass_rate`` of the time.

    A prompt whose every pre-pass sample went unscored (``None``) is kept: it says nothing
    about difficulty, and the loop's own filter handles it later.
    """
    return [rate is None or rate <= max_pass_rate for rate in pass_rates]


def pass_rates(rewards: Sequence[float | None], samples_per_prompt: int) -> list[float | None]:
    """Mean reward per prompt over its pre-pass samples (unscored samples left out)."""
    rates: list[float | None] = []
    for start in range(0, len(rewards), samples_per_prompt):
        scored = [r for r in rewards[start:start + samples_per_prompt] if r is not None]
        rates.append(sum(scored) / len(scored) if scored else None)
    return rates
