"""The MLflow UI over the codekiln store, bound to 127.0.0.1, stopped as a process group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from codekiln_core.errors import CodekilnError
from codekiln_core.lineage.store import artifact_root, quiet_mlflow, tracking_uri

HOST = "127.0.0.1"


@dataclass
class UiServer:
    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        """Stop the server and its workers: they share one process group."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_ui(port: int, *, ready_timeout_s: float = 120.0, log: Path | None = None) -> UiServer:
    """Start ``mlflow ui`` and wait until ``/health`` answers."""
    quiet_mlflow()
    uri = tracking_uri()
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false")
    command = [
        sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri,
        "--default-artifact-root", artifact_root(), "--host", HOST, "--port", str(port),
        "--workers", "1",
    ]
    sink = log.open("wb") if log else subprocess.DEVNULL
    process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT,
                               start_new_session=True)
    server = UiServer(process, f"http://{HOST}:{port}")
    deadline = time.monotonic() + ready_timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CodekilnError(
                f"mlflow ui exited with {process.returncode} on port {port}; is the port free? "
                f"try --port {port + 1}"
            )
        if _healthy(server.url):
            return server
        time.sleep(0.5)
    server.stop()
    raise CodekilnError(f"mlflow ui did not answer on {server.url} within {ready_timeout_s:.0f}s")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def serve_ui(port: int, wait: bool) -> None:
    """CLI body: print the URL; block until Ctrl-C unless ``wait`` is False."""
    server = start_ui(port)
    print(f"MLflow UI: {server.url}  (store: {tracking_uri()})", flush=True)
    if not wait:
        print(f"running as process group {server.process.pid}; stop it with "
              f"`kill -- -{server.process.pid}`", flush=True)
        return
    try:
        server.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
