"""``codekiln run`` killed with SIGKILL again and again, then rerun, ends where an
uninterrupted run does.

Real steps, real processes: curate a tiny corpus, train a tokenizer, pack shards, pretrain a
tiny model and register it. One pipeline runs straight through. The other is killed
(``kill -9`` on the runner; its step dies with it) at several points drawn with a seeded
random choice from every step's moments: as the step starts, once its run is noted in its
output, mid-work (a curated part, a shard file, a checkpoint), after the model is
registered, as the step prints its closing line, and once the runner recorded it finished.
Each moment is an event the test waits for (a log line, a file, a state marker), never a
delay. After each kill the pipeline is simply run again.

The end must be the uninterrupted run's: the same bytes in every step's output, one
registered model version, the same chain of commands in ``codekiln lineage show`` of the
model, each step one FINISHED run (a resumed step continues its run: one curve) and no run
left RUNNING. ``CODEKILN_CHAOS_SEED`` picks other moments (the default is the CI's).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

SEED = int(os.environ.get("CODEKILN_CHAOS_SEED", "21"))
KILLS = 3

PIPELINE = """name: {name}
workdir: {workdir}
steps:
  - name: curate
    kind: curate
    recipe: curate.yaml
    set: {{quiet: true}}
  - name: tokenizer
    kind: tokenizer
    inputs: ["${{steps.curate.output}}"]
    set: {{vocab_size: 400}}
  - name: shards
    kind: shards
    inputs: ["${{steps.curate.output}}"]
    set: {{tokenizer: "${{steps.tokenizer.output}}", seq_len: 128, fim_rate: 0.5,
           sequences_per_shard: 16}}
  - name: pretrain
    kind: pretrain
    set: {{register_as: {name}, device: cpu, threads: 1}}
    config:
      model: {{preset: tiny, num_hidden_layers: 2}}
      engine: {{micro_batch_size: 2, gradient_accumulation_steps: 1, lr: 0.003}}
      stages:
        - name: regular
          mixture: [{{path: "${{steps.shards.output}}", name: code}}]
          steps: 6
          schedule: {{kind: wsd, warmup_steps: 1, decay_fraction: 0.5}}
      checkpoint: {{every_steps: 2, keep_last: 2}}
      log: {{every_steps: 1}}
      seed: 0
  - name: sft-data
    kind: import
    inputs: ["bundled:mbpp"]
    output: ${{workdir}}/sft-data/mbpp-train.jsonl
    set: {{format: mbpp, mbpp_split: train}}
  - name: sft
    kind: sft
    recipe: {sft_recipe}
    set: {{model: "${{steps.pretrain.output}}/model", data: ["${{steps.sft-data.output}}"],
           register_as: {name}-sft, max_steps: 4, max_seq_len: 512, epochs: 1,
           decontamination.enabled: false, checkpoint.every_steps: 2, device: cpu}}
  - name: eval
    kind: eval
    set: {{benchmark: mbpp, model: "${{steps.sft.output}}/model", n: 1, ks: "1", limit: 2,
           max_tokens: 16, workers: 1}}
