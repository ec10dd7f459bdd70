"""A client that goes away stops costing compute: its sequences leave the batch and the
engine's count of generated tokens stops growing."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from codekiln_serve.testing import ServerThread

pytestmark = pytest.mark.slow

LONG = {"max_tokens": 900, "temperature": 0, "ignore_eos": True}


def _settled(engine: Any, timeout: float = 20.0) -> int:
    """Wait until no sequence runs or waits; the generated-token count then."""
    deadline = time.monotonic() + timeout
    while engine.running() or engine.queue_depth():
        assert time.monotonic() < deadline, "sequences kept running after the disconnect"
        time.sleep(0.05)
    return int(engine.stats.generated_tokens)


def test_streaming_client_disconnect_drops_the_sequence(server: ServerThread,
                                                        model_name: str) -> None:
    engine = server.built.engine
    before = _settled(engine)
    cancelled = engine.stats.cancelled_sequences
    body = {"model": model_name, "prompt": "def f():", "stream": True, "n": 2, **LONG}
    with httpx.Client(timeout=60) as http, http.stream(
            "POST", f"{server.base_url}/v1/completions", json=body) as resp:
        assert resp.status_code == 200
        seen = 0
        for line in resp.iter_lines():
            if line.startswith("data: {"):
                json.loads(line[6:])
                seen += 1
            if seen >= 5:
                break  # leave mid-stream: the connection closes here
    after = _settled(engine)
    assert engine.stats.cancelled_sequences >= cancelled + 2
    assert after - before < 2 * LONG["max_tokens"]  # far from finishing both
    time.sleep(0.5)
    assert engine.stats.generated_tokens == after  # nothing generates for it any more


def test_non_streaming_client_disconnect_drops_the_sequence(server: ServerThread,
                                                            model_name: str) -> None:
    engine = server.built.engine
    before = _settled(engine)
    body = {"model": model_name, "prompt": "import os", **LONG}
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{server.base_url}/v1/completions", json=body, timeout=0.5)
    after = _settled(engine)
    assert after - before < LONG["max_tokens"]
