"""Serve a ``LocalSandbox`` over SandboxFusion's ``POST /run_code`` protocol (stdlib only).

Lets a machine without SandboxFusion act as the remote backend for others, and gives the
remote client a real server to be tested against::

    python -m codekiln_core.sandbox.fusion_server --port 8080 --workers 4
"""

from __future__ import annotations

import argparse
import base64
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from codekiln_core.sandbox.limits import SandboxLimits
from codekiln_core.sandbox.local import LocalSandbox
from codekiln_core.sandbox.result import RunRequest, RunResult, Verdict

_FROM_FUSION = {"nodejs": "javascript"}


def to_request(body: dict[str, Any]) -> RunRequest:
    """SandboxFusion runs code as-is: an early clean exit is a success there, so no
    completion requirement here (the client adds its own marker)."""
    encoded = body.get("files") or {}
    files = {name: base64.b64decode(data).decode() for name, data in encoded.items()}
    return RunRequest(
        language=_FROM_FUSION.get(body["language"], body["language"]),
        code=body["code"],
        stdin=body.get("stdin"),
        files=files,
        timeout_s=float(body.get("run_timeout") or 10),
        require_completion=False,
    )


def to_reply(result: RunResult) -> dict[str, Any]:
    if result.verdict is Verdict.SANDBOX_ERROR:
        return {"status": "SandboxError", "message": result.detail, "compile_result": None,
                "run_result": None, "files": {}}
    if result.verdict is Verdict.COMPILE_ERROR:
        status = "TimeLimitExceeded" if "timed out" in result.detail else "Error"
        compiled = {"status": status, "execution_time": result.duration_s,
                    "return_code": result.exit_code, "stdout": "",
                    "stderr": result.compile_output}
        return {"status": "Failed", "message": result.detail, "compile_result": compiled,
                "run_result": None, "files": {}}
    run = {
        "status": "TimeLimitExceeded" if result.verdict is Verdict.TIMEOUT else "Finished",
        "execution_time": result.duration_s,
        "return_code": result.exit_code,
        "stdout": result.stdout,
        "stderr": result.stderr,
    }
    ok = result.verdict is Verdict.PASSED
    return {"status": "Success" if ok else "Failed", "message": result.detail,
            "compile_result": None, "run_result": run, "files": {}}


def make_server(
    sandbox: LocalSandbox, host: str = "127.0.0.1", port: int = 0
) -> ThreadingHTTPServer:
    """A server bound to ``host:port`` (0 picks a free port); call ``serve_forever``."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/run_code":
                self.send_error(404, "only POST /run_code is served")
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
                request = to_request(json.loads(self.rfile.read(length)))
            except (ValueError, KeyError, TypeError) as exc:
                self.send_error(422, f"bad /run_code body: {exc}")
                return
            payload = json.dumps(to_reply(sandbox.run(request))).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: one line per run would drown benchmark output."""

    return ThreadingHTTPServer((host, port), Handler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    with LocalSandbox(workers=args.workers, limits=SandboxLimits(timeout_s=args.timeout)) as sb:
        server = make_server(sb, args.host, args.port)
        print(f"serving /run_code on http://{args.host}:{server.server_port}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
