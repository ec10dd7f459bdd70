"""A real HTTP server playing an OpenAI-compatible LLM, for tests that need a stand-in endpoint
(a hosted teacher, a remote policy, a vLLM server we do not run).

It answers ``GET /v1/models`` and every POST (``/v1/completions``, ``/v1/chat/completions``,
``/infill``...) with the next step of a script: a function of the request body returning
``(status, body, headers)``; the last step repeats. The default step answers ``n`` choices
from ``reply(body, n)`` in the shape of the route. Every request is recorded with its path and
arrival time, so tests check what a client sent and how a resumed run called again.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Response = tuple[int, dict[str, Any], dict[str, str]]  # status, JSON body, headers
Step = Callable[[dict[str, Any]], Response]
Reply = Callable[[dict[str, Any], int], list[str]]  # request body, n -> texts


def completion_response(texts: list[str], finish_reason: str = "stop") -> Response:
    choices = [{"index": i, "text": t, "finish_reason": finish_reason, "logprobs": None}
               for i, t in enumerate(texts)]
    return 200, {"id": "c", "object": "text_completion", "created": 0, "model": "m",
                 "choices": choices}, {}


def chat_response(texts: list[str], finish_reason: str = "stop") -> Response:
    choices = [{"index": i, "finish_reason": finish_reason,
                "message": {"role": "assistant", "content": t}} for i, t in enumerate(texts)]
    return 200, {"id": "c", "object": "chat.completion", "created": 0, "model": "m",
                 "choices": choices,
                 "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}, {}


def answering(reply: Reply) -> Step:
    """A step answering ``n`` choices from ``reply`` in the body's shape: chat, completion,
    or llama.cpp ``/infill`` (``input_prefix``: one ``content``, no ``n``)."""
    def step(body: dict[str, Any]) -> Response:
        if "input_prefix" in body:
            return 200, {"content": reply(body, 1)[0], "stop": True}, {}
        texts = reply(body, int(body.get("n") or 1))
        return chat_response(texts) if "messages" in body else completion_response(texts)
    return step


def numbered(body: dict[str, Any], n: int) -> list[str]:
    """The default reply: ``sample 0`` ... ``sample n-1``."""
    return [f"sample {i}" for i in range(n)]


@dataclass
class FakeOpenAI:
    """The running stand-in: its ``url`` (no ``/v1``), the recorded ``requests`` (bodies, with
    ``paths`` and monotonic ``times`` alongside) and the served ``model`` id."""

    script: list[Step]
    model: str = "served-model"
    health: dict[str, Any] | None = None  # GET /health answers this (404 without)
    requests: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    url: str = ""

    def respond(self, path: str, body: dict[str, Any]) -> Response:
        self.requests.append(body)
        self.paths.append(path)
        self.times.append(time.monotonic())
        return self.script[min(len(self.requests), len(self.script)) - 1](body)


def _handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                self._send(200, {"object": "list", "data": [{
                    "id": fake.model, "object": "model", "created": 0, "owned_by": "me"}]}, {})
            elif self.path == "/health" and fake.health is not None:
                self._send(200, {"status": "ok", **fake.health}, {})
            else:
                self._send(404, {"error": {"message": f"no route {self.path}"}}, {})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            self._send(*fake.respond(self.path, body))

    return Handler


@contextmanager
def fake_openai_server(*script: Step, reply: Reply = numbered, model: str = "served-model",
                       health: dict[str, Any] | None = None) -> Iterator[FakeOpenAI]:
    """Serve on a free loopback port until the block ends; no script: answer with ``reply``."""
    fake = FakeOpenAI(list(script) or [answering(reply)], model, health)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
