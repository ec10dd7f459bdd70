"""The reward protocol and a batch scorer that counts what could not be judged."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Sample:
    """One completion to score, with the dataset columns of its prompt.

    ``columns`` carries what rewards read: ``tests`` and ``language`` for code-tests,
    ``data_source``/``ground_truth``/``extra_info`` for verl reward files, and any other
    column for TRL reward functions.
    """

    prompt: str
    completion: str
    columns: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class RewardFn(Protocol):
    """Scores a batch; ``None`` marks a sample the infrastructure could not judge."""

    def score(self, samples: Sequence[Sample]) -> list[float | None]: ...


@dataclass
class RewardBatch:
    """Scores of one batch plus the count of samples that got no reward."""

    scores: list[float | None]
    unscored: int

    def values(self, missing: float = 0.0) -> list[float]:
        """Scores with ``None`` replaced, for code that needs numbers (masked out by callers)."""
        return [missing if s is None else s for s in self.scores]

    @property
    def mask(self) -> list[bool]:
        """True where a sample has a reward (and may take part in the update)."""
        return [s is not None for s in self.scores]


def score_batch(reward: RewardFn, samples: Sequence[Sample]) -> RewardBatch:
    scores = list(reward.score(samples))
    if len(scores) != len(samples):
        raise ValueError(f"reward {type(reward).__name__} returned {len(scores)} scores for "
                         f"{len(samples)} samples")
    return RewardBatch(scores, sum(s is None for s in scores))


@dataclass
class WeightedSum:
    """Several rewards added with weights; a sample any part could not judge gets None."""

    parts: list[tuple[RewardFn, float]]

    def score(self, samples: Sequence[Sample]) -> list[float | None]:
        totals: list[float | None] = [0.0] * len(samples)
        for reward, weight in self.parts:
            for i, value in enumerate(reward.score(samples)):
                current = totals[i]
                totals[i] = None if value is None or current is None else (
                    current + weight * float(value))
        return totals

    def close(self) -> None:
        for reward, _ in self.parts:
            close = getattr(reward, "close", None)
            if close is not None:
                close()
