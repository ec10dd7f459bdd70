"""``POST /v1/fim/completions``, the Codestral-style FIM API (Mistral's shape).

``prompt`` is the code before the cursor, ``suffix`` the code after it; the answer is shaped
as a chat completion (``choices[0].message.content``; stream chunks carry
``choices[0].delta.content`` and end with ``[DONE]``), as Mistral answers it and as minuet,
Continue's ``mistral`` provider and Tabby's ``mistral/completion`` read it. ``random_seed``
is Mistral's name for the seed; temperature is 0.7 when the request gives none.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from fastapi import FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field

from codekiln_serve.api import render
from codekiln_serve.api.errors import APIError
from codekiln_serve.api.generation import Served, start_completion
from codekiln_serve.api.schemas import (
    MAX_CONTEXT_FILES,
    ChatCompletion,
    CompletionRequest,
    ContextFileIn,
    Stop,
)
from codekiln_serve.api.streaming import OPENAI_SSE, stream_response, until_disconnect

DEFAULT_TEMPERATURE = 0.7


class FimCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # min_tokens, safe_prompt...

    model: str = Field(..., max_length=512)
    prompt: str
    suffix: str | None = Field("", description="the code after the cursor")
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_tokens: int | None = Field(None, ge=0)
    stream: bool = False
    stop: Stop = None
    random_seed: int | None = Field(None, ge=0, lt=2**63)
    files: list[ContextFileIn] | None = Field(None, max_length=MAX_CONTEXT_FILES,
                                              description="extra: repository context")
    path: str | None = Field(None, max_length=4096, description="extra: the file's path")


def to_completion(body: FimCompletionRequest) -> CompletionRequest:
    temperature = DEFAULT_TEMPERATURE if body.temperature is None else body.temperature
    return CompletionRequest.model_construct(
        model=body.model, prompt=body.prompt, suffix=body.suffix or "", files=body.files,
        path=body.path, max_tokens=body.max_tokens, temperature=temperature,
        top_p=body.top_p, stop=body.stop, seed=body.random_seed, stream=body.stream)


def install(app: FastAPI, served: Served) -> None:
    @app.post("/v1/fim/completions", response_model=ChatCompletion)
    async def fim_completions(body: FimCompletionRequest, request: Request) -> Any:
        """The middle between ``prompt`` and ``suffix``, shaped as a chat completion."""
        if body.model not in served.names:
            raise APIError(404, f"model {body.model!r} is not served here; this server serves "
                                f"{', '.join(served.names)} (GET /v1/models)", param="model",
                           code="model_not_found")
        run = start_completion(served, "fim", to_completion(body),
                               protocol="/v1/fim/completions")
        meta = render.Meta(f"cmpl-{uuid.uuid4().hex}", int(time.time()), body.model)
        shaper = render.ChatShaper(meta, 1, want_logprobs=False)
        if body.stream:
            chunks = shaper.stream(run.updates, run.stats, include_usage=False)
            return stream_response(chunks, OPENAI_SSE, run.finished)
        result = await until_disconnect(request, shaper.collect(run.updates, run.stats))
        run.finished()
        return result
