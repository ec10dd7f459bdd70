"""Ollama's ``POST /api/generate`` (with ``suffix``), and the ``/api/tags`` and ``/api/show``
that Ollama clients (Continue, Twinny, Tabby...) probe first.

``prompt`` is the code before the cursor and ``suffix`` the code after it; without a suffix
the prompt is completed as it is (special-token text in it is read as the tokens, so clients
that fill a FIM template themselves work, as with Ollama's ``raw``). Ollama's defaults apply
to what ``options`` leaves out (temperature 0.8, top_k 40, top_p 0.9, ``num_predict`` -1: up
to the context); ``stream`` defaults to true and streams NDJSON. Errors are
``{"error": message}``. Model names match with or without the ``:latest`` tag.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from codekiln_core.fim import fim_template
from codekiln_serve.api.errors import APIError
from codekiln_serve.api.generation import Generation, Served, start_completion
from codekiln_serve.api.schemas import MAX_CONTEXT_FILES, CompletionRequest, ContextFileIn
from codekiln_serve.api.streaming import OLLAMA_NDJSON, stream_response, until_disconnect

TAG = ":latest"


class OllamaOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")  # num_ctx, num_thread, mirostat... are Ollama's

    temperature: float | None = Field(None, ge=0.0, le=5.0)
    top_k: int | None = Field(None, ge=0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    num_predict: int | None = Field(None, ge=-2)
    stop: list[str] | None = Field(None, max_length=64)
    seed: int | None = Field(None, ge=-(2**63), lt=2**63)
    repeat_penalty: float | None = Field(None, gt=0.0, le=10.0)
    presence_penalty: float = Field(0.0, ge=-2.0, le=2.0)
    frequency_penalty: float = Field(0.0, ge=-2.0, le=2.0)


class GenerateRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # keep_alive, raw, images, format, context...

    model: str = Field(..., max_length=512)
    prompt: str = ""
    suffix: str | None = None
    stream: bool = True
    options: OllamaOptions = Field(default_factory=lambda: OllamaOptions.model_validate({}))
    files: list[ContextFileIn] | None = Field(None, max_length=MAX_CONTEXT_FILES,
                                              description="extra: repository context")
    path: str | None = Field(None, max_length=4096, description="extra: the file's path")


class ShowRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str | None = Field(None, max_length=512)
    name: str | None = Field(None, max_length=512)  # older clients send `name`


def to_completion(body: GenerateRequest, model: str) -> CompletionRequest:
    opts = body.options
    limit = opts.num_predict if opts.num_predict is not None and opts.num_predict >= 0 else None
    return CompletionRequest.model_construct(
        model=model, prompt=body.prompt, suffix=body.suffix, files=body.files, path=body.path,
        max_tokens=limit, stream=body.stream,
        temperature=0.8 if opts.temperature is None else opts.temperature,
        top_p=0.9 if opts.top_p is None else opts.top_p,
        top_k=40 if opts.top_k is None else opts.top_k, repetition_penalty=opts.repeat_penalty,
        presence_penalty=opts.presence_penalty, frequency_penalty=opts.frequency_penalty,
        stop=[s for s in opts.stop or [] if s], seed=opts.seed)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z")


class GenerateShaper:
    """Choice updates to Ollama's generate objects (one choice)."""

    def __init__(self, run: Generation, model: str) -> None:
        self.run, self.model = run, model
        self.first_at: float | None = None
        self.done_reason = "stop"

    def final(self, response: str) -> dict[str, Any]:
        now = time.perf_counter()
        first = self.first_at or now
        ns = 1_000_000_000
        return {"model": self.model, "created_at": _now(), "response": response, "done": True,
                "done_reason": self.done_reason,
                "total_duration": int((now - self.run.started) * ns), "load_duration": 0,
                "prompt_eval_count": self.run.stats.prompt_tokens,
                "prompt_eval_duration": int((first - self.run.started) * ns),
                "eval_count": self.run.stats.completion_tokens,
                "eval_duration": int((now - first) * ns)}

    async def _texts(self) -> AsyncIterator[str]:
        async for update in self.run.updates:
            self.first_at = self.first_at or time.perf_counter()
            if update.finish_reason is not None:
                self.done_reason = "length" if update.finish_reason == "length" else "stop"
            if update.text:
                yield update.text

    async def collect(self) -> dict[str, Any]:
        return self.final("".join([text async for text in self._texts()]))

    async def stream(self) -> AsyncIterator[dict[str, Any]]:
        async for text in self._texts():
            yield {"model": self.model, "created_at": _now(), "response": text, "done": False}
        yield self.final("")


