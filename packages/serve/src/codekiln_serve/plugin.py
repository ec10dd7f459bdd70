"""codekiln-serve's plugin: the ``codekiln serve`` command and the built-in engines."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from codekiln_core.hookspecs import Register
    from codekiln_serve.settings import ServeSettings


@hookimpl
def codekiln_register_commands(register: Register) -> None:
    """``codekiln serve``: a server's lifetime, so a plain command that records its own run."""
    from codekiln_core.cli.contract import CliCommand
    from codekiln_serve.commands.serve import serve_command

    register("serve", CliCommand("serve", serve_command))


def transformers_engine(settings: ServeSettings, model_dir: Path | None) -> Any:
    from codekiln_serve.engines.transformers_engine import TransformersEngine

    assert model_dir is not None
    return TransformersEngine(settings, model_dir)


def vllm_engine(settings: ServeSettings, model_dir: Path | None) -> Any:
    from codekiln_serve.engines.vllm_engine import VllmEngine

    assert model_dir is not None
    return VllmEngine(settings, model_dir)


def openai_http_engine(settings: ServeSettings, model_dir: Path | None) -> Any:
    from codekiln_serve.engines.openai_http import OpenAIHTTPEngine

    return OpenAIHTTPEngine(settings, model_dir)


@hookimpl
def codekiln_register_engines(register: Register) -> None:
    register("transformers", transformers_engine,
             description="HF model in-process, continuous batching (CPU or GPU)")
    register("vllm", vllm_engine, description="vLLM AsyncLLM in-process (vllm extra, CUDA)")
    register("openai-http", openai_http_engine,
             description="pass-through to another OpenAI-compatible server")
