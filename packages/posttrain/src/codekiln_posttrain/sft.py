"""Supervised fine-tuning on codekiln-train's engine and loop (seed-coder.md §7).

Conversations are rendered with the tokenizer's chat template, loss only on assistant
tokens, packed best-fit-decreasing into ``max_seq_len`` sequences where each conversation
attends only to itself (block-diagonal causal mask, positions restarting at 0), then trained
by ``codekiln_train.loop.train`` with ``causal_lm_loss`` (labels -100 outside assistant
turns make it the assistant-only loss).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError
from codekiln_posttrain.chat.template import Encoded
from codekiln_train.models.document_attention import DOCUMENT_ATTENTION

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
    signals: dict[str, float] = field(default_factory=dict)


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


def packed_collate(seq_len: int, pad_id: int,
                   attn_implementation: str = DOCUMENT_ATTENTION) -> Any:
    """Packed conversations as model inputs, labels only on assistant tokens and never
    across conversations. With ``sdpa_documents`` (SFT's own) a micro-batch's
    conversations are one row without padding, positions restarting at each
    (:func:`codekiln_posttrain.packing.flat_row`); otherwise codekiln_train's collation
    of ``seq_len`` rows (block-diagonal causal mask, or a flattened row for flash kernels)."""
    if attn_implementation == DOCUMENT_ATTENTION:
        from codekiln_posttrain.packing import flat_row

        return lambda sequences: flat_row(
            [(doc.input_ids, doc.loss_mask) for docs in sequences for doc in docs])
    return _padded_collate(seq_len, pad_id, attn_implementation)


def _padded_collate(seq_len: int, pad_id: int, attn_implementation: str) -> Any:
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
        keep = assistant.reshape(batch["labels"].shape)  # flattened with the rows
        batch["labels"] = batch["labels"].masked_fill(~keep, IGNORE_INDEX)
        return batch

    return collate_sft


def train_sft(recipe: SftRecipe, *, run: LineageRun, resume: bool = False) -> SftResult:
    """Decontaminate, encode and pack the conversations, train, export and register."""
    from codekiln_posttrain.chat.datasets import read_rows
    from codekiln_posttrain.chat.decontam import checked_rows
    from codekiln_posttrain.finetune import (
        build_engine,
        export_and_register,
        load_start,
        pad_token_id,
        planned_steps,
        smallest_grad_norm,
        train_examples,
    )
    from codekiln_posttrain.ranks import is_rank_zero
    from codekiln_posttrain.run_settings import check_or_note
    from codekiln_train.loop import causal_lm_loss

    rows, report = checked_rows(read_rows(recipe.data, "sft"), recipe.decontamination)
    model, tokenizer = load_start(recipe, packed=True)
    encoded, truncated = encode_all(tokenizer, rows, recipe.max_seq_len)
    if not encoded:
        sources = ", ".join(map(str, recipe.data))
        raise ConfigError(f"{sources}: none of {len(rows)} conversations keeps an assistant "
                          f"token within max_seq_len={recipe.max_seq_len}; raise max_seq_len")
    sequences = pack(encoded, recipe.max_seq_len)
    run.log_metrics({**report.as_metrics(), "sequences": len(sequences), "truncated": truncated})
    total = planned_steps(recipe, len(sequences))
    check_or_note(recipe, resume=resume, rank_zero=is_rank_zero())
    engine = build_engine(model, recipe, total)
    summary = train_examples(
        engine, recipe, run, total_steps=total, examples=sequences,
        collate=packed_collate(recipe.max_seq_len, pad_token_id(tokenizer)),
        loss_fn=causal_lm_loss, tokens_per_example=recipe.max_seq_len, label="sft",
        resume=resume)
    signals = smallest_grad_norm(recipe.output)
    run.log_metrics(signals, step=summary.steps)
    out, uri = export_and_register(engine.module, tokenizer, recipe, run, "sft-model")
    return SftResult(str(out), uri, summary.steps, summary.final_loss, len(sequences),
                     len(encoded), report.dropped, truncated,
                     sum(map(len, encoded)) / (len(sequences) * recipe.max_seq_len),
                     summary.step_time_s, summary.tokens_per_s, signals)
