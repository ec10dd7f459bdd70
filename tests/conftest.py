"""Shared by the end-to-end tests: the one stand-in for a hosted teacher LLM, a local HTTP
server speaking the OpenAI chat-completions API that rates each file by a fixed rule."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@contextmanager
def teacher_server(rate: Callable[[str], int]) -> Iterator[str]:
    """Serve ``rate(prompt)`` as a Seed-Coder-rubric answer; yields the base URL."""
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            rating = rate(body["messages"][-1]["content"])
            text = f"Explanation: judged by docstrings and comments.\nRating: [[{rating}]]"
            payload = json.dumps({"choices": [{"message": {"role": "assistant",
                                                           "content": text}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()


def documented_rating(prompt: str) -> int:
    """Stand-in rubric: documented code rates high, bare code low (1..10)."""
    return min(10, 1 + prompt.count('"""') + prompt.count("# "))


@pytest.fixture
def documented_teacher_url() -> Iterator[str]:
    """A teacher endpoint rating by ``documented_rating``: what the e2e chains label with."""
    with teacher_server(documented_rating) as url:
        yield url
