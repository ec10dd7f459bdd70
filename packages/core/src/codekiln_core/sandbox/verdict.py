"""Turn a child's raw outcome into a verdict.

Rules (docs/sandbox.md has the table):
- the sandbox could not set the run up -> ``sandbox_error`` (never scored against the model);
- the wall clock ran out, or the CPU-time rlimit fired (SIGXCPU) -> ``timeout``;
- clean exit that reached the end (Python: the runner's nonce; others: exit 0 and, when asked,
  the completion marker on stdout) -> ``passed``;
- a failed check -> ``failed``: Python ``AssertionError``, a non-zero exit the program chose
  (``sys.exit(1)``, a test harness's failure code), a C/C++ ``assert`` abort, a Java
  ``AssertionError``, Node's ``AssertionError``, a Rust ``assert!`` panic, or an early clean
  exit that skipped the checks;
- anything else the program did wrong -> ``runtime_error``: uncaught exceptions, signals,
  memory exhaustion (detail says so), file-size limit (SIGXFSZ).
"""

from __future__ import annotations

import signal

from codekiln_core.sandbox.process import SETUP_FAILED_EXIT, Outcome
from codekiln_core.sandbox.result import Verdict

_MEMORY_HINTS = ("OutOfMemoryError", "heap out of memory", "memory allocation of",
                 "std::bad_alloc", "MemoryError", "Cannot allocate memory")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def classify_python(outcome: Outcome, nonce: str, require_completion: bool) -> tuple[Verdict, str]:
    status = outcome.status.decode(errors="replace")
    word, _, rest = status.partition(" ")
    if word == "setup_error" or (outcome.exit_code == SETUP_FAILED_EXIT and not status):
        return Verdict.SANDBOX_ERROR, f"sandbox setup failed: {rest or 'no status'}"
    if outcome.timed_out:
        return Verdict.TIMEOUT, "wall-clock timeout"
    if word == "syntax":
        return Verdict.COMPILE_ERROR, rest
    if word == "done" and rest == nonce and outcome.exit_code == 0:
        return Verdict.PASSED, ""
    if word == "assertion":
        return Verdict.FAILED, f"uncaught {rest}"
    if word == "memory":
        return Verdict.RUNTIME_ERROR, f"memory limit exceeded ({rest})"
    if word == "filesize":
        return Verdict.RUNTIME_ERROR, f"file-size limit exceeded ({rest})"
    if word == "exception":
        return Verdict.RUNTIME_ERROR, f"uncaught {rest}"
    return _classify_exit(outcome, require_completion, early_exit_possible=True)


def classify_program(
    outcome: Outcome, language: str, marker_seen: bool | None
) -> tuple[Verdict, str]:
    """Exec'd programs: ``marker_seen`` is None when no completion marker was requested."""
    status = outcome.status.decode(errors="replace")
    if status.startswith("setup_error") or (outcome.exit_code == SETUP_FAILED_EXIT and status):
        return Verdict.SANDBOX_ERROR, f"sandbox setup failed: {status[12:] or 'no status'}"
    if outcome.timed_out:
        return Verdict.TIMEOUT, "wall-clock timeout"
    stderr = outcome.stderr.decode(errors="replace")
    if outcome.exit_code == 0:
        if marker_seen is False:
            return Verdict.FAILED, "exited before printing the completion marker"
        return Verdict.PASSED, ""
    if any(hint in stderr for hint in _MEMORY_HINTS):
        return Verdict.RUNTIME_ERROR, "memory limit exceeded"
    if outcome.signal == signal.SIGABRT and "Assertion" in stderr:
        return Verdict.FAILED, "assertion failed"
    if outcome.exit_code is not None and _is_runtime_failure(language, stderr):
        return Verdict.RUNTIME_ERROR, f"uncaught error (exit code {outcome.exit_code})"
    return _classify_exit(outcome, require_completion=False, early_exit_possible=False)


def _is_runtime_failure(language: str, stderr: str) -> bool:
    """Non-zero exits that are crashes rather than failed checks, per language runtime."""
    if language == "java":
        return "Exception in thread" in stderr and "AssertionError" not in stderr
    if language == "javascript":
        return "\n    at " in stderr and "AssertionError" not in stderr
    if language == "rust":
        return "panicked at" in stderr and "assert" not in stderr
    if language == "go":
        return "panic:" in stderr and "assert" not in stderr.lower()
    return False


def _classify_exit(
    outcome: Outcome, require_completion: bool, early_exit_possible: bool
) -> tuple[Verdict, str]:
    if outcome.signal is not None:
        if outcome.signal == signal.SIGXCPU:
            return Verdict.TIMEOUT, "CPU-time limit exceeded"
        if outcome.signal == signal.SIGXFSZ:
            return Verdict.RUNTIME_ERROR, "file-size limit exceeded (SIGXFSZ)"
        return Verdict.RUNTIME_ERROR, f"killed by {_signal_name(outcome.signal)}"
    if outcome.exit_code == 0:
        if early_exit_possible and require_completion:
            return Verdict.FAILED, "exited before the end of the program (checks skipped)"
        return Verdict.PASSED, ""
    return Verdict.FAILED, f"exit code {outcome.exit_code}"
