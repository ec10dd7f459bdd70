"""DPO training: sigmoid DPO (:mod:`codekiln_posttrain.dpo_loss`) on codekiln-train's
engine and loop.

Reference log-probs come from the start model in one pass before training and are stored
in ``<output>/reference_logps.jsonl`` (by pair id); a resumed run reads them back instead of
recomputing, and training holds a single model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.fsio import atomic_write_text

if TYPE_CHECKING:
    import torch

    from codekiln_core.lineage import LineageRun
    from codekiln_posttrain.recipe import DpoRecipe


@dataclass(frozen=True)
class Pair:
    id: str
    prompt: list[int]
    chosen: list[int]
    rejected: list[int]
    ref_chosen: float = 0.0
    ref_rejected: float = 0.0


@dataclass
class DpoResult:
    """What a DPO run made and its headline numbers."""

    model_dir: str
    model_uri: str
    steps: int
    final_loss: float
    pairs: int
    dropped_contaminated: int
    step_time_s: float


def encode_pairs(tokenizer: Any, rows: list[dict[str, Any]], max_len: int) -> list[Pair]:
    """Token ids of each pair; the prompt is cut from the left to leave room for answers."""
    from codekiln_posttrain.chat.template import encode_completion, encode_prompt

    pairs = []
    for row in rows:
        chosen = encode_completion(tokenizer, row["chosen"])[: max_len // 2]
        rejected = encode_completion(tokenizer, row["rejected"])[: max_len // 2]
        room = max_len - max(len(chosen), len(rejected))
        prompt = encode_prompt(tokenizer, row["prompt"])[-room:]
        pairs.append(Pair(str(row["id"]), prompt, chosen, rejected))
    return pairs


def pair_collate(pad_id: int) -> Any:
    """``2B`` right-padded rows (chosen first), labels only on answer tokens."""
    import torch

    def collate(pairs: list[Pair]) -> dict[str, torch.Tensor]:
        rows = [p.prompt + p.chosen for p in pairs] + [p.prompt + p.rejected for p in pairs]
        starts = [len(p.prompt) for p in pairs] * 2
        width = max(map(len, rows))
        ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
        labels = torch.full_like(ids, -100)
        attention = torch.zeros_like(ids)
        for i, (row, start) in enumerate(zip(rows, starts, strict=True)):
            ids[i, :len(row)] = torch.tensor(row)
            labels[i, start:len(row)] = ids[i, start:len(row)]
            attention[i, :len(row)] = 1
        return {"input_ids": ids, "labels": labels, "attention_mask": attention,
                "ref_chosen_logps": torch.tensor([p.ref_chosen for p in pairs]),
                "ref_rejected_logps": torch.tensor([p.ref_rejected for p in pairs])}

    return collate


def with_reference(model: Any, pairs: list[Pair], collate: Any, path: Path,
                   batch_size: int = 8) -> list[Pair]:
    """Pairs with their reference log-probs: read from ``path``, else computed and stored."""
    from dataclasses import replace

    from codekiln_posttrain.dpo_loss import reference_logps

    stored: dict[str, list[float]] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            item = json.loads(line)
            stored[item["id"]] = [item["chosen"], item["rejected"]]
    missing = [p for p in pairs if p.id not in stored]
    if missing:
        chunks = [missing[i:i + batch_size] for i in range(0, len(missing), batch_size)]
        chosen, rejected = reference_logps(model, (collate(c) for c in chunks))
        for pair, c, r in zip(missing, chosen, rejected, strict=True):
            stored[pair.id] = [c, r]
        atomic_write_text(path, "".join(
            json.dumps({"id": k, "chosen": v[0], "rejected": v[1]}) + "\n"
            for k, v in sorted(stored.items())))
    return [replace(p, ref_chosen=stored[p.id][0], ref_rejected=stored[p.id][1]) for p in pairs]


def train_dpo(recipe: DpoRecipe, *, run: LineageRun, resume: bool = False) -> DpoResult:
    """Decontaminate and encode the pairs, score them once with the start model (the
    reference), train, export and register."""
    from codekiln_posttrain.chat.datasets import read_rows
    from codekiln_posttrain.chat.decontam import checked_rows
    from codekiln_posttrain.dpo_loss import dpo_loss_fn
    from codekiln_posttrain.finetune import (
        export_and_register,
        load_start,
        pad_token_id,
        train_examples,
    )

    rows, report = checked_rows(read_rows(recipe.data, "preference"), recipe.decontamination)
    model, tokenizer = load_start(recipe)
    collate = pair_collate(pad_token_id(tokenizer))
    recipe.output.mkdir(parents=True, exist_ok=True)
    pairs = with_reference(model, encode_pairs(tokenizer, rows, recipe.max_seq_len), collate,
                           recipe.output / "reference_logps.jsonl")
    mean_tokens = sum(len(p.prompt) * 2 + len(p.chosen) + len(p.rejected) for p in pairs)
    mean_tokens = max(1, mean_tokens // len(pairs))
    run.log_metrics({**report.as_metrics(), "pairs": len(pairs)})
    engine, summary = train_examples(
        model, recipe, run, examples=pairs, collate=collate,
        loss_fn=dpo_loss_fn(recipe.beta, recipe.label_smoothing),
        tokens_per_example=mean_tokens, label="dpo", resume=resume)
    out, uri = export_and_register(engine.module, tokenizer, recipe, run, "dpo-model")
    return DpoResult(str(out), uri, summary.steps, summary.final_loss, len(pairs),
                     report.dropped, summary.step_time_s)
