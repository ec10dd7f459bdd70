"""Sigmoid DPO (Rafailov et al. 2023) with reference log-probs computed once and stored.

A batch holds ``2B`` sequences: the ``B`` chosen answers, then the ``B`` rejected ones,
each ``prompt + answer``, with ``labels`` = ``-100`` outside the answer; either as ``2B``
padded rows, or packed into one row with ``sequence_ids`` saying which token belongs to
which sequence (codekiln's own collation, :func:`codekiln_posttrain.dpo.pair_collate`).
The reference model's sequence log-probs are computed in one pass before training
(:func:`reference_logps`), stored in the run's output, and read back as
``ref_chosen_logps`` / ``ref_rejected_logps`` batch columns, so training holds one model.

loss = -log σ(β · ((π_c - ref_c) - (π_r - ref_r))), mean over pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from codekiln_posttrain.logprobs import forward_logits, token_logps

if TYPE_CHECKING:
    import torch


def sequence_logps(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Sum of answer-token log-probs per sequence ``[2B]``."""
    import torch

    logits = forward_logits(model, batch)
    logps = token_logps(logits, batch["labels"])
    owners = batch.get("sequence_ids")
    if owners is None:
        return logps.sum(dim=-1)
    targets = owners[:, 1:].reshape(-1)  # token t+1's sequence: the one it is a target of
    sums = torch.zeros(int(owners.max()) + 1, dtype=logps.dtype, device=logps.device)
    return sums.index_add(0, targets, logps.reshape(-1))


def sigmoid_dpo(chosen: torch.Tensor, rejected: torch.Tensor, ref_chosen: torch.Tensor,
                ref_rejected: torch.Tensor, *, beta: float, label_smoothing: float = 0.0
                ) -> tuple[torch.Tensor, dict[str, float]]:
    """The DPO loss of sequence log-probs, and TRL's metrics (mean over pairs): the
    implicit rewards ``β·(π - ref)`` of chosen and rejected answers, their margin, how often
    chosen wins, and the policy's own sequence log-probs."""
    import torch.nn.functional as F

    chosen_ratio = chosen - ref_chosen
    rejected_ratio = rejected - ref_rejected
    margin = beta * (chosen_ratio - rejected_ratio)
    losses = (-(1 - label_smoothing) * F.logsigmoid(margin)
              - label_smoothing * F.logsigmoid(-margin))
    chosen_reward = (beta * chosen_ratio).detach()
    rejected_reward = (beta * rejected_ratio).detach()
    metrics = {
        "rewards/chosen": float(chosen_reward.mean()),
        "rewards/rejected": float(rejected_reward.mean()),
        "rewards/accuracies": float((chosen_reward > rejected_reward).float().mean()),
        "rewards/margins": float((chosen_reward - rejected_reward).mean()),
        "logps/chosen": float(chosen.detach().mean()),
        "logps/rejected": float(rejected.detach().mean()),
    }
    return losses.mean(), metrics


LossFn = Callable[[Any, dict[str, "torch.Tensor"]], tuple["torch.Tensor", dict[str, float]]]


def dpo_loss_fn(beta: float, label_smoothing: float = 0.0) -> LossFn:
    """A LossFn for ``codekiln_train.loop.train`` over stored reference log-probs."""

    def loss_fn(model: Any, batch: dict[str, torch.Tensor]
                ) -> tuple[torch.Tensor, dict[str, float]]:
        logps = sequence_logps(model, batch)
        chosen, rejected = logps.chunk(2)
        loss, metrics = sigmoid_dpo(chosen, rejected, batch["ref_chosen_logps"],
                                    batch["ref_rejected_logps"], beta=beta,
                                    label_smoothing=label_smoothing)
        return loss, metrics

    return loss_fn


def reference_logps(model: Any, batches: Iterable[dict[str, torch.Tensor]]
                    ) -> tuple[list[float], list[float]]:
    """Reference sequence log-probs of every pair, in batch order (no grad, eval mode)."""
    import torch

    chosen: list[float] = []
    rejected: list[float] = []
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for batch in batches:
            c, r = sequence_logps(model, batch).chunk(2)
            chosen.extend(c.tolist())
            rejected.extend(r.tolist())
    model.train(was_training)
    return chosen, rejected
