"""``codekiln run`` killed with SIGKILL mid-step, then rerun, ends where an uninterrupted run does.

Real steps, real processes: curate a tiny corpus, train a tokenizer, pack shards. One
pipeline runs straight through; the other is killed (kill -9 on the runner) while its shards
step runs, then rerun: finished steps are skipped, and the outputs match byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PIPELINE = """name: {name}
workdir: {workdir}
steps:
  - name: curate
    kind: curate
    recipe: curate.yaml
    options: {{quiet: true}}
  - name: tokenizer
    kind: tokenizer
    inputs: ["${{steps.curate.output}}"]
    options: {{vocab_size: 400}}
  - name: shards
    kind: shards
    inputs: ["${{steps.curate.output}}"]
    options: {{tokenizer: "${{steps.tokenizer.output}}", seq_len: 128, fim_rate: 0.5,
               sequences_per_shard: 64}}
  - name: pretrain
    kind: pretrain
    enabled: false
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A raw corpus of 16 stdlib modules, a curate recipe and two pipeline files."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    raw = tmp_path / "raw"
    raw.mkdir()
    picked = [p for p in sorted(stdlib.glob("*.py")) if 3_000 < p.stat().st_size < 30_000][:16]
    for path in picked:
        shutil.copy(path, raw / path.name)
    (tmp_path / "curate.yaml").write_text(
        f"inputs:\n  - kind: dir\n    path: {raw}\nstages:\n  - name: exact-dedup\n"
        "  - name: language-id\n", encoding="utf-8")
    for name in ("straight", "killed"):
        (tmp_path / f"{name}.yaml").write_text(
            PIPELINE.format(name=name, workdir=tmp_path / name), encoding="utf-8")
    return tmp_path


def codekiln(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "codekiln_core", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(process: subprocess.Popen[str]) -> str:
    out, _ = process.communicate(timeout=900)
    assert process.returncode == 0, out[-3000:]
    return out


def step_state(workdir: Path, step: str) -> dict[str, object]:
    path = workdir / ".pipeline" / "steps" / f"{step}.json"
    return dict(json.loads(path.read_text())) if path.is_file() else {}


def tree_digest(root: Path, patterns: tuple[str, ...]) -> dict[str, str]:
    """sha256 of each matching file, keyed by path relative to the pipeline's workdir."""
    files = sorted(p for pattern in patterns for p in root.glob(pattern))
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


OUTPUTS = ("curate/data/*.parquet", "tokenizer/tokenizer.json", "shards/shard-*")


def test_kill_9_mid_step_then_rerun_matches_an_uninterrupted_run(
    project: Path, mlflow_store: str
) -> None:
    finish(codekiln("run", "straight.yaml", cwd=project))

    killed = project / "killed"
    runner = codekiln("run", "killed.yaml", cwd=project)
    deadline = time.monotonic() + 600
    while step_state(killed, "shards").get("status") != "started":
        assert runner.poll() is None, runner.communicate()[0][-3000:]
        assert time.monotonic() < deadline, "the shards step never started"
        time.sleep(0.2)
    while not (killed / "shards").exists():  # its MLflow run is open, its output begun
        assert time.monotonic() < deadline, "the shards step never wrote its output"
        time.sleep(0.1)
    os.kill(runner.pid, signal.SIGKILL)
    runner.wait()
    assert step_state(killed, "shards")["status"] == "started"
    assert step_state(killed, "curate")["status"] == "finished"
    _wait_for_no_step_process(killed)

    out = finish(codekiln("run", "killed.yaml", cwd=project))
    assert "[1/3] curate: finished earlier" in out and "[2/3] tokenizer: finished earlier" in out
    assert "[3/3] shards: " in out
    states = {s: step_state(killed, s) for s in ("curate", "tokenizer", "shards")}
    assert all(state["status"] == "finished" for state in states.values())

    straight = tree_digest(project / "straight", OUTPUTS)
    assert straight and any(k.startswith("shards/") for k in straight)
    assert tree_digest(killed, OUTPUTS) == straight

    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_store)
    parent = states["shards"]["parent_run_id"]
    assert states["curate"]["parent_run_id"] == parent, "the rerun resumed the same parent run"
    parent_run = client.get_run(str(parent))
    assert parent_run.info.status == "FINISHED"
    artifacts = {a.path for a in client.list_artifacts(str(parent), "lineage")}
    assert {"lineage/lineage.png", "lineage/lineage.html"} <= artifacts
    children = client.search_runs([parent_run.info.experiment_id],
                                  f"tags.mlflow.parentRunId = '{parent}'")
    by_step: dict[str, list[str]] = {}
    for child in children:
        by_step.setdefault(child.data.tags["codekiln.pipeline.step"], []).append(
            child.info.status)
    assert by_step["curate"] == ["FINISHED"] and by_step["tokenizer"] == ["FINISHED"]
    assert sorted(by_step["shards"]) == ["FINISHED", "KILLED"]  # the killed try is marked

    from codekiln_core.lineage.chain import walk_chain

    commands = {run.command for run in walk_chain(str(parent)).runs}
    assert {"run", "curate.run", "curate.tokenizer.train", "curate.shards"} <= commands
    plots = {a.path for a in client.list_artifacts(str(parent), "pipeline")}
    assert "pipeline/summary.json" in plots


def _wait_for_no_step_process(workdir: Path) -> None:
    """The step died with its runner (PR_SET_PDEATHSIG), not orphaned and still writing."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        alive = []
        for proc in Path("/proc").iterdir():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "codekiln_core" in cmdline and str(workdir / "shards") in cmdline:
                alive.append(proc.name)
        if not alive:
            return
        time.sleep(0.5)
    raise AssertionError(f"step processes outlived the killed runner: {alive}")
