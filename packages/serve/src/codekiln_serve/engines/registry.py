"""Engine lookup: ``--engine NAME`` through the registry (built-ins and plugins alike)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codekiln_serve.engines.base import Engine
from codekiln_serve.settings import ServeSettings


def choose_engine_name(settings: ServeSettings) -> str:
    """``auto``: openai-http for URLs, vllm where it is installed and CUDA is there, else
    transformers."""
    if settings.engine != "auto":
        return settings.engine
    if settings.model.startswith(("http://", "https://")):
        return "openai-http"
    from codekiln_serve.engines.vllm_engine import vllm_available

    if vllm_available():
        import torch

        if torch.cuda.is_available():
            return "vllm"
    return "transformers"


def build_engine(settings: ServeSettings, model_dir: Path | None,
                 registry: Any | None = None) -> Engine:
    """Instantiate the registered engine: ``factory(settings, model_dir)``."""
    from codekiln_core.errors import ConfigError
    from codekiln_core.plugins import get_plugin_manager
    from codekiln_core.registry import Registry

    name = choose_engine_name(settings)
    reg = (registry or Registry(get_plugin_manager())).get("engine", name)
    engine = reg.obj(settings, model_dir)
    if not isinstance(engine, Engine):
        raise ConfigError(f"engine {name!r} (plugin {reg.plugin}) built a "
                          f"{type(engine).__name__}, not a codekiln_serve Engine")
    return engine
