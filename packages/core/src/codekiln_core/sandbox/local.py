"""The local sandbox: a pool of warm workers on this machine (see docs/sandbox.md)."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType

from codekiln_core.errors import ConfigError
from codekiln_core.sandbox import languages
from codekiln_core.sandbox.limits import SandboxLimits
from codekiln_core.sandbox.pool import WorkerPool, default_python
from codekiln_core.sandbox.result import RunRequest, RunResult

_TOOLS_CACHE: dict[str, dict[str, str | None]] = {}


def _tools(python: str) -> dict[str, str | None]:
    if python not in _TOOLS_CACHE:
        _TOOLS_CACHE[python] = languages.resolve_tools(python)
    return _TOOLS_CACHE[python]


class LocalSandbox:
    """Runs untrusted programs in isolated children of ``workers`` warm worker processes.

    ``isolation`` lists what this machine allowed (also reported on every result);
    ``rejected`` says why stronger isolation steps were not available.
    """

    #: The workers import the judge's Python harness at start-up (codekiln_core.judge).
    preloads_judge = True

    def __init__(self, workers: int = 2, limits: SandboxLimits | None = None,
                 python: str | None = None) -> None:
        if workers < 1:
            raise ConfigError(f"sandbox workers={workers} is invalid; use 1 or more")
        self.limits = limits or SandboxLimits()
        self.workers = workers
        self._python = python or default_python()
        self._pool = WorkerPool(workers, self._python, _tools(self._python))
        self.isolation: list[str] = list(self._pool.isolation)
        self.rejected: list[str] = list(self._pool.rejected)

    @staticmethod
    def available_languages(python: str | None = None) -> dict[str, str | None]:
        """language -> None when it can run here, else the reason it is skipped."""
        return languages.skip_reasons(_tools(python or default_python()))

    def run(self, request: RunRequest) -> RunResult:
        return self._pool.run(request, self.limits)

    def run_many(self, requests: Sequence[RunRequest]) -> list[RunResult]:
        """All requests in parallel over the pool; results in request order."""
        if not requests:
            return []
        with ThreadPoolExecutor(max_workers=self.workers) as executor:
            return list(executor.map(self.run, requests))

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> LocalSandbox:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
