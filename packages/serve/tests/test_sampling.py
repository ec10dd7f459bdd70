"""Top-p filtering keeps exactly the set the textbook full sort (values with their indices)
keeps, whether the nucleus is a few tokens (a trained model) or most of the vocabulary (a
flat distribution: an untrained one)."""

from __future__ import annotations

import pytest
import torch

from codekiln_serve import sampling
from codekiln_serve.engines.base import GenerationRequest


def full_sort_nucleus(scaled: torch.Tensor, top_p: torch.Tensor) -> torch.Tensor:
    """The textbook filter: sort, keep while the mass before a token is at most top_p."""
    ordered, order = torch.sort(scaled, dim=-1, descending=True)
    probs = torch.softmax(ordered, dim=-1)
    ordered = ordered.masked_fill(probs.cumsum(-1) - probs > top_p, float("-inf"))
    return torch.full_like(scaled, float("-inf")).scatter(-1, order, ordered)


def logits(kind: str, rows: int = 16, vocab: int = 2048) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    if kind == "flat":  # an untrained model: the nucleus is most of the vocabulary
        return torch.randn(rows, vocab, generator=g) * 0.05
    if kind == "peaked":  # a trained one: a few tokens hold the mass
        return torch.randn(rows, vocab, generator=g) * 4
    # rows of both kinds in one batch
    return torch.cat([logits("flat", rows // 2, vocab), logits("peaked", rows // 2, vocab)])


@pytest.mark.parametrize("kind", ["flat", "peaked", "mixed"])
@pytest.mark.parametrize("top_p", [0.05, 0.5, 0.8, 0.95, 0.999])
def test_nucleus_keeps_what_a_full_sort_keeps(kind: str, top_p: float) -> None:
    scaled = logits(kind)
    threshold = torch.full((scaled.shape[0], 1), top_p)
    ours = torch.isfinite(sampling._nucleus(scaled.clone(), threshold))
    reference = torch.isfinite(full_sort_nucleus(scaled, threshold))
    assert torch.equal(ours, reference)
    assert bool(ours.any(-1).all())  # every row keeps at least its most probable token


def test_a_row_samples_only_inside_its_nucleus() -> None:
    scaled = logits("peaked", rows=1)[0]
    kept = torch.isfinite(full_sort_nucleus(scaled.unsqueeze(0), torch.tensor([[0.5]])))[0]
    for seed in range(40):
        request = GenerationRequest(prompt_ids=[1], max_tokens=1, temperature=1.0, top_p=0.5,
                                    seed=seed)
        (choice,) = sampling.choose([sampling.new_row(request, torch.device("cpu"))],
                                    scaled.unsqueeze(0))
        assert kept[choice.token_id]
