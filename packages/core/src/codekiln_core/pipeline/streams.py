"""A step's stderr shown live and kept in its log, beside its stdout.

Errors (``error: …`` one-liners, tracebacks) go to stderr; a log holding only stdout left a
failed step's log with its command line and nothing else. Progress bars redraw with ``\\r``
and no newline, so stderr is copied in raw chunks, not lines, to keep them live.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from typing import IO


class LockedLog:
    """A text log written from two threads (stdout lines, stderr chunks)."""

    def __init__(self, handle: IO[str]) -> None:
        self.handle = handle
        self.lock = threading.Lock()

    def write(self, text: str) -> None:
        with self.lock:
            self.handle.write(text)
            self.handle.flush()


def copy_stderr(stream: IO[bytes], log: LockedLog) -> threading.Thread:
    """Start a thread copying ``stream`` to this process's stderr and ``log`` until EOF."""
    def pump() -> None:
        fd = stream.fileno()
        while chunk := os.read(fd, 65536):
            text = chunk.decode("utf-8", errors="replace")
            sys.stderr.write(text)
            sys.stderr.flush()
            log.write(text)

    thread = threading.Thread(target=pump, name="step-stderr", daemon=True)
    thread.start()
    return thread


def terminal_env() -> dict[str, str]:
    """What a step needs to draw its own live bars although its stderr is now a pipe.

    When ``codekiln run`` itself writes to a terminal, the step's rich console is told the
    stream is one (rich reads TTY_COMPATIBLE / TTY_INTERACTIVE) and how wide it is; in CI or
    with output redirected nothing changes, so logs stay free of live-redraw codes.
    """
    if not sys.stderr.isatty():
        return {}
    return {"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1",
            "COLUMNS": str(shutil.get_terminal_size().columns)}
