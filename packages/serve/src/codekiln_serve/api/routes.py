"""The FastAPI app: the OpenAI routes (/v1/models, /v1/completions, /v1/chat/completions),
the editor routes (llama.cpp /infill, Ollama /api/*, /v1/fim/completions), /health, /metrics.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from codekiln_serve.api import codestral, infill, ollama, render
from codekiln_serve.api.errors import APIError, install_error_handlers
from codekiln_serve.api.generation import Generation, Served, start_completion
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
from codekiln_serve.api.streaming import OPENAI_SSE, Drain, stream_response, until_disconnect
from codekiln_serve.choices import RunStats, run_choices
from codekiln_serve.engines.base import Engine, PassthroughEngine, TokenEngine
from codekiln_serve.metrics import ServeMetrics
from codekiln_serve.translate import (
    ModelFacts,
    chat_max_tokens,
    chat_prompt,
    chat_sampling,
    sequence_requests,
)

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 404, 413, 422, 503)}


def create_app(engine: Engine, facts: ModelFacts | None, *, model_names: list[str],
               api_key: str | None = None, max_body_bytes: int = 4 * 1024 * 1024,
               model_dir: Path | None = None) -> FastAPI:
    """An app serving ``engine`` under ``model_names`` (the first is the one listed)."""
    metrics = ServeMetrics(engine.queue_depth, engine.running)
    served = Served(engine, facts, metrics, model_names, Drain())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await engine.start()
        try:
            yield
        finally:
            await engine.stop()

    app = FastAPI(title="codekiln serve", version="1", lifespan=lifespan,
                  description="OpenAI-compatible completions (with FIM `suffix`) and chat; "
                              "llama.cpp /infill, Ollama /api/generate and /v1/fim/completions "
                              "for editors.")
    app.state.engine, app.state.metrics, app.state.facts = engine, metrics, facts
    app.state.drain = served.drain
    install_error_handlers(app)
    app.add_middleware(GuardMiddleware, api_key=api_key, max_body_bytes=max_body_bytes,
                       on_response=lambda route, status: metrics.requests.labels(
                           route, str(status)).inc())
    _openai_routes(app, served)
    infill.install(app, served)
    ollama.install(app, served, model_dir)
    codestral.install(app, served)
    return app


def _openai_routes(app: FastAPI, served: Served) -> None:
    engine, facts, metrics, names = served.engine, served.facts, served.metrics, served.names
    created = int(time.time())

    def check_model(name: str) -> None:
        if name not in names and not engine.passthrough:
            raise APIError(404, f"model {name!r} is not served here; this server serves "
                                f"{', '.join(names)} (GET /v1/models)", param="model",
                           code="model_not_found")

    @app.get("/health")
    async def health() -> dict[str, Any]:
        fim = facts.fim_layout if facts and facts.fim_tokens else None
        return {"status": "ok", "model": names[0], "fim_layout": fim, **engine.health()}

    @app.get("/metrics", response_class=Response)
    async def prometheus() -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    @app.get("/v1/models", response_model=ModelList, responses=ERRORS)
    async def models() -> ModelList:
        ctx = facts.context_length if facts else None
        listed = names
        if isinstance(engine, PassthroughEngine):
            listed = await engine.models()
        return ModelList(data=[ModelCard(id=n, created=created, max_model_len=ctx)
                               for n in listed])

    @app.post("/v1/completions", response_model=Completion, responses=ERRORS)
    async def completions(body: CompletionRequest, request: Request) -> Any:
        check_model(body.model)
        if isinstance(engine, PassthroughEngine):
            return await _forward(engine, "completions", body, served)
        run = start_completion(served, "completions", body)
        meta = render.Meta(f"cmpl-{uuid.uuid4().hex}", int(time.time()), body.model)
        shaper = render.CompletionShaper(meta, run.prompts, body.n, echo=body.echo,
                                         want_logprobs=body.logprobs is not None,
                                         tokenizer=facts.tokenizer if facts else None)
        if body.stream:
            usage = bool(body.stream_options and body.stream_options.include_usage)
            chunks = shaper.stream(run.updates, run.stats, include_usage=usage)
            return stream_response(chunks, OPENAI_SSE, run.finished)
        result = await until_disconnect(request, shaper.collect(run.updates, run.stats))
        run.finished()
        return result

    @app.post("/v1/chat/completions", response_model=ChatCompletion, responses=ERRORS)
    async def chat(body: ChatCompletionRequest, request: Request) -> Any:
        check_model(body.model)
        if isinstance(engine, PassthroughEngine):
            return await _forward(engine, "chat/completions", body, served)
        assert isinstance(engine, TokenEngine) and facts is not None
        started = time.perf_counter()
        prompt = chat_prompt(body, facts)
        sampling = chat_sampling(body, facts)
        asked, default = chat_max_tokens(body, facts)
        requests = sequence_requests(sampling, [prompt], facts, asked, default)
        stats = RunStats(prompt_tokens=len(prompt.ids))
        meta = render.Meta(f"chatcmpl-{uuid.uuid4().hex}", int(time.time()), body.model)
        ttft = metrics.ttft.labels("chat")
        updates = run_choices(engine, requests, sampling.stops, stats, drain=served.drain,
                              on_first_token=lambda: ttft.observe(time.perf_counter() - started))
        shaper = render.ChatShaper(meta, body.n, want_logprobs=body.logprobs)
        run = Generation([prompt], updates, stats, started, "chat", metrics)
        if body.stream:
            usage = bool(body.stream_options and body.stream_options.include_usage)
            chunks = shaper.stream(updates, stats, include_usage=usage)
            return stream_response(chunks, OPENAI_SSE, run.finished)
        result = await until_disconnect(request, shaper.collect(updates, stats))
        run.finished()
        return result


async def _forward(engine: PassthroughEngine, route: str, body: Any, served: Served) -> Any:
    payload = body.model_dump(exclude_unset=True)
    result = await engine.forward(route, payload)
    if payload.get("stream"):
        return stream_response(result, OPENAI_SSE, lambda: None)
    return JSONResponse(result)
