"""Samples from any OpenAI-compatible server (vLLM, SGLang, TGI, llama.cpp, codekiln serve).

Requests go through the shared client (:mod:`codekiln_core.clients`), so retries with backoff
on connection errors, 408/409/429/5xx and ``Retry-After`` are the ``openai`` library's.
``repetition_penalty`` is not an OpenAI field; vLLM and friends take it as an extra body
field, and a server that rejects it gets the request again without it (remembered). Servers
that ignore ``n`` are asked again until n samples have arrived. ``concurrency`` requests are
in flight at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from codekiln_core.clients import normalize_base_url, openai_client
from codekiln_core.errors import CodekilnError
from codekiln_core.generation.types import GenerationRequest, Sample

if TYPE_CHECKING:
    from codekiln_core.generation.spec import GeneratorSpec

MAX_STOPS = 4  # the OpenAI API limit; callers apply longer lists client-side


class GenerationError(CodekilnError):
    """The model endpoint failed in a way retrying did not fix."""


class EndpointGenerator:
    """A thread-safe client of one endpoint; endpoints return text, not token ids."""

    tokenizer = None

    def __init__(self, url: str, model: str | None = None, *, api_key: str | None = None,
                 concurrency: int = 8, timeout_s: float = 600.0, retries: int = 4) -> None:
        self.base = normalize_base_url(url)
        self.root = self.base.removesuffix("/v1")
        self.client = openai_client(self.base, api_key=api_key, timeout_s=timeout_s,
                                    max_retries=retries)
        self.concurrency, self.retries = concurrency, retries
        self._send_repetition_penalty = True
        self.model_name = model or self._first_model()

    @classmethod
    def from_spec(cls, spec: GeneratorSpec) -> EndpointGenerator:
        return cls(str(spec.model), spec.endpoint_model, api_key=spec.api_key,
                   concurrency=spec.concurrency, timeout_s=spec.timeout_s, retries=spec.retries)

    def _first_model(self) -> str:
        """The served model id (``/v1/models``), as vLLM expects it in every request."""
        import openai

        try:
            return str(self.client.models.list().data[0].id)
        except (openai.OpenAIError, IndexError, AttributeError, TypeError):
            return "default"

    def generate(self, requests: Sequence[GenerationRequest]) -> list[list[Sample]]:
        if len(requests) <= 1 or self.concurrency <= 1:
            return [self.samples(r) for r in requests]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(requests))) as pool:
            return list(pool.map(self.samples, requests))

    def samples(self, request: GenerationRequest) -> list[Sample]:
        """All ``n`` samples of one request (asking again while a server returns fewer)."""
        out: list[Sample] = []
        while len(out) < request.n:
            got = self._once(request, request.n - len(out), len(out))
            if not got:
                raise GenerationError(f"{self.base}: no choices came back")
            out.extend(got)
        return out[:request.n]

    def _arguments(self, request: GenerationRequest, n: int, done: int) -> dict[str, Any]:
        p = request.params
        args: dict[str, Any] = {"model": self.model_name, "n": n, "temperature": p.temperature,
                                "top_p": p.top_p, "max_tokens": p.max_new_tokens}
        if p.stop:
            args["stop"] = list(p.stop)[:MAX_STOPS]
        if request.seed is not None:  # a refill asks with another seed: other samples
            args["seed"] = request.seed + done
        extra: dict[str, Any] = {}
        if self._send_repetition_penalty and p.repetition_penalty != 1.0:
            extra["repetition_penalty"] = p.repetition_penalty
        if p.top_k > 0:
            extra["top_k"] = p.top_k
        if extra:
            args["extra_body"] = extra
        if request.messages is not None:
            args["messages"] = request.messages
            if p.logprobs:
                args["logprobs"] = True
        else:
            if request.prompt_ids is not None:
                args["prompt"] = list(request.prompt_ids)
            else:
                args["prompt"] = request.prompt
            if p.logprobs:
                args["logprobs"] = 0
            if request.suffix is not None:
                args["suffix"] = request.suffix
        return args

    def _once(self, request: GenerationRequest, n: int, done: int) -> list[Sample]:
        import openai

        chat = request.messages is not None
        where = f"{self.base}/{'chat/completions' if chat else 'completions'}"
        try:
            args = self._arguments(request, n, done)
            if chat:
                reply = self.client.chat.completions.create(**args)
                return [_chat_sample(c) for c in sorted(reply.choices, key=_index)]
            done_ = self.client.completions.create(**args)
            return [_completion_sample(c) for c in sorted(done_.choices, key=_index)]
        except openai.APIStatusError as exc:
            text = error_text(exc)
            if exc.status_code < 500 and self._send_repetition_penalty and \
                    "repetition_penalty" in text:
                self._send_repetition_penalty = False
                return self._once(request, n, done)
            retried = exc.status_code in (408, 409, 429) or exc.status_code >= 500
            tries = f" after {self.retries + 1} tries" if retried else ""
            raise GenerationError(f"{where}: HTTP {exc.status_code}{tries}: {text}") from exc
        except openai.APIConnectionError as exc:  # timeouts included
            raise GenerationError(f"{where}: {type(exc).__name__}: {exc} (after "
                                  f"{self.retries + 1} tries); is the server up?") from exc
        except (AttributeError, TypeError, ValueError, KeyError) as exc:
            raise GenerationError(f"{where}: unexpected response shape ({exc})") from exc

    def close(self) -> None:
        self.client.close()


def _index(choice: Any) -> int:
    return int(choice.index or 0)


def _finish(choice: Any) -> Any:
    return "length" if choice.finish_reason == "length" else "stop"


def _chat_sample(choice: Any) -> Sample:
    lps = None
    if choice.logprobs is not None and choice.logprobs.content is not None:
        lps = tuple(float(t.logprob) for t in choice.logprobs.content)
    return Sample(choice.message.content or "", (), lps, _finish(choice))


def _completion_sample(choice: Any) -> Sample:
    lps = None
    if choice.logprobs is not None and choice.logprobs.token_logprobs is not None:
        lps = tuple(float(x or 0.0) for x in choice.logprobs.token_logprobs)
    return Sample(choice.text or "", (), lps, _finish(choice))


def error_text(exc: Any) -> str:
    """The first 300 characters of an error response, on one line."""
    try:
        text = str(exc.response.text)
    except Exception:
        text = str(exc)
    return text[:300].replace("\n", " ")
