"""vLLM (checked without a GPU: import guard, argument mapping against vLLM 0.31's field
names, output translation), the openai-http pass-through, and a third-party engine
registered through the hook."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from codekiln_core.errors import ConfigError
from codekiln_core.hookspecs import hookimpl
from codekiln_serve.engines.base import GenerationRequest, SequenceHandle, TokenEngine, TokenEvent
from codekiln_serve.engines.vllm_engine import (
    engine_kwargs,
    events_of,
    sampling_kwargs,
    vllm_available,
)
from codekiln_serve.settings import ServeSettings
from codekiln_serve.testing import ServerThread

#: vllm/sampling_params.py SamplingParams fields (vLLM 0.31) that we may set.
VLLM_SAMPLING_FIELDS = {
    "n", "presence_penalty", "frequency_penalty", "repetition_penalty", "temperature", "top_p",
    "top_k", "min_p", "seed", "stop", "stop_token_ids", "ignore_eos", "max_tokens",
    "min_tokens", "logprobs", "prompt_logprobs", "detokenize", "skip_special_tokens",
    "spaces_between_special_tokens", "include_stop_str_in_output", "output_kind",
    "logit_bias", "allowed_token_ids", "bad_words",
}
#: vllm/engine/arg_utils.py EngineArgs fields we set.
VLLM_ENGINE_FIELDS = {"model", "tokenizer", "dtype", "tensor_parallel_size",
                      "gpu_memory_utilization", "max_num_seqs", "served_model_name",
                      "disable_log_stats"}


def test_sampling_params_mapping_uses_vllm_names_and_values() -> None:
    req = GenerationRequest([5, 6, 7], 33, temperature=0.6, top_p=0.8, top_k=0,
                            repetition_penalty=1.05, presence_penalty=0.1,
                            frequency_penalty=0.2, logit_bias={9: -5.0}, seed=11,
                            stop_token_ids=frozenset({2}), logprobs=3, prompt_logprobs=True)
    kwargs = sampling_kwargs(req)
    assert set(kwargs) <= VLLM_SAMPLING_FIELDS
    assert kwargs["n"] == 1 and kwargs["max_tokens"] == 33 and kwargs["seed"] == 11
    assert (kwargs["temperature"], kwargs["top_p"], kwargs["repetition_penalty"]) == (
        0.6, 0.8, 1.05)
    assert kwargs["stop_token_ids"] == [2] and kwargs["logit_bias"] == {9: -5.0}
    assert kwargs["logprobs"] == 3 and kwargs["prompt_logprobs"] == 0
    assert kwargs["detokenize"] is False and "stop" not in kwargs  # stop strings are ours


def test_engine_args_mapping(tiny_model_dir: Path) -> None:
    settings = ServeSettings(model=str(tiny_model_dir), engine="vllm", max_batch=64,
                             dtype="bfloat16", tensor_parallel_size=2)
    kwargs = engine_kwargs(settings, tiny_model_dir)
    assert set(kwargs) <= VLLM_ENGINE_FIELDS
    assert kwargs["max_num_seqs"] == 64 and kwargs["tensor_parallel_size"] == 2
    assert kwargs["dtype"] == "bfloat16"


def test_delta_outputs_become_our_token_events() -> None:
    lp = SimpleNamespace
    first = SimpleNamespace(prompt_logprobs=[None, {4: lp(logprob=-1.5, rank=3)}],
                            outputs=[SimpleNamespace(token_ids=[10, 11], finish_reason=None,
                                                     logprobs=[{10: lp(logprob=-0.1, rank=1),
                                                                12: lp(logprob=-2.0, rank=2)},
                                                               {11: lp(logprob=-0.3, rank=1)}])])
    last = SimpleNamespace(prompt_logprobs=None, outputs=[SimpleNamespace(
        token_ids=[2], finish_reason="stop", logprobs=None)])
    events = events_of(first, True, 1) + events_of(last, False, 1)
    assert [e.token_id for e in events] == [10, 11, 2]
    assert events[0].logprob == pytest.approx(-0.1) and events[0].top_logprobs == ((10, -0.1),)
    assert events[0].prompt_logprobs == (None, -1.5)
    assert [e.finish_reason for e in events] == [None, None, "stop"]


@pytest.mark.skipif(vllm_available(), reason="vllm is installed here")
def test_vllm_engine_without_the_extra_is_a_one_line_config_error(tiny_model_dir: Path) -> None:
    from codekiln_serve.engines.vllm_engine import VllmEngine

    with pytest.raises(ConfigError, match="vllm extra"):
        VllmEngine(ServeSettings(model=str(tiny_model_dir), engine="vllm"), tiny_model_dir)


@pytest.mark.gpu
@pytest.mark.slow
def test_vllm_answers_like_the_transformers_engine(tiny_model_dir: Path, server: ServerThread,
                                                   model_name: str) -> None:
    pytest.importorskip("vllm")
    from codekiln_core.clients import openai_client

    settings = ServeSettings(model=str(tiny_model_dir), engine="vllm", port=0, lineage=False,
                             dtype="float32", gpu_memory_utilization=0.3)
    with ServerThread(settings) as srv:
        kwargs: dict[str, Any] = dict(model=model_name, prompt="def add(a, b):",
                                      suffix="\n", max_tokens=8, temperature=0)
        ours = openai_client(server.base_url).completions.create(**kwargs)
        theirs = openai_client(srv.base_url).completions.create(**kwargs)
        assert ours.usage.prompt_tokens == theirs.usage.prompt_tokens


# --- openai-http ----------------------------------------------------------------------


@pytest.mark.slow
def test_openai_http_passes_requests_through(server: ServerThread, model_name: str) -> None:
    from codekiln_core.clients import openai_client

    settings = ServeSettings(model=server.base_url, port=0, lineage=False, api_key="front")
    with ServerThread(settings) as proxy:
        assert proxy.built.engine.passthrough
        client = openai_client(proxy.base_url, api_key="front", max_retries=0)
        assert [m.id for m in client.models.list().data] == [model_name]
        kwargs: dict[str, Any] = dict(model=model_name, prompt="def f(", suffix=")",
                                      max_tokens=5, temperature=0,
                                      extra_body={"ignore_eos": True})
        direct = openai_client(server.base_url).completions.create(**kwargs)
        via = client.completions.create(**kwargs)
        assert via.choices[0].text == direct.choices[0].text
        chunks = list(client.chat.completions.create(
            model=model_name, messages=[{"role": "user", "content": "hi"}], max_tokens=3,
            stream=True))
        assert chunks[-1].choices[0].finish_reason in ("stop", "length")
        with pytest.raises(Exception) as info:  # upstream's 404 stays a 404
            client.completions.create(model="nope", prompt="x", max_tokens=1)
        assert getattr(info.value, "status_code", None) == 404


# --- a third-party engine through the hook ---------------------------------------------


class _CountdownHandle(SequenceHandle):
    def __init__(self, request: GenerationRequest) -> None:
        self.request = request

    async def events(self) -> AsyncIterator[TokenEvent]:
        ids = list(reversed(self.request.prompt_ids))[: self.request.max_tokens]
        for i, token in enumerate(ids):
            yield TokenEvent(token, finish_reason="length" if i == len(ids) - 1 else None)

    def cancel(self) -> None:
        return None


class ReversingEngine(TokenEngine):
    """Answers with the prompt's tokens reversed: no model, all of the API on top."""

    def __init__(self, settings: ServeSettings, model_dir: Path | None) -> None:
        from transformers import AutoTokenizer

        assert model_dir is not None
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        self.context_length, self.eos_token_ids = 512, frozenset({2})
        self.model_id = "reverse"

    def submit(self, requests: Sequence[GenerationRequest]) -> list[SequenceHandle]:
        return [_CountdownHandle(r) for r in requests]


