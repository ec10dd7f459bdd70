"""Local servers we start ourselves: a free port to bind them to, and waiting until they answer.

One copy for every caller: ``serve-check`` starting ``codekiln serve``, ``lineage ui``
starting MLflow, DeepSpeed's one-process rendezvous, and the tests that start servers.
"""

from __future__ import annotations

import socket
import time
import urllib.request
from collections.abc import Callable

from codekiln_core.errors import CodekilnError

HOST = "127.0.0.1"
#: Seconds between two ``/health`` probes while a server starts.
POLL_INTERVAL_S = 0.5


def free_port(host: str = HOST) -> int:
    """A TCP port on ``host`` that nothing listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def healthy(url: str, *, path: str = "/health", timeout_s: float = 2.0) -> bool:
    """Whether ``url + path`` answers 200 now (a refused or hung connection is False)."""
    try:
        with urllib.request.urlopen(f"{url}{path}", timeout=timeout_s) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def wait_healthy(url: str, *, exit_code: Callable[[], int | None], name: str,
                 timeout_s: float, hint: str = "", path: str = "/health") -> None:
    """Poll ``url + path`` until it answers 200; raise one line when the server dies or is late.

    ``exit_code`` is the server process's ``poll`` (None while it runs), so a crash is reported
    at once instead of after the timeout. ``hint`` ends both error messages (where to look,
    what to change).
    """
    suffix = f"; {hint}" if hint else ""
    deadline = time.monotonic() + timeout_s
    while True:
        code = exit_code()
        if code is not None:
            raise CodekilnError(f"{name} exited with {code} before {url}{path} "
                                f"answered{suffix}")
        if healthy(url, path=path):
            return
        if time.monotonic() >= deadline:
            raise CodekilnError(f"{name} did not answer {url}{path} within "
                                f"{timeout_s:.0f}s{suffix}")
        time.sleep(POLL_INTERVAL_S)
