"""Next-token choice for a batch of sequences with their own sampling parameters.

Rows that are plain greedy take one batched argmax; the others get their penalties, bias,
temperature, top-k and top-p applied row by row and draw from their own seeded generator,
so a sequence's tokens depend on its seed, not on which other requests share its batch.
Logprobs are of the model's raw distribution (as vLLM reports them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from codekiln_serve.engines.base import GenerationRequest

if TYPE_CHECKING:
    import torch


_MIN_TEMPERATURE = 1e-5
_LOGIT_BOUND = 1e4


@dataclass
class RowState:
    """Per-sequence sampling state kept across steps."""

    request: GenerationRequest
    generator: torch.Generator | None
    seen: torch.Tensor | None = None  # unique ids of prompt + output (repetition penalty)
    counts: dict[int, int] = field(default_factory=dict)  # output token counts (penalties)

    @property
    def is_plain_greedy(self) -> bool:
        r = self.request
        return (r.temperature < _MIN_TEMPERATURE and r.repetition_penalty == 1.0
                and not r.logit_bias and r.presence_penalty == 0 and r.frequency_penalty == 0)

    def observe(self, token_id: int) -> None:
        import torch

        self.counts[token_id] = self.counts.get(token_id, 0) + 1
        if self.request.repetition_penalty != 1.0 and self.seen is not None:
            new = torch.tensor([token_id], device=self.seen.device)
            self.seen = torch.unique(torch.cat([self.seen, new]))


def new_row(request: GenerationRequest, device: torch.device) -> RowState:
    import random

    import torch

    generator = None
    if request.temperature > 0:
        generator = torch.Generator(device=device)
        seed = request.seed if request.seed is not None else random.getrandbits(63)
        generator.manual_seed(seed % (2**64))
    seen = None
    if request.repetition_penalty != 1.0:
        seen = torch.unique(torch.tensor(request.prompt_ids, device=device))
    return RowState(request, generator, seen)


def _adjusted(row: RowState, logits: torch.Tensor) -> torch.Tensor:
    import torch

    r = row.request
    out = logits.clone()
    if r.logit_bias:
        ids = torch.tensor(list(r.logit_bias), device=out.device)
        out[ids] += torch.tensor(list(r.logit_bias.values()), device=out.device, dtype=out.dtype)
    if r.repetition_penalty != 1.0 and row.seen is not None:
        picked = out[row.seen]
        out[row.seen] = torch.where(picked > 0, picked / r.repetition_penalty,
                                    picked * r.repetition_penalty)
    if row.counts and (r.presence_penalty or r.frequency_penalty):
        ids = torch.tensor(list(row.counts), device=out.device)
        counts = torch.tensor(list(row.counts.values()), device=out.device, dtype=out.dtype)
        out[ids] -= r.frequency_penalty * counts + r.presence_penalty
    # extreme but valid parameters (a penalty of 1e-300) must not reach softmax as inf/nan
    return torch.nan_to_num(out, nan=-_LOGIT_BOUND).clamp(-_LOGIT_BOUND, _LOGIT_BOUND)


def _draw(row: RowState, logits: torch.Tensor) -> int:
    import torch

    r = row.request
    if r.temperature < _MIN_TEMPERATURE:  # as vLLM: a vanishing temperature is greedy
        return int(logits.argmax())
    scaled = logits / r.temperature
    if 0 < r.top_k < scaled.numel():
        kth = torch.topk(scaled, r.top_k).values[-1]
        scaled = scaled.masked_fill(scaled < kth, float("-inf"))
    if r.top_p < 1.0:
        ordered, order = torch.sort(scaled, descending=True)
        probs = torch.softmax(ordered, dim=-1)
        drop = probs.cumsum(-1) - probs > r.top_p  # keep the smallest set reaching top_p
        ordered = ordered.masked_fill(drop, float("-inf"))
        scaled = torch.full_like(scaled, float("-inf")).scatter(0, order, ordered)
    probs = torch.softmax(scaled, dim=-1)
    if not bool(torch.isfinite(probs).all()) or float(probs.sum()) <= 0:
        return int(logits.argmax())
    return int(torch.multinomial(probs, 1, generator=row.generator))


@dataclass(frozen=True)
class Choice:
    token_id: int
    logprob: float | None
    top: tuple[tuple[int, float], ...]


def choose(rows: list[RowState], logits: torch.Tensor) -> list[Choice]:
    """One token per row of ``logits`` [rows, vocab] (float32)."""
    import torch

    greedy = logits.argmax(-1).tolist()
    want = any(r.request.logprobs is not None for r in rows)
    logprobs = torch.log_softmax(logits, dim=-1) if want else None
    out: list[Choice] = []
    for i, row in enumerate(rows):
        token = greedy[i] if row.is_plain_greedy else _draw(row, _adjusted(row, logits[i]))
        row.observe(token)
        if logprobs is None or row.request.logprobs is None:
            out.append(Choice(token, None, ()))
            continue
        k = row.request.logprobs
        top: tuple[tuple[int, float], ...] = ()
        if k > 0:
            values, ids = torch.topk(logprobs[i], min(k, logprobs.shape[-1]))
            top = tuple(zip(ids.tolist(), values.tolist(), strict=True))
        out.append(Choice(token, float(logprobs[i, token]), top))
    return out
