"""32 concurrent streaming clients: all finish, no 5xx, the batch is shared, memory bounded."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from codekiln_serve.testing import ServerThread

pytestmark = pytest.mark.slow

CLIENTS = 32
TOKENS = 48


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def _one(client: Any, model: str, i: int) -> tuple[str, int]:
    stream = await client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": f"task {i}: write code"}],
        max_tokens=TOKENS, temperature=0.8, seed=i, stream=True,
        stream_options={"include_usage": True}, extra_body={"ignore_eos": True})
    text, usage = "", 0
    async for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        if chunk.usage:
            usage = chunk.usage.completion_tokens
    return text, usage


async def _all(base_url: str, model: str) -> list[tuple[str, int]]:
    from codekiln_core.clients import async_openai_client

    client = async_openai_client(base_url, max_retries=0, timeout_s=300)
    try:
        return list(await asyncio.gather(*(_one(client, model, i) for i in range(CLIENTS))))
    finally:
        await client.close()


def test_32_streaming_clients(server: ServerThread, model_name: str) -> None:
    engine = server.built.engine
    rss_before = _rss_mib()
    results = asyncio.run(_all(server.base_url, model_name))  # any 5xx raises here
    assert len(results) == CLIENTS and all(u == TOKENS for _, u in results)
    assert engine.stats.max_batch_seen >= 16  # they shared decode steps
    again = asyncio.run(_all(server.base_url, model_name))
    assert [u for _, u in again] == [TOKENS] * CLIENTS
    assert _rss_mib() - rss_before < 512  # a second wave did not keep the first's memory
    metrics = __import__("httpx").get(f"{server.base_url}/metrics").text
    assert 'status="5' not in metrics
