"""The serving engines as core :class:`~codekiln_core.generation.Generator` objects.

Samplers (eval, DPO pairs, GRPO rollouts, teacher labels) run on the same token engines as
``codekiln serve``, in this process and without HTTP: every sample of every request is
submitted at once, so the transformers engine decodes them together (continuous batching)
and vLLM schedules them as it does a server's. The engine lives on an event loop of its own
thread; ``generate`` is a plain blocking call. Stop strings and detokenization are the API
layer's own (:class:`~codekiln_serve.text.TextAssembler`), so samples read as served text.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from codekiln_core.errors import ConfigError
from codekiln_core.generation.types import GenerationRequest, Sample, sample_seed
from codekiln_serve.engines.base import GenerationRequest as TokenRequest
from codekiln_serve.engines.base import SequenceHandle, TokenEngine
from codekiln_serve.text import TextAssembler

if TYPE_CHECKING:
    from codekiln_core.generation.spec import GeneratorSpec
    from codekiln_serve.settings import ServeSettings

T = TypeVar("T")
QUEUE_LIMIT = 1 << 20  # a sampler submits whole batches; the engine admits max_batch at once


class EngineGenerator:
    """Any token engine (transformers, vLLM, a plugin's) as a blocking batch generator."""

    def __init__(self, engine: TokenEngine) -> None:
        self.engine = engine
        self.tokenizer = engine.tokenizer
        self.model_name = engine.model_id
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="codekiln-generator-loop")
        self._thread.start()
        self._run(engine.start())

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def prompt_ids(self, request: GenerationRequest) -> list[int]:
        """The request's prompt as token ids, keeping its end if it would overflow."""
        if request.prompt_ids is not None:
            ids = list(request.prompt_ids)
        else:
            if request.messages is not None:
                if not getattr(self.tokenizer, "chat_template", None):
                    raise ConfigError(f"model {self.model_name} has no chat template; give "
                                      "it plain prompts (completion mode)")
                text = str(self.tokenizer.apply_chat_template(
                    request.messages, tokenize=False, add_generation_prompt=True))
            else:
                text = request.prompt or ""
            ids = list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        if request.suffix is not None:
            raise ConfigError("an in-process engine takes FIM prompts as prompt_ids laid out "
                              "by codekiln_core.fim, not as a suffix")
        room = max(1, self.engine.context_length - request.params.max_new_tokens)
        return ids[-room:]

    def token_requests(self, request: GenerationRequest) -> list[TokenRequest]:
        p, ids = request.params, self.prompt_ids(request)
        return [TokenRequest(
            prompt_ids=ids, max_tokens=p.max_new_tokens, temperature=p.temperature,
            top_p=p.top_p, top_k=p.top_k, repetition_penalty=p.repetition_penalty,
            seed=None if request.seed is None else sample_seed(request.seed, j),
            stop_token_ids=self.engine.eos_token_ids, logprobs=0 if p.logprobs else None)
            for j in range(request.n)]

    def generate(self, requests: Sequence[GenerationRequest]) -> list[list[Sample]]:
        return self._run(self._generate(list(requests)))

    async def _generate(self, requests: list[GenerationRequest]) -> list[list[Sample]]:
        flat = [(r, t) for r in requests for t in self.token_requests(r)]
        # shortest prompts first: rows decoded together then have similar lengths, so the
        # batch's shared, left-padded cache wastes little (each sample keeps its own seed)
        order = sorted(range(len(flat)), key=lambda i: len(flat[i][1].prompt_ids))
        handles = self.engine.submit([flat[i][1] for i in order])
        try:
            collected = await asyncio.gather(*(self._collect(h, flat[i][0]) for h, i in
                                               zip(handles, order, strict=True)))
        finally:
            for handle in handles:
                handle.cancel()
        samples = [s for _, s in sorted(zip(order, collected, strict=True),
                                        key=lambda pair: pair[0])]  # back in request order
        out: list[list[Sample]] = []
        for r in requests:
            out.append(samples[:r.n])
            samples = samples[r.n:]
        return out

    async def _collect(self, handle: SequenceHandle, request: GenerationRequest) -> Sample:
        text = TextAssembler(self.tokenizer, list(request.params.stop))
        ids: list[int] = []
        logprobs: list[float] = []
        finish = "length"
        async for event in handle.events():
            if event.token_id is not None:
                ids.append(event.token_id)
                logprobs.append(float(event.logprob or 0.0))
                if event.finish_reason != "stop":  # a stop token is not text
                    text.add(event.token_id)
                if text.stopped:
                    finish = "stop"
                    handle.cancel()
                    break
            if event.finish_reason is not None:
                finish = event.finish_reason
                break
        text.finish()
        return Sample(text.text, tuple(ids), tuple(logprobs) if request.params.logprobs
                      else None, "stop" if finish == "stop" else "length")

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._run(self.engine.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()


def settings_for(spec: GeneratorSpec, engine: str) -> ServeSettings:
    """The serve settings an in-process generator runs its engine with."""
    from codekiln_serve.settings import ServeSettings

    return ServeSettings(model=str(spec.model or "model"), engine=engine, device=spec.device,  # type: ignore[arg-type]
                         dtype=spec.dtype, threads=spec.threads,  # type: ignore[arg-type]
                         max_batch=spec.max_batch, max_queue=QUEUE_LIMIT,
                         max_prefill_tokens=spec.max_prefill_tokens,
                         gpu_memory_utilization=spec.gpu_memory_utilization, lineage=False)


def model_dir(spec: GeneratorSpec) -> Path:
    path = Path(str(spec.model))
    if not (path / "config.json").exists():
        raise ConfigError(f"model {path}: no config.json; pass a Hugging Face model directory "
                          "(save_pretrained output) or an http(s) endpoint")
    return path


def transformers_generator(spec: GeneratorSpec) -> EngineGenerator:
    """The continuous-batching scheduler over a model directory or a model in memory."""
    from codekiln_serve.engines.transformers_engine import TransformersEngine

    settings = settings_for(spec, "transformers")
    if spec.loaded is not None:
        model, tokenizer = spec.loaded
        return EngineGenerator(TransformersEngine.from_loaded(model, tokenizer, settings))
    return EngineGenerator(TransformersEngine(settings, model_dir(spec)))


def vllm_generator(spec: GeneratorSpec) -> EngineGenerator:  # pragma: no cover - needs CUDA
    """vLLM's AsyncLLM in this process (the vllm extra, a CUDA GPU)."""
    from codekiln_serve.engines.vllm_engine import VllmEngine

    if spec.loaded is not None:
        raise ConfigError("the vllm generator loads its own weights; give it a model "
                          "directory, or use engine transformers for a model in memory")
    return EngineGenerator(VllmEngine(settings_for(spec, "vllm"), model_dir(spec)))
