"""How many intra-op threads torch may use, so processes sharing cores do not fight.

torch starts one OpenMP thread per core it sees. Every small op of a decode step then ends in
a barrier, and when another process holds one of those cores the barrier waits for the
scheduler: on a 2-core machine with other work running, a server decoding with 2 threads was
about 10x slower than with 1. So every codekiln process that runs torch picks its count here:

1. the command's ``--threads`` (a recipe's ``threads``) when given;
2. else ``$CODEKILN_THREADS``, else ``$OMP_NUM_THREADS`` (the usual knob) when set;
3. else the cores this process may run on (CPU affinity, capped by a cgroup CPU quota),
   divided by the workers started on this host (``LOCAL_WORLD_SIZE`` from torchrun,
   ``LOCAL_SIZE`` from DeepSpeed's launcher); for inference (serving, sampling, scoring)
   less the cores other work keeps busy right now. Training leaves the load out: its count
   must not change between a run and its resume, or float reductions (and so the bit-identical
   resume) could differ.

Never more threads than cores, never fewer than one. The count is chosen once, at start-up:
a load that arrives later is not seen (set ``CODEKILN_THREADS`` for a machine known to be
shared).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from codekiln_core.errors import ConfigError

THREADS_ENV = "CODEKILN_THREADS"
#: The help of every ``threads`` field and ``--threads`` flag.
THREADS_HELP = ("torch CPU threads (default: $CODEKILN_THREADS, else this process's cores "
                "divided by the processes on this host; inference also leaves out busy cores)")
#: Environment variables a launcher sets to the number of processes it started on this host.
LOCAL_WORKERS_ENVS = ("LOCAL_WORLD_SIZE", "LOCAL_SIZE")


def available_cores() -> int:
    """Cores this process may run on: its CPU affinity, capped by a cgroup v2 CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    quota = _cgroup_quota()
    return max(1, min(cores, quota) if quota else cores)


def _cgroup_quota() -> int | None:
    """``cpu.max`` as whole cores (rounded up), None when unlimited or not readable."""
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    return max(1, math.ceil(int(quota) / int(period)))


def local_workers() -> int:
    """Processes a launcher started on this host (1 when none did)."""
    for name in LOCAL_WORKERS_ENVS:
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return 1


def busy_cores(cores: int) -> float:
    """Of our ``cores``, how many other work keeps busy now (0 where the load is unknown).

    The larger of the 1-minute load average and the tasks runnable this instant (less
    ourselves), scaled from the whole host to the cores we may use: the average lags a load
    that just started, the instant count flickers.
    """
    try:
        fields = Path("/proc/loadavg").read_text().split()
        average, runnable = float(fields[0]), int(fields[3].split("/")[0]) - 1
    except (OSError, ValueError, IndexError):
        return 0.0
    host = os.cpu_count() or cores
    return max(average, float(runnable)) * cores / host


def pick_threads(requested: int | None = None, *, cores: int | None = None,
                 workers: int | None = None, busy: float | None = None,
                 env: dict[str, str] | None = None, load_aware: bool = False) -> int:
    """The intra-op thread count for this process (rules in the module docstring).

    The keyword arguments stand in for the machine (tests and benchmarks pass them).
    """
    environ = os.environ if env is None else env
    cores = available_cores() if cores is None else cores
    if requested is None:
        requested = _from_env(environ)
    if requested is not None:
        return max(1, min(requested, cores))
    workers = local_workers() if workers is None else workers
    if busy is None:
        busy = busy_cores(cores) if load_aware else 0.0
    siblings = max(0, workers - 1)  # our own ranks, started with us, are not "other work"
    free = max(1, cores - round(max(0.0, busy - siblings)))
    return max(1, min(cores, free // max(1, workers)))


def _from_env(environ: os._Environ[str] | dict[str, str]) -> int | None:
    for name in (THREADS_ENV, "OMP_NUM_THREADS"):
        value = environ.get(name, "").strip()
        if not value:
            continue
        if not value.isdigit() or int(value) < 1:
            raise ConfigError(f"${name}={value!r}: expected a whole number of threads >= 1 "
                              f"(unset it to let codekiln pick)")
        return int(value)
    return None


def use_threads(requested: int | None = None, *, load_aware: bool = False) -> int:
    """Set torch's intra-op threads by :func:`pick_threads`; returns the count (imports torch).
    ``load_aware``: inference, which may leave out the cores other work keeps busy."""
    import torch

    threads = pick_threads(requested, load_aware=load_aware)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads
