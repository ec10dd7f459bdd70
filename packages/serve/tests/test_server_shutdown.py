"""Stopping the server: open streams end with an error event in their protocol's framing and a
request still waiting for its answer gets a 503, instead of a cut connection; SIGTERM on
`codekiln serve` ends the MLflow run (FINISHED, or KILLED naming the cut-off work) and exits 0.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from codekiln_serve.testing import ServerThread, free_port

pytestmark = pytest.mark.slow

LONG = {"temperature": 0, "ignore_eos": True}


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


class OpenStream:
    """A streaming request read on its own thread; ``started`` is set at its first chunk."""

    def __init__(self, url: str, body: dict[str, Any]) -> None:
        self.url, self.body = url, body
        self.lines: list[str] = []
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        with httpx.Client(timeout=120) as http, http.stream("POST", self.url,
                                                           json=self.body) as resp:
            for line in resp.iter_lines():
                if line:
                    self.lines.append(line)
                    self.started.set()

    def last(self) -> Any:
        self.thread.join(timeout=120)
        assert not self.thread.is_alive(), "the stream was never closed"
        tail = self.lines[-1].removeprefix("data: ")
        return tail if tail == "[DONE]" else json.loads(tail)


@pytest.fixture
def stopping_server(tiny_model_dir: Path) -> Iterator[ServerThread]:
    from codekiln_serve.settings import ServeSettings

    settings = ServeSettings(model=str(tiny_model_dir), engine="transformers", port=0,
                             lineage=False, threads=1)
    with ServerThread(settings) as srv:
        yield srv


def test_shutdown_ends_open_streams_with_an_error_event(stopping_server: ServerThread) -> None:
    srv = stopping_server
    name, base = srv.built.names[0], srv.base_url
    streams = {
        "openai": OpenStream(f"{base}/v1/completions", {
            "model": name, "prompt": "def f():", "max_tokens": 900, "stream": True, **LONG}),
        "llama.cpp": OpenStream(f"{base}/infill", {
            "input_prefix": "def f():\n", "input_suffix": "\n", "n_predict": 900,
            "stream": True, **LONG}),
        "ollama": OpenStream(f"{base}/api/generate", {
            "model": name, "prompt": "x = ", "suffix": "\n", "stream": True,
            "options": {"num_predict": 900, "temperature": 0}}),
    }
    waiting: list[httpx.Response] = []
    whole = threading.Thread(target=lambda: waiting.append(httpx.post(
        f"{base}/v1/completions", json={"model": name, "prompt": "y", "max_tokens": 900,
                                        **LONG}, timeout=120)))
    for stream in streams.values():
        assert stream.started.wait(120), "a stream never started"
    whole.start()
    drain = srv.built.app.state.drain
    _wait_for(lambda: drain.running == 4, "all four requests generate")
    srv.begin_shutdown()
    assert streams["openai"].last() == "[DONE]"
    assert json.loads(streams["openai"].lines[-2][6:])["error"]["code"] == \
        "server_shutting_down"
    assert streams["llama.cpp"].last()["error"]["code"] == "server_shutting_down"
    assert "shutting down" in streams["ollama"].last()["error"]
    whole.join(timeout=120)
    assert waiting[0].status_code == 503 and waiting[0].headers["retry-after"] == "1"
    assert drain.cut == 4 and drain.sequences_at_start >= 1


class SigtermWhenUp:
    """Sends this process SIGTERM once `codekiln serve` (running in the main thread, as from
    a shell) answers and ``before_stop`` is done; it sends it in any case, so a failed check
    never leaves the server running."""

    def __init__(self, base: str, before_stop: Callable[[str], None] = lambda _base: None,
                 ) -> None:
        self.base, self.before_stop = base, before_stop
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _up(self) -> bool:
        try:
            return httpx.get(f"{self.base}/health", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def _run(self) -> None:
        try:
            _wait_for(self._up, "codekiln serve answers", timeout=300)
            self.before_stop(self.base)
        except BaseException as exc:  # reported by check(), after the server stopped
            self.error = exc
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    def check(self) -> None:
        self.thread.join(timeout=120)
        if self.error is not None:
            raise self.error


def _serve_until_sigterm(model_dir: Path, stopper: Callable[[str], SigtermWhenUp]) -> int:
    from codekiln_core.cli.app import main

    port = free_port()
    watcher = stopper(f"http://127.0.0.1:{port}")
    code = main(["serve", str(model_dir), "--port", str(port), "--engine", "transformers",
                 "--threads", "1"])
    watcher.check()
    return code


def _serve_run() -> Any:
    from codekiln_core.lineage.store import connect

    client, experiment = connect(create=False)
    (run,) = client.search_runs([experiment], "tags.`codekiln.command` = 'serve'")
    return run


def test_sigterm_finishes_the_run_and_exits_0(tiny_model_dir: Path, mlflow_store: str) -> None:
    assert _serve_until_sigterm(tiny_model_dir, SigtermWhenUp) == 0  # the default: 143
    assert _serve_run().info.status == "FINISHED"


def test_sigterm_with_a_stream_open_is_killed_with_the_work_noted(tiny_model_dir: Path,
                                                                  mlflow_store: str) -> None:
    streams: list[OpenStream] = []

    def open_a_stream(base: str) -> None:
        name = httpx.get(f"{base}/v1/models").json()["data"][0]["id"]
        streams.append(OpenStream(f"{base}/v1/completions", {
            "model": name, "prompt": "def f():", "max_tokens": 900, "stream": True, **LONG}))
        assert streams[0].started.wait(120)

    code = _serve_until_sigterm(tiny_model_dir, lambda base: SigtermWhenUp(base, open_a_stream))
    assert code == 0
    assert streams[0].last() == "[DONE]" and "server_shutting_down" in streams[0].lines[-2]
    run = _serve_run()
    assert run.info.status == "KILLED"
    assert "1 request(s) cut off" in run.data.tags["codekiln.killed"]
