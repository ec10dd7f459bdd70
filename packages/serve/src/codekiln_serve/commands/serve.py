"""``codekiln serve MODEL``: kept light (typer only) so ``codekiln --help`` stays fast."""

from __future__ import annotations

from typing import Annotated

import typer

from codekiln_core.cli.options import NoLineage

_HELP = """Serve MODEL behind an OpenAI-compatible API: /v1/completions (with FIM `suffix`),
/v1/chat/completions, streaming, /v1/models, /health and /metrics; and for editors llama.cpp's
/infill, Ollama's /api/generate (with /api/tags, /api/show) and /v1/fim/completions.

MODEL is a Hugging Face directory, models:/NAME/VERSION from the MLflow store, or (with
--engine openai-http) another server's URL. Binds 127.0.0.1 unless --host says otherwise."""


def serve_command(
    model: Annotated[str, typer.Argument(help="HF model dir, models:/NAME/VERSION, or a URL "
                                              "(openai-http)")],
    engine: Annotated[str, typer.Option(help="auto, transformers, vllm, openai-http or a "
                                             "plugin's engine")] = "auto",
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0: any free port)")] = 8000,
    api_key: Annotated[str | None, typer.Option(
        envvar="CODEKILN_SERVE_API_KEY", show_envvar=True,
        help="require 'Authorization: Bearer KEY' on every route but /health")] = None,
    served_model_name: Annotated[str | None, typer.Option(
        help="model id clients use (default: the directory name)")] = None,
    max_queue: Annotated[int, typer.Option(help="waiting sequences before 503")] = 256,
    max_batch: Annotated[int, typer.Option(help="sequences decoded together")] = 32,
    max_prefill_tokens: Annotated[int, typer.Option(help="prompt tokens per prefill step")] =
        4096,
    fim_layout: Annotated[str, typer.Option(help="FIM order for `suffix`: spm (Seed-Coder) "
                                                 "or psm")] = "spm",
    fim_context_tokens: Annotated[int, typer.Option(help="repository context per FIM prompt, in "
                                                         "tokens")] = 2048,
    defaults: Annotated[str, typer.Option(help="chat sampling defaults: auto, seed-coder or "
                                               "none")] = "auto",
    dtype: Annotated[str, typer.Option(help="auto (fp32 CPU, bf16 CUDA), float32, bfloat16, "
                                            "float16")] = "auto",
    device: Annotated[str, typer.Option(help="auto, cpu or cuda (transformers)")] = "auto",
    threads: Annotated[int | None, typer.Option(help="torch CPU threads")] = None,
    tensor_parallel_size: Annotated[int, typer.Option(help="vllm: GPUs per model")] = 1,
    upstream_api_key: Annotated[str | None, typer.Option(
        envvar="CODEKILN_UPSTREAM_API_KEY", help="openai-http: the upstream's key")] = None,
    no_lineage: NoLineage = False,
) -> None:
    """Serve MODEL behind an OpenAI-compatible API (transformers, vLLM or pass-through)."""
    from codekiln_core.cli.options import echo_run
    from codekiln_core.config import validate
    from codekiln_serve.server import serve
    from codekiln_serve.settings import ServeSettings

    settings = validate(dict(
        model=model, engine=engine, host=host, port=port, api_key=api_key,
        served_model_name=served_model_name, max_queue=max_queue, max_batch=max_batch,
        max_prefill_tokens=max_prefill_tokens, fim_layout=fim_layout,
        fim_context_tokens=fim_context_tokens, defaults=defaults,
        dtype=dtype, device=device, threads=threads, tensor_parallel_size=tensor_parallel_size,
        upstream_api_key=upstream_api_key, lineage=not no_lineage,
    ), ServeSettings, source="codekiln serve")

    def ready(url: str, built: object) -> None:
        names = getattr(built, "names", ["?"])
        typer.echo(f"serving {names[0]} at {url}/v1 (engine {settings.engine}); Ctrl-C stops",
                   err=True)

    serve(settings, on_ready=ready, on_run=echo_run)


serve_command.__doc__ = _HELP
