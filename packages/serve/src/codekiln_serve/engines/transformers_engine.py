"""The ``transformers`` engine: a Hugging Face causal LM in this process, on CPU or one GPU,
behind the continuous-batching scheduler."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from codekiln_core.errors import ConfigError
from codekiln_serve.engines.base import EngineStats, GenerationRequest, SequenceHandle, TokenEngine
from codekiln_serve.scheduler import ContinuousBatcher
from codekiln_serve.settings import ServeSettings


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_dtype(dtype: str, device: str) -> Any:
    import torch

    if dtype == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    return getattr(torch, dtype)


def eos_ids(model: Any, tokenizer: Any) -> frozenset[int]:
    ids: set[int] = set()
    for source in (getattr(model, "generation_config", None), model.config):
        value = getattr(source, "eos_token_id", None) if source is not None else None
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, list | tuple):
            ids.update(int(v) for v in value)
    if tokenizer.eos_token_id is not None:
        ids.add(int(tokenizer.eos_token_id))
    return frozenset(ids)


def load_tokenizer(path: Path) -> Any:
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(path))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"MODEL {path}: cannot load its tokenizer ({exc}); a served model "
                          "directory needs tokenizer.json / tokenizer_config.json") from exc


class TransformersEngine(TokenEngine):
    """In-process HF model; concurrent requests share decode steps (continuous batching)."""

    def __init__(self, settings: ServeSettings, model_dir: Path) -> None:
        from transformers import AutoModelForCausalLM

        from codekiln_core.threads import use_threads

        use_threads(settings.threads, load_aware=True)
        device = resolve_device(settings.device)
        tokenizer = load_tokenizer(model_dir)
        try:
            model = AutoModelForCausalLM.from_pretrained(
                str(model_dir), dtype=resolve_dtype(settings.dtype, device))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"MODEL {model_dir}: cannot load it as a causal LM ({exc})") from exc
        self._attach(model.to(device).eval(), tokenizer, model_dir.name, settings)

    @classmethod
    def from_loaded(cls, model: Any, tokenizer: Any, settings: ServeSettings,
                    name: str = "model") -> TransformersEngine:
        """An engine over a model already in memory (a policy being trained): its weights
        are shared, not copied, so samples always come from the current parameters."""
        engine = cls.__new__(cls)
        engine._attach(model, tokenizer, name, settings)
        return engine

    def _attach(self, model: Any, tokenizer: Any, name: str, settings: ServeSettings) -> None:
        config = model.config.get_text_config()
        if getattr(config, "sliding_window", None) and getattr(config, "use_sliding_window",
                                                               True):
            raise ConfigError(f"MODEL {name}: sliding-window attention is not supported "
                              "by the transformers engine's batched cache; use --engine vllm")
        self.model, self.tokenizer, self.model_id = model, tokenizer, name
        self.context_length = int(getattr(config, "max_position_embeddings", 2048) or 2048)
        self.eos_token_ids = eos_ids(model, tokenizer)
        self.stats = EngineStats()
        self.batcher = ContinuousBatcher(
            model, max_batch=settings.max_batch, max_queue=settings.max_queue,
            max_prefill_tokens=settings.max_prefill_tokens,
            context_length=self.context_length, stats=self.stats)
        self.device = str(next(model.parameters()).device)

    async def start(self) -> None:
        self.batcher.start()

    async def stop(self) -> None:
        import asyncio

        await asyncio.to_thread(self.batcher.stop)

    def submit(self, requests: Sequence[GenerationRequest]) -> list[SequenceHandle]:
        return self.batcher.submit(requests)

    def queue_depth(self) -> int:
        return self.batcher.queue_depth()

    def running(self) -> int:
        return self.batcher.running()

    def health(self) -> dict[str, Any]:
        error = self.batcher.error
        return {"engine": "transformers", "device": self.device,
                "last_step_error": None if error is None else f"{type(error).__name__}: {error}",
                "running": self.running(), "waiting": self.queue_depth()}
