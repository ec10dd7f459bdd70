"""llama.cpp's ``POST /infill``, as llama.vim and llama.vscode call it.

``input_prefix`` + ``prompt`` is the code before the cursor, ``input_suffix`` the code after
it, ``input_extra`` (``{filename, text}`` chunks, farthest first) the repository context, laid
out in the repo-level format the model was trained on. Sampling fields keep llama.cpp's names
and defaults (``n_predict`` -1 = up to the context, temperature 0.8, top_k 40, top_p 0.95);
``n_indent`` and ``t_max_predict_ms`` end a completion as llama.cpp does; ``response_fields``
picks fields by path. Fields llama.cpp would ignore here (``samplers``, ``cache_prompt``,
``t_max_prompt_ms``, ``id_slot``...) are ignored.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field

from codekiln_serve.api.generation import Generation, Served, start_completion
from codekiln_serve.api.schemas import MAX_CONTEXT_FILES, CompletionRequest, ContextFileIn
from codekiln_serve.api.streaming import LLAMA_SSE, stream_response, until_disconnect
from codekiln_serve.choices import ChoiceUpdate


class InputExtraChunk(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: str = ""
    filename: str = Field("tmp", max_length=4096)  # llama.cpp's default name


class InfillRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    input_prefix: str = ""
    input_suffix: str = ""
    input_extra: list[InputExtraChunk] = Field(default_factory=list,
                                               max_length=MAX_CONTEXT_FILES)
    prompt: str = Field("", description="text after input_prefix (the cursor's line so far)")
    n_predict: int = Field(-1, ge=-1, description="tokens to generate; -1: up to the context")
    temperature: float = Field(0.8, ge=0.0, le=5.0)
    top_k: int = Field(40, ge=0)
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    repeat_penalty: float = Field(1.0, gt=0.0, le=10.0)
    presence_penalty: float = Field(0.0, ge=-2.0, le=2.0)
    frequency_penalty: float = Field(0.0, ge=-2.0, le=2.0)
    stop: list[str] = Field(default_factory=list, max_length=64)
    seed: int = Field(-1, ge=-1, lt=2**63, description="-1: a random seed")
    n_indent: int = Field(0, ge=0, description="end at a later line indented less than this")
    t_max_predict_ms: int = Field(0, ge=0, description="after a newline, end past this time")
    stream: bool = False
    ignore_eos: bool = False
    response_fields: list[str] | None = None
    path: str | None = Field(None, max_length=4096,
                             description="extra: path of the file being completed")


def to_completion(body: InfillRequest, model: str) -> CompletionRequest:
    """The same request as an OpenAI completion with FIM extras (validated already)."""
    files = [ContextFileIn(path=c.filename, content=c.text) for c in body.input_extra]
    return CompletionRequest.model_construct(
        model=model, prompt=body.input_prefix + body.prompt, suffix=body.input_suffix,
        files=files, path=body.path, max_tokens=None if body.n_predict < 0 else body.n_predict,
        temperature=body.temperature, top_p=body.top_p, top_k=body.top_k,
        repetition_penalty=body.repeat_penalty, presence_penalty=body.presence_penalty,
        frequency_penalty=body.frequency_penalty, stop=[s for s in body.stop if s],
        seed=None if body.seed < 0 else body.seed, ignore_eos=body.ignore_eos,
        stream=body.stream)


class InfillLimits:
    """llama.cpp's ``n_indent`` and ``t_max_predict_ms`` stops, applied to the text so far."""

    def __init__(self, n_indent: int, t_max_predict_ms: int,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.n_indent, self.t_max_s = n_indent, t_max_predict_ms / 1000
        self.clock = clock
        self.started: float | None = None
        self.text = ""

    def add(self, delta: str) -> tuple[str, bool]:
        """The part of ``delta`` to keep, and whether generation must end here."""
        now = self.clock()
        if self.started is None:
            self.started = now
        before = len(self.text)
        self.text += delta
        cut = self._indent_cut(before)
        if cut is not None:
            kept = self.text[before:cut]
            self.text = self.text[:cut]
            return kept, True
        timed_out = (self.t_max_s > 0 and "\n" in self.text
                     and now - self.started > self.t_max_s)
        return delta, timed_out

    def _indent_cut(self, checked: int) -> int | None:
        """Where the first later line indented less than ``n_indent`` starts its code."""
        if self.n_indent <= 0:
            return None
        start = self.text.find("\n", max(0, self.text.rfind("\n", 0, checked)))
        while start >= 0:
            pos = start + 1
            while pos < len(self.text) and self.text[pos] in " \t":
                pos += 1
            if pos < len(self.text) and pos - start - 1 < self.n_indent:
                return pos
            start = self.text.find("\n", start + 1)
        return None


def pick_fields(result: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    """llama.cpp's ``response_fields``: only those paths ("timings/prompt_n"), keyed by path."""
    if not fields:
        return result
    picked: dict[str, Any] = {}
    for path in fields:
        current: Any = result
        for key in path.split("/"):
            if not isinstance(current, dict) or key not in current:
                break
            current = current[key]
        else:
            picked[path] = current
    return picked


class InfillShaper:
    """Choice updates to llama.cpp's /infill bodies (one choice)."""

    def __init__(self, body: InfillRequest, run: Generation, model: str, tokenizer: Any) -> None:
        self.body, self.run, self.model, self.tok = body, run, model, tokenizer
        self.limits = InfillLimits(body.n_indent, body.t_max_predict_ms)
        self.content = ""
        self.stop_type, self.stopping_word = "none", ""
        self.first_at: float | None = None

    async def deltas(self) -> AsyncIterator[str]:
        """The text as it is generated, cut by the limits; sets the stop type at the end."""
        try:
            async for update in self.run.updates:
                self.first_at = self.first_at or time.perf_counter()
                kept, limited = self.limits.add(update.text)
                self.content += kept
                if kept:
                    yield kept
                if limited:
                    self.stop_type = "limit"
                    return
                if update.finish_reason is not None:
                    self.stop_type, self.stopping_word = _stop_type(update)
        finally:
            await self.run.updates.aclose()  # type: ignore[attr-defined]

    def result(self, streamed: bool) -> dict[str, Any]:
        stats, now = self.run.stats, time.perf_counter()
        first = self.first_at or now
        prompt_ms = (first - self.run.started) * 1000
        predicted_ms = (now - first) * 1000
        n, p = stats.completion_tokens, stats.prompt_tokens
        prompt = self.run.prompts[0]
        return {
            "index": 0, "content": "" if streamed else self.content, "tokens": [],
            "id_slot": 0, "stop": True, "model": self.model, "tokens_predicted": n,
            "tokens_evaluated": p, "prompt": str(self.tok.decode(prompt.ids)),
            "generation_settings": {
                "n_predict": self.body.n_predict, "temperature": self.body.temperature,
                "top_k": self.body.top_k, "top_p": self.body.top_p, "seed": self.body.seed,
                "stop": self.body.stop, "n_indent": self.body.n_indent,
                "t_max_predict_ms": self.body.t_max_predict_ms},
            "has_new_line": "\n" in self.content, "truncated": prompt.truncated,
            "stop_type": self.stop_type, "stopping_word": self.stopping_word,
            "tokens_cached": 0,
            "timings": {"prompt_n": p, "prompt_ms": prompt_ms,
                        "prompt_per_token_ms": prompt_ms / max(p, 1),
                        "prompt_per_second": p / max(prompt_ms / 1000, 1e-9),
                        "predicted_n": n, "predicted_ms": predicted_ms,
                        "predicted_per_token_ms": predicted_ms / max(n, 1),
                        "predicted_per_second": n / max(predicted_ms / 1000, 1e-9)},
        }

    async def collect(self) -> dict[str, Any]:
        async for _ in self.deltas():
            pass
        return pick_fields(self.result(streamed=False), self.body.response_fields)

    async def stream(self) -> AsyncIterator[dict[str, Any]]:
        async for delta in self.deltas():
            yield {"index": 0, "content": delta, "tokens": [], "stop": False, "id_slot": -1,
                   "tokens_predicted": self.run.stats.completion_tokens,
                   "tokens_evaluated": self.run.stats.prompt_tokens}
        yield pick_fields(self.result(streamed=True), self.body.response_fields)


def _stop_type(update: ChoiceUpdate) -> tuple[str, str]:
    if update.stop_string is not None:
        return "word", update.stop_string
    return ("eos", "") if update.finish_reason == "stop" else ("limit", "")


def install(app: FastAPI, served: Served) -> None:
    @app.post("/infill")
    async def infill(body: InfillRequest, request: Request) -> Any:
        """llama.cpp's infill: the middle between input_prefix+prompt and input_suffix."""
        model = served.names[0]
        run = start_completion(served, "infill", to_completion(body, model), truncate=True,
                               protocol="/infill")
        tokenizer = served.facts.tokenizer if served.facts else None
        shaper = InfillShaper(body, run, model, tokenizer)
        if body.stream:
            return stream_response(shaper.stream(), LLAMA_SSE, run.finished)
        result = await until_disconnect(request, shaper.collect())
        run.finished()
        return result
