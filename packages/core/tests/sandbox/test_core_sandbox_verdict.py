"""Verdict rules on synthetic outcomes, and limit validation (no processes started)."""

from __future__ import annotations

import signal

import pytest

from codekiln_core.errors import ConfigError
from codekiln_core.sandbox import RunRequest, RunResult, SandboxLimits, Verdict
from codekiln_core.sandbox.process import SETUP_FAILED_EXIT, Outcome
from codekiln_core.sandbox.verdict import classify_program, classify_python


def outcome(exit_code: int | None = 0, sig: int | None = None, status: bytes = b"",
            stderr: bytes = b"", timed_out: bool = False) -> Outcome:
    return Outcome(exit_code, sig, timed_out, b"", stderr, False, status, 0.1, 0.1)


def test_python_pass_needs_the_runner_nonce() -> None:
    assert classify_python(outcome(status=b"done abc"), "abc", True)[0] is Verdict.PASSED
    assert classify_python(outcome(status=b"done xyz"), "abc", True)[0] is Verdict.FAILED
    assert classify_python(outcome(status=b""), "abc", True)[0] is Verdict.FAILED
    assert classify_python(outcome(status=b""), "abc", False)[0] is Verdict.PASSED


@pytest.mark.parametrize(
    ("result", "verdict"),
    [
        (outcome(1, status=b"assertion AssertionError"), Verdict.FAILED),
        (outcome(1, status=b"exception KeyError"), Verdict.RUNTIME_ERROR),
        (outcome(1, status=b"memory MemoryError"), Verdict.RUNTIME_ERROR),
        (outcome(1, status=b"syntax SyntaxError: bad"), Verdict.COMPILE_ERROR),
        (outcome(2, status=b"exit 2"), Verdict.FAILED),
        (outcome(None, sig=signal.SIGXCPU), Verdict.TIMEOUT),
        (outcome(None, sig=signal.SIGKILL, timed_out=True), Verdict.TIMEOUT),
        (outcome(None, sig=signal.SIGSEGV), Verdict.RUNTIME_ERROR),
        (outcome(SETUP_FAILED_EXIT, status=b"setup_error OSError: x"), Verdict.SANDBOX_ERROR),
    ],
)
def test_python_rules(result: Outcome, verdict: Verdict) -> None:
    assert classify_python(result, "n", True)[0] is verdict


@pytest.mark.parametrize(
    ("language", "result", "verdict"),
    [
        ("c", outcome(None, sig=signal.SIGABRT, stderr=b"main: Assertion `x' failed."),
         Verdict.FAILED),
        ("c", outcome(None, sig=signal.SIGABRT), Verdict.RUNTIME_ERROR),
        ("c", outcome(None, sig=signal.SIGXFSZ), Verdict.RUNTIME_ERROR),
        ("java", outcome(1, stderr=b'Exception in thread "main" java.lang.NullPointerException'),
         Verdict.RUNTIME_ERROR),
        ("java", outcome(1, stderr=b"java.lang.OutOfMemoryError: Java heap space"),
         Verdict.RUNTIME_ERROR),
        ("rust", outcome(101, stderr=b"panicked at main.rs:1:1:\nassertion failed"),
         Verdict.FAILED),
        ("bash", outcome(1), Verdict.FAILED),
        ("bash", outcome(0), Verdict.PASSED),
    ],
)
def test_program_rules(language: str, result: Outcome, verdict: Verdict) -> None:
    assert classify_program(result, language, None)[0] is verdict


def test_program_marker_missing_fails() -> None:
    assert classify_program(outcome(0), "c", False)[0] is Verdict.FAILED
    assert classify_program(outcome(0), "c", True)[0] is Verdict.PASSED


def test_results_and_requests_round_trip_as_json_dicts() -> None:
    result = RunResult(Verdict.FAILED, 1, "o", "e", 0.5, True, ["rlimits"], "why")
    assert RunResult.from_dict(result.to_dict()) == result
    assert result.to_dict()["verdict"] == "failed"
    request = RunRequest("python", "pass", stdin="x", files={"a": "b"}, timeout_s=1.0)
    assert RunRequest.from_dict(request.to_dict()) == request


@pytest.mark.parametrize("bad", [{"timeout_s": 0}, {"memory_mb": -1}, {"max_processes": 2},
                                 {"cpu_s": 0}])
def test_bad_limits_name_the_key(bad: dict[str, float]) -> None:
    with pytest.raises(ConfigError, match=next(iter(bad))):
        SandboxLimits(**bad)  # type: ignore[arg-type]


def test_cpu_limit_defaults_to_the_timeout() -> None:
    assert SandboxLimits(timeout_s=2.5).cpu_limit_s(2.5) == 4
    assert SandboxLimits(cpu_s=1.2).cpu_limit_s(10) == 2
