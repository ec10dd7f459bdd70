"""A client for SandboxFusion's ``POST /run_code`` (urllib only).

Protocol as documented at bytedance.github.io/SandboxFusion (API "Run Code"): the request is
``{code, language, compile_timeout, run_timeout, stdin, files}`` with ``files`` mapping a path
to base64 content; the reply is ``{status: Success|Failed|SandboxError, message,
compile_result, run_result, files}``, each ``*_result`` being ``{status: Finished|Error|
TimeLimitExceeded, execution_time, return_code, stdout, stderr}`` or null.
"""

from __future__ import annotations

import base64
import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any

from codekiln_core.sandbox import languages
from codekiln_core.sandbox.limits import SandboxLimits
from codekiln_core.sandbox.process import Outcome
from codekiln_core.sandbox.result import RunRequest, RunResult, Verdict, sandbox_error
from codekiln_core.sandbox.verdict import classify_program

# our language name -> SandboxFusion's; C has no runner there.
FUSION_LANGUAGES = {"python": "python", "cpp": "cpp", "java": "java", "javascript": "nodejs",
                    "go": "go", "rust": "rust", "bash": "bash"}
_HTTP_SLACK_S = 30.0


def encode_request(request: RunRequest, limits: SandboxLimits) -> tuple[dict[str, Any], str]:
    """The JSON body, plus the marker that must reach stdout (empty when none is needed).

    For Python with ``require_completion`` a random marker is printed after the program, so
    an early ``sys.exit(0)`` is caught remotely too.
    """
    language = languages.canonical_name(request.language)
    code, marker = request.code, request.completion_marker or ""
    if language == "python" and request.require_completion and not marker:
        marker = f"codekiln-done-{secrets.token_hex(8)}"
        code = f"{code}\n\nprint({marker!r}, flush=True)\n"
    body = {
        "code": code,
        "language": FUSION_LANGUAGES.get(language, language),
        "compile_timeout": limits.compile_timeout_s,
        "run_timeout": request.timeout_s or limits.timeout_s,
        "stdin": request.stdin,
        "files": {name: base64.b64encode(text.encode()).decode() for name, text
                  in request.files.items()},
    }
    return body, marker


def _python_verdict(rc: int, stderr: str) -> tuple[Verdict, str]:
    last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    if last.startswith("AssertionError"):
        return Verdict.FAILED, "uncaught AssertionError"
    if last.startswith("MemoryError"):
        return Verdict.RUNTIME_ERROR, "memory limit exceeded (MemoryError)"
    if "Traceback (most recent call last)" in stderr:
        return Verdict.RUNTIME_ERROR, f"uncaught {last.split(':')[0]}"
    return Verdict.FAILED, f"exit code {rc}"


def decode_reply(reply: dict[str, Any], language: str, marker: str) -> RunResult:
    """Map a /run_code reply onto our verdicts (same rules as the local sandbox)."""
    isolation = ["remote:sandbox-fusion"]
    compiled = reply.get("compile_result") or {}
    run = reply.get("run_result") or {}
    if reply.get("status") == "SandboxError" and not run and not compiled:
        return sandbox_error(f"remote sandbox error: {reply.get('message', '')}", isolation)
    if compiled and (compiled.get("status") != "Finished" or compiled.get("return_code")):
        text = (compiled.get("stdout") or "") + (compiled.get("stderr") or "")
        return RunResult(Verdict.COMPILE_ERROR, compiled.get("return_code"), "", text,
                         float(compiled.get("execution_time") or 0.0), False, isolation,
                         f"compile {compiled.get('status')}", text)
    if not run:
        return sandbox_error(f"remote reply has no run_result: {reply.get('message', '')}",
                             isolation)
    stdout, stderr = run.get("stdout") or "", run.get("stderr") or ""
    rc = run.get("return_code")
    duration = float(run.get("execution_time") or 0.0)
    marker_seen = (marker in stdout) if marker else None
    if marker:
        stdout = stdout.replace(marker + "\n", "").replace(marker, "")
    if run.get("status") == "TimeLimitExceeded":
        verdict, detail = Verdict.TIMEOUT, "remote time limit exceeded"
    elif rc == 0:
        verdict, detail = ((Verdict.FAILED, "exited before printing the completion marker")
                           if marker_seen is False else (Verdict.PASSED, ""))
    elif language == "python" and rc is not None and rc > 0:
        verdict, detail = _python_verdict(rc, stderr)
    else:
        outcome = Outcome(rc if rc is not None and rc >= 0 else None,
                          -rc if rc is not None and rc < 0 else None, False, b"",
                          stderr.encode(), False, b"", duration, 0.0)
        verdict, detail = classify_program(outcome, language, marker_seen)
    return RunResult(verdict, rc, stdout, stderr, duration, False, isolation, detail)


class SandboxFusionSandbox:
    """Same interface as ``LocalSandbox``, executed by a SandboxFusion server at ``url``."""

    def __init__(self, url: str = "http://localhost:8080", workers: int = 4,
                 limits: SandboxLimits | None = None) -> None:
        self.url = url.rstrip("/")
        self.workers = workers
        self.limits = limits or SandboxLimits()

    @staticmethod
    def available_languages() -> dict[str, str | None]:
        return {name: (None if name in FUSION_LANGUAGES else "SandboxFusion has no runner")
                for name in languages.SPECS}

    def run(self, request: RunRequest) -> RunResult:
        language = languages.canonical_name(request.language)
        if language not in FUSION_LANGUAGES:
            return sandbox_error(f"language {request.language!r} is not supported by "
                                 f"SandboxFusion; supported: {', '.join(FUSION_LANGUAGES)}")
        body, marker = encode_request(request, self.limits)
        http = urllib.request.Request(
            f"{self.url}/run_code", data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"}, method="POST",
        )
        wait = body["run_timeout"] + body["compile_timeout"] + _HTTP_SLACK_S
        try:
            with urllib.request.urlopen(http, timeout=wait) as response:
                reply = json.loads(response.read())
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            return sandbox_error(f"SandboxFusion at {self.url} failed: {exc}",
                                 ["remote:sandbox-fusion"])
        return decode_reply(reply, language, marker)

    def run_many(self, requests: Sequence[RunRequest]) -> list[RunResult]:
        if not requests:
            return []
        with ThreadPoolExecutor(max_workers=self.workers) as executor:
            return list(executor.map(self.run, requests))

    def close(self) -> None:
        """Nothing to release: each run is one HTTP request."""

    def __enter__(self) -> SandboxFusionSandbox:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
