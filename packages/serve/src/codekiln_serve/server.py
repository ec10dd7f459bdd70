"""Assemble and run a server: resolve MODEL, build the engine, the app, and uvicorn."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError
from codekiln_serve.engines.base import Engine, TokenEngine
from codekiln_serve.engines.registry import build_engine, choose_engine_name
from codekiln_serve.fim import find_fim_tokens
from codekiln_serve.model_source import ModelSource, resolve_model
from codekiln_serve.settings import ServeSettings
from codekiln_serve.translate import ModelFacts, uses_seed_coder_template

if TYPE_CHECKING:
    from fastapi import FastAPI

API_KEY_ENV = "CODEKILN_SERVE_API_KEY"


@dataclass
class Built:
    app: FastAPI
    engine: Engine
    facts: ModelFacts | None
    source: ModelSource
    names: list[str]


def model_facts(engine: TokenEngine, settings: ServeSettings) -> ModelFacts:
    if settings.defaults == "auto":
        seed_defaults = uses_seed_coder_template(engine.tokenizer)
    else:
        seed_defaults = settings.defaults == "seed-coder"
    return ModelFacts(engine.tokenizer, engine.context_length, engine.eos_token_ids,
                      find_fim_tokens(engine.tokenizer), settings.fim_layout, seed_defaults)


def build(settings: ServeSettings, registry: Any | None = None) -> Built:
    from codekiln_serve.api.routes import create_app

    source = resolve_model(settings.model)
    name = choose_engine_name(settings)
    if source.kind == "url" and name != "openai-http":
        raise ConfigError(f"MODEL {settings.model} is a URL; serve it with --engine openai-http")
    engine = build_engine(settings, source.path, registry)
    facts = model_facts(engine, settings) if isinstance(engine, TokenEngine) else None
    names = [settings.served_model_name or source.default_name]
    if source.kind == "registered":
        names.append(source.ref)  # clients may also ask for it by URI
    key = settings.api_key or os.environ.get(API_KEY_ENV) or None
    app = create_app(engine, facts, model_names=names, api_key=key,
                     max_body_bytes=settings.max_body_bytes)
    return Built(app, engine, facts, source, names)


def serve(settings: ServeSettings, *, on_ready: Any = None, on_run: Any = None) -> None:
    """Run until interrupted, as one lineage run whose input is the model."""
    from codekiln_core.lineage import InputRef
    from codekiln_core.lineage.command import lineage_command

    built = build(settings)
    inputs = []
    if built.source.kind == "local" and built.source.path is not None:
        inputs.append(InputRef.from_path(built.source.path, name="model"))
    elif built.source.kind == "registered":
        inputs.append(InputRef(name="model", source=built.source.ref))
    config = settings.model_dump(exclude={"api_key", "upstream_api_key"})  # no secrets logged
    with lineage_command("serve", config=config, inputs=inputs,
                         enabled=settings.lineage and built.source.kind != "url") as run:
        if run.run_id and on_run is not None:
            on_run(run.run_id)
        run_uvicorn(built, settings, on_ready=on_ready)


def run_uvicorn(built: Built, settings: ServeSettings, *, on_ready: Any = None) -> None:
    import asyncio

    import uvicorn

    config = uvicorn.Config(built.app, host=settings.host, port=settings.port,
                            log_level="warning", access_log=False, timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)

    async def main() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.05)
        if server.started and on_ready is not None:
            sockets = [s for srv in server.servers for s in srv.sockets]
            host, port = sockets[0].getsockname()[:2]
            on_ready(f"http://{host}:{port}", built)
        await task

    asyncio.run(main())
