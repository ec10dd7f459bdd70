"""The pipeline's serving smoke test (``codekiln serve-check``), end to end.

Starts ``codekiln serve MODEL`` on a free port as a subprocess (its own process group),
waits for ``/health``, sends one completion and one chat request through the official
``openai`` client, and stops the whole server group. Core cannot import codekiln-serve, so
the server is the installed command, exactly as a user starts it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from codekiln_core.errors import CodekilnError

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def wait_healthy(process: subprocess.Popen[bytes], url: str, timeout_s: float,
                  log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CodekilnError(f"codekiln serve exited with {process.returncode} before "
                                f"{url}/health answered; see {log}")
        if _healthy(url):
            return
        time.sleep(0.5)
    raise CodekilnError(f"codekiln serve did not answer {url}/health within {timeout_s:.0f}s; "
                        f"see {log} (raise --ready-timeout for a large model)")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group, SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def check_model(url: str, max_tokens: int) -> dict[str, float]:
    """One completion and one chat request; each must return text. Latencies in seconds."""
    from codekiln_core.clients import openai_client

    client = openai_client(url, timeout_s=300, max_retries=1)
    model = client.models.list().data[0].id
    started = time.monotonic()
    completion = client.completions.create(model=model, prompt="def add(a, b):\n",
                                           max_tokens=max_tokens, temperature=0)
    completion_s = time.monotonic() - started
    started = time.monotonic()
    chat = client.chat.completions.create(
        model=model, max_tokens=max_tokens, temperature=0,
        messages=[{"role": "user", "content": "Write a Python function that adds two numbers."}])
    chat_s = time.monotonic() - started
    if not completion.choices or completion.choices[0].text is None:
        raise CodekilnError(f"{url}: /v1/completions returned no choice")
    if not chat.choices or chat.choices[0].message.content is None:
        raise CodekilnError(f"{url}: /v1/chat/completions returned no message")
    return {"completion_latency_s": completion_s, "chat_latency_s": chat_s,
            "latency_s": completion_s + chat_s,
            "completion_tokens": float(completion.usage.completion_tokens
                                       if completion.usage else 0)}
