"""Sending a benchmark's checks to core's judge and its judgements into result rows.

A sample passes only when every check passes. A ``sandbox_error`` is an infrastructure
fault: such a sample gets no result row, so it is neither a pass nor a fail and a rerun
retries it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from codekiln_core.judge import Judge, Judgement, Submission


@dataclass(frozen=True)
class CheckJob:
    """One check of one sample, ready for the judge."""

    key: tuple[str, int]
    name: str
    check: Submission
    timeout_s: float


def row(job: CheckJob, judgement: Judgement) -> dict[str, Any]:
    """A check's outcome as a JSON row (verdict, duration, a short reason)."""
    return {"verdict": judgement.verdict, "passed": judgement.passed,
            "duration_s": round(judgement.duration_s, 4), "timeout_s": job.timeout_s,
            "reason": judgement.reason[-300:]}


def run_jobs(sandbox: Any, jobs: Sequence[CheckJob]) -> list[dict[str, Any]]:
    """Judge the checks in parallel on the sandbox, in order."""
    checks = [dataclasses.replace(job.check, timeout_s=job.timeout_s) for job in jobs]
    return [row(job, judgement)
            for job, judgement in zip(jobs, Judge(sandbox).run(checks), strict=True)]


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
