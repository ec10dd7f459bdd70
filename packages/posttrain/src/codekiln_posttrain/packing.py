"""Best-fit-decreasing packing of conversations into fixed-length sequences, and packed
documents laid out as one row without padding.

Longest first, each into the open sequence with the least room left that still fits it
(a new sequence when none does): near-optimal fill (BFD uses at most 11/9·OPT + 1 bins) at
O(n log n). Documents never attend to each other inside a sequence: the collation gives
each one its own block of a block-diagonal causal mask and position ids restarting at 0.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any


def best_fit_decreasing(lengths: Sequence[int], capacity: int) -> list[list[int]]:
    """Indices of ``lengths`` grouped into bins of total length <= ``capacity``.

    Deterministic: ties keep input order. Lengths above ``capacity`` must be truncated by
    the caller first.
    """
    if capacity < 1:
        raise ValueError(f"capacity={capacity} must be positive")
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    bins: list[list[int]] = []
    room: list[tuple[int, int]] = []  # (free space, bin number), sorted
    for index in order:
        size = lengths[index]
        if size > capacity:
            raise ValueError(f"item {index} has length {size} > capacity {capacity}")
        at = bisect.bisect_left(room, (size, -1))
        if at == len(room):
            bins.append([index])
            bisect.insort(room, (capacity - size, len(bins) - 1))
            continue
        free, number = room.pop(at)
        bins[number].append(index)
        bisect.insort(room, (free - size, number))
    return bins


def fill_ratio(lengths: Sequence[int], bins: list[list[int]], capacity: int) -> float:
    """Share of the packed tokens that are real (not padding)."""
    return sum(lengths) / (len(bins) * capacity) if bins else 0.0


def flat_row(documents: Sequence[tuple[Sequence[int], Sequence[bool]]]) -> dict[str, Any]:
    """Documents (token ids, which tokens are trained on) as one row without padding:
    ``position_ids`` restart at 0 at every document (``sdpa_documents`` attends within
    each), ``labels`` are the trained tokens (-100 elsewhere and at every document's first
    token: no target crosses documents), ``sequence_ids`` the document each token is of."""
    import torch

    ids: list[int] = []
    labels: list[int] = []
    positions: list[int] = []
    owners: list[int] = []
    for index, (tokens, trained) in enumerate(documents):
        ids += tokens
        labels += [-100] + [t if keep else -100 for t, keep in zip(tokens[1:], trained[1:],
                                                                   strict=True)]
        positions += range(len(tokens))
        owners += [index] * len(tokens)
    return {"input_ids": torch.tensor([ids]), "labels": torch.tensor([labels]),
            "position_ids": torch.tensor([positions]), "sequence_ids": torch.tensor([owners])}
