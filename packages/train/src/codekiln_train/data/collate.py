"""Packed sequences -> model inputs that keep document boundaries.

A sequence holds the tail of one document, whole documents, and the head of another, each
ending in EOS; the last sequence of a set may end in padding. For every row we build:

- ``position_ids`` restarting at 0 where a document (or the padding) begins;
- ``labels`` = the tokens, with -100 at each document start (the model shifts labels by
  one, so that is the target "first token of the next document given the previous one":
  never trained) and on padding;
- ``attention_mask`` [B, 1, T, T] bool, True = may attend: causal and within the same
  document (block-diagonal). SDPA and eager attention take it as is.

With a varlen kernel (``flash_attention_2``/``_3``) the mask is left out: transformers
reads document boundaries from the restarting ``position_ids`` and runs the kernel per
document, which needs no T x T tensor (docs/train.md, "Packing and attention").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

IGNORE_INDEX = -100
#: attn_implementation values whose kernels split documents from position_ids (no mask).
VARLEN_IMPLEMENTATIONS = frozenset({"flash_attention_2", "flash_attention_3"})


@dataclass(frozen=True)
class PackedRow:
    """One packed sequence: its tokens, where documents begin, how many tokens are real."""

    tokens: Any  # np.ndarray[uint32] of seq_len
    starts: Any  # np.ndarray[int64]: offsets within the row where a document begins
    valid: int  # tokens before end-of-set padding


def collate(rows: Sequence[PackedRow], *, cross_document_attention: bool = False,
            attn_implementation: str = "sdpa") -> dict[str, torch.Tensor]:
    """Stack ``rows`` into a batch (see the module docstring for the keys)."""
    import numpy as np
    import torch

    input_ids = torch.from_numpy(np.stack([r.tokens for r in rows]).astype(np.int64))
    batch, length = input_ids.shape
    arange = torch.arange(length)
    valid = torch.tensor([r.valid for r in rows]).unsqueeze(1)
    padding = arange.unsqueeze(0) >= valid
    starts = torch.zeros(batch, length, dtype=torch.bool)
    for b, row in enumerate(rows):
        starts[b, torch.from_numpy(np.asarray(row.starts, dtype=np.int64))] = True
        if row.valid < length:
            starts[b, row.valid] = True  # the padding is a segment of its own
    labels = input_ids.masked_fill(starts | padding, IGNORE_INDEX)
    out = {"input_ids": input_ids, "labels": labels}
    if cross_document_attention:  # plain causal attention over the whole row
        out["position_ids"] = arange.expand(batch, length).clone()
        return out
    last_start = torch.where(starts, arange, torch.zeros_like(arange)).cummax(dim=1).values
    out["position_ids"] = arange - last_start
    if attn_implementation not in VARLEN_IMPLEMENTATIONS:
        out["attention_mask"] = block_causal_mask(starts)
    return out


def block_causal_mask(starts: torch.Tensor) -> torch.Tensor:
    """[B, 1, T, T] bool: query t sees key s <= t of the same segment (segments begin at
    the True entries of ``starts`` [B, T])."""
    import torch

    segment = starts.long().cumsum(dim=1)
    same = segment.unsqueeze(2) == segment.unsqueeze(1)
    length = starts.shape[1]
    causal = torch.ones(length, length, dtype=torch.bool).tril()
    return (same & causal).unsqueeze(1)
