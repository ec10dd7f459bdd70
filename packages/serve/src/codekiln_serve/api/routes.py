"""The FastAPI app: /v1/models, /v1/completions, /v1/chat/completions, /health, /metrics."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from codekiln_serve.api import render
from codekiln_serve.api.errors import APIError, error_body, install_error_handlers
from codekiln_serve.api.guards import GuardMiddleware
from codekiln_serve.api.schemas import (
    ChatCompletion,
    ChatCompletionRequest,
    Completion,
    CompletionRequest,
    ErrorBody,
    ModelCard,
    ModelList,
)
from codekiln_serve.api.sse import frame
from codekiln_serve.choices import RunStats, run_choices
from codekiln_serve.engines.base import Engine, PassthroughEngine, TokenEngine
from codekiln_serve.metrics import ServeMetrics
from codekiln_serve.translate import (
    ModelFacts,
    chat_max_tokens,
    chat_prompt,
    chat_sampling,
    completion_prompts,
    completion_sampling,
    sequence_requests,
)

T = TypeVar("T")
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 404, 413, 422, 503)}


def create_app(engine: Engine, facts: ModelFacts | None, *, model_names: list[str],
               api_key: str | None = None, max_body_bytes: int = 4 * 1024 * 1024) -> FastAPI:
    """An app serving ``engine`` under ``model_names`` (the first is the one listed)."""
    metrics = ServeMetrics(engine.queue_depth, engine.running)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await engine.start()
        try:
            yield
        finally:
            await engine.stop()

    app = FastAPI(title="codekiln serve", version="1", lifespan=lifespan,
                  description="OpenAI-compatible completions (with FIM `suffix`) and chat.")
    app.state.engine, app.state.metrics, app.state.facts = engine, metrics, facts
    install_error_handlers(app)
    app.add_middleware(GuardMiddleware, api_key=api_key, max_body_bytes=max_body_bytes,
                       on_response=lambda route, status: metrics.requests.labels(
                           route, str(status)).inc())
    created = int(time.time())

    def check_model(name: str) -> None:
        if name not in model_names and not engine.passthrough:
            raise APIError(404, f"model {name!r} is not served here; this server serves "
                                f"{', '.join(model_names)} (GET /v1/models)", param="model",
                           code="model_not_found")

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "model": model_names[0], **engine.health()}

    @app.get("/metrics", response_class=Response)
    async def prometheus() -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    @app.get("/v1/models", response_model=ModelList, responses=_ERRORS)
    async def models() -> ModelList:
        ctx = facts.context_length if facts else None
        names = model_names
        if isinstance(engine, PassthroughEngine):
            names = await engine.models()
        return ModelList(data=[ModelCard(id=n, created=created, max_model_len=ctx)
                               for n in names])

    @app.post("/v1/completions", response_model=Completion, responses=_ERRORS)
    async def completions(body: CompletionRequest, request: Request) -> Any:
        check_model(body.model)
        if isinstance(engine, PassthroughEngine):
            return await _forward(engine, "completions", body, request)
        assert isinstance(engine, TokenEngine) and facts is not None
        started = time.perf_counter()
        prompts = completion_prompts(body, facts)
        sampling = completion_sampling(body, facts)
        requests = sequence_requests(sampling, prompts, facts, body.max_tokens, None)
        stats = RunStats(prompt_tokens=sum(len(p.ids) for p in prompts))
        meta = render.Meta(f"cmpl-{uuid.uuid4().hex}", int(time.time()), body.model)
        updates = run_choices(engine, requests, sampling.stops, stats,
                              on_first_token=lambda: _ttft(metrics, "completions", started))
        shaper = render.CompletionShaper(meta, prompts, body.n, echo=body.echo,
                                         want_logprobs=body.logprobs is not None,
                                         tokenizer=facts.tokenizer)
        if body.stream:
            usage = bool(body.stream_options and body.stream_options.include_usage)
            chunks = shaper.stream(updates, stats, include_usage=usage)
            return _sse(request, chunks, lambda: _done(metrics, "completions", started, stats))
        result = await _until_disconnect(request, shaper.collect(updates, stats))
        _done(metrics, "completions", started, stats)
        return result

    @app.post("/v1/chat/completions", response_model=ChatCompletion, responses=_ERRORS)
    async def chat(body: ChatCompletionRequest, request: Request) -> Any:
        check_model(body.model)
        if isinstance(engine, PassthroughEngine):
            return await _forward(engine, "chat/completions", body, request)
        assert isinstance(engine, TokenEngine) and facts is not None
        started = time.perf_counter()
        prompt = chat_prompt(body, facts)
        sampling = chat_sampling(body, facts)
        asked, default = chat_max_tokens(body, facts)
        requests = sequence_requests(sampling, [prompt], facts, asked, default)
        stats = RunStats(prompt_tokens=len(prompt.ids))
        meta = render.Meta(f"chatcmpl-{uuid.uuid4().hex}", int(time.time()), body.model)
        updates = run_choices(engine, requests, sampling.stops, stats,
                              on_first_token=lambda: _ttft(metrics, "chat", started))
        shaper = render.ChatShaper(meta, body.n, want_logprobs=body.logprobs)
        if body.stream:
            usage = bool(body.stream_options and body.stream_options.include_usage)
            chunks = shaper.stream(updates, stats, include_usage=usage)
            return _sse(request, chunks, lambda: _done(metrics, "chat", started, stats))
        result = await _until_disconnect(request, shaper.collect(updates, stats))
        _done(metrics, "chat", started, stats)
        return result

    return app


def _ttft(metrics: ServeMetrics, route: str, started: float) -> None:
    metrics.ttft.labels(route).observe(time.perf_counter() - started)


def _done(metrics: ServeMetrics, route: str, started: float, stats: RunStats) -> None:
    metrics.latency.labels(route).observe(time.perf_counter() - started)
    metrics.prompt_tokens.inc(stats.prompt_tokens)
    metrics.generation_tokens.inc(stats.completion_tokens)


def _sse(request: Request, chunks: AsyncIterator[dict[str, Any]],
         on_close: Callable[[], None]) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        try:
            async for piece in frame(chunks):
                yield piece
        except APIError as exc:  # after the headers: tell the client in-band
            from codekiln_serve.api.sse import DONE, event

            yield event(error_body(exc.status, exc.message, exc.param, exc.code))
            yield DONE
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]
            on_close()

    return StreamingResponse(body(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def _until_disconnect(request: Request, work: Awaitable[T]) -> T:
    """Await ``work``, cancelling it (and so its sequences) if the client goes away."""
    task = asyncio.ensure_future(work)
    while not task.done():
        await asyncio.wait({task}, timeout=0.25)
        if not task.done() and await request.is_disconnected():
            task.cancel()
            raise APIError(499, "client disconnected")
    return task.result()


async def _forward(engine: PassthroughEngine, route: str, body: Any, request: Request) -> Any:
    payload = body.model_dump(exclude_unset=True)
    result = await engine.forward(route, payload)
    if payload.get("stream"):
        return _sse(request, result, lambda: None)
    return JSONResponse(result)
