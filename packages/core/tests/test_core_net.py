"""free_port and the /health poller against a real HTTP server and real processes."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from codekiln_core.errors import CodekilnError
from codekiln_core.net import free_port, healthy, wait_healthy


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), _Health)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _url(httpd: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{httpd.server_address[1]}"


def test_free_port_can_be_bound() -> None:
    import socket

    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_healthy_server_is_seen_and_a_closed_port_is_not(server: ThreadingHTTPServer) -> None:
    assert healthy(_url(server))
    wait_healthy(_url(server), exit_code=lambda: None, name="stand-in", timeout_s=30)
    assert not healthy(f"http://127.0.0.1:{free_port()}")


def test_a_dead_server_is_reported_at_once_in_one_line() -> None:
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    process.wait()
    with pytest.raises(CodekilnError) as info:
        wait_healthy(f"http://127.0.0.1:{free_port()}", exit_code=process.poll, name="srv",
                     timeout_s=3600, hint="see srv.log")
    assert str(info.value).startswith("srv exited with 3 before")
    assert str(info.value).endswith("; see srv.log") and "\n" not in str(info.value)


def test_a_server_that_never_turns_healthy_times_out(server: ThreadingHTTPServer,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_Health, "status", 503)
    with pytest.raises(CodekilnError, match=r"srv did not answer .*/health within 0s"):
        wait_healthy(_url(server), exit_code=lambda: None, name="srv", timeout_s=0)
