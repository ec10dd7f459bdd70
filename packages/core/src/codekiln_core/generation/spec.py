"""Which generator to build: a model directory, a model already in memory, or an endpoint.

Stage packages never import the serving package; they describe what they want here and
:func:`open_generator` finds the engine through the ``generator`` registry, which
codekiln-serve (transformers, vLLM) and core itself (OpenAI-compatible endpoints) fill.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError

if TYPE_CHECKING:
    from codekiln_core.generation.types import Generator
    from codekiln_core.registry import Registry


@dataclass(frozen=True)
class GeneratorSpec:
    """Where samples come from and how the engine runs (fields unused by an engine are
    ignored by it)."""

    model: str | Path | None = None  # HF directory or http(s) endpoint URL
    engine: str = "auto"  # auto, transformers, vllm, openai or a plugin's generator
    loaded: tuple[Any, Any] | None = None  # (model, tokenizer) already in memory (GRPO)
    endpoint_model: str | None = None  # the model id an endpoint serves (default: its first)
    api_key: str | None = None
    concurrency: int = 8  # endpoint requests in flight
    timeout_s: float = 600.0
    retries: int = 4
    device: str = "auto"
    dtype: str = "auto"
    threads: int | None = None
    max_batch: int = 64  # sequences decoded together
    max_prefill_tokens: int = 4096
    gpu_memory_utilization: float = 0.9

    @property
    def is_endpoint(self) -> bool:
        return isinstance(self.model, str) and self.model.startswith(("http://", "https://"))

    def describe(self) -> str:
        if self.loaded is not None:
            return "the in-memory model"
        return str(self.model)


def engine_name(spec: GeneratorSpec) -> str:
    """``auto``: openai for URLs, vllm where it is installed and CUDA is there, else
    transformers (in-process continuous batching)."""
    if spec.engine != "auto":
        return spec.engine
    if spec.is_endpoint:
        return "openai"
    if spec.loaded is None and importlib.util.find_spec("vllm") is not None:
        import torch

        if torch.cuda.is_available():
            return "vllm"
    return "transformers"


def open_generator(spec: GeneratorSpec, registry: Registry | None = None) -> Generator:
    """Build the generator ``spec`` asks for through the registry (built-ins and plugins)."""
    from codekiln_core.plugins import get_plugin_manager
    from codekiln_core.registry import Registry

    if spec.model is None and spec.loaded is None:
        raise ConfigError("a generator needs a model: a directory, an endpoint URL or a "
                          "loaded (model, tokenizer)")
    name = engine_name(spec)
    registry = registry or Registry(get_plugin_manager())
    if name in ("transformers", "vllm") and name not in registry.all("generator"):
        raise ConfigError(f"generator {name!r} is codekiln-serve's, which is not installed; "
                          "install codekiln-serve (or sample from an endpoint URL)")
    reg = registry.get("generator", name)
    generator = reg.obj(spec)
    if not callable(getattr(generator, "generate", None)):
        raise ConfigError(f"generator {name!r} (plugin {reg.plugin}) built a "
                          f"{type(generator).__name__} without generate(requests)")
    return generator  # type: ignore[no-any-return]
