"""Fork one child, feed it stdin, collect capped output, enforce the wall clock, reap everything.

The parent waits on a pidfd and the output pipes in one ``select`` loop (no polling, no
threads: the worker forks, so it must stay single-threaded). When the child exits or the
deadline passes, the whole process group is killed and, if anything else is still alive below
the worker and the run has a uid of its own, every process of that uid too, so nothing the
program started outlives the run.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from codekiln_core.sandbox.isolation import kill_uid

SETUP_FAILED_EXIT = 125  # the child could not isolate itself; its status pipe says why
_DRAIN_GRACE_S = 1.0
_REAP_GRACE_S = 2.0  # SIGKILLed processes normally die within milliseconds
_STATUS_CAP = 64 * 1024


@dataclass
class Outcome:
    """Raw facts about a finished child, before any verdict."""

    exit_code: int | None
    signal: int | None
    timed_out: bool
    stdout: bytes
    stderr: bytes
    truncated: bool
    status: bytes
    duration_s: float
    cpu_s: float


class _Capped:
    """Keeps the first ``cap`` bytes of a stream and counts the rest."""

    def __init__(self, cap: int) -> None:
        self.cap, self.data, self.dropped = cap, bytearray(), 0

    def add(self, chunk: bytes) -> None:
        room = self.cap - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        self.dropped += max(0, len(chunk) - max(room, 0))


def _stdin_fd(data: bytes | None) -> int:
    """A memfd holding the input (no pipe deadlocks, no file on disk), or /dev/null."""
    if data is None:
        return os.open(os.devnull, os.O_RDONLY)
    fd = os.memfd_create("sandbox-stdin", 0)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _child_main(target: Callable[[int], None], stdin_fd: int, out_w: int, err_w: int,
                status_w: int) -> None:
    try:
        os.dup2(stdin_fd, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.closerange(3, status_w)
        os.closerange(status_w + 1, 65536)
        target(status_w)
        os.write(status_w, b"setup_error target returned")
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.write(status_w, f"setup_error {type(exc).__name__}: {exc}".encode()[:4000])
    os._exit(SETUP_FAILED_EXIT)


def _has_children() -> bool:
    """Whether this worker still has children. Workers are child subreapers, so anything a
    run left behind (even a double-forked daemon) stays below the worker; none -> no sweep."""
    try:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    return True


def _reap_swept(uid: int, deadline: float) -> None:
    """Wait until the swept processes are gone, not just signalled: SIGKILL lands
    asynchronously, and a killed orphan stays a zombie of this subreaper (still owned by the
    run's uid) until it is reaped, so the next run could otherwise see it."""
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.005)
            kill_uid(uid)  # one forked after the sweep may still be running


def run_forked(
    target: Callable[[int], None],
    *,
    stdin: bytes | None,
    timeout_s: float,
    max_output: int,
    uid: int | None,
) -> Outcome:
    """Run ``target(status_fd)`` in a fresh child (it must exec or ``os._exit``)."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    status_r, status_w = os.pipe()
    stdin_fd = _stdin_fd(stdin)
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        _child_main(target, stdin_fd, out_w, err_w, status_w)
    for fd in (out_w, err_w, status_w, stdin_fd):
        os.close(fd)
    with contextlib.suppress(OSError):
        os.setpgid(pid, pid)
    streams = {
        out_r: _Capped(max_output), err_r: _Capped(max_output), status_r: _Capped(_STATUS_CAP)
    }
    pidfd = os.pidfd_open(pid)
    timed_out = _pump(streams, pidfd, start + timeout_s)
    duration = time.monotonic() - start
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    _, status, usage = os.wait4(pid, 0)
    if uid is not None and _has_children():
        kill_uid(uid)  # something escaped the group: sweep every process of the run's uid
        _reap_swept(uid, time.monotonic() + _REAP_GRACE_S)
    _pump(streams, None, time.monotonic() + _DRAIN_GRACE_S)
    for fd in (*streams, pidfd):
        os.close(fd)
    out, err, stat = streams[out_r], streams[err_r], streams[status_r]
    return Outcome(
        exit_code=os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        signal=os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        timed_out=timed_out,
        stdout=bytes(out.data),
        stderr=bytes(err.data),
        truncated=bool(out.dropped or err.dropped),
        status=bytes(stat.data),
        duration_s=duration,
        cpu_s=usage.ru_utime + usage.ru_stime,
    )


def _pump(streams: dict[int, _Capped], pidfd: int | None, deadline: float) -> bool:
    """Read pipes until the child exits (pidfd given) or all pipes close; True on deadline."""
    sel = selectors.DefaultSelector()
    open_fds = set()
    for fd in streams:
        with contextlib.suppress(ValueError, KeyError):
            sel.register(fd, selectors.EVENT_READ)
            open_fds.add(fd)
    if pidfd is not None:
        sel.register(pidfd, selectors.EVENT_READ)
    try:
        while open_fds or pidfd is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True
            for key, _ in sel.select(remaining):
                fd = int(key.fd)
                if fd == pidfd:
                    return False
                chunk = os.read(fd, 65536)
                if chunk:
                    streams[fd].add(chunk)
                else:
                    sel.unregister(fd)
                    open_fds.discard(fd)
        return False
    finally:
        sel.close()
