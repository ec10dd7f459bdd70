"""Response bodies of generation requests, and the drain that ends them when the server stops.

Each protocol frames its stream its own way (:class:`Framing`): OpenAI's SSE ending with
``[DONE]``, llama.cpp's SSE without it, Ollama's NDJSON. An error after the headers went out
is sent in-band in that framing. When the server begins to shut down (:class:`Drain`), every
running generation is ended with an error: an open stream gets it as its last event, a
request still waiting for its whole answer a 503, so a client learns why its connection
closed instead of seeing it cut.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from codekiln_serve.api.errors import APIError, error_body

if TYPE_CHECKING:
    from fastapi import Request
    from fastapi.responses import StreamingResponse

T = TypeVar("T")


#: The end of an OpenAI stream.
DONE = b"data: [DONE]\n\n"


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def event(payload: dict[str, Any]) -> bytes:
    """One server-sent event: ``data: {json}`` and a blank line."""
    return b"data: " + _json(payload) + b"\n\n"


def ndjson_line(payload: dict[str, Any]) -> bytes:
    return _json(payload) + b"\n"


@dataclass(frozen=True)
class Framing:
    """How one protocol writes chunks, an in-band error, and the end of a stream."""

    media_type: str
    chunk: Callable[[dict[str, Any]], bytes]
    error: Callable[[APIError], bytes]
    done: bytes = b""


def _openai_error(exc: APIError) -> bytes:
    return event(error_body(exc.status, exc.message, exc.param, exc.code)) + DONE


OPENAI_SSE = Framing("text/event-stream", event, _openai_error, DONE)
LLAMA_SSE = Framing("text/event-stream", event,
                    lambda exc: event(error_body(exc.status, exc.message, exc.param, exc.code)))
OLLAMA_NDJSON = Framing("application/x-ndjson", ndjson_line,
                        lambda exc: ndjson_line({"error": exc.message}))


class Drain:
    """Set when the server begins to stop: every generation run still going is told at once
    (its updates raise :func:`~codekiln_serve.api.errors.shutting_down`)."""

    def __init__(self) -> None:
        self._runs: dict[int, Callable[[], None]] = {}
        self._next = 0
        self.draining = False
        self.cut = 0  # runs that were still going when the drain began
        self.sequences_at_start: int | None = None  # engine sequences running or waiting

    @property
    def running(self) -> int:
        """Generation runs going now."""
        return len(self._runs)

    def subscribe(self, stop: Callable[[], None]) -> Callable[[], None]:
        """Register a running generation; returns its unsubscribe."""
        if self.draining:
            self.cut += 1
            stop()
            return lambda: None
        key, self._next = self._next, self._next + 1
        self._runs[key] = stop

        def unsubscribe() -> None:
            self._runs.pop(key, None)

        return unsubscribe

    def begin(self, sequences: int) -> None:
        if self.draining:
            return
        self.draining, self.sequences_at_start = True, sequences
        self.cut += len(self._runs)
        for stop in list(self._runs.values()):
            stop()


def stream_response(chunks: AsyncIterator[dict[str, Any]], framing: Framing,
                    on_close: Callable[[], None]) -> StreamingResponse:
    """Stream ``chunks`` in ``framing``; an error after the headers is an in-band event."""
    from fastapi.responses import StreamingResponse

    async def body() -> AsyncIterator[bytes]:
        try:
            async for chunk in chunks:
                yield framing.chunk(chunk)
            if framing.done:
                yield framing.done
        except APIError as exc:  # the drain, an engine fault: tell the client in-band
            yield framing.error(exc)
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]
            on_close()

    return StreamingResponse(body(), media_type=framing.media_type,
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def until_disconnect(request: Request, work: Awaitable[T]) -> T:
    """Await ``work``, cancelling it (and so its sequences) if the client goes away."""
    task = asyncio.ensure_future(work)
    while not task.done():
        await asyncio.wait({task}, timeout=0.25)
        if not task.done() and await request.is_disconnected():
            task.cancel()
            raise APIError(499, "client disconnected")
    return task.result()
