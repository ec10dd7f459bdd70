"""Run a request's sequences on a token engine and turn their token events into choices.

All sequences of a request (n per prompt) are submitted at once, so they share decode steps.
Their events are merged into one stream of per-choice updates; when the consumer stops (a
client disconnected, a stop string matched) every sequence still running is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from codekiln_serve.api.errors import APIError, shutting_down
from codekiln_serve.engines.base import (
    GenerationRequest,
    QueueFullError,
    RequestTooLargeError,
    SequenceHandle,
    TokenEngine,
    TokenEvent,
)
from codekiln_serve.text import TextAssembler, token_text

if TYPE_CHECKING:
    from codekiln_serve.api.streaming import Drain


@dataclass
class LogprobPiece:
    """One generated token's logprob entry."""

    token: str
    logprob: float | None
    top: list[tuple[str, float]]


@dataclass
class ChoiceUpdate:
    """New text (and logprobs) of one choice; ``finish_reason`` set on its last update."""

    index: int
    text: str
    logprobs: list[LogprobPiece] = field(default_factory=list)
    finish_reason: str | None = None
    prompt_logprobs: tuple[float | None, ...] | None = None
    stop_string: str | None = None  # set when a stop string (not a stop token) ended it


@dataclass
class _Choice:
    handle: SequenceHandle
    request: GenerationRequest
    assembler: TextAssembler
    tokens: int = 0
    done: bool = False


@dataclass
class RunStats:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    first_token_at: float | None = None


def run_choices(engine: TokenEngine, requests: list[GenerationRequest], stops: list[str],
                stats: RunStats, *, on_first_token: Callable[[], None] | None = None,
                drain: Drain | None = None) -> AsyncIterator[ChoiceUpdate]:
    """Submit now (a full queue is a 503 before any byte is sent, a request that can never
    fit a 400); then the updates of every choice in arrival order, cancelling what is left
    when the iterator is closed early. When ``drain`` begins (the server stops), the updates
    raise a 503 :class:`APIError`, which a stream sends as its last event."""
    try:
        handles = engine.submit(requests)
    except RequestTooLargeError as exc:
        raise APIError(400, f"this request needs {exc.asked} sequences (prompts x n), more than "
                            f"the {exc.limit} this server holds at once ({exc.option}); it can "
                            "never be served: send fewer prompts or a lower n",
                       param="n", code="request_too_large") from exc
    except QueueFullError as exc:
        raise APIError(503, f"the server is at capacity ({exc}); retry shortly",
                       code="queue_full", headers={"Retry-After": "1"}) from exc
    return _updates(engine, handles, requests, stops, stats, on_first_token, drain)


async def _updates(engine: TokenEngine, handles: list[SequenceHandle],
                   requests: list[GenerationRequest], stops: list[str], stats: RunStats,
                   on_first_token: Callable[[], None] | None,
                   drain: Drain | None) -> AsyncIterator[ChoiceUpdate]:
    tok = engine.tokenizer
    choices = [_Choice(h, r, TextAssembler(tok, stops)) for h, r in zip(handles, requests,
                                                                       strict=True)]
    merged: asyncio.Queue[tuple[int, TokenEvent | BaseException | None]] = asyncio.Queue()
    unsubscribe = drain.subscribe(lambda: merged.put_nowait((-1, shutting_down()))) \
        if drain is not None else None

    async def pump(index: int, handle: SequenceHandle) -> None:
        try:
            async for event in handle.events():
                merged.put_nowait((index, event))
        except Exception as exc:  # surfaced to the consumer, which owns the response
            merged.put_nowait((index, exc))
        merged.put_nowait((index, None))

    tasks = [asyncio.create_task(pump(i, c.handle)) for i, c in enumerate(choices)]
    open_count = len(choices)
    try:
        while open_count:
            index, item = await merged.get()
            if isinstance(item, BaseException):
                raise item
            choice = choices[index]
            if item is None:
                open_count -= 1
                if not choice.done:  # the engine ended without a finish reason
                    choice.done = True
                    yield ChoiceUpdate(index, choice.assembler.finish(), finish_reason="stop")
                continue
            if choice.done:
                continue
            update = _apply(choice, index, item, tok)
            if update.text or update.logprobs or update.finish_reason or update.prompt_logprobs:
                if stats.first_token_at is None and (update.text or update.finish_reason):
                    stats.first_token_at = time.perf_counter()
                    if on_first_token is not None:
                        on_first_token()
                yield update
    finally:
        if unsubscribe is not None:
            unsubscribe()
        for choice in choices:
            stats.completion_tokens += choice.tokens
            choice.handle.cancel()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def _apply(choice: _Choice, index: int, event: TokenEvent, tok: Any) -> ChoiceUpdate:
    text = ""
    pieces: list[LogprobPiece] = []
    if event.token_id is not None:
        choice.tokens += 1
        is_stop_token = (event.finish_reason == "stop"
                         and event.token_id in choice.request.stop_token_ids)
        if not is_stop_token:
            text = choice.assembler.add(event.token_id)
            if choice.request.logprobs is not None:
                pieces.append(LogprobPiece(
                    token_text(tok, event.token_id), event.logprob,
                    [(token_text(tok, t), lp) for t, lp in event.top_logprobs]))
    finish = event.finish_reason
    if choice.assembler.stopped:
        finish = "stop"
    if finish is not None:
        text += choice.assembler.finish()
        choice.done = True
        choice.handle.cancel()  # a stop string ends it here; the engine may not know yet
    return ChoiceUpdate(index, text, pieces, finish, event.prompt_logprobs,
                        choice.assembler.stop_string)
