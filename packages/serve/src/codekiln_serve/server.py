"""Assemble and run a server: resolve MODEL, build the engine, the app, and uvicorn."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError
from codekiln_core.fim import find_fim_tokens, serving_fim_layout
from codekiln_serve.engines.base import Engine, TokenEngine
from codekiln_serve.engines.registry import build_engine, choose_engine_name
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


def model_facts(engine: TokenEngine, settings: ServeSettings,
                model_dir: Path | None = None) -> ModelFacts:
    """What request translation needs of the model; the FIM layout is the one it learned
    unless the settings name one."""
    if settings.defaults == "auto":
        seed_defaults = uses_seed_coder_template(engine.tokenizer)
    else:
        seed_defaults = settings.defaults == "seed-coder"
    return ModelFacts(engine.tokenizer, engine.context_length, engine.eos_token_ids,
                      find_fim_tokens(engine.tokenizer),
                      serving_fim_layout(settings.fim_layout, model_dir), seed_defaults,
                      settings.fim_context_tokens)


def build(settings: ServeSettings, registry: Any | None = None) -> Built:
    from codekiln_serve.api.routes import create_app

    source = resolve_model(settings.model)
    name = choose_engine_name(settings)
    if source.kind == "url" and name != "openai-http":
        raise ConfigError(f"MODEL {settings.model} is a URL; serve it with --engine openai-http")
    engine = build_engine(settings, source.path, registry)
    facts = model_facts(engine, settings, source.path) if isinstance(engine, TokenEngine) \
        else None
    names = [settings.served_model_name or source.default_name]
    if source.kind == "registered":
        names.append(source.ref)  # clients may also ask for it by URI
    key = settings.api_key or os.environ.get(API_KEY_ENV) or None
    app = create_app(engine, facts, model_names=names, api_key=key,
                     max_body_bytes=settings.max_body_bytes, model_dir=source.path)
    return Built(app, engine, facts, source, names)


def serve(settings: ServeSettings, *, on_ready: Any = None, on_run: Any = None) -> None:
    """Run until SIGINT or SIGTERM, as one lineage run whose input is the model.

    SIGTERM is a normal stop: the run ends FINISHED and the command returns (exit 0), or
    KILLED, with the cut-off work in its tag, when requests were still running.
    """
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
        with sigterm_as_stop():
            run_uvicorn(built, settings, on_ready=on_ready)
        cut = cut_off_work(built)
        if cut:
            run.end_killed(cut)


@contextmanager
def sigterm_as_stop() -> Iterator[None]:
    """Let uvicorn's graceful stop be the end of SIGTERM: it re-raises the signal once it has
    shut down, and this no-op handler (not the default one, which kills the process with
    exit 143 before the run is recorded) receives it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda _sig, _frame: None)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def cut_off_work(built: Built) -> str:
    """What the shutdown cut off (requests, engine sequences), or "" when nothing was."""
    drain = built.app.state.drain
    sequences = drain.sequences_at_start or 0
    if not drain.cut and not sequences:
        return ""
    return (f"stopped with {drain.cut} request(s) cut off and {sequences} sequence(s) "
            "running or waiting in the engine")


def uvicorn_server(built: Built, host: str, port: int, graceful_s: int) -> Any:
    """A uvicorn server that drains the app before its own shutdown: open streams get an
    error event, waiting requests a 503, then uvicorn closes the connections."""
    import uvicorn

    engine = built.engine

    class DrainingServer(uvicorn.Server):
        async def shutdown(self, sockets: Any = None) -> None:
            built.app.state.drain.begin(engine.running() + engine.queue_depth())
            await super().shutdown(sockets)

    config = uvicorn.Config(built.app, host=host, port=port, log_level="warning",
                            access_log=False, timeout_graceful_shutdown=graceful_s)
    return DrainingServer(config)


def run_uvicorn(built: Built, settings: ServeSettings, *, on_ready: Any = None) -> None:
    import asyncio

    server = uvicorn_server(built, settings.host, settings.port, graceful_s=5)

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
