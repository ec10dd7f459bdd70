"""What every engine offers the API layer: token ids in, a stream of token events out.

The API layer owns everything a client sees (prompt building, FIM, chat templates, stop
strings, detokenization, OpenAI shapes), so two engines given the same ids answer alike.
An engine only turns a :class:`GenerationRequest` into :class:`TokenEvent` objects.
A pass-through engine (``openai-http``) has no tokenizer and forwards whole requests instead.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class QueueFullError(Exception):
    """The engine's waiting queue is at its bound; the API answers 503 with Retry-After."""


class RequestTooLargeError(Exception):
    """More sequences than the engine ever holds at once: retrying cannot help (a 400)."""

    def __init__(self, asked: int, limit: int, option: str) -> None:
        super().__init__(f"{asked} sequences at once, more than the {limit} this server ever "
                         f"holds ({option})")
        self.asked, self.limit, self.option = asked, limit, option


@dataclass(frozen=True)
class GenerationRequest:
    """One sequence to generate (a request with n=3 becomes three of these)."""

    prompt_ids: list[int]
    max_tokens: int  # new tokens at most; the API made sure prompt + this fits the context
    temperature: float = 1.0  # 0 = greedy
    top_p: float = 1.0
    top_k: int = 0  # 0 = off
    repetition_penalty: float = 1.0  # HF/vLLM style: divides positive logits of seen tokens
    presence_penalty: float = 0.0  # OpenAI style, over generated tokens
    frequency_penalty: float = 0.0
    logit_bias: Mapping[int, float] = field(default_factory=dict)
    seed: int | None = None  # same seed, same prompt, same batch-free run: same tokens
    stop_token_ids: frozenset[int] = frozenset()  # ends the sequence (not part of the text)
    ignore_eos: bool = False  # keep going past stop_token_ids (benchmarks: fixed lengths)
    logprobs: int | None = None  # None: none; k: the chosen token's plus the top k
    prompt_logprobs: bool = False  # echo + logprobs on a completion


@dataclass(frozen=True)
class TokenEvent:
    """One generated token (or, with ``token_id`` None, only the end of the sequence)."""

    token_id: int | None
    logprob: float | None = None
    top_logprobs: tuple[tuple[int, float], ...] = ()
    finish_reason: str | None = None  # "stop" | "length" on the last event
    prompt_logprobs: tuple[float | None, ...] | None = None  # on the first event, if asked


class SequenceHandle(ABC):
    """A submitted sequence: iterate its events; cancel it when the client goes away."""

    @abstractmethod
    def events(self) -> AsyncIterator[TokenEvent]: ...

    @abstractmethod
    def cancel(self) -> None:
        """Drop the sequence: the engine stops spending compute on it at the next step."""


@dataclass
class EngineStats:
    """Counters the tests and /metrics read (cumulative since start)."""

    generated_tokens: int = 0
    prompt_tokens: int = 0
    prefilled_tokens: int = 0  # prompt tokens run through the model (repeats share a prefill)
    finished_sequences: int = 0
    cancelled_sequences: int = 0
    steps: int = 0
    max_batch_seen: int = 0


class Engine:
    """A registered engine: built from :class:`~codekiln_serve.settings.ServeSettings`."""

    #: True for engines that forward whole OpenAI requests (no tokenizer of their own).
    passthrough: bool = False
    model_id: str = "model"

    async def start(self) -> None:
        """Called once inside the server's event loop before the first request."""
        return None

    async def stop(self) -> None:
        """Called once at shutdown."""
        return None

    def health(self) -> dict[str, Any]:
        return {"status": "ok"}

    def queue_depth(self) -> int:
        return 0

    def running(self) -> int:
        return 0


class TokenEngine(Engine, ABC):
    """An engine that generates from token ids (transformers, vllm, most third-party ones)."""

    tokenizer: Any  # a transformers PreTrainedTokenizerBase
    context_length: int
    eos_token_ids: frozenset[int]
    stats: EngineStats

    @abstractmethod
    def submit(self, requests: Sequence[GenerationRequest]) -> list[SequenceHandle]:
        """Queue all ``requests`` or none: :class:`QueueFullError` when they do not fit now,
        :class:`RequestTooLargeError` when they never could."""


class PassthroughEngine(Engine, ABC):
    """An engine that forwards OpenAI requests as they are (``openai-http``)."""

    passthrough = True

    @abstractmethod
    async def models(self) -> list[str]: ...

    @abstractmethod
    async def forward(self, route: str, body: dict[str, Any]) -> Any:
        """A JSON-able response, or an async iterator of JSON-able chunks when streaming."""
