"""DPO training: sigmoid DPO (:mod:`codekiln_posttrain.dpo_loss`) on codekiln-train's
engine and loop.

Reference log-probs come from the start model in one pass before training
(:mod:`codekiln_posttrain.reference`), so training holds a single model. Pair ids must be
unique (they key the reference values) and a pair whose chosen equals its rejected answer
is dropped with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError

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
    first_loss: float
    final_loss: float
    pairs: int
    dropped_contaminated: int
    dropped_identical: int
    step_time_s: float
    signals: dict[str, float] = field(default_factory=dict)


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


def pair_collate() -> Any:
    """The ``2B`` sequences of ``B`` pairs (the chosen ``prompt + answer`` rows, then the
    rejected ones) as one row without padding
    (:func:`codekiln_posttrain.packing.flat_row`): positions restart at every sequence,
    labels only on answer tokens, ``sequence_ids`` says which sequence a token is of."""
    import torch

    from codekiln_posttrain.packing import flat_row

    def collate(pairs: list[Pair]) -> dict[str, torch.Tensor]:
        answers = [p.chosen for p in pairs] + [p.rejected for p in pairs]
        prompts = [p.prompt for p in pairs] * 2
        batch = flat_row([(prompt + answer, [False] * len(prompt) + [True] * len(answer))
                          for prompt, answer in zip(prompts, answers, strict=True)])
        batch["ref_chosen_logps"] = torch.tensor([p.ref_chosen for p in pairs])
        batch["ref_rejected_logps"] = torch.tensor([p.ref_rejected for p in pairs])
        return batch

    return collate


def drop_identical(pairs: list[Pair]) -> tuple[list[Pair], list[str]]:
    """The pairs whose chosen and rejected answers differ (after truncation to
    ``max_seq_len``), and the ids of those that do not: such a pair has zero margin and
    zero gradient whatever the model, so it only dilutes the batch."""
    kept = [p for p in pairs if p.chosen != p.rejected]
    return kept, [p.id for p in pairs if p.chosen == p.rejected]


def warn_identical(ids: list[str], sources: list[Path]) -> None:
    """One warning line (rank 0) naming the dropped pairs."""
    import sys

    from codekiln_posttrain.ranks import is_rank_zero

    if ids and is_rank_zero():
        shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
        print(f"warning: {', '.join(map(str, sources))}: dropped {len(ids)} pair(s) whose "
              f"chosen equals rejected (ids {shown}); they carry no preference",
              file=sys.stderr)


def train_dpo(recipe: DpoRecipe, *, run: LineageRun, resume: bool = False) -> DpoResult:
    """Read the pairs (ids unique), drop identical ones, score them once with the start
    model (the reference), train, export and register."""
    from codekiln_posttrain.chat.datasets import read_rows
    from codekiln_posttrain.chat.decontam import checked_rows
    from codekiln_posttrain.dpo_loss import dpo_loss_fn
    from codekiln_posttrain.finetune import (
        build_engine,
        export_and_register,
        load_start,
        planned_steps,
        smallest_grad_norm,
        train_examples,
    )
    from codekiln_posttrain.ranks import is_rank_zero
    from codekiln_posttrain.reference import with_reference
    from codekiln_posttrain.run_settings import check_or_note

    rows, report = checked_rows(read_rows(recipe.data, "preference", unique_ids=True),
                                recipe.decontamination)
    model, tokenizer = load_start(recipe, packed=True)
    pairs, identical = drop_identical(encode_pairs(tokenizer, rows, recipe.max_seq_len))
    warn_identical(identical, recipe.data)
    if not pairs:
        raise ConfigError(f"{', '.join(map(str, recipe.data))}: no pair has a rejected "
                          "answer different from its chosen one; nothing to learn")
    collate = pair_collate()
    recipe.output.mkdir(parents=True, exist_ok=True)
    total = planned_steps(recipe, len(pairs))
    check_or_note(recipe, resume=resume, rank_zero=is_rank_zero())
    engine = build_engine(model, recipe, total)
    pairs = with_reference(engine, pairs, collate, recipe.output, recipe.model)
    mean_tokens = sum(len(p.prompt) * 2 + len(p.chosen) + len(p.rejected) for p in pairs)
    mean_tokens = max(1, mean_tokens // len(pairs))
    run.log_metrics({**report.as_metrics(), "pairs": len(pairs),
                     "dropped_identical": len(identical)})
    summary = train_examples(
        engine, recipe, run, total_steps=total, examples=pairs, collate=collate,
        loss_fn=dpo_loss_fn(recipe.beta, recipe.label_smoothing),
        tokens_per_example=mean_tokens, label="dpo", resume=resume)
    signals = smallest_grad_norm(recipe.output)
    run.log_metrics(signals, step=summary.steps)
    out, uri = export_and_register(engine.module, tokenizer, recipe, run, "dpo-model")
    first = summary.losses[0][1] if summary.losses else float("nan")
    return DpoResult(str(out), uri, summary.steps, first, summary.final_loss, len(pairs),
                     report.dropped, len(identical), summary.step_time_s, signals)
