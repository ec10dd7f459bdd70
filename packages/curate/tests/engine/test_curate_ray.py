"""The Ray Data executor runs the same shard code and writes the same bytes as local, on its
own Ray, on a cluster it joins, and on a cluster that loses a node mid-run."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from codekiln_core.lineage.run import LineageRun
from codekiln_core.testing import InstallPlugin, free_port
from codekiln_curate.engine.curation import run_curation
from codekiln_curate.recipe import CurateRecipe


def digests(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for sub in ("data", "dropped") for p in sorted((out / sub).glob("*.parquet"))}


@pytest.mark.slow
def test_ray_executor_output_equals_local(tmp_path: Path, tiny_code_corpus: Path) -> None:
    ray = pytest.importorskip("ray")
    (tiny_code_corpus / "copy").mkdir()
    (tiny_code_corpus / "copy" / "ops.py").write_text((tiny_code_corpus / "calc" / "ops.py")
                                                      .read_text())
    base = {"inputs": [{"kind": "dir", "path": str(tiny_code_corpus)}],
            "limits": {"shard_files": 5},
            "stages": [{"name": "exact-dedup"}, {"name": "near-dedup"}]}
    local = CurateRecipe.model_validate({**base, "output": str(tmp_path / "local")})
    run_curation(local, LineageRun(None))
    # The executor starts (and stops) its own 2-CPU local cluster, as `--executor ray` does.
    remote = CurateRecipe.model_validate({**base, "output": str(tmp_path / "ray-out"),
                                          "executor": "ray", "workers": 2})
    result = run_curation(remote, LineageRun(None))
    assert not ray.is_initialized()
    assert result.summary["stages"]["exact-dedup"]["reasons"]["exact_duplicate"][0] == 1
    assert digests(tmp_path / "local") == digests(tmp_path / "ray-out")
    assert len(digests(tmp_path / "local")) == 2 * 2


#: A stand-in for `ray start --head`: a process that owns a one-node cluster and prints its
#: address, then holds it until its stdin closes (its own ray.shutdown stops only that cluster).
_HEAD = """
import sys, tempfile
import ray
ray.init(num_cpus=2, include_dashboard=False, _temp_dir=tempfile.mkdtemp(prefix="ck-head-"),
         log_to_driver=False, configure_logging=False)
