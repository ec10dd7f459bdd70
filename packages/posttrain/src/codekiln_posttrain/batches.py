"""A resumable, rank-aware batch source over examples held in memory (packed SFT sequences,
DPO pairs).

Each epoch visits every example once in an order fixed by (seed, epoch). Data parallel as
codekiln_train's sampler: micro-batch ``j`` of that one global stream goes to rank
``j % world_size``, and every rank walks the whole stream, so all ranks stand at the same
global position after each call. One rank with accumulation ``k`` therefore reads exactly
the micro-batches ``k`` ranks read in one step, and the position is the whole state:
``codekiln_train.loop.train`` checkpoints and resumes it exactly.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    import torch

T = TypeVar("T")


class ExampleBatches(Generic[T]):
    """Micro-batches of ``micro_batch_size`` examples for ``rank`` of ``world_size``,
    collated by ``collate``."""

    def __init__(self, examples: Sequence[T], *, micro_batch_size: int, seed: int,
                 collate: Callable[[list[T]], dict[str, torch.Tensor]], rank: int = 0,
                 world_size: int = 1) -> None:
        if not examples:
            raise ValueError("no examples to train on")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is outside a world of {world_size}")
        self.examples, self.mbs, self.seed, self.collate = examples, micro_batch_size, seed, collate
        self.rank, self.world_size = rank, world_size
        self.epoch, self.position = 0, 0
        self._order = self._shuffled(0)

    def _shuffled(self, epoch: int) -> list[int]:
        order = list(range(len(self.examples)))
        random.Random(self.seed * 1_000_003 + epoch).shuffle(order)
        return order

    def _next_example(self) -> T:
        if self.position >= len(self._order):
            self.epoch, self.position = self.epoch + 1, 0
            self._order = self._shuffled(self.epoch)
        self.position += 1
        return self.examples[self._order[self.position - 1]]

    def next_batch(self) -> dict[str, torch.Tensor]:
        """This rank's next micro-batch; the other ranks' micro-batches are skipped."""
        drawn = [self._next_example() for _ in range(self.world_size * self.mbs)]
        return self.collate(drawn[self.rank * self.mbs:(self.rank + 1) * self.mbs])

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "position": self.position, "seed": self.seed}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
        self._order = self._shuffled(self.epoch)
