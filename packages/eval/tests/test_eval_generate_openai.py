"""OpenAIGenerator on the core openai client against a local stdlib HTTP stand-in."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from codekiln_eval.generate.base import Prompt, SamplingParams
from codekiln_eval.generate.openai import GenerationError, OpenAIGenerator

Reply = tuple[int, dict[str, Any], dict[str, str]]  # status, JSON body, headers


class StandIn:
    """Answers each POST with the next scripted reply (the last one repeats); logs requests."""

    def __init__(self, script: list[Callable[[dict[str, Any]], Reply]]) -> None:
        self.script, self.requests, self.times = script, [], []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, payload: dict[str, Any],
                      headers: dict[str, str]) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._send(200, {"object": "list", "data": [{"id": "served-model",
                                 "object": "model", "created": 0, "owned_by": "me"}]}, {})

            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stand_in.requests.append(request)
                stand_in.times.append(time.monotonic())
                step = stand_in.script[min(len(stand_in.requests) - 1,
                                           len(stand_in.script) - 1)]
                self._send(*step(request))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def completions(texts: list[str]) -> Reply:
    choices = [{"index": i, "text": t, "finish_reason": "stop", "logprobs": None}
               for i, t in enumerate(texts)]
    return 200, {"id": "c", "object": "text_completion", "created": 0, "model": "m",
                 "choices": choices}, {}


def ok(request: dict[str, Any]) -> Reply:
    return completions([f"sample {i}" for i in range(int(request.get("n", 1)))])


@pytest.fixture
def serve() -> Iterator[Callable[..., StandIn]]:
    started: list[StandIn] = []

    def start(*script: Callable[[dict[str, Any]], Reply]) -> StandIn:
        started.append(StandIn(list(script)))
        return started[-1]

    yield start
    for server in started:
        server.close()


PARAMS = SamplingParams(temperature=0.2, max_tokens=8, stop=("\ndef",))


def test_served_model_and_sampling_fields_are_sent(serve: Callable[..., StandIn]) -> None:
    server = serve(ok)
    gen = OpenAIGenerator(server.url, retries=0)
    assert gen.model_name == "served-model"
    assert gen.generate(Prompt("t", text="def f():"), 2, PARAMS) == ["sample 0", "sample 1"]
    sent = server.requests[0]
    assert (sent["model"], sent["n"], sent["prompt"], sent["stop"]) == (
        "served-model", 2, "def f():", ["\ndef"])
    assert sent["repetition_penalty"] == PARAMS.repetition_penalty  # extra body field
    gen.close()


def test_retry_after_is_honoured(serve: Callable[..., StandIn]) -> None:
    def busy(_request: dict[str, Any]) -> Reply:
        return 429, {"error": {"message": "slow down"}}, {"Retry-After": "1"}

    server = serve(busy, ok)
    gen = OpenAIGenerator(server.url, model="m", retries=2)
    assert gen.generate(Prompt("t", text="x"), 1, PARAMS) == ["sample 0"]
    assert len(server.requests) == 2
    assert server.times[1] - server.times[0] >= 0.9  # waited as the server asked
    gen.close()


def test_rejected_repetition_penalty_is_dropped_once(serve: Callable[..., StandIn]) -> None:
    def strict(request: dict[str, Any]) -> Reply:
        if "repetition_penalty" in request:
            return 400, {"error": {"message": "unknown field repetition_penalty"}}, {}
        return ok(request)

    server = serve(strict)
    gen = OpenAIGenerator(server.url, model="m", retries=0)
    assert gen.generate(Prompt("a", text="x"), 1, PARAMS) == ["sample 0"]
    assert gen.generate(Prompt("b", text="x"), 1, PARAMS) == ["sample 0"]
    assert ["repetition_penalty" in r for r in server.requests] == [True, False, False]
    gen.close()


def test_servers_ignoring_n_are_asked_until_n_arrive(serve: Callable[..., StandIn]) -> None:
    server = serve(lambda _r: completions(["one"]))
    gen = OpenAIGenerator(server.url, model="m", retries=0)
    assert gen.generate(Prompt("t", text="x"), 3, PARAMS) == ["one", "one", "one"]
    assert [r["n"] for r in server.requests] == [3, 2, 1]
    gen.close()


def test_chat_prompts_use_chat_completions(serve: Callable[..., StandIn]) -> None:
    def chat(_request: dict[str, Any]) -> Reply:
        return 200, {"id": "c", "object": "chat.completion", "created": 0, "model": "m",
                     "choices": [{"index": 0, "finish_reason": "stop", "message": {
                         "role": "assistant", "content": "```python\npass\n```"}}]}, {}

    server = serve(chat)
    gen = OpenAIGenerator(server.url, model="m", retries=0)
    prompt = Prompt("t", messages=[{"role": "user", "content": "write"}])
    assert gen.generate(prompt, 1, PARAMS) == ["```python\npass\n```"]
    assert server.requests[0]["messages"][0]["content"] == "write"
    gen.close()


def test_persistent_server_errors_are_one_line(serve: Callable[..., StandIn]) -> None:
    server = serve(lambda _r: (503, {"error": {"message": "down"}}, {"Retry-After": "0"}))
    gen = OpenAIGenerator(server.url, model="m", retries=1)
    with pytest.raises(GenerationError) as err:
        gen.generate(Prompt("t", text="x"), 1, PARAMS)
    assert "HTTP 503 after 2 tries" in str(err.value) and "\n" not in str(err.value)
    assert len(server.requests) == 2
    gen.close()
