"""What post-training does differently on several ranks (torchrun, DeepSpeed's launcher):
who writes the run's shared files, waiting for each other, and sharing out work.

Work shared out is cut into chunks that do not depend on the world size (chunk ``i`` on
rank ``i % world``), so one rank computes exactly the numbers several ranks compute.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def rank_and_world() -> tuple[int, int]:
    """This process's rank and the number of ranks: the launcher's RANK and WORLD_SIZE
    (readable before any process group exists), else 0 of 1."""
    from codekiln_train.engine.environment import world

    rank, _, size = world()
    return rank, size


def is_rank_zero() -> bool:
    """Whether this process writes the run's shared files and warnings."""
    return rank_and_world()[0] == 0


def barrier() -> None:
    """Wait for every rank (nothing to wait for in one process)."""
    import torch.distributed as dist

    if dist.is_initialized() and dist.get_world_size() > 1:
        dist.barrier()


def share_out(chunks: Sequence[T], work: Callable[[int, T], R]) -> list[R]:
    """``work(i, chunk)`` for every chunk, chunk ``i`` computed on rank ``i % world``; every
    rank gets every result, in chunk order."""
    rank, size = rank_and_world()
    mine = {i: work(i, chunks[i]) for i in range(rank, len(chunks), size)}
    if size == 1:
        return [mine[i] for i in range(len(chunks))]
    import torch.distributed as dist

    gathered: list[Any] = [None] * size
    dist.all_gather_object(gathered, mine)
    merged = {i: result for part in gathered for i, result in part.items()}
    return [merged[i] for i in range(len(chunks))]


def summed(values: dict[str, float]) -> dict[str, float]:
    """Each value summed over the ranks (every rank passes the same keys)."""
    from codekiln_train.loop import summed_over_ranks

    return summed_over_ranks(values, rank_and_world()[1])
