"""The OpenAI-compatible teacher: chat requests through ``codekiln_core.clients``.

Retries (connection errors, timeouts, 408/409/429/5xx, with backoff that honours
``Retry-After``) and timeouts are the ``openai`` library's; this module only bounds
concurrency, counts requests (retries included) and turns failures into answers with an
error, so one bad file never stops a labeling run. Other 4xx fail at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from codekiln_core.clients import openai_client
from codekiln_core.errors import ConfigError
from codekiln_curate.label.recipe import TeacherConfig


@dataclass(frozen=True)
class Answer:
    """One prompt's outcome: the text, or the error after the last retry."""

    index: int
    text: str | None
    error: str | None
    attempts: int


class OpenAITeacher:
    def __init__(self, config: TeacherConfig) -> None:
        if not config.model:
            raise ConfigError("teacher.model is empty; set the model name the endpoint serves, "
                              "e.g. --set teacher.model=deepseek-chat")
        key = None
        if config.api_key_env:
            key = os.environ.get(config.api_key_env)
            if not key:
                raise ConfigError(f"teacher.api_key_env: environment variable "
                                  f"{config.api_key_env!r} is not set; export it or set "
                                  "teacher.api_key_env to null for an open endpoint")
        self.config = config
        self._client = openai_client(config.base_url, api_key=key, timeout_s=config.timeout_s,
                                     max_retries=config.max_retries)
        self.url = f"{self._client.base_url}chat/completions"
        self.requests = 0  # HTTP requests sent, retries included (main-thread reads only)

    @property
    def name(self) -> str:
        return f"openai:{self.config.model}"

    def params(self) -> dict[str, Any]:
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
        import openai

        tries = self.config.max_retries + 1
        try:
            raw = self._client.chat.completions.with_raw_response.create(
                model=self.config.model, messages=[{"role": "user", "content": prompt}],
                **self.params())
        except openai.APIStatusError as exc:
            if _retryable(exc.status_code):
                return Answer(index, None, f"gave up after {tries} tries: HTTP "
                              f"{exc.status_code}", tries)
            return Answer(index, None, f"HTTP {exc.status_code} from {self.url}: "
                          f"{_body(exc)}", 1)
        except openai.APIConnectionError as exc:  # timeouts included
            return Answer(index, None, f"gave up after {tries} tries: {type(exc).__name__}: "
                          f"{exc}", tries)
        attempts = 1 + int(getattr(raw, "retries_taken", 0))
        try:
            completion = raw.parse()
        except (ValueError, TypeError) as exc:
            return Answer(index, None, f"invalid reply: {exc}", attempts)
        if self.config.mode == "logprobs":
            return _digits(index, completion, attempts)
        try:
            return Answer(index, _content(completion), None, attempts)
        except (AttributeError, IndexError, TypeError) as exc:
            return Answer(index, None, f"reply has no choices[0].message.content: {exc}",
                          attempts)


def _retryable(status: int) -> bool:
    """The statuses the openai library retries."""
    return status in (408, 409, 429) or status >= 500


def _content(completion: Any) -> str:
    return str(completion.choices[0].message.content or "")


def _digits(index: int, completion: Any, attempts: int) -> Answer:
    """The digit masses of ``choices[0].logprobs.content[0].top_logprobs``."""
    from codekiln_curate.label.logprobs import encode_masses, masses_from_top_logprobs

    try:
        tops = completion.choices[0].logprobs.content[0].top_logprobs
        entries = [{"token": t.token, "logprob": t.logprob} for t in tops]
    except (AttributeError, IndexError, TypeError):
        return Answer(index, None, "reply has no choices[0].logprobs.content[0].top_logprobs; "
                      "the endpoint must support logprobs (or use teacher.mode generate)",
                      attempts)
    return Answer(index, encode_masses(masses_from_top_logprobs(entries)), None, attempts)


def _body(exc: Any) -> str:
    try:
        return str(exc.response.text)[:200].replace("\n", " ")
    except Exception:
        return ""
