"""Turning a benchmark's checks into sandbox runs and sandbox results into verdicts.

A sample passes only when every check passes. A ``sandbox_error`` is an infrastructure
fault: such a sample gets no result row, so it is neither a pass nor a fail and a rerun
retries it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from codekiln_eval.benchmarks.base import Check, outputs_match

#: Scripted languages where appending a print after the tests is safe; a program that exits
#: early (``exit 0``, ``process.exit(0)``) then fails instead of passing unchecked.
MARKER_LANGUAGES = {"javascript": "\nconsole.log({marker!r});\n",
                    "bash": "\necho {marker}\n"}


@dataclass(frozen=True)
class CheckJob:
    """One check of one sample, ready for the sandbox."""

    key: tuple[str, int]
    name: str
    check: Check
    timeout_s: float


def to_request(job: CheckJob) -> Any:
    """The sandbox request for a check (sandbox imported lazily: it is only needed here)."""
    from codekiln_core.sandbox import RunRequest

    check = job.check
    code, marker = check.code, None
    if check.language in MARKER_LANGUAGES and check.expected_stdout is None:
        marker = f"codekiln-done-{secrets.token_hex(6)}"
        code += MARKER_LANGUAGES[check.language].format(marker=marker)
    return RunRequest(
        language=check.language, code=code, stdin=check.stdin, files=dict(check.files),
        timeout_s=job.timeout_s,
        # stdin programs may legitimately exit() early; their stdout is judged instead
        require_completion=check.expected_stdout is None,
        completion_marker=marker,
    )


def judge(job: CheckJob, result: Any) -> dict[str, Any]:
    """A check's outcome as a JSON row (verdict, duration, a short reason)."""
    verdict = str(result.verdict)
    passed = verdict == "passed"
    if passed and job.check.expected_stdout is not None:
        passed = outputs_match(job.check.expected_stdout, result.stdout)
        if not passed:
            verdict = "wrong_answer"
    reason = (result.detail or result.stderr or "")[-300:] if not passed else ""
    return {"verdict": verdict, "passed": passed, "duration_s": round(result.duration_s, 4),
            "timeout_s": job.timeout_s, "reason": reason}


def run_jobs(sandbox: Any, jobs: Sequence[CheckJob]) -> list[dict[str, Any]]:
    """Run checks in parallel on the sandbox, in order."""
    results = sandbox.run_many([to_request(job) for job in jobs])
    return [judge(job, res) for job, res in zip(jobs, results, strict=True)]


def sample_rows(jobs: Sequence[CheckJob], outcomes: Sequence[dict[str, Any]],
                extra: dict[tuple[str, int], dict[str, Any]]) -> Iterable[dict[str, Any]]:
    """One result row per sample; samples with any sandbox_error are held back for retry."""
    grouped: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}
    for job, outcome in zip(jobs, outcomes, strict=True):
        grouped.setdefault(job.key, {})[job.name] = outcome
    for key, checks in grouped.items():
        if any(c["verdict"] == "sandbox_error" for c in checks.values()):
            continue
        passed = all(c["passed"] for c in checks.values())
        yield {"task_id": key[0], "sample_idx": key[1], "passed": passed,
               "checks": checks, **extra.get(key, {})}
