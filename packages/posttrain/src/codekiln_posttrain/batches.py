"""A resumable batch source over examples held in memory (packed SFT sequences, DPO pairs).

Each epoch visits every example once in an order fixed by (seed, epoch); the position is
the whole state, so ``codekiln_train.loop.train`` checkpoints and resumes it exactly.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    import torch

T = TypeVar("T")


class ExampleBatches(Generic[T]):
    """Micro-batches of ``micro_batch_size`` examples, collated by ``collate``."""

    def __init__(self, examples: Sequence[T], *, micro_batch_size: int, seed: int,
                 collate: Callable[[list[T]], dict[str, torch.Tensor]]) -> None:
        if not examples:
            raise ValueError("no examples to train on")
        self.examples, self.mbs, self.seed, self.collate = examples, micro_batch_size, seed, collate
        self.epoch, self.position = 0, 0
        self._order = self._shuffled(0)

    def _shuffled(self, epoch: int) -> list[int]:
        order = list(range(len(self.examples)))
        random.Random(self.seed * 1_000_003 + epoch).shuffle(order)
        return order

    def next_batch(self) -> dict[str, torch.Tensor]:
        picked: list[T] = []
        while len(picked) < self.mbs:
            if self.position >= len(self._order):
                self.epoch, self.position = self.epoch + 1, 0
                self._order = self._shuffled(self.epoch)
            picked.append(self.examples[self._order[self.position]])
            self.position += 1
        return self.collate(picked)

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "position": self.position, "seed": self.seed}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
        self._order = self._shuffled(self.epoch)
