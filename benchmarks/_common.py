"""What the benchmark scripts share: the ``--toy`` switch, the ratio line, the real-code
corpus, peak RSS and the child-process protocol.

Every script ends by printing ``ratio <what>: <value>x`` lines through :func:`print_ratio`;
``--toy`` runs the same code, both sides, on tiny data in seconds. The toy numbers mean
nothing: the mode exists so that the test suite runs every script and a moved API breaks a
test rather than the next measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sysconfig
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

RESULT_PREFIX = "RESULT "


def parse_args(parser: argparse.ArgumentParser, toy: dict[str, Any]) -> argparse.Namespace:
    """Parse with ``--toy`` added: it swaps in the ``toy`` defaults (explicit flags still win)."""
    parser.add_argument("--toy", action="store_true",
                        help="tiny data, both sides, seconds: what the test suite runs "
                             "(the numbers are not measurements)")
    if parser.parse_known_args()[0].toy:
        parser.set_defaults(**toy)
    return parser.parse_args()


def print_ratio(what: str, value: float) -> None:
    """The one line every script ends with (per ratio), and the test reads."""
    shown = f"{value:.2f}" if abs(value) >= 0.1 else f"{value:.3g}"  # MFU can be 0.004
    print(f"ratio {what}: {shown}x", flush=True)


def source_files(extensions: Iterable[str], max_files: int, max_bytes: int) -> list[Path]:
    """Source files under this Python's stdlib and site-packages, sorted by path."""
    wanted = set(extensions)
    roots = [Path(sysconfig.get_paths()["stdlib"]), Path(sysconfig.get_paths()["purelib"])]
    found: list[Path] = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                path = Path(dirpath) / name
                if path.suffix in wanted and not path.is_symlink() and \
                        path.stat().st_size <= max_bytes:
                    found.append(path)
    return sorted(set(found))[:max_files]


class PeakRss:
    """Peak RSS of a process (this one by default), with its descendants' summed in when
    ``tree``, sampled every ``interval_s`` while the block runs.

    ``wait4``'s ``ru_maxrss`` would not do for a child: Linux carries the parent's RSS
    high-water mark into an exec'd child. Listing descendants scans /proc, so a sampler
    inside the measured process leaves ``tree`` off.
    """

    def __init__(self, pid: int | None = None, interval_s: float = 0.1,
                 tree: bool = True) -> None:
        self.pid, self.interval_s, self.tree, self.peak = pid or os.getpid(), interval_s, tree, 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _sample(self) -> None:
        import psutil

        root = psutil.Process(self.pid)
        while True:
            try:
                procs = [root, *root.children(recursive=True)] if self.tree else [root]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs
                                               if p.is_running()))
            except psutil.Error:
                pass
            if self._done.wait(self.interval_s):
                return


def emit_result(result: dict[str, Any]) -> None:
    """A child's answer to :func:`start_child`'s caller: one JSON line on stdout."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def start_child(cmd: list[str], stderr_path: Path) -> subprocess.Popen[str]:
    """A measured child process; stdout is read for its RESULT line, stderr kept in a file."""
    stderr_path.parent.mkdir(parents=True, exist_ok=True)
    with stderr_path.open("w") as stderr:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, text=True)


def child_result(label: str, stdout: str, exit_code: int, stderr_path: Path) -> dict[str, Any]:
    """The child's RESULT dict, or exit naming the child with the end of its stderr."""
    lines = [x for x in stdout.splitlines() if x.startswith(RESULT_PREFIX)]
    if exit_code != 0 or not lines:
        tail = stderr_path.read_text(errors="replace").strip().splitlines()[-15:]
        raise SystemExit(f"{label} failed (exit {exit_code}):\n" + "\n".join(tail))
    result: dict[str, Any] = json.loads(lines[-1][len(RESULT_PREFIX):])
    return result

