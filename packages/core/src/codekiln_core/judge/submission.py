"""What the judge is asked (a submission) and what it answers (a judgement)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Verdict of an I/O check whose program ran cleanly but printed the wrong output.
WRONG_ANSWER = "wrong_answer"


@dataclass(frozen=True)
class Submission:
    """An answer and the tests that decide it.

    ``answer`` is the untrusted code (a model's program); ``tests`` the trusted checks, run
    after it with the answer's names in scope (asserts, a ``check(candidate)`` call, a
    MultiPL-E ``main``...); ``prelude`` trusted code placed before the answer (imports,
    declarations the answer builds on). With ``expected_stdout`` set, the submission is an
    I/O check instead: the answer is the whole program, fed ``stdin``, and passes when it
    exits cleanly with that output (compared token-wise, floats with a tolerance).
    """

    language: str
    answer: str
    tests: str = ""
    prelude: str = ""
    stdin: str | None = None
    expected_stdout: str | None = None
    files: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float | None = None


@dataclass(frozen=True)
class Judgement:
    """The verdict on one submission: a sandbox ``Verdict`` value or ``wrong_answer``.

    ``reason`` says why it did not pass (empty when it did); ``result`` is the sandbox's raw
    ``RunResult`` (None when nothing ran).
    """

    verdict: str
    reason: str = ""
    duration_s: float = 0.0
    result: Any = None

    @property
    def passed(self) -> bool:
        return self.verdict == "passed"
