"""What only eval asks of an endpoint beyond plain sampling (which is core's
:class:`~codekiln_core.generation.endpoint.EndpointGenerator`): the FIM layout a server
reports, and llama.cpp's ``/infill`` route.

FIM prompts go to ``/v1/completions`` as ``prompt`` + ``suffix`` (codekiln serve, DeepSeek's
beta API...) or, with ``fim_api="infill"``, to llama.cpp's ``/infill`` as ``input_prefix`` +
``input_suffix`` (one sample per request, as llama.cpp has no ``n``). The server lays the
prompt out; its layout is recorded when it reports one (codekiln serve's ``/health``).
"""

from __future__ import annotations

from typing import Any

from codekiln_core.generation.endpoint import GenerationError, error_text
from codekiln_eval.generate.base import Prompt, SamplingParams


def endpoint_fim(generator: Any, fim_api: str) -> dict[str, Any]:
    """How the endpoint lays out FIM prompts: its /health ``fim_layout`` when it has one."""
    route = "/infill" if fim_api == "infill" else "/v1/completions (suffix)"
    return {"layout": _server_layout(generator) or "the server's",
            "applied_by": f"endpoint {generator.root}{route}"}


def _server_layout(generator: Any) -> str | None:
    try:
        health = generator.client.get(f"{generator.root}/health", cast_to=object)
        layout = health.get("fim_layout") if isinstance(health, dict) else None
    except Exception:  # other servers: no such route or field
        return None
    return str(layout) if layout else None


def infill_samples(generator: Any, prompt: Prompt, n: int, params: SamplingParams,
                   ) -> list[str]:
    """``n`` llama.cpp /infill samples (llama.cpp's field names, one per request)."""
    import openai

    body: dict[str, Any] = {
        "input_prefix": prompt.text or "", "input_suffix": prompt.suffix or "",
        "n_predict": params.max_tokens, "temperature": params.temperature,
        "top_p": params.top_p, "stop": list(params.stop), "cache_prompt": True,
        "seed": params.seed if params.seed is not None else -1}
    if params.repetition_penalty != 1.0:
        body["repeat_penalty"] = params.repetition_penalty
    where = f"{generator.root}/infill"
    out = []
    for index in range(n):  # seeded: sample i asks with seed + i, so the n samples differ
        if params.seed is not None:
            body["seed"] = params.seed + index
        try:
            answer = generator.client.post(where, body=body, cast_to=object)
        except openai.APIStatusError as exc:
            raise GenerationError(f"{where}: HTTP {exc.status_code}: {error_text(exc)}") from exc
        except openai.APIConnectionError as exc:
            raise GenerationError(f"{where}: {type(exc).__name__}: {exc}; is the server "
                                  "up?") from exc
        if not isinstance(answer, dict) or "content" not in answer:
            raise GenerationError(f"{where}: no `content` in {str(answer)[:120]!r}")
        out.append(str(answer["content"]))
    return out
