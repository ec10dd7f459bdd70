"""The MLflow UI over the codekiln store, bound to 127.0.0.1, stopped as a process group."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from codekiln_core.lineage.store import (
    artifact_root,
    connect,
    local_store_path,
    quiet_mlflow,
    tracking_uri,
)
from codekiln_core.net import HOST, wait_healthy

#: Printed by ``codekiln lineage ui``: MLflow 3.17 offers no server setting to turn the
#: Assistant panel off; it shows whenever the UI is opened from this machine.
ASSISTANT_NOTE = ("The Assistant panel on the right closes with its x; the browser "
                  "remembers (MLflow has no server setting to turn it off).")


@dataclass
class UiServer:
    process: subprocess.Popen[bytes]
    url: str

    @property
    def start_page(self) -> str:
        """The registered models list, in the model-training view."""
        from codekiln_core.lineage.links import registered_models_page

        return f"{self.url}/{registered_models_page()}"

    def stop(self, grace_s: float = 15.0) -> None:
        """Stop the server and its workers: they share one process group.

        SIGTERM to the group, then SIGKILL to whatever of it is left after ``grace_s`` (a
        worker can outlive the leader); returns when no member of the group is left.
        """
        pgid = self.process.pid
        _signal_group(pgid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while _group_alive(pgid) and time.monotonic() < deadline:
            if self.process.poll() is None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=0.2)
            else:
                time.sleep(0.2)
        if _group_alive(pgid):
            _signal_group(pgid, signal.SIGKILL)
        self.process.wait()
        while _group_alive(pgid) and time.monotonic() < deadline + 5:
            time.sleep(0.1)


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def start_ui(port: int, *, ready_timeout_s: float = 120.0, log: Path | None = None) -> UiServer:
    """Start ``mlflow ui`` over the codekiln store and wait until ``/health`` answers."""
    uri = tracking_uri()
    if local_store_path() is not None:  # created or migrated under the lock, not by the
        connect()                        # server racing commands that start at the same time
    return start_mlflow(["ui", "--backend-store-uri", uri, "--default-artifact-root",
                         artifact_root()], port, ready_timeout_s=ready_timeout_s, log=log)


def start_mlflow(arguments: list[str], port: int, *, ready_timeout_s: float = 120.0,
                 log: Path | None = None) -> UiServer:
    """Start ``mlflow ARGUMENTS`` (``ui`` or ``server``) on 127.0.0.1:``port`` with one
    worker, in its own process group, and wait until ``/health`` answers."""
    quiet_mlflow()
    env = dict(os.environ, MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false")
    command = [sys.executable, "-m", "mlflow", *arguments, "--host", HOST, "--port", str(port),
               "--workers", "1"]
    sink = log.open("wb") if log else subprocess.DEVNULL
    process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT,
                               start_new_session=True)
    server = UiServer(process, f"http://{HOST}:{port}")
    try:
        wait_healthy(server.url, exit_code=process.poll, name=f"mlflow {arguments[0]}",
                     timeout_s=ready_timeout_s,
                     hint=f"is port {port} free? try --port {port + 1}")
    except BaseException:  # a timeout, an exit, or a stop signal while starting
        server.stop()
        raise
    return server


#: Signals that stop a waiting ``lineage ui`` and the server tree it started.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


class _Stopped(Exception):
    """Raised from a signal handler so the ``finally`` that stops the server runs."""


def _raise_stopped(signum: int, _frame: object) -> None:
    raise _Stopped(signum)


def serve_ui(port: int, wait: bool) -> None:
    """CLI body: print the URL; block until stopped unless ``wait`` is False.

    The server runs in its own process group (so ``--no-wait`` can leave it running), which a
    signal to our process or our group does not reach: while waiting, SIGTERM, SIGHUP and
    SIGINT (a supervisor, a closed terminal, Ctrl-C) stop the whole server group first.
    """
    previous = {sig: signal.signal(sig, _raise_stopped) for sig in STOP_SIGNALS} if wait else {}
    server: UiServer | None = None
    try:
        server = start_ui(port)
        print(f"MLflow UI: {server.start_page}  (store: {tracking_uri()})", flush=True)
        print(ASSISTANT_NOTE, flush=True)
        if not wait:
            print(f"running as process group {server.process.pid}; stop it with "
                  f"`kill -- -{server.process.pid}`", flush=True)
            return
        server.process.wait()
    except (_Stopped, KeyboardInterrupt):
        pass
    finally:
        for sig in previous:  # a second signal must not interrupt the clean-up
            signal.signal(sig, signal.SIG_IGN)
        if wait and server is not None:
            server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
