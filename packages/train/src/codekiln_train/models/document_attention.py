"""``sdpa_documents``: causal attention within each document of a packed row, on any device.

A packed row holds several documents; the block-diagonal mask that keeps them apart makes
SDPA compute every query against every key of the row (T² work, a T x T mask in memory)
and then throw most of it away. Varlen kernels (flash-attention) avoid that on a GPU. This
implementation does the same with plain SDPA: it finds the documents where
``position_ids`` restart at 0 (codekiln's collation restarts them at every document) and
runs causal SDPA on each, so the work is the sum of the documents' squared lengths and no
mask exists. The numbers are those of the masked computation, up to float rounding.

It is for training and scoring whole sequences (SFT, DPO): it reads no attention mask and
keeps no cache, so it refuses incremental decoding; generation uses ``sdpa``. Registered
with transformers' ``AttentionInterface`` by :func:`register`; a model then loads with
``attn_implementation="sdpa_documents"``. The name is not saved with an exported model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

DOCUMENT_ATTENTION = "sdpa_documents"


def document_bounds(positions: torch.Tensor) -> list[tuple[int, int]]:
    """(start, end) of each document of one row: a document begins where the position
    is 0 (and at the row's start)."""
    starts = (positions == 0).nonzero().flatten().tolist()
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    return list(zip(starts, [*starts[1:], int(positions.shape[0])], strict=True))


def document_attention(module: Any, query: torch.Tensor, key: torch.Tensor,
                       value: torch.Tensor, attention_mask: torch.Tensor | None,
                       dropout: float = 0.0, scaling: float | None = None,
                       position_ids: torch.Tensor | None = None,
                       **_: Any) -> tuple[torch.Tensor, None]:
    """Causal SDPA per document. ``query`` [B, H, T, D], ``key``/``value`` [B, Hkv, T, D]
    (grouped heads are expanded by SDPA); returns [B, T, H, D] as transformers expects."""
    import torch
    import torch.nn.functional as F

    if position_ids is None or query.shape[2] != key.shape[2]:
        raise ValueError(f"{DOCUMENT_ATTENTION} attends within whole packed documents "
                         "(position_ids given, no cache); load the model with "
                         "attn_implementation='sdpa' to generate")
    rows = []
    for b in range(query.shape[0]):
        parts = [F.scaled_dot_product_attention(
            query[b:b + 1, :, start:end], key[b:b + 1, :, start:end],
            value[b:b + 1, :, start:end], dropout_p=dropout, scale=scaling, is_causal=True,
            enable_gqa=key.shape[1] != query.shape[1])
            for start, end in document_bounds(position_ids[b])]
        rows.append(parts[0] if len(parts) == 1 else torch.cat(parts, dim=2))
    out = rows[0] if len(rows) == 1 else torch.cat(rows, dim=0)
    return out.transpose(1, 2).contiguous(), None


def register() -> str:
    """Make ``sdpa_documents`` a transformers attention implementation; returns its name."""
    from transformers import AttentionInterface

    AttentionInterface.register(DOCUMENT_ATTENTION, document_attention)
    return DOCUMENT_ATTENTION
