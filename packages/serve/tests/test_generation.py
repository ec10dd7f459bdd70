"""The serving engines as the one generation layer: in-process, batched, seeded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codekiln_core.generation import (
    GenerationRequest,
    GeneratorSpec,
    SamplingParams,
    open_generator,
)


@pytest.fixture(scope="module")
def generator(tiny_model_dir: Path) -> Iterator[Any]:
    gen = open_generator(GeneratorSpec(model=tiny_model_dir, threads=1, max_batch=8))
    yield gen
    gen.close()


SAMPLED = SamplingParams(temperature=1.0, top_p=0.95, max_new_tokens=12, logprobs=True)


def test_auto_on_cpu_is_the_transformers_scheduler(generator: Any):
    from codekiln_serve.generation import EngineGenerator

    assert isinstance(generator, EngineGenerator)
    assert type(generator.engine).__name__ == "TransformersEngine"


def test_greedy_equals_hf_generate(generator: Any):
    import torch

    prompts = ["def add(a, b):", "import os\n", "class Tree:\n    def"]
    got = generator.generate([GenerationRequest(prompt=p, params=SamplingParams(
        temperature=0, max_new_tokens=10)) for p in prompts])
    model, tok = generator.engine.model, generator.tokenizer
    for prompt, (sample,) in zip(prompts, got, strict=True):
        ids = tok(prompt, add_special_tokens=False, return_tensors="pt").input_ids
        with torch.no_grad():
            ref = model.generate(ids, max_new_tokens=10, do_sample=False,
                                 attention_mask=torch.ones_like(ids),
                                 pad_token_id=tok.eos_token_id)[0, ids.shape[1]:].tolist()
        eos = tok.eos_token_id
        ref = ref[:ref.index(eos) + 1] if eos in ref else ref
        assert list(sample.token_ids) == ref
        assert sample.finish_reason == ("stop" if eos in ref else "length")


def test_seeded_samples_do_not_depend_on_the_batch(generator: Any):
    alone = generator.generate([GenerationRequest(prompt="x = ", n=3, params=SAMPLED,
                                                  seed=7)])[0]
    crowd = generator.generate([
        GenerationRequest(prompt="def f():", n=5, params=SAMPLED, seed=1),
        GenerationRequest(prompt="x = ", n=3, params=SAMPLED, seed=7),
    ])[1]
    assert [s.token_ids for s in alone] == [s.token_ids for s in crowd]
    assert len({s.token_ids for s in alone}) > 1  # the n samples differ from each other
    other = generator.generate([GenerationRequest(prompt="x = ", n=3, params=SAMPLED,
                                                  seed=8)])[0]
    assert [s.token_ids for s in other] != [s.token_ids for s in alone]


def test_samples_of_one_prompt_share_its_prefill(generator: Any):
    stats = generator.engine.stats
    before = stats.prefilled_tokens
    ids = tuple(range(5, 25))
    greedy = SamplingParams(temperature=0, max_new_tokens=6)
    (group,) = generator.generate([GenerationRequest(prompt_ids=ids, n=4, params=greedy)])
    assert stats.prefilled_tokens - before == len(ids)  # once, not four times
    (alone,) = generator.generate([GenerationRequest(prompt_ids=ids, params=greedy)])[0]
    assert {s.token_ids for s in group} == {alone.token_ids}


def test_logprobs_and_lengths(generator: Any):
    (samples,) = generator.generate([GenerationRequest(prompt="a", n=4, params=SAMPLED,
                                                       seed=3)])
    for s in samples:
        assert s.logprobs is not None and len(s.logprobs) == len(s.token_ids) <= 12
        assert all(lp <= 0 for lp in s.logprobs)
        assert s.truncated == (s.finish_reason == "length")
        if s.truncated:
            assert len(s.token_ids) == 12


def test_stop_strings_cut_the_text(generator: Any):
    params = SamplingParams(temperature=0, max_new_tokens=16)
    (full,) = generator.generate([GenerationRequest(prompt="def g(x):", params=params)])[0]
    assert len(full.text) > 2
    stop = full.text[1:3]
    cut = generator.generate([GenerationRequest(prompt="def g(x):", params=SamplingParams(
        temperature=0, max_new_tokens=16, stop=(stop,)))])[0][0]
    assert cut.finish_reason == "stop" and stop not in cut.text
    assert full.text.startswith(cut.text) and len(cut.text) < len(full.text)


def test_a_loaded_model_is_sampled_in_place(generator: Any):
    spec = GeneratorSpec(loaded=(generator.engine.model, generator.tokenizer), threads=1)
    loaded = open_generator(spec)
    try:
        req = GenerationRequest(prompt_ids=(5, 6, 7), n=2, params=SAMPLED, seed=11)
        assert [s.token_ids for s in loaded.generate([req])[0]] == \
            [s.token_ids for s in generator.generate([req])[0]]
    finally:
        loaded.close()


def test_unknown_engine_names_the_registered_ones(tiny_model_dir: Path):
    from codekiln_core.errors import UnknownNameError

    with pytest.raises(UnknownNameError, match="transformers"):
        open_generator(GeneratorSpec(model=tiny_model_dir, engine="nope"))