"""
STEPS = ("curate", "tokenizer", "shards", "pretrain", "sft-data", "sft", "eval")
#: What must come out byte for byte the same, per step (paths under the workdir; the
#: workdir's own path, which some files name, is taken out).
OUTPUTS = {"curate": ("curate/data/*.parquet",), "tokenizer": ("tokenizer/tokenizer.json",),
           "shards": ("shards/shard-*", "shards/manifest.json"),
           "pretrain": ("pretrain/model/*.safetensors", "pretrain/model/config.json"),
           "sft-data": ("sft-data/mbpp-train.jsonl",),
           "sft": ("sft/model/*.safetensors", "sft/model/config.json")}
#: The registered models: pretraining's and, downstream of it, the SFT model's.
MODELS = ("{name}", "{name}-sft")
MARKER = ".codekiln-run.json"
SFT_RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "posttrain-tiny-sft.yaml"


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
            PIPELINE.format(name=name, workdir=tmp_path / name, sft_recipe=SFT_RECIPE),
            encoding="utf-8")
    return tmp_path


# --- watching a runner ----------------------------------------------------------------


@dataclass
class Runner:
    """One ``codekiln run`` process, its output read line by line as it comes."""

    process: subprocess.Popen[str]
    workdir: Path
    started: float = field(default_factory=time.time)
    lines: list[str] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    @classmethod
    def start(cls, project: Path, name: str) -> Runner:
        process = subprocess.Popen([sys.executable, "-m", "codekiln_core", "run", f"{name}.yaml"],
                                   cwd=project, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        runner = cls(process, project / name)
        threading.Thread(target=runner._read, daemon=True).start()
        return runner

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()
        with self.changed:
            self.lines.append("")  # EOF
            self.changed.notify_all()

    def said(self, text: str, after: str | None = None) -> bool:
        """``text`` appeared in the output (after the first line containing ``after``)."""
        with self.changed:
            lines = list(self.lines)
        if after is not None:
            begun = [i for i, line in enumerate(lines) if after in line]
            lines = lines[begun[0]:] if begun else []
        return any(text in line for line in lines)

    def output(self) -> str:
        with self.changed:
            return "".join(self.lines)

    def fresh(self, path: Path) -> bool:
        """``path`` exists and was written during this run (not left by an earlier one)."""
        try:
            return path.stat().st_mtime >= self.started
        except OSError:
            return False

    def wait_for(self, reached: Callable[[Runner], bool]) -> bool:
        """Wait until ``reached`` (True) or the runner exits (False). The condition wakes
        on every output line; files are looked at again at least every 50 ms."""
        deadline = time.monotonic() + 900
        with self.changed:
            while not reached(self):
                if self.process.poll() is not None:
                    return reached(self)
                assert time.monotonic() < deadline, self.output()[-3000:]
                self.changed.wait(timeout=0.05)
        return True

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()
        _wait_for_no_step_process(self.workdir)

    def finish(self) -> str:
        code = self.process.wait(timeout=900)
        with self.changed:
            self.changed.wait_for(lambda: bool(self.lines) and self.lines[-1] == "", 60)
        assert code == 0, self.output()[-4000:]
        return self.output()


def step_state(workdir: Path, step: str) -> dict[str, Any]:
    path = workdir / ".pipeline" / "steps" / f"{step}.json"
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}


# --- the moments a kill can land on -------------------------------------------------


def _started(step: str) -> Callable[[Runner], bool]:
    return lambda r: r.said(f"{step}: running") or r.said(f"{step}: resuming")


def _noted(step: str) -> Callable[[Runner], bool]:
    """The step's run is open and noted in its output (resumable commands note it first)."""
    return lambda r: _started(step)(r) and r.fresh(r.workdir / step / MARKER)


def _working(step: str) -> Callable[[Runner], bool]:
    made = {"curate": "curate/data/*.parquet", "shards": "shards/shard-*",
            "pretrain": "pretrain/stages/*/checkpoints/step-*/complete.json",
            "sft": "sft/checkpoints/step-*/complete.json", "eval": "eval/samples.jsonl"}[step]
    return lambda r: _started(step)(r) and any(r.fresh(p) for p in r.workdir.glob(made))


def _registered(step: str) -> Callable[[Runner], bool]:
    def reached(r: Runner) -> bool:
        marker = r.workdir / step / "model" / MARKER
        return r.fresh(marker) and "model_uri" in marker.read_text()
    return reached


def _closing(step: str) -> Callable[[Runner], bool]:
    """The step printed its closing line: its run has ended, its process is exiting."""
    return lambda r: r.said("mlflow run: ", after=f"] {step}: ")


def _finished(step: str) -> Callable[[Runner], bool]:
    def reached(r: Runner) -> bool:
        state = step_state(r.workdir, step)
        return state.get("status") == "finished" and state.get("updated_at", 0) >= r.started
    return reached


MOMENTS: list[tuple[str, Callable[[Runner], bool]]] = []
for _step in STEPS:
    MOMENTS.append((f"{_step}: started", _started(_step)))
    if _step not in ("tokenizer", "sft-data"):  # these write their output whole
        MOMENTS.append((f"{_step}: run noted in output", _noted(_step)))
        MOMENTS.append((f"{_step}: mid-work", _working(_step)))
    if _step in ("pretrain", "sft"):
        MOMENTS.append((f"{_step}: model registered", _registered(_step)))
    MOMENTS.append((f"{_step}: closing line", _closing(_step)))
    MOMENTS.append((f"{_step}: recorded finished", _finished(_step)))


def chosen_moments(seed: int, count: int) -> list[tuple[str, Callable[[Runner], bool]]]:
    """``count`` moments in pipeline order, drawn by ``seed``."""
    picked = sorted(random.Random(seed).sample(range(len(MOMENTS)), count))
    return [MOMENTS[i] for i in picked]


# --- what the end must look like --------------------------------------------------------


def tree_digest(workdir: Path) -> dict[str, str]:
    """sha256 of every output file that must match, keyed by its path under the workdir
    (which the shards' manifest names: it is replaced by a placeholder)."""
    files = sorted(p for patterns in OUTPUTS.values() for pattern in patterns
                   for p in workdir.glob(pattern))
    own = str(workdir).encode()
    return {str(p.relative_to(workdir)):
            hashlib.sha256(p.read_bytes().replace(own, b"WORKDIR")).hexdigest()
            for p in files}


