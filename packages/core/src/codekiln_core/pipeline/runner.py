"""Run a pipeline: each step one ``codekiln`` process and one child MLflow run.

Steps run as subprocesses (isolation; a killed runner kills its step, and a rerun picks up
where the state markers say). Only the CLI and MLflow are touched, never a stage package.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import CodekilnError, ConfigError
from codekiln_core.lineage.refs import digest_path
from codekiln_core.lineage.run import PARENT_RUN_ENV, PIPELINE_STEP_ENV
from codekiln_core.lineage.store import tracking_uri
from codekiln_core.pipeline.command import build_argv, substitute
from codekiln_core.pipeline.parent import (
    find_step_run,
    finished_since,
    mark_abandoned,
    open_parent,
    run_metrics,
)
from codekiln_core.pipeline.recipe import PipelineRecipe, StepConfig, referenced_steps
from codekiln_core.pipeline.state import PipelineState, StepState
from codekiln_core.pipeline.streams import LockedLog, copy_stderr, terminal_env

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from rich.console import Console


@dataclass
class StepOutcome:
    """What happened to one step in this invocation (the summary table's row)."""

    name: str
    kind: str
    status: str  # ran | skipped | failed | interrupted | disabled | outside range | pending
    seconds: float = 0.0
    run_id: str | None = None
    output: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    key_metrics: tuple[str, ...] = ()
    note: str = ""


@dataclass
class PipelineResult:
    name: str
    parent_run_id: str
    workdir: Path
    steps: list[StepOutcome]

    @property
    def ok(self) -> bool:
        return not any(s.status in ("failed", "interrupted") for s in self.steps)


class StepFailed(CodekilnError):
    exit_code = 1


class PipelineRunner:
    def __init__(self, recipe: PipelineRecipe, console: Console, *,
                 from_step: str | None = None, until_step: str | None = None) -> None:
        self.recipe = recipe
        self.console = console
        self.workdir = recipe.work_path.resolve()
        self.state = PipelineState(self.workdir)
        self.first, self.last = self._range(from_step, until_step)
        self.outcomes: dict[str, StepOutcome] = {}
        self.client: MlflowClient | None = None
        self.parent_run_id = ""

    def _range(self, from_step: str | None, until_step: str | None) -> tuple[int, int]:
        names = [s.name for s in self.recipe.steps]
        for flag, name in (("--from", from_step), ("--until", until_step)):
            if name is not None and name not in names:
                raise ConfigError(f"{flag} {name!r}: no such step; steps: {', '.join(names)}")
        first = names.index(from_step) if from_step else 0
        last = names.index(until_step) if until_step else len(names) - 1
        if first > last:
            raise ConfigError(f"--from {from_step!r} comes after --until {until_step!r}; "
                              "swap them")
        return first, last

    def run(self) -> PipelineResult:
        config = self.recipe.model_dump(mode="json")
        self.client, self.parent_run_id, resumed = open_parent(self.state, self.recipe.name,
                                                              config)
        verb = "resuming" if resumed else "started"
        self.console.print(f"pipeline {self.recipe.name}: {verb} parent run "
                           f"{self.parent_run_id}  (workdir {self.workdir})")
        selected = [s for i, s in enumerate(self.recipe.steps)
                    if self.first <= i <= self.last and s.enabled]
        status = "FINISHED"
        try:
            for index, step in enumerate(self.recipe.steps):
                if not step.enabled:
                    self.outcomes[step.name] = StepOutcome(step.name, step.kind, "disabled")
                elif not self.first <= index <= self.last:
                    self.outcomes[step.name] = self._outside(step)
                else:
                    position = selected.index(step) + 1
                    outcome = self._run_step(step, position, len(selected))
                    self.outcomes[step.name] = outcome
                    if outcome.status == "failed":
                        status = "FAILED"
                        break
        except KeyboardInterrupt:
            status = "KILLED"
            raise
        except Exception:
            status = "FAILED"
            raise
        finally:
            for index, step in enumerate(self.recipe.steps):
                if step.name not in self.outcomes:
                    self.outcomes[step.name] = StepOutcome(step.name, step.kind, "pending") \
                        if self.first <= index <= self.last else self._outside(step)
            self._close(status)
        return self.result()

    def result(self) -> PipelineResult:
        return PipelineResult(self.recipe.name, self.parent_run_id, self.workdir,
                              [self.outcomes[s.name] for s in self.recipe.steps
                               if s.name in self.outcomes])

    def _close(self, status: str) -> None:
        assert self.client is not None
        from codekiln_core.pipeline.parent import TAG_STEP_RUNS

        runs = {o.name: o.run_id for o in self.outcomes.values() if o.run_id}
        self.client.set_tag(self.parent_run_id, TAG_STEP_RUNS, json.dumps(runs)[:5000])
        self.client.set_terminated(self.parent_run_id, status)

    # -- one step ------------------------------------------------------------------------

    def _outside(self, step: StepConfig) -> StepOutcome:
        state = self.state.load(step.name)
        finished = state is not None and state.status == "finished"
        outcome = StepOutcome(step.name, step.kind, "outside range",
                              key_metrics=self._key_metrics(step))
        if finished and state is not None:
            outcome.run_id, outcome.output = state.run_id, state.output
            outcome.note = "finished earlier"
        return outcome

    def _run_step(self, step: StepConfig, position: int, total: int) -> StepOutcome:
        output = self._output_path(step)
        recipe_file = self._recipe_file(step)
        argv = build_argv(step, self._resolve, output=output, recipe_file=recipe_file)
        digest = self._inputs_digest(step, argv, recipe_file)
        state = self.state.load(step.name)
        header = f"[{position}/{total}] {step.name}"
        outcome = StepOutcome(step.name, step.kind, "ran", output=str(output) if output else None,
                              key_metrics=self._key_metrics(step))
        if state and state.status == "finished" and state.inputs_digest == digest \
                and self._intact(state):
            self.console.rule(f"{header}: finished earlier (run {state.run_id}), skipped")
            outcome.status, outcome.run_id = "skipped", state.run_id
            outcome.seconds = state.seconds
            outcome.metrics = run_metrics(self._client(), state.run_id)
            return outcome
        if state and state.status == "started" and state.inputs_digest == digest:
            finished = self._finished_before_the_kill(state, output)
            if finished is not None:
                self.console.rule(f"{header}: finished before it was stopped (run {finished})")
                return self._record_finished(step, outcome, digest, state.argv, output,
                                             finished, state.seconds, status="skipped")
        resuming = state is not None and state.status == "started" \
            and state.inputs_digest == digest and step.self_resuming
        if not resuming and output is not None:
            self._move_aside(output, step.name, digest)
        if resuming:  # the digest above is of the plain command line, the same on every try
            argv = build_argv(step, self._resolve, output=output, recipe_file=recipe_file,
                              resuming=True)
        mark_abandoned(self._client(), self.parent_run_id, step.name)
        self.state.save(StepState(step.name, "started", digest, argv,
                                  str(output) if output else None,
                                  parent_run_id=self.parent_run_id))
        what = "resuming" if resuming else "running"
        self.console.rule(f"{header}: {what} codekiln {' '.join(argv[:3])} …")
        self.console.print(f"[dim]codekiln {' '.join(argv)}[/dim]", soft_wrap=True)
        started = time.monotonic()
        code = self._spawn(step, argv, outcome)
        outcome.seconds = time.monotonic() - started
        if code != 0:
            outcome.status = "interrupted" if code in (-signal.SIGINT, 130) else "failed"
            outcome.note = f"exit code {code}; log: {self.state.logs_dir / step.name}.log"
            self.console.print(f"[red]step {step.name} {outcome.status}[/red] ({outcome.note})")
            return outcome
        run_id = find_step_run(self._client(), self.parent_run_id, step.name) \
            or self._marker_run(output)
        return self._record_finished(step, outcome, digest, argv, output, run_id,
                                     outcome.seconds)

    def _record_finished(self, step: StepConfig, outcome: StepOutcome, digest: str,
                         argv: list[str], output: Path | None, run_id: str | None,
                         seconds: float, status: str = "ran") -> StepOutcome:
        outcome.status, outcome.run_id, outcome.seconds = status, run_id, seconds
        outcome.metrics = run_metrics(self._client(), run_id)
        out_digest = digest_path(output) if output is not None and output.exists() else None
        self.state.save(StepState(step.name, "finished", digest, argv,
                                  str(output) if output else None, out_digest,
                                  run_id, self.parent_run_id, seconds))
        return outcome

    def _finished_before_the_kill(self, state: StepState, output: Path | None) -> str | None:
        """A try killed after its command ended (its run FINISHED, its output written and
        marked by that run) counts as finished: running it again would log a second run."""
        run_id = finished_since(self._client(), self.parent_run_id, state.name,
                                state.updated_at)
        if run_id is None or (output is not None and self._marker_run(output) != run_id):
            return None
        return run_id

    def _spawn(self, step: StepConfig, argv: list[str], outcome: StepOutcome) -> int:
        env = {**terminal_env(), **os.environ, **substitute(step.env, self._resolve)}
        env.update({PARENT_RUN_ENV: self.parent_run_id, PIPELINE_STEP_ENV: step.name,
                    "MLFLOW_TRACKING_URI": tracking_uri()})
        self.state.logs_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.state.logs_dir / f"{step.name}.log"
        command = [sys.executable, "-m", "codekiln_core", *argv]
        with log_path.open("a", encoding="utf-8") as handle:
            log = LockedLog(handle)
            log.write(f"$ codekiln {' '.join(argv)}\n")
            process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, preexec_fn=_die_with_parent)
            assert process.stdout is not None and process.stderr is not None
            errors = copy_stderr(process.stderr, log)
            try:
                for raw in process.stdout:
                    line = raw.decode("utf-8", errors="replace")
                    sys.stdout.write(line)
                    sys.stdout.flush()
                    log.write(line)
                code = process.wait()
                errors.join()
                return code
            except KeyboardInterrupt:
                outcome.status = "interrupted"
                _stop(process)
                raise

    def _resolve(self, name: str, field: str) -> str:
        if field == "workdir":
            return str(self.workdir)
        outcome = self.outcomes.get(name)
        if outcome is not None and outcome.status in ("ran", "skipped"):
            value = outcome.output if field == "output" else outcome.run_id
        else:
            state = self.state.load(name)
            if state is None or state.status != "finished":
                raise ConfigError(f"step {name!r} has not finished, and a later step reads "
                                  f"its {field}; run it first (start with --from {name})")
            value = state.output if field == "output" else state.run_id
        if value is None:
            raise ConfigError(f"step {name!r} has no {field}; give it an output: or refer to "
                              "its run_id instead")
        return value

    def _inputs_digest(self, step: StepConfig, argv: list[str], recipe: Path | None) -> str:
        upstream = {}
        for name in referenced_steps(step):
            state = self.state.load(name)
            upstream[name] = state.output_digest if state else None
        payload = {"argv": argv, "env": step.env, "upstream": upstream,
                   "recipe": digest_path(recipe) if recipe is not None else None}
        blob = json.dumps(payload, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def _output_path(self, step: StepConfig) -> Path | None:
        if step.output:
            return Path(substitute(step.output, self._resolve)).resolve()
        if not step.has_output:
            return None
        return self.workdir / step.name

    def _recipe_file(self, step: StepConfig) -> Path | None:
        if step.config is not None:
            import yaml

            from codekiln_core.fsio import atomic_write_text

            path = self.state.recipe_path(step.name)
            text = yaml.safe_dump(substitute(step.config, self._resolve), sort_keys=False)
            atomic_write_text(path, text)
            return path
        if step.recipe:
            path = Path(substitute(step.recipe, self._resolve))
            if not path.is_file():
                raise ConfigError(f"step {step.name!r}: recipe {path} does not exist; fix "
                                  f"steps.{step.name}.recipe (relative to the pipeline file)")
            return path
        return None

    def _intact(self, state: StepState) -> bool:
        if state.output is None:
            return True
        path = Path(state.output)
        return path.exists() and digest_path(path) == state.output_digest

    def _move_aside(self, output: Path, name: str, digest: str) -> None:
        """A stale or partial output is kept (never deleted), out of the command's way."""
        if not output.exists() or (output.is_dir() and not any(output.iterdir())):
            return
        self.state.stale_dir.mkdir(parents=True, exist_ok=True)
        target = self.state.stale_dir / f"{name}-{int(time.time())}-{digest[:8]}"
        shutil.move(str(output), str(target))
        self.console.print(f"step {name}: earlier output moved aside to {target}")

    def _marker_run(self, output: Path | None) -> str | None:
        from codekiln_core.lineage.refs import read_marker

        marker = read_marker(output) if output is not None and output.exists() else None
        run_id = marker.get("run_id") if marker else None
        return str(run_id) if run_id else None

    def _key_metrics(self, step: StepConfig) -> tuple[str, ...]:
        return tuple(step.metrics) if step.metrics is not None else step.spec.key_metrics

    def _client(self) -> MlflowClient:
        assert self.client is not None
        return self.client


def _die_with_parent() -> None:
    """In the step's process: die when the runner dies (kill -9 included), on Linux."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def _stop(process: subprocess.Popen[bytes]) -> None:
    try:
        process.wait(timeout=30)  # Ctrl-C reached the step too; let it stop cleanly
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def step_table_rows(result: PipelineResult) -> list[dict[str, Any]]:
    """The summary as plain data (summary.json, the parent run's artifact)."""
    return [{"step": s.name, "kind": s.kind, "status": s.status,
             "seconds": round(s.seconds, 2), "run_id": s.run_id, "output": s.output,
             "metrics": {k: s.metrics[k] for k in _shown(s)}, "note": s.note}
            for s in result.steps]


def _shown(outcome: StepOutcome) -> list[str]:
    wanted = [k for k in outcome.key_metrics if k in outcome.metrics]
    if wanted:
        return wanted
    return sorted(outcome.metrics)[:3]
