"""An OpenAI-compatible chat client (stdlib HTTP) with retries and bounded concurrency.

Retries cover what a busy server does: 429, 5xx, connection errors and timeouts, with
exponential backoff (``Retry-After`` honoured up to the cap). Other 4xx are the caller's
fault and fail at once.
"""

from __future__ import annotations

import json
import os
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from codekiln_core.errors import ConfigError
from codekiln_curate.label.recipe import TeacherConfig


@dataclass(frozen=True)
class Answer:
    """One prompt's outcome: the text, or the error after the last retry."""

    index: int
    text: str | None
    error: str | None
    attempts: int


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class OpenAITeacher:
    def __init__(self, config: TeacherConfig, sleep: Callable[[float], None] = time.sleep):
        if not config.model:
            raise ConfigError("teacher.model is empty; set the model name the endpoint serves, "
                              "e.g. --set teacher.model=deepseek-chat")
        self.config = config
        self.url = config.base_url.rstrip("/") + "/chat/completions"
        self.headers = {"Content-Type": "application/json"}
        if config.api_key_env:
            key = os.environ.get(config.api_key_env)
            if not key:
                raise ConfigError(f"teacher.api_key_env: environment variable "
                                  f"{config.api_key_env!r} is not set; export it or set "
                                  "teacher.api_key_env to null for an open endpoint")
            self.headers["Authorization"] = f"Bearer {key}"
        self._sleep = sleep
        self.requests = 0  # HTTP requests sent, retries included (main-thread reads only)

    @property
    def name(self) -> str:
        return f"openai:{self.config.model}"

    def params(self) -> dict[str, object]:
        if self.config.mode == "logprobs":  # one token: the digit, with its alternatives
            return {"temperature": 0.0, "max_tokens": 1, "logprobs": True,
                    "top_logprobs": self.config.top_logprobs}
        return {"temperature": self.config.temperature, "max_tokens": self.config.max_tokens}

    def answer_all(self, prompts: Sequence[tuple[int, str]]) -> Iterator[Answer]:
        """Yield answers as they complete, at most ``concurrency`` requests in flight."""
        if not prompts:
            return
        workers = min(self.config.concurrency, len(prompts))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="teacher") as pool:
            futures = [pool.submit(self._ask, index, prompt) for index, prompt in prompts]
            for future in as_completed(futures):
                answer = future.result()
                self.requests += answer.attempts
                yield answer

    def _ask(self, index: int, prompt: str) -> Answer:
        attempts = 0
        while True:
            attempts += 1
            try:
                return Answer(index, self._post(prompt), None, attempts)
            except _Retryable as exc:
                if attempts > self.config.max_retries:
                    return Answer(index, None, f"gave up after {attempts} tries: {exc}",
                                  attempts)
                self._sleep(self._delay(attempts, exc.retry_after))
            except _Fatal as exc:
                return Answer(index, None, str(exc), attempts)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        base = self.config.backoff_s * 2 ** (attempt - 1)
        delay = max(base, retry_after or 0.0) * (1 + 0.1 * random.random())
        return float(min(delay, self.config.max_backoff_s))

    def _post(self, prompt: str) -> str:
        body = json.dumps({"model": self.config.model,
                           "messages": [{"role": "user", "content": prompt}],
                           **self.params()}).encode("utf-8")
        request = urllib.request.Request(self.url, data=body, headers=self.headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout_s) as response:
                payload = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            if exc.code == 429 or exc.code >= 500:
                raise _Retryable(f"HTTP {exc.code}", _retry_after(exc)) from exc
            raise _Fatal(f"HTTP {exc.code} from {self.url}: {_body(exc)}") from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
        except ValueError as exc:
            raise _Retryable(f"invalid JSON reply: {exc}") from exc
        return _digits(payload) if self.config.mode == "logprobs" else _content(payload)


class _Fatal(Exception):
    pass


def _content(payload: object) -> str:
    try:
        content = payload["choices"][0]["message"]["content"]  # type: ignore[index]
    except (KeyError, IndexError, TypeError) as exc:
        raise _Fatal(f"reply has no choices[0].message.content: {str(payload)[:200]}") from exc
    return str(content or "")


def _digits(payload: object) -> str:
    """The digit masses of ``choices[0].logprobs.content[0].top_logprobs``."""
    from codekiln_curate.label.logprobs import encode_masses, masses_from_top_logprobs

    try:
        entries = payload["choices"][0]["logprobs"]["content"][0]["top_logprobs"]  # type: ignore[index]
    except (KeyError, IndexError, TypeError) as exc:
        raise _Fatal("reply has no choices[0].logprobs.content[0].top_logprobs; the endpoint "
                     "must support logprobs (or use teacher.mode generate)") from exc
    return encode_masses(masses_from_top_logprobs(entries))


def _retry_after(exc: urllib.error.HTTPError) -> float | None:
    value = exc.headers.get("Retry-After") if exc.headers else None
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _body(exc: urllib.error.HTTPError) -> str:
    try:
        return exc.read().decode("utf-8", "replace")[:200].replace("\n", " ")
    except OSError:
        return ""