def eval_records(workdir: Path) -> dict[str, list[dict[str, Any]]]:
    """The eval's samples and per-task scores, without when each sample was made and the
    per-task timeouts (calibrated on this machine as the eval runs: they follow its load)."""
    volatile = {"created", "timeouts_s"}
    return {name: [{k: v for k, v in json.loads(line).items() if k not in volatile}
                   for line in (workdir / "eval" / f"{name}.jsonl").read_text(
                       encoding="utf-8").splitlines()]
            for name in ("samples", "tasks")}


def lineage_shape(model: str, project: Path) -> list[tuple[str, str, int, tuple[str, ...]]]:
    """The chain ``codekiln lineage show models:/MODEL/1`` prints, as a graph: each run's
    command, status, number of registered versions and the commands of its upstream runs
    (the order runs are listed in follows their random ids, so it is sorted here)."""
    done = subprocess.run([sys.executable, "-m", "codekiln_core", "lineage", "show",
                           f"models:/{model}/1", "--json"], cwd=project, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    runs = json.loads(done.stdout)["runs"]
    command = {run["run_id"]: run["command"] for run in runs}
    return sorted((run["command"], run["status"], len(run["registered"]),
                   tuple(sorted(command[up] for up in run["upstream"]))) for run in runs)


def step_runs(client: Any, parent_run_id: str) -> dict[str, list[str]]:
    """The statuses of every run each step logged under the pipeline's parent run."""
    parent = client.get_run(parent_run_id)
    children = client.search_runs([parent.info.experiment_id],
                                  f"tags.mlflow.parentRunId = '{parent_run_id}'")
    found: dict[str, list[str]] = {}
    for child in children:
        found.setdefault(child.data.tags["codekiln.pipeline.step"], []).append(
            child.info.status)
    return {step: sorted(statuses) for step, statuses in found.items()}


def test_kill_9_at_random_points_then_rerun_matches_an_uninterrupted_run(
    project: Path, mlflow_store: str
) -> None:
    Runner.start(project, "straight").finish()

    kills: list[str] = []
    for label, reached in chosen_moments(SEED, KILLS):
        runner = Runner.start(project, "killed")
        if not runner.wait_for(reached):
            runner.finish()  # the rerun got past this moment without reaching it
            kills.append(f"{label} (not reached)")
            continue
        runner.kill()
        kills.append(label)
    Runner.start(project, "killed").finish()
    assert any("not reached" not in k for k in kills), kills
    assert_same_end(project, mlflow_store, f"seed {SEED}, kills at {kills}")


def assert_same_end(project: Path, mlflow_store: str, context: str) -> None:
    """The killed pipeline ended where the uninterrupted one did: outputs, registered
    versions, lineage, and one FINISHED run per step."""
    killed = project / "killed"
    for step in STEPS:
        assert step_state(killed, step)["status"] == "finished", (step, context)
    straight_files = tree_digest(project / "straight")
    assert {k.split("/")[0] for k in straight_files} == set(STEPS) - {"eval"}
    assert tree_digest(killed) == straight_files, context
    assert eval_records(killed) == eval_records(project / "straight"), context

    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_store)
    for name in ("straight", "killed"):
        for model in MODELS:
            versions = client.search_model_versions(f"name = '{model.format(name=name)}'")
            assert [str(v.version) for v in versions] == ["1"], (model, name, context)
    final = MODELS[-1].format(name="killed")
    shape = lineage_shape(final, project)
    assert shape == lineage_shape(MODELS[-1].format(name="straight"), project), context
    assert [command for command, *_ in shape] == [
        "curate.run", "curate.shards", "curate.tokenizer.train", "posttrain.data.import",
        "posttrain.sft", "train.pretrain"], shape

    parent_id = json.loads((killed / ".pipeline" / "pipeline.json").read_text())["parent_run_id"]
    every = client.search_runs([client.get_run(parent_id).info.experiment_id])
    assert not [r.info.run_id for r in every if r.info.status == "RUNNING"], context
    parents = [r for r in every if r.data.tags.get("codekiln.pipeline") == "killed"]
    assert [(p.info.run_id, p.info.status) for p in parents] == [(parent_id, "FINISHED")], \
        context
    runs = step_runs(client, parent_id)
    for step in STEPS:
        assert runs[step].count("FINISHED") == 1, (step, runs, context)
        assert set(runs[step]) <= {"FINISHED", "KILLED"}, (step, runs, context)
    for step in ("curate", "shards", "pretrain", "sft", "eval"):  # resumed: the same run
        assert runs[step] == ["FINISHED"], (step, runs, context)


def _wait_for_no_step_process(workdir: Path) -> None:
    """The step died with its runner (PR_SET_PDEATHSIG), not orphaned and still writing."""
    deadline = time.monotonic() + 60
    alive: list[str] = []
    while time.monotonic() < deadline:
        alive = []
        for proc in Path("/proc").iterdir():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "codekiln_core" in cmdline and str(workdir) in cmdline:
                alive.append(proc.name)
        if not alive:
            return
        threading.Event().wait(0.05)
    raise AssertionError(f"step processes outlived the killed runner: {alive}")
