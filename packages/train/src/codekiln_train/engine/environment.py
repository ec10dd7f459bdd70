"""The process environment DeepSpeed reads, filled in for a single process we start ourselves.

DeepSpeed expects a launcher (``deepspeed``, ``torchrun``, MPI) to have set RANK, WORLD_SIZE
and a rendezvous address; without them it goes looking for ``mpi4py``. A plain
``codekiln train pretrain`` is one process, so we set what a launcher would. Variables that a
real launcher already set are never touched.
"""

from __future__ import annotations

import os
import socket

#: What a launcher sets for every worker; we fill in rank 0 of a world of 1.
DISTRIBUTED_VARS = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
#: The port we picked when we filled the variables in. A child process (a CLI run started
#: from a notebook or a test) inherits them; this marks them as ours, not a launcher's, so
#: the child picks its own port instead of colliding with the parent's rendezvous.
FILLED_PORT = "CODEKILN_FILLED_MASTER_PORT"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on now (the OS picks it), for a one-process rendezvous."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def filled_by_us() -> bool:
    """The rank variables are the ones :func:`ensure_distributed_env` filled in."""
    filled = os.environ.get(FILLED_PORT)
    return bool(filled) and os.environ.get("MASTER_PORT") == filled and \
        os.environ.get("WORLD_SIZE") == "1"


def launched_by_launcher() -> bool:
    """True when a launcher set the rank variables (multi-process or multi-node run)."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ and not filled_by_us()


def cuda_usable() -> bool:
    """A CUDA device is present and not hidden (imports torch: call it inside a run only)."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) == "":
        return False
    import torch

    return bool(torch.cuda.is_available())


def ensure_distributed_env(*, device: str | None = None) -> None:
    """Set DS_ACCELERATOR and the rank/rendezvous variables for a one-process run.

    ``device`` is ``"cpu"`` or ``"cuda"``; None picks CUDA when usable. On CPU DeepSpeed must
    be told (``DS_ACCELERATOR=cpu``) before it is imported, or it probes for CUDA.
    """
    from codekiln_train.engine.build_locks import clear_stale_build_locks

    clear_stale_build_locks()
    use_cuda = cuda_usable() if device is None else device == "cuda"
    if not use_cuda:
        os.environ["DS_ACCELERATOR"] = "cpu"
    if launched_by_launcher():
        os.environ.setdefault("LOCAL_RANK", os.environ["RANK"])
        os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
        return
    inherited = filled_by_us()
    os.environ["RANK"] = "0"
    os.environ["LOCAL_RANK"] = "0"
    os.environ["WORLD_SIZE"] = "1"
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    if inherited or "MASTER_PORT" not in os.environ:
        os.environ["MASTER_PORT"] = str(free_port(os.environ["MASTER_ADDR"]))
    os.environ[FILLED_PORT] = os.environ["MASTER_PORT"]


def world() -> tuple[int, int, int]:
    """(rank, local_rank, world_size) from the environment (after ensure_distributed_env)."""
    return (int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0")),
            int(os.environ.get("WORLD_SIZE", "1")))


def use_threads(threads: int | None) -> None:
    """Pin torch's intra-op threads (a recipe's ``threads``; None leaves torch's default)."""
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
