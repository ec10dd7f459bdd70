"""The ``vllm`` engine: vLLM's AsyncLLM in this process (the ``vllm`` extra, CUDA only).

vLLM only generates: prompts reach it as token ids built by our translation code (FIM,
chat template, defaults), stop strings and detokenization stay in our API layer, so this
engine and the transformers one answer the same request alike. vLLM is imported when the
engine is built, never at import time.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from codekiln_core.errors import ConfigError
from codekiln_serve.engines.base import (
    EngineStats,
    GenerationRequest,
    QueueFullError,
    RequestTooLargeError,
    SequenceHandle,
    TokenEngine,
    TokenEvent,
)
from codekiln_serve.engines.transformers_engine import load_tokenizer
from codekiln_serve.settings import ServeSettings


def vllm_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("vllm") is not None


def sampling_kwargs(req: GenerationRequest) -> dict[str, Any]:
    """Keyword arguments of ``vllm.SamplingParams`` (0.31 field names) for one sequence.

    ``detokenize=False`` and no ``stop``: our API layer decodes and applies stop strings for
    every engine. Output comes as deltas, one sequence per request (n is ours to fan out).
    """
    kwargs: dict[str, Any] = {
        "n": 1,
        "temperature": req.temperature,
        "top_p": req.top_p,
        "top_k": req.top_k if req.top_k > 0 else 0,
        "repetition_penalty": req.repetition_penalty,
        "presence_penalty": req.presence_penalty,
        "frequency_penalty": req.frequency_penalty,
        "seed": req.seed,
        "max_tokens": req.max_tokens,
        "stop_token_ids": sorted(req.stop_token_ids),
        "ignore_eos": req.ignore_eos,
        "logprobs": req.logprobs,
        "prompt_logprobs": 0 if req.prompt_logprobs else None,
        "detokenize": False,
        "skip_special_tokens": True,
    }
    if req.logit_bias:
        kwargs["logit_bias"] = dict(req.logit_bias)
    return kwargs


def engine_kwargs(settings: ServeSettings, model_dir: Path) -> dict[str, Any]:
    """Keyword arguments of ``vllm.engine.arg_utils.AsyncEngineArgs``."""
    dtype = "auto" if settings.dtype == "auto" else settings.dtype
    return {
        "model": str(model_dir),
        "tokenizer": str(model_dir),
        "dtype": dtype,
        "tensor_parallel_size": settings.tensor_parallel_size,
        "gpu_memory_utilization": settings.gpu_memory_utilization,
        "max_num_seqs": settings.max_batch,
        "served_model_name": [settings.served_model_name or model_dir.name],
        "disable_log_stats": True,
    }


def events_of(output: Any, first: bool, top_k: int | None = None) -> list[TokenEvent]:
    """Our token events from one (delta) vLLM ``RequestOutput``."""
    completion = output.outputs[0]
    ids = list(completion.token_ids)
    logprobs = list(completion.logprobs or [])
    finish = completion.finish_reason if completion.finish_reason in ("stop", "length") else (
        "stop" if completion.finish_reason else None)
    prompt_lps = None
    if first and getattr(output, "prompt_logprobs", None):
        prompt_lps = tuple(None if entry is None else float(
            next(iter(entry.values())).logprob) for entry in output.prompt_logprobs)
    events: list[TokenEvent] = []
    for i, token in enumerate(ids):
        lp, top = None, ()
        if i < len(logprobs) and logprobs[i]:
            entry = logprobs[i]
            lp = float(entry[token].logprob) if token in entry else None
            ranked = sorted(((int(t), float(v.logprob)) for t, v in entry.items()),
                            key=lambda item: -item[1])
            top = tuple(ranked[:top_k or 0])  # the sampled token is added even off the top k
        events.append(TokenEvent(token, lp, top, finish if i == len(ids) - 1 else None,
                                 prompt_lps if i == 0 else None))
    if not events and finish is not None:
        events.append(TokenEvent(None, finish_reason=finish, prompt_logprobs=prompt_lps))
    return events


class _VllmHandle(SequenceHandle):
    def __init__(self, engine: VllmEngine, request: GenerationRequest) -> None:
        self._engine, self._request = engine, request
        self.request_id = f"ck-{uuid.uuid4().hex}"
        self._cancelled = False
        self._counted = True
        engine.in_flight += 1

    def _release(self) -> None:
        if self._counted:
            self._counted = False
            self._engine.in_flight -= 1

    async def events(self) -> AsyncIterator[TokenEvent]:
        from vllm import SamplingParams
        from vllm.sampling_params import RequestOutputKind

        params = SamplingParams(**sampling_kwargs(self._request),
                                output_kind=RequestOutputKind.DELTA)
        prompt = {"prompt_token_ids": list(self._request.prompt_ids)}
        first = True
        try:
            async for output in self._engine.llm.generate(prompt, params, self.request_id):
                for event in events_of(output, first, self._request.logprobs):
                    self._engine.stats.generated_tokens += event.token_id is not None
                    yield event
                first = False
        finally:
            self._release()

    def cancel(self) -> None:
        self._release()
        if not self._cancelled:
            self._cancelled = True
            import asyncio

            task = asyncio.ensure_future(self._engine.llm.abort(self.request_id))
            self._engine.pending_aborts.add(task)
            task.add_done_callback(self._engine.pending_aborts.discard)


class VllmEngine(TokenEngine):
    """vLLM's paged attention and continuous batching, under our API layer."""

    def __init__(self, settings: ServeSettings, model_dir: Path) -> None:
        if not vllm_available():
            raise ConfigError("--engine vllm needs the vllm extra: `uv sync --extra vllm` (or "
                              "`pip install codekiln-serve[vllm]`) on a CUDA machine; use "
                              "--engine transformers elsewhere")
        from transformers import AutoConfig

        self.settings, self.model_dir = settings, model_dir
        self.tokenizer = load_tokenizer(model_dir)
        config = AutoConfig.from_pretrained(str(model_dir)).get_text_config()
        self.context_length = int(getattr(config, "max_position_embeddings", 2048))
        eos = {self.tokenizer.eos_token_id} if self.tokenizer.eos_token_id is not None else set()
        self.eos_token_ids = frozenset(int(e) for e in eos)
        self.model_id = model_dir.name
        self.stats = EngineStats()
        self.in_flight = 0
        self.pending_aborts: set[Any] = set()
        self.llm: Any = None

    async def start(self) -> None:
        from vllm.engine.arg_utils import AsyncEngineArgs
        from vllm.v1.engine.async_llm import AsyncLLM

        self.llm = AsyncLLM.from_engine_args(AsyncEngineArgs(**engine_kwargs(self.settings,
                                                                             self.model_dir)))

    async def stop(self) -> None:
        if self.llm is not None:
            self.llm.shutdown()

    def submit(self, requests: Sequence[GenerationRequest]) -> list[SequenceHandle]:
        limit = self.settings.max_queue + self.settings.max_batch
        if len(requests) > limit:
            raise RequestTooLargeError(len(requests), limit, "--max-queue + --max-batch")
        if self.in_flight + len(requests) > limit:
            raise QueueFullError(f"{self.in_flight} sequences in flight, limit {limit}")
        return [_VllmHandle(self, r) for r in requests]

    def running(self) -> int:
        return min(self.in_flight, self.settings.max_batch)

    def queue_depth(self) -> int:
        return max(0, self.in_flight - self.settings.max_batch)
