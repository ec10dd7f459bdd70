"""Isolation steps a forked child applies to itself before it runs untrusted code.

As root (this machine, CI containers) the child gets its own network and mount namespaces,
sees its work directory as ``/tmp`` on an otherwise read-only root file system, and then drops
to a uid of its own (one per worker, so RLIMIT_NPROC counts only this run's processes and a
run cannot signal anything it did not start). Without root, it tries an unprivileged user +
network namespace instead. Which steps took effect is decided once per worker by ``probe``
and reported in every result.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
from dataclasses import dataclass

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT = 1, 2, 4, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
SANDBOX_UID_BASE = 200_000  # well above any account; uid = base + worker pid (unique while alive)


@dataclass(frozen=True)
class IsolationPlan:
    """What a child of this worker applies; ``names`` is what results report."""

    uid: int | None  # drop to this uid (root only)
    netns: bool
    mountns: bool
    userns: bool  # unprivileged user namespace (non-root path)
    hidden_parents: tuple[str, ...]  # 0700 dirs (e.g. /root) masked, keeping toolchains visible
    expose: tuple[str, ...]  # toolchain dirs under hidden_parents to bind back read-only
    worker_netns: bool = False  # the whole worker already sits in an empty network namespace
    worker_mountns: bool = False  # the worker already sits in the private mount layout
    tmp_expose: tuple[str, ...] = ()  # import paths under /tmp to bind back read-only over it

    @property
    def names(self) -> list[str]:
        names = ["process_group", "rlimits", "tmpdir", "env_scrubbed", "stdin_isolated"]
        if self.uid is not None:
            names.append(f"setuid:{self.uid}")
        if self.userns:
            names.append("userns")
        if self.netns or self.worker_netns:
            names.append("netns")
        if self.mountns:
            names.extend(["mountns", "readonly_root", "private_tmp"])
        return names


_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    _check(
        _libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def _map_own_ids(uid: int, gid: int) -> None:
    """Inside a fresh user namespace, keep our own uid/gid so file creation still works."""
    with open("/proc/self/setgroups", "w") as fh:
        fh.write("deny")
    with open("/proc/self/uid_map", "w") as fh:
        fh.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as fh:
        fh.write(f"{gid} {gid} 1")


def _mask_home_dirs(plan: IsolationPlan) -> None:
    """Closed dirs (``/root``) become empty read-only tmpfs, with the toolchains bound back."""
    keep = {path: os.open(path, os.O_PATH | os.O_DIRECTORY) for path in plan.expose}
    for parent in plan.hidden_parents:
        _mount("tmpfs", parent, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k")
    for path, fd in keep.items():
        os.makedirs(path, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID)
        os.close(fd)
    for parent in plan.hidden_parents:
        _mount(None, parent, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _keep_open(paths: tuple[str, ...]) -> dict[str, int]:
    """O_PATH handles on paths a mount is about to cover, so they can be bound back."""
    return {path: os.open(path, os.O_PATH | os.O_DIRECTORY) for path in paths}


def _bind_back(keep: dict[str, int]) -> None:
    """Bind each kept path back at its old place, read-only (after /tmp was replaced)."""
    for path, fd in keep.items():
        os.makedirs(path, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID)
        os.close(fd)


def _setup_mounts(plan: IsolationPlan, workdir: str, shm_mb: int) -> None:
    """Private mounts: workdir as /tmp, fresh /dev/shm, masked home dirs, read-only root."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mask_home_dirs(plan)
    keep = _keep_open(plan.tmp_expose)
    _mount(workdir, "/tmp", None, MS_BIND)
    _bind_back(keep)
    if os.path.isdir("/dev/shm"):
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={shm_mb}m")
    _mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY)


def enter_worker_mounts(plan: IsolationPlan, shm_mb: int) -> None:
    """Move the whole worker into the private mount layout once (root only).

    Runs then need no mount namespace of their own (creating and tearing one down cost about
    0.6 ms of CPU per run). Their work dir is the worker's own ``/tmp`` (a tmpfs owned by the
    worker's uid), which the worker empties, with ``/dev/shm``, after every run.
    """
    unshare(CLONE_NEWNS)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mask_home_dirs(plan)
    owner = f",uid={plan.uid},gid={plan.uid}" if plan.uid is not None else ""
    keep = _keep_open(plan.tmp_expose)
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"mode=0700{owner}")
    _bind_back(keep)
    if os.path.isdir("/dev/shm"):
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={shm_mb}m")
    _mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY)


def enter(plan: IsolationPlan, workdir: str, shm_mb: int) -> str:
    """Namespaces and mounts (needs privileges, so before ``drop_privileges``); returns the cwd."""
    os.setpgid(0, 0)
    if plan.worker_mountns:  # the worker already applied the mounts (``enter_worker_mounts``)
        if plan.netns:
            unshare(CLONE_NEWNET)
        return "/tmp"
    if plan.userns:
        uid, gid = os.getuid(), os.getgid()
        unshare(CLONE_NEWUSER | (CLONE_NEWNET if plan.netns else 0))
        _map_own_ids(uid, gid)
    elif plan.netns or plan.mountns:
        unshare((CLONE_NEWNET if plan.netns else 0) | (CLONE_NEWNS if plan.mountns else 0))
    if plan.mountns:
        _setup_mounts(plan, workdir, shm_mb)
        return "/tmp"
    return workdir


@dataclass(frozen=True)
class Rlimits:
    cpu_s: int
    address_space_mb: int | None
    processes: int
    file_mb: int


def apply_rlimits(limits: Rlimits) -> None:
    """Hard limits as low as soft ones, so the program cannot raise them back."""

    def set_limit(kind: int, value: int) -> None:
        resource.setrlimit(kind, (value, value))

    # soft < hard: SIGXCPU first (reported as a CPU-time timeout), SIGKILL a second later
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
    if limits.address_space_mb is not None:
        set_limit(resource.RLIMIT_AS, limits.address_space_mb * 1024 * 1024)
    set_limit(resource.RLIMIT_NPROC, limits.processes)
    set_limit(resource.RLIMIT_FSIZE, limits.file_mb * 1024 * 1024)
    set_limit(resource.RLIMIT_CORE, 0)


def drop_privileges(uid: int | None) -> None:
    if uid is None:
        return
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise OSError("setuid did not take effect")


def reset_signals() -> None:
    """Python ignores SIGPIPE/SIGXFSZ; an exec'd program must get the default actions back."""
    for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


def kill_uid(uid: int) -> None:
    """Kill every process of a sandbox uid (escaped daemons, fork bombs) from a short child."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            for _ in range(5):  # again, in case a fork raced the first sweep
                os.kill(-1, signal.SIGKILL)
        except BaseException:
            pass
        os._exit(0)
    os.waitpid(pid, 0)
