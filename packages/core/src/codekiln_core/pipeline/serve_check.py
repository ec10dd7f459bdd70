"""The pipeline's serving smoke test (``codekiln serve-check``), end to end.

Starts ``codekiln serve MODEL`` on a free port as a subprocess (its own process group),
waits for ``/health``, sends one completion and one chat request through the official
``openai`` client, and stops the whole server group. Core cannot import codekiln-serve, so
the server is the installed command, exactly as a user starts it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

from codekiln_core.errors import CodekilnError


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
