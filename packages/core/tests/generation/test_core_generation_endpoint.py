"""The OpenAI-endpoint generator against a real stand-in HTTP server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from codekiln_core.fake_openai import Response, chat_response, completion_response
from codekiln_core.generation import (
    GenerationRequest,
    GeneratorSpec,
    SamplingParams,
    open_generator,
)
from codekiln_core.generation.endpoint import EndpointGenerator, GenerationError

PARAMS = SamplingParams(temperature=0.2, max_new_tokens=8, stop=("\ndef",),
                        repetition_penalty=1.05)


def ok(request: dict[str, Any]) -> Response:
    return completion_response([f"sample {i}" for i in range(int(request.get("n", 1)))])


def texts(gen: Any, *requests: GenerationRequest) -> list[list[str]]:
    return [[s.text for s in group] for group in gen.generate(list(requests))]


def test_served_model_and_sampling_fields_are_sent(fake_openai: Callable[..., Any]) -> None:
    server = fake_openai(ok)
    gen = open_generator(GeneratorSpec(model=server.url, retries=0))
    assert isinstance(gen, EndpointGenerator) and gen.model_name == "served-model"
    request = GenerationRequest(prompt="def f():", n=2, params=PARAMS, seed=5)
    assert texts(gen, request) == [["sample 0", "sample 1"]]
    sent = server.requests[0]
    assert (sent["model"], sent["n"], sent["prompt"], sent["stop"], sent["seed"]) == (
        "served-model", 2, "def f():", ["\ndef"], 5)
    assert sent["repetition_penalty"] == 1.05  # an extra body field
    assert server.paths == ["/v1/completions"]
    gen.close()


def test_retry_after_is_honoured(fake_openai: Callable[..., Any]) -> None:
    def busy(_request: dict[str, Any]) -> Response:
        return 429, {"error": {"message": "slow down"}}, {"Retry-After": "1"}

    server = fake_openai(busy, ok)
    gen = EndpointGenerator(server.url, "m", retries=2)
    assert texts(gen, GenerationRequest(prompt="x", params=PARAMS)) == [["sample 0"]]
    assert len(server.requests) == 2
    assert server.times[1] - server.times[0] >= 0.9  # waited as the server asked
    gen.close()


def test_rejected_repetition_penalty_is_dropped_once(fake_openai: Callable[..., Any]) -> None:
    def strict(request: dict[str, Any]) -> Response:
        if "repetition_penalty" in request:
            return 400, {"error": {"message": "unknown field repetition_penalty"}}, {}
        return ok(request)

    server = fake_openai(strict)
    gen = EndpointGenerator(server.url, "m", retries=0, concurrency=1)
    request = GenerationRequest(prompt="x", params=PARAMS)
    assert texts(gen, request, request) == [["sample 0"], ["sample 0"]]
    assert ["repetition_penalty" in r for r in server.requests] == [True, False, False]
    gen.close()


def test_servers_ignoring_n_are_asked_until_n_arrive(fake_openai: Callable[..., Any]) -> None:
    server = fake_openai(lambda _r: completion_response(["one"], "length"))
    gen = EndpointGenerator(server.url, "m", retries=0)
    (group,) = gen.generate([GenerationRequest(prompt="x", n=3, params=PARAMS)])
    assert [s.text for s in group] == ["one"] * 3 and all(s.truncated for s in group)
    assert [r["n"] for r in server.requests] == [3, 2, 1]
    gen.close()


def test_chat_prompts_use_chat_completions(fake_openai: Callable[..., Any]) -> None:
    server = fake_openai(lambda _r: chat_response(["```python\npass\n```"]))
    gen = EndpointGenerator(server.url, "m", retries=0)
    request = GenerationRequest(messages=[{"role": "user", "content": "write"}], params=PARAMS)
    assert texts(gen, request) == [["```python\npass\n```"]]
    assert server.requests[0]["messages"][0]["content"] == "write"
    assert server.paths == ["/v1/chat/completions"]
    gen.close()


def test_requests_run_concurrently_in_order(fake_openai: Callable[..., Any]) -> None:
    server = fake_openai(reply=lambda body, n: [body["prompt"]] * n)
    gen = EndpointGenerator(server.url, "m", retries=0, concurrency=4)
    prompts = [f"p{i}" for i in range(10)]
    got = texts(gen, *(GenerationRequest(prompt=p) for p in prompts))
    assert got == [[p] for p in prompts]
    gen.close()


def test_persistent_server_errors_are_one_line(fake_openai: Callable[..., Any]) -> None:
    server = fake_openai(lambda _r: (503, {"error": {"message": "down"}}, {"Retry-After": "0"}))
    gen = EndpointGenerator(server.url, "m", retries=1)
    with pytest.raises(GenerationError) as err:
        gen.generate([GenerationRequest(prompt="x", params=PARAMS)])
    assert "HTTP 503 after 2 tries" in str(err.value) and "\n" not in str(err.value)
    assert len(server.requests) == 2
    gen.close()


def test_a_request_takes_one_prompt_form() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        GenerationRequest(prompt="x", messages=[])