class ReversingPlugin:
    @staticmethod
    @hookimpl
    def codekiln_register_engines(register: Any) -> None:
        register("reverse-test", ReversingEngine, description="test engine")


@pytest.fixture
def plugin_registry() -> Iterator[Any]:
    from codekiln_core.plugins import get_plugin_manager
    from codekiln_core.registry import Registry

    pm = get_plugin_manager(warn=False)
    pm.register(ReversingPlugin, name="reverse-test-plugin")
    yield Registry(pm)


@pytest.mark.slow
def test_a_plugin_engine_serves_through_the_same_api(tiny_model_dir: Path,
                                                     plugin_registry: Any) -> None:
    from codekiln_core.clients import openai_client

    reg = plugin_registry.get("engine", "reverse-test")
    assert reg.plugin == "reverse-test-plugin"
    settings = ServeSettings(model=str(tiny_model_dir), engine="reverse-test", port=0,
                             lineage=False)
    with ServerThread(settings, registry=plugin_registry) as srv:
        client = openai_client(srv.base_url, max_retries=0)
        out = client.completions.create(model=srv.built.names[0], prompt="abc def",
                                        max_tokens=50)
        tok = srv.built.engine.tokenizer
        assert out.choices[0].text == tok.decode(list(reversed(tok("abc def")["input_ids"])))
        chunks = list(client.completions.create(model=srv.built.names[0], prompt="abc",
                                                max_tokens=50, stream=True))
        assert chunks[-1].choices[0].finish_reason == "length"


def test_unknown_engine_names_the_registered_ones(tiny_model_dir: Path) -> None:
    from codekiln_core.errors import UnknownNameError
    from codekiln_serve.engines.registry import build_engine

    with pytest.raises(UnknownNameError, match="openai-http, transformers, vllm"):
        build_engine(ServeSettings(model=str(tiny_model_dir), engine="nope"), tiny_model_dir)
