"""Code that runs inside the forked child: isolate, then exec a program or run Python in place.

Running Python in place (``exec`` of the compiled source in a fresh namespace, inside a fork
of a warm interpreter) is what makes the pool fast: no interpreter start-up per run. The
status pipe tells the parent how the program ended; the clean-completion message carries a
per-run nonce the program never sees in its own source, so ``sys.exit(0)``, ``os._exit(0)``
or patched builtins before the checks cannot fake a pass. (Code that deliberately walks the
runner's frames could still find it; that is documented in docs/sandbox.md.)
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from codekiln_core.sandbox import isolation


@dataclass(frozen=True)
class ChildSetup:
    """Everything the child needs to isolate itself."""

    plan: isolation.IsolationPlan
    workdir: str
    rlimits: isolation.Rlimits
    env: dict[str, str]
    shm_mb: int


def _isolate(setup: ChildSetup) -> str:
    cwd = isolation.enter(setup.plan, setup.workdir, setup.shm_mb)
    os.chdir(cwd)
    isolation.apply_rlimits(setup.rlimits)
    isolation.drop_privileges(setup.plan.uid)
    return cwd


def exec_target(setup: ChildSetup, argv: list[str]) -> Callable[[int], None]:
    """A ``run_forked`` target that execs ``argv`` (the status pipe closes on exec)."""

    def target(status_fd: int) -> None:
        _isolate(setup)
        isolation.reset_signals()
        os.execve(argv[0], argv, setup.env)

    return target


def python_target(setup: ChildSetup, code: str, nonce: str) -> Callable[[int], None]:
    """A ``run_forked`` target that runs Python source in this (forked, warm) interpreter."""

    def target(status_fd: int) -> None:
        cwd = _isolate(setup)
        os.environ.clear()
        os.environ.update(setup.env)
        sys.argv = ["main.py"]
        sys.path.insert(0, cwd)
        _run_python(code, os.path.join(cwd, "main.py"), status_fd, nonce)

    return target


def _report(write: Callable[[int, bytes], int], status_fd: int, message: str) -> None:
    write(status_fd, message.encode(errors="replace")[:2000])


def _flush(*streams: object) -> None:
    for stream in streams:
        with contextlib.suppress(BaseException):
            stream.flush()  # type: ignore[attr-defined]


def _run_python(code: str, filename: str, status_fd: int, nonce: str) -> None:
    """Compile, exec, and report; never returns. Holds its own references to everything it
    uses afterwards, so a program that patches ``os``/``sys``/``builtins`` cannot change them."""
    write, exit_now = os.write, os._exit
    real_assertion, real_memory = AssertionError, MemoryError
    out, err = sys.stdout, sys.stderr
    format_exc = traceback.format_exception
    try:
        compiled = compile(code, filename, "exec")
    except (SyntaxError, ValueError) as exc:
        err.write("".join(format_exc(exc)))
        _flush(err)
        _report(write, status_fd, f"syntax {type(exc).__name__}: {exc}")
        exit_now(1)
    namespace = {"__name__": "__main__", "__file__": filename, "__builtins__": builtins}
    try:
        exec(compiled, namespace)
    except SystemExit as exc:
        code_value = exc.code
        if code_value is None:
            exit_code = 0
        elif isinstance(code_value, int):
            exit_code = code_value & 0xFF
        else:
            err.write(f"{code_value}\n")
            exit_code = 1
        _flush(sys.stdout, sys.stderr, out, err)
        _report(write, status_fd, f"exit {exit_code}")
        exit_now(exit_code)
    except BaseException as exc:
        _flush(sys.stdout, out)
        user_tb = exc.__traceback__.tb_next if exc.__traceback__ else None  # skip our frame
        with contextlib.suppress(BaseException):
            err.write("".join(format_exc(type(exc), exc, user_tb)))
        _flush(sys.stderr, err)
        if isinstance(exc, real_assertion):
            kind = "assertion"
        elif isinstance(exc, real_memory):
            kind = "memory"
        elif isinstance(exc, OSError) and exc.errno == errno.EFBIG:
            kind = "filesize"
        else:
            kind = "exception"
        _report(write, status_fd, f"{kind} {type(exc).__name__}")
        exit_now(1)
    _flush(sys.stdout, sys.stderr, out, err)
    _report(write, status_fd, f"done {nonce}")
    exit_now(0)