class OllamaModel:
    """What /api/tags and /api/show report about the served model."""

    def __init__(self, served: Served, model_dir: Path | None) -> None:
        self.served, self.dir = served, model_dir
        config = self._config()
        self.family = str(config.get("model_type") or "unknown")
        self.dtype = str(config.get("torch_dtype") or config.get("dtype") or "")
        weights = [p for p in (model_dir.iterdir() if model_dir else [])
                   if p.suffix in (".safetensors", ".bin")]
        self.size = sum(p.stat().st_size for p in weights)
        stamp = max((p.stat().st_mtime for p in weights), default=time.time())
        self.modified = datetime.datetime.fromtimestamp(stamp, datetime.UTC).isoformat()
        self.digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()

    def _config(self) -> dict[str, Any]:
        path = self.dir / "config.json" if self.dir else None
        if path is None or not path.is_file():
            return {}
        return dict(json.loads(path.read_text(encoding="utf-8")))

    def tagged(self, name: str) -> str:
        return name if ":" in name else name + TAG

    def resolve(self, asked: str | None) -> str:
        """The served name ``asked`` stands for (with or without ``:latest``), else a 404."""
        for name in self.served.names:
            if asked in (name, self.tagged(name)):
                return name
        listed = ", ".join(self.tagged(n) for n in self.served.names)
        raise APIError(404, f"model {asked!r} not found; this server serves {listed} "
                            "(GET /api/tags)", param="model", code="model_not_found")

    def details(self) -> dict[str, Any]:
        return {"parent_model": "", "format": "safetensors", "family": self.family,
                "families": [self.family], "parameter_size": "",
                "quantization_level": self.dtype.upper()}

    def tags(self) -> dict[str, Any]:
        return {"models": [{"name": self.tagged(n), "model": self.tagged(n),
                            "modified_at": self.modified, "size": self.size,
                            "digest": self.digest, "details": self.details()}
                           for n in self.served.names[:1]]}

    def show(self) -> dict[str, Any]:
        facts = self.served.facts
        template, capabilities = "{{ .Prompt }}", ["completion"]
        if facts is not None and facts.fim_tokens is not None:
            fim = fim_template(facts.fim_tokens, facts.fim_layout, "{{ .Prompt }}",
                               "{{ .Suffix }}")
            template = "{{- if .Suffix }}" + fim + "{{- else }}{{ .Prompt }}{{- end }}"
            capabilities.append("insert")
        ctx = facts.context_length if facts else 0
        modelfile = (f"# served by codekiln\nTEMPLATE {json.dumps(template)}\n"
                     f"PARAMETER num_ctx {ctx}\n")
        return {"license": "", "modelfile": modelfile, "parameters": f"num_ctx {ctx}",
                "template": template, "details": self.details(),
                "capabilities": capabilities, "modified_at": self.modified,
                "model_info": {"general.architecture": self.family,
                               f"{self.family}.context_length": ctx}}


def install(app: FastAPI, served: Served, model_dir: Path | None) -> None:
    info = OllamaModel(served, model_dir)

    @app.get("/api/tags")
    async def tags() -> dict[str, Any]:
        """The served model, as Ollama lists local models."""
        return info.tags()

    @app.post("/api/show")
    async def show(body: ShowRequest) -> dict[str, Any]:
        """Template, capabilities (``insert`` = FIM) and context length of the model."""
        info.resolve(body.model or body.name)
        return info.show()

    @app.post("/api/generate")
    async def generate(body: GenerateRequest, request: Request) -> Any:
        """Ollama's generate: ``prompt`` before the cursor, ``suffix`` after it."""
        name = info.resolve(body.model)
        if not body.prompt and body.suffix is None and not body.files:  # Ollama's "load"
            return JSONResponse({"model": body.model, "created_at": _now(), "response": "",
                                 "done": True, "done_reason": "load"})
        run = start_completion(served, "generate", to_completion(body, name),
                               truncate=True, protocol="/api/generate")
        shaper = GenerateShaper(run, body.model)
        if body.stream:
            return stream_response(shaper.stream(), OLLAMA_NDJSON, run.finished)
        result = await until_disconnect(request, shaper.collect())
        run.finished()
        return result
