"""The growing cache layer holds what ``DynamicLayer``'s concatenation holds, appends in place
between reallocations, and survives the batcher replacing its tensors."""

from __future__ import annotations

import torch
from transformers.cache_utils import DynamicLayer

from codekiln_serve.kv_cache import HEADROOM, GrowingLayer


def step(rows: int, positions: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(rows, 2, positions, 8, generator=g),
            torch.randn(rows, 2, positions, 8, generator=g))


def test_updates_equal_concatenation_and_append_in_place() -> None:
    ours, reference = GrowingLayer(), DynamicLayer()
    pointers = set()
    for i, positions in enumerate([5] + [1] * (HEADROOM + 3)):
        keys, values = step(3, positions, i)
        got = ours.update(keys, values)
        want = reference.update(keys, values)
        assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])
        pointers.add(ours.keys.data_ptr())
    assert len(pointers) == 2  # one buffer for HEADROOM steps, then one reallocation


def test_the_batcher_may_replace_the_tensors_between_updates() -> None:
    ours, reference = GrowingLayer(), DynamicLayer()
    for layer in (ours, reference):
        layer.update(*step(4, 6, 0))
        layer.batch_select_indices(torch.tensor([0, 2, 3]))  # a row retired
        layer.keys, layer.values = layer.keys[..., 2:, :], layer.values[..., 2:, :]  # trimmed
    for i in range(3):
        keys, values = step(3, 1, i + 1)
        got, want = ours.update(keys, values), reference.update(keys, values)
        assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])
