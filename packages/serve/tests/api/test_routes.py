"""The real server answers the official openai client: completions, chat, streaming, n>1,
stop sequences, seeds, echo, logprobs, usage."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.slow


def test_models_lists_the_served_model(client: Any, model_name: str) -> None:
    models = client.models.list()
    assert [m.id for m in models.data] == [model_name]


def test_completion_has_text_usage_and_length_finish(client: Any, model_name: str) -> None:
    out = client.completions.create(model=model_name, prompt="def add(a, b):", max_tokens=6,
                                    temperature=0, extra_body={"ignore_eos": True})
    assert out.object == "text_completion" and len(out.choices) == 1
    assert out.choices[0].finish_reason == "length"
    assert out.usage.completion_tokens == 6 and out.usage.prompt_tokens > 0
    assert out.usage.total_tokens == out.usage.prompt_tokens + 6


def test_same_seed_same_text_other_seed_other_text(client: Any, model_name: str) -> None:
    def sample(seed: int) -> str:
        out = client.completions.create(model=model_name, prompt="import os\n", max_tokens=12,
                                        temperature=1.0, seed=seed, extra_body={
                                            "ignore_eos": True})
        return str(out.choices[0].text)

    assert sample(7) == sample(7)
    assert sample(7) != sample(8)


def test_n_gives_distinct_indexed_choices(client: Any, model_name: str) -> None:
    out = client.completions.create(model=model_name, prompt="x = ", max_tokens=10, n=3,
                                    temperature=1.0, seed=1, extra_body={"ignore_eos": True})
    assert [c.index for c in out.choices] == [0, 1, 2]
    assert len({c.text for c in out.choices}) > 1
    assert out.usage.completion_tokens == 30


def test_list_prompt_gives_one_choice_per_prompt_and_sample(client: Any,
                                                            model_name: str) -> None:
    out = client.completions.create(model=model_name, prompt=["a", "bb"], n=2, max_tokens=2,
                                    temperature=0)
    assert [c.index for c in out.choices] == [0, 1, 2, 3]
    assert out.choices[0].text == out.choices[1].text  # greedy: same prompt, same text


def test_stop_sequence_cuts_the_text_before_it(client: Any, model_name: str) -> None:
    free = client.completions.create(model=model_name, prompt="def f():", max_tokens=24,
                                     temperature=0, extra_body={"ignore_eos": True})
    text = free.choices[0].text
    assert len(text) > 6
    stop = text[3:6]
    out = client.completions.create(model=model_name, prompt="def f():", max_tokens=24,
                                    temperature=0, stop=[stop], extra_body={"ignore_eos": True})
    assert out.choices[0].finish_reason == "stop"
    assert out.choices[0].text == text[:text.index(stop)]
    assert out.usage.completion_tokens < 24  # generation stopped, not just the text


def test_echo_and_logprobs(client: Any, model_name: str) -> None:
    out = client.completions.create(model=model_name, prompt="def add(a, b):", max_tokens=4,
                                    temperature=0, echo=True, logprobs=3,
                                    extra_body={"ignore_eos": True})
    choice = out.choices[0]
    assert choice.text.startswith("def add(a, b):")
    lp = choice.logprobs
    prompt_len = out.usage.prompt_tokens
    assert len(lp.tokens) == prompt_len + 4
    assert lp.token_logprobs[0] is None and all(v <= 0 for v in lp.token_logprobs[1:])
    # keyed by token text, so two tokens that read alike (e.g. partial bytes) share a key
    assert all(1 <= len(top) <= 3 for top in lp.top_logprobs[prompt_len:])
    # greedy: the chosen token is the likeliest of the top 3
    for token, value, top in zip(lp.tokens[prompt_len:], lp.token_logprobs[prompt_len:],
                                 lp.top_logprobs[prompt_len:], strict=True):
        assert value == pytest.approx(max(top.values()), abs=1e-5)
        assert token in top
    assert lp.text_offset == sorted(lp.text_offset)


def test_streamed_completion_matches_the_unstreamed_one(client: Any, model_name: str) -> None:
    kwargs: dict[str, Any] = dict(model=model_name, prompt="for i in range(", max_tokens=10,
                                  temperature=0, extra_body={"ignore_eos": True})
    whole = client.completions.create(**kwargs).choices[0].text
    chunks = list(client.completions.create(stream=True, stream_options={
        "include_usage": True}, **kwargs))
    assert "".join(c.choices[0].text for c in chunks if c.choices) == whole
    assert chunks[-2].choices[0].finish_reason == "length"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 10


def test_chat_completion(client: Any, model_name: str) -> None:
    out = client.chat.completions.create(
        model=model_name, messages=[{"role": "user", "content": "Write add(a, b)."}],
        max_tokens=8, temperature=0, logprobs=True, top_logprobs=2,
        extra_body={"ignore_eos": True})
    choice = out.choices[0]
    assert choice.message.role == "assistant" and isinstance(choice.message.content, str)
    assert out.usage.completion_tokens == 8
    assert len(choice.logprobs.content) == 8
    assert all(len(t.top_logprobs) == 2 for t in choice.logprobs.content)


def test_chat_stream_role_first_then_content_then_finish(client: Any, model_name: str) -> None:
    kwargs: dict[str, Any] = dict(model=model_name, messages=[
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
        max_tokens=6, temperature=0, n=2, extra_body={"ignore_eos": True})
    whole = client.chat.completions.create(**kwargs)
    chunks = list(client.chat.completions.create(stream=True, **kwargs))
    assert chunks[0].choices[0].delta.role == "assistant"
    for index in (0, 1):
        mine = [c.choices[0] for c in chunks if c.choices and c.choices[0].index == index]
        text = "".join(c.delta.content or "" for c in mine)
        assert text == whole.choices[index].message.content
        assert mine[-1].finish_reason == "length"


def test_seed_coder_defaults_apply_only_when_the_request_gives_none(
        server: Any, model_name: str) -> None:
    from codekiln_serve.api.schemas import ChatCompletionRequest
    from codekiln_serve.translate import chat_sampling

    facts = server.built.facts
    assert facts.seed_coder_defaults  # the tiny tokenizer carries Seed-Coder's template
    req = ChatCompletionRequest(model=model_name, messages=[{"role": "user", "content": "x"}])
    template = chat_sampling(req, facts).template
    assert (template.temperature, template.top_p, template.repetition_penalty) == (
        0.6, 0.8, 1.05)
    req = ChatCompletionRequest(model=model_name, temperature=0.0, top_p=1.0,
                                messages=[{"role": "user", "content": "x"}])
    template = chat_sampling(req, facts).template
    assert (template.temperature, template.top_p) == (0.0, 1.0)
