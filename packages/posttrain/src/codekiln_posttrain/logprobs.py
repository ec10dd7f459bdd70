"""Per-token log-probabilities of labelled tokens: the one primitive SFT, DPO and GRPO share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

IGNORE = -100


def token_logps(logits: torch.Tensor, labels: torch.Tensor, *,
                temperature: float = 1.0) -> torch.Tensor:
    """``log p(labels[t] | <t)`` for shifted labels: ``logits[:, t]`` predicts ``labels[:, t+1]``.

    Returns ``[B, T-1]``; positions whose label is ``-100`` hold 0. ``temperature`` rescales
    the logits as sampling did (GRPO), so ratios compare the distribution sampled from.
    """
    import torch

    logits = logits[:, :-1].float()
    if temperature != 1.0:
        logits = logits / temperature
    target = labels[:, 1:]
    mask = target != IGNORE
    safe = target.masked_fill(~mask, 0)
    picked = torch.gather(logits, 2, safe.unsqueeze(-1)).squeeze(-1)
    logps = picked - torch.logsumexp(logits, dim=-1)
    return logps * mask


def forward_logits(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Logits of ``model`` on a batch, passing only the keys the model understands."""
    kwargs = {k: batch[k] for k in ("attention_mask", "position_ids") if k in batch}
    return model(input_ids=batch["input_ids"], use_cache=False, **kwargs).logits  # type: ignore[no-any-return]
