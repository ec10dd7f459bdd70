"""The one judge: does an answer pass its tests? Used by eval, rewards, DPO pairs, synthesis.

``Judge(sandbox).run(submissions)`` builds each judged program (``programs.assemble``),
runs them all on the sandbox at once, and reads each verdict: passed only when the program
exited cleanly after its last test (and, for I/O checks, printed the expected output).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from codekiln_core.judge.output import outputs_match
from codekiln_core.judge.programs import Program, assemble
from codekiln_core.judge.submission import WRONG_ANSWER, Judgement, Submission
from codekiln_core.sandbox.languages import SPECS, canonical_name
from codekiln_core.sandbox.result import RunResult, Verdict

_FRAME_PREFIXES = ("at ", "File ", "Traceback ", "throw ", "^")
_SYNTAX = ("uncaught SyntaxError", "uncaught IndentationError", "uncaught TabError")


class Judge:
    """Judges submissions on ``sandbox`` (anything with ``run``/``run_many`` of RunRequests).

    The local sandbox's workers have the Python harness loaded, so Python programs sent there
    are a two-line stub; any other sandbox gets the harness inlined.
    """

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.inline_python = not getattr(sandbox, "preloads_judge", False)

    def program(self, submission: Submission) -> Program:
        return assemble(submission, inline_python=self.inline_python)

    def run(self, submissions: Sequence[Submission]) -> list[Judgement]:
        """Every submission's judgement, in order (one batch on the sandbox pool). A language
        the sandbox does not know is a ``sandbox_error``, as the sandbox itself reports it."""
        judged: list[Judgement | None] = [_unknown_language(s) for s in submissions]
        todo = [i for i, j in enumerate(judged) if j is None]
        results = self.sandbox.run_many([self.program(submissions[i]).request for i in todo])
        for i, result in zip(todo, results, strict=True):
            judged[i] = decide(submissions[i], result)
        return [j for j in judged if j is not None]

    def run_one(self, submission: Submission) -> Judgement:
        unknown = _unknown_language(submission)
        if unknown is not None:
            return unknown
        return decide(submission, self.sandbox.run(self.program(submission).request))


def _unknown_language(submission: Submission) -> Judgement | None:
    if canonical_name(submission.language) in SPECS:
        return None
    return Judgement(Verdict.SANDBOX_ERROR.value, f"unknown language {submission.language!r}; "
                     f"known: {', '.join(sorted(SPECS))}")


def decide(submission: Submission, result: RunResult) -> Judgement:
    """The judgement on a finished run of ``submission``'s program."""
    verdict, reason = result.verdict, result.detail
    if (verdict is Verdict.PASSED and submission.expected_stdout is not None
            and not outputs_match(submission.expected_stdout, result.stdout)):
        return Judgement(WRONG_ANSWER, "stdout differs from the expected output",
                             result.duration_s, result)
    if verdict is Verdict.RUNTIME_ERROR and reason.startswith(_SYNTAX):
        verdict = Verdict.COMPILE_ERROR  # the answer did not compile (the judge compiles first)
    if verdict is Verdict.COMPILE_ERROR and result.compile_output:
        reason = _with_stderr(reason, _first_error(result.compile_output))
    elif verdict is not Verdict.PASSED:
        reason = _with_stderr(reason, result.stderr)
    return Judgement(verdict.value, "" if verdict is Verdict.PASSED else reason,
                     result.duration_s, result)


def _with_stderr(detail: str, stderr: str) -> str:
    """The sandbox's detail plus the program's own message (the failed check, usually)."""
    message = _message_line(stderr)
    if not message or message in detail:
        return detail
    return f"{detail}: {message}" if detail else message


def _first_error(output: str) -> str:
    """A compiler's first error line (its later lines are context and carets)."""
    return next((line for line in output.splitlines() if "error" in line.lower()), output)


def _message_line(stderr: str) -> str:
    """The last stderr line that is a message, not a traceback frame or a caret line."""
    for line in reversed(stderr.strip().splitlines()):
        text = line.strip()
        if text and not text.startswith(_FRAME_PREFIXES) and text.strip("^~ "):
            return text[:300]
    return ""
