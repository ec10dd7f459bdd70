"""A failing step stops the pipeline, marks the parent run FAILED, and runs again on rerun,
with ``--resume`` added only to the retry of a step that did not finish.

The steps are a third-party plugin's contract command (the ``demo`` fixture), run as real
``codekiln`` subprocesses.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codekiln_core.cli.app import main

pytestmark = pytest.mark.slow

PIPELINE = """name: failing
workdir: {workdir}
steps:
  - name: counting
    kind: count
    inputs: ["{text}"]
  - name: broken
    kind: demo.count
    inputs: ["{text}"]
    set: {{fail: true}}
  - name: after
    kind: count
    inputs: ["{text}"]
"""


def test_failed_step_stops_and_is_retried_with_resume(
        demo: object, mlflow_store: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    recipe = tmp_path / "pipe.yaml"
    work = tmp_path / "work"
    recipe.write_text(PIPELINE.format(workdir=work, text=tmp_path / "a.txt"), encoding="utf-8")
    assert main(["run", str(recipe)]) == 1
    first = json.loads((work / ".pipeline" / "report" / "summary.json").read_text())
    statuses = {s["step"]: s["status"] for s in first["steps"]}
    assert statuses == {"counting": "ran", "broken": "failed", "after": "pending"}
    assert "step 'broken' failed (exit code" in capsys.readouterr().err
    broken_log = (work / ".pipeline" / "logs" / "broken.log").read_text()
    assert "asked to fail" in broken_log  # the step's own error, from its stderr

    from mlflow import MlflowClient

    parent = MlflowClient().get_run(first["parent_run_id"])
    assert parent.info.status == "FAILED"
    capsys.readouterr()

    assert main(["run", str(recipe), "--until", "broken"]) == 0
    second = json.loads((work / ".pipeline" / "report" / "summary.json").read_text())
    assert second["parent_run_id"] == first["parent_run_id"]  # the unfinished parent resumes
    statuses = {s["step"]: s["status"] for s in second["steps"]}
    assert statuses == {"counting": "skipped", "broken": "ran", "after": "outside range"}
    assert "[1/2] counting: finished earlier" in capsys.readouterr().err
    commands = [line for line in (work / ".pipeline" / "logs" / "broken.log").read_text()
                .splitlines() if line.startswith("$ codekiln")]
    assert len(commands) == 2 and "--resume" not in commands[0]
    assert commands[1] == commands[0] + " --resume"  # the same step, continued
    assert "resumed: True" in (work / ".pipeline" / "logs" / "broken.log").read_text()


ONE_STEP = """name: once
workdir: {workdir}
steps:
  - name: counting
    kind: count
    inputs: ["{text}"]
"""


def test_a_step_stopped_after_its_command_ended_is_not_run_again(
        demo: object, mlflow_store: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The runner killed between the step's FINISHED run and its own record of it: the rerun
    takes that run (one run per step, the output kept) instead of running the step again."""
    from dataclasses import asdict, replace

    from mlflow import MlflowClient

    from codekiln_core.fsio import atomic_write_json
    from codekiln_core.pipeline.state import PipelineState

    recipe = tmp_path / "pipe.yaml"
    work = tmp_path / "work"
    recipe.write_text(ONE_STEP.format(workdir=work, text=tmp_path / "a.txt"), encoding="utf-8")
    assert main(["run", str(recipe)]) == 0
    state = PipelineState(work)
    finished = state.load("counting")
    assert finished is not None and finished.run_id
    # what the runner had written when it launched the try (its "finished" record never made it)
    launched = replace(finished, status="started", output_digest=None, run_id=None, seconds=0.0)
    launched.updated_at = MlflowClient().get_run(finished.run_id).info.start_time / 1000 - 1


    atomic_write_json(state.steps_dir / "counting.json", asdict(launched))
    parent = json.loads((work / ".pipeline" / "report" / "summary.json").read_text())
    MlflowClient().set_terminated(parent["parent_run_id"], "KILLED")  # the runner never closed
    capsys.readouterr()

    assert main(["run", str(recipe)]) == 0
    assert "finished before it was stopped" in capsys.readouterr().err
    again = state.load("counting")
    assert again is not None and again.status == "finished" and again.run_id == finished.run_id
    assert again.output_digest == finished.output_digest
    assert not state.stale_dir.exists()  # the output stayed where it was
    summary = json.loads((work / ".pipeline" / "report" / "summary.json").read_text())
    client = MlflowClient()
    children = client.search_runs(
        [client.get_run(summary["parent_run_id"]).info.experiment_id],
        f"tags.mlflow.parentRunId = '{summary['parent_run_id']}'")
    assert [run.info.status for run in children] == ["FINISHED"]
