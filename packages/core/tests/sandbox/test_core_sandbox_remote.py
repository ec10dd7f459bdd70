"""The SandboxFusion client against a real stdlib HTTP server serving /run_code."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from codekiln_core.plugins import get_plugin_manager
from codekiln_core.registry import Registry
from codekiln_core.sandbox import LocalSandbox, RunRequest, SandboxFusionSandbox, Verdict
from codekiln_core.sandbox.fusion_server import make_server

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def fusion_url(sandbox: LocalSandbox) -> Iterator[str]:
    server = make_server(sandbox)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("code", "verdict"),
    [
        ("assert sum([1, 2]) == 3\nprint('ok')", Verdict.PASSED),
        ("assert sum([1, 2]) == 4", Verdict.FAILED),
        ("import sys\nsys.exit(0)\nassert False", Verdict.FAILED),
        ("raise ValueError('x')", Verdict.RUNTIME_ERROR),
        ("while True:\n    pass", Verdict.TIMEOUT),
    ],
)
def test_remote_python_verdicts(fusion_url: str, code: str, verdict: Verdict) -> None:
    client = SandboxFusionSandbox(fusion_url)
    result = client.run(RunRequest("python", code, timeout_s=2))
    assert result.verdict is verdict, (result.detail, result.stderr)
    assert result.isolation == ["remote:sandbox-fusion"]
    if verdict is Verdict.PASSED:
        assert result.stdout == "ok\n"  # the client's completion marker is stripped


def test_remote_files_stdin_and_compile_error(fusion_url: str) -> None:
    with SandboxFusionSandbox(fusion_url, workers=2) as client:
        results = client.run_many([
            RunRequest("python", "import sys\nprint(open('a.txt').read(), sys.stdin.read())",
                       stdin="in", files={"a.txt": "file"}),
            RunRequest("cpp", "int main(){ oops }"),
        ])
    assert results[0].verdict is Verdict.PASSED, results[0].stderr
    assert results[0].stdout == "file in\n"
    if LocalSandbox.available_languages()["cpp"] is None:
        assert results[1].verdict is Verdict.COMPILE_ERROR
        assert "oops" in results[1].compile_output


def test_unreachable_server_is_a_sandbox_error() -> None:
    client = SandboxFusionSandbox("http://127.0.0.1:9")  # discard port: nothing listens
    result = client.run(RunRequest("python", "print(1)"))
    assert result.verdict is Verdict.SANDBOX_ERROR
    assert "127.0.0.1:9" in result.detail


def test_c_is_refused_before_any_request() -> None:
    result = SandboxFusionSandbox("http://127.0.0.1:9").run(RunRequest("c", "int main(){}"))
    assert result.verdict is Verdict.SANDBOX_ERROR
    assert "not supported by SandboxFusion" in result.detail


def test_both_backends_are_registered() -> None:
    registry = Registry(get_plugin_manager())
    assert registry.get("sandbox", "local").obj is LocalSandbox
    assert registry.get("sandbox", "sandbox-fusion").obj is SandboxFusionSandbox
