"""Continuous batching gives what one-at-a-time HF ``generate`` gives (greedy), with
sequences of different lengths joining and leaving the batch at different steps."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from codekiln_serve.engines.base import GenerationRequest
from codekiln_serve.scheduler import ContinuousBatcher

pytestmark = pytest.mark.slow

PROMPTS = ["def add(a, b):", "import os\nimport sys\n\n", "x", "int main(void) {\n    return",
           "const express = require('express');"]


@pytest.fixture(scope="module")
def model_and_tok(tiny_model_dir: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir)).eval()
    return model, AutoTokenizer.from_pretrained(str(tiny_model_dir))


def _reference(model: Any, ids: list[int], new: int) -> list[int]:
    import torch

    with torch.inference_mode():
        out = model.generate(torch.tensor([ids]), max_new_tokens=new, min_new_tokens=new,
                             do_sample=False, pad_token_id=1)
    return [int(t) for t in out[0, len(ids):]]


async def _batched(batcher: ContinuousBatcher, jobs: list[tuple[list[int], int, float]],
                   ) -> list[list[int]]:
    async def one(ids: list[int], new: int, delay: float) -> list[int]:
        await asyncio.sleep(delay)
        (handle,) = batcher.submit([GenerationRequest(ids, new, temperature=0.0,
                                                      ignore_eos=True)])
        return [e.token_id async for e in handle.events() if e.token_id is not None]

    batcher.start()
    try:
        return list(await asyncio.gather(*(one(*job) for job in jobs)))
    finally:
        batcher.stop()


def test_batched_greedy_equals_generate_one_at_a_time(model_and_tok: tuple[Any, Any]) -> None:
    model, tok = model_and_tok
    lengths = [12, 30, 7, 21, 16]
    delays = [0.0, 0.0, 0.0, 0.05, 0.1]  # three start together; later ones join a running batch
    jobs = [(list(tok(p)["input_ids"]), n, d) for p, n, d in zip(PROMPTS, lengths, delays,
                                                                 strict=True)]
    batcher = ContinuousBatcher(model, max_batch=8, max_queue=64, max_prefill_tokens=4096,
                                context_length=1024)
    got = asyncio.run(_batched(batcher, jobs))
    want = [_reference(model, ids, n) for ids, n, _ in jobs]
    assert got == want
    # they really shared steps (how many overlap depends on the machine's speed; at least two
    # of the three submitted together always do)
    assert batcher.stats.max_batch_seen >= 2
    assert batcher.running() == 0 and batcher.stats.generated_tokens == sum(lengths)


def test_one_slot_batch_serves_everyone_in_turn(model_and_tok: tuple[Any, Any]) -> None:
    model, tok = model_and_tok
    jobs = [(list(tok(p)["input_ids"]), 5, 0.0) for p in PROMPTS[:3]]
    batcher = ContinuousBatcher(model, max_batch=1, max_queue=8, max_prefill_tokens=4096,
                                context_length=1024)
    got = asyncio.run(_batched(batcher, jobs))
    assert got == [_reference(model, ids, 5) for ids, _, _ in jobs]
    assert batcher.stats.max_batch_seen == 1
