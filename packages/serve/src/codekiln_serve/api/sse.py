"""Server-sent events in OpenAI's framing: ``data: {json}\\n\\n`` per chunk, then
``data: [DONE]``. An error after the stream has started is sent as one error chunk."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

DONE = b"data: [DONE]\n\n"


def event(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode() \
        + b"\n\n"


async def frame(chunks: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    """Frame JSON chunks as SSE and end with ``[DONE]``."""
    async for chunk in chunks:
        yield event(chunk)
    yield DONE
