"""What goes into a sandbox run and what comes out: plain dataclasses that travel as JSON.

Requests and results cross a process boundary (the pool talks to its zygote workers over a
pipe, the remote backend over HTTP), so both convert to and from plain dicts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    """How a run ended. ``SANDBOX_ERROR`` is an infrastructure fault, never a model failure."""

    PASSED = "passed"
    FAILED = "failed"
    TIMEOUT = "timeout"
    COMPILE_ERROR = "compile_error"
    RUNTIME_ERROR = "runtime_error"
    SANDBOX_ERROR = "sandbox_error"


@dataclass(frozen=True)
class RunRequest:
    """One program to run.

    ``require_completion`` (Python only): a program that leaves early through ``sys.exit(0)``,
    ``exit()`` or ``os._exit(0)`` is ``failed``, because test programs put their checks last
    and an early clean exit would skip them. Set it to False to run ordinary scripts.
    ``completion_marker`` (any language): when set, a clean exit only passes if stdout contains
    this string; the harness prints it after its last check. It is removed from ``stdout``.
    """

    language: str
    code: str
    stdin: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    timeout_s: float | None = None
    require_completion: bool = True
    completion_marker: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRequest:
        return cls(**data)


@dataclass(frozen=True)
class RunResult:
    """The outcome of one run; ``isolation`` lists the measures that were actually applied."""

    verdict: Verdict
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    duration_s: float = 0.0
    truncated: bool = False
    isolation: list[str] = field(default_factory=list)
    detail: str = ""
    compile_output: str = ""

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASSED

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        values = dict(data)
        values["verdict"] = Verdict(values["verdict"])
        return cls(**values)


def sandbox_error(detail: str, isolation: list[str] | None = None) -> RunResult:
    """A result for a run the infrastructure could not carry out."""
    return RunResult(verdict=Verdict.SANDBOX_ERROR, detail=detail, isolation=isolation or [])
