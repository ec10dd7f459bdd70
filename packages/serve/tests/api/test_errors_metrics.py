"""Refusals in OpenAI's error shape with the right status, never a 5xx for client input;
/health open, everything else behind the key; /metrics in Prometheus format."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from codekiln_serve.testing import ServerThread

pytestmark = pytest.mark.slow


def _error(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body["error"]) >= {"message", "type", "param", "code"}
    assert "\n" not in body["error"]["message"]
    return dict(body["error"])


def test_unknown_model_route_and_bad_field(server: ServerThread, model_name: str) -> None:
    base = server.base_url
    err = _error(httpx.post(f"{base}/v1/completions", json={"model": "nope", "prompt": "x"}),
                 404)
    assert err["code"] == "model_not_found" and model_name in err["message"]
    _error(httpx.get(f"{base}/v1/nothing"), 404)
    err = _error(httpx.post(f"{base}/v1/completions", json={"model": model_name,
                                                            "prompt": "x", "n": "many"}), 422)
    assert err["param"] == "n"
    _error(httpx.post(f"{base}/v1/completions", content=b"{not json",
                      headers={"content-type": "application/json"}), 422)


def test_context_overflow_is_named(server: ServerThread, model_name: str) -> None:
    ctx = server.built.facts.context_length
    err = _error(httpx.post(f"{server.base_url}/v1/completions", json={
        "model": model_name, "prompt": "x", "max_tokens": ctx + 5}), 400)
    assert err["code"] == "context_length_exceeded" and str(ctx) in err["message"]
    err = _error(httpx.post(f"{server.base_url}/v1/completions", json={
        "model": model_name, "prompt": [5] * (ctx + 1)}), 400)
    assert err["code"] == "context_length_exceeded"


def test_oversized_body_is_413(server: ServerThread, model_name: str) -> None:
    huge = "x" * (server.settings.max_body_bytes + 10)
    _error(httpx.post(f"{server.base_url}/v1/completions", json={"model": model_name,
                                                                 "prompt": huge}), 413)


def test_bad_token_ids_and_logit_bias_are_400(server: ServerThread, model_name: str) -> None:
    base = server.base_url
    _error(httpx.post(f"{base}/v1/completions", json={"model": model_name,
                                                      "prompt": [10**6]}), 400)
    _error(httpx.post(f"{base}/v1/completions", json={"model": model_name, "prompt": "x",
                                                      "logit_bias": {"abc": 1}}), 400)


def test_metrics_count_requests_tokens_latency_and_queue(server: ServerThread,
                                                         model_name: str) -> None:
    httpx.post(f"{server.base_url}/v1/completions", json={"model": model_name, "prompt": "x",
                                                          "max_tokens": 2}).raise_for_status()
    text = httpx.get(f"{server.base_url}/metrics").text
    for name in ("codekiln_serve_requests_total", "codekiln_serve_prompt_tokens_total",
                 "codekiln_serve_generation_tokens_total",
                 "codekiln_serve_request_latency_seconds_bucket",
                 "codekiln_serve_time_to_first_token_seconds_bucket",
                 "codekiln_serve_queue_depth", "codekiln_serve_running_sequences"):
        assert name in text
    assert 'route="/v1/completions",status="200"' in text


@pytest.fixture(scope="module")
def guarded(tiny_model_dir: Path) -> Iterator[ServerThread]:
    """A second server: API key, one sequence at a time, a queue of one."""
    from codekiln_serve.settings import ServeSettings

    settings = ServeSettings(model=str(tiny_model_dir), engine="transformers", port=0,
                             lineage=False, api_key="s3cret", max_batch=1, max_queue=1,
                             threads=1)
    with ServerThread(settings) as srv:
        yield srv


def test_key_required_everywhere_but_health(guarded: ServerThread) -> None:
    name = guarded.built.names[0]
    base = guarded.base_url
    assert httpx.get(f"{base}/health").status_code == 200
    for path in ("/v1/models", "/metrics"):
        _error(httpx.get(base + path), 401)
    _error(httpx.post(f"{base}/v1/completions", json={"model": name, "prompt": "x"},
                      headers={"Authorization": "Bearer wrong"}), 401)
    ok = httpx.post(f"{base}/v1/completions", json={"model": name, "prompt": "x",
                                                    "max_tokens": 1},
                    headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200


def _wait_for(condition: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


def test_full_queue_is_503_with_retry_after(guarded: ServerThread,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's step loop is held, so the first request stays queued (queue of one):
    the next finds the queue full (503, retry later); the first is served once released."""
    name, batcher = guarded.built.names[0], guarded.built.engine.batcher
    auth = {"Authorization": "Bearer s3cret"}
    release, step = threading.Event(), batcher._step

    def held_step() -> None:
        release.wait(120)
        step()

    monkeypatch.setattr(batcher, "_step", held_step)
    waiting: list[httpx.Response] = []
    first = threading.Thread(target=lambda: waiting.append(httpx.post(
        f"{guarded.base_url}/v1/completions", json={"model": name, "prompt": "y",
                                                    "max_tokens": 1},
        headers=auth, timeout=120)))
    first.start()
    try:
        _wait_for(lambda: batcher.queue_depth() == 1, "the first request waits")
        resp = httpx.post(f"{guarded.base_url}/v1/completions", headers=auth,
                          json={"model": name, "prompt": "z", "max_tokens": 1})
        err = _error(resp, 503)
        assert err["code"] == "queue_full" and resp.headers["retry-after"] == "1"
    finally:
        release.set()
        first.join(timeout=120)
    assert waiting and waiting[0].status_code == 200


