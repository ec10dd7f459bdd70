"""Labels as model inputs: the text the model sees, token ids, and the batches the training
loop draws (``codekiln_train.loop.BatchSource``).

Training batches come from train's own mixture sampler over one set: every epoch visits
each file once in a seeded order, and the stream runs on across epochs, so every optimizer
step sees ``batch_size`` files. Each batch is padded to ``max_tokens``, so a step is the same
number of tokens (exact throughput and MFU) and shapes stay static.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from codekiln_train.data.sampler import MixtureSampler

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


def pad_batch(batch: Sequence[Sequence[int]], pad_id: int,
              width: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ids (to ``width``, default the longest) and the attention mask."""
    import torch

    width = width or max(len(ids) for ids in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, seq in enumerate(batch):
        ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    return ids, mask


def regression_batch(ids: Sequence[Sequence[int]], targets: Sequence[float], *, pad_id: int,
                     width: int) -> dict[str, torch.Tensor]:
    """What the regression model takes: ids, mask and float labels (the loss is MSE)."""
    import torch

    input_ids, mask = pad_batch(ids, pad_id, width)
    return {"input_ids": input_ids, "attention_mask": mask,
            "labels": torch.tensor(list(targets), dtype=torch.float32)}


class LabelBatches:
    """Training batches of ``batch_size`` files, drawn by a seeded, resumable sampler."""

    def __init__(self, ids: Sequence[Sequence[int]], targets: Sequence[float], *,
                 batch_size: int, max_tokens: int, pad_id: int, seed: int) -> None:
        self.ids, self.targets = ids, targets
        self.pad_id, self.max_tokens = pad_id, max_tokens
        self.sampler = MixtureSampler([len(ids)], [1.0], seed=seed, micro_batch_size=batch_size)

    def next_batch(self) -> dict[str, torch.Tensor]:
        chosen = [index for _, index in self.sampler.next_micro_batch()]
        return regression_batch([self.ids[i] for i in chosen], [self.targets[i] for i in chosen],
                                pad_id=self.pad_id, width=self.max_tokens)

    def state_dict(self) -> dict[str, Any]:
        return self.sampler.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.sampler.load_state_dict(state)


def held_out_batches(ids: Sequence[Sequence[int]], targets: Sequence[float], *,
                     batch_size: int, max_tokens: int,
                     pad_id: int) -> list[dict[str, torch.Tensor]]:
    """The held-out files in order, the same batches at every validation."""
    return [regression_batch(ids[start : start + batch_size],
                             targets[start : start + batch_size], pad_id=pad_id,
                             width=max_tokens)
            for start in range(0, len(ids), batch_size)]


def regression_loss(model: torch.nn.Module,
                    batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
    """MSE between the head's output and the label (transformers computes it for
    ``problem_type="regression"``); the loop's ``LossFn``."""
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                labels=batch["labels"])
    return out.loss, {}
