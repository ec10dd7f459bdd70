"""``code-tests``: each sample's code against its prompt's tests, decided by core's judge.

The judge (``codekiln_core.judge``) is what eval uses too: the answer runs first, the tests
after it, and only a program that finishes every test passes - leaving early, silencing the
assertions, rewriting the tests or returning an object that equals anything all score 0.
Batched over the sandbox pool: every run of a batch goes to ``run_many`` at once, each with
the sandbox's wall-clock timeout, so a hung or forking program costs at most its timeout and
never stalls training (a timeout is the model's failure: 0). Only ``sandbox_error``, an
infrastructure fault, gives ``None``.

Tests come from the ``tests`` column: a program of asserts (``binary``: 1.0 when it all
passes), or a list of test snippets (``fraction``: the share that passes; ``binary`` then
needs all of them). ``language`` names the language (default python); ``setup`` is code
placed before the answer (imports the tests assume).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from codekiln_core.errors import ConfigError
from codekiln_core.judge import Judge, Judgement, Submission
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

    def submissions(self, sample: Sample) -> list[Submission]:
        """What the judge decides for one sample: one submission per test group."""
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
        return [Submission(language, code, tests, prelude=setup, timeout_s=self.timeout_s)
                for tests in snippets]

    def score(self, samples: Sequence[Sample]) -> list[float | None]:
        plans = [self.submissions(s) for s in samples]
        judged = Judge(self.sandbox).run([s for plan in plans for s in plan])
        scores: list[float | None] = []
        at = 0
        for plan in plans:
            mine, at = judged[at: at + len(plan)], at + len(plan)
            scores.append(self._score(mine))
        return scores

    def _score(self, judgements: list[Judgement]) -> float | None:
        if any(j.verdict == "sandbox_error" for j in judgements):
            self.sandbox_errors += 1
            return None
        return sum(j.passed for j in judgements) / len(judgements)

    def close(self) -> None:
        if self._owned and self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None
