"""``codekiln lineage ui`` stopped the way supervisors and terminals stop it leaves nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codekiln_core.net import healthy, wait_healthy
from codekiln_core.testing import free_port


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _descendants(pid: int) -> set[int]:
    tree, found, todo = _children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _healthy(port: int) -> bool:
    return healthy(f"http://127.0.0.1:{port}")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process tree from /proc")
@pytest.mark.parametrize("how", ["sigterm-process", "sighup-group"])
def test_ui_stopped_by_a_signal_leaves_no_server_behind(mlflow_store: str, how: str):
    port = free_port()
    cli = subprocess.Popen(
        [sys.executable, "-m", "codekiln_core", "lineage", "ui", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    tree: set[int] = set()
    try:
        wait_healthy(f"http://127.0.0.1:{port}", exit_code=cli.poll, name="lineage ui",
                     timeout_s=240)
        tree = _descendants(cli.pid)
        assert tree, "the UI runs as child processes of the command"
        if how == "sigterm-process":
            cli.send_signal(signal.SIGTERM)
        else:  # a supervisor or a closed terminal signals the command's whole group
            os.killpg(cli.pid, signal.SIGHUP)
        code = cli.wait(timeout=60)
        time.sleep(1)
        left = {pid for pid in tree if _alive(pid)}
        assert not left, f"still running after {how}: {sorted(left)}"
        assert not _healthy(port)
        assert code == 0, "a stop signal is a clean exit, not a crash"
    finally:
        for pid in tree:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if cli.poll() is None:
            cli.kill()
            cli.wait()