def test_a_request_that_can_never_fit_is_400_not_503(guarded: ServerThread) -> None:
    """n x prompts above --max-queue would never be admitted: retrying cannot help."""
    name = guarded.built.names[0]
    resp = httpx.post(f"{guarded.base_url}/v1/completions",
                      json={"model": name, "prompt": "x", "n": 3, "max_tokens": 1},
                      headers={"Authorization": "Bearer s3cret"})
    err = _error(resp, 400)
    assert err["code"] == "request_too_large" and "retry-after" not in resp.headers
    assert "3 sequences" in err["message"] and "--max-queue" in err["message"]


@pytest.mark.parametrize(("body", "field"), [
    (b'{"model": "M", "prompt": "a\\ud800b", "max_tokens": 1}', "prompt"),
    (b'{"model": "M", "prompt": ["ok", "\\udfff"], "max_tokens": 1}', "prompt"),
    (b'{"model": "M", "messages": [{"role": "user", "content": "x\\udc00"}]}', "messages"),
])
def test_lone_surrogates_are_400_naming_the_field(server: ServerThread, model_name: str,
                                                  body: bytes, field: str) -> None:
    route = "/v1/chat/completions" if b"messages" in body else "/v1/completions"
    with httpx.Client(timeout=60) as http:  # one keep-alive connection for both requests
        resp = http.post(server.base_url + route, headers={"content-type": "application/json"},
                         content=body.replace(b"M", model_name.encode()))
        err = _error(resp, 400)
        assert err["param"] == field and "surrogate" in err["message"]
        assert err["code"] == "unencodable_text"
        ok = http.post(f"{server.base_url}/v1/completions",  # the connection still serves
                       json={"model": model_name, "prompt": "a\U0001F600b", "max_tokens": 1})
        assert ok.status_code == 200


def test_prompt_list_limit_is_named(server: ServerThread, model_name: str) -> None:
    resp = httpx.post(f"{server.base_url}/v1/completions",
                      json={"model": model_name, "prompt": ["a"] * 65, "max_tokens": 1})
    err = _error(resp, 422)
    assert err["param"] == "prompt" and "at most 64 prompts, got 65" in err["message"]
    ids = httpx.post(f"{server.base_url}/v1/completions",  # one long token-id prompt is fine
                     json={"model": model_name, "prompt": [7] * 65, "max_tokens": 1})
    assert ids.status_code == 200
