"""Packed batches keep documents apart: same per-document logits and loss as running each
document alone, through the tiny preset on the real tiny shards."""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from codekiln_train.data import IGNORE_INDEX, PackedRow, collate, validation_batches
from codekiln_train.models import build_model, resolve_model_config

if TYPE_CHECKING:
    from conftest import TinyShards


@pytest.fixture(scope="module")
def tiny_model(tiny_shards: TinyShards) -> Any:
    import torch

    torch.set_num_threads(1)
    model = build_model(resolve_model_config("tiny"), vocab_size=tiny_shards.vocab_size,
                        bos_token_id=0, eos_token_id=2, pad_token_id=1, seed=0)
    return model.eval()


def segments(row: PackedRow, length: int) -> list[tuple[int, int]]:
    bounds = [*sorted({0, *row.starts.tolist(), row.valid} - {length}), length]
    return list(pairwise(bounds))


def test_collate_marks_documents_padding_and_positions() -> None:
    tokens = np.array([7, 8, 2, 9, 2, 5, 1, 1], dtype=np.uint32)
    row = PackedRow(tokens, np.array([3, 5]), valid=6)  # tail | doc | doc | head | pad pad
    batch = collate([row])
    assert batch["input_ids"].tolist() == [[7, 8, 2, 9, 2, 5, 1, 1]]
    assert batch["position_ids"].tolist() == [[0, 1, 2, 0, 1, 0, 0, 1]]
    assert batch["labels"].tolist() == [[7, 8, 2, -100, 2, -100, -100, -100]]
    mask = batch["attention_mask"][0, 0].int().tolist()
    assert mask[4] == [0, 0, 0, 1, 1, 0, 0, 0]  # within its document, causal
    assert mask[2] == [1, 1, 1, 0, 0, 0, 0, 0]
    assert mask[7] == [0, 0, 0, 0, 0, 0, 1, 1]  # padding only sees padding
    assert batch["attention_mask"].shape == (1, 1, 8, 8)
    varlen = collate([row], attn_implementation="flash_attention_2")
    assert "attention_mask" not in varlen
    assert varlen["position_ids"].tolist() == batch["position_ids"].tolist()
    causal = collate([row], cross_document_attention=True)
    assert "attention_mask" not in causal
    assert causal["position_ids"].tolist() == [list(range(8))]
    assert causal["labels"].tolist() == batch["labels"].tolist()


def test_packed_logits_equal_each_document_alone(tiny_shards: TinyShards,
                                                 tiny_model: Any) -> None:
    import torch

    from codekiln_core.shards import PackedShards

    reader = PackedShards(tiny_shards.code)
    picks = [i for i in range(len(reader)) if len(reader.document_starts(i)) >= 2][:3]
    picks.append(len(reader) - 1)  # the set's last sequence: ends in padding
    rows = [PackedRow(reader.sequence(i), reader.document_starts(i), reader.valid_length(i))
            for i in picks]
    assert rows[-1].valid < tiny_shards.seq_len
    batch = collate(rows)
    with torch.no_grad():
        packed = tiny_model(input_ids=batch["input_ids"], position_ids=batch["position_ids"],
                            attention_mask=batch["attention_mask"]).logits
        # no mask key (the varlen route): transformers splits documents from position_ids
        by_positions = tiny_model(input_ids=batch["input_ids"],
                                  position_ids=batch["position_ids"]).logits
        compared = 0
        for b, row in enumerate(rows):
            for begin, end in segments(row, tiny_shards.seq_len):
                alone = tiny_model(input_ids=batch["input_ids"][b:b + 1, begin:end]).logits[0]
                assert torch.allclose(packed[b, begin:end], alone, atol=1e-5, rtol=0)
                assert torch.allclose(by_positions[b, begin:end], alone, atol=1e-5, rtol=0)
                compared += 1
    assert compared >= 8
    unpacked = tiny_model(input_ids=batch["input_ids"]).logits  # plain causal: leaks
    assert not torch.allclose(unpacked, packed, atol=1e-3)


def test_packed_loss_is_the_documents_loss(tiny_shards: TinyShards, tiny_model: Any) -> None:
    """HF's shifted loss over the packed labels = the token-mean of each document's own
    next-token loss; no target crosses a document boundary."""
    import torch
    import torch.nn.functional as F

    batch = next(validation_batches(tiny_shards.validation, micro_batch_size=2))
    with torch.no_grad():
        loss = tiny_model(**batch).loss
        total, count = 0.0, 0
        for b in range(batch["input_ids"].shape[0]):
            labels = batch["labels"][b]
            starts = [0, *((labels == IGNORE_INDEX).nonzero().flatten().tolist())]
            bounds = [*sorted(set(starts)), labels.shape[0]]
            for begin, end in pairwise(bounds):
                piece = batch["input_ids"][b:b + 1, begin:end]
                if piece.shape[1] < 2 or labels[begin + 1:end].eq(IGNORE_INDEX).all():
                    continue
                logits = tiny_model(input_ids=piece).logits[0, :-1]
                target = labels[begin + 1:end]
                keep = target != IGNORE_INDEX
                total += F.cross_entropy(logits[keep], target[keep], reduction="sum").item()
                count += int(keep.sum())
    assert loss.item() == pytest.approx(total / count, rel=1e-5)


def test_validation_batches_are_fixed(tiny_shards: TinyShards) -> None:
    from codekiln_core.shards import PackedShards

    first = list(validation_batches(tiny_shards.validation, micro_batch_size=4))
    again = list(validation_batches(tiny_shards.validation, micro_batch_size=4))
    total = len(PackedShards(tiny_shards.validation))
    assert sum(b["input_ids"].shape[0] for b in first) == total
    assert all((a["input_ids"] == b["input_ids"]).all() for a, b in zip(first, again,
                                                                        strict=True))
    assert len(list(validation_batches(tiny_shards.validation, micro_batch_size=4,
                                       max_batches=2))) == 2
