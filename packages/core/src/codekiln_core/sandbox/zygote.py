"""A warm worker: started once, imports only the standard library, forks a child per run.

Protocol (one JSON object per line): the pool sends ``{"tools": ...}``, the worker answers
``{"isolation": [...], "rejected": [...]}``; then each ``{"request": ..., "limits": ...}`` is
answered by one ``RunResult`` dict. The channel is moved off fds 0/1 so a forked child can
never write into it, and the worker's own environment is already scrubbed by the pool.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import gc
import importlib
import json
import os
import shutil
import sys
import tempfile
from typing import Any, BinaryIO

from codekiln_core.sandbox.isolation import IsolationPlan, enter_worker_mounts
from codekiln_core.sandbox.job import WorkerContext, run_job
from codekiln_core.sandbox.limits import SandboxLimits
from codekiln_core.sandbox.probe import choose_plan, enter_worker_netns
from codekiln_core.sandbox.result import RunRequest, sandbox_error

PR_SET_CHILD_SUBREAPER = 36
WORKER_SHM_MB = 256  # the worker's /dev/shm tmpfs, shared (one at a time) by its runs
# Imported once here so a forked run gets them for free (they are what tests typically use).
PRELOAD = ("math", "re", "collections", "itertools", "functools", "heapq", "bisect", "string",
           "typing", "random", "statistics", "fractions", "decimal", "datetime", "hashlib",
           "copy", "operator", "json", "traceback", "unittest", "dataclasses", "enum",
           "codekiln_core.judge.python_main")  # the judge's Python harness (a stub imports it)


def _preload() -> None:
    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def _become_subreaper() -> None:
    """Orphans of a run re-parent to this worker, so they can be reaped after each run."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def reap_orphans() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _scratch_root() -> str | None:
    """Work dirs on tmpfs when there is one: creating and removing them is then ~free."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def _worker_mounts(plan: IsolationPlan, rejected: list[str]) -> IsolationPlan:
    """Apply the per-run mount layout to the worker itself once, when the probe chose it."""
    try:
        enter_worker_mounts(plan, WORKER_SHM_MB)
    except OSError as exc:  # runs keep their own mount namespace instead
        rejected.append(f"worker-level mountns: {exc}")
        return plan
    return dataclasses.replace(plan, worker_mountns=True)


def _open_channel() -> tuple[BinaryIO, BinaryIO]:
    reader = os.fdopen(os.dup(0), "rb")
    writer = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    return reader, writer


def _send(writer: BinaryIO, payload: dict[str, Any]) -> None:
    writer.write(json.dumps(payload).encode() + b"\n")
    writer.flush()


def serve(reader: BinaryIO, writer: BinaryIO) -> None:
    hello = json.loads(reader.readline())
    base_dir = tempfile.mkdtemp(prefix="codekiln-sandbox-", dir=_scratch_root())
    os.chmod(base_dir, 0o711)
    try:
        probe_dir = tempfile.mkdtemp(prefix="probe-", dir=base_dir)
        plan, rejected = choose_plan(hello["tools"], probe_dir, enter_worker_netns())
        shutil.rmtree(probe_dir, ignore_errors=True)
        if plan.mountns and plan.uid is not None:
            shutil.rmtree(base_dir, ignore_errors=True)  # the worker's own /tmp replaces it
            plan = _worker_mounts(plan, rejected)
            if not plan.worker_mountns:
                base_dir = tempfile.mkdtemp(prefix="codekiln-sandbox-", dir=_scratch_root())
                os.chmod(base_dir, 0o711)
        ctx = WorkerContext(plan=plan, tools=hello["tools"], base_dir=base_dir)
        _send(writer, {"isolation": plan.names, "rejected": rejected})
        # Everything alive now is shared with every forked run: frozen objects are never
        # scanned by a collection in the child, so their pages are not copied (faster forks).
        gc.collect()
        gc.freeze()
        for line in reader:
            message = json.loads(line)
            try:
                result = run_job(ctx, RunRequest.from_dict(message["request"]),
                                 SandboxLimits.from_dict(message["limits"]))
            except Exception as exc:  # a worker bug must not look like a model failure
                result = sandbox_error(f"worker error: {type(exc).__name__}: {exc}", plan.names)
            reap_orphans()
            _send(writer, result.to_dict())
    finally:
        shutil.rmtree(base_dir, ignore_errors=True)


def main() -> None:
    reader, writer = _open_channel()
    _become_subreaper()
    _preload()
    sys.stdout.flush()
    serve(reader, writer)


if __name__ == "__main__":
    main()
