"""Long-lived zygote workers, one run at a time each, restarted when one dies or hangs."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import selectors
import subprocess
import sys
import threading
import time
from typing import Any

from codekiln_core.errors import CodekilnError
from codekiln_core.sandbox.limits import SandboxLimits
from codekiln_core.sandbox.result import RunRequest, RunResult, sandbox_error

# The worker's memory image is copied on every per-run fork, and modules that register fork
# handlers (``threading``, pulled in by ``importlib.metadata``) cost ~0.5 ms in each child.
# So the worker gets a bare ``codekiln_core`` package object instead of running its
# ``__init__`` (which reads distribution metadata), and imports only the sandbox modules.
_BOOT = (
    "import sys, types\n"
    "core = types.ModuleType('codekiln_core')\n"
    "core.__path__ = [{core_dir!r}]\n"
    "sys.modules['codekiln_core'] = core\n"
    "from codekiln_core.sandbox.zygote import main\n"
    "main()\n"
)
_WORKER_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/nonexistent"}
_REPLY_SLACK_S = 30.0  # on top of compile + run time before a silent worker is declared hung


class SandboxStartError(CodekilnError):
    """A worker could not start (broken interpreter, no fork): nothing can be run."""


class _Worker:
    def __init__(self, python: str, tools: dict[str, str | None]) -> None:
        self.proc = subprocess.Popen(
            [python, "-I", "-c", _BOOT.format(core_dir=_core_dir())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_WORKER_ENV,
            cwd="/", close_fds=True,
        )
        assert self.proc.stdout is not None
        self._fd = self.proc.stdout.fileno()  # read raw: replies are waited on with select
        self._buffer = b""
        self._send({"tools": tools})
        hello = self._receive(timeout_s=120)
        if hello is None:
            self.kill()
            raise SandboxStartError(
                f"sandbox worker {python} -m codekiln_core.sandbox.zygote did not start; "
                "run it by hand to see why"
            )
        self.isolation: list[str] = hello["isolation"]
        self.rejected: list[str] = hello["rejected"]

    def _send(self, payload: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(payload).encode() + b"\n")
        self.proc.stdin.flush()

    def _receive(self, timeout_s: float) -> dict[str, Any] | None:
        """One reply line, or None when the worker died or stayed silent past the timeout.

        A select on the raw pipe (no reader thread per run: that cost showed per sample)."""
        deadline = time.monotonic() + timeout_s
        with selectors.DefaultSelector() as sel:
            sel.register(self._fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not sel.select(remaining):
                    return None
                chunk = os.read(self._fd, 1 << 20)
                if not chunk:
                    return None  # the worker exited
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def run(self, request: RunRequest, limits: SandboxLimits) -> RunResult | None:
        try:
            self._send({"request": request.to_dict(), "limits": limits.to_dict()})
        except (BrokenPipeError, OSError):
            return None
        budget = (request.timeout_s or limits.timeout_s) + limits.compile_timeout_s
        reply = self._receive(budget + _REPLY_SLACK_S)
        return None if reply is None else RunResult.from_dict(reply)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def close(self) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class WorkerPool:
    """Hands each run to an idle worker; a worker that dies mid-run is replaced."""

    def __init__(self, size: int, python: str, tools: dict[str, str | None]) -> None:
        self._python, self._tools = python, tools
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        for _ in range(size):
            self._add(_Worker(python, tools))
        self.isolation = self._all[0].isolation
        self.rejected = self._all[0].rejected

    def _add(self, worker: _Worker) -> None:
        with self._lock:
            self._all.append(worker)
        self._idle.put(worker)

    def run(self, request: RunRequest, limits: SandboxLimits) -> RunResult:
        worker = self._idle.get()
        result = worker.run(request, limits)
        if result is not None:
            self._idle.put(worker)
            return result
        worker.kill()
        with self._lock:
            self._all.remove(worker)
        try:
            self._add(_Worker(self._python, self._tools))
        except SandboxStartError as exc:
            return sandbox_error(f"worker died and could not be restarted: {exc}")
        return sandbox_error("sandbox worker died or hung during the run; it was restarted",
                             self.isolation)

    def close(self) -> None:
        with self._lock:
            workers, self._all = self._all, []
        for worker in workers:
            worker.close()


def _core_dir() -> str:
    import codekiln_core

    return os.path.dirname(os.path.abspath(codekiln_core.__file__ or ""))


def default_python() -> str:
    """This interpreter: the workers can then import codekiln_core from the same environment."""
    return sys.executable
