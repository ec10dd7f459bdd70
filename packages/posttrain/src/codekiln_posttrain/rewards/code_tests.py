"""``code-tests``: run each sample's program against its prompt's tests in the sandbox.

Batched over the sandbox pool: every run of a batch goes to ``run_many`` at once, each with
the sandbox's wall-clock timeout, so a hung or forking program costs at most its timeout
and never stalls training (a timeout is the model's failure: 0). Only ``sandbox_error``,
an infrastructure fault, gives ``None``.

Tests come from the ``tests`` column: a program of asserts (``binary``: 1.0 when it all
passes), or a list of test snippets (``fraction``: the share that passes; ``binary`` then
needs all of them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from codekiln_core.errors import ConfigError
from codekiln_core.sandbox import RunRequest, RunResult, Verdict
from codekiln_posttrain.rewards.base import Sample
from codekiln_posttrain.rewards.extract import extract_code

Mode = Literal["binary", "fraction"]


def test_snippets(tests: Any) -> list[str]:
    if isinstance(tests, str):
        return [tests]
    if isinstance(tests, list | tuple) and all(isinstance(t, str) for t in tests):
        return list(tests)
    raise ConfigError(f"code-tests: column 'tests' is {type(tests).__name__}; give a string "
                      "of test code or a list of them")


def program(code: str, tests: str, setup: str = "") -> str:
    return "\n\n".join(part for part in (setup, code, tests) if part.strip()) + "\n"


class CodeTestsReward:
    """Unit-test reward; owns a sandbox unless one is passed in."""

    def __init__(self, mode: Mode = "binary", *, sandbox: Any = None, workers: int = 2,
                 timeout_s: float = 10.0, url: str | None = None) -> None:
        if mode not in ("binary", "fraction"):
            raise ConfigError(f"code-tests mode={mode!r} is invalid; use binary or fraction")
        self.mode = mode
        self.timeout_s = timeout_s
        self._owned = sandbox is None
        self._sandbox = sandbox
        self._workers, self._url = workers, url
        self.sandbox_errors = 0

    @property
    def sandbox(self) -> Any:
        if self._sandbox is None:
            from codekiln_core.sandbox import LocalSandbox, SandboxFusionSandbox, SandboxLimits

            if self._url:
                self._sandbox = SandboxFusionSandbox(self._url)
            else:
                self._sandbox = LocalSandbox(workers=self._workers,
                                             limits=SandboxLimits(timeout_s=self.timeout_s))
        return self._sandbox

    def requests(self, sample: Sample) -> list[RunRequest]:
        columns = sample.columns
        if "tests" not in columns:
            raise ConfigError("code-tests: sample has no 'tests' column; RL datasets need "
                              "the tests of each prompt")
        code = extract_code(sample.completion)
        language = str(columns.get("language") or "python")
        setup = str(columns.get("setup") or "")
        snippets = test_snippets(columns["tests"])
        if self.mode == "binary":
            snippets = ["\n".join(snippets)]
        return [RunRequest(language=language, code=program(code, t, setup),
                           timeout_s=self.timeout_s) for t in snippets]

    def score(self, samples: Sequence[Sample]) -> list[float | None]:
        plans = [self.requests(s) for s in samples]
        flat = [r for plan in plans for r in plan]
        results: list[RunResult] = self.sandbox.run_many(flat)
        scores: list[float | None] = []
        at = 0
        for plan in plans:
            mine, at = results[at: at + len(plan)], at + len(plan)
            scores.append(self._score(mine))
        return scores

    def _score(self, results: list[RunResult]) -> float | None:
        if any(r.verdict is Verdict.SANDBOX_ERROR for r in results):
            self.sandbox_errors += 1
            return None
        passed = sum(r.verdict is Verdict.PASSED for r in results)
        return passed / len(results)

    def close(self) -> None:
        if self._owned and self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None
