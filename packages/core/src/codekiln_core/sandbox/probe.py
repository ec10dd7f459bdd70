"""Decide, once per worker, which isolation steps this kernel and these privileges allow.

Each candidate plan is tried for real in a throwaway child (enter the namespaces, apply the
mounts, drop to the sandbox uid, then check the toolchains are still readable); the first
plan that works is used for every run, and its names go into every result.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable

from codekiln_core.sandbox import isolation
from codekiln_core.sandbox.child import ChildSetup
from codekiln_core.sandbox.process import run_forked

_PROBE_RLIMITS = isolation.Rlimits(cpu_s=5, address_space_mb=None, processes=64, file_mb=1)


def hidden_dirs(paths: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Closed (not world-searchable) ancestors of the toolchains, and the entries under them
    that must stay visible: ``/root/.pyenv/...`` -> ``(("/root",), ("/root/.pyenv",))``."""
    parents: set[str] = set()
    expose: set[str] = set()
    for path in paths:
        real = os.path.realpath(path)
        parts = real.strip("/").split("/")
        for depth in range(1, len(parts)):
            ancestor = "/" + "/".join(parts[:depth])
            try:
                mode = os.stat(ancestor).st_mode
            except OSError:
                break
            if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
                parents.add(ancestor)
                expose.add("/" + "/".join(parts[: depth + 1]))
                break
    return tuple(sorted(parents)), tuple(sorted(expose))


def toolchain_paths(tools: dict[str, str | None]) -> list[str]:
    paths = [sys.prefix, sys.base_prefix, os.path.dirname(os.__file__)]
    for tool in tools.values():
        if tool:
            paths.append(os.path.realpath(tool))
            paths.append(os.path.dirname(os.path.dirname(os.path.realpath(tool))))
    return paths


def import_paths_under_tmp() -> tuple[str, ...]:
    """Import paths (a venv, editable sources) that live under ``/tmp``.

    The mount layout puts the work dir over ``/tmp``; these are bound back read-only, or every
    third-party import in sandboxed code would fail for a project cloned under /tmp (as CI
    may do). The probe checks they stay readable.
    """
    return tuple(sorted({p for p in sys.path if p.startswith("/tmp/") and os.path.isdir(p)}))


def enter_worker_netns() -> bool:
    """As root, move the whole worker into an empty network namespace once, so runs need not
    pay for creating one each (only loopback, and it is down)."""
    if os.geteuid() != 0:
        return False
    try:
        isolation.unshare(isolation.CLONE_NEWNET)
    except OSError:
        return False
    return True


def _candidates(tools: dict[str, str | None], worker_netns: bool) -> list[isolation.IsolationPlan]:
    if os.geteuid() == 0:
        uid = isolation.SANDBOX_UID_BASE + os.getpid()
        parents, expose = hidden_dirs(toolchain_paths(tools))
        own_netns = not worker_netns
        return [
            isolation.IsolationPlan(uid, own_netns, True, False, parents, expose, worker_netns,
                                    tmp_expose=import_paths_under_tmp()),
            isolation.IsolationPlan(uid, own_netns, False, False, (), (), worker_netns),
            isolation.IsolationPlan(uid, False, False, False, (), (), worker_netns),
        ]
    return [
        isolation.IsolationPlan(None, True, False, True, (), ()),
        isolation.IsolationPlan(None, False, False, False, (), ()),
    ]


def _try_plan(plan: isolation.IsolationPlan, workdir: str, must_read: list[str]) -> str | None:
    """None when the plan works, else the reason it failed."""
    setup = ChildSetup(plan, workdir, _PROBE_RLIMITS, {}, shm_mb=1)

    def target(status_fd: int) -> None:
        cwd = isolation.enter(plan, workdir, 1)
        os.chdir(cwd)
        isolation.apply_rlimits(setup.rlimits)
        isolation.drop_privileges(plan.uid)
        unreadable = [path for path in must_read if not os.access(path, os.R_OK)]
        if unreadable:
            os.write(status_fd, f"unreadable as sandbox uid: {unreadable}".encode())
            os._exit(3)
        os._exit(0)

    outcome = run_forked(target, stdin=None, timeout_s=20, max_output=4096, uid=plan.uid)
    if outcome.exit_code == 0:
        return None
    return outcome.status.decode(errors="replace") or f"probe exit {outcome.exit_code}"


def choose_plan(
    tools: dict[str, str | None], workdir: str, worker_netns: bool = False
) -> tuple[isolation.IsolationPlan, list[str]]:
    """The strongest working plan, plus the reasons stronger ones were rejected."""
    must_read = [os.path.dirname(os.__file__), *import_paths_under_tmp()]
    rejected: list[str] = []
    candidates = _candidates(tools, worker_netns)
    for plan in candidates:
        if plan.uid is not None:
            os.chown(workdir, plan.uid, plan.uid)
        reason = _try_plan(plan, workdir, must_read)
        if reason is None:
            return plan, rejected
        rejected.append(f"{'+'.join(plan.names[5:]) or 'basic'}: {reason}")
    return candidates[-1], rejected
