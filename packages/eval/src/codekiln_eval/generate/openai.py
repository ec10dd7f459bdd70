"""Samples from any OpenAI-compatible server (vLLM, SGLang, TGI, llama.cpp, codekiln serve).

Requests go through ``codekiln_core.clients.openai_client``: retries with backoff on
connection errors, 408/409/429/5xx and ``Retry-After`` are the ``openai`` library's.
``repetition_penalty`` is not an OpenAI field; vLLM and friends accept it as an extra body
field. A server that rejects it gets the request again without it (remembered per client).
Servers that ignore ``n`` are asked again until n samples have arrived.

FIM prompts go to ``/v1/completions`` as ``prompt`` + ``suffix`` (codekiln serve, DeepSeek's
beta API...) or, with ``fim_api="infill"``, to llama.cpp's ``/infill`` as ``input_prefix`` +
``input_suffix`` (one sample per request, as llama.cpp has no ``n``). The server lays the
prompt out; its layout is recorded when it reports one (codekiln serve's ``/health``).
"""

from __future__ import annotations

from typing import Any

from codekiln_core.clients import normalize_base_url, openai_client
from codekiln_core.errors import CodekilnError
from codekiln_eval.generate.base import Prompt, SamplingParams

MAX_STOPS = 4  # the OpenAI API limit; longer lists are applied client-side anyway
FIM_APIS = ("completions", "infill")


class GenerationError(CodekilnError):
    """The model endpoint failed in a way retrying did not fix."""


def api_base(url: str) -> str:
    """``http://host:8000`` or ``http://host:8000/v1/`` -> ``http://host:8000/v1``."""
    return normalize_base_url(url)


class OpenAIGenerator:
    """A thread-safe client; the runner issues ``concurrency`` requests at once."""

    def __init__(self, url: str, model: str | None = None, api_key: str | None = None,
                 concurrency: int = 8, timeout_s: float = 600.0, retries: int = 4,
                 fim_api: str = "completions") -> None:
        self.base = api_base(url)
        self.root = self.base.removesuffix("/v1")
        self._client = openai_client(self.base, api_key=api_key, timeout_s=timeout_s,
                                     max_retries=retries)
        self.concurrency = concurrency
        self.retries = retries
        self._send_repetition_penalty = True
        self.fim_api = fim_api
        self._fim: dict[str, Any] | None = None
        self.model_name = model or self._first_model()

    @property
    def fim(self) -> dict[str, Any]:
        """How the endpoint lays out FIM prompts (asked once, when a summary needs it)."""
        if self._fim is None:
            route = "/infill" if self.fim_api == "infill" else "/v1/completions (suffix)"
            self._fim = {"layout": self._server_layout() or "the server's",
                         "applied_by": f"endpoint {self.root}{route}"}
        return self._fim

    def _server_layout(self) -> str | None:
        """``fim_layout`` from the server's /health (codekiln serve reports it), if any."""
        try:
            health = self._client.get(f"{self.root}/health", cast_to=object)
            layout = health.get("fim_layout") if isinstance(health, dict) else None
        except Exception:  # other servers: no such route or field
            return None
        return str(layout) if layout else None

    def _first_model(self) -> str:
        """The served model id (``/v1/models``), as vLLM expects it in every request."""
        import openai

        try:
            models = self._client.models.list()
            return str(models.data[0].id)
        except (openai.OpenAIError, IndexError, AttributeError, TypeError):
            return "default"

    def _arguments(self, prompt: Prompt, n: int, params: SamplingParams) -> dict[str, Any]:
        args: dict[str, Any] = {
            "model": self.model_name, "n": n, "temperature": params.temperature,
            "top_p": params.top_p, "max_tokens": params.max_tokens,
        }
        if params.stop:
            args["stop"] = list(params.stop)[:MAX_STOPS]
        if params.seed is not None:
            args["seed"] = params.seed
        if self._send_repetition_penalty and params.repetition_penalty != 1.0:
            args["extra_body"] = {"repetition_penalty": params.repetition_penalty}
        if prompt.is_chat:
            args["messages"] = prompt.messages
        else:
            args["prompt"] = prompt.text
        if prompt.is_fim:
            args["suffix"] = prompt.suffix
        return args

    def _infill(self, prompt: Prompt, params: SamplingParams) -> list[str]:
        """One llama.cpp /infill sample (llama.cpp's field names)."""
        body: dict[str, Any] = {
            "input_prefix": prompt.text or "", "input_suffix": prompt.suffix or "",
            "n_predict": params.max_tokens, "temperature": params.temperature,
            "top_p": params.top_p, "stop": list(params.stop), "cache_prompt": True,
            "seed": params.seed if params.seed is not None else -1}
        if params.repetition_penalty != 1.0:
            body["repeat_penalty"] = params.repetition_penalty
        answer = self._client.post(f"{self.root}/infill", body=body, cast_to=object)
        if not isinstance(answer, dict) or "content" not in answer:
            raise ValueError(f"no `content` in {str(answer)[:120]!r}")
        return [str(answer["content"])]

    def _once(self, prompt: Prompt, n: int, params: SamplingParams) -> list[str]:
        import openai

        infill = prompt.is_fim and self.fim_api == "infill"
        path = "/chat/completions" if prompt.is_chat else "/completions"
        where = f"{self.root}/infill" if infill else f"{self.base}{path}"
        args = self._arguments(prompt, n, params)
        try:
            if infill:
                return self._infill(prompt, params)
            if prompt.is_chat:
                chat = self._client.chat.completions.create(**args)
                choices = sorted(chat.choices, key=lambda c: c.index or 0)
                return [c.message.content or "" for c in choices]
            done = self._client.completions.create(**args)
            return [c.text for c in sorted(done.choices, key=lambda c: c.index or 0)]
        except openai.APIStatusError as exc:
            text = _error_text(exc)
            if exc.status_code < 500 and self._send_repetition_penalty and \
                    "repetition_penalty" in text:
                self._send_repetition_penalty = False
                return self._once(prompt, n, params)
            raise GenerationError(f"{where}: HTTP {exc.status_code}"
                                  f"{_tries(exc, self.retries)}: {text}") from exc
        except openai.APIConnectionError as exc:  # timeouts included
            raise GenerationError(f"{where}: {type(exc).__name__}: {exc} (after "
                                  f"{self.retries + 1} tries); is the server up?") from exc
        except (AttributeError, TypeError, ValueError, KeyError) as exc:
            raise GenerationError(f"{where}: unexpected response shape "
                                  f"({exc})") from exc

    def generate(self, prompt: Prompt, n: int, params: SamplingParams) -> list[str]:
        from dataclasses import replace

        out: list[str] = []
        while len(out) < n:  # a seeded later request (one /infill sample each) draws anew
            step = params if params.seed is None else replace(params, seed=params.seed + len(out))
            got = self._once(prompt, n - len(out), step)
            if not got:
                raise GenerationError(f"{self.base}: empty choices for {prompt.task_id}")
            out.extend(got)
        return out[:n]

    def close(self) -> None:
        self._client.close()


def _error_text(exc: Any) -> str:
    try:
        text = str(exc.response.text)
    except Exception:
        text = str(exc)
    return text[:300].replace("\n", " ")


def _tries(exc: Any, retries: int) -> str:
    retryable = exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return f" after {retries + 1} tries" if retryable else ""
