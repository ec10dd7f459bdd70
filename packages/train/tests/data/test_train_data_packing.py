"""Packed batches keep documents apart: same per-document logits and loss as running each
document alone, through the tiny preset on the real tiny shards."""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codekiln_train.data import (
    IGNORE_INDEX,
    PackedRow,
    block_causal_mask,
    collate,
    validation_batches,
)
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
    varlen = collate([row, row], attn_implementation="flash_attention_2")
    assert "attention_mask" not in varlen
    assert varlen["input_ids"].tolist() == [[7, 8, 2, 9, 2, 5, 1, 1] * 2]  # flattened
    assert varlen["position_ids"].tolist() == [batch["position_ids"][0].tolist() * 2]
    assert varlen["labels"].tolist() == [[-100, 8, 2, -100, 2, -100, -100, -100] * 2]
    causal = collate([row], cross_document_attention=True)
    assert "attention_mask" not in causal
    assert causal["position_ids"].tolist() == [list(range(8))]
    assert causal["labels"].tolist() == batch["labels"].tolist()


@given(st.lists(st.lists(st.booleans(), min_size=1, max_size=40), min_size=1, max_size=3)
       .filter(lambda rows: len({len(r) for r in rows}) == 1))
@settings(max_examples=60, deadline=None)
def test_block_mask_is_causal_within_segments(rows: list[list[bool]]) -> None:
    """The block-by-block fill equals its definition: key <= query, same segment."""
    import torch

    starts = torch.tensor(rows)
    segment = starts.long().cumsum(dim=1)
    length = starts.shape[1]
    expected = (segment.unsqueeze(2) == segment.unsqueeze(1)) & torch.ones(
        length, length, dtype=torch.bool).tril()
    assert torch.equal(block_causal_mask(starts), expected.unsqueeze(1))


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
        # no mask key: transformers splits documents from the restarting position_ids
        by_positions = tiny_model(input_ids=batch["input_ids"],
                                  position_ids=batch["position_ids"]).logits
        # the varlen batch: rows flattened into one, as flash_attention_2 needs
        flat = collate(rows, attn_implementation="flash_attention_2")
        flat_logits = tiny_model(input_ids=flat["input_ids"],
                                 position_ids=flat["position_ids"]).logits
        as_rows = flat_logits.reshape(packed.shape)
        assert tiny_model(**flat).loss.item() == pytest.approx(
            tiny_model(**batch).loss.item(), rel=1e-5)
        compared = 0
        for b, row in enumerate(rows):
            for begin, end in segments(row, tiny_shards.seq_len):
                alone = tiny_model(input_ids=batch["input_ids"][b:b + 1, begin:end]).logits[0]
                assert torch.allclose(packed[b, begin:end], alone, atol=1e-5, rtol=0)
                assert torch.allclose(by_positions[b, begin:end], alone, atol=1e-5, rtol=0)
                assert torch.allclose(as_rows[b, begin:end], alone, atol=1e-5, rtol=0)
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
    split = [list(validation_batches(tiny_shards.validation, micro_batch_size=4, rank=r,
                                     world_size=2)) for r in range(2)]
    assert [len(part) for part in split] == [len(first[0::2]), len(first[1::2])]
    assert all((a["input_ids"] == b["input_ids"]).all()
               for a, b in zip(split[1], first[1::2], strict=True))


@pytest.mark.gpu
def test_flash_attention_varlen_keeps_documents_apart(tiny_shards: TinyShards) -> None:
    """On a GPU with flash-attn: no mask in the batch, documents split by position ids."""
    import torch

    pytest.importorskip("flash_attn")
    from codekiln_core.shards import PackedShards

    model = build_model(resolve_model_config("tiny"), vocab_size=tiny_shards.vocab_size,
                        bos_token_id=0, eos_token_id=2, pad_token_id=1, device="cuda",
                        dtype=torch.bfloat16, attn_implementation="flash_attention_2").eval()
    reader = PackedShards(tiny_shards.code)
    picks = [i for i in range(len(reader)) if len(reader.document_starts(i)) >= 2][:4]
    rows = [PackedRow(reader.sequence(i), reader.document_starts(i), reader.valid_length(i))
            for i in picks]
    batch = collate(rows, attn_implementation="flash_attention_2")
    assert "attention_mask" not in batch and batch["input_ids"].shape[0] == 1
    with torch.no_grad():
        packed = model(input_ids=batch["input_ids"].cuda(),
                       position_ids=batch["position_ids"].cuda()).logits.float()
        packed = packed.reshape(len(rows), tiny_shards.seq_len, -1)
        ids = batch["input_ids"].reshape(len(rows), -1)
        for b, row in enumerate(rows):
            for begin, end in segments(row, tiny_shards.seq_len):
                alone = model(input_ids=ids[b:b + 1, begin:end].cuda()).logits[0].float()
                assert (packed[b, begin:end] - alone).abs().max().item() < 5e-2  # bf16
