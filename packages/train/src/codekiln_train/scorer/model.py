"""Build, train and run the regression Llama (plain torch loop, one process).

The model is ``LlamaForSequenceClassification`` with one output and ``problem_type`` =
``regression``: it pools the last non-pad token and transformers computes the MSE against
labels in [0, 1]. Saved with ``save_pretrained``, so anyone loads it with
``AutoModelForSequenceClassification`` without importing codekiln.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_train.scorer.presets import ScorerConfig, llama_config

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedTokenizerBase

#: How the model sees a file; stored in the checkpoint so inference formats files the same.
INPUT_TEMPLATE = "<language>{language}</language>\n{content}"


def format_input(language: str, content: str, template: str = INPUT_TEMPLATE) -> str:
    return template.replace("{language}", language).replace("{content}", content)


def encode(tokenizer: PreTrainedTokenizerBase, texts: Sequence[str],
           max_tokens: int) -> list[list[int]]:
    """Token ids of each text, truncated to its first ``max_tokens`` tokens."""
    encoded = tokenizer(list(texts), truncation=True, max_length=max_tokens,
                        add_special_tokens=True)
    return [list(ids) for ids in encoded["input_ids"]]


def build_model(config: ScorerConfig, tokenizer: PreTrainedTokenizerBase,
                init: Path | None = None) -> Any:
    """A fresh model of the preset's shape, or ``init``'s weights with a new 1-output head.

    Typed ``Any``: transformers' model classes are only partly annotated.
    """
    from transformers import AutoModelForSequenceClassification, LlamaForSequenceClassification

    pad_id = int(tokenizer.pad_token_id)
    if init is None:
        shape = llama_config(config, len(tokenizer), pad_id)
        return LlamaForSequenceClassification(shape)  # type: ignore[no-untyped-call]
    model = AutoModelForSequenceClassification.from_pretrained(
        str(init), num_labels=1, problem_type="regression", pad_token_id=pad_id)
    if model.get_input_embeddings().num_embeddings < len(tokenizer):
        model.resize_token_embeddings(len(tokenizer))
    return model


def collate(batch: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ids and the attention mask."""
    import torch

    width = max(len(ids) for ids in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, seq in enumerate(batch):
        ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    return ids, mask


def lr_factor(step: int, total: int, warmup: int) -> float:
    """Linear warmup, then cosine decay to 10% of the peak."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


@dataclass
class TrainCurves:
    """Per optimizer step: the batch loss and the learning rate it used; validation losses
    (MSE on the held-out split, same units as the loss) at ``(step, loss)``."""

    losses: list[float] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)
    val_losses: list[tuple[int, float]] = field(default_factory=list)


def eval_steps(total: int, points: int) -> set[int]:
    """``points`` optimizer steps spread evenly over ``total``, the last one included."""
    if points <= 0 or total <= 0:
        return set()
    count = min(points, total)
    return {max(1, round(total * (i + 1) / count)) for i in range(count)}


def validation_loss(model: Any, ids: Sequence[Sequence[int]], targets: Sequence[float],
                    batch_size: int, device: str) -> float:
    """Mean squared error of the head on held-out files (the training loss, unshuffled)."""
    raw = predict(model, ids, batch_size, device)
    model.train()
    return sum((p - t) ** 2 for p, t in zip(raw, targets, strict=True)) / len(targets)


def train(model: Any, ids: Sequence[Sequence[int]], targets: Sequence[float],
          config: ScorerConfig, device: str,
          on_step: Callable[[int, int, float], None] | None = None, *,
          held_out: tuple[Sequence[Sequence[int]], Sequence[float]] | None = None,
          ) -> TrainCurves:
    """AdamW + MSE over shuffled batches for ``config.epochs``; validation loss on
    ``held_out`` at ``config.eval_points`` evenly spaced steps."""
    import torch

    generator = torch.Generator().manual_seed(config.seed)
    pad_id = int(model.config.pad_token_id)
    steps_per_epoch = math.ceil(len(ids) / config.batch_size)
    total = steps_per_epoch * config.epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate,
                                  weight_decay=config.weight_decay)
    warmup = int(total * config.warmup_fraction)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer,
                                                 lambda s: lr_factor(s, total, warmup))
    validate_at = eval_steps(total, config.eval_points) if held_out and held_out[0] else set()
    model.to(device).train()
    curves = TrainCurves()
    for _ in range(config.epochs):
        order = torch.randperm(len(ids), generator=generator).tolist()
        for start in range(0, len(order), config.batch_size):
            chosen = order[start : start + config.batch_size]
            batch_ids, mask = collate([ids[i] for i in chosen], pad_id)
            labels = torch.tensor([targets[i] for i in chosen], dtype=torch.float32)
            out = model(input_ids=batch_ids.to(device), attention_mask=mask.to(device),
                        labels=labels.to(device))
            optimizer.zero_grad(set_to_none=True)
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            curves.lrs.append(float(optimizer.param_groups[0]["lr"]))
            optimizer.step()
            schedule.step()
            curves.losses.append(float(out.loss.detach()))
            step = len(curves.losses)
            if step in validate_at and held_out is not None:
                curves.val_losses.append((step, validation_loss(
                    model, held_out[0], held_out[1], config.batch_size, device)))
            if on_step is not None:
                on_step(step, total, curves.losses[-1])
    model.eval()
    return curves


def predict(model: Any, ids: Sequence[Sequence[int]], batch_size: int,
            device: str) -> list[float]:
    """Raw head outputs (about 0-1), in input order; batches are formed longest first."""
    import torch

    pad_id = int(model.config.pad_token_id)
    order = sorted(range(len(ids)), key=lambda i: (-len(ids[i]), i))
    out = [0.0] * len(ids)
    model.to(device).eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            batch_ids, mask = collate([ids[i] for i in chosen], pad_id)
            logits = model(input_ids=batch_ids.to(device),
                           attention_mask=mask.to(device)).logits
            for i, value in zip(chosen, logits[:, 0].float().cpu().tolist(), strict=True):
                out[i] = value
    return out


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def seed_everything(seed: int) -> None:
    import random

    import torch

    random.seed(seed)
    torch.manual_seed(seed)


def checkpoint_meta(config: ScorerConfig, metrics: dict[str, Any]) -> dict[str, Any]:
    """``codekiln_scorer.json``: how inference must format and scale (read by curate)."""
    return {"format": "codekiln-quality-scorer/1", "input_template": INPUT_TEMPLATE,
            "max_tokens": config.max_tokens, "score_scale": 10.0, "preset": config.name,
            "config": config.model_dump(mode="json"), "held_out": metrics}