print(ray.get_runtime_context().gcs_address, flush=True)
sys.stdin.read()
ray.shutdown()
"""


@pytest.mark.slow
def test_ray_executor_joins_the_cluster_ray_address_names(
        tmp_path: Path, tiny_code_corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With RAY_ADDRESS set, `--executor ray` runs on that cluster (Ray refuses num_cpus on
    a join) and leaves it running; the output is the local executor's, byte for byte."""
    import subprocess
    import sys

    ray = pytest.importorskip("ray")
    base = {"inputs": [{"kind": "dir", "path": str(tiny_code_corpus)}],
            "limits": {"shard_files": 5}, "stages": [{"name": "exact-dedup"}]}
    run_curation(CurateRecipe.model_validate({**base, "output": str(tmp_path / "local")}),
                 LineageRun(None))
    env = {k: v for k, v in __import__("os").environ.items() if k != "RAY_ADDRESS"}
    head = subprocess.Popen([sys.executable, "-c", _HEAD], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert head.stdout is not None
        address = head.stdout.readline().strip()
        assert address, "the head process printed no address"
        monkeypatch.setenv("RAY_ADDRESS", address)
        remote = CurateRecipe.model_validate({**base, "output": str(tmp_path / "ray-out"),
                                              "executor": "ray", "workers": 64})
        run_curation(remote, LineageRun(None))
        assert not ray.is_initialized()  # disconnected from the cluster it joined
        assert head.poll() is None  # and the cluster is still up
        assert digests(tmp_path / "local") == digests(tmp_path / "ray-out")
    finally:
        assert head.stdin is not None
        head.stdin.close()
        head.wait(timeout=60)


# --- A lost node --------------------------------------------------------------------------
# A two-node Ray cluster loses its worker node mid-run; the curation still finishes, with the
# bytes of a local run, and names the lost node.
#
# The cluster is started as a user starts one (``ray start --head``, then ``ray start
# --address`` with its own resources and temp dir; two raylets on this machine stand in for
# two machines) and ``codekiln curate run --executor ray`` joins it through ``RAY_ADDRESS``. A
# test-only stage, installed as a plugin on both nodes, holds each node's first shard task
# until the test acts, so the kill always lands mid-run: the worker node's task blocks for
# good (it dies with its node), the head's wait for a release file the test writes after the
# kill. No sleeps decide anything: the test waits on marker files and on processes.

HOLD = """
import os
import pathlib
import threading
import time

from codekiln_core import hookimpl

_released = False


def _hold() -> None:
    global _released
    root = os.environ.get("CK_HOLD_DIR")
    if not root or _released:
        return
    import ray

    role = os.environ["CK_NODE_ROLE"]
    marker = pathlib.Path(root) / f"{role}-{os.getpid()}"
    marker.write_text(ray.get_runtime_context().get_node_id())
    if role == "worker":
        threading.Event().wait()  # until the node is killed
    while not (pathlib.Path(root) / "release").exists():
        time.sleep(0.05)
    _released = True


class Hold:
    name = "hold"

    def filter(self, doc):
        _hold()
        return True


@hookimpl
def codekiln_register_stages(register):
    register("hold", Hold, description="test only: park a node's first shard task")
"""

WAIT_S = 300  # generous upper bounds on a loaded 2-core machine; events end every wait


def _wait_for(what: str, ready: Any, *processes: tuple[subprocess.Popen[Any], Path]) -> None:
    """Poll ``ready`` until true; fail at once, with its log, if a process exits first."""
    deadline = time.monotonic() + WAIT_S
    while not ready():
        for process, log in processes:
            assert process.poll() is None, (
                f"{' '.join(map(str, process.args[:4]))} exited while waiting for {what}: "
                f"{log.read_text()[-3000:]}")
        assert time.monotonic() < deadline, f"no {what} after {WAIT_S} s"
        time.sleep(0.05)


@dataclass(frozen=True)
class RayNode:
    """A node started by ``ray start`` in a session of its own, which holds all of the node's
    processes (raylet, agents, workers; the workers make process groups of their own) and
    nothing else."""

    session: int

    @classmethod
    def start(cls, *args: str, log: Path, env: dict[str, str]) -> RayNode:
        """``ray start`` returns once the node has registered with the cluster."""
        ray = str(Path(sys.executable).with_name("ray"))
        with log.open("w") as handle:
            process = subprocess.Popen([ray, "start", "--disable-usage-stats", *args],
                                       stdout=handle, stderr=subprocess.STDOUT, env=env,
                                       start_new_session=True)
        node = cls(process.pid)
        if process.wait(timeout=WAIT_S) != 0:
            node.kill()
            raise AssertionError(f"ray start {args[0]} failed: {log.read_text()[-3000:]}")
        return node

    def kill(self) -> None:
        """SIGKILL every process of the node (the machine is gone) until none is left, so
        nothing writes into its temp dir any more."""
        _wait_for("the node's processes to exit", self._kill_members)

    def _kill_members(self) -> bool:
        """Kill the session's live processes; True when there were none."""
        live = []
        for stat in Path("/proc").glob("[0-9]*/stat"):  # pid (comm) state ppid pgrp session
            with contextlib.suppress(OSError, IndexError, ValueError):
                state, _, _, session = stat.read_text().rsplit(")", 1)[1].split()[:4]
                if int(session) == self.session and state != "Z":
                    live.append(int(stat.parent.name))
        for pid in live:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return not live


@pytest.fixture(scope="module")
def cluster_token() -> str:
    import secrets

    return secrets.token_hex(32)


@pytest.fixture
def cluster_env(cluster_token: str) -> Any:
    """This cluster's token (Ray 2.60 authenticates every node and driver), never the shared
    ``~/.ray/auth_token`` that other Ray processes on the machine may rewrite."""

    def env() -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
        return {**base, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": cluster_token}

    return env


@pytest.fixture
def two_nodes(tmp_path: Path, install_plugin: InstallPlugin, cluster_env: Any
              ) -> Iterator[tuple[str, RayNode, Path]]:
    """(address, worker node, hold dir) of a head and a worker node on this machine."""
    site = install_plugin("codekiln-hold-stage", "codekiln_hold_stage", HOLD)
    hold = tmp_path / "hold"
    hold.mkdir()
    env = cluster_env()
    # The worker's death is noticed in ~1.5 s instead of Ray's ~30 s default.
    env.update(PYTHONPATH=str(site), CK_HOLD_DIR=str(hold), OMP_NUM_THREADS="1",
               RAY_health_check_period_ms="500", RAY_health_check_failure_threshold="3")
    # Ray's socket paths must stay under 107 bytes: a short root, not pytest's tmp_path.
    short = Path(tempfile.mkdtemp(prefix="ck-ray-"))
    nodes: list[RayNode] = []
    try:
        nodes.append(RayNode.start(
            "--head", "--port", "0", "--num-cpus", "1", "--include-dashboard", "false",
            "--temp-dir", str(short / "head"), "--ray-client-server-port", str(free_port()),
            "--dashboard-agent-listen-port", str(free_port()), log=tmp_path / "head.log",
            env={**env, "CK_NODE_ROLE": "head"}))
        address = (short / "head" / "ray_current_cluster").read_text().strip()
        nodes.append(RayNode.start(
            "--address", address, "--num-cpus", "1", "--resources",
            json.dumps({"ck_worker_node": 1}), "--temp-dir", str(short / "worker"),
            "--dashboard-agent-listen-port", str(free_port()), log=tmp_path / "worker.log",
            env={**env, "CK_NODE_ROLE": "worker"}))
        yield address, nodes[1], hold
    finally:
        for node in reversed(nodes):
            node.kill()
        shutil.rmtree(short, ignore_errors=True)


@pytest.mark.slow
def test_a_lost_worker_node_is_survived_and_reported(
        two_nodes: tuple[str, RayNode, Path], tiny_code_corpus: Path, tmp_path: Path,
        cluster_env: Any) -> None:
    address, worker, hold = two_nodes
    recipe = {"inputs": [{"kind": "dir", "path": str(tiny_code_corpus)}],
              "limits": {"shard_files": 2},
              "stages": [{"name": "hold"}, {"name": "exact-dedup"}]}
    # no CK_HOLD_DIR here: the stage passes every document
    run_curation(CurateRecipe.model_validate({**recipe, "output": str(tmp_path / "local")}),
                 LineageRun(None))
    path, out = tmp_path / "recipe.yaml", tmp_path / "out"
    path.write_text(yaml.safe_dump({**recipe, "executor": "ray", "output": str(out)}))
    env = {**cluster_env(), "RAY_ADDRESS": address, "OMP_NUM_THREADS": "1"}
    stdout, stderr = tmp_path / "driver.out", tmp_path / "driver.err"
    with stdout.open("w") as out_handle, stderr.open("w") as err_handle:
        driver = subprocess.Popen([sys.executable, "-m", "codekiln_core", "curate", "run",
                                   str(path), "--no-lineage", "--quiet"], env=env,
                                  stdout=out_handle, stderr=err_handle)
    try:
        _wait_for("a shard task on the worker node", lambda: any(hold.glob("worker-*")),
                  (driver, stderr))
        worker.kill()
        (hold / "release").touch()
        driver.wait(timeout=WAIT_S)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 0, stderr.read_text()[-3000:]
    assert digests(out) == digests(tmp_path / "local") and len(digests(out)) == 2 * 5
    lost = json.loads((out / "summary.json").read_text())["lost_nodes"]
    worker_node = next(hold.glob("worker-*")).read_text()
    assert [node["node_id"] for node in lost] == [worker_node], lost
    assert f"lost Ray node {lost[0]['node_id'][:12]}" in stderr.read_text()
    assert "Lost Ray nodes" in stdout.read_text()
    assert "Lost Ray nodes" in (out / "report.md").read_text()
    assert not list(out.rglob("*.tmp-*"))
