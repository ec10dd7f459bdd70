"""Samples from any OpenAI-compatible server (vLLM, SGLang, TGI, llama.cpp, codekiln serve).

``repetition_penalty`` is not an OpenAI field; vLLM and friends accept it as an extra body
field. A server that rejects it gets the request again without it (remembered per client).
Servers that ignore ``n`` are asked again until n samples have arrived.
"""

from __future__ import annotations

import os
import time
from typing import Any
from urllib.parse import urlsplit

from codekiln_core.errors import CodekilnError
from codekiln_eval.generate.base import Prompt, SamplingParams

MAX_STOPS = 4  # the OpenAI API limit; longer lists are applied client-side anyway


class GenerationError(CodekilnError):
    """The model endpoint failed in a way retrying did not fix."""


def api_base(url: str) -> str:
    """``http://host:8000`` or ``http://host:8000/v1/`` -> ``http://host:8000/v1``."""
    url = url.rstrip("/")
    if not urlsplit(url).path.endswith("/v1"):
        url += "/v1"
    return url


class OpenAIGenerator:
    """A thread-safe client; the runner issues ``concurrency`` requests at once."""

    def __init__(self, url: str, model: str | None = None, api_key: str | None = None,
                 concurrency: int = 8, timeout_s: float = 600.0, retries: int = 4) -> None:
        import httpx

        self.base = api_base(url)
        key = api_key or os.environ.get("OPENAI_API_KEY")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(timeout=timeout_s, headers=headers)
        self.concurrency = concurrency
        self.retries = retries
        self._send_repetition_penalty = True
        self.model_name = model or self._first_model()

    def _first_model(self) -> str:
        """The served model id (``/v1/models``), as vLLM expects it in every request."""
        try:
            data = self._request("GET", "/models", None)
            return str(data["data"][0]["id"])
        except (GenerationError, KeyError, IndexError, TypeError):
            return "default"

    def _request(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        import httpx

        delay = 1.0
        for attempt in range(self.retries + 1):
            try:
                resp = self._client.request(method, self.base + path, json=body)
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise GenerationError(f"{self.base}{path}: {type(exc).__name__}: {exc}; is "
                                          "the server up?") from exc
            else:
                if resp.status_code < 400:
                    return resp.json()
                if resp.status_code not in (408, 429) and resp.status_code < 500:
                    raise _HTTPError(resp.status_code, resp.text[:300])
                if attempt == self.retries:
                    raise GenerationError(f"{self.base}{path}: HTTP {resp.status_code} after "
                                          f"{self.retries + 1} tries: {resp.text[:200]}")
            time.sleep(delay)
            delay = min(delay * 2, 30.0)
        raise AssertionError("unreachable")

    def _body(self, prompt: Prompt, n: int, params: SamplingParams) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model_name, "n": n, "temperature": params.temperature,
            "top_p": params.top_p, "max_tokens": params.max_tokens,
        }
        if params.stop:
            body["stop"] = list(params.stop)[:MAX_STOPS]
        if params.seed is not None:
            body["seed"] = params.seed
        if self._send_repetition_penalty and params.repetition_penalty != 1.0:
            body["repetition_penalty"] = params.repetition_penalty
        if prompt.is_chat:
            body["messages"] = prompt.messages
        else:
            body["prompt"] = prompt.text
        return body

    def _once(self, prompt: Prompt, n: int, params: SamplingParams) -> list[str]:
        path = "/chat/completions" if prompt.is_chat else "/completions"
        try:
            data = self._request("POST", path, self._body(prompt, n, params))
        except _HTTPError as exc:
            if self._send_repetition_penalty and "repetition_penalty" in exc.text:
                self._send_repetition_penalty = False
                return self._once(prompt, n, params)
            raise GenerationError(f"{self.base}{path}: HTTP {exc.status}: {exc.text}") from exc
        try:
            choices = sorted(data["choices"], key=lambda c: c.get("index", 0))
            if prompt.is_chat:
                return [c["message"]["content"] or "" for c in choices]
            return [c["text"] for c in choices]
        except (KeyError, TypeError) as exc:
            raise GenerationError(f"{self.base}{path}: unexpected response shape "
                                  f"{str(data)[:200]}") from exc

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


class _HTTPError(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"HTTP {status}: {text}")
        self.status, self.text = status, text
