"""Executors: run :func:`run_pass_task` over many shards, locally or on Ray Data.

Both run the same function on the same plain-data tasks, so their outputs are identical;
results arrive in completion order and the engine never depends on that order.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol

from codekiln_curate.engine.shard_task import PassTask, run_pass_task


class Executor(Protocol):
    def map(self, tasks: list[PassTask]) -> Iterator[dict[str, Any]]: ...

    def close(self) -> None: ...


class LocalExecutor:
    """In-process for one worker, else a process pool (spawned: safe next to threads)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

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


def _ray_shard_batch(batch: dict[str, Any]) -> dict[str, Any]:
    """Ray Data task: one shard per row; Ray reuses worker processes, so the stage setup
    cached in :mod:`shard_task` survives from shard to shard."""
    import json

    results = [json.dumps(run_pass_task(PassTask(**json.loads(t)))) for t in batch["task"]]
    return {"result": results}


class RayExecutor:
    """Ray Data ``map_batches`` over shard tasks with fractional CPUs (0.5 each).

    Joins the cluster ``RAY_ADDRESS`` names (``ray start --head`` prints it; ``auto`` finds
    one on this node), whose CPUs then decide the parallelism; otherwise starts a local Ray
    (``num_cpus=workers``) unless one is already connected. Shuts down only what it started:
    leaving a cluster it joined only disconnects from it.
    """

    def __init__(self, workers: int, temp_dir: str | None = None) -> None:
        import ray

        self.workers = max(1, workers)
        self._started = False
        self._own_tmp: str | None = None
        address = os.environ.get("RAY_ADDRESS", "").strip()
        if not ray.is_initialized() and address and address != "local":
            # Ray refuses num_cpus and a temp dir when joining a running cluster.
            _workers_use_this_interpreter()
            ray.init(address=address, log_to_driver=False, configure_logging=False)
            self._started = True
        elif not ray.is_initialized():
            if temp_dir is None:
                temp_dir = self._own_tmp = tempfile.mkdtemp(prefix="codekiln-ray-")
            _workers_use_this_interpreter()
            ray.init(num_cpus=max(2, self.workers), include_dashboard=False,
                     _temp_dir=temp_dir, log_to_driver=False, configure_logging=False)
            self._started = True

    def map(self, tasks: list[PassTask]) -> Iterator[dict[str, Any]]:
        import json
        from dataclasses import asdict

        import ray.data

        if not tasks:
            return
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        items = [{"task": json.dumps(asdict(t))} for t in tasks]
        dataset = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
            _ray_shard_batch, batch_size=1, num_cpus=0.5)
        for row in dataset.iter_rows():
            yield json.loads(row["result"])

    def close(self) -> None:
        import ray

        if self._started and ray.is_initialized():
            ray.shutdown()
            self._started = False
        if self._own_tmp is not None:
            shutil.rmtree(self._own_tmp, ignore_errors=True)
            self._own_tmp = None


def _workers_use_this_interpreter() -> None:
    """Let the workers of a cluster we start on this machine run this very interpreter.

    Under ``uv run``, Ray (>= 2.43) starts every worker as ``uv run ... python`` inside an
    uploaded copy of the working directory: a second environment sync per cluster, which
    fails outright under ``uv run --no-sync`` or after ``uv sync --package``. Setting
    ``RAY_ENABLE_UV_RUN_RUNTIME_ENV`` yourself keeps Ray's choice.
    """
    if "RAY_ENABLE_UV_RUN_RUNTIME_ENV" not in os.environ:
        from ray._private import ray_constants  # read once when ray is imported

        ray_constants.RAY_ENABLE_UV_RUN_RUNTIME_ENV = False


def make_executor(kind: str, workers: int) -> Executor:
    if kind == "ray":
        return RayExecutor(workers)
    return LocalExecutor(workers)
