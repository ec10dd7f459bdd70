"""Executors: run :func:`run_pass_task` over many shards, locally or on Ray
(:mod:`codekiln_curate.engine.ray_executor`).

Both run the same function on the same plain-data tasks, so their outputs are identical;
results arrive in completion order and the engine never depends on that order.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol

from codekiln_curate.engine.cluster import LostNode
from codekiln_curate.engine.shard_task import PassTask, run_pass_task


class Executor(Protocol):
    def map(self, tasks: list[PassTask]) -> Iterator[dict[str, Any]]: ...

    def close(self) -> None: ...

    @property
    def lost_nodes(self) -> list[LostNode]: ...


class LocalExecutor:
    """In-process for one worker, else a process pool (spawned: safe next to threads)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    @property
    def lost_nodes(self) -> list[LostNode]:
        return []  # one machine: a lost machine is a lost run, resumed by a rerun

    def map(self, tasks: list[PassTask]) -> Iterator[dict[str, Any]]:
        if self.workers <= 1 or len(tasks) <= 1:
            for task in tasks:
                yield run_pass_task(task)
            return
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context)
        yield from _bounded(self._pool.submit, tasks, self.workers * 2)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


def _bounded(submit: Callable[..., Future[dict[str, Any]]], tasks: list[PassTask],
             window: int) -> Iterator[dict[str, Any]]:
    """Keep at most ``window`` tasks in flight, yielding results as they finish."""
    pending: set[Future[dict[str, Any]]] = set()
    queue = list(reversed(tasks))
    while queue or pending:
        while queue and len(pending) < window:
            pending.add(submit(run_pass_task, queue.pop()))
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        for future in done:
            yield future.result()


def make_executor(kind: str, workers: int, retries: int = 3) -> Executor:
    if kind == "ray":
        from codekiln_curate.engine.ray_executor import RayExecutor

        return RayExecutor(workers, retries=retries)
    return LocalExecutor(workers)
