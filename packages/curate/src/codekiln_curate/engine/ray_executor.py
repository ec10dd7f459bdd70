"""The Ray executor: one Ray task per shard (0.5 CPU each), retried when its node is lost.

Joins the cluster ``RAY_ADDRESS`` names (``ray start --head`` prints it; ``auto`` finds one
on this node), whose CPUs then decide the parallelism; otherwise starts a local Ray
(``num_cpus=workers``) unless one is already connected. Shuts down only what it started:
leaving a cluster it joined only disconnects from it.

Faults: a task lost with its worker process or node runs again on the nodes that remain, up
to ``retries`` times (Ray's task retries; a task's own exception is never retried: it would
fail again). The rerun finds the outputs of a shard finished before its result was lost by
the shard's completion marker and returns that. Every node lost during the run is reported
(:mod:`codekiln_curate.engine.cluster`).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from codekiln_core.errors import CodekilnError
from codekiln_curate.engine.cluster import LostNode, NodeWatch
from codekiln_curate.engine.shard_task import PassTask, run_pass_task

TASK_CPUS = 0.5


def _ray_shard(task: str) -> str:
    """Ray task: one shard of one pass, as JSON both ways. Ray reuses worker processes, so
    the stage setup cached in :mod:`shard_task` survives from shard to shard."""
    return json.dumps(run_pass_task(PassTask(**json.loads(task))))


class RayExecutor:
    """Shard tasks on a Ray cluster, at most a few per CPU in flight (see the module)."""

    def __init__(self, workers: int, temp_dir: str | None = None, retries: int = 3) -> None:
        import ray

        self.workers = max(1, workers)
        self.retries = retries
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
        self._watch = NodeWatch()

    @property
    def lost_nodes(self) -> list[LostNode]:
        return self._watch.lost

    def map(self, tasks: list[PassTask]) -> Iterator[dict[str, Any]]:
        import ray

        if not tasks:
            return
        pass_index = tasks[0].pass_index
        self._watch.check(pass_index)
        remote = ray.remote(num_cpus=TASK_CPUS, max_retries=self.retries)(_ray_shard)
        window = max(2, 2 * int(ray.cluster_resources().get("CPU", 1) / TASK_CPUS))
        queue, pending = list(reversed(tasks)), {}
        while queue or pending:
            while queue and len(pending) < window:
                task = queue.pop()
                pending[remote.remote(json.dumps(asdict(task)))] = task
            done, _ = ray.wait(list(pending), num_returns=1)
            self._watch.check(pass_index)  # one GCS call per shard: cheap next to a shard
            for ref in done:
                yield self._result(ref, pending.pop(ref))
        self._watch.check(pass_index)

    def _result(self, ref: Any, task: PassTask) -> dict[str, Any]:
        import ray

        try:
            result: dict[str, Any] = json.loads(ray.get(ref))
        except ray.exceptions.RayTaskError as exc:  # the task's own error, as run locally
            if isinstance(exc.cause, CodekilnError):
                raise exc.cause from None
            raise
        except ray.exceptions.RayError as exc:
            raise CodekilnError(
                f"shard {task.shard.get('shard_id', '?')} (pass {task.pass_index + 1}) was lost "
                f"with its worker or node {self.retries + 1} times ({type(exc).__name__}); "
                "rerun the same command to resume from the finished shards, or raise "
                "`retries` in the recipe") from exc
        return result

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
