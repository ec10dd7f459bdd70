"""Supervised fine-tuning on codekiln-train's engine and loop (spec §7).

Conversations are rendered with the tokenizer's chat template, loss only on assistant
tokens, packed best-fit-decreasing into ``max_seq_len`` sequences where each conversation
attends only to itself (block-diagonal causal mask, positions restarting at 0), then trained
by ``codekiln_train.loop.train`` with ``causal_lm_loss`` (labels -100 outside assistant
turns make it the assistant-only loss).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError
from codekiln_posttrain.chat.template import Encoded

if TYPE_CHECKING:
    import torch

    from codekiln_core.lineage import LineageRun
    from codekiln_posttrain.recipe import SftRecipe


@dataclass
class SftResult:
    """What an SFT run made and its headline numbers."""

    model_dir: str
    model_uri: str
    steps: int
    final_loss: float
    sequences: int
    conversations: int
    dropped_contaminated: int
    truncated: int
    fill: float
    step_time_s: float
    tokens_per_s: float


def encode_all(tokenizer: Any, rows: list[dict[str, Any]], max_len: int
               ) -> tuple[list[Encoded], int]:
    """Encoded conversations (cut to ``max_len``; those left with no loss token dropped)."""
    from codekiln_posttrain.chat.template import encode_conversation

    encoded, truncated = [], 0
    for row in rows:
        item = encode_conversation(tokenizer, row["messages"])
        if len(item) > max_len:
            truncated += 1
            item = Encoded(item.input_ids[:max_len], item.loss_mask[:max_len])
        if any(item.loss_mask[1:]):
            encoded.append(item)
    return encoded, truncated


def pack(encoded: list[Encoded], seq_len: int) -> list[list[Encoded]]:
    from codekiln_posttrain.packing import best_fit_decreasing

    bins = best_fit_decreasing([len(e) for e in encoded], seq_len)
    return [[encoded[i] for i in sorted(b)] for b in bins]


def packed_collate(seq_len: int, pad_id: int, attn_implementation: str = "sdpa") -> Any:
    """Packed conversations through codekiln_train's document-aware collation (block-diagonal
    causal mask, restarting positions, no target across documents), then labels kept only
    on assistant tokens."""
    import numpy as np
    import torch

    from codekiln_train.data.collate import IGNORE_INDEX, PackedRow, collate

    def rows_of(sequences: list[list[Encoded]]) -> tuple[list[PackedRow], torch.Tensor]:
        rows, masks = [], torch.zeros((len(sequences), seq_len), dtype=torch.bool)
        for b, docs in enumerate(sequences):
            tokens = np.full(seq_len, pad_id, dtype=np.uint32)
            starts, at = [], 0
            for doc in docs:
                tokens[at:at + len(doc)] = doc.input_ids
                masks[b, at:at + len(doc)] = torch.tensor(doc.loss_mask)
                starts.append(at)
                at += len(doc)
            rows.append(PackedRow(tokens, np.asarray(starts, dtype=np.int64), at))
        return rows, masks

    def collate_sft(sequences: list[list[Encoded]]) -> dict[str, torch.Tensor]:
        rows, assistant = rows_of(sequences)
        batch = collate(rows, attn_implementation=attn_implementation)
        batch["labels"] = batch["labels"].masked_fill(~assistant, IGNORE_INDEX)
        return batch

    return collate_sft


def train_sft(recipe: SftRecipe, *, run: LineageRun, resume: bool = False) -> SftResult:
    """Decontaminate, encode and pack the conversations, train, export and register."""
    from codekiln_posttrain.chat.datasets import read_rows
    from codekiln_posttrain.chat.decontam import checked_rows
    from codekiln_posttrain.finetune import (
        export_and_register,
        load_start,
        pad_token_id,
        train_examples,
    )
    from codekiln_train.loop import causal_lm_loss

    rows, report = checked_rows(read_rows(recipe.data, "sft"), recipe.decontamination)
    model, tokenizer = load_start(recipe)
    encoded, truncated = encode_all(tokenizer, rows, recipe.max_seq_len)
    if not encoded:
        sources = ", ".join(map(str, recipe.data))
        raise ConfigError(f"{sources}: none of {len(rows)} conversations keeps an assistant "
                          f"token within max_seq_len={recipe.max_seq_len}; raise max_seq_len")
    sequences = pack(encoded, recipe.max_seq_len)
    run.log_metrics({**report.as_metrics(), "sequences": len(sequences), "truncated": truncated})
    engine, summary = train_examples(
        model, recipe, run, examples=sequences,
        collate=packed_collate(recipe.max_seq_len, pad_token_id(tokenizer)),
        loss_fn=causal_lm_loss, tokens_per_example=recipe.max_seq_len, label="sft",
        resume=resume)
    out, uri = export_and_register(engine.module, tokenizer, recipe, run, "sft-model")
    return SftResult(str(out), uri, summary.steps, summary.final_loss, len(sequences),
                     len(encoded), report.dropped, truncated,
                     sum(map(len, encoded)) / (len(sequences) * recipe.max_seq_len),
                     summary.step_time_s, summary.tokens_per_s)
