"""Samples from any OpenAI-compatible server (vLLM, SGLang, TGI, llama.cpp, codekiln serve).

Requests go through ``codekiln_core.clients.openai_client``: retries with backoff on
connection errors, 408/409/429/5xx and ``Retry-After`` are the ``openai`` library's.
``repetition_penalty`` is not an OpenAI field; vLLM and friends accept it as an extra body
field. A server that rejects it gets the request again without it (remembered per client).
Servers that ignore ``n`` are asked again until n samples have arrived.
"""

from __future__ import annotations

from typing import Any

from codekiln_core.clients import normalize_base_url, openai_client
from codekiln_core.errors import CodekilnError
from codekiln_eval.generate.base import Prompt, SamplingParams

MAX_STOPS = 4  # the OpenAI API limit; longer lists are applied client-side anyway


class GenerationError(CodekilnError):
    """The model endpoint failed in a way retrying did not fix."""


def api_base(url: str) -> str:
    """``http://host:8000`` or ``http://host:8000/v1/`` -> ``http://host:8000/v1``."""
    return normalize_base_url(url)


class OpenAIGenerator:
    """A thread-safe client; the runner issues ``concurrency`` requests at once."""

    def __init__(self, url: str, model: str | None = None, api_key: str | None = None,
                 concurrency: int = 8, timeout_s: float = 600.0, retries: int = 4) -> None:
        self.base = api_base(url)
        self._client = openai_client(self.base, api_key=api_key, timeout_s=timeout_s,
                                     max_retries=retries)
        self.concurrency = concurrency
        self.retries = retries
        self._send_repetition_penalty = True
        self.model_name = model or self._first_model()

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
        return args

    def _once(self, prompt: Prompt, n: int, params: SamplingParams) -> list[str]:
        import openai

        path = "/chat/completions" if prompt.is_chat else "/completions"
        args = self._arguments(prompt, n, params)
        try:
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
            raise GenerationError(f"{self.base}{path}: HTTP {exc.status_code}"
                                  f"{_tries(exc, self.retries)}: {text}") from exc
        except openai.APIConnectionError as exc:  # timeouts included
            raise GenerationError(f"{self.base}{path}: {type(exc).__name__}: {exc} (after "
                                  f"{self.retries + 1} tries); is the server up?") from exc
        except (AttributeError, TypeError, ValueError) as exc:
            raise GenerationError(f"{self.base}{path}: unexpected response shape "
                                  f"({exc})") from exc

    def generate(self, prompt: Prompt, n: int, params: SamplingParams) -> list[str]:
        out: list[str] = []
        while len(out) < n:
            got = self._once(prompt, n - len(out), params)
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
