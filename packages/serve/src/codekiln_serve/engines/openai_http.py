"""The ``openai-http`` engine: forward requests to another OpenAI-compatible server.

Useful to put our API key, metrics and limits in front of a remote vLLM/SGLang/TGI, or to
chain codekiln servers. Requests go out through core's one client
(:func:`codekiln_core.clients.async_openai_client`); an upstream 4xx comes back as the same
status with its message, an unreachable upstream as 503.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from codekiln_serve.api.errors import APIError
from codekiln_serve.engines.base import PassthroughEngine
from codekiln_serve.settings import ServeSettings

#: Fields the openai client takes as arguments; anything else travels in ``extra_body``.
_COMPLETION_ARGS = {"model", "prompt", "suffix", "max_tokens", "temperature", "top_p", "n",
                    "stream", "stream_options", "stop", "seed", "presence_penalty",
                    "frequency_penalty", "logit_bias", "user", "echo", "logprobs", "best_of"}
_CHAT_ARGS = {"model", "messages", "max_tokens", "max_completion_tokens", "temperature",
              "top_p", "n", "stream", "stream_options", "stop", "seed", "presence_penalty",
              "frequency_penalty", "logit_bias", "user", "logprobs", "top_logprobs"}


def split_body(route: str, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(client arguments, extra_body) for one request body."""
    known = _CHAT_ARGS if route == "chat/completions" else _COMPLETION_ARGS
    args = {k: v for k, v in body.items() if k in known}
    extra = {k: v for k, v in body.items() if k not in known}
    return args, extra


class OpenAIHTTPEngine(PassthroughEngine):
    def __init__(self, settings: ServeSettings, model_dir: Any = None) -> None:
        from codekiln_core.clients import async_openai_client

        self.upstream = settings.model
        self.client = async_openai_client(settings.model, api_key=settings.upstream_api_key,
                                          timeout_s=600.0, max_retries=2)
        self.model_id = settings.served_model_name or "upstream"

    async def models(self) -> list[str]:
        try:
            page = await self.client.models.list()
        except Exception as exc:
            raise _translate(exc) from exc
        return [m.id for m in page.data]

    async def forward(self, route: str, body: dict[str, Any]) -> Any:
        args, extra = split_body(route, body)
        create = (self.client.chat.completions.create if route == "chat/completions"
                  else self.client.completions.create)
        try:
            result = await create(**args, extra_body=extra or None)
        except Exception as exc:
            raise _translate(exc) from exc
        if args.get("stream"):
            return _chunks(result)
        return result.model_dump(mode="json", exclude_unset=True)

    async def stop(self) -> None:
        await self.client.close()

    def health(self) -> dict[str, Any]:
        return {"engine": "openai-http", "upstream": self.upstream}


async def _chunks(stream: Any) -> AsyncIterator[dict[str, Any]]:
    try:
        async for chunk in stream:
            yield chunk.model_dump(mode="json", exclude_unset=True)
    finally:
        await stream.close()


def _translate(exc: Exception) -> APIError:
    import openai

    if isinstance(exc, openai.APIStatusError) and 400 <= exc.status_code < 500:
        message = exc.message
        return APIError(exc.status_code, f"upstream: {message}")
    if isinstance(exc, openai.APIStatusError):
        return APIError(503, f"upstream answered {exc.status_code}: {exc.message}",
                        code="upstream_error")
    return APIError(503, f"upstream unreachable: {type(exc).__name__}: {exc}",
                    code="upstream_unreachable", headers={"Retry-After": "1"})
